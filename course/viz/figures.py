"""What the course's plots share: one finish for side-by-side panels, and a Figure as PNG bytes
(what an explorer puts in its picture). Pure matplotlib: no widgets here."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from course.viz import style


def finish_panels(fig: Figure, axes, title: str | None = None) -> Figure:
    """The course's finish for side-by-side panels: a light grid and a legend on each, the
    title on top, a tight layout. Returns the figure."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes; the figure is closed (an explorer draws many of them)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()


# Where a point's label may go, in points from the point: right-up first, then around it.
_LABEL_OFFSETS = [((5, 3), "left", "bottom"), ((5, -3), "left", "top"),
                  ((-5, 3), "right", "bottom"), ((-5, -3), "right", "top"),
                  ((0, 7), "center", "bottom"), ((0, -7), "center", "top")]  # fmt: skip


def label_points(ax, points: list[tuple[float, float]], labels: list[str],
                 fontsize: float = style.SMALL) -> list:  # fmt: skip
    """Name each point, moving a label around its point until it overlaps no label placed
    before it, the legend or any point, and stays inside the axes (the first place is kept when none
    is free). Call after the axes' scales and limits are final. Returns the annotations."""
    if len(points) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(points)} points")
    ax.autoscale_view()
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    legend = ax.get_legend()
    extents = [legend.get_window_extent(renderer)] if legend else []
    for px, py in ax.transData.transform(points):  # every marker, about 8 px across
        extents.append(Bbox.from_extents(px - 4, py - 4, px + 4, py + 4))

    def free(box) -> bool:
        inside = (frame.x0 <= box.x0 <= box.x1 <= frame.x1
                  and frame.y0 <= box.y0 <= box.y1 <= frame.y1)  # fmt: skip
        return inside and not any(box.overlaps(other) for other in extents)

    placed = []
    for (x, y), text in zip(points, labels, strict=True):
        tried = []  # (annotation, its extent), in the order of _LABEL_OFFSETS
        for offset, ha, va in _LABEL_OFFSETS:
            note = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha,
                               va=va, fontsize=fontsize)  # fmt: skip
            tried.append((note, note.get_window_extent(renderer)))
            if free(tried[-1][1]):
                break
        note, box = tried[-1] if free(tried[-1][1]) else tried[0]
        for other, _ in tried:
            if other is not note:
                other.remove()
        placed.append(note)
        extents.append(box)
    return placed
