"""Pictures of the stored experiment results (``course.experiments``): every curve is the mean
over seeds, with a band from the lowest to the highest seed."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course.viz import style
from course.viz.figures import finish_panels


def _band(ax, curves: list[list[float]], label: str, color: str, style: str = "-",
          every: int = 1, x: list[int] | None = None) -> None:  # fmt: skip
    """Mean of equally long curves, and the band between their minimum and maximum; a curve
    has one value per epoch, drawn at x = epoch x ``every`` (e.g. the steps of an epoch), or
    one value per point of ``x``."""
    values = np.array(curves)
    epochs = every * np.arange(1, values.shape[1] + 1) if x is None else np.array(x)
    ax.plot(epochs, values.mean(axis=0), style, color=color, label=f"{label} (n={len(values)})")
    if len(values) > 1:
        ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2)


def plot_relu_vs_tanh(result: dict):
    """Training error per epoch of ReLU and tanh at each one's best learning rate, one panel
    per initialization; the dashed line is the target error."""
    from course.experiments.relu_vs_tanh import arm_key, run_key

    config, summary = result["config"], result["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8), sharey=True)
    for ax, init in zip(axes, ("2012", "modern"), strict=True):
        for color, activation in ((style.BLUE, "relu"), (style.VERMILLION, "tanh")):
            lr = summary["arms"][arm_key(activation, init)]["best_lr"]
            runs = [result["runs"].get(run_key(activation, init, lr, s)) for s in config["seeds"]]
            curves = [[1 - a for a in r["history"]["train_acc"]] for r in runs
                      if r is not None and not r.get("diverged")]  # fmt: skip
            if curves:
                _band(ax, curves, f"{activation}, lr {lr:g}", color)
        ax.axhline(config["target_error"], color="grey", ls="--", lw=1,
                   label=f"target {config['target_error']:.0%}")  # fmt: skip
        init_name = "N(0, 0.01) (2012)" if init == "2012" else "He / Glorot (modern)"
        ax.set(title=f"initialization {init_name}", xlabel="epoch", ylabel="training error",
               ylim=(0, 1))  # fmt: skip
    return finish_panels(fig, axes, "ReLU vs tanh: training error, mean and range over seeds")


def plot_dropout(result: dict):
    """Test loss (left) and test accuracy (right) per epoch, with and without dropout."""
    from course.experiments.dropout import run_key

    config = result["config"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8))
    for color, p in zip((style.VERMILLION, style.BLUE), config["p"], strict=True):
        runs = [result["runs"][run_key(p, s)] for s in config["seeds"]]
        _band(axes[0], [r["history"]["val_loss"] for r in runs], f"dropout {p:g}", color)
        _band(axes[1], [r["history"]["val_acc"] for r in runs], f"dropout {p:g}", color)
    axes[0].set(xlabel="epoch", ylabel="test loss", title="test loss")
    axes[1].set(xlabel="epoch", ylabel="test accuracy", title="test accuracy")
    return finish_panels(
        fig, axes, f"{config['train_images']:,} training images, {config['epochs']} epochs"
    )


def plot_fc_vs_gap(result: dict):
    """Held-out accuracy per epoch of the two heads at their best learning rates (left) and
    their parameters, body and head (right)."""
    from course.experiments.fc_vs_gap import run_key

    config, heads = result["config"], result["summary"]["heads"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    for color, (name, head) in zip((style.VERMILLION, style.BLUE), heads.items(), strict=True):
        runs = [result["runs"].get(run_key(name, head["best_lr"], s)) for s in config["seeds"]]
        curves = [r["history"]["val_acc"] for r in runs if r is not None]
        _band(axes[0], curves, f"{name}, lr {head['best_lr']:g}", color)
    axes[0].set(xlabel="epoch", ylabel="accuracy on held-out images", title="accuracy")
    names = list(heads)
    body = [heads[n]["parameters"]["body"] / 1e6 for n in names]
    head_params = [heads[n]["parameters"]["head"] / 1e6 for n in names]
    axes[1].bar(names, body, color="grey", label="body (convolutions)")
    axes[1].bar(names, head_params, bottom=body, color=[style.VERMILLION, style.BLUE], label="head")
    axes[1].set(ylabel="parameters (millions)", title="parameters")
    channels, height, width = heads[names[0]]["map_before_head"]
    title = f"VGG-11-BN body, {channels} maps of {height}x{width} before the head"
    return finish_panels(fig, axes, title + ": mean and range over seeds")


def plot_aux_classifiers(result: dict):
    """The main classifier's training loss per epoch (left), held-out accuracy (middle), and
    per block how many times larger the gradient is with the auxiliary losses (right)."""
    from course.experiments.aux_classifiers import ARMS, BLOCKS, chosen_runs

    summary = result["summary"]
    fig, axes = plt.subplots(1, 3, figsize=(style.WIDTH, 3.8))
    for color, arm in zip((style.BLUE, style.VERMILLION), ARMS, strict=True):
        lr, by_seed = chosen_runs(result, arm)
        runs = list(by_seed.values())
        _band(axes[0], [r["history"]["train_loss"] for r in runs], f"{arm}, lr {lr:g}", color)
        _band(axes[1], [r["history"]["val_acc"] for r in runs], f"{arm}, lr {lr:g}", color)
    axes[0].set(xlabel="epoch", ylabel="loss of the main classifier", title="training loss (main)")
    axes[1].set(xlabel="epoch", ylabel="accuracy on held-out images", title="accuracy")
    x = np.arange(len(BLOCKS))
    for offset, (when, color) in zip(
        (-0.2, 0.2), (("start", style.ORANGE), ("end", style.GREEN)), strict=True
    ):
        gain = summary["gradient_gain"][when]
        axes[2].bar(x + offset, [gain[b]["mean"] for b in BLOCKS], width=0.4, color=color,
                    label=f"{when} of training")  # fmt: skip
    axes[2].axhline(1.0, color="grey", lw=1)
    axes[2].set_xticks(x, [b.replace("inception", "") for b in BLOCKS], rotation=90)
    axes[2].set(ylabel="gradient with / without aux losses", title="gradient per block")
    return finish_panels(
        fig,
        axes,
        "GoogLeNet (1/4 width), with and without auxiliary heads: mean and range over seeds",
    )


def plot_degradation(result: dict):
    """Training error (solid) and test error (dashed) per epoch of the 20- and 56-layer
    networks, plain (left) and residual (right), as in the ResNet paper's Figure 6."""
    from course.experiments.degradation import network, run_key

    config = result["config"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8), sharey=True)
    for ax, kind, title in zip(axes, ("plain", "resnet"), ("plain", "residual"), strict=True):
        for color, depth in ((style.BLUE, 20), (style.VERMILLION, 56)):
            runs = [result["runs"][run_key(network(kind, depth), s)] for s in config["seeds"]]
            _band(ax, [[1 - a for a in r["history"]["train_acc"]] for r in runs],
                  f"{kind}{depth} training", color)  # fmt: skip
            _band(ax, [[1 - a for a in r["history"]["val_acc"]] for r in runs],
                  f"{kind}{depth} test", color, "--")  # fmt: skip
        ax.set(title=f"{title} networks", xlabel="epoch", ylabel="error")
    return finish_panels(fig, axes, "training (solid) and test (dashed) error: mean and range "
                         "over seeds")  # fmt: skip


def _accuracy_per_step(ax, runs: list[dict], label: str, color: str, every: int) -> None:
    """Held-out accuracy against optimizer steps (measured after every epoch, or every
    ``val_every`` steps where a run did so): the band of the runs that did not diverge; a
    legend entry alone for a learning rate at which every run diverged."""
    histories = [r["history"] for r in runs if not r.get("diverged")]
    diverged = len(runs) - len(histories)
    note = f", {diverged} diverged" if diverged else ""
    if histories and histories[0].get("val_step"):
        curves = [h["val_step_acc"] for h in histories]
        _band(ax, curves, label + note, color, x=histories[0]["val_step"])
    elif histories:
        _band(ax, [h["val_acc"] for h in histories], label + note, color, every=every)
    else:
        ax.plot([], [], color=color, label=f"{label}: every run diverged")


def plot_batch_norm(result: dict):
    """Held-out accuracy against training steps without (left) and with (right) batch norm, one
    curve per learning rate, and the targets (dotted)."""
    from course.experiments.batch_norm import ARMS, run_key

    config, summary = result["config"], result["summary"]
    every = summary["total_steps"] // config["epochs"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8), sharey=True)
    for ax, arm in zip(axes, ARMS, strict=True):
        for i, lr in enumerate(config["lrs"]):
            runs = [result["runs"][run_key(arm, lr, s)] for s in config["seeds"]]
            _accuracy_per_step(ax, runs, f"lr {lr:g}", style.cycle(i), every)
        for target in config["targets"]:
            ax.axhline(target, color="grey", ls=":", lw=1)
        ax.plot([], [], color="grey", ls=":", lw=1, label="targets")
        ax.set(title=arm, xlabel="optimizer steps", ylabel="held-out accuracy", ylim=(0, 1))
    return finish_panels(fig, axes, "the ten-layer network: held-out accuracy, mean and range "
                         "over seeds")  # fmt: skip


def plot_inception_bn(result: dict):
    """Held-out accuracy against training steps: GoogLeNet's learning-rate sweep (left);
    GoogLeNet at its best rate and Inception-BN at 1x, 5x and 30x it, and at 5x with the BN
    recipe (right), with the targets (dotted)."""
    from course.experiments.inception_bn import GOOGLENET, arms, run_key

    config, summary = result["config"], result["summary"]
    every, first = summary["total_steps"] // config["epochs"], config["seeds"][0]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 3.8), sharey=True)
    for i, lr in enumerate(config["googlenet_lrs"]):
        run = result["runs"][run_key(GOOGLENET, lr, first)]
        _accuracy_per_step(axes[0], [run], f"{GOOGLENET}, lr {lr:g}", style.cycle(i), every)
    axes[0].set(title=f"GoogLeNet's sweep (seed {first})")
    for i, (arm, (network, lr)) in enumerate(arms(summary["googlenet_best_lr"]).items()):
        runs = [result["runs"][run_key(network, lr, s)] for s in config["seeds"]]
        _accuracy_per_step(axes[1], runs, f"{arm}, lr {lr:g}", style.cycle(i), every)
    axes[1].set(title="GoogLeNet's best rate, Inception-BN at multiples of it")
    for ax in axes:
        for target in config["targets"]:
            ax.axhline(target, color="grey", ls=":", lw=1)
        ax.plot([], [], color="grey", ls=":", lw=1, label="targets")
        ax.set(xlabel="optimizer steps", ylabel="held-out accuracy", ylim=(0, 1))
    return finish_panels(fig, axes, "held-out accuracy, mean and range over seeds")


EXTRA_MARKERS = ("*", "P", "D", "X")  # networks of your own, in black beside the families


def plot_architectures(result: dict, extra: dict[str, dict] | None = None):
    """Test accuracy (mean, and the seeds' range as an error bar) against parameters (left,
    log scale) and training time per image (right), one point per network. ``extra`` adds
    networks of your own as stars: name -> {"parameters", "accuracies" (a list: one per seed),
    "ms_per_image"}."""
    from course.experiments.architectures import run_key

    config, summary = result["config"], result["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 4.2), sharey=True)
    points = {}  # name -> (parameters, final test accuracy per seed, ms per image, marker)
    for name, net in summary["networks"].items():
        finals = [result["runs"][run_key(name, s)]["history"]["val_acc"][-1]
                  for s in config["seeds"]]  # fmt: skip
        points[name] = (net["parameters"], finals, net["ms_per_image"]["mean"], "o")
    for i, (name, point) in enumerate((extra or {}).items()):
        missing = {"parameters", "accuracies", "ms_per_image"} - set(point)
        if missing or not point["accuracies"]:
            lacks = sorted(missing) or ["accuracies"]
            raise ValueError(f"extra[{name!r}] needs parameters, accuracies (at least one) and "
                             f"ms_per_image; it lacks {lacks}")  # fmt: skip
        points[name] = (point["parameters"], point["accuracies"], point["ms_per_image"],
                        EXTRA_MARKERS[i % len(EXTRA_MARKERS)])  # fmt: skip
    for name, (parameters, accuracies, ms, marker) in points.items():
        finals = [a * 100 for a in accuracies]
        y = sum(finals) / len(finals)
        error = [[y - min(finals)], [max(finals) - y]]
        color = style.family_color(name) if marker == "o" else style.BLACK
        for ax, x in zip(axes, (parameters / 1e6, ms), strict=True):
            ax.errorbar(x, y, yerr=error, fmt=marker, color=color, capsize=3, label=name,
                        markersize=6 if marker == "o" else 10)  # fmt: skip
    axes[0].set(xlabel="parameters (millions)", ylabel="Fashion-MNIST test accuracy (%)")
    axes[1].set(xlabel="training time per image (ms, on the machine that trained)")
    finish_panels(fig, axes, "one budget for all: accuracy against size and cost")
    axes[0].get_legend().remove()  # one legend, beside the panels, where it hides no point
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig
