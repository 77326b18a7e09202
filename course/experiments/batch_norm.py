"""Batch norm on and off in the same deep network (BN paper, Sections 3.3 and 4.2).

The paper's claims: with batch norm a network tolerates much higher learning rates (scaling a
layer's weights no longer changes its normalized output, so a large step cannot blow the
activations up) and reaches a given accuracy in far fewer training steps.

The network: notebook 07's plain stack of ten 3x3 convolutions with ReLU (16, 32, 64 channels),
global average pooling and one linear layer, He initialization; with batch norm between each
convolution and its ReLU (the convolution then has no bias). The same for both arms: SGD with
momentum 0.9, weight decay 1e-4, batch 128, no warm-up and no gradient clipping (either would
hide what a learning rate does), ``fit``'s cosine decay, no augmentation. Every arm at every
learning rate of a grid from 0.004 to 0.5 (finer around the best rate without batch norm),
three seeds each. A run whose loss becomes NaN or infinite is
recorded as diverged.

Steps to a target, resolved to ``val_every`` steps: the held-out accuracy (training images kept
out of training) is measured every ``val_every`` optimizer steps. The targets are fixed
accuracies below what the network without batch norm reaches at its best rate, so that its
count is not its whole budget; each is reported at two targets, to show whether the factor
depends on the one chosen. The factor, per seed: the steps the network without batch norm needed
at its best learning rate (the best mean final held-out accuracy among the rates at which every
seed trained) over the steps with batch norm, at that same rate and at batch norm's fastest.
"""

from __future__ import annotations

import torch
from torch import nn

from course.experiments.common import (
    fashion_mnist,
    mean_and_spread,
    sgd_run,
    steps_per_epoch,
    steps_to,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.experiments.reporting import per_seed as one_per_seed
from course.models.plain_cnn import plain_cnn

NAME = "batch_norm"
CLAIM = (
    "With batch norm the same network trains at much higher learning rates and reaches a given "
    "accuracy in far fewer steps (BN paper, Sections 3.3 and 4.2)."
)
ARMS = {"without batch norm": False, "with batch norm": True}
STUCK = 0.2  # a held-out accuracy at most this (chance is 0.1) means the run learned nothing
CONFIGS = {
    "fast": dict(train_images=256, val_images=128, test_images=128, epochs=2, batch_size=128,
                 lrs=[0.02, 0.5], seeds=[0], val_every=1, targets=[0.2, 0.3]),
    "live": dict(train_images=5_000, val_images=1_000, test_images=2_000, epochs=4,
                 batch_size=128, lrs=[0.01, 0.5], seeds=[0], val_every=10, targets=[0.6, 0.7]),
    "reference": dict(train_images=20_000, val_images=1_500, test_images=10_000, epochs=6,
                      batch_size=128, lrs=[0.004, 0.01, 0.02, 0.1, 0.5], seeds=[0, 1, 2],
                      val_every=10, targets=[0.7, 0.75]),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist(config)


def run_key(arm: str, lr: float, seed: int) -> str:
    return f"{arm}, lr {lr:g}, seed {seed}"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(run_key(arm, lr, s), dict(arm=arm, lr=lr, seed=s))
            for s in config["seeds"] for lr in config["lrs"] for arm in ARMS]  # fmt: skip


def planned_runs(config: dict) -> int:
    return len(ARMS) * len(config["lrs"]) * len(config["seeds"])


def he_initialized(model: nn.Module) -> nn.Module:
    """He initialization of every convolution (the ResNet paper's), zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = he_initialized(plain_cnn(ARMS[settings["arm"]]))
    return sgd_run(model, config, settings, data, checkpoint, weight_decay=1e-4,
                   warmup_epochs=0, max_grad_norm=None, augment=False,
                   val_every=config["val_every"])  # fmt: skip


def outcome(run: dict) -> str:
    """'diverged' (NaN or infinite loss), 'stuck' (held-out accuracy at chance) or 'trained'."""
    if run.get("diverged"):
        return "diverged"
    return "stuck" if run["history"]["val_acc"][-1] <= STUCK else "trained"


def target_name(target: float) -> str:
    return f"{target:.2f}"


def summarize(result: dict) -> dict:
    """Per arm and learning rate, over seeds: the outcome of each run, the final held-out and
    test accuracy of the runs that did not diverge, and each run's steps to each target (None:
    never got there). The network without batch norm's best learning rate: the best mean final
    held-out accuracy among the rates at which every seed trained (None if none did). Per target:
    each arm's fastest rate (fewest mean steps, every seed there), and how many times fewer steps
    batch norm needed, seed by seed, at the baseline's rate and at its own fastest."""
    config, runs = result["config"], result["runs"]
    seeds, targets = config["seeds"], config["targets"]

    def runs_at(arm: str, lr) -> list[dict]:
        return [runs[k] for s in seeds if (k := run_key(arm, float(lr), s)) in runs]

    arms = {}
    for arm in ARMS:
        arms[arm] = {}
        for lr in config["lrs"]:
            chosen = runs_at(arm, lr)
            ran = [r for r in chosen if not r.get("diverged")]
            steps = {target_name(t): [steps_to(r, t, config) for r in chosen] for t in targets}
            arms[arm][f"{lr:g}"] = {
                "outcomes": [outcome(r) for r in chosen],
                "val_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in ran])
                if ran else None,
                "test_acc": mean_and_spread([r["test"]["acc"] for r in ran]) if ran else None,
                "steps": steps,
                "mean_steps": {t: mean_and_spread(n)["mean"] if n and None not in n else None
                               for t, n in steps.items()},
            }  # fmt: skip
    trained = {lr: s["val_acc"]["mean"] for lr, s in arms["without batch norm"].items()
               if s["outcomes"] == ["trained"] * len(seeds)}  # fmt: skip
    baseline_lr = max(trained, key=trained.get, default=None)
    per_target = {}
    for t in map(target_name, targets):
        fastest = {}
        for arm, per_lr in arms.items():
            reached = {lr: s["mean_steps"][t] for lr, s in per_lr.items() if s["mean_steps"][t]}
            best = min(reached, key=lambda lr: (reached[lr], float(lr)), default=None)
            fastest[arm] = None if best is None else {"lr": float(best), "steps": reached[best]}
        base = arms["without batch norm"][baseline_lr]["steps"][t] if baseline_lr else None
        factors = {}
        for name, lr in (("the same rate", baseline_lr),
                         ("its fastest rate", fastest["with batch norm"] and
                          fmt(fastest["with batch norm"]["lr"], "g"))):  # fmt: skip
            bn = arms["with batch norm"][lr]["steps"][t] if base and lr else None
            ratios = ([a / b for a, b in zip(base, bn, strict=True)]
                      if bn and None not in base + bn else None)  # fmt: skip
            factors[name] = {"lr": None if lr is None else float(lr), "per_seed": ratios,
                             "fewer": mean_and_spread(ratios) if ratios else None}  # fmt: skip
        per_target[t] = {"fastest": fastest, "without batch norm": base, "factors": factors}
    return {
        "baseline_lr": None if baseline_lr is None else float(baseline_lr),
        "targets": [target_name(t) for t in targets],
        "val_every": config["val_every"],
        "total_steps": config["epochs"] * steps_per_epoch(config),
        "arms": arms,
        "per_target": per_target,
    }


def verdict_lines(summary: dict) -> list[str]:
    """What each arm did at each learning rate, and how many times fewer steps batch norm needed
    to each target, from ``summary``: a few short sentences."""
    lines = []
    for arm, per_lr in summary["arms"].items():
        said = []
        for lr, stats in per_lr.items():
            kinds = sorted(set(stats["outcomes"]))
            said.append(f"lr {lr} " + (f"{stats['val_acc']['mean']:.3f}" if kinds == ["trained"]
                                       else "/".join(kinds)))  # fmt: skip
        lines.append(f"{arm.capitalize()}, final held-out accuracy: " + ", ".join(said))
    if summary["baseline_lr"] is None:
        return [*lines, "Without batch norm no rate trained in every seed: no comparison"]
    for t, s in summary["per_target"].items():
        same, fast = s["factors"]["the same rate"], s["factors"]["its fastest rate"]
        if same["fewer"] is None and fast["fewer"] is None:
            lines.append(f"To {t}: not reached by every seed of both networks")
            continue
        at_fast = (f", {mean_std(fast['fewer'], '.1f')}x at its fastest rate "
                   f"({fast['lr']:g})" if fast["fewer"] else "")  # fmt: skip
        lines.append(f"To {t} held-out accuracy batch norm needed {mean_std(same['fewer'], '.1f')}"
                     f"x fewer steps at the same rate ({same['lr']:g}){at_fast}")  # fmt: skip
    return lines


def verdict(summary: dict) -> str:
    """``verdict_lines`` in one paragraph."""
    return ". ".join(verdict_lines(summary)) + "."


def report(result: dict) -> Report:
    """Every learning rate of both arms: outcome per seed, final accuracies, steps to each
    target; then per target how many times fewer steps batch norm needed, seed by seed."""
    summary = result["summary"]
    targets = summary["targets"]
    rows = [(arm, lr, " ".join(s["outcomes"]), mean_std(s["val_acc"]),
             *(one_per_seed(s["steps"][t]) for t in targets))
            for arm, per_lr in summary["arms"].items() for lr, s in per_lr.items()]  # fmt: skip
    runs = Table(
        ("network", "lr", "each seed", "held-out acc.", *(f"steps to {t}" for t in targets)),
        rows,
        title="every run: its outcome, its final accuracy, its steps to each target",
        note=f"Held-out accuracy after the last epoch: mean ± standard deviation over the seeds "
        f"that did not diverge ('stuck': at chance, 10%). Steps: one number per seed, out of "
        f"{summary['total_steps']}, measured every {summary['val_every']} ('-': never).",
    )  # fmt: skip
    rows = []
    for t, s in summary["per_target"].items():
        base = s["without batch norm"]
        for name, f in s["factors"].items():
            bn = summary["arms"]["with batch norm"].get(fmt(f["lr"], "g"), {}).get("steps", {})
            rows.append((t, f"with batch norm, {name}", fmt(f["lr"], "g"),
                         one_per_seed(base) if base else "-", one_per_seed(bn.get(t, [])),
                         mean_std(f["fewer"], ".1f")))  # fmt: skip
    fewer = Table(
        ("target", "", "lr", "steps without", "steps with", "fewer steps"),
        rows,
        title=f"how many times fewer steps with batch norm (without it: lr "
        f"{fmt(summary['baseline_lr'], 'g')}, its best)",
        note="Steps per seed; 'fewer steps': the ratio seed by seed, mean ± standard deviation. "
        "Batch norm's fastest rate is picked after the fact, from these runs.",
    )
    return Report(heading(result, "Batch norm on and off"), [runs, fewer],
                  verdict_lines(summary))  # fmt: skip


PAPER_FEWER_STEPS = 31.0 / 2.1  # the BN paper's BN-x5 against GoogLeNet (Figure 3), 14.8


def claims(result: dict) -> Claims:
    """What notebook 07 says about the result (section 5, "The effect on training")."""
    config, summary = result["config"], result["summary"]
    without, with_bn = (summary["arms"][arm] for arm in ARMS)
    names = [f"{lr:g}" for lr in sorted(config["lrs"])]
    names += ["-"] * (5 - len(names))  # a smaller grid (a rerun's): its statements fail, clearly
    seeds = config["seeds"]
    base_lr = fmt(summary["baseline_lr"], "g")

    def each(arm: dict, lr: str, kinds: set[str]) -> bool:
        outcomes = arm.get(lr, {}).get("outcomes", [])
        return len(outcomes) == len(seeds) and set(outcomes) <= kinds

    def outcomes(arm: dict, lr: str) -> str:
        return f"lr {lr}: " + " ".join(arm.get(lr, {}).get("outcomes", ["-"]))

    def final(arm: dict, lr: str) -> float | None:
        stats = arm.get(lr, {}).get("val_acc")
        return stats and stats["mean"]

    trained_without = [lr for lr in names if each(without, lr, {"trained"})]
    high_finals = [final(with_bn, lr) for lr in names[2:]]
    best_without = final(without, base_lr)
    total = summary["total_steps"]
    base_steps = [
        n for s in summary["per_target"].values() for n in s["without batch norm"] or [None]
    ]
    factors = {t: s["factors"] for t, s in summary["per_target"].items()}
    same = [f["the same rate"] for f in factors.values()]
    fast = [f["its fastest rate"] for f in factors.values()]
    means = [f["fewer"] for f in same + fast]
    ratios = [r for f in same for r in f["per_seed"] or [None]]

    def rounded(chosen) -> tuple:
        return tuple(round(f["fewer"]["mean"], 1) if f["fewer"] else None for f in chosen)

    return Claims(
        [
            Claim(
                "without batch norm the network trains at the three lowest rates in every seed, "
                "best at the middle one: the grid brackets its best rate",
                f"{'; '.join(outcomes(without, lr) for lr in names[:3])}; best lr {base_lr}",
                trained_without == names[:3] and base_lr == names[1],
            ),
            Claim(
                "at the next rate it learns nothing in any seed (at chance, or the loss became "
                "NaN or infinite); at the highest its loss becomes NaN or infinite in every seed",
                f"{outcomes(without, names[3])}; {outcomes(without, names[4])}",
                each(without, names[3], {"stuck", "diverged"})
                and each(without, names[4], {"diverged"}),
            ),
            Claim(
                "with batch norm it trains at every rate, in every seed",
                "; ".join(outcomes(with_bn, lr) for lr in names),
                all(each(with_bn, lr, {"trained"}) for lr in names),
            ),
            Claim(
                "with batch norm it ends at 0.89 to 0.92 held-out accuracy at every rate from "
                "0.02 up; without, at 0.82 at best",
                f"{', '.join(fmt(a) for a in high_finals)}; without {fmt(best_without)}",
                None not in high_finals
                and min(high_finals) >= 0.885
                and max(high_finals) < 0.925
                and best_without is not None
                and round(best_without, 2) == 0.82,
            ),
            Claim(
                "without batch norm, at its best rate every seed reaches both targets within the "
                "first 40% of its budget",
                f"steps {one_per_seed(base_steps)} of {total}",
                None not in base_steps and max(base_steps) < 0.4 * total,
            ),
            Claim(
                "at the same rate batch norm needs fewer steps in every seed: 1.7 and 1.9 times "
                "fewer on average, to the two targets",
                f"per seed {one_per_seed(ratios, '.2f')}; mean "
                f"{', '.join(fmt(m, '.1f') for m in rounded(same))}",
                None not in ratios and min(ratios) > 1 and rounded(same) == (1.7, 1.9),
            ),
            Claim(
                "at its fastest rate (picked after the fact), 2.3 and 2.9 times fewer",
                ", ".join(mean_std(f["fewer"], ".1f") for f in fast),
                rounded(fast) == (2.3, 2.9),
            ),
            Claim(
                "the seeds disagree: each factor's spread is 30% of its mean or more",
                ", ".join(f"{f['std'] / f['mean']:.0%}" if f else "-" for f in means),
                None not in means and all(f["std"] >= 0.3 * f["mean"] for f in means),
            ),
            Claim(
                "every factor is far below the BN paper's 14.8 (Inception-BN at 5x, on "
                "ImageNet): under a quarter of it",
                f"at most {fmt(max((f['mean'] for f in means if f), default=None), '.1f')}",
                None not in means and max(f["mean"] for f in means) < PAPER_FEWER_STEPS / 4,
            ),
        ]
    )
