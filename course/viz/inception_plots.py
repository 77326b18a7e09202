"""Pictures of Inception blocks, drawn from the modules themselves (not typed by hand).

plot_inception_blocks({"3a": Inception(192, 64, 96, 128, 16, 32, 32)}, in_channels=192)
plot_branch_maps(block, x)          # a few channels of every branch's output
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch
from matplotlib.textpath import TextToPath
from torch import nn

from course.models.googlenet import ConvBlock, Inception, InceptionNaive
from course.viz import style

# The colours of the paper's Figure 2 (roughly): 1x1 yellow, 3x3 orange, 5x5 red, pools blue.
COLORS = {1: "#f6e27f", 3: "#f4a259", 5: "#e56b6f", "pool": "#7fb7d9"}

# Layout, in inches: boxes are as wide as their text plus PAD_X on each side.
PAD_X, PAD_Y, COLUMN_GAP, ROW_GAP, BUS_GAP = 0.1, 0.07, 0.14, 0.3, 0.18


def branch_layers(branch: nn.Module) -> list[tuple[str, object, int]]:
    """A branch as (label, colour key, parameters) per layer, input to output."""
    layers = list(branch) if isinstance(branch, nn.Sequential) else [branch]
    out = []
    for layer in layers:
        if isinstance(layer, ConvBlock):
            k, c = layer.conv.kernel_size[0], layer.conv.out_channels
            params = sum(p.numel() for p in layer.parameters())
            out.append((f"{k}x{k} conv, {c}", k, params))
        elif isinstance(layer, nn.MaxPool2d):
            k = layer.kernel_size
            out.append((f"{k}x{k} max-pool", "pool", 0))
        else:
            raise ValueError(f"unexpected layer {type(layer).__name__} in an Inception branch")
    return out


def branches_of(block: nn.Module) -> list[nn.Module]:
    if not isinstance(block, (Inception, InceptionNaive)):
        kind = type(block).__name__
        raise ValueError(f"block must be an Inception or InceptionNaive, got {kind}")
    return [block.branch1, block.branch2, block.branch3, block.branch4]


def _text_size(text: str, fontsize: float) -> tuple[float, float]:
    """Width and height of ``text`` in inches, as matplotlib will draw it (lines stacked)."""
    prop = FontProperties(size=fontsize)
    widths = [TextToPath().get_text_width_height_descent(line, prop, ismath=False)[0]
              for line in text.split("\n")]  # fmt: skip
    return max(widths) / 72, len(widths) * fontsize * 1.25 / 72


@dataclass
class _Layout:
    """Where everything of one block goes, in inches from the bottom left."""

    boxes: list[
        tuple[float, float, float, float, str, str]
    ]  # centre x, y, width, height, text, colour
    arrows: list[tuple[float, float, float, float]]  # x0, y0, x1, y1 (arrow heads at the end)
    lines: list[tuple[list[float], list[float]]]  # connectors without heads
    width: float
    height: float


def _layout(block: nn.Module, in_channels: int) -> _Layout:
    """Input at the bottom, a bus up to four columns of layer boxes, a bus up to the
    concatenation: every arrow vertical, so none can cross a label. Box widths come from the
    measured widths of their texts."""
    branches = [branch_layers(b) for b in branches_of(block)]
    texts = [[f"{label}\n{params:,} params" for label, _, params in b] for b in branches]
    sizes = [[_text_size(t, style.SMALL) for t in column] for column in texts]
    widths = [max(w for w, _ in column) + 2 * PAD_X for column in sizes]
    box_h = max(h for column in sizes for _, h in column) + 2 * PAD_Y
    ends = [f"previous layer ({in_channels} channels)",
            f"concatenation ({block.out_channels} channels)"]  # fmt: skip
    end_w = max(_text_size(t, style.SMALL)[0] for t in ends) + 2 * PAD_X
    end_h = _text_size(ends[0], style.SMALL)[1] + 2 * PAD_Y
    columns_w = sum(widths) + COLUMN_GAP * (len(widths) - 1)
    width = max(columns_w, end_w)
    xs, left = [], (width - columns_w) / 2
    for w in widths:
        xs.append(left + w / 2)
        left += w + COLUMN_GAP
    centre, rows = width / 2, max(len(b) for b in branches)
    bus_in = end_h + BUS_GAP
    row_y = [bus_in + BUS_GAP + box_h / 2 + r * (box_h + ROW_GAP) for r in range(rows)]
    bus_out = row_y[-1] + box_h / 2 + BUS_GAP
    top_y = bus_out + BUS_GAP + end_h / 2

    boxes = [(centre, end_h / 2, end_w, end_h, ends[0], style.LIGHT),
             (centre, top_y, end_w, end_h, ends[1], style.LIGHT)]  # fmt: skip
    arrows, lines = [], [([centre, centre], [end_h, bus_in]), ([xs[0], xs[-1]], [bus_in, bus_in]),
                         ([xs[0], xs[-1]], [bus_out, bus_out])]  # fmt: skip
    arrows.append((centre, bus_out, centre, top_y - end_h / 2))
    for x, box_w, layers, column in zip(xs, widths, branches, texts, strict=True):
        ys = row_y[rows - len(layers) :]  # the last layer of every branch is level
        arrows.append((x, bus_in, x, ys[0] - box_h / 2))
        for (_, key, _), text, y in zip(layers, column, ys, strict=True):
            boxes.append((x, y, box_w, box_h, text, COLORS.get(key, style.LIGHT)))
        for y0, y1 in zip(ys, ys[1:], strict=False):
            arrows.append((x, y0 + box_h / 2, x, y1 - box_h / 2))
        lines.append(([x, x], [ys[-1] + box_h / 2, bus_out]))
    return _Layout(boxes, arrows, lines, width, top_y + end_h / 2)


def _draw(ax, layout: _Layout, title: str | None) -> None:
    """Draw ``layout`` on ``ax``, whose data units must be inches (see plot_inception_blocks)."""
    for x, y, w, h, text, colour in layout.boxes:
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc=colour, ec="#333", lw=0.8,
                                    boxstyle="round,pad=0,rounding_size=0.05"))  # fmt: skip
        ax.text(x, y, text, ha="center", va="center", fontsize=style.SMALL, linespacing=1.25)
    for xs, ys in layout.lines:
        ax.plot(xs, ys, color="#333", lw=0.8)
    for x0, y0, x1, y1 in layout.arrows:
        arrow = dict(arrowstyle="->", lw=0.8, color="#333", shrinkA=0, shrinkB=0)
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=arrow)
    ax.set_xlim(0, layout.width)
    ax.set_ylim(0, layout.height)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=style.FONT)


def plot_inception_blocks(blocks: dict[str, nn.Module], in_channels: int):
    """Several Inception blocks (a dict title -> block), side by side when they fit the notebook
    column (``style.WIDTH``), otherwise one above the other. Each box gives its layer's kernel,
    output channels and parameters; each title the block's total."""
    if not blocks:
        raise ValueError("plot_inception_blocks needs at least one block")
    layouts = [_layout(b, in_channels) for b in blocks.values()]
    titles = [f"{t}: {sum(p.numel() for p in b.parameters()):,} parameters"
              for t, b in blocks.items()]  # fmt: skip
    margin, title_h, gap = 0.1, 0.35, 0.4
    side_by_side = sum(lo.width for lo in layouts) + gap * (len(layouts) - 1) + 2 * margin
    if side_by_side <= style.WIDTH:
        width = side_by_side
        height = max(lo.height for lo in layouts) + title_h + 2 * margin
        places, x = [], margin
        for lo in layouts:
            places.append((x, margin))
            x += lo.width + gap
    else:
        width = max(lo.width for lo in layouts) + 2 * margin
        height = sum(lo.height + title_h for lo in layouts) + gap * (len(layouts) - 1) + 2 * margin
        places, y = [], height - margin
        for lo in layouts:
            y -= lo.height + title_h
            places.append(((width - lo.width) / 2, y))
            y -= gap
    fig = plt.figure(figsize=(width, height))
    for lo, (x, y), title in zip(layouts, places, titles, strict=True):
        # An axes exactly as large as the layout, so one data unit is one inch.
        ax = fig.add_axes((x / width, y / height, lo.width / width, lo.height / height))
        _draw(ax, lo, title)
    return fig


def plot_inception_block(block: nn.Module, in_channels: int, title: str | None = None):
    """One Inception block: the input at the bottom, four branches, the concatenation on top."""
    return plot_inception_blocks({title or type(block).__name__: block}, in_channels)


def plot_branch_maps(block: nn.Module, x: torch.Tensor, channels_per_branch: int = 4):
    """For one image ``x`` (1, C, H, W): the first few channels of each branch's output, one
    row per branch, labelled with where its channels sit in the concatenated output."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"x must be one image of shape (1, C, H, W), got {tuple(x.shape)}")
    with torch.no_grad():
        outputs = block.branches(x)
    fig, axes = plt.subplots(len(outputs), channels_per_branch,
                             figsize=(1.6 * channels_per_branch, 1.7 * len(outputs)),
                             squeeze=False)  # fmt: skip
    start = 0
    # The whole branch, so the pool branch reads "3x3 max-pool -> 1x1 conv, N".
    names = ["\n-> ".join(label for label, *_ in branch_layers(b)) for b in branches_of(block)]
    for row, (out, name) in zip(axes, zip(outputs, names, strict=True), strict=True):
        stop = start + out.shape[1]
        for j, ax in enumerate(row):
            ax.imshow(out[0, j].numpy(), cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(f"{name}\nchannels {start}-{stop - 1}", fontsize=style.MIN_FONT)
        start = stop
    fig.suptitle(f"branch outputs, concatenated into {start} channels")
    fig.tight_layout()
    return fig
