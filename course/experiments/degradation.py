"""The degradation problem (ResNet paper, Section 4.2, Figures 1 and 6).

The paper: on CIFAR-10 a 56-layer plain network has a higher *training* error than a 20-layer
one, while residual networks of the same depths get better with depth. Its CIFAR networks, kept
here at full width (16, 32, 64 channels): a 3x3 convolution, three stages of ``n`` basic blocks,
global average pooling and one linear layer (``6n + 2`` layers: 20 and 56); the plain ones are the
same layers without shortcuts (option A shortcuts: the same parameters). Its recipe: SGD with
momentum 0.9, learning rate 0.1, weight decay 1e-4, batch 128, He initialization, no gradient
clipping.

Cut to fit a CPU (the paper: 64,000 steps on 50,000 images with crops and mirroring): 20,000
Fashion-MNIST images, no augmentation (the question is how well each network fits its training
set), ``fit``'s one-epoch warm-up and cosine decay instead of dividing by 10 at 32k and 48k
steps, two seeds. The training error is measured as the paper plots it, during training.
"""

from __future__ import annotations

import torch

from course.experiments.common import (
    every_network_and_seed,
    fashion_mnist,
    finished,
    mean_and_spread,
    network_seed_key,
)
from course.models import get_model
from course.training import evaluate, fit

NAME = "degradation"
CLAIM = (
    "Without shortcuts a 56-layer network trains to a higher training error than a 20-layer "
    "one; with shortcuts the deeper network is the better one (ResNet paper, Figures 1 and 6)."
)
NETWORKS = ("plain20", "plain56", "resnet20", "resnet56")
CONFIGS = {
    "fast": dict(train_images=512, test_images=256, epochs=1, batch_size=128, seeds=[0],
                 width=0.25),
    "live": dict(train_images=5_000, test_images=2_000, epochs=4, batch_size=128, seeds=[0],
                 width=0.5),
    "reference": dict(train_images=20_000, test_images=10_000, epochs=8, batch_size=128,
                      seeds=[0, 1], width=1.0),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist(config)


run_key = network_seed_key  # "resnet20, seed 0"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return every_network_and_seed(config, NETWORKS)


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = get_model(settings["network"], num_classes=10, in_channels=1, width=config["width"])
    history = fit(
        model, data["train"], data["test"], epochs=config["epochs"],
        batch_size=config["batch_size"], optimizer="sgd", lr=0.1, weight_decay=1e-4,
        max_grad_norm=None, augment=False, seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    train_eval = evaluate(model, data["train"], history.preprocess)
    return {**settings, "history": finished(history),
            "train_eval": {k: train_eval[k] for k in ("loss", "acc")}}  # fmt: skip


def summarize(result: dict) -> dict:
    """Per network over seeds: the final training error (during the last epoch, as the paper
    plots it, and in evaluation mode after training) and test error. Per kind (plain,
    residual) and seed: the 56-layer network's final training error minus the 20-layer one's."""
    config, runs = result["config"], result["runs"]
    networks, deeper = {}, {}
    for net in NETWORKS:
        chosen = [runs[run_key(net, s)] for s in config["seeds"] if run_key(net, s) in runs]
        networks[net] = {
            "train_error": mean_and_spread([1 - r["history"]["train_acc"][-1] for r in chosen]),
            "train_error_eval": mean_and_spread([1 - r["train_eval"]["acc"] for r in chosen]),
            "test_error": mean_and_spread([1 - r["history"]["val_acc"][-1] for r in chosen]),
        }
    for kind in ("plain", "resnet"):
        deeper[kind] = [
            runs[run_key(f"{kind}20", s)]["history"]["train_acc"][-1]
            - runs[run_key(f"{kind}56", s)]["history"]["train_acc"][-1]
            for s in config["seeds"]
            if run_key(f"{kind}20", s) in runs and run_key(f"{kind}56", s) in runs
        ]
    return {"networks": networks, "deeper_minus_shallower_train_error": deeper}


def verdict(summary: dict) -> str:
    """Whether the deeper network trains worse, per kind, from ``summary``."""
    parts = []
    for kind, name in (("plain", "plain"), ("resnet", "residual")):
        diffs = summary["deeper_minus_shallower_train_error"][kind]
        nets = summary["networks"]
        shallow, deep = nets[f"{kind}20"]["train_error"], nets[f"{kind}56"]["train_error"]
        if all(d > 0 for d in diffs):
            how = "trains worse"
        elif all(d < 0 for d in diffs):
            how = "trains better"
        else:
            how = "is not consistently different"
        per_seed = ", ".join(f"{d:+.3f}" for d in diffs)
        parts.append(
            f"{name}: 56 layers {deep['mean']:.3f} vs 20 layers {shallow['mean']:.3f} training "
            f"error ({per_seed} per seed): the deeper one {how}"
        )
    return "; ".join(parts)
