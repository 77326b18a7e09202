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
    mean_and_spread,
    reached_by_all,
    sgd_run,
    steps_per_epoch,
    steps_to,
)
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


def verdict(summary: dict) -> str:
    """What each arm did at each learning rate, and the steps to the target, from ``summary``."""
    parts = []
    for arm, per_lr in summary["arms"].items():
        said = []
        for lr, stats in per_lr.items():
            kinds = sorted(set(stats["outcomes"]))
            if kinds == ["trained"]:
                said.append(f"lr {lr}: {stats['val_acc']['mean']:.3f}")
            else:
                said.append(f"lr {lr}: " + "/".join(kinds))
        parts.append(f"{arm}, final held-out accuracy " + ", ".join(said))
    target, fastest = summary["target_val_acc"], summary["fastest"]
    if target is None:
        return "; ".join(parts) + ". Without batch norm no rate trained in every seed: no target"
    reach = []
    for arm, best in fastest.items():
        reach.append(f"{arm} in {best['steps']:.0f} steps (lr {best['lr']:g})" if best
                     else f"{arm} never")  # fmt: skip
    times, same = summary["fewer_steps"], summary["fewer_steps_same_lr"]
    ratio = f": {times:.1f}x fewer steps with batch norm" if times else ""
    if same:
        ratio += f" ({same:.1f}x at the same rate, {summary['baseline_lr']:g})"
    return (
        "; ".join(parts)
        + f". To {target:.3f} (what every seed reached without batch norm at its best rate): "
        + ", ".join(reach)
        + ratio
    )
