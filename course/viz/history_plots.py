"""Training curves from a ``course.training.History`` (or several), as a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt

from course.viz import style
from course.viz.figures import finish_panels


def plot_history(*histories, labels: list[str] | None = None, title: str | None = None,
                 val_name: str = "validation"):  # fmt: skip
    """Loss (left) and accuracy (right) per epoch; solid lines training, dashed the data
    ``fit`` evaluated after each epoch, named ``val_name`` in the legend ("test" when that
    data is the test set, as in the notebooks' small runs)."""
    if not isinstance(val_name, str) or not val_name:
        raise ValueError(f"val_name must be a non-empty str such as 'test', got {val_name!r}")
    if not histories:
        raise ValueError("plot_history needs at least one History")
    labels = labels or [""] * len(histories)
    if len(labels) != len(histories):
        raise ValueError(f"{len(labels)} labels for {len(histories)} histories")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (history, label) in enumerate(zip(histories, labels, strict=True)):
        colour = style.cycle(i)
        prefix = f"{label} " if label else ""
        for ax, key in ((ax_loss, "loss"), (ax_acc, "acc")):
            ax.plot(
                history.epoch,
                getattr(history, f"train_{key}"),
                "-o",
                color=colour,
                ms=3,
                label=f"{prefix}train",
            )
            if history.val_loss:
                ax.plot(
                    history.epoch,
                    getattr(history, f"val_{key}"),
                    "--s",
                    color=colour,
                    ms=3,
                    label=f"{prefix}{val_name}",
                )
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    return finish_panels(fig, (ax_loss, ax_acc), title)
