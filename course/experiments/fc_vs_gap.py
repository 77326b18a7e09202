"""VGG's three fully connected layers against global average pooling and one linear layer.

The lecture: today one linear layer at the end is usually enough. GoogLeNet (Section 5 of its
paper) replaced the FC layers by an average over each 7x7 map and one linear layer, and found
top-1 accuracy about 0.6% better. The comparison only means something where there is a map to
pool: VGG-16 sees a 224x224 image as a 7x7 map before its head, but a 32x32 image ends as 1x1
after VGG's five max-pools, where "global average pooling" does nothing. So the VGG-11 body here
(with batch norm, a quarter of the width) drops its last two max-pools: a 32x32 image ends as a
4x4 map of 128 channels, and

* the FC head flattens it (2,048 values) into two hidden layers of 1,024 (4,096 scaled like the
  body), dropout 0.5 before each, then the 10 classes, as in the paper;
* the GAP head averages each of the 128 maps to one number, dropout 0.5, one linear layer.

Both are trained as VGG was: SGD with momentum 0.9, weight decay 5e-4, random crops (4 pixels of
padding) and mirroring; the best of a small learning-rate sweep per head, chosen on held-out
training images (not the test set); then three seeds. Departures: Fashion-MNIST resized to
32x32; ``fit``'s warm-up and cosine decay instead of dividing the rate by 10 on plateaus.
"""

from __future__ import annotations

import torch
from torch import nn

from course.experiments.common import (
    at_best_lr,
    fashion_mnist_32,
    final_val_error,
    finished,
    mean_and_spread,
    sweep_then_seeds,
    sweep_val_acc,
)
from course.models import get_model
from course.models.summary import parameter_breakdown
from course.training import evaluate, fit

NAME = "fc_vs_gap"
CLAIM = (
    "Global average pooling and one linear layer classify as well as VGG's three fully "
    "connected layers, with a fraction of the parameters (GoogLeNet paper, Section 5: +0.6% "
    "top-1)."
)
HEADS = {"FC head": dict(head="fc"), "GAP head": dict(head="gap")}
CONFIGS = {
    "fast": dict(train_images=512, val_images=256, test_images=256, epochs=1, batch_size=128,
                 lrs=[0.1], seeds=[0], width=0.125, hidden=128, pools_removed=2),
    "live": dict(train_images=5_000, val_images=1_000, test_images=2_000, epochs=4,
                 batch_size=128, lrs=[0.1], seeds=[0], width=0.25, hidden=1024, pools_removed=2),
    "reference": dict(train_images=20_000, val_images=5_000, test_images=10_000, epochs=10,
                      batch_size=128, lrs=[0.02, 0.1], seeds=[0, 1, 2], width=0.25, hidden=1024,
                      pools_removed=2),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def without_last_pools(model: nn.Module, count: int) -> nn.Module:
    """``model`` with the last ``count`` max-pools of its ``features`` removed: each one removed
    doubles the side of the map the head sees."""
    layers = list(model.features)
    pools = [i for i, layer in enumerate(layers) if isinstance(layer, nn.MaxPool2d)]
    for i in reversed(pools[len(pools) - count :]):
        del layers[i]
    model.features = nn.Sequential(*layers)
    return model


def build(config: dict, head: str) -> nn.Module:
    """VGG-11-BN at ``width`` with a 4x4 map before the chosen head (for 32x32 inputs)."""
    side = 32 // 2 ** (5 - config["pools_removed"])
    model = get_model("vgg11_bn", num_classes=10, in_channels=1, width=config["width"],
                      hidden=config["hidden"], fc_input=side, head=head)  # fmt: skip
    return without_last_pools(model, config["pools_removed"])


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return sweep_then_seeds(config, done, HEADS, final_val_error)


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(config, settings["head"])
    with torch.no_grad():
        map_shape = list(model.features(torch.zeros(1, 1, 32, 32)).shape[1:])
    history = fit(
        model, data["train"], data["val"], epochs=config["epochs"],
        batch_size=config["batch_size"], optimizer="sgd", lr=settings["lr"], weight_decay=5e-4,
        preprocess=data["preprocess"], seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    test = evaluate(model, data["test"], data["preprocess"])
    parts = parameter_breakdown(model)
    return {**settings, "history": finished(history), "map_before_head": map_shape,
            "parameters": {"body": parts["features"], "head": parts["classifier"]},
            "test": {k: test[k] for k in ("loss", "acc")}}  # fmt: skip


def summarize(result: dict) -> dict:
    """Per head: the chosen learning rate, the sweep's validation accuracies, the parameters,
    test accuracy and loss over seeds; then GAP minus FC test accuracy, seed by seed (the same
    seed gives both heads the same data order)."""
    config, runs = result["config"], result["runs"]
    heads, per_seed = {}, {}
    for head in HEADS:
        lr, chosen = at_best_lr(config, runs, head, final_val_error)
        parameters = chosen[0]["parameters"]
        heads[head] = {
            "best_lr": lr,
            "sweep_val_acc": sweep_val_acc(config, runs, head),
            "map_before_head": chosen[0]["map_before_head"],
            "parameters": {**parameters, "total": sum(parameters.values())},
            "test_acc": mean_and_spread([r["test"]["acc"] for r in chosen]),
            "test_loss": mean_and_spread([r["test"]["loss"] for r in chosen]),
        }  # fmt: skip
        per_seed[head] = {r["seed"]: r["test"]["acc"] for r in chosen}
    seeds = sorted(set(per_seed["FC head"]) & set(per_seed["GAP head"]))
    differences = [per_seed["GAP head"][s] - per_seed["FC head"][s] for s in seeds]
    fc, gap = heads["FC head"]["parameters"], heads["GAP head"]["parameters"]
    return {"heads": heads, "gap_minus_fc": mean_and_spread(differences),
            "gap_minus_fc_per_seed": differences,
            "fewer_parameters": fc["total"] / gap["total"]}  # fmt: skip


def verdict(summary: dict) -> str:
    """Accuracy and parameters of the two heads, from ``summary``."""
    fc, gap = summary["heads"]["FC head"], summary["heads"]["GAP head"]
    diff = summary["gap_minus_fc"]
    seeds = ", ".join(f"{d:+.4f}" for d in summary["gap_minus_fc_per_seed"])
    return (
        f"test accuracy GAP head {gap['test_acc']['mean']:.4f}, FC head "
        f"{fc['test_acc']['mean']:.4f}: GAP minus FC {diff['mean']:+.4f} (per seed {seeds}); "
        f"the GAP network has {summary['fewer_parameters']:.1f}x fewer parameters "
        f"({gap['parameters']['total']:,} vs {fc['parameters']['total']:,})"
    )
