"""Run an experiment at a budget and store its result with where it came from.

    result = run_experiment("relu_vs_tanh", "live")          # returns the result dict
    python -m course.experiments run relu_vs_tanh --budget reference

An experiment module (one per experiment, in this package) defines

    NAME, CLAIM                  its name and what the lecture claims
    CONFIGS                      {"fast": {...}, "live": {...}, "reference": {...}}: plain data
    load_data(config) -> dict    its data, and "source": where the data came from
    plan(config, done)           the runs still to make: [(key, settings), ...]; ``done`` maps the
                                 keys of finished runs to their results (a plan may depend on
                                 them, e.g. seeds at the best learning rate of a sweep)
    train(config, settings, data, checkpoint) -> dict
                                 one run (JSON-able: histories, metrics); ``fit`` writes its
                                 checkpoint, so an interrupted run resumes where it stopped
    planned_runs(config) -> int  how many runs ``plan`` will have asked for in the end
    summarize(result) -> dict    the conclusions the notebook states, computed from the runs
    verdict(summary) -> str      those conclusions in a sentence (reference and live alike)
    report(result) -> Report     what the notebook shows: a heading, small tables, the verdict
    claims(result) -> Claims     the statements the notebook's prose makes about the result,
                                 each with its figure and whether it holds (``reporting``)

Run keys (the names of runs in a result) are built by the experiment's module alone.

A run may also return its trained weights as ``"state_dict"``: they are kept beside the result,
all runs in one file (``NAME.pt``, tensors only, named ``"<run key>/<parameter>"``), with its
SHA-256 in the result; ``trained_weights(name, key)`` reads them back, checked.

A result is ``{"name", "budget", "config", "config_hash", "runs": {key: run}, "provenance"}``.
``reference`` results go to ``data/results/NAME.json`` (committed with the course); other
budgets to ``runs/experiments/NAME-BUDGET.json``. Finished runs are written as they finish, to
``runs/experiments/NAME-BUDGET/``; running again after an interrupt or a crash starts from
there, and a half-trained run from its last epoch. The provenance is that of the training:
summarizing finished runs again (after a change to ``summarize``) keeps it.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import importlib
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from course.data.files import REPO_DIR, data_dir
from course.files import check_writable, read_json, write_text_atomically
from course.runtime import describe_machine
from course.training.checkpoints import atomic_save

BUDGETS = ("fast", "live", "reference")
EXPERIMENTS = (
    "relu_vs_tanh",
    "dropout",
    "tta",
    "fc_vs_gap",
    "aux_classifiers",
    "degradation",
    "batch_norm",
    "inception_bn",
    "architectures",
    "stems",
    "trained_alexnet",
    "your_network",
)  # modules of course.experiments
WORK_DIR = Path("runs") / "experiments"


class StaleResult(RuntimeError):
    """A stored result was made with another configuration than its experiment now defines."""


def experiment(name: str):
    """The module that defines experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; the experiments are {list(EXPERIMENTS)}")
    return importlib.import_module(f"course.experiments.{name}")


def config_hash(config: dict) -> str:
    """A fingerprint of a configuration: the same for equal configurations, whatever the order
    of their keys."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def results_path(name: str) -> Path:
    """Where the reference result of experiment ``name`` is stored (one of ``EXPERIMENTS``: a
    name is never a path)."""
    experiment(name)  # refuses any other name, "../x" included
    return data_dir() / "results" / f"{name}.json"


def load_results(name: str, check: bool = True) -> dict:
    """The stored reference result of ``name``; with ``check``, refused (``StaleResult``) if the
    experiment's reference configuration changed since it was made."""
    path = results_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no stored result for {name!r} at {path}; make it with "
            f"python -m course.experiments run {name} --budget reference"
        )
    result = read_json(path, "stored result")
    if check:
        check_current(result)
    return result


def check_current(result: dict) -> None:
    """Raise ``StaleResult`` unless ``result`` was made with its experiment's current config."""
    config = experiment(result["name"]).CONFIGS[result["budget"]]
    if result["config_hash"] != config_hash(config) or result["config"] != config:
        changed = sorted(
            k for k in set(config) | set(result["config"])
            if config.get(k) != result["config"].get(k)
        )  # fmt: skip
        raise StaleResult(
            f"the stored {result['budget']} result of {result['name']!r} was made with another "
            f"configuration (changed: {changed}); make it again with python -m "
            f"course.experiments run {result['name']} --budget {result['budget']}"
        )


def run_experiment(name: str, budget: str, *, out: str | Path | None = None,
                   work: str | Path | None = None, progress: bool | Callable = True,
                   store: bool = True) -> dict:  # fmt: skip
    """Run every planned run of ``name`` at ``budget`` that has not finished yet, then write the
    result (see the module docstring for where) and return it. ``store=False``: start afresh in
    a temporary folder and write nothing (a notebook's live rerun). ``progress``: a line per
    run, nothing (False), or a function called with each run's key as it starts and with None
    when all have finished (``course.experiments.live``'s progress bar)."""
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {list(BUDGETS)}, got {budget!r}")
    if not store:
        with tempfile.TemporaryDirectory() as folder:
            return run_experiment(name, budget, out=Path(folder) / "result.json", work=folder,
                                  progress=progress)  # fmt: skip
    module = experiment(name)
    config = module.CONFIGS[budget]
    work = Path(work) if work is not None else WORK_DIR / f"{name}-{budget}"
    if out is None:
        out = results_path(name) if budget == "reference" else WORK_DIR / f"{name}-{budget}.json"
    for folder in (work, Path(out).parent):  # before any training, not after it
        try:
            check_writable(folder)
        except OSError as exc:
            raise PermissionError(
                f"{name}: cannot write to {folder} ({exc.strerror or exc}), where the "
                f"{'runs' if folder == work else 'result'} would go; nothing was trained"
            ) from None
    with exclusive(work, name):
        return _run(name, budget, module, config, Path(out), work, progress)


@contextlib.contextmanager
def exclusive(work: Path, name: str):
    """Only one runner at a time in ``work``: a second would train the same runs again and the
    two would overwrite each other's record (POSIX; elsewhere no lock is taken)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(work / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"{name}: another run is using {work} now; wait for it to finish (its runs are "
                f"kept, and running again afterwards only summarizes them)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(name, budget, module, config, out: Path, work: Path, progress) -> dict:
    """``run_experiment``'s work, in ``work`` (held by this process alone)."""
    done_file = work / "finished.json"
    done = read_json(done_file, "record of finished runs") if done_file.is_file() else {}
    if done.get("config_hash") != config_hash(config):
        done = {"config_hash": config_hash(config), "runs": {}, "seconds": 0.0}
    data = module.load_data(config)
    started, trained = time.perf_counter(), False
    while True:
        todo = [(k, s) for k, s in module.plan(config, done["runs"]) if k not in done["runs"]]
        if not todo:
            break
        key, settings = todo[0]
        if callable(progress):
            progress(key)
        elif progress:
            print(f"{name} ({budget}): {key} ... {len(todo)} to go in this stage", flush=True)
        run_started = time.perf_counter()
        checkpoint = work / (_file_stem(key) + ".pt")
        run = module.train(config, settings, data, checkpoint)
        run["seconds"] = round(time.perf_counter() - run_started, 1)
        if "state_dict" in run:  # kept as a file of tensors, not in the JSON
            atomic_save(run.pop("state_dict"), _weights_file(work, key))
        done["runs"][key] = run
        trained = True
        _write_json(done_file, done)
        checkpoint.unlink(missing_ok=True)  # the run is in finished.json now
    if callable(progress):
        progress(None)
    done["seconds"] += time.perf_counter() - started
    if trained or "provenance" not in done:  # else: only summarized again, by newer code
        done["provenance"] = provenance(data, done["seconds"])
    _write_json(done_file, done)
    result = {
        "name": name,
        "budget": budget,
        "claim": module.CLAIM,
        "config": config,
        "config_hash": config_hash(config),
        "runs": done["runs"],
        "summary": module.summarize({"config": config, "runs": done["runs"]}),
        "provenance": done["provenance"],
    }
    weights = {k: f for k in done["runs"] if (f := _weights_file(work, k)).is_file()}
    if weights:
        result["weights"] = _store_weights(weights, Path(out).with_suffix(".pt"))
    _write_json(Path(out), result)
    if progress is True:
        print(f"wrote {out}")
    return result


def resummarize(name: str) -> dict:
    """The stored reference result of ``name`` summarized again by the current ``summarize``
    (after a change to it), written back; its runs and their provenance are kept as they are."""
    result = load_results(name)
    result["summary"] = experiment(name).summarize(result)
    _write_json(results_path(name), result)
    return result


def _file_stem(key: str) -> str:
    return key.replace("/", "_").replace(" ", "_")


def _weights_file(work: Path, key: str) -> Path:
    """Where a finished run's weights wait until the result collects them."""
    return work / (_file_stem(key) + ".weights.pt")


def _store_weights(files: dict[str, Path], path: Path) -> dict:
    """Every run's weights in one file of tensors; where it is and its SHA-256."""
    from course.models.pretrained import read_state_dict, sha256_of

    merged = {}
    for key, file in files.items():
        merged.update({f"{key}/{name}": t for name, t in read_state_dict(file).items()})
    atomic_save(merged, path)
    return {"file": path.name, "sha256": sha256_of(path), "runs": list(files)}


def trained_weights(name: str, key: str) -> dict[str, torch.Tensor]:
    """The weights run ``key`` of experiment ``name`` trained (its reference result), read with
    ``weights_only=True`` after checking the file's SHA-256 against the one the result stores."""
    from course.models.pretrained import read_state_dict, sha256_of

    result = load_results(name)
    stored = result.get("weights")
    if stored is None:
        raise ValueError(f"the reference result of {name!r} stores no trained weights")
    if key not in stored["runs"]:
        raise ValueError(f"no weights for run {key!r} of {name!r}; stored: {stored['runs']}")
    path = results_path(name).with_name(stored["file"])
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; make it with python -m course.experiments "
                                f"run {name} --budget reference")  # fmt: skip
    if sha256_of(path) != stored["sha256"]:
        raise StaleResult(
            f"{path} is not the file the result {results_path(name).name} was made with (its "
            f"SHA-256 differs); make both again with python -m course.experiments run {name} "
            f"--budget reference"
        )
    prefix = f"{key}/"
    return {n[len(prefix) :]: t for n, t in read_state_dict(path).items() if n.startswith(prefix)}


def describe(result: dict) -> str:
    """Where a stored result comes from, in one line (the same on every machine that reads it)."""
    p = result["provenance"]
    machine = p["machine"]
    bf16 = ", native bf16" if machine.get("native_bf16") else ""
    gpus = f", GPU {machine['gpus'][0]}" if machine.get("gpus") else ""
    return (
        f"{result['name']} at the {result['budget']} budget: {len(result['runs'])} training runs, "
        f"{p['wall_seconds'] / 60:.0f} minutes on {machine['cores']} cores of an {machine['cpu']}"
        f"{bf16}{gpus}, {p['precision']}; {p['date'][:10]}, commit {p['commit']}; {p['data']}"
    )


def provenance(data: dict, seconds: float) -> dict:
    """Where a result comes from: when, which code, which machine and data, how long."""
    from course.training.devices import choose_precision

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = choose_precision(device, "auto")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": describe_machine(),
        "device": str(device),
        "precision": str(precision).replace("torch.", "") if precision else "float32",
        "data": data.get("source", "?"),
        "wall_seconds": round(seconds, 1),
    }


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, text=True,
                             timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _write_json(path: Path, obj) -> None:
    """Whole or not at all (``course.files``): an interrupt never leaves half a file."""
    write_text_atomically(path, json.dumps(obj, indent=1) + "\n")
