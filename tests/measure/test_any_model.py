"""Every instrument of the course works on any ``nn.Module`` that classifies images: each model
of the registry, torchvision's own networks built offline without weights, and networks a
student writes in a cell (an ``nn.Sequential`` and a subclass with its own ``forward``). Each
tool's answer is compared with what the model itself says (its layers, PyTorch's shapes), and a
model a tool cannot handle gets a message that says what it needs."""

import pytest
import torch
import torchvision
from torch import nn

from course.measure.gradients import layer_gradient_norms
from course.measure.predictions import class_scores, confusion_matrix, top_k_error
from course.measure.probe import first_convolution
from course.measure.receptive import measured_receptive_field, receptive_path
from course.models import count_depth, get_model, list_models, summarize
from course.models.summary import count_parameters
from course.training import Preprocess, fit
from course.viz.feature_explorer import FeatureMapExplorer


class StudentNet(nn.Module):
    """What a student might write: containers, a custom forward, global average pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.block(self.stem(x)).mean(dim=(2, 3)))


def student_sequential() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 12, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(12, 10))  # fmt: skip


def small(name: str) -> nn.Module:
    """A registry model for 10 classes of 1-channel images, a quarter wide where it can be."""
    try:
        return get_model(name, num_classes=10, in_channels=1, width=0.25)
    except TypeError:  # no width option
        return get_model(name, num_classes=10, in_channels=1)


def side(model: nn.Module) -> int:
    return max(32, getattr(model, "min_input_size", None) or 32)


KINDS = {  # kind -> builder of (model, channels of its images)
    "student Sequential": lambda: (student_sequential(), 1),
    "student subclass": lambda: (StudentNet(), 1),
    "torchvision resnet18": lambda: (torchvision.models.resnet18(num_classes=10), 3),
    "torchvision googlenet": lambda: (
        torchvision.models.googlenet(num_classes=10, aux_logits=True, init_weights=False), 3),
    "torchvision vgg11": lambda: (torchvision.models.vgg11(num_classes=10), 3),
}  # fmt: skip


def convolutions_that_run(model: nn.Module, size: tuple[int, int, int]) -> list[str]:
    """The Conv2d layers the layer table saw, in the order they ran (once each)."""
    names = [r.name for r in summarize(model, size) if r.kind == "Conv2d"]
    return list(dict.fromkeys(names))


@pytest.mark.parametrize("kind", KINDS)
def test_every_tool_reads_a_model_of_any_kind(kind):
    torch.manual_seed(0)
    model, channels = KINDS[kind]()
    size = (channels, 64, 64)
    rows = summarize(model, size)
    aux = sum(count_parameters(m) for n, m in model.named_children() if n.startswith("aux"))
    assert sum(r.parameters for r in rows) == count_parameters(model) - aux
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert 0 < count_depth(model, size) <= len(weighted)
    convs = convolutions_that_run(model, size)

    last = receptive_path(model, size)[-1]
    if kind.startswith("student"):  # no branches: the path is every layer, checked by gradient
        assert last.size == measured_receptive_field(model, convs[-1], 64)

    images = torch.randint(0, 256, (4, channels, 64, 64), dtype=torch.uint8)
    preprocess = Preprocess.for_images(images, size=64)
    explorer = FeatureMapExplorer(model, images, preprocess, list("abcd"), render=False)
    assert list(explorer.layers) == convs
    seen, maps = explorer.maps("c")
    shapes = {r.name: r.output_shape[1:] for r in rows if r.kind == "Conv2d"}
    assert all(tuple(maps[n].shape) == shapes[n] for n in convs)
    assert explorer.draw("c", convs[-1], 0) is not None

    x, y = preprocess.eval_batch(images), torch.tensor([0, 1, 2, 3])
    norms = layer_gradient_norms(model, x, y, aux_weight=0.3)
    assert [n for n, _ in norms] == [n for n, m in model.named_modules() if m in weighted]
    scores = class_scores(model, images, preprocess)
    assert scores.shape == (4, 10)
    assert 0 <= top_k_error(scores, y, k=5) <= 1
    assert confusion_matrix(scores.argmax(1), y, 10).sum() == 4
    assert first_convolution(model)[1].in_channels == channels


@pytest.mark.parametrize("name", list_models())
def test_every_tool_reads_every_registry_model(name):
    torch.manual_seed(0)
    model = small(name)
    n = side(model)
    size = (1, n, n)
    convs = convolutions_that_run(model, size)
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(convs) >= 5 and 0 < count_depth(model, size) <= len(weighted)
    assert receptive_path(model, size)[-1].size > 1
    images = torch.randint(0, 256, (2, 1, n, n), dtype=torch.uint8)
    preprocess = Preprocess.for_images(images, size=n)
    explorer = FeatureMapExplorer(model, images, preprocess, ["a", "b"], render=False)
    assert list(explorer.layers) == convs
    x = preprocess.eval_batch(images)
    norms = layer_gradient_norms(model, x, torch.tensor([0, 1]))
    assert len(norms) == len(weighted)
    assert class_scores(model, images, preprocess).shape == (2, 10)


def test_fit_trains_a_student_network_and_torchvisions_googlenet_with_its_auxiliary_heads():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (64,))
    tv = torchvision.models.googlenet(num_classes=10, aux_logits=True, init_weights=False)
    history = fit(tv, (images, labels), epochs=1, batch_size=32, progress=False)
    assert len(history.train_loss) == 1 and history.train_loss[0] > 0
    student = StudentNet()
    history = fit(student, (images[:, :1], labels), epochs=1, batch_size=32, progress=False)
    assert len(history.train_loss) == 1


def test_a_model_a_tool_cannot_read_gets_a_message_that_says_what_it_needs():
    student = student_sequential()
    with pytest.raises(ValueError, match=r"Sequential could not run on images of shape "
                       r"\(3, 32, 32\): .*first convolution takes 1-channel images: give images "
                       r"of shape \(1, H, W\)"):  # fmt: skip
        summarize(student, (3, 32, 32))
    with pytest.raises(ValueError, match=r"could not run on images of shape \(1, 2, 2\): .*"
                       r"a larger one may be needed"):  # fmt: skip
        count_depth(student, (1, 2, 2))
    images = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    no_conv = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(ValueError, match=r"Sequential has no nn.Conv2d layer: the explorer"):
        FeatureMapExplorer(no_conv, images, Preprocess.for_images(images), ["a", "b"],
                           render=False)  # fmt: skip
    tv = torchvision.models.googlenet(num_classes=10, aux_logits=True, init_weights=False)
    with pytest.raises(ValueError, match=r"layer 'aux1.conv.conv' did not run .* auxiliary head"):
        measured_receptive_field(tv, "aux1.conv.conv", 96)

    class TwoOutputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = student_sequential()

        def forward(self, x):
            return {"scores": self.net(x)}

    with pytest.raises(TypeError, match=r"must return class scores, a tensor \(N, classes\), "
                       r"got a dict"):  # fmt: skip
        layer_gradient_norms(TwoOutputs(), torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]))


@pytest.mark.parametrize("kind", KINDS)
def test_a_budget_counts_any_model(kind):
    from course.measure.budget import budget_table, costs

    model, channels = KINDS[kind]()
    size = (channels, side(model), side(model))
    found = costs(model, size)
    assert found["parameters"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert found["macs"] > 0 and found["depth"] == count_depth(model, size)
    assert budget_table(model, size, parameters=found["parameters"]).rows[0][3] == "yes"
