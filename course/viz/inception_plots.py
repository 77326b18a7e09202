"""Pictures of Inception blocks, drawn from the modules themselves (not typed by hand).

plot_inception_block(Inception(192, 64, 96, 128, 16, 32, 32), in_channels=192)
plot_branch_maps(block, x)          # a few channels of every branch's output
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyBboxPatch
from torch import nn

from course.models.googlenet import ConvBlock, Inception, InceptionNaive

# The colours of the paper's Figure 2 (roughly): 1x1 yellow, 3x3 orange, 5x5 red, pools blue.
COLORS = {1: "#f6e27f", 3: "#f4a259", 5: "#e56b6f", "pool": "#7fb7d9"}


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


def plot_inception_block(block: nn.Module, in_channels: int, title: str | None = None, ax=None):
    """Boxes and arrows: the input at the bottom, four branches, the concatenation on top.
    Each box says its kernel and output channels; each branch its parameter count."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    branches = [branch_layers(b) for b in branches_of(block)]
    rows = max(len(b) for b in branches)
    height = rows + 2  # input row, branch rows, concatenation row

    def box(x, y, text, color, width=1.6):
        ax.add_patch(FancyBboxPatch((x - width / 2, y - 0.25), width, 0.5,
                                    boxstyle="round,pad=0.05", fc=color, ec="#333"))  # fmt: skip
        ax.text(x, y, text, ha="center", va="center", fontsize=8)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", (x1, y1 - 0.3), (x0, y0 + 0.3), arrowprops=dict(arrowstyle="->", lw=0.8))

    centre = 1.5 * (len(branches) - 1) / 2
    box(centre, 0, f"previous layer ({in_channels} channels)", "#ddd", width=3.2)
    box(centre, height - 1, f"concatenation ({block.out_channels} channels)", "#ddd", width=3.2)
    for i, layers in enumerate(branches):
        x = 1.5 * i
        # Layers sit in the top rows, so the last layer of every branch is level.
        ys = [rows - len(layers) + j + 1 for j in range(len(layers))]
        arrow(centre, 0, x, ys[0])
        for (label, key, _), y in zip(layers, ys, strict=True):
            box(x, y, label, COLORS.get(key, "#ccc"))
        for y0, y1 in zip(ys, ys[1:], strict=False):
            arrow(x, y0, x, y1)
        arrow(x, ys[-1], centre, height - 1)
        params = sum(p for *_, p in layers)
        ax.text(x, ys[-1] + 0.38, f"{params:,} params", ha="center", fontsize=7, color="#555")
    ax.set_xlim(-1, 1.5 * (len(branches) - 1) + 1)
    ax.set_ylim(-0.6, height - 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax.figure


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
                ax.set_ylabel(f"{name}\nchannels {start}-{stop - 1}", fontsize=7)
        start = stop
    fig.suptitle(f"branch outputs, concatenated into {start} channels")
    fig.tight_layout()
    return fig
