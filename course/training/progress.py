"""What the student sees while ``fit`` runs: a tqdm bar per epoch, then a live plot of the curves
in Jupyter or one text line per epoch elsewhere; nothing on torchrun ranks above 0."""

from __future__ import annotations

import sys
from collections.abc import Callable


def in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


class Progress:
    """tqdm bars, a live plot in Jupyter, text lines elsewhere; silent when not ``enabled``.

    ``live_plot``: False, True (``course.viz.history_plots.plot_history``, imported on first
    use, the one place where training reaches for a picture) or any ``history -> Figure``.
    """

    def __init__(self, enabled: bool, live_plot: bool | Callable, total_epochs: int):
        self.enabled, self.total = enabled, total_epochs
        self.jupyter = enabled and in_jupyter()
        self.plot = live_plot if self.jupyter and live_plot else None
        self.handle = None

    def bar(self, epoch: int, steps: int):
        if not self.enabled:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=steps,
            desc=f"epoch {epoch}/{self.total}",
            leave=False,
            file=sys.stdout if not self.jupyter else None,
        )

    def epoch_done(self, history) -> None:
        if not self.enabled:
            return
        if self.plot is None:
            print(history.last(), flush=True)
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self.plot is True:
            from course.viz.history_plots import plot_history

            self.plot = plot_history
        fig = self.plot(history)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)
