"""The course's widgets work in a real JupyterLab in headless Chromium.

For every notebook with a widget (its cells found by their content, never by number, see
tests/browser_lab.py), JupyterLab runs in fast mode the cells its widgets need (found by the
names in the code, see browser_lab.cells_needed; nbval runs every cell in its own kernel); then
none of them may show an error, each widget must render as a widget (not as its text fallback),
and moving one of its controls must change what it shows. Screenshots of each widget go to the
test's tmp_path.

Then every explorer, built in a scratch notebook as its lesson builds it, is driven like a
student would into its invalid and extreme states, and must keep its layout in each of them
(test_widgets_hold_their_layout_in_every_state).

Select or skip these tests with `-m browser` / `-m "not browser"`; `make screenshots` keeps
the screenshots of the lessons' widgets in docs/screenshots/. Without Playwright or
Chromium they skip locally, but fail under CI=true so that CI cannot pass without them.
"""

import json
import os
import shutil
import time
from pathlib import Path

import browser_lab as lab
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="module")
def requirements():
    missing = lab.missing_requirements()
    if missing and in_ci():
        pytest.fail(f"browser tests cannot run under CI=true: {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)


@pytest.fixture(scope="module")
def server(requirements, tmp_path_factory):
    work = tmp_path_factory.mktemp("jupyterlab")
    root = lab.copy_notebooks(NOTEBOOKS, work / "notebooks")
    env = dict(os.environ, COURSE_FAST="1", IPYKERNEL_CELL_NAME="<IPY-INPUT>",
               PYDEVD_DISABLE_FILE_VALIDATION="1")  # fmt: skip
    env.pop("MPLBACKEND", None)  # the kernel picks its inline backend itself
    with lab.lab_server(root, work, env) as lab_server:
        yield lab_server


@pytest.fixture(scope="module")
def browser(requirements, tmp_path_factory):
    with lab.chromium(tmp_path_factory.mktemp("chromium")) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def lab_tab(server, browser):
    tab = lab.LabTab(browser, server)
    yield tab
    tab.close()


@pytest.fixture
def notebook_page(request, server, browser, lab_tab):
    page = lab.LabPage(browser, server, request.param, tab=lab_tab)
    try:
        yield page
    finally:
        try:
            page.close()  # fails if the notebook's cells stay in the shared tab
        finally:
            server.shutdown_kernels()


WIDGET_NOTEBOOKS = lab.widget_notebooks(NOTEBOOKS)


@pytest.mark.browser
@pytest.mark.parametrize(
    "notebook_page", [nb.name for nb in WIDGET_NOTEBOOKS], indirect=True,
    ids=[nb.stem for nb in WIDGET_NOTEBOOKS],
)  # fmt: skip
def test_widgets_render_and_react_in_jupyterlab(notebook_page, tmp_path):
    print(f"screenshots of {notebook_page.notebook}'s widgets: {tmp_path}")
    notebook = NOTEBOOKS / notebook_page.notebook
    cells = lab.widget_cells(notebook)
    needed = sorted({i for cell in cells for i in lab.cells_needed(notebook, cell.index)})
    if os.environ.get("COURSE_SCREENSHOTS"):  # pictures of the lesson as a student runs it
        needed = None  # every cell, in order (skipped cells may draw random numbers)
    notebook_page.run_all(only=needed)  # fails on any error or traceback, naming the cell
    stem = Path(notebook_page.notebook).stem
    for cell in cells:
        for number, view in enumerate(notebook_page.widget_outputs(cell.index, cell.views)):
            label = f"{stem}-{cell.name}" + (f"-{number + 1}" if number else "")
            assert notebook_page.cut_labels(view) == [], f"{label}: labels cut short"
            control = notebook_page.check_reacts(view, label, tmp_path)
            print(f"{label} (cell {cell.index}): rendered; moving the {control} changed it")
    keep_screenshots(tmp_path)


def keep_screenshots(shots: Path) -> None:
    """With COURSE_SCREENSHOTS=folder (``make screenshots``), keep each widget's picture after
    its control moved, e.g. for the README's docs/screenshots/, named after the notebook and
    the variable the cell shows (``01_convolution-explorer.png``): no cell number, so the names
    stay when cells move."""
    folder = os.environ.get("COURSE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for shot in shots.glob("*-after.png"):
            shutil.copy(shot, Path(folder) / shot.name.replace("-after", ""))


def test_widget_notebooks_are_found():
    """The automatic detection finds the notebooks known to have widgets (a notebook whose
    stored outputs were stripped would silently drop out of the browser tests)."""
    found = [nb.name for nb in WIDGET_NOTEBOOKS]
    assert {"01_convolution.ipynb", "02_imagenet.ipynb"} <= set(found), found


def test_widget_cells_are_found_by_content(tmp_path):
    """A cell shows a widget when its code ends with ``<name>.widget`` (stored outputs or not);
    widget views a cell stored for another reason (a training cell's progress bar) do not make
    it one; the cells' numbers are found, never written."""
    view = {"output_type": "display_data", "data": {lab.WIDGET_MIME: {"model_id": "x"}}}
    text = {"output_type": "stream", "name": "stdout", "text": "VBox(children=...)"}

    def code(source, outputs=()):
        return {"cell_type": "code", "source": source, "outputs": list(outputs)}

    cells = [
        {"cell_type": "markdown", "source": "explorer.widget"},
        code("print(1)", [text]),
        code("x = 1", [view, text, view]),
        code("from x import E\nexplorer = E()\nexplorer.widget\n# shown above"),
        code(["feature_explorer.widget"]),  # nbformat's list of lines
        code("explorer.widget.children[0]"),  # not the widget itself
        code("display(explorer.widget)"),
        code("explorer.widget.layout.width = '10px'"),
    ]
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": cells}))
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": cells[:2]}))
    assert lab.widget_cells(tmp_path / "a.ipynb") == [
        lab.WidgetCell(3, 1, "explorer"),
        lab.WidgetCell(4, 1, "feature_explorer"), lab.WidgetCell(6, 1, "explorer-cell6"),
    ]  # fmt: skip
    assert lab.widget_notebooks(tmp_path) == [tmp_path / "a.ipynb"]


def test_a_widget_needs_the_cells_that_bind_or_use_its_names(tmp_path):
    """The browser runs only the cells a widget needs: those that bind a name it takes from
    other cells or use a value of one (also after the widget's cell took it, and by calling a
    function that touches one), and what they take in turn; not a cell that only reads a module
    or another model's value."""
    sources = [
        "import torch\nfrom m import Explorer, train",  # needed: binds Explorer
        "x = []\nother = torch.ones(3)",  # needed: binds x
        "train(other)\ntorch.manual_seed(0)",  # not needed: other's value only
        "def grow(items):\n    items.append(torch.zeros(1))",  # needed: binds grow
        "grow(x)",  # needed: uses x's value
        "y = 1",  # not needed: nothing the widget reads
        "explorer = Explorer(x)\nexplorer.widget",  # the widget
        "x.clear()",  # after it
    ]
    cells = [{"cell_type": "code", "source": code, "outputs": []} for code in sources]
    cells.insert(2, {"cell_type": "markdown", "source": "x = 2"})  # indices count it
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": cells}))
    assert lab.cells_needed(tmp_path / "a.ipynb", 7) == [0, 1, 4, 5, 7]

    later = [
        "from m import Explorer, get_model, fit",
        "model = get_model()",
        "explorer = Explorer(model)",
        "fit(model)",  # needed: changes the model after the widget took it
        "history = []",
        "def record(value):\n    history.append(value)",  # needed: touches history
        "record(3)",  # needed: calls it
        "for name in ['a', 'b']:\n    print(name)",  # not needed: its own loop variable
        "explorer.show(history)\nexplorer.widget",
    ]
    cells = [{"cell_type": "code", "source": code, "outputs": []} for code in later]
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": cells}))
    assert lab.cells_needed(tmp_path / "b.ipynb", 8) == [0, 1, 2, 3, 4, 5, 6, 8]


# --- every widget through its invalid and extreme states --------------------------------------

# Each explorer built as its lesson builds it, on small data, in a scratch notebook that the test
# writes into the served folder: the lessons' cells may move, these do not.
STATES_SETUP = """\
import torch

from course.data.fashion_mnist import FASHION_MNIST_CLASSES
from course.measure.compare import ArchitectureRecord
from course.models import get_model
from course.training import Preprocess
from course.viz.batchnorm_explorer import ShiftExplorer
from course.viz.compare_explorer import ArchitectureExplorer
from course.viz.conv_explorer import ConvExplorer
from course.viz.feature_explorer import FeatureMapExplorer
from course.viz.imagenet_explorer import ImageNetExplorer
from course.viz.resnet_explorer import GradientNormExplorer

torch.set_num_threads(1)  # tensors this small: more threads only contend for the cores
torch.manual_seed(0)
images = torch.randint(0, 256, (10, 1, 28, 28), dtype=torch.uint8)
prep = Preprocess.for_images(images)
"""
STATE_WIDGETS = {
    "conv": """\
conv = ConvExplorer(input_size=7, kernel_size=3)
conv.widget""",
    "imagenet": """\
imagenet = ImageNetExplorer(query="panda")
imagenet.widget""",
    "shift": """\
steps = list(range(0, 60, 10))
runs = {run: {f"tanh {i}": torch.randn(len(steps), 500) * (1 + i * spread) for i in range(1, 11)}
        for run, spread in (("without batch norm", 0.5), ("with batch norm", 0.0))}
shift = ShiftExplorer(runs, steps)
shift.widget""",
    "gradients": """\
gradients = GradientNormExplorer(torch.randn(2, 1, 8, 8), torch.arange(2), depth=56,
                                 model_kwargs=dict(num_classes=10, in_channels=1, width=0.125))
gradients.widget""",
    "architectures": """\
records = [ArchitectureRecord("alexnet", "AlexNet", 61_100_840, 714_188_480, 8, 12.0, 56.5),
           ArchitectureRecord("vgg16", "VGG", 138_357_544, 15_470_264_320, 16, 90.0, 71.6),
           ArchitectureRecord("inception_bn", "Inception-BN", 11_295_240, 2_030_000_000, 34,
                              20.0, None),
           ArchitectureRecord("resnet50", "ResNet", 25_557_032, 4_110_000_000, 50, 40.0, 76.1)]
architectures = ArchitectureExplorer(records)
architectures.widget""",
    "features": """\
model = get_model("alexnet_small", num_classes=10, in_channels=1, width=0.5, lrn=False)
features = FeatureMapExplorer(model, images, prep.to_dict(), list(FASHION_MNIST_CLASSES))
features.widget""",
}


def drive_conv(d: lab.WidgetDriver) -> None:
    d.press("kernel height", "ArrowRight", 2)  # 3 -> 5
    d.press("dilation", "ArrowRight")  # the kernel spans 9 pixels of a 7-pixel input
    d.check("kernel height 5, dilation 2", "Not a valid layer", wraps=True, picture=False)
    d.click("padding", "same")
    d.check("same padding", "output shape", picture=True)
    d.press("stride", "End")  # "same" needs stride 1
    d.check("same padding, stride 4", "Not a valid layer", picture=False)
    d.click("padding", "valid")  # the padding slider is disabled: its value still shows
    d.press("input height", "Home")
    d.check("valid padding, input height 1", "Not a valid layer", picture=False)
    d.press_all([("input height", "End"), ("input width", "End"), ("stride", "Home"),
                 ("dilation", "Home"), ("kernel width", "End"), ("in channels", "End"),
                 ("out channels", "End")])  # fmt: skip
    d.choose("groups", "64")
    d.type_value("position", "9999")  # beyond the last output position
    d.check("every slider at an end, the last position", "1×64×12×10", picture=True)


def drive_imagenet(d: lab.WidgetDriver) -> None:
    d.type("search", "zzzz")
    d.check("no class matches", "No class matches")
    d.type("search", "x" * 150)  # one word wider than the widget
    d.check("a long search that matches nothing", "No class matches", wraps=True)
    d.type("search", "dog")
    d.check("many matches", "Siblings among the 1000")
    d.click_tab(1)  # browse the tree
    for _ in range(7):
        d.choose("below", index=0)
    d.check("seven levels down the tree", "entity › physical entity")
    d.click_button("up")
    d.check("one level up", "entity › physical entity")


def drive_shift(d: lab.WidgetDriver) -> None:
    d.press("step", "End")
    d.check("the last step", picture=True)
    d.choose("layer", index=0)
    d.press("step", "Home")
    d.check("the first layer at the first step", picture=True)


def drive_gradients(d: lab.WidgetDriver) -> None:
    d.press("depth", "Home")
    d.check("depth 20", "plain20", picture=True)
    d.press("depth", "End")
    d.check("depth 110", "plain110", picture=True)


def drive_architectures(d: lab.WidgetDriver) -> None:
    d.choose_none("families")
    d.check("no family chosen", "0 of 4 architectures", picture=False)
    d.choose("families", "VGG")
    d.press("max parameters (M)", "Home")  # no VGG has fewer than 1 million parameters
    d.check("VGG under 1 million parameters", "0 of 4 architectures", picture=False)
    d.press("max parameters (M)", "End")
    d.choose("accuracy against", index=1)
    d.check("VGG against another measure", "1 of 4 architectures", picture=True)


def drive_features(d: lab.WidgetDriver) -> None:
    d.choose("layer", "conv3")
    d.type_value("channel", "500")  # beyond the layer's 96 channels
    d.check("conv3, a channel beyond its range typed", "channel 95 of 96", picture=True)
    d.choose("layer", "conv1")  # 32 channels: the channel follows
    d.check("back to conv1", "channel 31 of 32", picture=True)
    d.choose("image", index=9)
    d.check("the last image", "conv1", picture=True)


DRIVES = {"conv": drive_conv, "imagenet": drive_imagenet, "shift": drive_shift,
          "gradients": drive_gradients, "architectures": drive_architectures,
          "features": drive_features}  # fmt: skip


def write_states_notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(STATES_SETUP)] + [
        nbformat.v4.new_code_cell(source) for source in STATE_WIDGETS.values()
    ]  # fmt: skip
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    path = folder / "widget_states.ipynb"
    nbformat.write(notebook, path)
    return path


def test_every_explorer_is_driven_through_its_states():
    """A new explorer gets a scratch cell and a drive here (and so through its states)."""
    explorers = {p.stem for p in (REPO / "course" / "viz").glob("*_explorer.py")}
    built = {line.split(" import ")[0].rsplit(".", 1)[1]
             for line in STATES_SETUP.splitlines() if "_explorer import" in line}  # fmt: skip
    assert built == explorers
    assert list(DRIVES) == list(STATE_WIDGETS)


@pytest.mark.browser
def test_widgets_hold_their_layout_in_every_state(server, browser, tmp_path):
    """Each explorer, driven the way a student would (keys on slider handles, typing into text
    boxes and readouts, clicks) into its invalid and extreme states in a 1400x1000 window, keeps
    its layout: the controls keep their widths, slider values stay visible, nothing scrolls or
    runs out of its box, messages wrap, no broken image, no toggle buttons on two rows."""
    from playwright.sync_api import Error as PlaywrightError

    notebook = write_states_notebook(server.root)
    page = lab.LabPage(browser, server, notebook.name, size=(1400, 1000))
    print(f"screenshots of every state: {tmp_path}")
    try:
        started = time.monotonic()
        page.run_all()
        print(f"ran the scratch notebook in {time.monotonic() - started:.0f} s")
        problems = []
        for index, name in enumerate(STATE_WIDGETS, start=1):
            started = time.monotonic()
            view = page.widget_outputs(index, 1)[0]
            driver = lab.WidgetDriver(page, view, name, tmp_path)
            try:
                driver.check("first state", picture=None if name == "imagenet" else True)
                DRIVES[name](driver)
            except (lab.WidgetCheckFailed, PlaywrightError) as error:  # on to the next widget
                driver.problems.append(f"{name}: stopped after {driver.states} states: {error}")
            print(f"{name}: {driver.states} states in {time.monotonic() - started:.0f} s")
            problems += driver.problems
        assert not problems, "\n".join(problems)
    finally:
        page.close()
        server.shutdown_kernels()
