"""Every lecture notebook is committed with the outputs of a complete run (strict nbval compares
against them; a notebook saved without outputs would compare against nothing)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_code_cell_was_run_in_order(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: cells not run: {counts.index(None)}, ..."
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not one run top to bottom"
    assert any(c["outputs"] for c in cells)


def test_the_lecture_notebooks_are_all_there():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(9)]
