"""The test commands an instructor may type run the same suite."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def collected(*args: str, cwd: Path = REPO) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_pytest_nbval_is_make_test(request):
    """`pytest --nbval` (the design card's command) collects what `make test` (`pytest` in
    parallel workers) does: every unit test and every notebook cell, the notebooks included.
    Plain `pytest` adds --nbval itself (pyproject.toml's addopts), so `pytest --nbval` is the
    same command; when this session is that command (the test paths, nothing deselected) its
    own items show what it collects, otherwise a separate collection does (20 s)."""
    config = request.config
    assert "--nbval" in config.getini("addopts")
    whole_suite = (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not (config.option.keyword or config.option.markexpr or config.option.deselect)
        and not (config.option.ignore or config.option.ignore_glob)
        and request.session.testscollected == len(request.session.items)
    )
    if whole_suite:
        items = [item.nodeid for item in request.session.items]
    else:
        items = collected("--nbval")
    assert any(item.startswith("notebooks/00_welcome.ipynb::Cell") for item in items)
    assert any(item.startswith("tests/data/test_fashion_mnist_and_folders.py::") for item in items)


def test_the_gpu_check_says_what_it_needs_on_a_machine_without_one():
    """scripts/check_gpu.py checks the GPU paths (its figures are in the issue notes); without a
    CUDA GPU it stops with one line, not a traceback."""
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}  # no GPU, even where there is
    result = subprocess.run([sys.executable, "scripts/check_gpu.py"], cwd=REPO, text=True,
                            capture_output=True, timeout=120, env=env)  # fmt: skip
    assert result.returncode == 1 and "no CUDA GPU here" in result.stderr
    assert "Traceback" not in result.stderr
