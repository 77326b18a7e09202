"""The one shape of every figure explorer in the course (an ipywidgets panel over a pure plot):

    explorer = ConvExplorer(...)        # render=False builds it without drawing (tests)
    explorer.widget                     # what a notebook displays
    explorer.settings()                 # the controls' values: {name: value}
    explorer.draw(**settings)           # the Figure for any settings, no widget needed
    explorer.describe(**settings)       # the HTML text shown above the picture

Moving a control calls ``refresh``, which draws ``settings()`` into ``picture``. Settings that
cannot be drawn (``draw`` returns None or raises ValueError) hide the picture, so that no broken
image shows, and the readout says why.

The layout holds in every state a control can reach: ``fixed(width)`` gives a box a width that
flex boxes neither shrink nor stretch (``filling(box_px)``: a control as wide as its box),
``row(controls)`` puts controls side by side and moves them to a next line in a narrow
notebook rather than shrinking them, and ``wrapped(html)`` makes a text wrap inside its box
(long words too) instead of widening the box or running out of it.
"""

from __future__ import annotations

import html

import ipywidgets as w
from matplotlib.figure import Figure

from course.viz.figures import figure_png

CONTROL_MARGIN_PX = 2  # ipywidgets' --jp-widgets-margin around each control (not around boxes)
# Text that wraps at the box's edge (long words too) with a line height for reading.
_WRAPPED = "white-space: normal; overflow-wrap: anywhere; line-height: 1.5; margin: 4px 0"


def fixed(width: str, **layout) -> w.Layout:
    """A layout exactly ``width`` wide: a flex box neither shrinks nor stretches it."""
    return w.Layout(width=width, min_width=width, max_width=width, flex="0 0 auto", **layout)


def filling(box_px: int, **layout) -> w.Layout:
    """A control's layout that fills a box ``box_px`` wide: every control has a 2px margin on
    each side (boxes have none), so a control of the box's own width would make it scroll."""
    return fixed(f"{box_px - 2 * CONTROL_MARGIN_PX}px", **layout)


def row(children) -> w.HBox:
    """Controls side by side that move to a next line, rather than shrink, in a narrow notebook."""
    return w.HBox(children, layout=w.Layout(flex_flow="row wrap"))


def wrapped(text_html: str) -> str:
    """``text_html`` in a block that wraps inside its box (empty stays empty)."""
    return f"<div style='{_WRAPPED}'>{text_html}</div>" if text_html else ""


def error_html(title: str, message: str) -> str:
    """A short red title and the (escaped) explanation, e.g. 'Not a valid layer: ...'."""
    return f"<b style='color:#b00'>{html.escape(title)}:</b> {html.escape(message)}"


class Explorer:
    def __init__(self, controls: dict[str, w.ValueWidget], render: bool = True,
                 width: str = "900px", readout_px: int | None = None):  # fmt: skip
        self.controls = controls
        self.render = render
        # readout_px: the box the readout fills (its text wraps there); None: as wide as the widget
        self.readout = w.HTML(layout=filling(readout_px) if readout_px else w.Layout())
        self.picture = w.Image(format="png", layout=w.Layout(max_width=width))

    def settings(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def draw(self, **settings) -> Figure | None:
        raise NotImplementedError

    def describe(self, **settings) -> str:
        return ""

    def refresh(self, change=None) -> None:
        settings = self.settings()
        try:
            self.readout.value = wrapped(self.describe(**settings))
            fig = self.draw(**settings) if self.render else None
        except ValueError as error:  # a state the controls should not reach: say what it is
            self.readout.value = wrapped(error_html("Cannot show this", str(error)))
            fig = None
        if self.render:
            self.show_picture(fig)

    def show_picture(self, fig: Figure | None) -> None:
        """The figure as the picture, or no picture at all (never an empty, broken image)."""
        self.picture.value = figure_png(fig) if fig is not None else b""
        self.picture.layout.display = None if fig is not None else "none"

    def _watch_controls(self) -> None:
        for control in self.controls.values():
            control.observe(self.refresh, names="value")
