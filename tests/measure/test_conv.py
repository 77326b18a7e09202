"""Convolution arithmetic against what nn.Conv2d and torch's FLOP counter actually do."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from course.measure.conv import (
    ConvSpec,
    conv_output_size,
    conv_parameters,
    measure,
    receptive_fields,
)

small = st.integers(1, 7)
channels = st.sampled_from([1, 2, 3, 4, 6, 8, 12])


@st.composite
def padding_arg(draw, kernel, dilation, stride):
    kind = draw(st.sampled_from(["int", "pair", "per-side", "same", "valid"]))
    if kind == "int":
        return draw(st.integers(0, 4))
    if kind == "pair":
        return (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    if kind == "per-side":
        return tuple((draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(2))
    if kind == "same" and stride != (1, 1):
        return "valid"
    return kind


@st.composite
def conv_settings(draw):
    kernel = (draw(small), draw(small))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    in_ch, out_ch = draw(channels), draw(channels)
    spec = ConvSpec(
        in_ch, out_ch, kernel, stride,
        padding=draw(padding_arg(kernel, dilation, stride)),
        dilation=dilation,
        groups=draw(st.sampled_from(ConvSpec(in_ch, out_ch, 1).allowed_groups())),
        bias=draw(st.booleans()),
    )  # fmt: skip
    return spec, (draw(st.integers(1, 24)), draw(st.integers(1, 24)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_settings())
def test_arithmetic_equals_nn_conv2d(case):
    spec, size = case
    try:
        expected_shape = spec.output_shape(size)
    except ValueError as error:  # empty output: PyTorch must refuse it too
        assert "output would be empty" in str(error)
        with pytest.raises(RuntimeError):
            measure(spec, size)
        return
    real = measure(spec, size)
    assert real["output_shape"] == expected_shape
    assert real["parameters"] == spec.parameters()
    assert real["flops"] == 2 * spec.macs(size)  # the counter reports FLOPs = 2 x MACs


@settings(max_examples=100, deadline=None)
@given(conv_settings())
def test_to_module_matches_the_spec(case):
    spec, _ = case
    convs = [m for m in spec.to_module().modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1
    conv = convs[0]
    assert (conv.in_channels, conv.out_channels, conv.groups) == (
        spec.in_channels, spec.out_channels, spec.groups,
    )  # fmt: skip
    assert conv.kernel_size == spec.kernel_size and (conv.bias is not None) == spec.bias


def test_the_lecture_mini_task():
    assert conv_parameters(64, 128, 3) == 73_856
    assert conv_parameters(64, 128, 3) == sum(p.numel() for p in nn.Conv2d(64, 128, 3).parameters())


def test_same_padding_with_an_even_kernel_puts_the_extra_pixel_last():
    spec = ConvSpec(1, 1, (4, 5), padding="same", dilation=(1, 2))
    assert spec.padding_per_side() == ((1, 2), (4, 4))
    assert spec.output_size((9, 10)) == (9, 10)


def test_functions_for_a_single_dimension_pair():
    assert conv_output_size(32, 3, padding=1) == (32, 32)
    assert conv_output_size((227, 227), 11, stride=4) == (55, 55)  # AlexNet's first layer
    assert conv_output_size((7, 9), (3, 5), padding="valid") == (5, 5)


def test_output_positions_and_footprint():
    spec = ConvSpec(1, 1, 3, stride=2, dilation=2, padding=1)
    positions = spec.output_positions(9)
    assert len(positions) == len(set(positions)) == 4 * 4
    assert spec.footprint((1, 0)) == [(2 + 2 * i, 2 * j) for i in range(3) for j in range(3)]
    # Notebook 01: with stride 2, a 3x3 kernel never covers the last column of an 8x8 input.
    spec = ConvSpec(1, 1, 3, stride=2)
    covered = {col for pos in spec.output_positions(8) for _, col in spec.footprint(pos)}
    assert covered == set(range(7))


def test_formula_substitutes_the_numbers():
    text = ConvSpec(64, 128, 3, padding=1).formula(32)
    assert "H_out = floor((32 + 1 + 1 - 1·(3 - 1) - 1) / 1) + 1 = 32" in text
    assert "params = 128·64·3·3 + 128 = 73,856" in text


# --- receptive field ------------------------------------------------------------------------


def measured_receptive_field(layers, size=80):
    """Span and spacing of input pixels that reach outputs 0 and 1, by autograd."""
    x = torch.ones(1, 1, size, 1, requires_grad=True)
    y = x
    for k, s, d in layers:
        conv = nn.Conv2d(1, 1, (k, 1), stride=(s, 1), dilation=(d, 1), bias=False)
        nn.init.constant_(conv.weight, 1.0)
        y = conv(y)
    rows = []
    for out in (0, 1):
        (grad,) = torch.autograd.grad(y[0, 0, out, 0], x, retain_graph=True)
        rows.append(grad[0, 0, :, 0].nonzero().flatten())
    span = int(rows[0].max() - rows[0].min() + 1)
    return span, int(rows[1].min() - rows[0].min())


layer = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(layer, min_size=1, max_size=4))
def test_receptive_field_equals_autograd(layers):
    expected = receptive_fields(layers)[-1]
    try:
        span, jump = measured_receptive_field(layers)
    except (RuntimeError, IndexError):  # the stack shrank the input to nothing
        return
    assert (span, jump) == (expected.size, expected.jump)


def test_stacks_of_3x3_see_what_5x5_and_7x7_see():
    assert [rf.size for rf in receptive_fields([(3, 1, 1)] * 3)] == [3, 5, 7]
    # Notebook 01: dilations 1, 2, 4 make the same three layers see 15x15.
    assert receptive_fields([(3, 1, 1), (3, 1, 2), (3, 1, 4)])[-1].size == 15
    spec = ConvSpec(8, 8, 3, dilation=2)
    assert receptive_fields([spec, spec])[-1].size == 9


# --- invalid settings say which argument and what is allowed -------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(stride=0), r"stride must be an int >= 1, got 0"),
        (dict(stride=(1, 0)), r"stride\[1\] \(width\) must be an int >= 1, got 0"),
        (dict(dilation=0), r"dilation must be an int >= 1, got 0"),
        (dict(kernel_size=0), r"kernel_size must be an int >= 1, got 0"),
        (dict(kernel_size=(3,)), r"kernel_size must be an int or a \(height, width\) pair"),
        (dict(kernel_size=2.5), r"kernel_size must be an int >= 1, got 2.5"),
        (dict(in_channels=0), r"in_channels must be an int >= 1, got 0"),
        (dict(out_channels=True), r"out_channels must be an int >= 1, got True"),
        (dict(groups=4), r"in_channels \(6\) must be divisible by groups \(4\); allowed groups"),
        (dict(groups=3, out_channels=8), r"out_channels \(8\) must be divisible by groups \(3\)"),
        (dict(groups=0), r"groups must be an int >= 1, got 0"),
        (dict(padding=-1), r"padding must be an int >= 0, got -1"),
        (
            dict(padding=((0, -2), (0, 0))),
            r"padding\[0\] \(top, bottom\)\[1\] \(width\) must be an int >= 0",
        ),
        (dict(padding="full"), r"padding must be .* one of \('same', 'valid'\), got 'full'"),
        (dict(padding="same", stride=2), r"padding='same' needs stride 1 .* got stride=\(2, 2\)"),
        (dict(bias="yes"), r"bias must be True or False, got 'yes'"),
    ],
)
def test_invalid_settings(kwargs, message):
    args = dict(in_channels=6, out_channels=6, kernel_size=3) | kwargs
    with pytest.raises(ValueError, match=message):
        ConvSpec(**args)


def test_empty_output_names_the_dimension_and_sizes():
    with pytest.raises(
        ValueError, match=r"spans 9 pixels in width but the padded input has only 6"
    ):
        ConvSpec(1, 1, (1, 5), dilation=2, padding=1).output_size((8, 4))


def test_bad_input_size_and_layers():
    with pytest.raises(ValueError, match=r"input_size must be an int >= 1, got 0"):
        ConvSpec(1, 1, 3).output_size(0)
    with pytest.raises(ValueError, match=r"layers\[1\] must be a ConvSpec or a \(kernel, stride"):
        receptive_fields([(3, 1, 1), (3, 1)])
    with pytest.raises(ValueError, match=r"layers\[0\] stride must be an int >= 1, got 0"):
        receptive_fields([(3, 0, 1)])


@pytest.mark.parametrize("kind", [np.int64, torch.tensor], ids=["numpy", "0-d tensor"])
def test_numpy_and_tensor_integers_are_ints_too(kind):
    spec = ConvSpec(kind(64), kind(128), kind(3), stride=kind(2), padding=kind(1))
    assert spec == ConvSpec(64, 128, 3, stride=2, padding=1)
    assert spec.parameters() == 73_856
    with pytest.raises(ValueError, match=r"kernel_size must be an int >= 1, got 3.0"):
        ConvSpec(64, 128, 3.0)
    with pytest.raises(ValueError, match=r"in_channels must be an int >= 1, got True"):
        ConvSpec(True, 128, 3)
