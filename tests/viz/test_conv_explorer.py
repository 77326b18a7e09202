"""The convolution explorer's Python side: every control updates the readout to what a real
nn.Conv2d gives, invalid settings are explained, and Play visits each output position once."""

import re

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course.viz.conv_explorer import ConvExplorer


def reference(e: ConvExplorer):
    """Shape, parameters and MACs of nn.Conv2d built straight from the control values."""
    mode = e.padding_mode.value
    layer = nn.Conv2d(
        e.in_channels.value, e.out_channels.value, (e.kernel_h.value, e.kernel_w.value),
        stride=e.stride.value, padding=e.padding.value if mode == "number" else mode,
        dilation=e.dilation.value, groups=e.groups.value, bias=e.bias.value,
    )  # fmt: skip
    x = torch.zeros(1, e.in_channels.value, e.input_h.value, e.input_w.value)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = layer(x)
    params = sum(p.numel() for p in layer.parameters())
    return "×".join(map(str, y.shape)), f"{params:,}", f"{counter.get_total_flops() // 2:,}"


def shown(e: ConvExplorer):
    codes = re.findall(r"<code>(.*?)</code>", e.readout.value)
    return tuple(codes)


@pytest.fixture
def explorer():
    return ConvExplorer(render=False)


CHANGES = [
    ("input_h", 12), ("input_w", 5), ("kernel_h", 5), ("kernel_w", 1), ("padding", 2),
    ("stride", 3), ("dilation", 2), ("in_channels", 16), ("out_channels", 24),
    ("bias", False), ("padding_mode", "valid"),
]  # fmt: skip


@pytest.mark.parametrize("control, value", CHANGES)
def test_each_control_updates_the_readout(explorer, control, value):
    before = shown(explorer)
    getattr(explorer, control).value = value
    assert shown(explorer) == reference(explorer)
    assert shown(explorer) != before or control == "padding_mode"  # valid == padding 0


def test_groups_follow_the_channels(explorer):
    explorer.in_channels.value, explorer.out_channels.value = 12, 18
    assert list(explorer.groups.options) == [1, 2, 3, 6]
    explorer.groups.value = 6
    assert shown(explorer) == reference(explorer)
    explorer.in_channels.value = 8  # 6 no longer divides: back to a valid choice
    assert explorer.groups.value in explorer.groups.options == (1, 2)
    assert shown(explorer) == reference(explorer)


def test_same_padding_and_its_error_with_stride(explorer):
    explorer.padding_mode.value = "same"
    explorer.kernel_h.value = 4
    assert shown(explorer) == reference(explorer)
    assert explorer.padding.disabled
    explorer.stride.value = 2
    assert (
        "Not a valid layer" in explorer.readout.value and "needs stride 1" in explorer.readout.value
    )
    assert explorer.spec is None and explorer.play.max == 0


def test_empty_output_is_explained(explorer):
    explorer.input_h.value = 2
    explorer.kernel_h.value = 5
    assert "output would be empty" in explorer.readout.value


def test_play_walks_every_output_position_once(explorer):
    explorer.input_h.value, explorer.input_w.value = 9, 8
    explorer.stride.value = 2
    out_h, out_w = explorer.spec.output_size(explorer.input_size)
    visited = []
    for step in range(explorer.play.min, explorer.play.max + 1):
        explorer.play.value = step  # what the Play button does on each tick
        assert explorer.position.value == step  # linked
        visited.append(explorer.current_position())
    assert visited == [(r, c) for r in range(out_h) for c in range(out_w)]
    assert len(set(visited)) == out_h * out_w
    assert f"(row {out_h - 1}, col {out_w - 1})" in explorer.readout.value


def test_the_picture_follows_the_kernel():
    explorer = ConvExplorer(render=True)
    first = bytes(explorer.picture.value)
    assert first.startswith(b"\x89PNG")
    explorer.play.value = 3
    assert bytes(explorer.picture.value).startswith(b"\x89PNG")
    assert bytes(explorer.picture.value) != first
    explorer.kernel_h.value = 7
    explorer.input_h.value = 2  # empty output: no picture, an explanation instead
    assert bytes(explorer.picture.value) == b"" and "empty" in explorer.readout.value
