"""Seeding, device choice and fast mode."""

import json
import random

import numpy as np
import pytest
import torch

from course import runtime


def draw():
    return random.random(), np.random.rand(), torch.rand(3)


def test_seed_everything_repeats_every_generator():
    runtime.seed_everything(123)
    first = draw()
    runtime.seed_everything(123)
    again = draw()
    assert first[0] == again[0] and first[1] == again[1] and torch.equal(first[2], again[2])
    runtime.seed_everything(124)
    assert draw()[0] != first[0]


def test_numpy_integers_are_seeds_too():
    assert runtime.seed_everything(np.int64(3)) == 3


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, None])
def test_seed_must_be_a_small_int(seed):
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*32\)"):
        runtime.seed_everything(seed)


def test_pick_device_defaults_to_best_available(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    assert str(runtime.pick_device()) == runtime.available_devices()[0]
    assert runtime.available_devices()[-1] == "cpu"


def test_pick_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(runtime, "_mps_available", lambda: True)
    assert runtime.available_devices() == ["cuda:0", "cuda:1", "mps", "cpu"]
    assert runtime.pick_device() == torch.device("cuda", 0)
    assert runtime.pick_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert runtime.pick_device() == torch.device("mps")


def test_describe_device_takes_a_name():
    assert runtime.describe_device("cpu").startswith("cpu (")
    assert runtime.pick_device("cpu:1") == torch.device("cpu")


def test_override_by_argument_and_environment(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert runtime.pick_device() == torch.device("cpu")
    assert runtime.pick_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize(
    "asked, message",
    [
        ("cuda:7", r"'cuda:7' was asked for but this machine has only \["),
        ("tpu", r"'tpu' is not a device name; use 'auto', 'cpu'"),
        ("meta", r"'meta' is not supported"),
    ],
)
def test_unavailable_or_unknown_device(monkeypatch, asked, message):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ValueError, match=message):
        runtime.pick_device(asked)


def test_device_from_environment_is_checked_too(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "_mps_available", lambda: False)
    monkeypatch.setenv(runtime.DEVICE_ENV, "mps")
    with pytest.raises(
        ValueError, match=r"'mps' was asked for but this machine has only \['cpu'\]"
    ):
        runtime.pick_device()


@pytest.mark.parametrize("value, fast", [("1", True), ("TRUE", True), ("0", False), ("", False)])
def test_fast_mode(monkeypatch, value, fast):
    monkeypatch.setenv(runtime.FAST_ENV, value)
    assert runtime.fast_mode() is fast
    assert runtime.by_mode(full=10, fast=1) == (1 if fast else 10)


def test_fast_mode_rejects_unclear_values(monkeypatch):
    monkeypatch.setenv(runtime.FAST_ENV, "maybe")
    with pytest.raises(ValueError, match=r"COURSE_FAST='maybe' is not understood"):
        runtime.fast_mode()


def test_environment_report_names_the_data_sources():
    report = dict(runtime.environment_report())
    assert report["PyTorch"] == torch.__version__
    assert report["Fashion-MNIST, embedded subset"].startswith("found")


def test_native_bf16_needs_avx512_kernels(monkeypatch):
    """bf16 autocast only where PyTorch may use the CPU's bf16 instructions: ATEN_CPU_CAPABILITY
    set to avx2 or default makes it emulated (slower than fp32), so fit must not choose it."""
    monkeypatch.setattr(runtime, "_cpu_flags_and_model", lambda: ({"avx512_bf16"}, "cpu"))
    for capability, native in (("AVX512", True), ("AVX2", False), ("DEFAULT", False)):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda c=capability: c)
        assert runtime.cpu_has_native_bf16() is native
    monkeypatch.setattr(runtime, "_cpu_flags_and_model", lambda: ({"avx512f"}, "cpu"))
    assert runtime.cpu_has_native_bf16() is False


def test_describe_machine_says_what_results_depend_on():
    machine = runtime.describe_machine()
    assert machine["torch"] == torch.__version__
    assert machine["cores"] >= 1 and isinstance(machine["native_bf16"], bool)
    assert machine["cpu_kernels"] == torch.backends.cpu.get_cpu_capability()


def test_describe_stored_runs(tmp_path):
    machine = {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "native_bf16": False,
               "torch": "2.9.0+cu130"}  # fmt: skip
    runs = {
        "03_alexnet.ipynb": {"machine": machine, "data": "the embedded subset (6,000 ...)"},
        "05_vgg.ipynb": {"machine": machine, "data": "the embedded subset (6,000 ...)"},
    }
    path = tmp_path / "stored.json"
    path.write_text(json.dumps({"notebooks": runs}))
    text = runtime.describe_stored_runs(path)
    assert text == (
        "a 2-core Intel Xeon without bf16, PyTorch 2.9.0;\n"
        "  Fashion-MNIST: the embedded subset (6,000 ...)"
    )
    runs["05_vgg.ipynb"] = {"machine": {**machine, "native_bf16": True}, "data": "x"}
    path.write_text(json.dumps({"notebooks": runs}))
    first, _, second, _ = runtime.describe_stored_runs(path).splitlines()
    assert first.startswith("notebooks 03: a 2-core Intel Xeon without")
    assert second.startswith("notebooks 05: a 2-core Intel Xeon with bf16")
    with pytest.raises(FileNotFoundError, match="scripts/run_notebooks.py"):
        runtime.describe_stored_runs(tmp_path / "missing.json")


def test_short_cpu_names():
    assert runtime.short_cpu_name("Intel(R) Xeon(R) Processor") == "Intel Xeon"
    assert runtime.short_cpu_name("AMD EPYC 7B13 64-Core Processor") == "AMD EPYC 7B13"
    laptop = "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz"
    assert runtime.short_cpu_name(laptop) == "Intel Core i7-8550U"
    assert runtime.short_cpu_name("Apple M2") == "Apple M2"


def test_environment_report_says_when_the_asked_device_is_missing(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_ENV, "cuda:7")
    device = dict(runtime.environment_report())["training device"]
    assert device.startswith("none: device 'cuda:7' was asked for") and "$COURSE_DEVICE" in device
