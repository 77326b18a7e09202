"""Test-time augmentation with AlexNet's ten views (Section 4.1), measured with a paired test.

``alexnet_small`` (half width, no LRN) trained on random 24x24 crops of the 28x28 images with
mirroring, as AlexNet was trained on 224 crops of 256 images; then each test image is judged
on the centre crop, on the centre crop and its mirror, and on the ten views (corners and centre,
each mirrored; softmax outputs averaged). The three evaluations see the same images, so they
are compared image by image: McNemar's exact test on the images one gets right and the other
wrong. Three seeds (three trained models).
"""

from __future__ import annotations

import math

import torch

from course.experiments.common import fashion_mnist, finished, mean_and_spread
from course.models import get_model
from course.training import Preprocess, evaluate, fit

NAME = "tta"
CLAIM = (
    "Averaging the predictions over ten crops and their mirror images makes a trained network "
    "more accurate than its centre crop alone (AlexNet paper, Section 4.1)."
)
VIEWS = ("none", "flip", "ten_crop")
CONFIGS = {
    "fast": dict(train_images=512, test_images=256, epochs=1, batch_size=128, seeds=[0],
                 width=0.25, crop=24),
    "live": dict(train_images=20_000, test_images=10_000, epochs=2, batch_size=128, seeds=[0],
                 width=0.5, crop=24),
    "reference": dict(train_images=60_000, test_images=10_000, epochs=16, batch_size=128,
                      seeds=[0, 1, 2], width=0.5, crop=24),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist(config)


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(f"seed {s}", dict(seed=s)) for s in config["seeds"]]


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    images = data["train"][0]
    crops = Preprocess.for_images(images[:10_000], crop=config["crop"], flip=True)
    model = get_model("alexnet_small", num_classes=10, in_channels=1, width=config["width"],
                      lrn=False)  # fmt: skip
    history = fit(
        model, data["train"], epochs=config["epochs"], batch_size=config["batch_size"],
        preprocess=crops, seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    results = {v: evaluate(model, data["test"], crops, tta=v, per_image=True) for v in VIEWS}
    pairs = {}
    for a, b in (("none", "flip"), ("none", "ten_crop"), ("flip", "ten_crop")):
        right_a, right_b = results[a]["correct"], results[b]["correct"]
        pairs[f"{a} vs {b}"] = {
            "only_first_right": int((right_a & ~right_b).sum()),
            "only_second_right": int((~right_a & right_b).sum()),
        }
    return {**settings, "history": finished(history),
            "test": {v: {k: results[v][k] for k in ("loss", "acc", "n")} for v in VIEWS},
            "pairs": pairs}  # fmt: skip


def mcnemar_p(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar test: the chance of a split of the discordant images at least
    this uneven if both evaluations were equally good (a fair coin per discordant image)."""
    n, k = only_first + only_second, min(only_first, only_second)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def summarize(result: dict) -> dict:
    """Accuracy per evaluation over seeds, and per pair of evaluations the discordant images
    summed over seeds with McNemar's p-value."""
    runs = list(result["runs"].values())
    accuracy = {v: mean_and_spread([r["test"][v]["acc"] for r in runs]) for v in VIEWS}
    pairs = {}
    for name in runs[0]["pairs"]:
        first = sum(r["pairs"][name]["only_first_right"] for r in runs)
        second = sum(r["pairs"][name]["only_second_right"] for r in runs)
        pairs[name] = {
            "only_first_right": first, "only_second_right": second,
            "net_images": second - first, "p_value": mcnemar_p(first, second),
        }  # fmt: skip
    return {"accuracy": accuracy, "pairs": pairs, "test_images": runs[0]["test"]["none"]["n"]}


def verdict(summary: dict) -> str:
    """The ten views against the centre crop, from ``summary``: the net images gained and how
    likely a split this uneven is by chance."""
    pair = summary["pairs"]["none vs ten_crop"]
    acc = summary["accuracy"]
    images = summary["test_images"] * acc["none"]["n"]
    return (
        f"10 views {acc['ten_crop']['mean']:.4f} vs centre crop {acc['none']['mean']:.4f}: "
        f"{pair['only_second_right']} images right only with the 10 views, "
        f"{pair['only_first_right']} only with the centre crop ({pair['net_images']:+d} of "
        f"{images:,} image evaluations), McNemar p = {pair['p_value']:.2g}"
    )
