"""Inception diagrams and branch maps are drawn from the modules, so they follow the model."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.models.googlenet import Inception, InceptionNaive  # noqa: E402
from course.viz.inception_plots import plot_branch_maps, plot_inception_block  # noqa: E402


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_diagram_shows_every_layer_and_count():
    block = Inception(192, 64, 96, 128, 16, 32, 32)
    labels = texts(plot_inception_block(block, in_channels=192))
    for label in ("1x1 conv, 64", "1x1 conv, 96", "3x3 conv, 128", "1x1 conv, 16", "5x5 conv, 32",
                  "3x3 max-pool", "1x1 conv, 32", "previous layer (192 channels)",
                  "concatenation (256 channels)"):  # fmt: skip
        assert label in labels
    branches = (block.branch1, block.branch2, block.branch3, block.branch4)
    per_branch = [sum(p.numel() for p in b.parameters()) for b in branches]
    assert [t for t in labels if t.endswith("params")] == [f"{n:,} params" for n in per_branch]
    plt.close("all")


def test_the_naive_diagram_passes_the_input_through():
    labels = texts(plot_inception_block(InceptionNaive(192, 64, 128, 32), in_channels=192))
    assert "concatenation (416 channels)" in labels and "0 params" in labels  # pool has none
    with pytest.raises(
        ValueError, match="block must be an Inception or InceptionNaive, got Conv2d"
    ):
        plot_inception_block(nn.Conv2d(1, 1, 1), in_channels=1)
    plt.close("all")


def test_branch_maps_label_where_each_branch_sits():
    torch.manual_seed(0)
    block = Inception(8, 4, 4, 6, 2, 5, 3).eval()
    fig = plot_branch_maps(block, torch.randn(1, 8, 6, 6), channels_per_branch=2)
    ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert [y.split("\n")[-1] for y in ylabels] == [
        "channels 0-3", "channels 4-9", "channels 10-14", "channels 15-17"
    ]  # fmt: skip
    # Each branch named by all its layers: the pool branch is a pool, then a 1x1 projection.
    assert ylabels[3].split("\n")[:2] == ["3x3 max-pool", "-> 1x1 conv, 3"]
    assert ylabels[1].split("\n")[:2] == ["1x1 conv, 4", "-> 3x3 conv, 6"]
    assert fig._suptitle.get_text() == "branch outputs, concatenated into 18 channels"
    with pytest.raises(ValueError, match=r"one image of shape \(1, C, H, W\), got \(2, 8, 6, 6\)"):
        plot_branch_maps(block, torch.randn(2, 8, 6, 6))
    plt.close("all")
