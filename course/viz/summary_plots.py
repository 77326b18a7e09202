"""Where a network's parameters are: one bar per layer of a ``course.models.summarize`` table."""

from __future__ import annotations

import matplotlib.pyplot as plt

from course.viz import style


def plot_parameters_per_layer(rows, names: list[str] | None = None, title: str | None = None):
    """Parameters (millions) of each layer that has any; convolutions blue, the rest red.

    rows: ``course.models.summarize(model, input_shape)`` rows; names: one tick label per layer
    with parameters (default: the layers' names)."""
    rows = [r for r in rows if r.parameters]
    if names is not None and len(names) != len(rows):
        raise ValueError(f"names needs one label per layer with parameters ({len(rows)}), "
                         f"got {len(names)}")  # fmt: skip
    fig, ax = plt.subplots(figsize=(10, 3.2))
    colors = [style.BLUE if r.kind == "Conv2d" else style.VERMILLION for r in rows]
    ax.bar(range(len(rows)), [r.parameters / 1e6 for r in rows], color=colors)
    ax.set_xticks(range(len(rows)), names or [r.name for r in rows], rotation=60)
    ax.set_ylabel("parameters (millions)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
