"""Shared test set-up. Environment set here reaches the notebook kernels that nbval starts."""

import os

# Notebooks run their shrunken "fast mode" under test (see course.runtime.fast_mode).
os.environ.setdefault("COURSE_FAST", "1")
# Stable file names in warnings printed by notebook cells (nbval compares stderr).
os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# `make test` runs the suite in several pytest-xdist workers, one per core: each worker and the
# notebook kernels it starts get an equal share of the cores (more threads than cores only
# contend). An OMP_NUM_THREADS already set (make test-portable's 1) is kept.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    # the cores this process may use (a container's share), where the system says
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (_cores or 1) // _workers)))
