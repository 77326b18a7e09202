"""The internal-covariate-shift explorer: pick a layer and a training step, see how that layer's
inputs moved, run against run (``course.viz.batchnorm_plots.plot_input_shift``).

    explorer = ShiftExplorer(runs, steps)      # runs[run][layer]: tensor (snapshots, values)
    explorer.widget                            # layer Dropdown + step IntSlider -> picture
    explorer.draw(layer="tanh 3", step=100)    # the same picture as a Figure
"""

from __future__ import annotations

import ipywidgets as w
import torch

from course.viz.batchnorm_plots import plot_input_shift
from course.viz.explorer import Explorer, filling, row

CONTROL_PX = 300  # each of the two controls


class ShiftExplorer(Explorer):
    """runs: ``{run name: {layer name: tensor (S, K)}}``, K sampled input values of that layer at
    each of the S recorded steps; every run records the same layers at the same steps.
    steps: the S training steps (increasing) at which the snapshots were taken."""

    def __init__(self, runs: dict[str, dict[str, torch.Tensor]], steps: list[int],
                 render: bool = True):  # fmt: skip
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
        gap = steps[1] - steps[0] if len(steps) > 1 else 1
        self.layer = w.Dropdown(options=layers, value=layers[len(layers) // 2], description="layer",
                                layout=filling(CONTROL_PX))  # fmt: skip
        self.step = w.IntSlider(steps[0], steps[0], steps[-1], step=gap, description="step",
                                continuous_update=False, layout=filling(CONTROL_PX))  # fmt: skip
        super().__init__({"layer": self.layer, "step": self.step}, render)
        self.widget = w.VBox([row([self.layer, self.step]), self.picture])
        self._watch_controls()
        self.refresh()

    def draw(self, layer: str, step: int):
        return plot_input_shift(self.runs, self.steps, layer, step)
