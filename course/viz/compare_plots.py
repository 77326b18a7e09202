"""Charts and a table of architectures side by side (records from ``course.measure.compare``).

plot_tradeoffs(records, x="parameters")     # published top-1 against size, per family
plot_metric(records, "macs")                 # one bar per architecture
table_html(records)
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt

from course.measure.compare import FAMILIES, ArchitectureRecord

# What each axis shows, and how to scale a record's value for it.
METRICS = {
    "parameters": ("parameters (millions)", lambda r: r.parameters / 1e6),
    "macs": ("multiply-accumulates per image (billions)", lambda r: r.macs / 1e9),
    "latency_ms": ("CPU forward latency, one image (ms, this machine)", lambda r: r.latency_ms),
    "depth": ("depth (weight layers on the longest path)", lambda r: r.depth),
}
COLORS = dict(zip(FAMILIES, plt.get_cmap("tab10").colors, strict=False))


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
                       color=COLORS[family], label=family)  # fmt: skip
    for r in shown:
        ax.annotate(r.name, (value(r), r.top1), xytext=(4, 3), textcoords="offset points",
                    fontsize=7)  # fmt: skip
    if shown:
        ax.set_xscale("log")
        ax.legend(fontsize=8, loc="lower right")
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
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.3 * len(records) + 1))
    rows = [r for r in records if value(r) is not None]
    ax.barh([r.name for r in rows], [value(r) for r in rows],
            color=[COLORS[r.family] for r in rows])  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel(label)
    return ax.figure


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
