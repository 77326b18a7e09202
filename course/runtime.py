"""Runtime helpers every notebook calls explicitly: seeding, device choice, fast mode.

Nothing here runs at import time. A notebook starts with

    from course import runtime
    runtime.seed_everything(0)
    device = runtime.pick_device()      # CUDA, then Apple MPS, then CPU
    epochs = runtime.by_mode(full=10, fast=1)

Environment variables (all optional):
    COURSE_FAST=1       fast mode: notebooks shrink epochs and data (CI sets it for nbval)
    COURSE_DEVICE=cpu   overrides the automatic device choice ("cpu", "cuda", "cuda:1", "mps")
"""

from __future__ import annotations

import operator
import os
import platform
import random
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

FAST_ENV = "COURSE_FAST"
DEVICE_ENV = "COURSE_DEVICE"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

T = TypeVar("T")


def seed_everything(seed: int = 0, *, deterministic: bool = False) -> int:
    """Seed Python's, NumPy's and PyTorch's (CPU and all GPUs) random generators.

    With ``deterministic=True`` PyTorch also picks deterministic kernels (slower on a GPU).
    Returns the seed so a notebook can print what it used.
    """
    try:
        value = None if isinstance(seed, bool) else operator.index(seed)  # int, NumPy int
    except TypeError:
        value = None
    if value is None or not 0 <= value < 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
    seed = value
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return seed


def fast_mode() -> bool:
    """True when ``COURSE_FAST`` asks notebooks to run a shrunken version (CI, quick checks)."""
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"environment variable {FAST_ENV}={value!r} is not understood; "
        f"use 1/true/yes/on for fast mode or 0/false/no/off (or unset) for the full run"
    )


def by_mode(*, full: T, fast: T) -> T:
    """The ``full`` value normally, the ``fast`` one in fast mode: ``by_mode(full=10, fast=1)``."""
    return fast if fast_mode() else full


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Devices this machine can train on, best first: ``['cuda:0', ..., 'mps', 'cpu']``."""
    found = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``prefer`` if given, else ``$COURSE_DEVICE``, else the best found.

    "Best" is CUDA, then Apple's MPS, then the CPU. Asking for a device this machine does not
    have raises a ``ValueError`` that lists the devices it does have.
    """
    choice = prefer if prefer is not None else os.environ.get(DEVICE_ENV) or "auto"
    if isinstance(choice, torch.device):
        choice = str(choice)
    if not isinstance(choice, str):
        kind = type(prefer).__name__
        raise TypeError(f"prefer must be a str, a torch.device or None, got {kind}")
    choice = choice.strip().lower()
    if choice == "auto":
        return torch.device(available_devices()[0])
    try:
        device = torch.device(choice)
    except RuntimeError:
        raise ValueError(
            f"device {choice!r} is not a device name; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    have = available_devices()
    if device.type == "cuda":
        index = device.index or 0
        if f"cuda:{index}" not in have:
            raise ValueError(f"device {choice!r} was asked for but this machine has only {have}")
        return torch.device("cuda", index)
    if device.type == "mps" and "mps" not in have:
        raise ValueError(f"device 'mps' was asked for but this machine has only {have}")
    if device.type not in {"cpu", "mps"}:
        raise ValueError(f"device {choice!r} is not supported; use one of {have} or 'auto'")
    return torch.device(device.type)  # 'cpu:1' is just the CPU


def describe_device(device: torch.device | str) -> str:
    """A one-line description: 'cuda:0 (NVIDIA H100, 79 GiB)' or 'cpu (2 threads, x86_64)'."""
    device = torch.device(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{device} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return f"mps (Apple GPU, {platform.machine()})"
    return f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"


def _cpu_flags_and_model() -> tuple[set[str], str]:
    """The CPU's feature flags and model name from /proc/cpuinfo (Linux); elsewhere none."""
    flags, model = set(), platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return flags, model
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = set(value.split())
        elif key.strip() == "model name" and value.strip():
            model = value.strip()
    return flags, model


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (AVX512-BF16, AMX; Linux only) and PyTorch's CPU
    kernels may use AVX-512. Without both, bf16 is emulated and trains slower than fp32 (so
    ``ATEN_CPU_CAPABILITY=avx2`` or ``default`` also turns it off)."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AVX512_BF16", "AMX"):
        return False
    flags, _ = _cpu_flags_and_model()
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def describe_machine() -> dict[str, str | int | bool]:
    """What a training figure depends on: CPU model, cores, native bf16, PyTorch's CPU kernels,
    versions. Stored with results so a reader knows where they come from."""
    import sys

    _, model = _cpu_flags_and_model()
    return {
        "cpu": model,
        "cores": os.cpu_count() or 1,
        "torch_threads": torch.get_num_threads(),
        "native_bf16": cpu_has_native_bf16(),
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "system": f"{platform.system()} {platform.machine()}",
    }


def environment_report() -> list[tuple[str, str]]:
    """(what, value) pairs describing this set-up: versions, device, data found, fast mode."""
    import sys

    import matplotlib
    import torchvision

    from course.data import fashion_mnist, files

    rows = [
        ("Python", sys.version.split()[0]),
        ("PyTorch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("NumPy", np.__version__),
        ("matplotlib", matplotlib.__version__),
    ]
    try:
        import ipywidgets

        rows.append(("ipywidgets", ipywidgets.__version__))
    except ImportError:
        rows.append(("ipywidgets", "not installed: widgets will not show"))
    rows.append(("devices found", ", ".join(available_devices())))
    try:
        rows.append(("training device", describe_device(pick_device())))
    except (ValueError, TypeError) as exc:  # e.g. COURSE_DEVICE=cuda on a machine without one
        rows.append(("training device", f"none: {exc}. Fix or unset ${DEVICE_ENV}."))
    for name, folder in fashion_mnist.fashion_mnist_sources():
        found = all(fashion_mnist.has_fashion_mnist(folder, split) for split in ("train", "test"))
        where = files.shown_path(folder)
        rows.append((f"Fashion-MNIST, {name}", f"{'found' if found else 'not found'}: {where}"))
    rows.append(("fast mode", f"{'on' if fast_mode() else 'off'} (${FAST_ENV})"))
    return rows


# --- where the stored notebook outputs come from ---------------------------------------------

STORED_RUNS_FILE = "notebook_runs.json"  # in data/, written by scripts/run_notebooks.py


def stored_runs_path() -> Path:
    """The record of the notebooks' stored full runs (``data/notebook_runs.json``)."""
    from course.data.files import data_dir

    return data_dir() / STORED_RUNS_FILE


def short_cpu_name(name: str) -> str:
    """A CPU's name without trademarks and filler: "Intel(R) Xeon(R) Processor" -> "Intel Xeon",
    "AMD EPYC 7B13 64-Core Processor" -> "AMD EPYC 7B13"."""
    name = name.split(" @ ")[0]  # "... CPU @ 2.20GHz"
    for noise in ("(R)", "(TM)", "(tm)", " CPU", " Processor"):
        name = name.replace(noise, "")
    words = [w for w in name.split() if not w.endswith("-Core")]
    return " ".join(words) or "CPU"


def describe_stored_runs(path: str | Path | None = None) -> str:
    """Where the outputs stored in the notebooks come from, read from the record that
    ``scripts/run_notebooks.py`` writes: machine, PyTorch and the data of each full run. The
    same text on every machine (it describes the stored run, not this one)."""
    import json

    path = Path(path) if path is not None else stored_runs_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: it is written by scripts/run_notebooks.py when it stores the "
            f"notebooks' outputs (restore it with git in a clone of the course)"
        )
    runs = json.loads(path.read_text(encoding="utf-8"))["notebooks"]
    groups: dict[str, list[str]] = {}
    for name, run in sorted(runs.items()):
        machine = run["machine"]
        bf16 = "with" if machine["native_bf16"] else "without"
        where = (
            f"a {machine['cores']}-core {short_cpu_name(machine['cpu'])} {bf16} bf16, PyTorch "
            f"{machine['torch'].split('+')[0]};\n  Fashion-MNIST: {run['data']}"
        )
        groups.setdefault(where, []).append(name[:2])
    lines = [
        f"notebooks {', '.join(names)}: {where}" if len(groups) > 1 else where
        for where, names in groups.items()
    ]
    return "\n".join(lines)
