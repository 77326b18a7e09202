"""A small member of every family, trained with one equal budget (notebook 09).

Not a claim of one paper but the lecture's story in numbers: from AlexNet to ResNet, what each
design reaches on the same data with the same training, at what size and training cost. Each
family's CPU-sized version (the models of notebook 09; Fashion-MNIST resized to 32x32):

* AlexNet: ``alexnet_small`` at half width (two towers, three FC layers, dropout 0.5) without
  its LRN layers: PyTorch's CPU implementation of LRN made a training step 6.7x slower (330
  against 2,200 images/s in a pilot), which would time PyTorch, not the design;
* VGG: ``vgg11_bn`` at a quarter width with global average pooling instead of the FC layers
  (at 32x32 the last map is 1x1; VGG's FC head is notebook 05's subject);
* GoogLeNet: torchvision's ``googlenet`` layout (batch norm) at a quarter width, no auxiliary
  heads;
* Inception-BN: ``inception_bn`` at a quarter width;
* ResNet: ``resnet18`` at a quarter width.

One recipe for all, so that the budget is equal, not each network's best: all 60,000 training
images, random crops and mirroring, AdamW (lr 2e-3, weight decay 0.05), batch 128, gradients
clipped at norm 2, one epoch of warm-up and cosine decay (``fit``'s defaults), two seeds; each
network keeps its own dropout (AlexNet and VGG's head 0.5, GoogLeNet 0.2, none in Inception-BN
and ResNet). Measured: test accuracy after every epoch, parameters, and the training time per
image on this machine. Differences within the run-to-run noise are reported as ties.
"""

from __future__ import annotations

import torch

from course.experiments.common import (
    every_network_and_seed,
    fashion_mnist_32,
    finished,
    mean_and_spread,
    network_seed_key,
)
from course.models import count_parameters, get_model
from course.training import fit

NAME = "architectures"
CLAIM = (
    "Each later design is more accurate than the ones before it (the lecture's story from 2012 "
    "to 2015, told with ImageNet results); tested on CPU-sized versions trained alike."
)
NETWORKS = {  # name -> (family, model name, keyword arguments)
    "alexnet_small (1/2)": ("AlexNet", "alexnet_small", dict(width=0.5, lrn=False)),
    "vgg11_bn (1/4, GAP)": ("VGG", "vgg11_bn", dict(width=0.25, head="gap")),
    "googlenet (1/4)": ("GoogLeNet", "googlenet", dict(width=0.25, aux_logits=False)),
    "inception_bn (1/4)": ("Inception-BN", "inception_bn", dict(width=0.25)),
    "resnet18 (1/4)": ("ResNet", "resnet18", dict(width=0.25)),
}
NOISE_FLOOR = 0.02  # relative: timing differences below 2x max(this, the measured noise) tie
CONFIGS = {
    "fast": dict(train_images=256, test_images=128, epochs=1, batch_size=64, seeds=[0]),
    "live": dict(train_images=5_000, test_images=2_000, epochs=2, batch_size=128, seeds=[0]),
    "reference": dict(train_images=60_000, test_images=10_000, epochs=8, batch_size=128,
                      seeds=[0, 1]),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def build(name: str):
    _, model, kwargs = NETWORKS[name]
    return get_model(model, num_classes=10, in_channels=1, **kwargs)


run_key = network_seed_key  # "resnet20, seed 0"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return every_network_and_seed(config, NETWORKS)


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["network"])
    history = fit(
        model, data["train"], data["test"], epochs=config["epochs"],
        batch_size=config["batch_size"], lr=2e-3, weight_decay=0.05,
        preprocess=data["preprocess"], seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    return {**settings, "history": finished(history)}


def ms_per_image(run: dict, config: dict) -> float:
    """Training time per image (ms): the epochs' training time over the images they saw."""
    seconds = sum(run["history"]["seconds"])
    return 1000 * seconds / (config["train_images"] * len(run["history"]["epoch"]))


def summarize(result: dict) -> dict:
    """Per network, over seeds: family, parameters, final test accuracy, the last epoch's gain
    in test accuracy, training time per image. The timing noise: the largest relative
    difference between two seeds of one network (at least 2%). Rankings by accuracy and by time,
    where neighbours whose difference is within the noise share a rank (accuracy: within 2x the
    largest seed-to-seed standard deviation of any network; time: within 2x the timing
    noise)."""
    config, runs = result["config"], result["runs"]
    networks = {}
    for name, (family, _, _) in NETWORKS.items():
        chosen = [runs[k] for s in config["seeds"] if (k := run_key(name, s)) in runs]
        networks[name] = {
            "family": family,
            "parameters": count_parameters(build(name)),
            "test_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in chosen]),
            "last_epoch_gain": mean_and_spread(
                [r["history"]["val_acc"][-1] - r["history"]["val_acc"][-2] for r in chosen]
            ) if config["epochs"] > 1 else None,
            "ms_per_image": mean_and_spread([ms_per_image(r, config) for r in chosen]),
        }  # fmt: skip
    times = [[ms_per_image(runs[k], config) for s in config["seeds"]
              if (k := run_key(name, s)) in runs] for name in NETWORKS]  # fmt: skip
    noise = max([(max(t) - min(t)) / min(t) for t in times if len(t) > 1], default=0.0)
    noise = max(noise, NOISE_FLOOR)
    acc_noise = 2 * max(n["test_acc"]["std"] for n in networks.values())
    return {
        "networks": networks,
        "timing_noise": noise,
        "accuracy_ranks": ranks(
            {n: s["test_acc"]["mean"] for n, s in networks.items()},
            lambda a, b: abs(a - b) <= acc_noise,
            best=max,
        ),  # fmt: skip
        "time_ranks": ranks(
            {n: s["ms_per_image"]["mean"] for n, s in networks.items()},
            lambda a, b: abs(a - b) <= 2 * noise * min(a, b),
            best=min,
        ),  # fmt: skip
    }


def ranks(values: dict[str, float], tie, best) -> dict[str, int]:
    """Rank 1 for the best value; a value that ties with the one ranked before it (``tie``)
    shares its rank, so a chain of small steps stays one group only as far as each step."""
    order = sorted(values, key=values.get, reverse=best is max)
    out, rank = {}, 0
    for i, name in enumerate(order):
        if i == 0 or not tie(values[order[i - 1]], values[name]):
            rank = i + 1
        out[name] = rank
    return out


def verdict(summary: dict) -> str:
    """The most accurate and the fastest networks (with ties), from ``summary``."""
    nets = summary["networks"]

    def first(rank_of: dict) -> str:
        return " and ".join(n for n, r in rank_of.items() if r == 1)

    acc = ", ".join(f"{n} {s['test_acc']['mean']:.4f}" for n, s in
                    sorted(nets.items(), key=lambda x: -x[1]["test_acc"]["mean"]))  # fmt: skip
    seeds = next(iter(nets.values()))["test_acc"]["n"]
    ties = (
        "ties: within twice the seed-to-seed noise" if seeds > 1 else "one seed: no noise measured"
    )
    return (
        f"test accuracy: {acc}; the most accurate ({ties}): "
        f"{first(summary['accuracy_ranks'])}; the fastest to train per image (ties: within "
        f"twice {summary['timing_noise']:.0%} timing noise): {first(summary['time_ranks'])}"
    )
