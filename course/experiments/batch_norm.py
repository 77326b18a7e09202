"""Batch norm on and off in the same deep network (BN paper, Sections 3.3 and 4.2).

The paper's claims: with batch norm a network tolerates much higher learning rates (scaling a
layer's weights no longer changes its normalized output, so a large step cannot blow the
activations up) and reaches a given accuracy in far fewer training steps.

The network: notebook 07's plain stack of ten 3x3 convolutions with ReLU (16, 32, 64 channels),
global average pooling and one linear layer, He initialization; with batch norm between each
convolution and its ReLU (the convolution then has no bias). The same for both arms: SGD with
momentum 0.9, weight decay 1e-4, batch 128, no warm-up and no gradient clipping (either would
hide what a learning rate does), ``fit``'s cosine decay, no augmentation. Every arm at every
learning rate of a factor-5 grid, two seeds each. The held-out accuracy (training images kept
out of training) is measured after every epoch; a run whose loss becomes NaN or infinite is
recorded as diverged.

Steps to a target, as the paper counts them: the target is what the network without batch norm
reached at its best learning rate (the best mean final held-out accuracy among the rates at
which every seed trained): the lower of its seeds' best held-out accuracies, so that each of its
seeds gets there. Each run is timed by the optimizer steps until its held-out accuracy first
reached the target.
"""

from __future__ import annotations

import torch
from torch import nn

from course.experiments.common import (
    fashion_mnist,
    fewer_steps_range,
    mean_and_spread,
    reached_by_all,
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
    "fast": dict(train_images=512, val_images=256, test_images=256, epochs=2, batch_size=128,
                 lrs=[0.02, 0.5], seeds=[0]),
    "live": dict(train_images=5_000, val_images=1_000, test_images=2_000, epochs=4,
                 batch_size=128, lrs=[0.02, 0.5], seeds=[0]),
    "reference": dict(train_images=20_000, val_images=5_000, test_images=10_000, epochs=6,
                      batch_size=128, lrs=[0.02, 0.1, 0.5], seeds=[0, 1]),
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
                   warmup_epochs=0, max_grad_norm=None, augment=False)  # fmt: skip


def outcome(run: dict) -> str:
    """'diverged' (NaN or infinite loss), 'stuck' (held-out accuracy at chance) or 'trained'."""
    if run.get("diverged"):
        return "diverged"
    return "stuck" if run["history"]["val_acc"][-1] <= STUCK else "trained"


def summarize(result: dict) -> dict:
    """Per arm and learning rate, over seeds: the outcome of each run, the final held-out and
    test accuracy of the runs that did not diverge, and the steps to the target (None for a run
    that never got there). The network without batch norm's best learning rate: the best mean
    final held-out accuracy among the rates at which every seed trained; the target: what
    every seed reached there (``reached_by_all``); None if no rate trained in every seed. Per
    arm: the rate that got there in the fewest steps (every seed must get there); how many
    times fewer steps batch norm needed, at its fastest rate and at the baseline's rate."""
    config, runs = result["config"], result["runs"]
    arms = {}
    for arm in ARMS:
        arms[arm] = {}
        for lr in config["lrs"]:
            chosen = [runs[k] for s in config["seeds"] if (k := run_key(arm, lr, s)) in runs]
            ran = [r for r in chosen if not r.get("diverged")]
            arms[arm][f"{lr:g}"] = {
                "outcomes": [outcome(r) for r in chosen],
                "val_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in ran])
                if ran else None,
                "test_acc": mean_and_spread([r["test"]["acc"] for r in ran]) if ran else None,
            }  # fmt: skip
    trained = {lr: s["val_acc"]["mean"] for lr, s in arms["without batch norm"].items()
               if set(s["outcomes"]) == {"trained"}}  # fmt: skip
    baseline_lr = max(trained, key=trained.get, default=None)
    target = None
    if baseline_lr is not None:
        keys = [run_key("without batch norm", float(baseline_lr), s) for s in config["seeds"]]
        target = reached_by_all([runs[k] for k in keys if k in runs])
    fastest = {}
    for arm in ARMS:
        for lr in config["lrs"]:
            chosen = [runs[k] for s in config["seeds"] if (k := run_key(arm, lr, s)) in runs]
            steps = [steps_to(r, target, config) if target else None for r in chosen]
            arms[arm][f"{lr:g}"]["steps_to_target"] = steps
            arms[arm][f"{lr:g}"]["mean_steps"] = mean_and_spread(steps)["mean"] if (
                None not in steps) else None  # fmt: skip
        reached = {lr: s["mean_steps"] for lr, s in arms[arm].items() if s["mean_steps"]}
        best = min(reached, key=lambda lr: (reached[lr], float(lr)), default=None)
        fastest[arm] = None if best is None else {"lr": float(best), "steps": reached[best]}
    a, b = fastest["without batch norm"], fastest["with batch norm"]
    same = arms["with batch norm"].get(baseline_lr, {}).get("mean_steps") if a else None
    return {
        "baseline_lr": None if baseline_lr is None else float(baseline_lr),
        "target_val_acc": target,
        "steps_per_epoch": steps_per_epoch(config),
        "arms": arms,
        "fastest": fastest,
        "fewer_steps": a["steps"] / b["steps"] if a and b else None,
        "fewer_steps_same_lr": a["steps"] / same if a and same else None,
    }


def verdict_lines(summary: dict) -> list[str]:
    """What each arm did at each learning rate, and the steps to the target, from ``summary``:
    a few short sentences."""
    lines = []
    for arm, per_lr in summary["arms"].items():
        said = []
        for lr, stats in per_lr.items():
            kinds = sorted(set(stats["outcomes"]))
            said.append(f"lr {lr} " + (f"{stats['val_acc']['mean']:.3f}" if kinds == ["trained"]
                                       else "/".join(kinds)))  # fmt: skip
        lines.append(f"{arm.capitalize()}, final held-out accuracy: " + ", ".join(said))
    target, fastest = summary["target_val_acc"], summary["fastest"]
    if target is None:
        return [*lines, "Without batch norm no rate trained in every seed: no target"]
    reach = [f"{arm} in {best['steps']:.0f} steps (lr {best['lr']:g})" if best else f"{arm} never"
             for arm, best in fastest.items()]  # fmt: skip
    lines.append(f"To {target:.3f} (what every seed reached without batch norm at its best "
                 f"rate): " + ", ".join(reach))  # fmt: skip
    times, same = summary["fewer_steps"], summary["fewer_steps_same_lr"]
    if times:
        at_same = f" ({same:.1f}x at the same rate, {summary['baseline_lr']:g})" if same else ""
        lines.append(f"{times:.1f}x fewer steps with batch norm{at_same}, counted in whole "
                     "epochs: a coarse factor")  # fmt: skip
    return lines


def verdict(summary: dict) -> str:
    """``verdict_lines`` in one paragraph."""
    return ". ".join(verdict_lines(summary)) + "."


def _factor_range(bounds) -> str:
    """(low, high) of ``fewer_steps_range`` as "3.3x to 12x" ("2.5x or more": no upper bound)."""
    if bounds is None:
        return "-"
    low, high = bounds
    return f"{low:.1f}x or more" if high is None else f"{low:.1f}x to {high:.1f}x"


def speedups(summary: dict) -> dict[str, dict]:
    """Batch norm against the network without it, to the target: at batch norm's fastest rate
    and at the rate the network without it trained best at. Per comparison: the learning rate,
    the mean steps, how many times fewer, and the range of that factor whole epochs allow."""
    baseline, fastest = summary["baseline_lr"], summary["fastest"]
    base, fast = fastest["without batch norm"], fastest["with batch norm"]
    same = summary["arms"]["with batch norm"].get(fmt(baseline, "g"), {}).get("mean_steps")
    compared = {
        "its fastest rate": (fast and fast["lr"], fast and fast["steps"], summary["fewer_steps"]),
        "the same rate": (baseline, same, summary["fewer_steps_same_lr"]),
    }
    per_epoch = summary["steps_per_epoch"]
    return {
        name: {"lr": lr, "steps": steps, "times": times,
               "range": fewer_steps_range(base and base["steps"], steps, per_epoch)}
        for name, (lr, steps, times) in compared.items()
    }  # fmt: skip


def report(result: dict) -> Report:
    """Every learning rate of both arms: outcome per seed, final accuracies, steps to the target;
    then how many times fewer steps batch norm needed, and what whole epochs allow."""
    summary = result["summary"]
    target, baseline = summary["target_val_acc"], summary["baseline_lr"]
    rows = [(arm, lr, " ".join(s["outcomes"]), mean_std(s["val_acc"]), mean_std(s["test_acc"]),
             one_per_seed(s["steps_to_target"]))
            for arm, per_lr in summary["arms"].items() for lr, s in per_lr.items()]  # fmt: skip
    aim = (f"the target, {target:.3f}, is what every seed reached without batch norm at lr "
           f"{baseline:g}" if target is not None else "no target: without batch norm no rate "
           "trained in every seed")  # fmt: skip
    runs = Table(
        ("network", "lr", "each seed", "held-out accuracy", "test accuracy", "steps to target"),
        rows,
        title="every run: its outcome, its final accuracy, its steps to the target",
        note=f"Accuracy after the last epoch: mean ± standard deviation over the seeds that did "
        f"not diverge ('stuck': at chance, 10%). Steps: one number per seed, "
        f"{summary['steps_per_epoch']} to an epoch ('-': never); {aim}.",
    )
    base = (summary["fastest"] or {}).get("without batch norm")
    steps = [("without batch norm", fmt(baseline, "g"), fmt(base and base["steps"], ".0f"), "1x",
              "")]  # fmt: skip
    for name, s in speedups(summary).items():
        times = "-" if s["times"] is None else f"{s['times']:.1f}x"
        steps.append((f"with batch norm, {name}", fmt(s["lr"], "g"), fmt(s["steps"], ".0f"),
                      times, _factor_range(s["range"])))  # fmt: skip
    fewer = Table(
        ("", "lr", "mean steps", "fewer steps", "whole epochs allow"),
        steps,
        title="steps to the target, mean over the seeds",
        note="The held-out accuracy is measured once per epoch: a run may have reached the target "
        "at any step of the epoch it was first measured there, hence a range of factors.",
    )
    return Report(heading(result, "Batch norm on and off"), [runs, fewer],
                  verdict_lines(summary))  # fmt: skip


def claims(result: dict) -> Claims:
    """What notebook 07 says about the result (section 5, "The effect on training")."""
    config, summary, runs = result["config"], result["summary"], result["runs"]
    without, with_bn = (summary["arms"][arm] for arm in ARMS)
    names = [f"{lr:g}" for lr in sorted(config["lrs"])]
    low, high, middle = names[0], names[-1], names[1:-1]
    seeds = config["seeds"]

    def each(arm: dict, lr: str, kind: str) -> bool:
        outcomes = arm.get(lr, {}).get("outcomes", [])
        return len(outcomes) == len(seeds) and set(outcomes) == {kind}

    def outcomes(arm: dict, lr: str) -> str:
        return f"lr {lr}: " + " ".join(arm.get(lr, {}).get("outcomes", ["-"]))

    def held_out(arm: str, lr: str, seed: int) -> list[float]:
        run = runs.get(run_key(arm, float(lr), seed), {})
        return [] if run.get("diverged") else run.get("history", {}).get("val_acc", [])

    stuck = [a for lr in middle for s in seeds for a in held_out("without batch norm", lr, s)]
    ends = [[held_out(arm, low, s)[-1:] for arm in ("with batch norm", "without batch norm")]
            for s in seeds]  # fmt: skip
    gains = [a[0] - b[0] if a and b else None for a, b in ends]
    bn_steps = [n for s in with_bn.values() for n in s["steps_to_target"]]
    base_steps = without.get(fmt(summary["baseline_lr"], "g"), {}).get("steps_to_target", [])
    last = config["epochs"] * summary["steps_per_epoch"]
    bn_finals = [s["val_acc"]["mean"] if s["val_acc"] else None for s in with_bn.values()]
    best_without = max((s["val_acc"]["mean"] for s in without.values()
                        if set(s["outcomes"]) == {"trained"}), default=None)  # fmt: skip
    fast, same = speedups(summary).values()
    lows = [s["range"][0] if s["range"] else None for s in (fast, same)]
    return Claims(
        [
            Claim(
                "without batch norm the network trains at the lowest learning rate, in every seed",
                outcomes(without, low),
                each(without, low, "trained"),
            ),
            Claim(
                "at the middle rate its held-out accuracy stays at chance (10%) after every "
                "epoch, in every seed",
                f"{len(stuck)} measurements from {fmt(min(stuck, default=None))} to "
                f"{fmt(max(stuck, default=None))}",
                bool(middle)
                and all(each(without, lr, "stuck") for lr in middle)
                and all(abs(a - 0.1) < 0.02 for a in stuck),
            ),
            Claim(
                "at the highest rate its loss becomes NaN or infinite, in every seed",
                outcomes(without, high),
                each(without, high, "diverged"),
            ),
            Claim(
                "with batch norm it trains at every rate, in every seed",
                "; ".join(outcomes(with_bn, lr) for lr in names),
                all(each(with_bn, lr, "trained") for lr in names),
            ),
            Claim(
                "with batch norm it ends above 0.90 held-out accuracy at every rate; without, "
                "at 0.83 at best",
                f"{', '.join(fmt(a) for a in bn_finals)}; without {fmt(best_without)}",
                None not in bn_finals
                and min(bn_finals) > 0.90
                and best_without is not None
                and round(best_without, 2) == 0.83,
            ),
            Claim(
                "at the lowest rate batch norm ends more accurate in every seed, by more than "
                "3 points",
                "gain per seed " + " ".join(fmt(g, "+.3f") for g in gains),
                None not in gains and min(gains) > 0.03,
            ),
            Claim(
                "without batch norm every seed reaches the target only in its last epoch",
                f"steps {one_per_seed(base_steps) or '-'} of {last}",
                bool(base_steps) and all(n == last for n in base_steps),
            ),
            Claim(
                "every run with batch norm reaches the target before any run without it",
                f"with {one_per_seed(bn_steps)}; without {one_per_seed(base_steps) or '-'}",
                bool(base_steps)
                and None not in bn_steps + base_steps
                and max(bn_steps) < min(base_steps),
            ),
            Claim(
                "batch norm needs 4 times fewer steps at its fastest rate, 3 times at the same "
                "rate",
                f"{fmt(fast['times'], '.1f')}x at lr {fmt(fast['lr'], 'g')}, "
                f"{fmt(same['times'], '.1f')}x at lr {fmt(same['lr'], 'g')}",
                fast["times"] is not None
                and same["times"] is not None
                and (round(fast["times"]), round(same["times"])) == (4, 3),
            ),
            Claim(
                "read in whole epochs as unfavourably as they allow, batch norm still needs at "
                "least 2.5 times fewer steps",
                f"at least {fmt(lows[0], '.1f')}x and {fmt(lows[1], '.1f')}x",
                None not in lows and min(lows) >= 2.5,
            ),
        ]
    )
