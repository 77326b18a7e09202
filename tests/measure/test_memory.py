"""Training memory, counted from shapes, checked on a network small enough to count by hand."""

import pytest
import torch
from torch import nn

from course.measure.memory import activation_memory, training_memory
from course.models import count_parameters, get_model


def tiny():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10))  # fmt: skip


def test_each_new_output_counts_once_for_the_batch():
    """In-place ReLU, Flatten's view and the Sequential's own output share storage with an
    output already counted: they add nothing."""
    rows = activation_memory(tiny(), (3, 8, 8), batch=5)
    assert [r.kind for r in rows] == ["Conv2d", "MaxPool2d", "Linear"]
    assert [r.bytes for r in rows] == [4 * 8 * 8 * 5 * 4, 4 * 4 * 4 * 5 * 4, 10 * 5 * 4]
    half = activation_memory(tiny(), (3, 8, 8), batch=5, dtype=torch.bfloat16)
    assert [r.bytes * 2 for r in half] == [r.bytes for r in rows]
    copying = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())  # not in place: counted
    assert [r.kind for r in activation_memory(copying, (3, 8, 8), batch=1)] == ["Conv2d", "ReLU"]


def test_training_memory_adds_three_copies_of_the_weights_the_input_and_the_activations():
    model = get_model("alexnet_paper")
    counts = training_memory(model, (3, 227, 227), batch=128)
    weights = count_parameters(model) * 4
    assert counts["weights"] == counts["gradients"] == counts["momentum"] == weights
    assert counts["input"] == 128 * 3 * 227 * 227 * 4
    rows = activation_memory(model, (3, 227, 227), batch=128)
    outputs = sum(r.bytes for r in rows)
    assert counts["activations"] == outputs
    assert counts["activation gradients"] == max(r.bytes for r in rows)
    assert counts["total"] == 3 * weights + counts["input"] + outputs + max(r.bytes for r in rows)
    # The two towers' LRN halves and their concatenation are three distinct tensors.
    assert [r.kind for r in rows[:4]] == ["Conv2d", "LocalResponseNorm", "LocalResponseNorm",
                                          "TowerLRN"]  # fmt: skip
    # conv1's output, 96 maps of 55x55 for 128 images, is the largest (the paper's Figure 2).
    largest = max(activation_memory(model, (3, 227, 227), batch=128), key=lambda r: r.bytes)
    assert (largest.name, largest.output_shape) == ("conv1", (96, 55, 55))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch must be an int >= 1, got 0"):
        activation_memory(tiny(), (3, 8, 8), batch=0)
    with pytest.raises(ValueError, match=r"input_size must be \(channels, height, width\)"):
        activation_memory(tiny(), (8, 8))
