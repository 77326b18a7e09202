"""The package's layering, checked on its source: plots know nothing of widgets, training does
not reach up to pictures at import, and every explorer has the one shape of
``course.viz.explorer.Explorer``."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VIZ = REPO / "course" / "viz"


def imported(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


PLOTS = sorted(
    [*VIZ.glob("*_plots.py"), VIZ / "figures.py", VIZ / "style.py", VIZ / "collisions.py"]
)


@pytest.mark.parametrize("path", PLOTS, ids=lambda p: p.name)
def test_plot_modules_know_nothing_of_widgets(path):
    assert not {m for m in imported(path) if m.startswith("ipywidgets")}
    assert not {m for m in imported(path) if m.endswith("_explorer") or m.endswith(".explorer")}


def test_every_module_of_viz_is_a_plot_or_an_explorer():
    """Besides them: what plots share (figures, style), the layout check over all of them
    (collisions) and the list of every figure (gallery, behind `make figures`)."""
    shared = {"__init__.py", "figures.py", "explorer.py", "style.py", "collisions.py", "gallery.py"}
    names = {p.name for p in VIZ.glob("*.py")} - shared
    assert all(n.endswith("_plots.py") or n.endswith("_explorer.py") for n in names), names


@pytest.mark.parametrize("path", sorted((REPO / "course" / "training").glob("*.py")),
                         ids=lambda p: p.name)  # fmt: skip
def test_training_imports_no_pictures_at_import_time(path):
    assert not {m for m in imported(path, top_level_only=True) if m.startswith("course.viz")}
    assert "matplotlib.pyplot" not in imported(path, top_level_only=True)


def explorers():
    """One of each figure explorer, built without drawing; small data where they need it."""
    import torch

    from course.measure.compare import ArchitectureRecord
    from course.models import get_model
    from course.viz.batchnorm_explorer import ShiftExplorer
    from course.viz.compare_explorer import ArchitectureExplorer
    from course.viz.conv_explorer import ConvExplorer
    from course.viz.feature_explorer import FeatureMapExplorer
    from course.viz.resnet_explorer import GradientNormExplorer

    g = torch.Generator().manual_seed(0)
    runs = {r: {"tanh 1": torch.randn(3, 50, generator=g)} for r in ("a", "b")}
    record = ArchitectureRecord("v", "VGG", 1_000_000, 10_000_000, 11, 1.0, 70.0)
    images = torch.randn(2, 1, 8, 8, generator=g)
    labels = torch.tensor([0, 1])
    return [
        ConvExplorer(render=False),
        ShiftExplorer(runs, [0, 5, 10], render=False),
        ArchitectureExplorer([record], render=False),
        GradientNormExplorer(
            images, labels, depth=20, model_kwargs={"in_channels": 1}, render=False
        ),  # fmt: skip
        FeatureMapExplorer(
            get_model("alexnet_small", width=0.25),
            torch.zeros(2, 1, 28, 28, dtype=torch.uint8),
            {"mean": [0.5], "std": [0.25], "size": 32},
            ["a", "b"],
            render=False,
        ),
    ]


def test_every_figure_explorer_has_the_one_shape():
    """ImageNetExplorer browses a tree of names and draws no figure: it is not one of them."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from course.viz.explorer import Explorer

    built = explorers()
    found = {p.stem for p in VIZ.glob("*_explorer.py")} - {"imagenet_explorer"}
    assert {type(e).__module__.rsplit(".", 1)[1] for e in built} == found
    for explorer in built:
        assert isinstance(explorer, Explorer)
        settings = explorer.settings()
        assert set(settings) == set(explorer.controls) and explorer.widget is not None
        assert isinstance(explorer.draw(**settings), Figure)
        assert isinstance(explorer.describe(**settings), str)
        explorer.render = True
        explorer.refresh()
        assert bytes(explorer.picture.value).startswith(b"\x89PNG")
    plt.close("all")
