"""Does a figure read cleanly? Every drawn text, diagram box and arrow, measured in pixels.

    find_collisions(fig)      # [] when nothing collides, else one Collision per problem
    check_figure(fig, "name") # the same, raised as one ValueError that lists them all

What counts as a problem (measured on the rendered figure, in window pixels):
- two texts overlap (tick labels, titles, legends, annotations, box labels: every drawn text);
- a text is cut off at the figure's edge (what ``savefig`` without ``bbox_inches="tight"``,
  and so every explorer's picture, would lose);
- two diagram boxes (``FancyBboxPatch``, ``Circle``) overlap;
- a text sits partly on a diagram box, or sticks out of the box it labels;
- an arrow runs through a text;
- a text is smaller than ``course.viz.style.MIN_FONT`` points, or the figure is wider than
  ``course.viz.style.WIDTH`` inches (JupyterLab would shrink it, and its text with it).
Touching is not overlapping: a pixel of slack (``tolerance``) is allowed everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis, XAxis
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.spines import Spine
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from course.viz.style import MIN_FONT, WIDTH


@dataclass(frozen=True)
class Collision:
    problem: str  # e.g. "texts overlap"
    what: str  # the artists, as a reader would name them

    def __str__(self) -> str:
        return f"{self.problem}: {self.what}"


def find_collisions(fig: Figure, tolerance: float = 1.0) -> list[Collision]:
    """Every collision in ``fig`` (drawn first, so extents are the real ones)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts, boxes, arrows = _drawn(fig)
    text_boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    outlines = {id(t): _outline(t, box, renderer) for t, box in text_boxes}
    shapes = [(b, b.get_window_extent(renderer)) for b in boxes]
    found = []
    width = fig.get_figwidth()
    if width > WIDTH + 0.01:
        found.append(Collision("figure wider than the notebook column", f"{width:.2f} in"))

    for i, (a, box_a) in enumerate(text_boxes):
        if a.get_fontsize() < MIN_FONT:
            found.append(Collision("text too small", f"{_name(a)} at {a.get_fontsize():g} pt"))
        if not _inside(box_a, fig.bbox, tolerance):
            found.append(Collision("text cut off at the figure's edge", _name(a)))
        for b, box_b in text_boxes[i + 1 :]:
            if _overlap(box_a, box_b, tolerance) and _polygons_overlap(
                outlines[id(a)], outlines[id(b)], tolerance
            ):
                found.append(Collision("texts overlap", f"{_name(a)} and {_name(b)}"))
        for shape, extent in shapes:
            if extent.contains(*box_a.get_points().mean(axis=0)):  # the box's own label
                if not _inside(box_a, extent, tolerance):
                    found.append(Collision("text sticks out of its box", _name(a)))
            elif _overlap(box_a, extent, tolerance):
                found.append(Collision("text overlaps a box", f"{_name(a)} and {_name(shape)}"))
        for owner, arrow in arrows:
            if owner is not a and _crosses(arrow, box_a, tolerance):
                found.append(Collision("an arrow runs through a text", _name(a)))

    for i, (a, extent_a) in enumerate(shapes):
        for b, extent_b in shapes[i + 1 :]:
            if _overlap(extent_a, extent_b, tolerance):
                found.append(Collision("boxes overlap", f"{_name(a)} and {_name(b)}"))
    return found


def check_figure(fig: Figure, name: str = "figure", tolerance: float = 1.0) -> None:
    """Raise ValueError listing every collision in ``fig``; return None if there is none."""
    found = find_collisions(fig, tolerance)
    if found:
        lines = "\n  ".join(str(c) for c in found)
        raise ValueError(f"{name}: {len(found)} layout problem(s):\n  {lines}")


# --- what was drawn ------------------------------------------------------------------------


def _drawn(fig: Figure):
    """Visible texts (with something in them), diagram boxes and arrows, as drawn."""
    texts, boxes, arrows = [], [], []

    def visit(artist, in_legend=False):
        if not artist.get_visible():
            return
        if isinstance(artist, Text):
            if artist.get_text().strip():
                texts.append(artist)
            if isinstance(artist, Annotation) and artist.arrow_patch is not None:
                arrows.append((artist, artist.arrow_patch))
            return
        if isinstance(artist, (FancyBboxPatch, Circle)) and not in_legend:
            boxes.append(artist)
        elif isinstance(artist, FancyArrowPatch):
            arrows.append((None, artist))
        if isinstance(artist, Axis):
            for label in _drawn_tick_labels(artist):
                texts.append(label)
            for child in (artist.label, artist.offsetText):
                visit(child)
            return
        for child in artist.get_children():
            if isinstance(artist, Axes) and not artist.axison and isinstance(child, (Axis, Spine)):
                continue  # ax.axis("off") hides these without making them invisible
            visit(child, in_legend or isinstance(artist, Legend))

    visit(fig)
    return texts, boxes, arrows


def _drawn_tick_labels(axis: Axis) -> list[Text]:
    """The tick labels matplotlib draws: non-empty, inside the view limits."""
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(1.0, abs(high - low))
    labels = []
    for label in axis.get_ticklabels(minor=False) + axis.get_ticklabels(minor=True):
        where = label.get_position()[0 if isinstance(axis, XAxis) else 1]
        if (
            label.get_visible()
            and label.get_text().strip()
            and low - slack <= where <= high + slack
        ):
            labels.append(label)
    return labels


# --- geometry ------------------------------------------------------------------------------


def _overlap(a: Bbox, b: Bbox, tolerance: float) -> bool:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > tolerance and height > tolerance


def _inside(inner: Bbox, outer: Bbox, tolerance: float) -> bool:
    return (inner.x0 >= outer.x0 - tolerance and inner.y0 >= outer.y0 - tolerance
            and inner.x1 <= outer.x1 + tolerance and inner.y1 <= outer.y1 + tolerance)  # fmt: skip


def _outline(text: Text, box: Bbox, renderer) -> np.ndarray:
    """The four corners of a text's own rectangle, turned with the text (its window extent is
    the upright box around the turned one, which overlaps its neighbours too readily)."""
    angle = text.get_rotation()
    if angle % 180 == 0:
        return box.corners()
    text.set_rotation(0)
    upright = text.get_window_extent(renderer)
    text.set_rotation(angle)
    half = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1]]) * [upright.width / 2, upright.height / 2]
    turn = np.radians(angle)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return half @ rotation.T + box.get_points().mean(axis=0)


def _polygons_overlap(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    """Convex polygons (corners in order) overlap by more than ``tolerance`` pixels along every
    separating direction (the separating-axis test)."""
    for polygon in (a, b):
        edges = np.roll(polygon, -1, axis=0) - polygon
        for nx, ny in np.stack([-edges[:, 1], edges[:, 0]], axis=1):
            length = np.hypot(nx, ny)
            if length == 0:
                continue
            axis = np.array([nx, ny]) / length
            pa, pb = a @ axis, b @ axis
            if min(pa.max(), pb.max()) - max(pa.min(), pb.min()) <= tolerance:
                return False
    return True


def _crosses(arrow: FancyArrowPatch, box: Bbox, tolerance: float) -> bool:
    path = arrow.get_transform().transform_path(arrow.get_path())  # window pixels
    shrunk = Bbox.from_extents(box.x0 + tolerance, box.y0 + tolerance,
                               box.x1 - tolerance, box.y1 - tolerance)  # fmt: skip
    return shrunk.width > 0 and shrunk.height > 0 and path.intersects_bbox(shrunk, filled=False)


def _name(artist) -> str:
    if isinstance(artist, Text):
        text = " ".join(artist.get_text().split())
        return repr(text if len(text) <= 40 else text[:37] + "...")
    if isinstance(artist, (FancyBboxPatch, Circle)):
        x0, y0, x1, y1 = artist.get_window_extent().extents
        return f"{type(artist).__name__} at pixels ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f})"
    return type(artist).__name__
