"""Charts and a table of architectures side by side (records from ``course.measure.compare``).

plot_tradeoffs(records, x="parameters")     # published top-1 against size, per family
plot_metric(records, "macs")                 # one bar per architecture
plot_costs(records)                          # parameters, MACs and depth side by side
plot_accuracy_tradeoffs(records)             # top-1 against parameters and against MACs
table_html(records)
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt

from course.measure.compare import FAMILIES, ArchitectureRecord
from course.viz import style
from course.viz.figures import label_points

# What each axis shows, and how to scale a record's value for it.
METRICS = {
    "parameters": ("parameters (millions)", lambda r: r.parameters / 1e6),
    "macs": ("multiply-accumulates per image (billions)", lambda r: r.macs / 1e9),
    "latency_ms": ("CPU forward latency, one image (ms, this machine)", lambda r: r.latency_ms),
    "depth": ("depth (weight layers on the longest path)", lambda r: r.depth),
}


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")


def plot_tradeoffs(records: list[ArchitectureRecord], x: str = "parameters", ax=None):
    """Published ImageNet top-1 against ``x`` (log scale), one point per architecture.
    Architectures without a published top-1 are listed in the title instead."""
    check_metric(x)
    label, value = METRICS[x]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    shown = [r for r in records if r.top1 is not None and value(r) is not None]
    for family in FAMILIES:
        points = [r for r in shown if r.family == family]
        if points:
            ax.scatter([value(r) for r in points], [r.top1 for r in points], s=40,
                       color=style.family_color(family), label=family)  # fmt: skip
    if shown:
        ax.set_xscale("log")
        ax.legend(fontsize=style.SMALL, loc="best")
        label_points(ax, [(value(r), r.top1) for r in shown], [r.name for r in shown])
    ax.set_xlabel(label + ", log scale")
    ax.set_ylabel("ImageNet top-1 (%), torchvision")
    missing = [r.name for r in records if r.top1 is None]
    ax.set_title("accuracy vs " + x.replace("_ms", "") +
                 (f"  (no published top-1: {', '.join(missing)})" if missing else ""),
                 fontsize=9)  # fmt: skip
    ax.grid(alpha=0.3)
    return ax.figure


def plot_metric(records: list[ArchitectureRecord], metric: str = "parameters", ax=None):
    """One horizontal bar per architecture, coloured by family."""
    check_metric(metric)
    label, value = METRICS[metric]
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(6, 0.3 * len(records) + 1))
    rows = [r for r in records if value(r) is not None]
    ax.barh([r.name for r in rows], [value(r) for r in rows],
            color=[style.family_color(r.family) for r in rows])  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel(label)
    if own_figure:
        ax.figure.tight_layout()
    return ax.figure


def plot_costs(records: list[ArchitectureRecord], metrics=("parameters", "macs", "depth")):
    """One bar chart per metric, side by side, the architectures named once (at the left)."""
    for metric in metrics:
        check_metric(metric)
    fig, axes = plt.subplots(1, len(metrics), figsize=(style.WIDTH, 0.3 * len(records) + 1.4),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, metric in zip(axes[0], metrics, strict=True):
        plot_metric(records, metric, ax=ax)
        ax.set_xlabel(METRICS[metric][0].replace(" (", "\n("), fontsize=style.SMALL)
    fig.suptitle("what each architecture costs (224x224)")
    fig.tight_layout()
    return fig


def plot_accuracy_tradeoffs(records: list[ArchitectureRecord], xs=("parameters", "macs")):
    """Published top-1 against each of ``xs``, side by side (see ``plot_tradeoffs``)."""
    fig, axes = plt.subplots(1, len(xs), figsize=(style.WIDTH, 4.4), squeeze=False)
    fig.tight_layout()  # first, so that the labels are placed in the final axes
    for ax, x in zip(axes[0], xs, strict=True):
        plot_tradeoffs(records, x=x, ax=ax)
    fig.tight_layout()
    return fig


def table_html(records: list[ArchitectureRecord]) -> str:
    """The records as an HTML table (what the explorer shows)."""
    head = ("architecture", "family", "depth", "parameters", "GMACs", "CPU ms", "top-1 %")
    cells = []
    for r in records:
        latency = "–" if r.latency_ms is None else f"{r.latency_ms:.0f}"
        top1 = "–" if r.top1 is None else f"{r.top1:.1f}"
        row = (r.name, r.family, r.depth, f"{r.parameters:,}", f"{r.macs / 1e9:.2f}", latency, top1)
        cells.append("".join(f"<td>{html.escape(str(c))}</td>" for c in row))
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
