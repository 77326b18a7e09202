"""Shared test set-up. Environment set here reaches the notebook kernels that nbval starts."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Notebooks run their shrunken "fast mode" under test (see course.runtime.fast_mode).
os.environ.setdefault("COURSE_FAST", "1")
# Stable file names in warnings printed by notebook cells (nbval compares stderr).
os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# Every process of one test session (workers, notebook kernels, subprocesses) shares what the
# model registry probed (course.models.registry: PROBE_CACHE_ENV), in a file of this session only.
# Made once, by the process that starts the session: xdist workers inherit it. A session killed
# before it ends leaves the small folder in the temporary directory.
if "PYTEST_XDIST_WORKER" not in os.environ and "COURSE_PROBE_CACHE" not in os.environ:
    _probes = Path(tempfile.mkdtemp(prefix="course-probes-"))
    os.environ["COURSE_PROBE_CACHE"] = str(_probes / "smallest-inputs.json")
    atexit.register(shutil.rmtree, _probes, ignore_errors=True)
# `make test` runs the suite in several pytest-xdist workers, one per core: each worker and the
# notebook kernels it starts get an equal share of the cores (more threads than cores only
# contend). An OMP_NUM_THREADS already set (make test-portable's 1) is kept.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    # the cores this process may use (a container's share), where the system says
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (_cores or 1) // _workers)))


@pytest.fixture
def fashion_mnist_head(tmp_path):
    """``make(train=256, test=128)``: a Fashion-MNIST folder (``$COURSE_FASHION_MNIST`` or
    ``--data``) holding the first images of the embedded subset, for code that trains on
    whatever data it is given: the fewer images, the quicker."""
    from course.data import fashion_mnist as data

    def make(train: int = 256, test: int = 128) -> Path:
        folder = tmp_path / f"fashion-mnist-{train}-{test}"
        folder.mkdir(exist_ok=True)
        source = data.embedded_fashion_mnist_dir()
        for split, n in (("train", train), ("test", test)):
            images, labels = data.read_fashion_mnist_folder(source, split)
            if n > len(labels):
                raise ValueError(f"the embedded subset has {len(labels)} {split} images, not {n}")
            names = data._FILES[split]
            data.write_idx(folder / f"{names[0]}.gz", images[:n, 0].numpy())
            data.write_idx(folder / f"{names[1]}.gz", labels[:n].numpy().astype("uint8"))
        return folder

    return make
