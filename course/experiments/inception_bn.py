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
rate, and both at a second seed. The target is GoogLeNet's best held-out accuracy (the lower of
its two seeds' best epochs, so that both get there); each run is timed by the optimizer steps
until its held-out accuracy, measured after every epoch, first reached it.

Departures from the paper: 32x32 images instead of 224x224; the same dropout and weight decay for
both (the paper also removed dropout, reduced the weight decay and decayed the learning rate 6x
faster for its BN networks); a CPU budget.
"""

from __future__ import annotations

import torch

from course.experiments.common import (
    fashion_mnist_32,
    fewer_steps_range,
    mean_and_spread,
    reached_by_all,
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
# The paper's Figure 3: how many times fewer steps than GoogLeNet's 31.0 million Inception-BN
# needed to 72.2% top-1, at 1x (BN-Baseline, 13.3 million), 5x (2.1) and 30x (2.7) its rate.
PAPER_FEWER_STEPS = {1: 31.0 / 13.3, 5: 31.0 / 2.1, 30: 31.0 / 2.7}
STUCK = 0.2  # a final held-out accuracy at most this (chance is 0.1): the run learned nothing
CONFIGS = {
    "fast": dict(train_images=512, val_images=256, test_images=256, epochs=1, batch_size=64,
                 googlenet_lrs=[0.01, 0.02], seeds=[0], width=0.125, dropout=0.4),
    "live": dict(train_images=4_000, val_images=1_000, test_images=2_000, epochs=3,
                 batch_size=128, googlenet_lrs=[0.02], seeds=[0], width=0.25, dropout=0.4),
    "reference": dict(train_images=15_000, val_images=5_000, test_images=10_000, epochs=8,
                      batch_size=128, googlenet_lrs=[0.02, 0.04, 0.08], seeds=[0, 1],
                      width=0.25, dropout=0.4),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def run_key(network: str, lr: float, seed: int) -> str:
    return f"{network}, lr {lr:g}, seed {seed}"


def arm_name(multiplier: int | None = None) -> str:
    """An arm of the comparison: "GoogLeNet" (None) or "Inception-BN x5" (5 times its rate)."""
    return GOOGLENET if multiplier is None else f"{INCEPTION_BN} x{multiplier}"


def arms(best: float) -> dict[str, tuple[str, float]]:
    """The arms compared at GoogLeNet's best rate ``best``: name -> (network, learning rate)."""
    compared = {arm_name(): (GOOGLENET, best)}
    for m, lr in inception_lrs(best).items():
        compared[arm_name(m)] = (INCEPTION_BN, lr)
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
        if seed != first:
            todo.append((run_key(GOOGLENET, best, seed), dict(network=GOOGLENET, lr=best,
                                                              seed=seed)))  # fmt: skip
        for m, lr in inception_lrs(best).items():
            todo.append((run_key(INCEPTION_BN, lr, seed),
                         dict(network=INCEPTION_BN, lr=lr, multiplier=m, seed=seed)))  # fmt: skip
    return todo


def planned_runs(config: dict) -> int:
    """GoogLeNet's sweep on the first seed, then per seed Inception-BN at every multiple and
    (on the other seeds) GoogLeNet at its best rate."""
    seeds = len(config["seeds"])
    return len(config["googlenet_lrs"]) + seeds - 1 + seeds * len(MULTIPLIERS)


def build(network: str, config: dict):
    if network == GOOGLENET:
        return get_model("googlenet_paper", num_classes=10, in_channels=1, width=config["width"],
                         aux_logits=False, dropout=config["dropout"])  # fmt: skip
    return get_model("inception_bn", num_classes=10, in_channels=1, width=config["width"],
                     dropout=config["dropout"])  # fmt: skip


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["network"], config)
    return sgd_run(model, config, settings, data, checkpoint, weight_decay=2e-4, warmup_epochs=1,
                   max_grad_norm=None, preprocess=data["preprocess"])  # fmt: skip


def summarize(result: dict) -> dict:
    """GoogLeNet's sweep (final held-out accuracy per learning rate, None if diverged) and best
    stable rate; the target (GoogLeNet's best held-out accuracy at that rate, reached by every
    seed: ``reached_by_all``); per arm (GoogLeNet, Inception-BN at each multiple): final
    held-out and test accuracy over the runs that did not diverge, steps to the target per seed,
    and how many times fewer steps than GoogLeNet took (when every seed got there)."""
    config, runs = result["config"], result["runs"]
    first = config["seeds"][0]
    sweep = {}
    for lr in config["googlenet_lrs"]:
        run = runs[run_key(GOOGLENET, lr, first)]
        sweep[f"{lr:g}"] = None if run.get("diverged") else run["history"]["val_acc"][-1]
    best = googlenet_best_lr(config, runs)
    chosen = {arm: [runs[k] for s in config["seeds"] if (k := run_key(network, lr, s)) in runs]
              for arm, (network, lr) in arms(best).items()}  # fmt: skip
    google = [r for r in chosen[arm_name()] if not r.get("diverged")]
    target = reached_by_all(google)
    summary_arms = {}
    for arm, arm_runs in chosen.items():
        trained = [r for r in arm_runs if not r.get("diverged")]
        steps = [steps_to(r, target, config) for r in arm_runs]
        summary_arms[arm] = {
            "lr": arm_runs[0]["lr"],
            "diverged": sum(bool(r.get("diverged")) for r in arm_runs),
            "val_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in trained])
            if trained else None,
            "test_acc": mean_and_spread([r["test"]["acc"] for r in trained]) if trained else None,
            "steps_to_target": steps,
            "mean_steps": mean_and_spread(steps)["mean"] if None not in steps else None,
        }  # fmt: skip
    base = summary_arms[arm_name()]["mean_steps"]
    for stats in summary_arms.values():
        stats["fewer_steps"] = base / stats["mean_steps"] if base and stats["mean_steps"] else None
    return {
        "googlenet_sweep_val_acc": sweep,
        "googlenet_best_lr": best,
        "target_val_acc": target,
        "steps_per_epoch": steps_per_epoch(config),
        "total_steps": steps_per_epoch(config) * config["epochs"],
        "arms": summary_arms,
    }


def multiplier(arm: str) -> int | None:
    """The multiple of GoogLeNet's rate an arm ran at: 5 for "Inception-BN x5", None for
    GoogLeNet."""
    return next((m for m in MULTIPLIERS if arm == arm_name(m)), None)


def _sweep(summary: dict) -> str:
    return ", ".join(f"lr {lr} " + fmt(acc) if acc is not None else f"lr {lr} diverged"
                     for lr, acc in summary["googlenet_sweep_val_acc"].items())  # fmt: skip


def verdict_lines(summary: dict) -> list[str]:
    """GoogLeNet's sweep, then per arm the steps to GoogLeNet's best accuracy and the final
    accuracy, from ``summary``: a few short sentences."""
    target = summary["target_val_acc"]
    lines = [f"GoogLeNet's sweep, final held-out accuracy: {_sweep(summary)}; best stable rate "
             f"{summary['googlenet_best_lr']:g}",
             f"Target {target:.3f}, reached by every GoogLeNet seed"]  # fmt: skip
    for arm, stats in summary["arms"].items():
        head = f"{arm} (lr {stats['lr']:g})"
        if stats["val_acc"] is None:
            lines.append(f"{head} diverged")
            continue
        if stats["mean_steps"] is None:
            reach = "did not reach it in every seed"
        elif arm == arm_name() or stats["fewer_steps"] is None:
            reach = f"reached it after {stats['mean_steps']:.0f} steps"
        else:
            paper = fmt(PAPER_FEWER_STEPS.get(multiplier(arm)), ".1f")
            reach = (f"reached it after {stats['mean_steps']:.0f} steps "
                     f"({stats['fewer_steps']:.1f}x fewer; the paper: {paper}x)")  # fmt: skip
        lines.append(f"{head} {reach}, final held-out accuracy {stats['val_acc']['mean']:.3f}")
    lines.append(f"Steps are counted in whole epochs ({summary['steps_per_epoch']} steps each): "
                 "the factors are coarse")  # fmt: skip
    return lines


def verdict(summary: dict) -> str:
    """``verdict_lines`` in one paragraph."""
    return ". ".join(verdict_lines(summary)) + "."


def fewer_steps_ranges(summary: dict) -> dict[str, tuple[float, float | None] | None]:
    """Per Inception-BN arm, how many times fewer steps than GoogLeNet it needed at least and at
    most, when the whole epochs the steps are counted in are read as unfavourably and as
    favourably as they allow (``common.fewer_steps_range``)."""
    base = summary["arms"][arm_name()]["mean_steps"]
    return {arm: fewer_steps_range(base, stats["mean_steps"], summary["steps_per_epoch"])
            for arm, stats in summary["arms"].items() if arm != arm_name()}  # fmt: skip


def _range(bounds) -> str:
    if bounds is None:
        return "-"
    low, high = bounds
    return f"{low:.1f}x or more" if high is None else f"{low:.1f}x to {high:.1f}x"


def report(result: dict) -> Report:
    """GoogLeNet's sweep; each arm's final accuracies; its steps to GoogLeNet's best accuracy,
    how many times fewer than GoogLeNet (with the range whole epochs allow) and the paper's."""
    summary = result["summary"]
    best, target = summary["googlenet_best_lr"], summary["target_val_acc"]
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
        ("network", "lr", "runs diverged", "held-out accuracy", "test accuracy"),
        [
            (
                arm,
                f"{s['lr']:g}",
                f"{s['diverged']} of {len(s['steps_to_target'])}",
                mean_std(s["val_acc"]),
                mean_std(s["test_acc"]),
            )
            for arm, s in summary["arms"].items()
        ],  # fmt: skip
        title="at GoogLeNet's best rate and multiples of it: accuracy after the last epoch",
        note="Mean ± standard deviation over the seeds that did not diverge.",
    )
    ranges = fewer_steps_ranges(summary)
    steps = Table(
        ("network", "steps per seed", "fewer steps", "whole epochs allow", "the paper"),
        [
            (
                arm,
                one_per_seed(s["steps_to_target"]),
                "-" if s["fewer_steps"] is None else f"{s['fewer_steps']:.1f}x",
                _range(ranges.get(arm)) if arm != arm_name() else "",
                fmt(PAPER_FEWER_STEPS.get(multiplier(arm)), ".1f") + "x" if multiplier(arm) else "",
            )
            for arm, s in summary["arms"].items()
        ],  # fmt: skip
        title=f"steps to the target, {fmt(target)}: GoogLeNet's best, reached by every seed",
        note=f"{summary['steps_per_epoch']} steps to an epoch ('-': never). The held-out accuracy "
        "is measured once per epoch: a run may have reached the target at any step of the epoch "
        "it was first measured there, hence a range of factors. The paper: millions of steps to "
        "72.2% on ImageNet (Figure 3).",
    )
    return Report(heading(result, "Inception-BN against GoogLeNet"), [sweep, accuracy, steps],
                  verdict_lines(summary))  # fmt: skip


def claims(result: dict) -> Claims:
    """What notebook 07 says about the result (section 6, "Inception-BN next to GoogLeNet")."""
    summary = result["summary"]
    sweep, best = summary["googlenet_sweep_val_acc"], summary["googlenet_best_lr"]
    google = summary["arms"][arm_name()]
    bn = {m: summary["arms"].get(arm_name(m)) for m in MULTIPLIERS}
    ran = [s for s in bn.values() if s and s["val_acc"]]
    seeds = len(result["config"]["seeds"])
    higher = [lr for lr in sweep if float(lr) > best]
    google_steps = google["steps_to_target"]
    bn_steps = [n for s in bn.values() if s for n in s["steps_to_target"]]
    steps = {m: s and s["mean_steps"] for m, s in bn.items()}
    ranges = {m: fewer_steps_ranges(summary).get(arm_name(m)) for m in MULTIPLIERS}
    x1 = bn[1] and bn[1]["fewer_steps"]
    highs = [r and r[1] for r in (ranges[5], ranges[30])]

    def mean_acc(stats) -> str:
        return fmt(stats and stats["val_acc"] and stats["val_acc"]["mean"])

    return Claims(
        [
            Claim(
                "GoogLeNet trains only at the lowest rate of its sweep: at each higher one its "
                "loss became NaN or infinite, or its held-out accuracy ended at chance",
                _sweep(summary),
                best == min(float(lr) for lr in sweep)
                and bool(higher)
                and all(sweep[lr] is None or sweep[lr] <= STUCK for lr in higher),
            ),
            Claim(
                "Inception-BN trains at 1, 5 and 30 times GoogLeNet's best rate, in every seed",
                ", ".join(
                    f"x{m}: {s['diverged']} of {seeds} diverged" if s else f"x{m}: no run"
                    for m, s in bn.items()
                ),  # fmt: skip
                all(
                    s and s["diverged"] == 0 and len(s["steps_to_target"]) == seeds
                    for s in bn.values()
                ),  # fmt: skip
            ),
            Claim(
                "at every multiple Inception-BN reaches GoogLeNet's best accuracy sooner: no seed "
                "later than GoogLeNet's first",
                f"Inception-BN {one_per_seed(bn_steps)}; GoogLeNet {one_per_seed(google_steps)}",
                bool(bn_steps)
                and None not in bn_steps + google_steps
                and max(bn_steps) <= min(google_steps),
            ),
            Claim(
                "at every multiple it ends more accurate than GoogLeNet, by more than 3 points",
                f"{', '.join(mean_acc(s) for s in bn.values())} against {mean_acc(google)}",
                len(ran) == len(MULTIPLIERS)
                and google["val_acc"] is not None
                and min(s["val_acc"]["mean"] for s in ran) > google["val_acc"]["mean"] + 0.03,
            ),
            Claim(
                "as in the paper, 30x gets there later than 5x",
                f"{fmt(steps[30], '.0f')} against {fmt(steps[5], '.0f')} steps",
                None not in (steps[5], steps[30]) and steps[30] > steps[5],
            ),
            Claim(
                "at 1x and 5x it gets there after the same number of steps: whole epochs do not "
                "tell the two rates apart",
                f"{fmt(steps[1], '.0f')} and {fmt(steps[5], '.0f')} steps",
                steps[1] is not None and steps[1] == steps[5],
            ),
            Claim(
                "at 1x it needs 2.3 times fewer steps, like the paper's BN-Baseline, but whole "
                "epochs allow anything from 2.0 to 3.5 times",
                f"{fmt(x1, '.1f')}x, range {_range(ranges[1])}; the paper "
                f"{PAPER_FEWER_STEPS[1]:.1f}x",
                x1 is not None
                and round(x1, 1) == 2.3
                and ranges[1] is not None
                and ranges[1][1] is not None
                and (round(ranges[1][0], 1), round(ranges[1][1], 1)) == (2.0, 3.5),
            ),
            Claim(
                "at 5x and 30x its factor is less than a third of the paper's, even with whole "
                "epochs read as favourably as they allow",
                f"at most {fmt(highs[0], '.1f')}x and {fmt(highs[1], '.1f')}x against the "
                f"paper's {PAPER_FEWER_STEPS[5]:.1f}x and {PAPER_FEWER_STEPS[30]:.1f}x",
                None not in highs
                and highs[0] < PAPER_FEWER_STEPS[5] / 3
                and highs[1] < PAPER_FEWER_STEPS[30] / 3,
            ),
        ]
    )
