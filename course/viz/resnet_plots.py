"""Pictures for the ResNet notebook: residual blocks drawn from real modules, training-error
curves of plain vs residual networks, gradient norms per layer (each returns a Figure).

    plot_blocks({"basic": BasicBlock(64, 64), "bottleneck": Bottleneck(256, 64)})

The explorer over ``plot_gradient_norms`` is ``course.viz.resnet_explorer.GradientNormExplorer``.

Every label in the diagrams (kernel sizes, channels, parameters) is read from the modules.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from torch import nn

from course.models.summary import count_parameters
from course.viz import style
from course.viz.figures import finish_panels

# --- block diagrams ----------------------------------------------------------------------------


def block_layers(block: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """(convolution, its BatchNorm) pairs of a BasicBlock or Bottleneck, input to output."""
    pairs, i = [], 1
    while hasattr(block, f"conv{i}"):
        pairs.append((getattr(block, f"conv{i}"), getattr(block, f"bn{i}")))
        i += 1
    if not pairs:
        raise ValueError(f"{type(block).__name__} has no conv1, conv2 ...: not a residual block")
    return pairs


def shortcut_label(block: nn.Module) -> str:
    """What the block's shortcut does, in words, with its parameters."""
    if not getattr(block, "shortcut", True):
        return "no shortcut (plain)"
    down = getattr(block, "downsample", None)
    if down is None:
        return "identity, 0 params"
    convs = [m for m in down.modules() if isinstance(m, nn.Conv2d)]
    if not convs:  # option A: subsample and pad with zeros
        return "subsample +\nzero channels,\n0 params"
    conv = convs[0]
    return f"projection:\n1x1 conv, {conv.out_channels}\n+ BN, {count_parameters(down):,} params"


def _conv_text(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> str:
    kh, kw = conv.kernel_size
    stride = f", /{conv.stride[0]}" if conv.stride[0] > 1 else ""
    return (f"{kh}x{kw} conv, {conv.out_channels}{stride}\n"
            f"{count_parameters(conv):,} + BN {count_parameters(bn):,} params")  # fmt: skip


def draw_block(ax, block: nn.Module, title: str) -> None:
    """One residual block as in the paper's Figure 5: layers top to bottom, shortcut at right."""
    pairs = block_layers(block)
    in_ch = pairs[0][0].in_channels
    top, step = 0.0, 1.3
    ax.annotate(f"input: {in_ch} channels", (0, top + 0.55), ha="center", fontsize=9)
    ax.annotate("", (0, top - 0.05), (0, top + 0.5), arrowprops=dict(arrowstyle="->"))
    y = top
    for i, (conv, bn) in enumerate(pairs):
        box_y = y - 0.8
        ax.add_patch(FancyBboxPatch((-1.35, box_y), 2.7, 0.75, boxstyle="round,pad=0.03",
                                    fc="#dbe7f3", ec=style.BLUE))  # fmt: skip
        ax.text(0, box_y + 0.375, _conv_text(conv, bn), ha="center", va="center", fontsize=8)
        after = "ReLU" if i < len(pairs) - 1 else ""
        ax.annotate("", (0, box_y - 0.5), (0, box_y - 0.02), arrowprops=dict(arrowstyle="->"))
        if after:
            ax.text(0.08, box_y - 0.27, after, fontsize=style.MIN_FONT, va="center", color="#555")
        y -= step
    plus_y = y - 0.25
    has_shortcut = getattr(block, "shortcut", True)
    if has_shortcut:
        # A text's circle stays round however the panel is stretched.
        ax.text(0, plus_y, "+", ha="center", va="center", fontsize=12,
                bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="black"))  # fmt: skip
        ax.plot([0, 1.6, 1.6], [top + 0.25, top + 0.25, plus_y], color=style.VERMILLION, lw=1.5)
        ax.annotate("", (0.2, plus_y), (1.6, plus_y),
                    arrowprops=dict(arrowstyle="->", color=style.VERMILLION, lw=1.5))  # fmt: skip
        ax.text(1.7, (top + plus_y) / 2, shortcut_label(block), fontsize=8, color=style.VERMILLION,
                va="center")  # fmt: skip
    out_ch = pairs[-1][0].out_channels
    ax.annotate("", (0, plus_y - 0.75), (0, plus_y - 0.2), arrowprops=dict(arrowstyle="->"))
    ax.text(0.08, plus_y - 0.45, "ReLU", fontsize=style.MIN_FONT, va="center", color="#555")
    ax.text(0, plus_y - 0.95, f"output: {out_ch} channels", ha="center", fontsize=9)
    total = count_parameters(block)
    ax.set_title(f"{title}\n{total:,} parameters", fontsize=10)
    ax.set_xlim(-1.45, 3.35)
    ax.set_ylim(plus_y - 1.2, top + 0.9)
    ax.set_axis_off()


def plot_blocks(blocks: dict[str, nn.Module]):
    """Several residual blocks side by side (a dict title -> block), as a Figure."""
    if not blocks:
        raise ValueError("plot_blocks needs at least one block")
    width = min(style.WIDTH, 3.4 * len(blocks))
    fig, axes = plt.subplots(1, len(blocks), figsize=(width, 5.2), squeeze=False)
    for ax, (title, block) in zip(axes[0], blocks.items(), strict=True):
        draw_block(ax, block, title)
    fig.tight_layout()
    return fig


# --- training error and gradient norms ------------------------------------------------------


def _depth(name: str) -> int:
    digits = re.search(r"\d+$", name)
    if digits is None:
        raise ValueError(f"a network's name must end with its depth, like 'plain20', got {name!r}")
    return int(digits.group())


def plot_training_errors(histories: dict, title: str | None = None):
    """Training error per epoch like the paper's Figure 6: plain networks (left) and residual
    networks (right); a name starting with 'plain' goes left. Thin dashed lines: test error."""
    if not histories:
        raise ValueError("plot_training_errors needs at least one History")
    fig, (ax_plain, ax_res) = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    depths = sorted({_depth(name) for name in histories})
    for name, h in histories.items():
        ax = ax_plain if name.startswith("plain") else ax_res
        colour = style.cycle(
            depths.index(_depth(name))
        )  # the same depth, the same colour on both sides
        ax.plot(h.epoch, [1 - a for a in h.train_acc], "-o", ms=3, color=colour,
                label=f"{name} training")  # fmt: skip
        if h.val_acc:
            ax.plot(h.epoch, [1 - a for a in h.val_acc], "--", lw=1, color=colour,
                    label=f"{name} test")  # fmt: skip
    ax_plain.set(title="plain networks", xlabel="epoch", ylabel="error")
    ax_res.set(title="residual networks", xlabel="epoch")
    return finish_panels(fig, (ax_plain, ax_res), title)


def plot_gradient_norms(curves: dict[str, list[float]], title: str | None = None):
    """Gradient norm per weighted layer (input at the left), one line per network, log scale."""
    if not curves:
        raise ValueError("plot_gradient_norms needs at least one curve")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, (name, norms) in enumerate(curves.items()):
        line = "--" if name.startswith("plain") else "-"
        ax.semilogy(range(1, len(norms) + 1), norms, line, marker=".", ms=4, label=name,
                    color=style.color_for(name, style.cycle(i)))  # fmt: skip
    ax.set(xlabel="layer (1 = first convolution; last = the classifier)",
           ylabel="norm of the weight gradient")  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or "gradient norms at initialization, one batch")
    fig.tight_layout()
    return fig
