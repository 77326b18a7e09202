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
    mean_and_spread,
    reached_by_all,
    sgd_run,
    steps_per_epoch,
    steps_to,
)
from course.models import get_model

NAME = "inception_bn"
CLAIM = (
    "With batch norm, Inception-BN trains at 5x and 30x GoogLeNet's learning rate and reaches "
    "GoogLeNet's accuracy in far fewer steps (BN paper, Figures 2 and 3)."
)
MULTIPLIERS = (1, 5, 30)  # Inception-BN's learning rate, in units of GoogLeNet's best
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


def googlenet_best_lr(config: dict, runs: dict) -> float:
    """GoogLeNet's best stable learning rate: the highest final held-out accuracy on the first
    seed among the runs that did not diverge (then the lowest rate)."""
    first = config["seeds"][0]
    stable = {lr: runs[run_key("GoogLeNet", lr, first)] for lr in config["googlenet_lrs"]}
    stable = {lr: r for lr, r in stable.items() if not r.get("diverged")}
    if not stable:
        raise RuntimeError("GoogLeNet diverged at every learning rate of the sweep; lower them")
    return min(stable, key=lambda lr: (-stable[lr]["history"]["val_acc"][-1], lr))


def inception_lrs(best: float) -> dict[int, float]:
    return {m: round(best * m, 6) for m in MULTIPLIERS}


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    first = config["seeds"][0]
    sweep = [(run_key("GoogLeNet", lr, first), dict(network="GoogLeNet", lr=lr, seed=first))
             for lr in config["googlenet_lrs"]]  # fmt: skip
    if any(key not in done for key, _ in sweep):
        return sweep
    best = googlenet_best_lr(config, done)
    todo = []
    for seed in config["seeds"]:
        if seed != first:
            todo.append((run_key("GoogLeNet", best, seed), dict(network="GoogLeNet", lr=best,
                                                                seed=seed)))  # fmt: skip
        for m, lr in inception_lrs(best).items():
            todo.append((run_key("Inception-BN", lr, seed),
                         dict(network="Inception-BN", lr=lr, multiplier=m, seed=seed)))  # fmt: skip
    return todo


def build(network: str, config: dict):
    if network == "GoogLeNet":
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
        run = runs[run_key("GoogLeNet", lr, first)]
        sweep[f"{lr:g}"] = None if run.get("diverged") else run["history"]["val_acc"][-1]
    best = googlenet_best_lr(config, runs)
    arms = {"GoogLeNet": [run_key("GoogLeNet", best, s) for s in config["seeds"]]}
    for m, lr in inception_lrs(best).items():
        arms[f"Inception-BN x{m}"] = [run_key("Inception-BN", lr, s) for s in config["seeds"]]
    chosen = {arm: [runs[k] for k in keys if k in runs] for arm, keys in arms.items()}
    google = [r for r in chosen["GoogLeNet"] if not r.get("diverged")]
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
    base = summary_arms["GoogLeNet"]["mean_steps"]
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


def verdict(summary: dict) -> str:
    """Steps to GoogLeNet's best accuracy per arm, and final accuracies, from ``summary``."""
    target = summary["target_val_acc"]
    parts = []
    for arm, stats in summary["arms"].items():
        head = f"{arm} (lr {stats['lr']:g})"
        if stats["val_acc"] is None:
            parts.append(f"{head} diverged")
            continue
        if stats["mean_steps"] is None:
            reach = f"did not reach {target:.3f} in every seed"
        elif arm == "GoogLeNet" or stats["fewer_steps"] is None:
            reach = f"reached it after {stats['mean_steps']:.0f} steps"
        else:
            reach = (f"reached it after {stats['mean_steps']:.0f} steps "
                     f"({stats['fewer_steps']:.1f}x fewer)")  # fmt: skip
        parts.append(f"{head} {reach}, final held-out accuracy {stats['val_acc']['mean']:.3f}")
    return f"Target {target:.3f}, reached by every GoogLeNet seed: " + "; ".join(parts)
