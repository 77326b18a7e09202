"""Pure plots of one convolution: each function takes settings and returns a matplotlib Figure.

    spec = ConvSpec(1, 1, kernel_size=3, stride=2, padding=1, dilation=2)
    plot_convolution(spec, input_size=(7, 7), position=(1, 2))

Input pixels are white, padding grey, the kernel's taps orange (with dilation they have gaps);
the output value those taps produce is orange in the output grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course.measure.conv import ConvSpec, Pair, as_pair
from course.viz import style

INPUT, PADDING, TAP, DONE, EDGE = "#ffffff", "#d9d9d9", style.ORANGE, "#cfe2f3", "#555555"


def _grid(ax, rows: int, cols: int, colour_of, title: str) -> None:
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour_of(r, c), edgecolor=EDGE, lw=0.6))
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(rows + 0.1, -0.1)  # row 0 at the top, as in an image
    ax.set_aspect("equal")
    ax.set_xticks([]), ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title, fontsize=10)


def _figure(ax) -> tuple[Figure, plt.Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(4, 4))
    return fig, ax


def draw_input(spec: ConvSpec, input_size: Pair | int, position: Pair | None = None, ax=None):
    """The padded input grid; with ``position``, the kernel taps for that output position."""
    fig, ax = _figure(ax)
    h, w = as_pair(input_size, "input_size")
    (top, bottom), (left, right) = spec.padding_per_side()
    taps = set(spec.footprint(position)) if position is not None else set()

    def colour(r, c):
        if (r, c) in taps:
            return TAP
        inside = top <= r < top + h and left <= c < left + w
        return INPUT if inside else PADDING

    kh, kw = spec.kernel_size
    title = f"input {h}x{w} + padding ({top},{bottom}),({left},{right}); kernel {kh}x{kw}"
    if spec.dilation != (1, 1):
        title += f", dilation {spec.dilation[0]}x{spec.dilation[1]}"
    _grid(ax, top + h + bottom, left + w + right, colour, title)
    if taps:  # dashed outline: the span of the (dilated) kernel
        rows, cols = [r for r, _ in taps], [c for _, c in taps]
        ax.add_patch(Rectangle((min(cols), min(rows)), max(cols) - min(cols) + 1,
                               max(rows) - min(rows) + 1, fill=False, edgecolor=TAP,
                               lw=2, ls="--"))  # fmt: skip
    return fig


def draw_output(spec: ConvSpec, input_size: Pair | int, position: Pair | None = None, ax=None):
    """The output grid; positions before ``position`` (in visiting order) are shaded as done."""
    fig, ax = _figure(ax)
    h, w = spec.output_size(input_size)
    current = position[0] * w + position[1] if position is not None else -1

    def colour(r, c):
        index = r * w + c
        return TAP if index == current else DONE if index < current else INPUT

    _grid(ax, h, w, colour, f"output {h}x{w} (stride {spec.stride[0]}x{spec.stride[1]})")
    return fig


def draw_formula(spec: ConvSpec, input_size: Pair | int, ax=None):
    """The output-size and parameter formulas with the numbers substituted, as text."""
    if ax is None:
        fig = plt.figure(figsize=(6, 1.2))
        ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    ax.text(0.01, 0.5, spec.formula(input_size), family="monospace", fontsize=11, va="center")
    return ax.figure


def plot_convolution(spec: ConvSpec, input_size: Pair | int, position: Pair | None = None):
    """Input with padding and kernel footprint, output grid and formula in one Figure."""
    h, w = spec.output_size(input_size)  # raises a clear ValueError for an empty output
    if position is not None and not (0 <= position[0] < h and 0 <= position[1] < w):
        raise ValueError(f"position must be inside the {h}x{w} output, got {position}")
    fig = plt.figure(figsize=(9, 5.2))
    grid = fig.add_gridspec(2, 2, height_ratios=(4, 1), width_ratios=(1.3, 1))
    draw_input(spec, input_size, position, fig.add_subplot(grid[0, 0]))
    draw_output(spec, input_size, position, fig.add_subplot(grid[0, 1]))
    draw_formula(spec, input_size, fig.add_subplot(grid[1, :]))
    return fig
