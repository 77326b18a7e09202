"""No notebook shows an exercise's answer before the student solves it or asks for it: in the
stored outputs (those of a full Run All, no answer given), no cell prints it, neither above the
exercise nor in a table below it (such a table shows "?" until the task is settled)."""

import json
import re
from pathlib import Path

import pytest
from test_exercises import NOTEBOOK_TASKS

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# (notebook, the task's name in NOTEBOOK_TASKS, the variable the notebook calls it)
ASKED = [
    ("01_convolution.ipynb", "01 mini-task", "LECTURE_TASK"),
    ("01_convolution.ipynb", "01 output size", "size_task"),
    ("03_alexnet.ipynb", "03 conv1", "conv1_task"),
    ("03_alexnet.ipynb", "03 conv2", "conv2_task"),
    ("03_alexnet.ipynb", "03 conv1 at 224", "size_task"),
    ("05_vgg.ipynb", "04 receptive field", "field_task"),
    ("05_vgg.ipynb", "05 fc6", "fc6_task"),
    ("06_googlenet.ipynb", "06 macs naive", "MACS_3A_NAIVE"),
    ("06_googlenet.ipynb", "06 macs", "MACS_3A"),
    ("06_googlenet.ipynb", "05 inception 4a", "INCEPTION_4A"),
    ("08_resnet.ipynb", "07 bottleneck", "task"),
]


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts += output.get("text", [])
        for kind in ("text/plain", "text/markdown", "text/html"):
            parts += output.get("data", {}).get(kind, [])
    return "".join(parts)


def shows(text: str, number: int) -> bool:
    forms = {str(number), f"{number:,}", f"{number:_}"}
    return any(re.search(rf"(?<![\d.,_]){re.escape(f)}(?![\d_]|[.,]\d)", text) for f in forms)


def test_the_scan_finds_an_answer():
    assert shows("layer 73,856 parameters", 73856) and shows("(54, 54)", 54)
    assert not shows("1,073,856", 73856) and not shows("54.1%", 54) and not shows("154", 54)


@pytest.mark.parametrize("notebook, name, variable", ASKED, ids=[a[1] for a in ASKED])
def test_no_answer_is_shown_before_the_student_asks(notebook, name, variable):
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    offers = [i for i, c in enumerate(cells) if f"{variable}.solution()" in "".join(c["source"])]
    assert offers, f"{notebook}: no cell offers {variable}.solution()"
    task, _ = NOTEBOOK_TASKS[name]
    channels = getattr(task, "channels", None)  # InceptionTask's second answer (a method)
    answers = [task._answer()] + ([channels()] if callable(channels) else [])
    for index, cell in enumerate(cells):
        # above the exercise every answer; below it the distinctive ones (a parameter count),
        # not a small number that other rows share (inception4b's 512 output channels)
        for answer in answers if index <= offers[0] else [a for a in answers if a >= 10_000]:
            assert not shows(output_text(cell), answer), (
                f"{notebook} cell {index} shows {answer}, the answer to '{name}', though "
                f"the student has not solved it or asked for it"
            )
