"""The notebooks read as lessons: short, with short cells and short output lines, checks out of
the student's view, nbval's markers as cell tags, and glossary links that lead somewhere.

What a notebook claims about a stored result is tested in tests/experiments/test_claims.py;
this file checks the form of the lessons (COURSE_DESIGN.md, "A notebook is a lesson")."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = REPO / "notebooks" / "glossary.ipynb"

MAX_CELLS = 45
MAX_CELL_LINES = 25  # a code cell a student reads
MAX_OUTPUT_LINE = 120  # characters, in any text a stored output shows
MAX_MINUTES = 45  # of reading: markdown words / 200, plus a minute per figure
MAX_VISIBLE_ASSERTS = 40  # in all notebooks together: the ones that teach
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception", "nbval-check-output"}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def hidden(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def visible_code(path: Path) -> list[str]:
    return [source(c) for c in cells(path) if c["cell_type"] == "code" and not hidden(c)]


def output_texts(cell: dict):
    for out in cell.get("outputs", []):
        if "text" in out:
            yield "".join(out["text"])
        for mime in ("text/plain", "text/markdown"):
            if mime in out.get("data", {}):
                yield "".join(out["data"][mime])


def reading_minutes(path: Path) -> float:
    words = sum(len(source(c).split()) for c in cells(path) if c["cell_type"] == "markdown")
    figures = sum(
        "image/png" in out.get("data", {}) for c in cells(path) for out in c.get("outputs", [])
    )
    return words / 200 + figures


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_lesson_is_about_forty_minutes(path):
    assert len(cells(path)) <= MAX_CELLS, f"{len(cells(path))} cells"
    assert reading_minutes(path) <= MAX_MINUTES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_cells_are_short_and_read_results_through_their_experiment(path):
    for code in visible_code(path):
        lines = code.splitlines()
        assert len(lines) <= MAX_CELL_LINES, f"a cell of {len(lines)} lines:\n{code}"
    for cell in cells(path):  # hidden cells too: a result is read through report and claims
        dug = re.search(r"\[[^\[\]\n]+\]\[[^\[\]\n]+\]\[[^\[\]\n]+\]", source(cell))
        assert not dug, f"digging three levels into a dict: {dug.group()}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_fit_the_column(path):
    for cell in cells(path):
        for text in output_texts(cell):
            longest = max(text.splitlines() or [""], key=len)
            assert len(longest) <= MAX_OUTPUT_LINE, f"{len(longest)} characters: {longest}"


@pytest.mark.parametrize("path", [*NOTEBOOKS, GLOSSARY], ids=lambda p: p.stem)
def test_nbval_markers_are_tags_not_comments(path):
    for cell in cells(path):
        assert "NBVAL_" not in source(cell), source(cell)
        tags = set(cell.get("metadata", {}).get("tags", []))
        unknown = {t for t in tags if t.startswith(("nbval", "raises"))} - NBVAL_TAGS
        assert not unknown, unknown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_live_reruns_are_not_compared(path):
    """A rerun's figures depend on the machine: its cell is tagged, so nbval runs it but does
    not compare what it printed."""
    for cell in cells(path):
        if cell["cell_type"] == "code" and re.search(r"\brerun\(", source(cell)):
            assert "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []), source(cell)


def test_asserts_a_student_sees_are_few():
    counts = {p.stem: sum(len(re.findall(r"^\s*assert\b", code, re.M)) for code in visible_code(p))
              for p in NOTEBOOKS}  # fmt: skip
    assert sum(counts.values()) <= MAX_VISIBLE_ASSERTS, counts


def glossary_ids() -> set[str]:
    """The anchors JupyterLab gives the glossary's headings: the text, spaces as '-'."""
    ids = set()
    for cell in cells(GLOSSARY):
        ids |= {h.strip().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", source(cell), re.M)}
    return ids


def test_every_glossary_link_leads_to_an_entry_and_every_entry_is_linked():
    ids = glossary_ids()
    linked = set()
    for path in NOTEBOOKS:
        for cell in cells(path):
            for target in re.findall(r"\]\(glossary\.ipynb#([^)\s]+)\)", source(cell)):
                assert target in ids, f"{path.name} links to a missing entry: #{target}"
                linked.add(target)
    headings = {i for i in ids if i not in ("Glossary", "Training", "Initialization", "Layers",
                                            "Measuring")}  # fmt: skip
    assert not headings - linked, f"entries no notebook links to: {sorted(headings - linked)}"
