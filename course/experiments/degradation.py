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
steps, three seeds. The training error is measured as the paper plots it, during training.
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
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.models import get_model
from course.training import evaluate, fit

NAME = "degradation"
CLAIM = (
    "Without shortcuts a 56-layer network trains to a higher training error than a 20-layer "
    "one; with shortcuts the deeper network is the better one (ResNet paper, Figures 1 and 6)."
)
KINDS = {"plain": "plain", "resnet": "residual"}  # how a network's name begins, and its kind
DEPTHS = (20, 56)
PAPER_STEPS = 64_000  # the paper's training on CIFAR-10, batch 128


def network(kind: str, depth: int) -> str:
    """A network's name (its builder in ``course.models``): "plain56", "resnet20"."""
    return f"{kind}{depth}"


NETWORKS = tuple(network(kind, depth) for kind in KINDS for depth in DEPTHS)
CONFIGS = {
    "fast": dict(train_images=512, test_images=256, epochs=1, batch_size=128, seeds=[0],
                 width=0.25),
    "live": dict(train_images=5_000, test_images=2_000, epochs=4, batch_size=128, seeds=[0],
                 width=0.5),
    "reference": dict(train_images=20_000, test_images=10_000, epochs=8, batch_size=128,
                      seeds=[0, 1, 2], width=1.0),
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
    for kind in KINDS:
        shallow, deep = network(kind, DEPTHS[0]), network(kind, DEPTHS[1])
        deeper[kind] = [
            runs[run_key(shallow, s)]["history"]["train_acc"][-1]
            - runs[run_key(deep, s)]["history"]["train_acc"][-1]
            for s in config["seeds"]
            if run_key(shallow, s) in runs and run_key(deep, s) in runs
        ]
    return {"networks": networks, "deeper_minus_shallower_train_error": deeper}


def verdict(summary: dict) -> str:
    """Whether the deeper network ends with a higher training error, per kind, from
    ``summary``."""
    parts = []
    nets = summary["networks"]
    for kind, name in KINDS.items():
        diffs = summary["deeper_minus_shallower_train_error"][kind]
        if not diffs:
            parts.append(f"{name}: not both depths trained")
            continue
        shallow = nets[network(kind, DEPTHS[0])]["train_error"]
        deep = nets[network(kind, DEPTHS[1])]["train_error"]
        if all(d > 0 for d in diffs):
            how = "ends higher"
        elif all(d < 0 for d in diffs):
            how = "ends lower"
        else:
            how = "is not consistently different"
        per_seed = ", ".join(f"{d:+.3f}" for d in diffs)
        parts.append(
            f"{name}: training error {deep['mean']:.3f} with {DEPTHS[1]} layers, "
            f"{shallow['mean']:.3f} with {DEPTHS[0]} ({per_seed} per seed): the deeper network "
            f"{how}"
        )
    return "; ".join(parts)


def planned_runs(config: dict) -> int:
    return len(NETWORKS) * len(config["seeds"])


def share_of_the_paper(n: int) -> str:
    """``n`` steps as a share of the paper's: "2%", "under 1%"."""
    return f"{n / PAPER_STEPS:.0%}" if n >= PAPER_STEPS / 100 else "under 1%"


def steps(config: dict) -> int:
    """Optimizer steps of one run: batches per epoch (the last one partial) times epochs."""
    return -(-config["train_images"] // config["batch_size"]) * config["epochs"]


def training_errors(result: dict, net: str) -> list[list[float]]:
    """Per seed that ran, ``net``'s training error in each epoch, measured during training as
    the paper plots it."""
    runs = [result["runs"].get(run_key(net, s)) for s in result["config"]["seeds"]]
    return [[1 - a for a in r["history"]["train_acc"]] for r in runs if r is not None]


def last_epoch_drops(result: dict, net: str) -> list[float | None]:
    """Per seed, how much ``net``'s training error fell during its last epoch (None with a
    single epoch): is it still improving when training stops?"""
    return [e[-2] - e[-1] if len(e) > 1 else None for e in training_errors(result, net)]


def behind_at_every_epoch(result: dict, kind: str) -> bool:
    """Whether the deeper network of ``kind`` has the higher training error after every epoch,
    in every seed (False when a run is missing)."""
    deep = training_errors(result, network(kind, DEPTHS[1]))
    shallow = training_errors(result, network(kind, DEPTHS[0]))
    seeds = len(result["config"]["seeds"])
    return len(deep) == len(shallow) == seeds and all(
        d > s
        for one, other in zip(deep, shallow, strict=True)
        for d, s in zip(one, other, strict=True)
    )


def report(result: dict) -> Report:
    """Per network, over seeds: the final training error (during the last epoch and again in
    evaluation mode) and test error; per kind and seed, the 56-layer network's training error
    minus the 20-layer one's (in the verdict); per network and seed, the final training error
    and how much it fell in the last epoch."""
    config, summary = result["config"], result["summary"]
    n = steps(config)
    final = Table(
        ("network", "training error", "in evaluation mode", "test error"),
        [
            (net, *(mean_std(s.get(k)) for k in ("train_error", "train_error_eval", "test_error")))
            for net, s in summary["networks"].items()
        ],  # fmt: skip
        title="error after the last epoch, mean ± standard deviation over seeds",
        note=f"{n:,} steps of {config['batch_size']} images ({share_of_the_paper(n)} of the "
        f"paper's {PAPER_STEPS:,}). Training error as the paper plots it, during the last epoch; "
        "'in evaluation mode': measured again on the training images after training.",
    )
    drops = {net: last_epoch_drops(result, net) for net in NETWORKS}
    per_seed = Table(
        ("network", "training error", "fell in the last epoch by"),
        [
            (
                net,
                " ".join(f"{e[-1]:.3f}" for e in training_errors(result, net)),
                " ".join(fmt(d) for d in drops[net]),
            )
            for net in NETWORKS
        ],  # fmt: skip
        title="training error after the last epoch, one number per seed",
    )
    still = [d for ds in drops.values() for d in ds]
    falling = (
        ["Every network's training error was still falling when training stopped: this budget "
         "shows how fast each trains more than where each ends once trained out."]
        if still and None not in still and min(still) > 0 else []
    )  # fmt: skip
    return Report(
        heading(result, "The degradation problem"),
        [final, per_seed],
        [*verdict(summary).split("; "), *falling],
    )


def claims(result: dict) -> Claims:
    """What notebook 08 says about the result (section 1, "The degradation problem")."""
    config, summary = result["config"], result["summary"]
    nets, deeper = summary["networks"], summary["deeper_minus_shallower_train_error"]
    seeds = len(config["seeds"])

    def error(net: str, measured: str = "train_error") -> float | None:
        return (nets.get(net) or {}).get(measured, {}).get("mean")

    def higher(net: str, than: str, measured: str = "train_error") -> tuple[str, bool]:
        a, b = error(net, measured), error(than, measured)
        return f"{fmt(a)} vs {fmt(b)}", a is not None and b is not None and a > b

    def per_seed(values: list[float]) -> str:
        return ", ".join(f"{v:+.3f}" for v in values) + " per seed"

    plain, residual = deeper.get("plain", []), deeper.get("resnet", [])
    drops = last_epoch_drops(result, "plain56")
    falls = [d for net in NETWORKS for d in last_epoch_drops(result, net)]
    n = steps(config)
    halved = error("resnet56") is not None and higher("plain56", "resnet56")[1]
    return Claims(
        [
            Claim(
                "the run is far shorter than the paper's: a few percent of its 64,000 steps",
                f"{n:,} steps, {share_of_the_paper(n)}",
                n <= 0.05 * PAPER_STEPS,
            ),
            Claim(
                "without shortcuts the 56-layer network ends with a clearly higher training error "
                "than the 20-layer one (by over 3 points), in every seed",
                per_seed(plain),
                len(plain) == seeds and min(plain) > 0.03,
            ),
            Claim(
                "without shortcuts the 56-layer network is behind the 20-layer one after every "
                "epoch, in every seed",
                f"{config['epochs']} epochs, {seeds} seeds",
                behind_at_every_epoch(result, "plain"),
            ),
            Claim(
                "the plain 56-layer network is still improving when training stops: its training "
                "error fell by about a point in the last epoch, in every seed",
                "by " + ", ".join(fmt(d) for d in drops),
                len(drops) == seeds and None not in drops and min(drops) > 0.005,
            ),
            Claim(
                "every network's training error was still falling in the last epoch",
                f"least fall {fmt(min(falls) if falls and None not in falls else None)}",
                len(falls) == len(NETWORKS) * seeds and None not in falls and min(falls) > 0,
            ),
            Claim(
                "the plain 56-layer network's test error is higher too: not over-fitting",
                *higher("plain56", "plain20", "test_error"),
            ),
            Claim(
                "measured again in evaluation mode after training, the plain 56-layer network's "
                "training error is higher too",
                *higher("plain56", "plain20", "train_error_eval"),
            ),
            Claim(
                "with shortcuts the 56-layer network ends within 2.5 points of the 20-layer one "
                "in every seed, below it in two of the three: no consistent difference",
                per_seed(residual),
                len(residual) == seeds == 3
                and all(abs(d) < 0.025 for d in residual)
                and sum(d < 0 for d in residual) == 2,
            ),
            Claim(
                "the residual 56-layer network ends at less than half the plain 56-layer "
                "network's training error",
                f"{fmt(error('resnet56'))} vs {fmt(error('plain56'))}",
                halved and error("resnet56") < error("plain56") / 2,
            ),
        ]
    )
