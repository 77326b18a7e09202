"""The architecture explorer: filter the comparison table and charts by family and size.

    ArchitectureExplorer(records).widget        # display it in JupyterLab

``draw(families, x, max_parameters)`` does the work in plain Python (tests call it); the
widget only wires controls to it.
"""

from __future__ import annotations

import io

import ipywidgets as w
import matplotlib.pyplot as plt

from course.compare import FAMILIES, ArchitectureRecord
from course.viz.compare_plots import METRICS, plot_metric, plot_tradeoffs, table_html


class ArchitectureExplorer:
    def __init__(self, records: list[ArchitectureRecord], draw: bool = True):
        if not records:
            raise ValueError("records must hold at least one ArchitectureRecord")
        self.records = list(records)
        families = [f for f in FAMILIES if any(r.family == f for r in self.records)]
        largest = max(r.parameters for r in self.records) / 1e6
        style = {"description_width": "130px"}
        self.families = w.SelectMultiple(
            options=families, value=tuple(families), rows=len(families), description="families",
            style=style,
        )  # fmt: skip
        self.x_axis = w.Dropdown(options=[m for m in METRICS if m != "depth"], value="parameters",
                                 description="accuracy against", style=style)  # fmt: skip
        self.max_parameters = w.FloatSlider(
            value=round(largest + 1), min=1, max=round(largest + 1), step=1,
            description="max parameters (M)", continuous_update=False, style=style,
        )  # fmt: skip
        self.count = w.HTML()
        self.table = w.HTML()
        self.picture = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.draw_enabled = draw
        for control in (self.families, self.x_axis, self.max_parameters):
            control.observe(self._redraw, names="value")
        self.widget = w.VBox([
            w.HBox([self.families, w.VBox([self.x_axis, self.max_parameters, self.count])]),
            self.picture, self.table,
        ])  # fmt: skip
        self._redraw()

    def selected(self, families, max_parameters: float) -> list[ArchitectureRecord]:
        """Records of the chosen families with at most ``max_parameters`` million parameters."""
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"families must be among {FAMILIES}, got {sorted(unknown)}")
        return [r for r in self.records
                if r.family in families and r.parameters <= max_parameters * 1e6]  # fmt: skip

    def draw(self, families, x: str, max_parameters: float):
        """(records shown, table HTML, figure) for these settings."""
        records = self.selected(families, max_parameters)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=[3, 2])
        plot_tradeoffs(records, x=x, ax=axes[0])
        plot_metric(records, x, ax=axes[1])
        fig.tight_layout()
        return records, table_html(records), fig

    def _redraw(self, change=None) -> None:
        records = self.selected(self.families.value, self.max_parameters.value)
        self.count.value = f"{len(records)} of {len(self.records)} architectures shown"
        self.table.value = table_html(records)
        if not self.draw_enabled:
            return
        _, _, fig = self.draw(self.families.value, self.x_axis.value, self.max_parameters.value)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        self.picture.value = buffer.getvalue()
