"""The README's Python examples run as written (each in a fresh interpreter, in an empty folder):
the first thing every user reads must not be out of date. What is checked is the code, not what
it learns, so the data is the first 3,000 training and 500 test images of the embedded
Fashion-MNIST subset (the examples take up to 3,000; the second trains a ResNet-20 for two
epochs, on half the images it would get from the subset)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))])
def test_readme_example_runs_as_written(code, tmp_path, fashion_mnist_head):
    env = dict(os.environ, COURSE_FASHION_MNIST=str(fashion_mnist_head(train=3_000, test=500)))
    env.pop("COURSE_FAST", None)  # the README promises nothing about fast mode
    empty = tmp_path / "work"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
