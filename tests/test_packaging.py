"""pyproject.toml and environment.yml list the same packages with the same lower bounds."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

REPO = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's.
CONDA_TO_PYPI = {"pytorch": "torch"}


def parse(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(parse(r) for r in listed)


def conda_requirements() -> dict[str, str]:
    found, in_deps = {}, False
    for line in (REPO / "environment.yml").read_text().splitlines():
        line = line.split("#")[0].rstrip()
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        item = re.fullmatch(r"\s+- (.+)", line)
        if not (in_deps and item) or item.group(1) in ("pip", "pip:", "-e ."):
            continue
        name, spec = parse(item.group(1))
        if name != "python":
            found[CONDA_TO_PYPI.get(name, name)] = spec
    return found


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_python_floor_agrees():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (REPO / "environment.yml").read_text()


def test_ranges_not_pins():
    for name, spec in pyproject_requirements().items():
        assert spec.startswith(">=") and "==" not in spec, f"{name}{spec} should be a range"
