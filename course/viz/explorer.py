"""The one shape of every figure explorer in the course (an ipywidgets panel over a pure plot):

    explorer = ConvExplorer(...)        # render=False builds it without drawing (tests)
    explorer.widget                     # what a notebook displays
    explorer.settings()                 # the controls' values: {name: value}
    explorer.draw(**settings)           # the Figure for any settings, no widget needed
    explorer.describe(**settings)       # the HTML text shown above the picture

Moving a control calls ``refresh``, which draws ``settings()`` into ``picture``.
"""

from __future__ import annotations

import ipywidgets as w
from matplotlib.figure import Figure

from course.viz.figures import figure_png


class Explorer:
    def __init__(self, controls: dict[str, w.ValueWidget], render: bool = True,
                 width: str = "900px"):  # fmt: skip
        self.controls = controls
        self.render = render
        self.readout = w.HTML()
        self.picture = w.Image(format="png", layout=w.Layout(max_width=width))

    def settings(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def draw(self, **settings) -> Figure | None:
        raise NotImplementedError

    def describe(self, **settings) -> str:
        return ""

    def refresh(self, change=None) -> None:
        settings = self.settings()
        self.readout.value = self.describe(**settings)
        if self.render:
            fig = self.draw(**settings)
            self.picture.value = figure_png(fig) if fig is not None else b""

    def _watch_controls(self) -> None:
        for control in self.controls.values():
            control.observe(self.refresh, names="value")
