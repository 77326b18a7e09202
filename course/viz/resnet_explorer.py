"""Pick a depth; see the gradient norms per layer of the plain and the residual network of that
depth at initialization, on the same batch (``course.viz.resnet_plots.plot_gradient_norms``).

    explorer = GradientNormExplorer(images, labels)
    explorer.widget                     # display it in JupyterLab
    explorer.draw(depth=56)             # the same picture as a Figure
"""

from __future__ import annotations

import ipywidgets as w

from course.measure.gradients import layer_gradient_norms
from course.models import get_model
from course.viz.explorer import Explorer, filling
from course.viz.resnet_plots import plot_gradient_norms

CONTROL_PX = 300  # the depth slider


class GradientNormExplorer(Explorer):
    DEPTHS = (20, 32, 44, 56, 110)

    def __init__(self, images, labels, depth: int = 56, seed: int = 0, model_kwargs=None,
                 render: bool = True):  # fmt: skip
        if depth not in self.DEPTHS:
            raise ValueError(f"depth must be one of {self.DEPTHS}, got {depth!r}")
        self.images, self.labels, self.seed = images, labels, seed
        self.model_kwargs = dict(model_kwargs or {})
        self._cache: dict[int, dict[str, list[float]]] = {}
        self.depth = w.SelectionSlider(options=list(self.DEPTHS), value=depth,
                                       description="depth", continuous_update=False,
                                       layout=filling(CONTROL_PX))  # fmt: skip
        super().__init__({"depth": self.depth}, render, width="760px")
        self.widget = w.VBox([self.depth, self.readout, self.picture])
        for other in self.DEPTHS:  # all at once, so that moving the slider answers at once
            self.norms(other)
        self._watch_controls()
        self.refresh()

    def norms(self, depth: int) -> dict[str, list[float]]:
        """{'plain<depth>': norms, 'resnet<depth>': norms}, same seed and batch (cached)."""
        if depth not in self._cache:
            import torch  # local: only this method needs the generator

            curves = {}
            for kind in ("plain", "resnet"):
                torch.manual_seed(self.seed)
                model = get_model(f"{kind}{depth}", **self.model_kwargs)
                curves[f"{kind}{depth}"] = [n for _, n in layer_gradient_norms(
                    model, self.images, self.labels)]  # fmt: skip
            self._cache[depth] = curves
        return self._cache[depth]

    def draw(self, depth: int):
        curves = self.norms(depth)
        return plot_gradient_norms(curves, title=f"gradient norms at initialization, depth {depth}")

    def describe(self, depth: int) -> str:
        parts = []
        for name, norms in self.norms(depth).items():
            parts.append(f"<b>{name}</b>: first conv / classifier = "
                         f"<code>{norms[0] / norms[-1]:.3g}</code>")  # fmt: skip
        return " &nbsp; ".join(parts)
