"""The test commands an instructor may type run the same suite."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def collected(*args: str, cwd: Path = REPO) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_pytest_nbval_is_make_test():
    """`pytest --nbval` (the design card's command) collects what `make test` (plain `pytest`)
    does: every unit test and every notebook cell; the notebooks are in the plain run too."""
    plain = collected()
    assert collected("--nbval") == plain
    assert any(item.startswith("notebooks/00_welcome.ipynb::Cell") for item in plain)
    assert any(item.startswith("tests/data/test_fashion_mnist_and_folders.py::") for item in plain)
