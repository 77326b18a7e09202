"""Re-run notebooks top to bottom in full mode and store their outputs (what strict nbval checks).

    python scripts/run_notebooks.py                         # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/01_convolution.ipynb
    COURSE_FAST=1 python scripts/run_notebooks.py --check   # run in fast mode, store nothing

Each notebook runs in a fresh kernel from the notebooks/ folder, as "Restart kernel and run
all" would; the wall time of each is printed. Commit the notebooks it rewrites.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def run(path: Path, store: bool, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    last = [start]

    def report_slow_cell(cell, cell_index, **_):  # progress for long runs: cells over 10 s
        now = time.perf_counter()
        if now - last[0] > 10:
            print(f"  {path.name} cell {cell_index}: {now - last[0]:.0f} s", flush=True)
        last[0] = now

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=report_slow_cell,
    )
    client.execute()
    elapsed = time.perf_counter() - start
    if store:
        for cell in notebook.cells:  # keep diffs small: no per-cell timing metadata
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(notebook, path)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="run only; do not store outputs")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    args = parser.parse_args()
    if not args.check:
        os.environ["COURSE_FAST"] = "0"  # stored outputs come from the full run
    os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")  # stable paths in warnings
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        elapsed = run(path.resolve(), store=not args.check, timeout=args.timeout)
        print(f"{path.name}: {elapsed:.0f} s", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
