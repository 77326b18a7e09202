"""The course's widgets work in a real JupyterLab in headless Chromium.

For every notebook whose stored outputs hold a widget (found automatically, see
tests/browser_lab.py), JupyterLab runs all its cells in fast mode; then no cell may show an
error, each widget must render as a widget (not as its text fallback), and moving one of its
controls must change what it shows. Screenshots of each widget go to the test's tmp_path.

Select or skip these tests with `-m browser` / `-m "not browser"`; `make screenshots` keeps
the screenshots in docs/screenshots/. Without Playwright or
Chromium they skip locally, but fail under CI=true so that CI cannot pass without them.
"""

import json
import os
import shutil
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


@pytest.fixture
def notebook_page(request, server, browser):
    page = lab.LabPage(browser, server, request.param)
    try:
        yield page
    finally:
        page.close()
        server.shutdown_kernels()


WIDGET_NOTEBOOKS = lab.widget_notebooks(NOTEBOOKS)


@pytest.mark.browser
@pytest.mark.parametrize(
    "notebook_page", [nb.name for nb in WIDGET_NOTEBOOKS], indirect=True,
    ids=[nb.stem for nb in WIDGET_NOTEBOOKS],
)  # fmt: skip
def test_widgets_render_and_react_in_jupyterlab(notebook_page, tmp_path):
    print(f"screenshots of {notebook_page.notebook}'s widgets: {tmp_path}")
    notebook_page.run_all()  # fails on any error or traceback, naming the cell
    expected = lab.widget_cells(NOTEBOOKS / notebook_page.notebook)
    for cell, count in expected.items():
        for number, view in enumerate(notebook_page.widget_outputs(cell, count)):
            assert notebook_page.cut_labels(view) == [], f"cell {cell}: labels cut short"
            control = notebook_page.check_reacts(view, cell, number, tmp_path)
            print(f"cell {cell}, widget {number}: rendered; moving the {control} changed it")
    keep_screenshots(tmp_path)


def keep_screenshots(shots: Path) -> None:
    """With COURSE_SCREENSHOTS=folder (``make screenshots``), keep each widget's picture after
    its control moved, e.g. for the README's docs/screenshots/."""
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


def test_widget_cells_counts_stored_widget_views(tmp_path):
    view = {"output_type": "display_data", "data": {lab.WIDGET_MIME: {"model_id": "x"}}}
    text = {"output_type": "stream", "name": "stdout", "text": "VBox(children=...)"}
    cells = [
        {"cell_type": "markdown", "source": "x"},
        {"cell_type": "code", "outputs": [text]},
        {"cell_type": "code", "outputs": [view, text, view]},
    ]
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": cells}))
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": cells[:2]}))
    assert lab.widget_cells(tmp_path / "a.ipynb") == {2: 2}
    assert lab.widget_notebooks(tmp_path) == [tmp_path / "a.ipynb"]
