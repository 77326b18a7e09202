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
    sweep_key,
    sweep_then_seeds,
    sweep_then_seeds_runs,
    sweep_val_acc,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading
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


def run_key(head: str, lr: float, seed: int) -> str:
    """The key of a run of ``head`` ("FC head" or "GAP head") in a result's runs."""
    return sweep_key(head, lr, seed)


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return sweep_then_seeds(config, done, HEADS, final_val_error)


def planned_runs(config: dict) -> int:
    return sweep_then_seeds_runs(config, HEADS)


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
    """Accuracy and parameters of the two heads, from ``summary``: two clauses split by "; "."""
    fc, gap = summary["heads"]["FC head"], summary["heads"]["GAP head"]
    diff = summary["gap_minus_fc"]
    spread = f" ± {diff['std']:.4f}" if diff["n"] > 1 else ""
    seeds = f"{diff['n']} seed{'s' if diff['n'] != 1 else ''}"
    return (
        f"test accuracy: GAP head {gap['test_acc']['mean']:.4f}, FC head "
        f"{fc['test_acc']['mean']:.4f}, GAP minus FC {diff['mean']:+.4f}{spread} over {seeds}; "
        f"the GAP network has {summary['fewer_parameters']:.1f}x fewer parameters "
        f"({gap['parameters']['total']:,} against {fc['parameters']['total']:,})"
    )


def test_accuracies(result: dict) -> list[tuple[int, float, float]]:
    """(seed, FC head, GAP head) test accuracy for each seed both heads ran at their best
    learning rate."""
    runs, heads = result["runs"], result["summary"]["heads"]
    fc, gap = (
        [runs.get(run_key(h, heads[h]["best_lr"], s)) for s in result["config"]["seeds"]]
        for h in ("FC head", "GAP head")
    )
    return [(f["seed"], f["test"]["acc"], g["test"]["acc"])
            for f, g in zip(fc, gap, strict=True) if f and g]  # fmt: skip


def _mean_std(stats: dict, spec: str = ".4f") -> str:
    """ "0.8934 ± 0.0035" (the spread only over two seeds or more); ``spec`` for the mean."""
    spread = f" ± {stats['std']:.4f}" if stats["n"] > 1 else ""
    return format(stats["mean"], spec) + spread


def report(result: dict) -> Report:
    """The two heads: parameters, the learning-rate sweep, test accuracy and loss; then the test
    accuracy seed by seed and GAP minus FC."""
    summary = result["summary"]
    heads = summary["heads"]
    both = Table(
        ("", "parameters: body + head", "held-out accuracy by lr", "test accuracy", "test loss"),
        [
            (
                name,
                f"{h['parameters']['body']:,} + {h['parameters']['head']:,}",
                ", ".join(f"{lr}: {acc:.4f}" for lr, acc in h["sweep_val_acc"].items()),
                _mean_std(h["test_acc"]),
                _mean_std(h["test_loss"]),
            )
            for name, h in heads.items()
        ],
        title="the two heads, each at its best learning rate",
        note="held-out accuracy: after the last epoch, first seed; test: mean ± standard "
        "deviation over the seeds.",
    )
    rows = [(f"seed {seed}", f"{fc:.4f}", f"{gap:.4f}", f"{gap - fc:+.4f}")
            for seed, fc, gap in test_accuracies(result)]  # fmt: skip
    rows.append(("mean", f"{heads['FC head']['test_acc']['mean']:.4f}",
                 f"{heads['GAP head']['test_acc']['mean']:.4f}",
                 _mean_std(summary["gap_minus_fc"], "+.4f")))  # fmt: skip
    seeds = Table(
        ("", "FC head", "GAP head", "GAP minus FC"),
        rows,
        title="test accuracy seed by seed (a seed gives both heads the same data order)",
    )
    return Report(heading(result, "FC head vs global average pooling"), [both, seeds],
                  verdict(summary).split("; "))  # fmt: skip


def built_parameters(config: dict) -> dict[str, dict[str, int]]:
    """Per head, the parameters of the body and the head of the network ``build`` makes."""
    built = {}
    for name, settings in HEADS.items():
        parts = parameter_breakdown(build(config, settings["head"]))
        built[name] = {"body": parts["features"], "head": parts["classifier"]}
    return built


def held_out_curves(result: dict) -> dict[str, list[float]]:
    """Per head, the held-out accuracy after each epoch, mean over the seeds at its best learning
    rate (the curves of ``plot_fc_vs_gap``)."""
    curves = {}
    for name, head in result["summary"]["heads"].items():
        runs = [
            result["runs"].get(run_key(name, head["best_lr"], s)) for s in result["config"]["seeds"]
        ]
        histories = [r["history"]["val_acc"] for r in runs if r]
        curves[name] = [sum(epoch) / len(epoch) for epoch in zip(*histories, strict=False)]
    return curves


def claims(result: dict) -> Claims:
    """What notebook 05 says about the result (section 4, "Today one linear layer at the end is
    enough")."""
    summary = result["summary"]
    fc, gap = summary["heads"]["FC head"], summary["heads"]["GAP head"]
    diff, per_seed = summary["gap_minus_fc"], summary["gap_minus_fc_per_seed"]
    fc_acc, gap_acc = fc["test_acc"]["mean"], gap["test_acc"]["mean"]
    fc_head, body = fc["parameters"]["head"], fc["parameters"]["body"]
    stored = {name: {k: h["parameters"][k] for k in ("body", "head")}
              for name, h in summary["heads"].items()}  # fmt: skip
    lrs = result["config"]["lrs"]
    curves = held_out_curves(result)
    gaps = [g - f for f, g in zip(curves["FC head"], curves["GAP head"], strict=False)]
    half = len(gaps) // 2
    largest = max(map(abs, gaps[half:]), default=None)  # None: no curves to compare
    last = [round(curves[h][-1], 2) if curves[h] else None for h in ("FC head", "GAP head")]
    return Claims(
        [
            Claim(
                "the stored runs trained the two networks built above",
                f"body {body:,}; heads {fc_head:,} and {gap['parameters']['head']:,} parameters",
                stored == built_parameters(result["config"]),
            ),
            Claim(
                "in the first three epochs the GAP head is ahead on the held-out images",
                "GAP minus FC " + (" ".join(f"{g:+.3f}" for g in gaps[:3]) or "-"),
                len(gaps) >= 3 and min(gaps[:3]) > 0,
            ),
            Claim(
                "in the second half of training the two curves lie within a point of each other",
                f"largest difference {fmt(largest, '.4f')}",
                len(gaps) >= 2 and largest < 0.01,
            ),
            Claim(
                "both end near 0.90 on the held-out images",
                f"FC head {fmt(last[0], '.2f')}, GAP head {fmt(last[1], '.2f')}",
                last == [0.9, 0.9],
            ),
            Claim(
                "their mean test accuracies are within a point of each other: 0.897 (GAP) and "
                "0.893 (FC)",
                f"GAP head {gap_acc:.4f}, FC head {fc_acc:.4f}",
                abs(diff["mean"]) < 0.01
                and (round(gap_acc, 3), round(fc_acc, 3)) == (0.897, 0.893),
            ),
            Claim(
                "seed by seed, GAP is ahead by 0.3 points on average",
                f"GAP minus FC {diff['mean']:+.4f}",
                round(diff["mean"], 3) == 0.003,
            ),
            Claim(
                'three seeds show "as accurate", not "better": that difference is no larger than '
                "its standard deviation over the seeds",
                f"{diff['mean']:+.4f} ± {diff['std']:.4f}",
                diff["n"] >= 3 and abs(diff["mean"]) <= diff["std"],
            ),
            Claim(
                "in one seed of three the FC head is ahead",
                "GAP minus FC per seed " + " ".join(f"{d:+.4f}" for d in per_seed),
                len(per_seed) == 3 and sum(d < 0 for d in per_seed) == 1,
            ),
            Claim(
                "the GAP network has 6.4x fewer parameters",
                f"{fc['parameters']['total']:,} / {gap['parameters']['total']:,} = "
                f"{summary['fewer_parameters']:.2f}",
                round(summary["fewer_parameters"], 1) == 6.4,
            ),
            Claim(
                "the GAP head has 1,290 parameters, the FC head 3.2 million",
                f"{gap['parameters']['head']:,} and {fc_head:,}",
                gap["parameters"]["head"] == 1290 and round(fc_head / 1e6, 1) == 3.2,
            ),
            Claim(
                "the FC head has more than five times the parameters of the whole convolutional "
                "body",
                f"{fc_head:,} against {body:,}: {fc_head / body:.1f}x",
                fc_head > 5 * body,
            ),
            Claim(
                "both heads did best at the larger learning rate of the sweep, 0.1",
                f"FC head {fc['best_lr']:g}, GAP head {gap['best_lr']:g} of "
                + ", ".join(f"{lr:g}" for lr in lrs),
                fc["best_lr"] == gap["best_lr"] == max(lrs) == 0.1,
            ),
        ]
    )
