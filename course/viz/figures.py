"""What the course's plots share: one finish for side-by-side panels, and a Figure as PNG bytes
(what an explorer puts in its picture). Pure matplotlib: no widgets here."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


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


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes; the figure is closed (an explorer draws many of them)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()
