"""The model zoo against published numbers, torchvision's weights layout and its outputs."""

import math

import pytest
import torch
import torchvision
from torch import nn

from course.measure.conv import ConvSpec
from course.models import (
    AuxOutputs,
    count_depth,
    count_macs,
    get_model,
    list_models,
    parameter_breakdown,
    registry,
    skeleton,
)
from course.models.alexnet import AlexNetTwoTower
from course.models.googlenet import Inception, InceptionNaive
from course.models.resnet import BasicBlock, Bottleneck
from course.models.summary import count_parameters, summarize

# Models whose layout is torchvision's, so its published numbers and weights apply.
TORCHVISION = [
    "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
    "vgg19_bn", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
]  # fmt: skip
CIFAR = {"alexnet_small", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
         "plain20", "plain32", "plain44", "plain56", "plain110"}  # fmt: skip
PAPER_SIZE = {"alexnet_paper": 227, "alexnet_two_tower": 227, "alexnet_small": 24}
SMALL_SIZE = {"alexnet": 96, "alexnet_paper": 96, "alexnet_two_tower": 96}


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def tv_meta(name: str) -> dict:
    return torchvision.models.get_model_weights(name).DEFAULT.meta


# --- the registry ----------------------------------------------------------------------------


def test_registry_lists_every_family():
    names = list_models()
    assert names == sorted(names)
    for family in ("alexnet_paper", "vgg16_c", "googlenet_paper", "inception_bn", "resnet152",
                   "plain34", "resnet56", "plain56"):  # fmt: skip
        assert family in names


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown model 'resnet19'; did you mean .*valid names: alexnet, .*vgg19"
    ):
        get_model("resnet19")


@pytest.mark.parametrize(
    "typed, meant",
    [("ResNet18", "'resnet18'"), ("alexnet_smal", "'alexnet_small'"), ("VGG-16", "'vgg16'")],
)
def test_a_misspelt_name_gets_the_close_ones(typed, meant):
    with pytest.raises(ValueError, match=rf"unknown model '{typed}'; did you mean {meant}"):
        get_model(typed)
    with pytest.raises(ValueError, match=r"model name must be a str"):
        get_model(18)


# --- the smallest input, known before any compute ---------------------------------------------


@pytest.mark.parametrize("name", list_models())
def test_every_model_knows_its_smallest_input(name):
    """The probe's size works and one pixel less is refused by our check, with what to do,
    before the model computes anything (no torch 'Output size is too small')."""
    model = get_model(name, num_classes=10, width=0.125 if name != "alexnet_two_tower" else 0.25)
    smallest = model.min_input_size
    assert smallest is not None and smallest >= 1
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, model.in_channels, smallest, smallest)).shape == (1, 10)
        if smallest > 1:
            with pytest.raises(ValueError, match=rf"at least {smallest}x{smallest}.*size="):
                model(torch.randn(1, model.in_channels, smallest - 1, smallest - 1))


def test_probed_sizes_are_shared_through_the_file_the_environment_names(tmp_path, monkeypatch):
    """$COURSE_PROBE_CACHE: a new process takes the answer an earlier one stored instead of
    probing again; another version of the models' code, or a broken file, means probing again;
    unset, nothing is written."""
    probed = []
    real_probe = registry._probe_smallest_input

    def probe(name, options):
        probed.append(name)
        return real_probe(name, options)

    monkeypatch.setattr(registry, "_probe_smallest_input", probe)
    monkeypatch.setattr(registry, "_SMALLEST", {})  # this process has probed nothing yet
    path = tmp_path / "probes.json"
    monkeypatch.setenv(registry.PROBE_CACHE_ENV, str(path))

    def in_a_new_process():
        registry._SMALLEST.clear()
        return registry.smallest_input_size("vgg11", num_classes=10)

    assert in_a_new_process() == 32 and probed == ["vgg11"] and path.is_file()
    assert in_a_new_process() == 32 and probed == ["vgg11"]  # read, not probed
    monkeypatch.setattr(registry, "_code_version", lambda: "the models' code changed")
    assert in_a_new_process() == 32 and len(probed) == 2
    path.write_text('{"cut sho')
    assert in_a_new_process() == 32 and len(probed) == 3
    path.unlink()
    monkeypatch.delenv(registry.PROBE_CACHE_ENV)
    assert in_a_new_process() == 32 and len(probed) == 4 and not path.exists()
    for unwritable in (tmp_path, tmp_path / "no such folder" / "probes.json"):  # no sharing
        monkeypatch.setenv(registry.PROBE_CACHE_ENV, str(unwritable))
        assert in_a_new_process() == 32
    assert len(probed) == 6 and not list(tmp_path.parent.rglob("*.tmp"))


def test_which_models_need_more_than_fashion_mnist_gives():
    too_small = sorted(n for n in list_models() if skeleton(n).min_input_size > 28)
    assert too_small == [
        "alexnet", "alexnet_paper", "alexnet_two_tower", "googlenet_paper",
        "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg16_c", "vgg19",
        "vgg19_bn",
    ]  # fmt: skip
    assert skeleton("vgg16").min_input_size == 32  # five 2x2 poolings: 32 -> 1


def test_inputs_of_the_wrong_type_are_refused_before_compute():
    model = get_model("resnet20", num_classes=10, in_channels=1, width=0.25)
    with pytest.raises(TypeError, match=r"takes float images, got torch.uint8.*Preprocess"):
        model(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(TypeError, match=r"float32 weights but the input is torch.float64"):
        model(torch.zeros(2, 1, 28, 28, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts inside: allowed
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


# --- every model: shapes, no NaN, gradients, train/eval -----------------------------------


@pytest.mark.parametrize("name", list_models())
def test_forward_at_paper_resolution(name):
    size = PAPER_SIZE.get(name, 32 if name in CIFAR else 224)
    model = get_model(name).eval()
    with torch.no_grad():
        out = model(torch.randn(1, model.in_channels, size, size))
    assert out.shape == (1, 10 if name in CIFAR else 1000)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list_models())
def test_small_input_trains_every_parameter(name):
    """Every parameter gets a gradient: a question of the layers and how they connect, not of
    their widths, so the network is built at 1/8 width (the two-tower AlexNet at 1/4; the
    full-size forward pass is above)."""
    size = 16 if name in CIFAR else SMALL_SIZE.get(name, 64)
    torch.manual_seed(0)
    width = 0.125 if name != "alexnet_two_tower" else 0.25
    model = get_model(name, num_classes=7, in_channels=1, width=width).train()
    out = model(torch.randn(2, 1, size, size))
    outputs = [out.logits, *out.aux] if isinstance(out, AuxOutputs) else [out]
    for o in outputs:
        assert o.shape == (2, 7) and torch.isfinite(o).all()
    sum(o.square().mean() for o in outputs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []


@pytest.mark.parametrize("name", ["alexnet", "alexnet_paper", "vgg11", "googlenet_paper"])
def test_dropout_acts_in_training_only(name):
    size = SMALL_SIZE.get(name, 64)
    model, x = get_model(name, num_classes=5), torch.randn(2, 3, size, size)
    with torch.no_grad():
        model.eval()
        assert torch.equal(model(x), model(x))
        model.train()
        first, second = model(x), model(x)
    first = first.logits if isinstance(first, AuxOutputs) else first
    second = second.logits if isinstance(second, AuxOutputs) else second
    assert not torch.equal(first, second)


@pytest.mark.parametrize("name", ["googlenet", "googlenet_paper"])
def test_auxiliary_heads_exist_only_in_training(name):
    model, x = get_model(name, num_classes=4), torch.randn(2, 3, 64, 64)
    train_out = model.train()(x)
    assert isinstance(train_out, AuxOutputs) and len(train_out.aux) == 2
    eval_out = model.eval()(x)
    assert isinstance(eval_out, torch.Tensor) and eval_out.shape == (2, 4)
    without = get_model(name, num_classes=4, aux_logits=False).train()
    assert isinstance(without(x), torch.Tensor)


# --- published parameter counts --------------------------------------------------------------


@pytest.mark.parametrize("name", TORCHVISION)
def test_parameters_equal_torchvision_published_counts(name):
    kwargs = {"aux_logits": False} if name == "googlenet" else {}
    assert params(skeleton(name, **kwargs)) == tv_meta(name)["num_params"]


def test_paper_counts():
    assert params(skeleton("alexnet_paper")) == 60_965_224  # 227x227, 1000 classes
    assert params(skeleton("alexnet_two_tower")) == 60_965_224
    # torchvision's GoogLeNet with its auxiliary heads (NOTES.md: 13,004,888)
    assert params(skeleton("googlenet")) == 13_004_888
    # The paper's Table 6 (CIFAR-10): 0.27M, 0.46M, 0.66M, 0.85M, 1.7M parameters.
    for depth, millions in [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)]:
        count = params(skeleton(f"resnet{depth}"))
        assert round(count / 1e6, 2 if depth < 100 else 1) == millions, (depth, count)
        assert params(skeleton(f"plain{depth}")) == count  # option A shortcuts are free


def test_vgg_family_and_configuration_c():
    counts = {n: params(skeleton(n)) for n in ("vgg11", "vgg13", "vgg16_c", "vgg16", "vgg19")}
    # Table 2 of the paper: 133, 133, 134, 138, 144 million.
    assert [round(c / 1e6) for c in counts.values()] == [133, 133, 134, 138, 144]
    assert counts["vgg19"] == max(counts.values())  # the largest is VGG-19, 143.7M
    parts = parameter_breakdown(skeleton("vgg16"))
    assert parts["classifier"] / sum(parts.values()) > 0.89  # FC layers hold ~89%


def test_vgg_head_for_small_inputs():
    # 32x32 inputs end as 1x1 maps: fc_input=1 sizes the first FC layer for them, instead of
    # repeating the one vector 49 times (what the 7x7 head's adaptive pooling would do).
    small = get_model("vgg11", width=0.25, hidden=64, fc_input=1, num_classes=10)
    first = small.classifier[0]
    assert (first.in_features, first.out_features) == (128, 64)
    assert small(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    paper = get_model("vgg11", width=0.25, hidden=64, num_classes=10)
    assert paper.classifier[0].in_features == 128 * 49


def test_googlenet_paper_keeps_a_real_5x5_branch():
    paper, tv = skeleton("googlenet_paper"), skeleton("googlenet")
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert tv.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in paper.modules())


# --- torchvision's weights load into ours and give the same outputs ---------------------------


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_state_dict_loads_and_matches(name):
    torch.manual_seed(0)
    kwargs = {"aux_logits": True, "init_weights": True} if name == "googlenet" else {}
    reference = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    ours = skeleton(name).eval()  # takes torchvision's tensors themselves (assign=True)
    ours.load_state_dict(reference.state_dict(), strict=True, assign=True)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


def test_googlenet_transform_input_matches_torchvision():
    reference = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True,
                                             transform_input=True).eval()  # fmt: skip
    ours = skeleton("googlenet", aux_logits=False, transform_input=True).eval()
    ours.load_state_dict(reference.state_dict(), assign=True)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


# --- AlexNet's two towers ----------------------------------------------------------------------


def test_two_towers_equal_the_grouped_network():
    torch.manual_seed(0)
    grouped = get_model("alexnet_paper", num_classes=10).eval()
    towers = AlexNetTwoTower.from_grouped(grouped, devices=("cpu", "cpu")).eval()
    assert params(towers) == params(grouped)
    x = torch.randn(2, 3, 227, 227)
    with torch.no_grad():
        torch.testing.assert_close(towers(x), grouped(x), rtol=1e-4, atol=1e-5)


def test_tower_lrn_does_not_mix_towers():
    grouped = skeleton("alexnet_paper").eval()  # its LRN layer has no weights
    x = torch.zeros(1, 96, 5, 5)
    x[:, 50] = 3.0  # a map in tower B
    y = grouped.norm(x)
    assert torch.equal(y[:, :48], x[:, :48])  # tower A's maps are untouched by B's activity


def test_crossings_list_what_the_gpus_exchange():
    crossings = dict(AlexNetTwoTower.crossings(227))
    assert crossings["pooled conv2 output, into the other tower's conv3"] == (128, 13, 13)
    assert crossings["pooled conv5 output, into the other tower's fc6"] == (128 * 36,)


# --- Inception blocks: naive vs bottleneck -------------------------------------------------


def test_bottleneck_inception_is_cheaper_than_naive():
    # Inception 3a's input: 192 channels at 28x28; its 1x1/3x3/5x5 outputs 64/128/32.
    naive = InceptionNaive(192, 64, 128, 32)
    bottleneck = Inception(192, 64, 96, 128, 16, 32, 32)
    expected_naive = sum(ConvSpec(192, c, k).parameters() for c, k in [(64, 1), (128, 3), (32, 5)])
    assert count_parameters(naive) == expected_naive
    specs = [
        ConvSpec(192, 64, 1), ConvSpec(192, 96, 1), ConvSpec(96, 128, 3, padding=1),
        ConvSpec(192, 16, 1), ConvSpec(16, 32, 5, padding=2), ConvSpec(192, 32, 1),
    ]  # fmt: skip
    assert count_parameters(bottleneck) == sum(s.parameters() for s in specs)
    naive_macs, bottleneck_macs = (
        count_macs(naive, (192, 28, 28)),
        count_macs(bottleneck, (192, 28, 28)),
    )
    assert bottleneck_macs == sum(s.macs(28) for s in specs)
    # For block 3a the bottlenecks save more than half of both.
    assert count_parameters(naive) > 2 * count_parameters(bottleneck)
    assert naive_macs > 2 * bottleneck_macs
    x = torch.randn(1, 192, 28, 28)
    assert naive(x).shape == (1, naive.out_channels, 28, 28) == (1, 64 + 128 + 32 + 192, 28, 28)
    assert bottleneck(x).shape == (1, 256, 28, 28)


# --- ResNet options ------------------------------------------------------------------------


def test_zero_init_residual_makes_blocks_the_identity():
    model = get_model("resnet18", zero_init_residual=True).eval()
    x = torch.rand(2, 64, 16, 16)  # non-negative, like a ReLU output
    with torch.no_grad():
        for block in (model.layer1[0], model.layer1[1]):
            torch.testing.assert_close(block(x), x)


def test_stride_placement_options():
    v15, paper = skeleton("resnet50"), get_model("resnet50", stride_on="conv1")
    assert params(v15) == params(paper)
    assert v15.layer2[0].conv2.stride == (2, 2) and v15.layer2[0].conv1.stride == (1, 1)
    assert paper.layer2[0].conv1.stride == (2, 2) and paper.layer2[0].conv2.stride == (1, 1)
    with torch.no_grad():
        assert paper.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_plain_networks_have_no_shortcuts():
    plain = skeleton("plain34")
    blocks = [m for m in plain.modules() if isinstance(m, (BasicBlock, Bottleneck))]
    assert blocks and all(not b.shortcut and b.downsample is None for b in blocks)
    resnet = skeleton("resnet34")
    downsample = sum(params(b.downsample) for b in resnet.modules()
                     if isinstance(b, BasicBlock) and b.downsample is not None)  # fmt: skip
    assert params(resnet) - params(plain) == downsample


# --- summaries agree with published MACs ----------------------------------------------------


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "googlenet", "resnet18", "resnet50"])
def test_macs_match_torchvision_published_ops(name):
    gmacs = count_macs(skeleton(name), (3, 224, 224)) / 1e9
    assert math.isclose(gmacs, tv_meta(name)["_ops"], abs_tol=0.001)


def test_summary_totals_and_shapes():
    model = skeleton("alexnet_paper")
    rows = summarize(model, (3, 227, 227))
    assert sum(r.parameters for r in rows) == params(model)
    conv1 = next(r for r in rows if r.name == "conv1")
    assert conv1.output_shape == (1, 96, 55, 55)
    assert conv1.macs == ConvSpec(3, 96, 11, stride=4).macs(227)
    assert model.training  # summarize restores the mode it found


# --- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("resnet18", {"num_classes": 0}, r"num_classes must be an int >= 1, got 0"),
        ("vgg16", {"in_channels": 0}, r"in_channels must be an int >= 1, got 0"),
        ("vgg16", {"width": 0}, r"width must be a number between 0 and 1000"),
        ("vgg16", {"width": float("inf")}, r"width must be a number between 0 and 1000 .*got inf"),
        ("vgg16", {"head": "mlp"}, r"head must be 'fc' .* or 'gap', got 'mlp'"),
        ("vgg11", {"fc_input": 0}, r"fc_input must be an int >= 1 \(7 in the paper\), got 0"),
        ("alexnet", {"dropout": 1.5}, r"dropout must be a probability in \[0, 1\), got 1.5"),
        ("alexnet_paper", {"activation": "gelu"}, r"activation must be 'relu' or 'tanh'"),
        ("resnet50", {"stride_on": "conv3"}, r"stride_on must be 'conv1' \(paper\) or 'conv2'"),
        ("resnet18", {"stem": "CIFAR"}, r"stem must be 'imagenet' .* or 'cifar' .*got 'CIFAR'"),
        ("googlenet", {"stem": None}, r"stem must be 'imagenet' .* or 'cifar' .*got None"),
        ("inception_bn", {"stem": "mnist"}, r"stem must be 'imagenet' .* or 'cifar'"),
        ("alexnet_two_tower", {"devices": ("cpu",)}, r"devices must be a pair"),
    ],
)
def test_bad_arguments(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_model(name, **kwargs)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet", "inception_bn"])
def test_the_cifar_stem_keeps_a_32x32_image_at_full_size_until_the_blocks(name):
    """stem="cifar": the first convolution 3x3 at stride 1 and no max-pool after it, so the
    first block sees a 4x larger side (ResNet: 32 instead of 8; the Inception networks keep
    their second max-pool: 16 instead of 4); the blocks themselves are unchanged."""
    from course.models.summary import summarize

    def first_block_input(model) -> int:
        rows = summarize(model, (1, 32, 32))
        block = next(r for r in rows if r.name.startswith(("layer1.", "inception3a.", "blocks.")))
        previous = rows[rows.index(block) - 1]
        return previous.output_shape[-1]

    imagenet = get_model(name, num_classes=10, in_channels=1, width=0.25)
    small = get_model(name, num_classes=10, in_channels=1, width=0.25, stem="cifar")
    first = next(m for m in small.modules() if isinstance(m, torch.nn.Conv2d))
    assert (first.kernel_size, first.stride, first.padding) == ((3, 3), (1, 1), (1, 1))
    assert first_block_input(small) == 4 * first_block_input(imagenet)
    assert first_block_input(small) == (32 if name.startswith("resnet") else 16)
    stem_weights = lambda m: next(p for p in m.parameters() if p.ndim == 4).numel()  # noqa: E731
    same = params(imagenet) - stem_weights(imagenet) == params(small) - stem_weights(small)
    assert same  # only the first kernel differs: 7x7 -> 3x3
    assert small.min_input_size <= imagenet.min_input_size
    with torch.no_grad():
        assert small.eval()(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def test_unknown_vgg_config_cifar_depth_and_googlenet_layout():
    from course.models.googlenet import GoogLeNet
    from course.models.resnet import CifarResNet
    from course.models.vgg import VGG

    with pytest.raises(ValueError, match=r"layout must be 'paper' or 'torchvision', got 'keras'"):
        GoogLeNet(layout="keras")
    with pytest.raises(ValueError, match=r"unknown VGG config 'F'; valid configs: \['A', 'B'"):
        VGG("F")
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2 .* got 21"):
        CifarResNet(21)


def test_in_channels_mismatch_at_run_time():
    model = get_model("resnet18", num_classes=10)  # built for RGB
    with pytest.raises(ValueError, match=r"built for in_channels=3 but the input has 1 channels"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(
        ValueError, match=r"expects a batch of images \(N, C, H, W\), got shape \(3, 32, 32\)"
    ):
        model(torch.zeros(3, 32, 32))


@pytest.mark.parametrize(
    "name, depth",
    [("alexnet_paper", 8), ("vgg11", 11), ("vgg16_c", 16), ("vgg19", 19), ("googlenet_paper", 22),
     ("googlenet", 22), ("resnet18", 18), ("resnet50", 50), ("resnet152", 152)],
)  # fmt: skip
def test_depth_is_the_number_in_the_name(name, depth):
    # "22 layers deep (when counting only layers with parameters)": the GoogLeNet paper.
    assert count_depth(skeleton(name), (3, 224, 224)) == depth


def test_depth_counts_the_longest_path_only():
    stack = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.Flatten(),
                          nn.LazyLinear(3))  # fmt: skip
    stack(torch.zeros(1, 1, 8, 8))
    assert count_depth(stack, (1, 8, 8)) == 3

    class TwoBranches(nn.Module):  # a 1-layer and a 2-layer branch, summed: depth 2
        def __init__(self):
            super().__init__()
            self.short = nn.Conv2d(1, 1, 1)
            self.long = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1))

        def forward(self, x):
            return self.short(x) + self.long(x)

    assert count_depth(TwoBranches(), (1, 4, 4)) == 2
    assert (
        count_depth(get_model("plain20"), (3, 32, 32))
        == 20
        == count_depth(get_model("resnet20"), (3, 32, 32))
    )


def test_summarize_takes_numpy_and_tensor_integers():
    import numpy as np

    model = get_model("resnet20", num_classes=10, in_channels=1, width=0.25)
    rows = summarize(model, (np.int64(1), torch.tensor(28), 28))
    assert rows == summarize(model, (1, 28, 28))
    with pytest.raises(ValueError, match=r"input_size must be \(channels, height, width\)"):
        summarize(model, (1, 28.0, 28))
