"""Texture synthesis results side by side: the example, the synthesized texture, and the
example's own pixels shuffled (same colours, no structure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course.from_scratch.texture import as_image_batch


def plot_textures(examples: dict, syntheses: dict, size: int, title: str | None = None):
    """One row per example: ``examples[name]`` (an image array), ``syntheses[name].image``
    ((3, size, size) in [0, 1]) and the example's pixels in a random order."""
    fig, axes = plt.subplots(len(examples), 3, figsize=(9, 3.1 * len(examples)), squeeze=False)
    for (name, example), row in zip(examples.items(), axes, strict=True):
        resized = F.interpolate(as_image_batch(example), size=(size, size), mode="area")[0]
        shuffled = resized.flatten(1)[:, torch.randperm(size * size)].view(3, size, size)
        pictures = (resized, syntheses[name].image, shuffled)
        titles = ("example", "synthesized", "example's pixels shuffled")
        for ax, image, what in zip(row, pictures, titles, strict=True):
            ax.imshow(image.permute(1, 2, 0).numpy())
            ax.set_title(f"{name}: {what}")
            ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
