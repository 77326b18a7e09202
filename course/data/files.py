"""Where the course's own files are, and the error for a missing or broken one (shared by every
module of ``course.data``)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "COURSE_DATA_DIR"
REPO_DIR = Path(__file__).resolve().parents[2]  # course/data/files.py -> the clone
INSTALLED_DATA_DIR = (
    Path(__file__).resolve().parents[1] / "_data"
)  # see [tool.setuptools] in pyproject
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")  # image folders


class DataError(RuntimeError):
    """A data file or folder is missing, truncated or corrupt; the message says what to do."""


def data_dir() -> Path:
    """The course's data folder: ``$COURSE_DATA_DIR`` if set, else ``data/`` of the clone the
    package runs from (``pip install -e .``), else the copy installed with the package
    (``pip install .`` puts the repository's ``data/`` in ``course/_data``)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    in_clone = REPO_DIR / "data"
    if (REPO_DIR / "pyproject.toml").is_file() and in_clone.is_dir():
        return in_clone
    return INSTALLED_DATA_DIR


def shown_path(path: Path) -> str:
    """``path`` relative to the repository or the home folder when inside one, for messages
    and notebook outputs that should read the same on every machine."""
    path = Path(path)
    for base, label in ((REPO_DIR, ""), (Path.home(), "~/")):
        try:
            return label + str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)
