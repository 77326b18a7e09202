"""Every lecture notebook is committed with the outputs of a complete run (strict nbval compares
against them; a notebook saved without outputs would compare against nothing)."""

import json
import re
from pathlib import Path

import pytest

from course import runtime

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RECORD = REPO / "data" / runtime.STORED_RUNS_FILE


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_code_cell_was_run_in_order(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: cells not run: {counts.index(None)}, ..."
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not one run top to bottom"
    assert any(c["outputs"] for c in cells)


def test_the_lecture_notebooks_are_all_there():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(11)]


def stored_runs() -> dict:
    return json.loads(RECORD.read_text())["notebooks"]


def test_every_notebook_has_a_record_of_its_stored_run():
    """scripts/run_notebooks.py records machine, data and wall time of each stored run."""
    runs = stored_runs()
    assert sorted(runs) == [p.name for p in NOTEBOOKS]
    for name, run in runs.items():
        assert run["seconds"] is not None, f"{name}: its stored run did not finish"
        assert {"cpu", "cores", "native_bf16", "torch"} <= set(run["machine"]), name
        assert run["data"].startswith("the "), name


def test_every_notebook_runs_within_ten_minutes():
    """The course's promise for a 2-core CPU, as measured by the stored (full) runs."""
    slow = {name: run["seconds"] for name, run in stored_runs().items() if run["seconds"] > 600}
    assert not slow, f"full runs over 10 minutes: {slow}"


def test_readme_timings_are_the_stored_runs():
    """README.md's table of full-run times is the one scripts/run_notebooks.py printed."""
    readme = (REPO / "README.md").read_text()
    shown = dict(re.findall(r"^\| `(\d\d_\w+\.ipynb)` \| (\d+) s \|", readme, re.M))
    measured = {name: str(round(run["seconds"])) for name, run in stored_runs().items()}
    assert shown == measured
    total = sum(run["seconds"] for run in stored_runs().values())
    assert f"All eleven took {total / 60:.0f} minutes" in readme
