"""Inception diagrams and branch maps are drawn from the modules, so they follow the model."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.models.googlenet import Inception, InceptionNaive  # noqa: E402
from course.viz import style  # noqa: E402
from course.viz.inception_plots import (  # noqa: E402
    plot_branch_maps,
    plot_inception_block,
    plot_inception_blocks,
)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_diagram_shows_every_layer_and_count():
    block = Inception(192, 64, 96, 128, 16, 32, 32)
    fig = plot_inception_block(block, in_channels=192, title="3a")
    labels = texts(fig)
    for label in ("previous layer (192 channels)", "concatenation (256 channels)"):
        assert label in labels
    # One box per layer, input to output, each with the parameters of that very layer.
    layers = [layer for b in (block.branch1, block.branch2, block.branch3, block.branch4)
              for layer in (b if isinstance(b, nn.Sequential) else [b])]  # fmt: skip
    boxes = [t for t in labels if t.endswith("params")]
    assert len(boxes) == len(layers) == 7
    for layer in layers:
        params = sum(p.numel() for p in layer.parameters())
        if isinstance(layer, nn.MaxPool2d):
            assert "3x3 max-pool\n0 params" in boxes
        else:
            k, c = layer.conv.kernel_size[0], layer.conv.out_channels
            assert f"{k}x{k} conv, {c}\n{params:,} params" in boxes
    total = sum(p.numel() for p in block.parameters())
    assert fig.axes[0].get_title() == f"3a: {total:,} parameters"
    plt.close("all")


def test_the_naive_diagram_passes_the_input_through():
    labels = texts(plot_inception_block(InceptionNaive(192, 64, 128, 32), in_channels=192))
    assert "concatenation (416 channels)" in labels and "3x3 max-pool\n0 params" in labels
    with pytest.raises(
        ValueError, match="block must be an Inception or InceptionNaive, got Conv2d"
    ):
        plot_inception_block(nn.Conv2d(1, 1, 1), in_channels=1)
    with pytest.raises(ValueError, match="needs at least one block"):
        plot_inception_blocks({}, in_channels=1)
    plt.close("all")


def test_two_blocks_side_by_side_when_they_fit_else_stacked():
    small = Inception(8, 4, 4, 6, 2, 5, 3)
    fig = plot_inception_blocks({"a": small, "b": small}, in_channels=8)
    (a, b) = [ax.get_position() for ax in fig.axes]
    assert a.x1 <= b.x0 and fig.get_figwidth() <= style.WIDTH  # side by side
    big = Inception(192, 64, 96, 128, 16, 32, 32)
    fig = plot_inception_blocks({"a": big, "b": big, "c": big}, in_channels=192)
    (a, b, c) = [ax.get_position() for ax in fig.axes]
    assert a.y0 >= b.y1 and b.y0 >= c.y1 and fig.get_figwidth() <= style.WIDTH  # stacked
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
