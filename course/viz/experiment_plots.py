"""Pictures of the stored experiment results (``course.experiments``): every curve is the mean
over seeds, with a band from the lowest to the highest seed."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course.viz.figures import finish_panels


def _band(ax, curves: list[list[float]], label: str, color: str, style: str = "-") -> None:
    """Mean of equally long curves, and the band between their minimum and maximum."""
    values = np.array(curves)
    epochs = np.arange(1, values.shape[1] + 1)
    ax.plot(epochs, values.mean(axis=0), style, color=color, label=f"{label} (n={len(values)})")
    if len(values) > 1:
        ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2)


def plot_relu_vs_tanh(result: dict):
    """Training error per epoch of ReLU and tanh at each one's best learning rate, one panel
    per initialization; the dashed line is the target error."""
    from course.experiments.relu_vs_tanh import run_key

    config, summary = result["config"], result["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, init in zip(axes, ("2012", "modern"), strict=True):
        for color, activation in (("C0", "relu"), ("C3", "tanh")):
            lr = summary["arms"][f"{activation}, {init} init"]["best_lr"]
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
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for color, p in zip(("C3", "C0"), config["p"], strict=True):
        runs = [result["runs"][run_key(p, s)] for s in config["seeds"]]
        _band(axes[0], [r["history"]["val_loss"] for r in runs], f"dropout {p:g}", color)
        _band(axes[1], [r["history"]["val_acc"] for r in runs], f"dropout {p:g}", color)
    axes[0].set(xlabel="epoch", ylabel="test loss", title="test loss")
    axes[1].set(xlabel="epoch", ylabel="test accuracy", title="test accuracy")
    return finish_panels(
        fig, axes, f"{config['train_images']:,} training images, {config['epochs']} epochs"
    )
