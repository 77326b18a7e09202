"""The README's Python examples run as written (each in a fresh interpreter, in an empty folder,
with the embedded Fashion-MNIST subset so that they take seconds): the first thing every user
reads must not be out of date."""

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
def test_readme_example_runs_as_written(code, tmp_path):
    env = dict(os.environ, COURSE_FASHION_MNIST=str(REPO / "data" / "fashion-mnist-subset"))
    env.pop("COURSE_FAST", None)  # the README promises nothing about fast mode
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
