"""Pictures for the batch-norm notebook, and the internal-covariate-shift explorer.

    plot_saturating_activations()                 # sigmoid, tanh and their derivatives
    plot_layer_profile({"no BN": p, "BN": q})     # per layer: saturated fraction, gradient size
    explorer = ShiftExplorer(runs, steps)          # runs[run][layer]: (snapshots, values)
    explorer.widget                                # layer Dropdown + step IntSlider -> picture
    explorer.draw("tanh 3", 100)                   # the same picture as a Figure (tests use it)

Plots return a matplotlib Figure; the explorer only wires widgets to ``draw``.
"""

from __future__ import annotations

import io

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import torch

from course.viz.history_plots import finish_panels

SATURATED = 0.1  # a unit is "saturated" where its derivative is below 10% of its maximum


def derivative_ratio(z: torch.Tensor, activation: str) -> torch.Tensor:
    """f'(z) / max f' for 'sigmoid' (max 1/4 at 0) or 'tanh' (max 1 at 0): 1 passes the
    gradient fully, near 0 blocks it."""
    if activation == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s) / 0.25
    if activation == "tanh":
        return 1 - torch.tanh(z) ** 2
    raise ValueError(f"activation must be 'sigmoid' or 'tanh', got {activation!r}")


def plot_saturating_activations(limit: float = 6.0):
    """Sigmoid and tanh (left) and their derivatives (right); the saturated zones shaded."""
    z = torch.linspace(-limit, limit, 601)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(10, 3.4))
    for colour, name, f in (("C0", "sigmoid", torch.sigmoid), ("C1", "tanh", torch.tanh)):
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
        ax_s.plot(layers, p["saturated"], "-o", ms=3, color=f"C{i}", label=label)
        ax_g.semilogy(layers, p["gradient"], "-o", ms=3, color=f"C{i}", label=label)
    ax_s.set(xlabel="layer", ylabel="fraction saturated", ylim=(-0.03, 1.03),
             title="units in the saturated zone")  # fmt: skip
    ax_g.set(xlabel="layer", ylabel="gradient norm", title="gradient reaching each layer")
    return finish_panels(fig, (ax_s, ax_g), title)


class ShiftExplorer:
    """How the distribution of one layer's inputs moves during training, run against run.

    runs: ``{run name: {layer name: tensor (S, K)}}``, K sampled input values of that layer at
        each of the S recorded steps; every run records the same layers at the same steps.
    steps: the S training steps (increasing) at which the snapshots were taken.
    """

    def __init__(self, runs: dict[str, dict[str, torch.Tensor]], steps: list[int],
                 draw: bool = True):  # fmt: skip
        if not runs:
            raise ValueError("runs is empty: record at least one training run")
        steps = [int(s) for s in steps]
        if not steps or any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError(f"steps must be a non-empty increasing list, got {steps}")
        layers = list(next(iter(runs.values())))
        for name, run in runs.items():
            if list(run) != layers:
                raise ValueError(f"run {name!r} records layers {list(run)}, expected {layers}")
            for layer, values in run.items():
                if values.ndim != 2 or values.shape[0] != len(steps):
                    raise ValueError(
                        f"runs[{name!r}][{layer!r}] must have shape ({len(steps)}, K), one row "
                        f"per step; got {tuple(values.shape)}"
                    )
        self.runs, self.steps, self.layers = runs, steps, layers
        self.layer = w.Dropdown(options=layers, value=layers[len(layers) // 2],
                                description="layer")  # fmt: skip
        gap = steps[1] - steps[0] if len(steps) > 1 else 1
        self.step = w.IntSlider(steps[0], steps[0], steps[-1], step=gap, description="step",
                                continuous_update=False)  # fmt: skip
        self.picture = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.draw_enabled = draw
        self.layer.observe(self._redraw, names="value")
        self.step.observe(self._redraw, names="value")
        self.widget = w.VBox([w.HBox([self.layer, self.step]), self.picture])
        self._redraw()

    def index(self, step: int) -> int:
        """The recorded snapshot nearest to training step ``step``."""
        return int(np.argmin([abs(s - step) for s in self.steps]))

    def draw(self, layer: str, step: int):
        """Per run: the histogram at ``step`` over the one at step 0 (left), and the 15th,
        50th and 85th percentiles over training (right), as in the paper's Figure 1."""
        if layer not in self.layers:
            raise ValueError(f"unknown layer {layer!r}; recorded layers: {self.layers}")
        i = self.index(step)
        fig, axes = plt.subplots(len(self.runs), 2, figsize=(10, 2.8 * len(self.runs)),
                                 squeeze=False)  # fmt: skip
        for row, (name, run) in zip(axes, self.runs.items(), strict=True):
            values = run[layer].float()
            low, high = values.quantile(0.005).item(), values.quantile(0.995).item()
            bins = np.linspace(low, high, 60)
            row[0].hist(values[0].numpy(), bins=bins, color="grey", alpha=0.5, label="step 0")
            row[0].hist(values[i].numpy(), bins=bins, color="C0", alpha=0.6,
                        label=f"step {self.steps[i]}")  # fmt: skip
            row[0].set(title=f"{name}: inputs of {layer}", xlabel="value")
            pct = values.quantile(torch.tensor([0.15, 0.5, 0.85]), dim=1)  # (3, S)
            for q, style in zip(pct, (":", "-", ":"), strict=True):
                row[1].plot(self.steps, q.numpy(), style, color="C1")
            row[1].axvline(self.steps[i], color="C0", lw=1)
            row[1].set(title=f"{name}: 15th, 50th, 85th percentile", xlabel="training step")
            for ax in row:
                ax.grid(alpha=0.3)
            row[0].legend(fontsize=8)
        fig.tight_layout()
        return fig

    def _redraw(self, change=None) -> None:
        if not self.draw_enabled:
            return
        fig = self.draw(self.layer.value, self.step.value)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        self.picture.value = buffer.getvalue()
