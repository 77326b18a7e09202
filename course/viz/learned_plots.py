"""What a trained network learned, drawn: its kernels (as AlexNet's Figure 3 shows them), the
confusion matrix of its test predictions, example images of its mistakes, and the top classes
it gives a photo."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

from course.viz import style


def kernel_pictures(weight: torch.Tensor) -> torch.Tensor:
    """Kernels (out, in, k, k) as pictures (out, k, k, 3) in [0, 1], each stretched on its own
    (as in AlexNet's Figure 3): three input channels give colours, one gives grey with 0.5 for
    a zero weight, so positive and negative weights look bright and dark."""
    w = weight.detach().float().cpu()
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(f"weight must be (out, 1 or 3, k, k) kernels, got {tuple(w.shape)}")
    if w.shape[1] == 3:
        low = w.amin(dim=(1, 2, 3), keepdim=True)
        high = w.amax(dim=(1, 2, 3), keepdim=True)
        pictures = (w - low) / (high - low).clamp_min(1e-12)
    else:
        scale = w.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
        pictures = (0.5 + 0.5 * w / scale).expand(-1, 3, -1, -1)
    return pictures.permute(0, 2, 3, 1)


def plot_kernels(weight: torch.Tensor, columns: int = 16, title: str | None = None,
                 titles: list[str] | None = None, width: float = style.WIDTH):  # fmt: skip
    """Every kernel of a first layer, one small picture each (``kernel_pictures``), in rows of
    ``columns``; ``titles`` names each kernel (for a few large ones)."""
    pictures = kernel_pictures(weight)
    count = len(pictures)
    if count == 0:
        raise ValueError("weight holds no kernels (out = 0): nothing to draw")
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    cell = width / columns
    height = rows * cell * (1.35 if titles else 1.0) + (0.45 if title else 0.1)
    fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= count:
            ax.axis("off")
            continue
        ax.imshow(pictures[i].numpy(), interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        for spine in ax.spines.values():  # a frame: a kernel of one value still shows
            spine.set_color(style.GREY)
        if titles:
            ax.set_title(titles[i], fontsize=style.SMALL)
    if title:
        fig.suptitle(title, fontsize=style.FONT)
    fig.tight_layout(pad=0.3, h_pad=0.4 if titles else 0.2, w_pad=0.2)
    return fig


def plot_confusion(matrix, names, title: str | None = None):
    """The confusion matrix: rows are true classes, columns predicted ones; each cell gives its
    count of images (empty cells are left blank), shaded by the square root of its share of the
    row, so that a class's few errors still show."""
    m = torch.as_tensor(matrix).float()
    share = m / m.sum(1, keepdim=True).clamp_min(1)
    fig, ax = plt.subplots(figsize=(7.5, 6.6))
    ax.imshow(share.sqrt().numpy(), cmap="Blues", vmin=0, vmax=1)  # sqrt: small errors show
    for r, c in torch.cartesian_prod(torch.arange(len(m)), torch.arange(len(m))).tolist():
        count = m[r, c]
        if count:
            light = share[r, c] > 0.45
            ax.text(int(c), int(r), f"{int(count)}", ha="center", va="center",
                    fontsize=style.MIN_FONT, color="white" if light else style.BLACK)  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=style.SMALL)
    ax.set_yticks(range(len(names)), names, fontsize=style.SMALL)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "confusion matrix (test images)", fontsize=style.FONT)
    fig.tight_layout()
    return fig


def plot_mistakes(images: torch.Tensor, captions: list[str], columns: int = 8,
                  title: str | None = None):  # fmt: skip
    """Grey test images (N, 1, H, W, uint8) with a caption each ("true -> predicted")."""
    if len(images) != len(captions) or len(images) == 0:
        raise ValueError(f"{len(captions)} captions for {len(images)} images (at least one)")
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(style.WIDTH, rows * 1.75 + 0.4),
                             squeeze=False)  # fmt: skip
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i, 0].numpy(), cmap="gray_r", vmin=0, vmax=255)
            ax.set_title(captions[i], fontsize=style.MIN_FONT)
    if title:
        fig.suptitle(title, fontsize=style.FONT)
    fig.tight_layout(pad=0.3)
    return fig


def plot_feature_maps(image: torch.Tensor, maps: torch.Tensor, channel: int, layer: str,
                      kernel: torch.Tensor | None = None):  # fmt: skip
    """One layer's feature maps for one image: the image as the network sees it, every channel
    as a tile of a mosaic (the chosen one framed), the chosen channel large, and, for a first
    layer, the kernel that made it. ``image`` (h, w), ``maps`` (channels, h', w')."""
    channels, h, w = maps.shape
    columns = math.ceil(math.sqrt(channels * 2.5))  # a wide mosaic: 32 -> 9 x 4, 96 -> 16 x 6
    rows = math.ceil(channels / columns)
    mosaic = torch.full((rows * (h + 1), columns * (w + 1)), float("nan"))
    for c in range(channels):
        r, q = divmod(c, columns)
        tile = maps[c] / maps[c].abs().max().clamp_min(1e-12)
        mosaic[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = tile
    panels = 4 if kernel is not None else 3
    ratios = [1, 2.2, 1, 0.6][:panels]
    fig, axes = plt.subplots(1, panels, figsize=(style.WIDTH, 3.6),
                             gridspec_kw={"width_ratios": ratios})  # fmt: skip
    axes[0].imshow(image.numpy(), cmap="gray")
    axes[0].set_title("input (as the network sees it)", fontsize=style.SMALL)
    axes[1].imshow(mosaic.numpy(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    r, q = divmod(channel, columns)
    axes[1].add_patch(Rectangle((q * (w + 1) - 1, r * (h + 1) - 1), w + 1, h + 1, fill=False,
                                edgecolor=style.SKY, linewidth=2))  # fmt: skip
    axes[1].set_title(f"{layer}: all {channels} channels, each scaled to its maximum",
                      fontsize=style.SMALL)  # fmt: skip
    axes[2].imshow(maps[channel].numpy(), cmap="magma", vmin=0, interpolation="nearest")
    axes[2].set_title(f"channel {channel} ({h}x{w})", fontsize=style.SMALL)
    if kernel is not None:
        axes[3].imshow(kernel_pictures(kernel[None])[0].numpy(), interpolation="nearest")
        axes[3].set_title("its kernel", fontsize=style.SMALL)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout(pad=0.4)
    return fig


def plot_top_classes(photos: dict, predictions: dict, title: str | None = None):
    """Each photo (a (H, W, 3) array) above a bar chart of its top classes and their
    probabilities: ``predictions[name] = [(class, probability), ...]``."""
    fig, axes = plt.subplots(2, len(photos), figsize=(style.WIDTH, 5.4), squeeze=False,
                             gridspec_kw={"height_ratios": [1.2, 1]})  # fmt: skip
    for i, (name, photo) in enumerate(photos.items()):
        axes[0, i].imshow(photo)
        axes[0, i].set_title(name, fontsize=style.SMALL)
        axes[0, i].axis("off")
        classes = predictions[name]
        ax = axes[1, i]
        ax.barh(range(len(classes)), [p for _, p in classes], color=style.BLUE)
        ax.set_yticks(range(len(classes)), [_short(c) for c, _ in classes], fontsize=style.MIN_FONT)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.tick_params(axis="x", labelsize=style.MIN_FONT)
    if title:
        fig.suptitle(title, fontsize=style.FONT)
    fig.tight_layout(pad=0.4)
    return fig


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
