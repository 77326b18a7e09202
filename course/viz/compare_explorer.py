"""The architecture explorer: filter the comparison table and charts by family and size.

explorer = ArchitectureExplorer(records)
explorer.widget                     # display it in JupyterLab
explorer.draw(families=("VGG",), x="parameters", max_parameters=200)   # the Figure
"""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt

from course.measure.compare import FAMILIES, ArchitectureRecord
from course.viz import style
from course.viz.compare_plots import METRICS, plot_metric, plot_tradeoffs, table_html
from course.viz.explorer import Explorer, filling, fixed, row

LEFT_PX, RIGHT_PX = 320, 460  # the families list; the column of the other controls and the count


class ArchitectureExplorer(Explorer):
    def __init__(self, records: list[ArchitectureRecord], render: bool = True):
        if not records:
            raise ValueError("records must hold at least one ArchitectureRecord")
        self.records = list(records)
        families = [f for f in FAMILIES if any(r.family == f for r in self.records)]
        largest = max(r.parameters for r in self.records) / 1e6
        style = {"description_width": "150px"}
        self.families = w.SelectMultiple(
            options=families, value=tuple(families), rows=len(families), description="families",
            style={"description_width": "70px"}, layout=filling(LEFT_PX),
        )  # fmt: skip
        self.x_axis = w.Dropdown(options=[m for m in METRICS if m != "depth"], value="parameters",
                                 description="accuracy against", style=style,
                                 layout=filling(RIGHT_PX))  # fmt: skip
        self.max_parameters = w.FloatSlider(
            value=round(largest + 1), min=1, max=round(largest + 1), step=1, readout_format=".0f",
            description="max parameters (M)", continuous_update=False, style=style,
            layout=filling(RIGHT_PX),
        )  # fmt: skip
        controls = {"families": self.families, "x": self.x_axis,
                    "max_parameters": self.max_parameters}  # fmt: skip
        super().__init__(controls, render, readout_px=RIGHT_PX)
        self.count = self.readout
        self.table = w.HTML()
        self.widget = w.VBox([
            row([self.families, w.VBox([self.x_axis, self.max_parameters, self.count],
                                       layout=fixed(f"{RIGHT_PX}px"))]),  # fmt: skip
            self.picture, self.table,
        ])  # fmt: skip
        self._watch_controls()
        self.refresh()

    def selected(self, families, max_parameters: float) -> list[ArchitectureRecord]:
        """Records of the chosen families with at most ``max_parameters`` million parameters."""
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"families must be among {FAMILIES}, got {sorted(unknown)}")
        return [r for r in self.records
                if r.family in families and r.parameters <= max_parameters * 1e6]  # fmt: skip

    def draw(self, families, x: str, max_parameters: float):
        """The two charts of the selected records (None when none is selected: no picture)."""
        records = self.selected(families, max_parameters)
        if not records:
            return None
        fig, axes = plt.subplots(1, 2, figsize=(style.WIDTH, 4.2), width_ratios=[3, 2])
        plot_tradeoffs(records, x=x, ax=axes[0])
        plot_metric(records, x, ax=axes[1])
        fig.tight_layout()
        return fig

    def describe(self, families, x: str, max_parameters: float) -> str:
        shown = len(self.selected(families, max_parameters))
        text = f"{shown} of {len(self.records)} architectures shown"
        if shown:
            return text
        hint = "choose a family" if not families else "allow more parameters or other families"
        return f"{text}: {hint}"

    def refresh(self, change=None) -> None:
        super().refresh(change)
        settings = self.settings()
        records = self.selected(settings["families"], settings["max_parameters"])
        self.table.value = table_html(records) if records else ""
