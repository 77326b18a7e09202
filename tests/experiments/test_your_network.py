"""Notebook 10's worked example, its budget tools and its design exercise.

The network notebook 10 writes in its cells is the one ``your_network`` trained (same layers,
same outputs from the same seed); ``budget_table`` counts what PyTorch counts and refuses a bad
limit by name; ``training_ms_per_image`` leaves the model as it was; the design exercise passes
its worked solution, refuses the worked example (over the tighter budget) and names what to
change for each usual mistake; ``plot_architectures`` draws your networks beside 09's."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course.exercises.design import DesignTask
from course.experiments import architectures, load_results, your_network
from course.measure.budget import budget_table, costs, training_ms_per_image
from course.models.summary import count_macs

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "10_your_own_network.ipynb"


def notebook_cells_defining(*names: str) -> dict:
    """Run the notebook's code cells that define ``names`` (and nothing else) in a namespace."""
    namespace = {"torch": torch, "nn": nn}
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and any(
            line.startswith((f"class {n}(", f"def {n}("))
            for n in names
            for line in source.splitlines()
        ):
            exec(source.split("\n\nnet = ")[0], namespace)  # the definitions, not their use
    return namespace


def test_the_notebooks_network_is_the_stored_one():
    ns = notebook_cells_defining("Residual", "conv_bn", "basic", "bottleneck", "MyNet")
    torch.manual_seed(0)
    theirs = ns["MyNet"]()
    torch.manual_seed(0)
    ours = your_network.WorkedExample()
    assert [(k, v.shape) for k, v in theirs.state_dict().items()] == [
        (k, v.shape) for k, v in ours.state_dict().items()
    ]
    x = torch.randn(3, 1, 32, 32)
    torch.testing.assert_close(theirs.eval()(x), ours.eval()(x))


def test_the_budget_is_set_by_the_architectures():
    limits = your_network.budget()
    counts = {n: costs(architectures.build(n))["parameters"] for n in architectures.NETWORKS}
    assert limits["parameters"] == min(counts.values()) - 1
    assert limits["macs"] == 2 * count_macs(architectures.build(your_network.VGG), (1, 32, 32))


def test_budget_table_counts_what_pytorch_counts():
    net = your_network.WorkedExample()
    parameters = sum(p.numel() for p in net.parameters() if p.requires_grad)
    table = budget_table(net, parameters=parameters, macs=10**9)
    assert table.rows[0][:2] == ("parameters", f"{parameters:,}") and table.rows[0][3] == "yes"
    assert budget_table(net, parameters=parameters - 1).rows[0][3] == "NO"
    slow = budget_table(net, minutes=1, ms_per_image=0.5, images=60_000, epochs=8).rows[0]
    assert slow[1:] == ("4.0", "1", "NO")  # 0.5 ms x 480,000 images = 4 minutes


@pytest.mark.parametrize("kwargs, says", [
    (dict(), "give at least one limit"),
    (dict(parameters=-5), "parameters must be a positive number"),
    (dict(macs="many"), "macs must be a positive number"),
    (dict(minutes=10), "minutes= needs ms_per_image="),
])  # fmt: skip
def test_a_bad_budget_says_which_argument(kwargs, says):
    with pytest.raises(ValueError, match=says):
        budget_table(your_network.WorkedExample(), **kwargs)


def test_training_time_is_measured_on_a_copy():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(4, 10))  # fmt: skip
    before = {k: v.clone() for k, v in net.state_dict().items()}
    data = your_network.load_data(your_network.CONFIGS["fast"])
    assert training_ms_per_image(net, data, images=128, batch_size=64) > 0
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    with pytest.raises(ValueError, match="images must be an integer of at least batch_size"):
        training_ms_per_image(net, data, images=10)
    with pytest.raises(ValueError, match="more than the 256 training images"):
        training_ms_per_image(net, data, images=1024)


# --- the design exercise ------------------------------------------------------------------------

TASK = DesignTask(parameters=60_000, macs=5_000_000)


def solution_class() -> type:
    namespace = {"nn": nn, "conv_bn": your_network.conv_bn, "basic": your_network.basic,
                 "bottleneck": your_network.bottleneck}  # fmt: skip
    exec(TASK.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    return namespace["Net"]


def test_the_worked_solution_passes_and_the_worked_example_does_not():
    assert TASK.check(solution_class())
    feedback = TASK.check(your_network.WorkedExample)
    assert not feedback and "over the budget" in feedback.message


def sequential(layers) -> type:
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(*layers())

        def forward(self, x):
            return self.layers(x)

    return Net


def gap_head(c):
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]


MISTAKES = {
    "have 1 (grey)": sequential(lambda: [nn.Conv2d(3, 8, 3), *gap_head(8)]),
    "has no nn.Conv2d": sequential(lambda: [nn.Flatten(), nn.Linear(1024, 10)]),
    "x.mean(dim=(2, 3))": sequential(lambda: [nn.Conv2d(1, 10, 3)]),
    "average each map first (global average pooling)": sequential(
        lambda: [nn.Conv2d(1, 16, 3, padding=1), nn.Flatten(), nn.Linear(16 * 32 * 32, 10)]),
    "a 1x1 bottleneck": sequential(
        lambda: [nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(4), nn.Conv2d(8, 128, 3),
                 nn.Conv2d(128, 128, 3), *gap_head(128)]),
    "halve the map sooner": sequential(
        lambda: [nn.Conv2d(1, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1),
                 *gap_head(64)]),
    "stopped with an error": sequential(lambda: [nn.Conv2d(1, 8, 3), nn.Linear(5, 10)]),
}  # fmt: skip


@pytest.mark.parametrize("says", MISTAKES)
def test_each_design_mistake_gets_its_own_message(says):
    feedback = TASK.check(MISTAKES[says])
    assert not feedback and says in feedback.message, feedback.message


def test_the_skeleton_is_neutral():
    class Net(nn.Module):  # as the notebook gives it
        def __init__(self):
            super().__init__()
            ...

        def forward(self, x): ...

    class Started(nn.Module):  # layers, but forward returns nothing yet
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x): ...

    for skeleton in (Net, Started):
        feedback = TASK.check(skeleton)
        assert not feedback and not feedback.graded and "nothing yet" in feedback.message
    assert not TASK.check(None).graded


def test_a_bad_budget_is_refused():
    with pytest.raises(ValueError, match="parameters"):
        DesignTask(parameters=0)


# --- the chart ----------------------------------------------------------------------------------


def test_your_networks_join_the_architectures_chart():
    from course.viz.experiment_plots import plot_architectures

    result = load_results("architectures")
    extra = {"mine": {"parameters": 2e5, "accuracies": [0.90, 0.92], "ms_per_image": 0.4}}
    left, right = plot_architectures(result, extra=extra).axes
    for ax, x in ((left, 0.2), (right, 0.4)):
        points = {c.get_label(): c.lines[0].get_xydata()[0] for c in ax.containers}
        assert len(points) == len(result["summary"]["networks"]) + 1
        np.testing.assert_allclose(points["mine"], [x, 91.0])
    with pytest.raises(ValueError, match=r"extra\['mine'\] needs .* it lacks \['ms_per_image'\]"):
        plot_architectures(result, extra={"mine": {"parameters": 1, "accuracies": [0.9]}})
