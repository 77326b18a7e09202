"""Receptive fields of whole networks: the recurrence along the path against backpropagation
through the real modules, and against published values."""

import pytest

from course.measure.receptive import measured_receptive_field, receptive_path
from course.models import get_model


@pytest.mark.parametrize(
    "name, size, published",
    [("alexnet_paper", 227, 195), ("vgg16", 224, 212)],  # Araujo et al., Distill 2019
)  # fmt: skip
def test_sequential_networks_match_published_fields(name, size, published):
    path = receptive_path(get_model(name), (3, size, size))
    assert path[-1].size == published and path[-1].jump == 32


@pytest.mark.parametrize(
    "name, layer, input_size",
    [("alexnet_paper", "conv5", 256), ("vgg16", "features.30", 256),
     ("googlenet_paper", "inception4a", 320), ("resnet50", "layer3", 416),
     ("inception_bn", "blocks.4", 320)],
)  # fmt: skip
def test_the_arithmetic_agrees_with_backpropagation(name, layer, input_size):
    model = get_model(name)
    path = receptive_path(model)
    computed = [f.size for f in path if f.name == layer or f.name.startswith(layer + ".")][-1]
    assert measured_receptive_field(model, layer, input_size) == computed


def test_branches_follow_the_one_that_sees_furthest_and_shortcuts_are_left_out():
    paper = receptive_path(get_model("googlenet_paper"))
    inside = [f for f in paper if f.name.startswith("inception3a.")]
    assert [f.kernel for f in inside] == [1, 5]  # the 5x5 branch (1x1 reduce, then 5x5)
    resnet = receptive_path(get_model("resnet50"))
    assert not any("downsample" in f.name for f in resnet)
    assert len([f for f in resnet if f.name.startswith("layer")]) == 3 * (3 + 4 + 6 + 3)


def test_unknown_layer_is_named():
    with pytest.raises(ValueError, match="layer 'conv9' is not a module of the model"):
        measured_receptive_field(get_model("alexnet_paper"), "conv9", 64)
