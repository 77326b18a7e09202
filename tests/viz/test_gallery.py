"""Every figure the package draws passes the layout check (course.viz.collisions), the gallery
holds every figure function there is, and each architecture family has one colour everywhere."""

import ast
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course.viz import gallery, style  # noqa: E402
from course.viz.collisions import check_figure  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VIZ = REPO / "course" / "viz"
ENTRIES = gallery.entries()


@pytest.mark.parametrize("entry", ENTRIES, ids=[name for name, *_ in ENTRIES])
def test_every_figure_reads_cleanly(entry, tmp_path):
    """No layout problem, and it saves as `make figures` saves it (a PNG at 100 dpi)."""
    name, _, draw = entry
    fig = draw()
    try:
        check_figure(fig, name)
        fig.savefig(tmp_path / "figure.png", dpi=100)
    finally:
        plt.close(fig)
    assert (tmp_path / "figure.png").stat().st_size > 0


def public_figure_functions() -> set[str]:
    """plot_* and draw_* functions of the plot modules, and every explorer's draw."""
    found = set()
    for path in VIZ.glob("*_plots.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and re.match(r"(plot|draw)_", node.name):
                found.add(node.name)
    for path in VIZ.glob("*_explorer.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(f, ast.FunctionDef) and f.name == "draw" for f in node.body
            ):
                found.add(f"{node.name}.draw")
    return found


def test_the_gallery_holds_every_figure_function():
    covered = {function for _, functions, _ in ENTRIES for function in functions}
    assert public_figure_functions() - covered == set()
    assert len({name for name, *_ in ENTRIES}) == len(ENTRIES)


def test_notebook_figures_fit_the_column():
    """Figures made in the notebooks themselves: every literal width at most style.WIDTH."""
    too_wide = []
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        for width in re.findall(r"figsize=\(([0-9.]+),", notebook.read_text()):
            if float(width) > style.WIDTH:
                too_wide.append(f"{notebook.name}: {width}")
    assert too_wide == []


def test_one_colour_per_family_in_every_chart():
    from course.experiments import load_results
    from course.measure.compare import ArchitectureRecord
    from course.viz.compare_plots import plot_metric, plot_tradeoffs
    from course.viz.experiment_plots import plot_architectures

    records = [
        ArchitectureRecord("vgg16", "VGG", 138_000_000, 15_500_000_000, 16, None, 71.6),
        ArchitectureRecord("resnet50", "ResNet", 25_600_000, 4_100_000_000, 50, None, 76.1),
    ]
    scatter = plot_tradeoffs(records).axes[0]
    by_family = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in scatter.collections}
    bars = plot_metric(records, "parameters").axes[0].patches
    stored = plot_architectures(load_results("architectures")).axes[0]
    by_network = {c.get_label(): to_hex(c.lines[0].get_color()) for c in stored.containers}
    expected = {f: to_hex(c) for f, c in style.FAMILY_COLORS.items()}
    assert by_family == {"VGG": expected["VGG"], "ResNet": expected["ResNet"]}
    assert [to_hex(b.get_facecolor()) for b in bars] == [expected["VGG"], expected["ResNet"]]
    assert by_network and all(
        c == expected[style.family_of(name)] for name, c in by_network.items()
    )  # fmt: skip
    assert len(set(expected.values())) == len(expected)  # families told apart
    plt.close("all")


def test_family_of_names_and_refuses_unknown_ones():
    assert style.family_of("vgg11_bn") == "VGG"
    assert style.family_of("alexnet_small") == "AlexNet"
    assert style.family_of("Inception-BN") == "Inception-BN"
    assert style.family_of("plain56") == "plain"
    with pytest.raises(ValueError, match=r"no architecture family for 'lenet5': names start with"):
        style.family_of("lenet5")
    with pytest.raises(TypeError, match="name must be a model name"):
        style.family_of(3)


def test_make_figures_writes_every_figure(tmp_path, monkeypatch, capsys):
    """`make figures` (gallery.main) writes one PNG per figure, named after it, and exits 0
    without a layout problem, 1 with one. Every figure is drawn, checked and saved above; three
    stand for them here (drawing every figure again took 30 s), and no two share a file."""
    files = [gallery.file_name(name) for name, *_ in ENTRIES]
    assert len(set(files)) == len(files)
    chosen = ENTRIES[:3]
    monkeypatch.setattr(gallery, "entries", lambda: chosen)
    assert gallery.main([str(tmp_path)]) == 0
    names = {gallery.file_name(name) for name, *_ in chosen}
    assert {path.name for path in tmp_path.glob("*.png")} == names
    assert "0 layout problem(s)" in capsys.readouterr().out

    def overlapping():  # two texts on top of each other
        fig, ax = plt.subplots()
        ax.text(0.5, 0.5, "one label")
        ax.text(0.5, 0.5, "one label")
        return fig

    monkeypatch.setattr(gallery, "entries", lambda: [("overlap", [], overlapping)])
    assert gallery.main([str(tmp_path)]) == 1
    assert "1 layout problem(s)" in capsys.readouterr().out
