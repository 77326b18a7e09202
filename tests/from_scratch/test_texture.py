"""Texture synthesis from VGG features: layer names, Gram matrices, the optimizer, the weights."""

import pytest
import torch
import torchvision
from torch import nn

from course.from_scratch import texture
from course.models import get_model


@pytest.fixture(scope="module")
def vgg19_features():
    torch.manual_seed(0)
    return get_model("vgg19", width=0.125).features


def test_layer_names_follow_the_paper():
    names = texture.layer_names(torchvision.models.vgg19(weights=None).features)
    convs = [n for n in names if n.startswith("conv")]
    assert len(convs) == 16 and convs[-1] == "conv5_4"  # VGG-19: 16 conv layers in 5 blocks
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    # the indices style-transfer code uses for torchvision's vgg19.features
    assert [names.index(n) for n in texture.GATYS_LAYERS] == [1, 6, 11, 20, 29]
    bn_names = texture.layer_names(get_model("vgg11_bn").features)
    assert bn_names[:3] == ["conv1_1", "bn1_1", "relu1_1"]


def test_gram_matrix_matches_its_definition():
    f = torch.randn(2, 5, 4, 3)
    expected = torch.einsum("nchw,ndhw->ncd", f, f) / 12
    torch.testing.assert_close(texture.gram_matrix(f), expected)
    with pytest.raises(ValueError, match=r"features must have shape \(N, C, H, W\), got \(5, 4\)"):
        texture.gram_matrix(torch.randn(5, 4))


def test_features_are_the_chosen_layers_outputs(vgg19_features):
    extractor = texture.VGGFeatures(vgg19_features, layers=("relu2_1", "relu1_1"))
    assert extractor.layers == ["relu1_1", "relu2_1"]  # network order
    x = torch.rand(1, 3, 32, 32)
    mean, std = torch.tensor(texture.IMAGENET_MEAN), torch.tensor(texture.IMAGENET_STD)
    normalized = (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    relu1_1 = vgg19_features[:2](normalized)
    relu2_1 = vgg19_features[:7](normalized)
    out = extractor(x)
    torch.testing.assert_close(out[0], relu1_1)
    torch.testing.assert_close(out[1], relu2_1)
    assert len(extractor.features) == 7  # nothing after relu2_1 runs
    assert not extractor.train().training
    assert not any(p.requires_grad for p in extractor.parameters())


def test_bad_layers_and_images_are_refused(vgg19_features):
    with pytest.raises(ValueError, match=r"layers must be names from \['conv1_1'.*got \['relu9_"):
        texture.VGGFeatures(vgg19_features, layers=("relu9_9",))
    with pytest.raises(ValueError, match="unexpected layer"):
        texture.layer_names(nn.Sequential(nn.Conv2d(3, 3, 3), nn.Dropout()))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 3, H, W\), got \(1, 1, 8"):
        texture.VGGFeatures(vgg19_features)(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"image must be .* got \(2, 5, 5, 5\)"):
        texture.as_image_batch(torch.rand(2, 5, 5, 5))


def test_images_of_every_layout_become_one_batch():
    grey = torch.randint(0, 256, (6, 5), dtype=torch.uint8)
    batch = texture.as_image_batch(grey)
    assert batch.shape == (1, 3, 6, 5)
    torch.testing.assert_close(batch[0, 2], grey.float() / 255)
    hwc = torch.rand(6, 5, 3)
    torch.testing.assert_close(texture.as_image_batch(hwc)[0], hwc.permute(2, 0, 1))


def test_an_image_matches_its_own_statistics(vgg19_features):
    extractor = texture.VGGFeatures(vgg19_features)
    x = torch.rand(1, 3, 32, 32)
    grams = [texture.gram_matrix(f) for f in extractor(x)]
    assert texture.style_loss(grams, grams).item() == 0
    other = [texture.gram_matrix(f) for f in extractor(torch.rand(1, 3, 32, 32))]
    assert texture.style_loss(other, grams).item() > 0


def test_synthesis_lowers_the_loss_and_returns_an_image(vgg19_features):
    extractor = texture.VGGFeatures(vgg19_features, layers=("relu1_1", "relu2_1", "relu3_1"))
    example = torch.randint(0, 256, (40, 40), dtype=torch.uint8)
    result = texture.synthesize_texture(extractor, example, size=24, steps=3,
                                        evaluations_per_step=5, grey=True)  # fmt: skip
    assert result.image.shape == (3, 24, 24)
    assert 0 <= result.image.min() and result.image.max() <= 1
    torch.testing.assert_close(result.image[0], result.image[2])  # grey stays grey
    assert result.losses[-1] < 0.5 * result.losses[0]
    again = texture.synthesize_texture(extractor, example, size=24, steps=3,
                                       evaluations_per_step=5, grey=True)  # fmt: skip
    torch.testing.assert_close(again.image, result.image)  # seeded


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(size=8), "size must be an int >= 16, got 8"),
     (dict(steps=0), "steps must be an int >= 1, got 0"),
     (dict(evaluations_per_step=2.5), "evaluations_per_step must be an int >= 1, got 2.5")],
)  # fmt: skip
def test_bad_synthesis_arguments_are_refused(vgg19_features, kwargs, message):
    extractor = texture.VGGFeatures(vgg19_features, layers=("relu1_1",))
    with pytest.raises(ValueError, match=message):
        texture.synthesize_texture(extractor, torch.rand(3, 20, 20), **kwargs)


def test_vgg19_is_random_unless_weights_are_cached_or_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    from course.models.pretrained import cached_weights_file

    assert cached_weights_file("vgg19") is None
    model, said = texture.load_vgg19()
    assert said.startswith("random weights") and str(tmp_path) in said
    with pytest.raises(ValueError, match="download must be True or False, got 'yes'"):
        texture.load_vgg19(download="yes")

    # With the file in torch's cache the ImageNet weights are used (loading stubbed here).
    url = torchvision.models.VGG19_Weights.IMAGENET1K_V1.url
    cached = tmp_path / "checkpoints" / url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    cached.write_bytes(b"")
    state = torchvision.models.vgg19(weights=None).state_dict()
    from course.models import pretrained  # its hash check and safe loading: tests/test_offline.py

    monkeypatch.setattr(pretrained, "load_weights", lambda url, download: state)
    model, said = texture.load_vgg19()
    assert said == f"ImageNet weights (from the local cache {cached})"
    torch.testing.assert_close(model.features[0].weight, state["features.0.weight"])
