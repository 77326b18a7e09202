"""The one way the package writes a file: whole or not at all.

    write_atomically(path, lambda f: torch.save(state, f))
    write_text_atomically(path, json.dumps(result) + "\n")

The data go to a new temporary file in the target's folder (created exclusively, with a name
nobody can guess: a planted file or symlink there is never followed or truncated), are flushed
to the disk (fsync), and the file is renamed over ``path`` in one step. A crash, a full disk or
an interrupt during the write leaves the previous ``path`` as it was and no partial temporary
file; temporary files that a killed process left behind are removed by the next write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a fresh binary file, then put it at ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=".tmp")
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):  # mkstemp's 0600, made what a plain open() would give
            os.fchmod(fd, _mode_of(path))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: str | Path, text: str) -> None:
    """``text`` (UTF-8) at ``path``, whole or not at all."""
    write_atomically(path, lambda f: f.write(text.encode("utf-8")))


def _mode_of(path: Path) -> int:
    """The permissions ``path`` has, or (a new file) those the umask gives."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _prefix(path: Path) -> str:
    """Temporary files of ``path`` start with its name and the writer's process id."""
    return f".{path.name}.{os.getpid()}."


def _remove_stale_temporaries(path: Path) -> None:
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours, or no signals here (Windows): leave its file
        return True
    return True


def check_writable(folder: str | Path) -> None:
    """Create ``folder`` if needed and write (then remove) a file in it: an ``OSError`` now,
    not after hours of work that then cannot be saved."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".write-test.", suffix=".tmp")
    os.close(fd)
    os.unlink(name)


def read_json(path: str | Path, what: str = "file"):
    """The JSON in ``path``; a ``ValueError`` naming the file when it is not (truncated, edited
    by hand, another encoding)."""
    import json

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{path} is not a readable {what} ({exc}); restore it (git checkout, or delete it to "
            f"make it again)"
        ) from None
