"""Shared test set-up. Environment set here reaches the notebook kernels that nbval starts."""

import os

# Notebooks run their shrunken "fast mode" under test (see course.runtime.fast_mode).
os.environ.setdefault("COURSE_FAST", "1")
# Stable file names in warnings printed by notebook cells (nbval compares stderr).
os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
