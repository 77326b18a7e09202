"""Re-run notebooks top to bottom in full mode and store their outputs (what strict nbval checks).

    python scripts/run_notebooks.py                         # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/01_convolution.ipynb
    COURSE_FAST=1 python scripts/run_notebooks.py --check   # run in fast mode, store nothing

Each notebook runs in a fresh kernel from the notebooks/ folder, as "Restart kernel and run
all" would; the wall time of each is printed. Storing also records, per notebook, the machine,
PyTorch, the Fashion-MNIST copy and the wall time in data/notebook_runs.json, which
00_welcome prints and README.md's timing table must match (tests/test_stored_outputs.py).
00_welcome is re-run last whenever another notebook is stored, so what it prints stays true.
Store only on an idle machine: the load average is checked first. Commit what it rewrites.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
WELCOME = NOTEBOOKS / "00_welcome.ipynb"
sys.path.insert(0, str(REPO))
from course import runtime  # noqa: E402  (the repository's package, installed or not)
from course.data import load_fashion_mnist  # noqa: E402

RECORD = REPO / "data" / runtime.STORED_RUNS_FILE


def run(path: Path, store: bool, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    last = [start]

    def report_slow_cell(cell, cell_index, **_):  # progress for long runs: cells over 10 s
        now = time.perf_counter()
        if now - last[0] > 10:
            print(f"  {path.name} cell {cell_index}: {now - last[0]:.0f} s", flush=True)
        last[0] = now

    # in a fresh copy of the folder: what a notebook writes there (notebook 10's checkpoints in
    # runs/) neither comes from an earlier run, which a checkpoint would resume, nor stays
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "notebooks"
        shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("runs", ".*"))
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
            on_cell_executed=report_slow_cell,
        )
        client.execute()
    elapsed = time.perf_counter() - start
    if store:
        for cell in notebook.cells:  # keep diffs small: no per-cell timing metadata
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(notebook, path)
    return elapsed


def this_run() -> dict:
    """Machine, data and date of a run made now, as the notebooks' kernels will see them."""
    train = load_fashion_mnist("train", verbose=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "commit_before": commit or "unknown",
        "machine": runtime.describe_machine(),
        "data": f"the {train.source} ({len(train):,} training images)",
        "load_average_at_start": round(os.getloadavg()[0], 2),  # with the previous notebook
    }


def record(name: str, entry: dict) -> None:
    runs = json.loads(RECORD.read_text())["notebooks"] if RECORD.is_file() else {}
    runs[name] = entry
    text = json.dumps({"notebooks": dict(sorted(runs.items()))}, indent=1, ensure_ascii=False)
    RECORD.write_text(text + "\n")


def readme_table() -> str:
    """The full-run timing table README.md shows (tests/test_stored_outputs.py compares them)."""
    runs = json.loads(RECORD.read_text())["notebooks"]
    rows = [f"| `{name}` | {round(run['seconds'])} s |" for name, run in sorted(runs.items())]
    return "\n".join(["| notebook | full run |", "|---|---|", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="run only; do not store outputs")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--busy-ok", action="store_true", help="store even on a loaded machine")
    args = parser.parse_args()
    store = not args.check
    if store:
        os.environ["COURSE_FAST"] = "0"  # stored outputs come from the full run
        deadline = time.monotonic() + 300  # a job that just ended leaves the average high
        while os.getloadavg()[0] > 0.5 and time.monotonic() < deadline and not args.busy_ok:
            time.sleep(10)
        load = os.getloadavg()[0]
        if load > 0.5 and not args.busy_ok:
            sys.exit(
                f"load average {load:.2f}: another job is running, and stored outputs and "
                f"timings must come from an idle machine (--busy-ok to store anyway)"
            )
    os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")  # stable paths in warnings
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if store and paths != [WELCOME]:  # 00 prints the record: run it after the others
        paths = [p for p in paths if p != WELCOME] + [WELCOME]
    for path in paths:
        if store:
            entry = this_run()
            record(path.name, {**entry, "seconds": None})  # 00 reads it while it runs
        elapsed = run(path, store=store, timeout=args.timeout)
        if store:
            record(path.name, {**entry, "seconds": round(elapsed, 1)})
        print(f"{path.name}: {elapsed:.0f} s", flush=True)
    if store:
        print(f"\nREADME.md's table (from {RECORD.relative_to(REPO)}):\n{readme_table()}")
    sys.exit(0)


if __name__ == "__main__":
    main()
