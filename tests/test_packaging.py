"""pyproject.toml and environment.yml list the same packages with the same lower bounds; a
non-editable install carries the data it needs and works from any folder."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

REPO = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's (conda-forge's feedstocks: pytorch-cpu/pytorch,
# playwright-python). A PyPI name on the left of this table is not a conda-forge package.
CONDA_TO_PYPI = {"pytorch": "torch", "playwright-python": "playwright"}


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


def test_environment_yml_uses_conda_forge_names():
    conda_listed = set()
    in_pip = False
    for line in (REPO / "environment.yml").read_text().splitlines():
        item = re.fullmatch(r"(\s+)- ([A-Za-z0-9_.\-]+).*", line.split("#")[0].rstrip())
        if line.strip() == "- pip:":
            in_pip = True
        elif item and not in_pip:
            conda_listed.add(item.group(2).lower())
    wrong = {pypi: conda for conda, pypi in CONDA_TO_PYPI.items() if pypi in conda_listed}
    assert not wrong, f"environment.yml uses PyPI names; conda-forge calls them {wrong}"


def test_every_subpackage_is_installed():
    """pyproject lists the packages by hand (course._data maps to data/): a new subpackage
    missing from the list would be left out of `pip install .`."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "course").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"course._data"}
    assert setuptools["package-dir"] == {"course._data": "data"}


def test_a_non_editable_install_finds_its_data(tmp_path):
    """What `pip install .` gives, used from a folder outside the clone: the embedded
    Fashion-MNIST subset and the ImageNet metadata load from the installed package."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("course-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "course" / "_data" / "imagenet" / "classes.tsv").is_file()
    probe = """
import course
from course.data import fashion_mnist, files
from course.data.imagenet import load_imagenet_classes
assert files.data_dir() == files.INSTALLED_DATA_DIR, files.data_dir()
subset = fashion_mnist.read_fashion_mnist_folder(files.data_dir() / "fashion-mnist-subset", "train")
train = fashion_mnist.load_fashion_mnist("train", verbose=False)
print(course.__file__, len(subset[1]), len(train), load_imagenet_classes()[388].name)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DATA_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    where, n_subset, n_train, panda = result.stdout.split(maxsplit=3)
    assert Path(where).is_relative_to(site)  # the installed copy, not the clone
    assert int(n_subset) == 6_000 and int(n_train) >= 6_000 and panda.strip() == "giant panda"


def course_imports() -> dict[str, set[str]]:
    """Which course modules each course module imports (at the top or inside functions)."""
    import ast

    names = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (REPO / "course").rglob("*.py")}  # fmt: skip
    graph = {}
    for name, path in names.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course"):
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in names and m != name}
    return graph


def test_no_import_circles():
    """Two modules never import each other (a package importing its own submodules aside),
    not even lazily inside a function: shared things live in a module both can import."""
    graph = course_imports()
    assert graph["course.data"] and graph["course.data.imagenet"]  # the scan sees imports
    circles = {
        tuple(sorted((a, b)))
        for a, deps in graph.items()
        for b in deps
        if a in graph.get(b, ()) and not (a.startswith(b + ".") or b.startswith(a + "."))
    }
    assert circles == set()


def test_torch_is_new_enough_that_weights_only_cannot_run_code():
    """torch <= 2.5.1 lets a crafted file bypass weights_only=True (CVE-2025-32434): the
    README's promise that a planted checkpoint or weights file cannot run code needs 2.6."""
    import tomllib
    import torch
    from packaging.version import Version

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (torch_dep,) = [d for d in deps if d.split(">")[0].strip() == "torch"]
    assert Version(torch_dep.split(">=")[1].split(",")[0]) >= Version("2.6")
    assert Version(torch.__version__.split("+")[0]) >= Version("2.6")
