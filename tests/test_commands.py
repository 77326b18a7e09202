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
    """`pytest --nbval` (the design card's command) collects what `make test` (`pytest` in
    parallel workers) does: every unit test and every notebook cell, the notebooks included."""
    plain = collected()
    assert collected("--nbval") == plain
    assert any(item.startswith("notebooks/00_welcome.ipynb::Cell") for item in plain)
    assert any(item.startswith("tests/data/test_fashion_mnist_and_folders.py::") for item in plain)


def test_the_gpu_check_says_what_it_needs_on_a_machine_without_one():
    """scripts/check_gpu.py checks the GPU paths (its figures are in the issue notes); without a
    CUDA GPU it stops with one line, not a traceback."""
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}  # no GPU, even where there is
    result = subprocess.run([sys.executable, "scripts/check_gpu.py"], cwd=REPO, text=True,
                            capture_output=True, timeout=120, env=env)  # fmt: skip
    assert result.returncode == 1 and "no CUDA GPU here" in result.stderr
    assert "Traceback" not in result.stderr
