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
from course.experiments.reporting import Claim, Claims, Report, Table, heading, mean_std
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


def run_key(seed: int) -> str:
    return f"seed {seed}"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(run_key(s), dict(seed=s)) for s in config["seeds"]]


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


def planned_runs(config: dict) -> int:
    return len(config["seeds"])


PAIRS = ("none vs flip", "none vs ten_crop", "flip vs ten_crop")


def summarize(result: dict) -> dict:
    """Accuracy per evaluation over seeds; per seed, each pair of evaluations compared on that
    seed's test images (the images one gets right and the other wrong) with McNemar's p-value.
    Each seed's test is over independent images; the seeds see the same images, so their
    counts are not pooled into one test."""
    runs = [result["runs"][key] for key, _ in plan(result["config"], {}) if key in result["runs"]]
    accuracy = {v: mean_and_spread([r["test"][v]["acc"] for r in runs]) for v in VIEWS}
    per_seed = []
    for r in runs:
        pairs = {}
        for name in PAIRS:
            first, second = (
                r["pairs"][name]["only_first_right"],
                r["pairs"][name]["only_second_right"],
            )
            pairs[name] = {"only_first_right": first, "only_second_right": second,
                           "p_value": mcnemar_p(first, second)}  # fmt: skip
        per_seed.append({"seed": r["seed"], "accuracy": {v: r["test"][v]["acc"] for v in VIEWS},
                         "pairs": pairs})  # fmt: skip
    gains = [s["accuracy"]["ten_crop"] - s["accuracy"]["none"] for s in per_seed]
    return {"accuracy": accuracy, "per_seed": per_seed, "ten_crop_gain": mean_and_spread(gains),
            "test_images": runs[0]["test"]["none"]["n"]}  # fmt: skip


def verdict(summary: dict) -> str:
    """The ten views against the centre crop, from ``summary``: the gain per seed and the
    largest of the seeds' McNemar p-values."""
    acc, seeds = summary["accuracy"], summary["per_seed"]
    gains = [s["accuracy"]["ten_crop"] - s["accuracy"]["none"] for s in seeds]
    worst_p = max(s["pairs"]["none vs ten_crop"]["p_value"] for s in seeds)
    n = len(seeds)
    return (
        f"10 views {acc['ten_crop']['mean']:.4f} vs centre crop {acc['none']['mean']:.4f} "
        f"(mean of {n} seed{'s' if n != 1 else ''}): ahead in {sum(g > 0 for g in gains)} of {n} "
        f"seeds, by {', '.join(f'{g:+.4f}' for g in gains)}; McNemar's test on each seed's "
        f"{summary['test_images']:,} test images: p at most {worst_p:.1g}"
    )


def report(result: dict) -> Report:
    """Per seed: the accuracy of each evaluation, and the ten views against the centre crop image
    by image (the images only one of the two gets right, McNemar's p-value); the means."""
    summary = result["summary"]
    names = {"none": "centre crop", "flip": "with mirror", "ten_crop": "10 views"}
    rows = []
    for s in summary["per_seed"]:
        pair = s["pairs"]["none vs ten_crop"]
        rows.append((f"seed {s['seed']}", *(f"{s['accuracy'][v]:.4f}" for v in VIEWS),
                     pair["only_first_right"], pair["only_second_right"],
                     f"{pair['p_value']:.1g}"))  # fmt: skip
    rows.append(("mean ± sd", *(mean_std(summary["accuracy"][v], ".4f") for v in VIEWS),
                 "", "", ""))  # fmt: skip
    table = Table(
        ("", *names.values(), "only centre", "only 10 views", "p"),
        rows,
        title=f"test accuracy on {summary['test_images']:,} images; the images only the centre "
        f"crop or only the 10 views get right",
        note="p: McNemar's test, how likely a split of those images at least this uneven would "
        "be if the ten views were no better than the centre crop (one test per seed).",
    )
    return Report(heading(result, "Ten-view testing"), [table], verdict(summary).split("; "))


def claims(result: dict) -> Claims:
    """What notebook 04 says about the result (section "Test-time augmentation")."""
    summary = result["summary"]
    acc, seeds = summary["accuracy"], summary["per_seed"]
    gains = [s["accuracy"]["ten_crop"] - s["accuracy"]["none"] for s in seeds]
    p_values = [s["pairs"]["none vs ten_crop"]["p_value"] for s in seeds]
    mirror = acc["flip"]["mean"] - acc["none"]["mean"]
    gain = summary["ten_crop_gain"]["mean"]
    return Claims(
        [
            Claim(
                "the ten views get more test images right than the centre crop in every seed",
                "by " + ", ".join(f"{g:+.4f}" for g in gains),
                len(seeds) >= 3 and min(gains) > 0,
            ),
            Claim(
                "about one point of accuracy on average (between half a point and two)",
                f"{gain:+.4f}",
                0.005 < gain < 0.02,
            ),
            Claim(
                "in each seed, a split this uneven would almost never happen by chance "
                "(McNemar p < 0.001)",
                "p " + ", ".join(f"{p:.1g}" for p in p_values),
                bool(p_values) and max(p_values) < 0.001,
            ),
            Claim(
                "the mirror alone brings under a third of the gain",
                f"{mirror:+.4f} of {gain:+.4f}",
                mirror < gain / 3,
            ),
            Claim(
                "on the centre crop alone the networks come close to 90% (above 88.5%), and the "
                "ten views take them past it",
                f"{acc['none']['mean']:.4f} -> {acc['ten_crop']['mean']:.4f}",
                0.885 < acc["none"]["mean"] < 0.9 < acc["ten_crop"]["mean"],
            ),
        ]
    )
