"""Receptive fields of whole networks, drawn on a photo and as growth curves.

paths = {"vgg16": receptive_path(get_model("vgg16")), ...}      # course.measure.receptive
plot_receptive_fields(photo, paths)     # photo: uint8 (3, 224, 224)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from course.viz import style
from course.viz.figures import finish_panels


def stage_ends(path) -> list:
    """The layers after which the resolution drops (the jump grows), and the last layer."""
    ends = [a for a, b in zip(path, path[1:], strict=False) if b.jump > a.jump]
    return ends + [path[-1]]


def plot_receptive_fields(photo, paths: dict[str, list]):
    """Top: for each network, squares on the photo as large as the receptive field at the end
    of each stage (fields larger than the photo run off its edge; their sizes are written).
    Bottom: the field after every convolution and pooling of the path, per network."""
    if not paths:
        raise ValueError("plot_receptive_fields needs at least one network's path")
    if photo.dim() != 3 or photo.shape[0] != 3:
        raise ValueError(f"photo must be one RGB image (3, H, W), got {tuple(photo.shape)}")
    _, height, width = photo.shape
    n = len(paths)
    fig = plt.figure(figsize=(style.WIDTH, 2.9 + 3.2))
    grid = fig.add_gridspec(2, n, height_ratios=(2.9, 3.2))
    for i, (name, path) in enumerate(paths.items()):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(photo.permute(1, 2, 0).numpy())
        colour = style.family_color(name)
        ends = stage_ends(path)
        for field in ends:
            half = field.size / 2
            ax.add_patch(Rectangle((width / 2 - half, height / 2 - half), field.size, field.size,
                                   fill=False, ec=colour, lw=1.5))  # fmt: skip
        inside = [f.size for f in ends if f.size <= width]
        beyond = [f.size for f in ends if f.size > width]
        text = "stage ends: " + ", ".join(str(s) for s in inside)
        if beyond:
            text += "\nbeyond the photo: " + ", ".join(str(s) for s in beyond)
        ax.set_title(f"{name}\n{text}", fontsize=style.MIN_FONT)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[1, :])
    for name, path in paths.items():
        ax.plot(range(1, len(path) + 1), [f.size for f in path], "-o", ms=3,
                color=style.family_color(name), label=f"{name}: {path[-1].size} px")  # fmt: skip
    ax.axhline(width, color=style.GREY, ls="--", lw=1, label=f"the photo ({width} px)")
    ax.set(xlabel="convolution or pooling on the path (input to output)",
           ylabel="receptive field (pixels per side)", yscale="log")  # fmt: skip
    finish_panels(fig, [ax])
    return fig
