"""Inception-BN against GoogLeNet, as the BN paper compared them (Section 4.2, Figures 2 and 3).

The paper (Figure 3): GoogLeNet ("Inception") trained at its learning rate reached 72.2% top-1
in 31.0 million steps; with batch norm at the same rate (BN-Baseline) 13.3 million, with the rate
raised 5x (BN-x5) 2.1 million (14x fewer), at 30x (BN-x30) 2.7 million, ending higher (74.8%).

Here without the confounds of a published-as-is comparison: both networks at a quarter of their
width, no auxiliary heads for either, the same dropout (0.4, GoogLeNet's) before the classifier,
the same He initialization, optimizer and data. GoogLeNet keeps the LRN layers of its stem (it is
GoogLeNet's design; the BN paper removed LRN from its BN networks, and ``inception_bn`` has none).
SGD with momentum 0.9, weight decay 2e-4, batch 128, random crops and mirroring of Fashion-MNIST
resized to 32x32, ``fit``'s one-epoch linear warm-up and cosine decay, no gradient clipping (it
would hide what a learning rate does). The warm-up is needed: without it GoogLeNet's loss became
infinite within 4 steps even at lr 0.01 (a pilot at this width). First GoogLeNet at a factor-2
grid of learning rates: its best stable one (the best held-out accuracy after the last epoch; a
run whose loss becomes NaN is recorded as diverged). Then Inception-BN at 1x, 5x and 30x that
rate; and at 5x once more with two of the paper's other changes for its BN networks (Section
4.2.1): no dropout, 5 times less weight decay. Three seeds of each.

Steps to a target, resolved to ``val_every`` steps: the held-out accuracy is measured every
``val_every`` optimizer steps. The targets are fixed accuracies below GoogLeNet's final one, so
that its count is not its whole budget; the factor (GoogLeNet's steps over an arm's) is taken
seed by seed and given with its spread.

Departures from the paper: 32x32 images instead of 224x224; the paper's third change for its
accelerated BN networks (the learning rate decayed 6 times faster) has no counterpart in a cosine
schedule and is left out; a CPU budget.
"""

from __future__ import annotations

import torch

from course.experiments.common import (
    fashion_mnist_32,
    mean_and_spread,
    sgd_run,
    steps_per_epoch,
    steps_to,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.experiments.reporting import per_seed as one_per_seed
from course.models import get_model

NAME = "inception_bn"
CLAIM = (
    "With batch norm, Inception-BN trains at 5x and 30x GoogLeNet's learning rate and reaches "
    "GoogLeNet's accuracy in far fewer steps (BN paper, Figures 2 and 3)."
)
MULTIPLIERS = (1, 5, 30)  # Inception-BN's learning rate, in units of GoogLeNet's best
GOOGLENET, INCEPTION_BN = "GoogLeNet", "Inception-BN"  # the networks, as run keys name them
# Inception-BN with two more of the paper's changes for its BN networks (Section 4.2.1)
RECIPE = "Inception-BN, BN recipe"
RECIPE_MULTIPLIER = 5  # it runs at 5x GoogLeNet's rate, as BN-x5 did
RECIPE_SETTINGS = dict(dropout=0.0, weight_decay=2e-4 / 5)  # no dropout, 5x less weight decay
WEIGHT_DECAY = 2e-4
# The paper's Figure 3: how many times fewer steps than GoogLeNet's 31.0 million Inception-BN
# needed to 72.2% top-1, at 1x (BN-Baseline, 13.3 million), 5x (2.1) and 30x (2.7) its rate.
PAPER_FEWER_STEPS = {1: 31.0 / 13.3, 5: 31.0 / 2.1, 30: 31.0 / 2.7}
STUCK = 0.2  # a final held-out accuracy at most this (chance is 0.1): the run learned nothing
CONFIGS = {
    "fast": dict(train_images=512, val_images=256, test_images=256, epochs=1, batch_size=64,
                 googlenet_lrs=[0.01, 0.02], seeds=[0], width=0.125, dropout=0.4, val_every=2,
                 targets=[0.15, 0.2]),
    "live": dict(train_images=4_000, val_images=1_000, test_images=2_000, epochs=3,
                 batch_size=128, googlenet_lrs=[0.02], seeds=[0], width=0.25, dropout=0.4,
                 val_every=10, targets=[0.5, 0.6]),
    "reference": dict(train_images=15_000, val_images=2_000, test_images=10_000, epochs=8,
                      batch_size=128, googlenet_lrs=[0.005, 0.01, 0.02, 0.04], seeds=[0, 1, 2],
                      width=0.25, dropout=0.4, val_every=20, targets=[0.65, 0.7]),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def run_key(network: str, lr: float, seed: int) -> str:
    return f"{network}, lr {lr:g}, seed {seed}"


def arm_name(multiplier: int | None = None, network: str = INCEPTION_BN) -> str:
    """An arm of the comparison: "GoogLeNet" (None) or "Inception-BN x5" (5 times its rate)."""
    return GOOGLENET if multiplier is None else f"{network} x{multiplier}"


RECIPE_ARM = f"{INCEPTION_BN} x{RECIPE_MULTIPLIER}, no dropout, weight decay / 5"


def arms(best: float) -> dict[str, tuple[str, float]]:
    """The arms compared at GoogLeNet's best rate ``best``: name -> (network, learning rate)."""
    compared = {arm_name(): (GOOGLENET, best)}
    for m, lr in inception_lrs(best).items():
        compared[arm_name(m)] = (INCEPTION_BN, lr)
    compared[RECIPE_ARM] = (RECIPE, inception_lrs(best)[RECIPE_MULTIPLIER])
    return compared


def googlenet_best_lr(config: dict, runs: dict) -> float:
    """GoogLeNet's best stable learning rate: the highest final held-out accuracy on the first
    seed among the runs that did not diverge (then the lowest rate)."""
    first = config["seeds"][0]
    stable = {lr: runs[run_key(GOOGLENET, lr, first)] for lr in config["googlenet_lrs"]}
    stable = {lr: r for lr, r in stable.items() if not r.get("diverged")}
    if not stable:
        raise RuntimeError("GoogLeNet diverged at every learning rate of the sweep; lower them")
    return min(stable, key=lambda lr: (-stable[lr]["history"]["val_acc"][-1], lr))


def inception_lrs(best: float) -> dict[int, float]:
    return {m: round(best * m, 6) for m in MULTIPLIERS}


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    first = config["seeds"][0]
    sweep = [(run_key(GOOGLENET, lr, first), dict(network=GOOGLENET, lr=lr, seed=first))
             for lr in config["googlenet_lrs"]]  # fmt: skip
    if any(key not in done for key, _ in sweep):
        return sweep
    best = googlenet_best_lr(config, done)
    todo = []
    for seed in config["seeds"]:
        for network, lr in arms(best).values():
            if (network, seed) != (GOOGLENET, first):
                todo.append((run_key(network, lr, seed), dict(network=network, lr=lr, seed=seed)))
    return todo


def planned_runs(config: dict) -> int:
    """GoogLeNet's sweep on the first seed, then per seed Inception-BN at every multiple and
    with the BN recipe, and (on the other seeds) GoogLeNet at its best rate."""
    seeds = len(config["seeds"])
    return len(config["googlenet_lrs"]) + seeds - 1 + seeds * (len(MULTIPLIERS) + 1)


def build(network: str, config: dict):
    if network == GOOGLENET:
        return get_model("googlenet_paper", num_classes=10, in_channels=1, width=config["width"],
                         aux_logits=False, dropout=config["dropout"])  # fmt: skip
    dropout = RECIPE_SETTINGS["dropout"] if network == RECIPE else config["dropout"]
    return get_model("inception_bn", num_classes=10, in_channels=1, width=config["width"],
                     dropout=dropout)  # fmt: skip


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["network"], config)
    decay = RECIPE_SETTINGS["weight_decay"] if settings["network"] == RECIPE else WEIGHT_DECAY
    return sgd_run(model, config, settings, data, checkpoint, weight_decay=decay, warmup_epochs=1,
                   max_grad_norm=None, preprocess=data["preprocess"],
                   val_every=config["val_every"])  # fmt: skip


def target_name(target: float) -> str:
    return f"{target:.2f}"


def summarize(result: dict) -> dict:
    """GoogLeNet's sweep (final held-out accuracy per learning rate, None if diverged) and best
    stable rate; per arm (GoogLeNet, Inception-BN at each multiple, and with the BN recipe):
    final held-out and test accuracy over the runs that did not diverge, steps to each target
    per seed, and per target how many times fewer steps than GoogLeNet it needed, seed by seed
    (when every seed of both got there)."""
    config, runs = result["config"], result["runs"]
    first, seeds = config["seeds"][0], config["seeds"]
    targets = [target_name(t) for t in config["targets"]]
    sweep = {}
    for lr in config["googlenet_lrs"]:
        run = runs[run_key(GOOGLENET, lr, first)]
        sweep[f"{lr:g}"] = None if run.get("diverged") else run["history"]["val_acc"][-1]
    best = googlenet_best_lr(config, runs)
    summary_arms = {}
    for arm, (network, lr) in arms(best).items():
        arm_runs = [runs[k] for s in seeds if (k := run_key(network, lr, s)) in runs]
        trained = [r for r in arm_runs if not r.get("diverged")]
        summary_arms[arm] = {
            "lr": lr,
            "diverged": sum(bool(r.get("diverged")) for r in arm_runs),
            "val_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in trained])
            if trained else None,
            "test_acc": mean_and_spread([r["test"]["acc"] for r in trained]) if trained else None,
            "steps": {target_name(t): [steps_to(r, t, config) for r in arm_runs]
                      for t in config["targets"]},
        }  # fmt: skip
    base = summary_arms[arm_name()]["steps"]
    for stats in summary_arms.values():
        stats["fewer"] = {}
        for t in targets:
            pairs = list(zip(base[t], stats["steps"][t], strict=False))
            ratios = ([a / b for a, b in pairs] if len(pairs) == len(seeds) and
                      None not in base[t] + stats["steps"][t] else None)  # fmt: skip
            stats["fewer"][t] = {"per_seed": ratios,
                                 "mean": mean_and_spread(ratios) if ratios else None}  # fmt: skip
    return {
        "googlenet_sweep_val_acc": sweep,
        "googlenet_best_lr": best,
        "targets": targets,
        "val_every": config["val_every"],
        "total_steps": steps_per_epoch(config) * config["epochs"],
        "arms": summary_arms,
    }


def multiplier(arm: str) -> int | None:
    """The multiple of GoogLeNet's rate an arm ran at: 5 for "Inception-BN x5" and the BN
    recipe's arm, None for GoogLeNet."""
    if arm == RECIPE_ARM:
        return RECIPE_MULTIPLIER
    return next((m for m in MULTIPLIERS if arm == arm_name(m)), None)


def _sweep(summary: dict) -> str:
    return ", ".join(f"lr {lr} " + fmt(acc) if acc is not None else f"lr {lr} diverged"
                     for lr, acc in summary["googlenet_sweep_val_acc"].items())  # fmt: skip


def verdict_lines(summary: dict) -> list[str]:
    """GoogLeNet's sweep, then per arm its final accuracy and how many times fewer steps than
    GoogLeNet it needed to the higher target, from ``summary``: a few short sentences."""
    t = summary["targets"][-1]
    lines = [f"GoogLeNet's sweep, final held-out accuracy: {_sweep(summary)}; best stable rate "
             f"{summary['googlenet_best_lr']:g}"]  # fmt: skip
    for arm, stats in summary["arms"].items():
        head = f"{arm} (lr {stats['lr']:g})"
        if stats["val_acc"] is None:
            lines.append(f"{head} diverged")
            continue
        fewer = stats["fewer"][t]["mean"]
        if arm == arm_name():
            reach = ""
        elif fewer is None:
            reach = f", not at {t} in every seed"
        else:
            paper = fmt(PAPER_FEWER_STEPS.get(multiplier(arm)), ".1f")
            reach = f", {mean_std(fewer, '.1f')}x fewer steps to {t} (the paper: {paper}x)"
        lines.append(f"{head}: final held-out accuracy {stats['val_acc']['mean']:.3f}{reach}")
    return lines


def verdict(summary: dict) -> str:
    """``verdict_lines`` in one paragraph."""
    return ". ".join(verdict_lines(summary)) + "."


def report(result: dict) -> Report:
    """GoogLeNet's sweep; each arm's final accuracies; its steps to each target per seed and how
    many times fewer than GoogLeNet's, seed by seed, next to the paper's factor."""
    summary = result["summary"]
    best, targets = summary["googlenet_best_lr"], summary["targets"]
    sweep = Table(
        ("GoogLeNet at lr", "final held-out accuracy"),
        [
            (
                f"{lr}" + " (best stable)" * (float(lr) == best),
                "diverged" if acc is None else fmt(acc) + " (chance)" * (acc <= STUCK),
            )
            for lr, acc in summary["googlenet_sweep_val_acc"].items()
        ],  # fmt: skip
        title=f"GoogLeNet's learning-rate sweep, seed {result['config']['seeds'][0]}",
    )
    accuracy = Table(
        ("network", "lr", "diverged", "held-out accuracy", "test accuracy"),
        [
            (
                arm,
                f"{s['lr']:g}",
                f"{s['diverged']} of {len(s['steps'][targets[0]])}",
                mean_std(s["val_acc"]),
                mean_std(s["test_acc"]),
            )
            for arm, s in summary["arms"].items()
        ],  # fmt: skip
        title="at GoogLeNet's best rate and multiples of it: accuracy after the last epoch",
        note="Mean ± standard deviation over the seeds that did not diverge.",
    )
    steps = Table(
        ("network", "target", "steps per seed", "fewer steps", "the paper"),
        [
            (
                arm if t == targets[0] else "",
                t,
                one_per_seed(s["steps"][t]),
                "" if arm == arm_name() else mean_std(s["fewer"][t]["mean"], ".1f"),
                fmt(PAPER_FEWER_STEPS.get(multiplier(arm)), ".1f") + "x"
                if multiplier(arm) and t == targets[0]
                else "",
            )
            for arm, s in summary["arms"].items()
            for t in targets
        ],  # fmt: skip
        title="steps to each target, and how many times fewer than GoogLeNet's",
        note=f"Steps out of {summary['total_steps']}, measured every {summary['val_every']} "
        "('-': never). 'Fewer steps': GoogLeNet's over the arm's, seed by seed, mean ± standard "
        "deviation. The paper: millions of steps to 72.2% on ImageNet (Figure 3).",
    )
    return Report(heading(result, "Inception-BN against GoogLeNet"), [sweep, accuracy, steps],
                  verdict_lines(summary))  # fmt: skip


def claims(result: dict) -> Claims:
    """What notebook 07 says about the result (section 6, "Inception-BN next to GoogLeNet")."""
    summary = result["summary"]
    sweep, best = summary["googlenet_sweep_val_acc"], summary["googlenet_best_lr"]
    rates = sorted(float(lr) for lr in sweep)
    google = summary["arms"][arm_name()]
    bn = {m: summary["arms"].get(arm_name(m)) for m in MULTIPLIERS}
    recipe = summary["arms"].get(RECIPE_ARM)
    ran = [s for s in bn.values() if s and s["val_acc"]]
    seeds = len(result["config"]["seeds"])
    total, targets = summary["total_steps"], summary["targets"]
    google_steps = [n for t in targets for n in google["steps"][t]]

    def fewer(stats, t=targets[-1]):
        return stats and stats["fewer"][t]["mean"]

    def mean_acc(stats) -> str:
        return fmt(stats and stats["val_acc"] and stats["val_acc"]["mean"])

    factors = {m: [fewer(s, t) for t in targets] for m, s in bn.items()}
    neighbours = [sweep[f"{lr:g}"] for lr in rates if lr != best and abs(rates.index(lr)
                  - rates.index(best)) == 1] if best in rates else []  # fmt: skip
    x5_per_seed = bn[5] and bn[5]["fewer"][targets[-1]]["per_seed"]

    def accuracy(stats) -> float:
        return stats["val_acc"]["mean"] if stats and stats["val_acc"] else float("nan")

    return Claims(
        [
            Claim(
                "GoogLeNet's best stable rate lies inside its sweep: the rates on either side "
                "end lower, by less than a point (a flat optimum), and at the top rate it does "
                "not train",
                _sweep(summary),
                rates[0] < best < rates[-1]
                and len(neighbours) == 2
                and all(
                    a is not None and sweep[f"{best:g}"] - 0.01 < a < sweep[f"{best:g}"]
                    for a in neighbours
                )
                and (sweep[f"{rates[-1]:g}"] is None or sweep[f"{rates[-1]:g}"] <= STUCK),
            ),  # fmt: skip
            Claim(
                "Inception-BN trains at 1, 5 and 30 times GoogLeNet's best rate, in every seed",
                ", ".join(
                    f"x{m}: {s['diverged']} of {seeds} diverged" if s else f"x{m}: no run"
                    for m, s in bn.items()
                ),  # fmt: skip
                all(
                    s and s["diverged"] == 0 and s["val_acc"]["n"] == seeds for s in bn.values()
                ),  # fmt: skip
            ),
            Claim(
                "GoogLeNet reaches both targets in every seed within the first 35% of its budget",
                f"steps {one_per_seed(google_steps)} of {total}",
                None not in google_steps and max(google_steps) < 0.35 * total,
            ),
            Claim(
                "at 5x and 30x Inception-BN ends over 4 points more accurate than GoogLeNet on "
                "the held-out images; at 1x by less than a point",
                f"x1 {mean_acc(bn[1])}, x5 {mean_acc(bn[5])}, x30 {mean_acc(bn[30])} against "
                f"{mean_acc(google)}",
                len(ran) == len(MULTIPLIERS)
                and min(accuracy(bn[5]), accuracy(bn[30])) > accuracy(google) + 0.04
                and 0 < accuracy(bn[1]) - accuracy(google) < 0.01,
            ),
            Claim(
                "at 1x, Inception-BN needs about as many steps as GoogLeNet, far from the "
                "paper's 2.3 times fewer",
                ", ".join(mean_std(f, ".1f") for f in factors[1]),
                None not in factors[1] and all(0.8 <= f["mean"] <= 1.3 for f in factors[1]),
            ),
            Claim(
                "at 5x it reaches 0.70 sooner than GoogLeNet in every seed, about 1.5 times "
                "sooner on average",
                ", ".join(f"{f:.2f}x" for f in x5_per_seed or []),
                bool(x5_per_seed)
                and len(x5_per_seed) == seeds
                and all(f > 1 for f in x5_per_seed)
                and round(fewer(bn[5])["mean"], 1) == 1.5,
            ),
            Claim(
                "at 5x and 30x the factor is far below the paper's 14.8 and 11.5: under a third",
                f"x5 {', '.join(mean_std(f, '.1f') for f in factors[5])}; "
                f"x30 {', '.join(mean_std(f, '.1f') for f in factors[30])}",
                None not in factors[5] + factors[30]
                and all(
                    f["mean"] < PAPER_FEWER_STEPS[m] / 3 for m in (5, 30) for f in factors[m]
                ),  # fmt: skip
            ),
            Claim(
                "30x is no faster than 5x",
                f"{mean_std(fewer(bn[30]), '.1f')}x against {mean_std(fewer(bn[5]), '.1f')}x",
                None not in (fewer(bn[30]), fewer(bn[5]))
                and fewer(bn[30])["mean"] <= fewer(bn[5])["mean"] + fewer(bn[5])["std"],
            ),
            Claim(
                "with the paper's other changes (no dropout, weight decay / 5) at 5x it gets "
                "there a little sooner, within the seeds' spread, and ends about as accurate",
                f"{mean_std(fewer(recipe), '.1f')}x against {mean_std(fewer(bn[5]), '.1f')}x; "
                f"{mean_acc(recipe)} against {mean_acc(bn[5])}",
                None not in (fewer(recipe), fewer(bn[5]))
                and fewer(bn[5])["mean"]
                < fewer(recipe)["mean"]
                <= fewer(bn[5])["mean"] + fewer(recipe)["std"] + fewer(bn[5])["std"]
                and abs(accuracy(recipe) - accuracy(bn[5])) < 0.01,
            ),
        ]
    )
