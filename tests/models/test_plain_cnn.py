"""The ten-layer plain CNN of notebook 07: its parameters counted by hand, its options."""

import torch
from torch import nn

from course.from_scratch.batchnorm import BatchNorm2d
from course.models.plain_cnn import WIDTHS, plain_cnn
from course.models.summary import count_parameters


def by_hand(batch_norm: bool, classes: int = 10) -> int:
    total, c_in = 0, 1
    for width in WIDTHS:
        total += 9 * c_in * width + (2 * width if batch_norm else width)  # BN: gamma, beta
        c_in = width
    return total + c_in * classes + classes


def test_parameters_and_output_shape():
    for bn in (False, True):
        model = plain_cnn(bn)
        assert count_parameters(model) == by_hand(bn)
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
        assert sum(isinstance(m, nn.Conv2d) for m in model) == 10
        assert all((m.bias is None) == bn for m in model if isinstance(m, nn.Conv2d))


def test_activation_and_norm_are_chosen():
    model = plain_cnn(True, nn.Tanh, norm=BatchNorm2d, in_channels=3, num_classes=4)
    assert sum(isinstance(m, nn.Tanh) for m in model) == 10
    assert sum(isinstance(m, BatchNorm2d) for m in model) == 10
    assert model(torch.zeros(2, 3, 28, 28)).shape == (2, 4)
