"""A reference experiment run again at a smaller budget, as a notebook's "run it yourself" cell
does it: what it will cost first, a progress bar while it trains, then its report, how its
budget differs from the reference, and which of the text's statements hold for it too.

    from course.experiments.live import rerun
    rerun("tta")

The expected time is measured, not guessed: ``python -m course.experiments time-live`` runs
every live budget on an idle machine, with bf16 where the CPU has it and again in float32 with
PyTorch's AVX2 kernels (as on a laptop without bf16), and writes ``data/results/live_times.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from course.data.files import data_dir
from course.experiments.reporting import Report, Table
from course.experiments.runner import EXPERIMENTS, experiment, run_experiment
from course.files import read_json, write_text_atomically
from course.runtime import by_mode, describe_machine, short_cpu_name

# What a laptop without bf16 instructions computes with (fp32, AVX2 kernels), on any x86 CPU.
WITHOUT_BF16 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}

SHOWN_FAILURES = 3  # statements that do not hold for a rerun, named in its report

# How a configuration's settings read in a sentence; the others keep their names.
SETTING_NAMES = {
    "train_images": "training images",
    "val_images": "held-out images",
    "test_images": "test images",
    "epochs": "epochs",
    "seeds": "seeds",
    "lrs": "learning rates",
    "googlenet_lrs": "GoogLeNet's learning rates",
    "width": "width",
    "networks": "networks",
    "batch_size": "batch size",
}


def times_path():
    return data_dir() / "results" / "live_times.json"


def rerun(name: str, budget: str | None = None) -> Report:
    """Run experiment ``name`` at ``budget`` (default: ``live``; ``fast`` in fast mode), storing
    nothing; print its expected time first and show a progress bar. Returns its report next to
    the reference: how the budgets differ and which statements of the text hold for this run."""
    budget = budget or by_mode(full="live", fast="fast")
    module = experiment(name)
    config = module.CONFIGS[budget]
    total = module.planned_runs(config)
    print(f"{total} training run{'s' if total != 1 else ''}; {expected_time(name, budget)}.",
          flush=True)  # fmt: skip
    bar = _bar(total, name)
    try:
        result = run_experiment(name, budget, store=False, progress=bar.run_started)
    finally:
        bar.close()
    return compare_with_reference(result)


def compare_with_reference(result: dict) -> Report:
    """``result``'s report, with how its budget differs from the reference and which of the
    statements the text makes about the reference result hold for it too."""
    module = experiment(result["name"])
    own = module.report(result)
    claims = module.claims(result)
    held = len(claims) - len(claims.failed)
    verdict = [
        *own.verdict,
        f"{held} of the {len(claims)} statements the text makes about the reference result hold "
        f"for this run too" + (", not these:" if claims.failed else "."),
        *(f"not: {c.statement} ({c.figure})" for c in claims.failed[:SHOWN_FAILURES]),
    ]
    if len(claims.failed) > SHOWN_FAILURES:
        verdict.append(f"and {len(claims.failed) - SHOWN_FAILURES} more")
    if claims.failed:
        verdict.append(
            "Its budget is smaller (the first table): fewer images, epochs or seeds leave the "
            "networks less trained and show no spread, which can change the answer."
        )
    budget = budget_table(result["config"], module.CONFIGS["reference"])
    return Report(heading=own.heading, tables=[budget, *own.tables], verdict=verdict)


def budget_table(config: dict, reference: dict) -> Table:
    """The settings in which ``config`` differs from the reference configuration."""
    order = list(SETTING_NAMES)
    keys = sorted((k for k in set(config) | set(reference) if config.get(k) != reference.get(k)),
                  key=lambda k: (order.index(k) if k in order else len(order), k))  # fmt: skip
    rows = [(SETTING_NAMES.get(k, k.replace("_", " ")), _setting(config.get(k)),
             _setting(reference.get(k))) for k in keys]  # fmt: skip
    return Table(("setting", "this run", "reference"), rows, title="what this run changes")


def _setting(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):  # seeds
            return f"{len(value)} ({', '.join(map(str, value))})"
        if all(isinstance(v, str) for v in value):  # networks: the report's table names them
            return f"{len(value)}"
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def expected_time(name: str, budget: str) -> str:
    """How long a rerun takes, from the measured times: "about 2 minutes on a 2-core ..."."""
    if budget == "fast":
        return "fast mode: seconds"
    if budget == "reference":
        from course.experiments import load_results

        seconds = load_results(name)["provenance"]["wall_seconds"]
        return f"the stored reference run took {_duration(seconds)}"
    measured = _measured().get("seconds", {}).get(name)
    if not measured:
        return "its time on this machine was not measured"
    machine = _measured()["machine"]
    cpu = f"{machine['cores']}-core {short_cpu_name(machine['cpu'])}"
    with_bf16, without = measured.get("bf16"), measured.get("fp32")
    if describe_machine()["native_bf16"] and with_bf16:
        return f"about {_duration(with_bf16)} on a {cpu} with bf16 instructions, as this CPU has"
    return (
        f"about {_duration(without)} on a {cpu} computing in float32, as a CPU without bf16 "
        f"instructions does (less on a GPU)"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{5 * round(seconds / 5):.0f} s"
    return f"{seconds / 60:.0f} minutes" if seconds >= 150 else f"{seconds / 60:.1f} minutes"


def _measured() -> dict:
    path = times_path()
    return read_json(path, "record of live times") if path.is_file() else {}


class _bar:
    """A tqdm bar over the runs of an experiment, moved by the runner's progress callback."""

    def __init__(self, total: int, name: str):
        from tqdm import tqdm  # text, not a widget: a notebook keeps no widget state for it

        self.bar = tqdm(total=total, desc=name, unit="run", file=sys.stdout)
        self.started = 0

    def run_started(self, key: str | None) -> None:
        if self.started:
            self.bar.update(1)  # the previous run has finished
        self.started += 1
        if key is not None:
            self.bar.set_postfix_str(key, refresh=True)

    def close(self) -> None:
        self.bar.close()


def time_live(names=EXPERIMENTS, path=None) -> dict:
    """Measure every live budget on this machine (idle!), with bf16 where the CPU has it and in
    float32 with AVX2 kernels, each in a fresh process; write the times to ``path``."""
    machine = describe_machine()
    precisions = {"fp32": WITHOUT_BF16}
    if machine["native_bf16"]:
        precisions = {"bf16": {}, **precisions}
    path = path or times_path()
    record = read_json(path, "record of live times") if path.is_file() else {}
    record.update(machine={k: machine[k] for k in ("cpu", "cores", "torch")},
                  measured=time.strftime("%Y-%m-%d"))  # fmt: skip
    seconds = record.setdefault("seconds", {})
    for name in names:
        for precision, env in precisions.items():
            took = _time_in_a_fresh_process(name, env)
            seconds.setdefault(name, {})[precision] = round(took, 1)
            print(f"{name} ({precision}): {took:.0f} s", flush=True)
            write_text_atomically(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def _time_in_a_fresh_process(name: str, env: dict) -> float:
    code = (
        "import time, sys\n"
        "from course.experiments import run_experiment\n"
        "start = time.perf_counter()\n"
        f"run_experiment({name!r}, 'live', store=False, progress=False)\n"
        "print(time.perf_counter() - start)\n"
    )
    env = {**os.environ, **env, "COURSE_FAST": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])
