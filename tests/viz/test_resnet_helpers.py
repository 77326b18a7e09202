"""Helpers of the ResNet notebook: per-layer gradient norms (against autograd by hand), the
bottleneck exercise (against torchvision's ResNet-50 blocks), the diagrams and the widget."""

import matplotlib
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from course.exercises.resnet import BottleneckTask
from course.measure.gradients import layer_gradient_norms, weighted_layers
from course.models import get_model
from course.models.resnet import BasicBlock, Bottleneck
from course.models.summary import count_parameters
from course.training import History
from course.viz.resnet_explorer import GradientNormExplorer
from course.viz.resnet_plots import (
    block_layers,
    plot_blocks,
    plot_gradient_norms,
    plot_training_errors,
    shortcut_label,
)

matplotlib.use("Agg")


def batch(n=8, size=16, channels=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(n, channels, size, size, generator=g)
    return images, torch.randint(0, 10, (n,), generator=g)


# --- gradient norms ---------------------------------------------------------------------------


def test_gradient_norms_match_autograd_by_hand():
    torch.manual_seed(0)
    model = get_model("resnet20", in_channels=1)
    x, y = batch()
    measured = layer_gradient_norms(model, x, y)
    torch.manual_seed(0)
    reference = get_model("resnet20", in_channels=1).train()
    F.cross_entropy(reference(x), y).backward()
    expected = [(n, m.weight.grad.norm().item()) for n, m in reference.named_modules()
                if isinstance(m, (nn.Conv2d, nn.Linear))]  # fmt: skip
    assert [n for n, _ in measured] == [n for n, _ in expected]
    assert len(measured) == 20  # 19 convolutions + the classifier: the "20" in resnet20
    for (_, a), (_, b) in zip(measured, expected, strict=True):
        assert a == pytest.approx(b, rel=1e-5)


def test_gradient_norms_leave_the_model_as_found():
    model = get_model("plain20", in_channels=1).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layer_gradient_norms(model, *batch())
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # running statistics untouched


def test_gradient_norms_reject_bad_input():
    model = get_model("resnet20", in_channels=1)
    x, y = batch()
    with pytest.raises(ValueError, match="images"):
        layer_gradient_norms(model, x[0], y)
    with pytest.raises(ValueError, match="labels"):
        layer_gradient_norms(model, x, y[:3])
    with pytest.raises(ValueError, match="no layers"):
        layer_gradient_norms(model, x, y, kinds=(nn.LSTM,))


def test_weighted_layers_count_the_depth():
    for depth in (20, 56):
        assert len(weighted_layers(get_model(f"plain{depth}"))) == depth


# --- the bottleneck exercise ------------------------------------------------------------------

RESNET50 = torchvision.models.resnet50()
BLOCKS = [  # (task, the same block in torchvision's ResNet-50)
    (BottleneckTask(64, 64, 1), RESNET50.layer1[0]),
    (BottleneckTask(256, 64, 1), RESNET50.layer1[1]),
    (BottleneckTask(256, 128, 2), RESNET50.layer2[0]),
    (BottleneckTask(1024, 512, 2), RESNET50.layer4[0]),
]


@pytest.mark.parametrize("task, block", BLOCKS)
def test_bottleneck_answer_is_torchvisions_count(task, block):
    assert task.check(count_parameters(block))
    assert task.projection == (block.downsample is not None)


@pytest.mark.parametrize("task, _", BLOCKS)
def test_every_known_mistake_is_wrong_and_gets_its_hint(task, _):
    mistakes = task.known_mistakes()
    values = [v for v, _ in mistakes]
    assert len(values) == len(set(values))
    for value, hint in mistakes:
        feedback = task.check(value)
        assert not feedback and hint in feedback.message


def test_bottleneck_mistakes_forgetting_bn_or_projection():
    task = BottleneckTask(256, 128, 2)
    block = RESNET50.layer2[0]
    no_bn = sum(p.numel() for m in block.modules() if isinstance(m, nn.Conv2d)
                for p in m.parameters())  # fmt: skip
    assert "BatchNorm" in task.check(no_bn).message and "three convolutions" not in str(
        task.check(no_bn)
    )
    no_projection = count_parameters(block) - count_parameters(block.downsample)
    assert "projection" in task.check(no_projection).message
    assert task.check(None).message.startswith("Replace")
    assert "too low" in task.check(5).message


def test_identity_shortcut_task_has_no_projection_hint():
    task = BottleneckTask(256, 64, 1)
    assert not task.projection
    assert all("projection" not in hint for _, hint in task.known_mistakes())


@pytest.mark.parametrize(
    "kwargs", [dict(in_channels=0, width=4), dict(in_channels=4, width=4, stride=3)]
)
def test_bottleneck_task_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        BottleneckTask(**kwargs)


# --- diagrams and the widget ------------------------------------------------------------------


def test_block_layers_and_shortcut_labels():
    assert len(block_layers(BasicBlock(64, 64))) == 2
    assert len(block_layers(RESNET50.layer2[0])) == 3
    assert shortcut_label(BasicBlock(64, 64)).startswith("identity")
    assert "projection" in shortcut_label(RESNET50.layer2[0])
    assert f"{count_parameters(RESNET50.layer2[0].downsample):,}" in shortcut_label(
        RESNET50.layer2[0]
    )
    assert shortcut_label(BasicBlock(64, 64, shortcut=False)).startswith("no shortcut")
    assert "zero" in shortcut_label(get_model("resnet20").layer2[0])
    with pytest.raises(ValueError, match="not a residual block"):
        block_layers(nn.ReLU())


def test_plots_show_numbers_read_from_the_modules():
    fig = plot_blocks({"basic": BasicBlock(64, 64), "bottleneck": Bottleneck(256, 64)})
    texts = [t.get_text() for ax in fig.axes for t in ax.texts + [ax.title]]
    assert any(f"{count_parameters(Bottleneck(256, 64)):,}" in t for t in texts)
    assert any(f"{3 * 3 * 64 * 64:,}" in t for t in texts)  # one 3x3 conv of the basic block
    h = History(epoch=[1, 2], train_acc=[0.5, 0.8], val_acc=[0.4, 0.7])
    fig = plot_training_errors({"plain20": h, "resnet20": h})
    assert [line.get_ydata()[1] for line in fig.axes[0].lines][0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="depth"):
        plot_training_errors({"plain": h})
    fig = plot_gradient_norms({"plain20": [1.0, 2.0], "resnet20": [1.0, 1.0]})
    assert len(fig.axes[0].lines) == 2


def test_gradient_explorer_draws_what_the_function_measures():
    x, y = batch(n=4, size=8)
    explorer = GradientNormExplorer(x, y, depth=20, model_kwargs=dict(in_channels=1), render=False)
    curves = explorer.norms(20)
    torch.manual_seed(0)
    direct = [n for _, n in layer_gradient_norms(get_model("plain20", in_channels=1), x, y)]
    assert curves["plain20"] == pytest.approx(direct)
    assert "plain20" in explorer.readout.value and "resnet20" in explorer.readout.value
    explorer.depth.value = 32  # the slider drives the readout
    assert "plain32" in explorer.readout.value and len(explorer.norms(32)["resnet32"]) == 32
    fig = explorer.draw(32)
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="depth"):
        GradientNormExplorer(x, y, depth=21)


def test_bottleneck_task_takes_numpy_and_tensor_integers():
    import numpy as np

    task = BottleneckTask(np.int64(256), torch.tensor(64))
    assert task == BottleneckTask(256, 64) and type(task.in_channels) is int
    with pytest.raises(ValueError, match=r"width must be an int >= 1, got 64.0"):
        BottleneckTask(256, 64.0)
