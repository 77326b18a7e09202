"""Pictures for the batch-norm notebook (each returns a matplotlib Figure).

    plot_saturating_activations()                 # sigmoid, tanh and their derivatives
    plot_layer_profile({"no BN": p, "BN": q})     # per layer: saturated fraction, gradient size
    plot_input_shift(runs, steps, "tanh 3", 100)  # one layer's inputs during training

The explorer over ``plot_input_shift`` is ``course.viz.batchnorm_explorer.ShiftExplorer``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course.measure.activations import SATURATED, derivative_ratio
from course.viz import style
from course.viz.figures import finish_panels


def plot_saturating_activations(limit: float = 6.0):
    """Sigmoid and tanh (left) and their derivatives (right); the saturated zones shaded."""
    z = torch.linspace(-limit, limit, 601)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(10, 3.4))
    for colour, name, f in (
        (style.BLUE, "sigmoid", torch.sigmoid),
        (style.ORANGE, "tanh", torch.tanh),
    ):
        ax_f.plot(z, f(z), color=colour, label=name)
        peak = 0.25 if name == "sigmoid" else 1.0
        ratio = derivative_ratio(z, name)
        ax_d.plot(z, ratio * peak, color=colour, label=f"{name}'  (max {peak:g})")
        ax_d.fill_between(z, 0, peak, where=(ratio < SATURATED).numpy(), color=colour, alpha=0.08)
    ax_f.set(title="activation", xlabel="input z")
    ax_d.set(title=f"derivative (shaded: below {SATURATED:.0%} of its maximum)", xlabel="input z")
    for ax in (ax_f, ax_d):
        ax.axvline(0, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_layer_profile(profiles: dict[str, dict[str, list[float]]], title: str | None = None):
    """Per layer (1 = nearest the input): the fraction of saturated units and the size of the
    gradient reaching that layer's activation inputs (log scale).

    ``profiles[label]`` has equal-length lists ``"saturated"`` and ``"gradient"``.
    """
    if not profiles:
        raise ValueError("plot_layer_profile needs at least one profile")
    fig, (ax_s, ax_g) = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, (label, p) in enumerate(profiles.items()):
        if len(p["saturated"]) != len(p["gradient"]):
            raise ValueError(f"profile {label!r}: 'saturated' and 'gradient' differ in length")
        layers = np.arange(1, len(p["saturated"]) + 1)
        ax_s.plot(layers, p["saturated"], "-o", ms=3, color=style.cycle(i), label=label)
        ax_g.semilogy(layers, p["gradient"], "-o", ms=3, color=style.cycle(i), label=label)
    ax_s.set(xlabel="layer", ylabel="fraction saturated", ylim=(-0.03, 1.03),
             title="units in the saturated zone")  # fmt: skip
    ax_g.set(xlabel="layer", ylabel="gradient norm", title="gradient reaching each layer")
    return finish_panels(fig, (ax_s, ax_g), title)


def plot_input_shift(runs: dict[str, dict[str, torch.Tensor]], steps: list[int], layer: str,
                     step: int):  # fmt: skip
    """How the distribution of ``layer``'s inputs moved during training, one row per run: the
    histogram at the recorded step nearest ``step`` over the one at the first step (left), and
    the 15th, 50th and 85th percentiles over training (right), as in the BN paper's Figure 1.

    runs: ``{run name: {layer name: tensor (S, K)}}``, K sampled input values at each of the
    S recorded ``steps``."""
    layers = list(next(iter(runs.values())))
    if layer not in layers:
        raise ValueError(f"unknown layer {layer!r}; recorded layers: {layers}")
    i = int(np.argmin([abs(s - step) for s in steps]))
    fig, axes = plt.subplots(len(runs), 2, figsize=(10, 2.8 * len(runs)), squeeze=False)
    for row, (name, run) in zip(axes, runs.items(), strict=True):
        values = run[layer].float()
        low, high = values.quantile(0.005).item(), values.quantile(0.995).item()
        bins = np.linspace(low, high, 60)
        row[0].hist(values[0].numpy(), bins=bins, color="grey", alpha=0.5, label=f"step {steps[0]}")
        row[0].hist(
            values[i].numpy(), bins=bins, color=style.BLUE, alpha=0.6, label=f"step {steps[i]}"
        )
        row[0].set(title=f"{name}: inputs of {layer}", xlabel="value")
        pct = values.quantile(torch.tensor([0.15, 0.5, 0.85]), dim=1)  # (3, S)
        for q, line in zip(pct, (":", "-", ":"), strict=True):
            row[1].plot(steps, q.numpy(), line, color=style.ORANGE)
        row[1].axvline(steps[i], color=style.BLUE, lw=1)
        row[1].set(title=f"{name}: 15th, 50th, 85th percentile", xlabel="training step")
        for ax in row:
            ax.grid(alpha=0.3)
        row[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
