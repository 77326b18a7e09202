"""What the experiments' docstrings claim about their set-up, checked: the map the FC and GAP
heads see, held-out images apart from the training images."""

import torch
from torch import nn

from course.experiments import fc_vs_gap
from course.experiments.common import fashion_mnist


def test_the_heads_see_a_4x4_map_of_a_32x32_image():
    config = fc_vs_gap.CONFIGS["reference"]
    for settings in fc_vs_gap.HEADS.values():
        model = fc_vs_gap.build(config, settings["head"]).eval()
        pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
        assert len(pools) == 3  # VGG's five, less the last two
        with torch.no_grad():
            assert model.features(torch.zeros(1, 1, 32, 32)).shape[1:] == (128, 4, 4)
            assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    fc = fc_vs_gap.build(config, "fc")
    assert fc.classifier[0].in_features == 128 * 4 * 4


def test_held_out_images_follow_the_training_images():
    data = fashion_mnist(dict(train_images=300, val_images=200, test_images=100))
    assert len(data["train"][0]) == 300 and len(data["val"][0]) == 200
    both = fashion_mnist(dict(train_images=500, test_images=100))["train"][0]
    assert torch.equal(torch.cat([data["train"][0], data["val"][0]]), both)
    assert "200 training images held out" in data["source"]
