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


def environment_report() -> list[tuple[str, str]]:
    """(what, value) pairs describing this set-up: versions, device, data found, fast mode."""
    import sys

    import matplotlib
    import torchvision

    from course import data

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
    device = pick_device()
    rows.append(("devices found", ", ".join(available_devices())))
    rows.append(("training device", describe_device(device)))
    for name, folder in data.fashion_mnist_sources():
        found = data.has_fashion_mnist(folder, "train") and data.has_fashion_mnist(folder, "test")
        where = data.shown_path(folder)
        rows.append((f"Fashion-MNIST, {name}", f"{'found' if found else 'not found'}: {where}"))
    rows.append(("fast mode", f"{'on' if fast_mode() else 'off'} (${FAST_ENV})"))
    return rows
