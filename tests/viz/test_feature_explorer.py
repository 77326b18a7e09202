"""The feature-map explorer's Python side: its maps are the layers' outputs after ReLU, the
channel slider follows the layer, and bad choices are explained."""

import pytest
import torch
import torch.nn.functional as F

from course.models import get_model
from course.training import Preprocess
from course.viz.feature_explorer import FeatureMapExplorer

NAMES = ["boot", "bag", "shirt"]


@pytest.fixture
def explorer():
    torch.manual_seed(0)
    model = get_model("alexnet_small", num_classes=10, in_channels=1, width=0.5, lrn=False)
    images = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    preprocess = Preprocess(mean=(0.29,), std=(0.35,), size=32, crop=32, pad=4, flip=True)
    return FeatureMapExplorer(model, images, preprocess.to_dict(), NAMES, render=False)


def test_maps_are_each_convolutions_output_after_relu(explorer):
    model = explorer.model.eval()
    x = explorer.preprocess.eval_batch(explorer.images["bag"][None])
    seen, maps = explorer.maps("bag")
    torch.testing.assert_close(seen, x[0, 0])
    with torch.no_grad():
        first = F.relu(model.conv1(x))
        second = F.relu(model.conv2(model.pool(first)))
    torch.testing.assert_close(maps["conv1"], first[0])
    torch.testing.assert_close(maps["conv2"], second[0])
    assert list(maps) == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    assert [m.shape[0] for m in maps.values()] == [32, 64, 96, 96, 64]


def test_the_channel_slider_follows_the_layer_and_the_readout_follows_the_controls(explorer):
    assert explorer.settings() == {"image": "boot", "layer": "conv1", "channel": 0}
    assert explorer.channel.max == 31
    explorer.layer.value = "conv3"
    assert explorer.channel.max == 95
    explorer.channel.value = 90
    assert "channel 90 of 96" in explorer.readout.value and "conv3" in explorer.readout.value
    explorer.layer.value = "conv1"  # 32 channels: the slider is moved into range
    assert explorer.channel.value == 31 and "channel 31 of 32" in explorer.readout.value
    explorer.image.value = "shirt"
    m = explorer.maps("shirt")[1]["conv1"][31]
    row, col = divmod(int(m.argmax()), m.shape[1])
    said = explorer.readout.value
    assert f"row {row}, column {col}" in said or "silent" in said


def test_bad_choices_are_explained(explorer):
    with pytest.raises(ValueError, match=r"layer must be one of \['conv1', .*got 'fc6'"):
        explorer.draw(image="bag", layer="fc6", channel=0)
    with pytest.raises(ValueError, match="channel must be an int from 0 to 63 for conv2, got 64"):
        explorer.describe(image="bag", layer="conv2", channel=64)
    with pytest.raises(ValueError, match=r"image must be one of \['boot', 'bag', 'shirt'\]"):
        explorer.maps("sneaker")
    with pytest.raises(ValueError, match="names must name each of the 3 images once"):
        FeatureMapExplorer(explorer.model, torch.zeros(3, 1, 28, 28, dtype=torch.uint8),
                           explorer.preprocess, ["a", "a", "b"], render=False)  # fmt: skip
