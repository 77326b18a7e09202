"""Fault injection: a training run killed with SIGKILL at random moments, including in the middle
of a checkpoint write, resumes to bit-identical weights, and no checkpoint is ever lost or
left corrupt. Each run is a separate process, as a crash or an out-of-memory kill would be."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from course.training import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

EPOCHS = 6
CHILD = """
import io, os, signal, sys
from pathlib import Path
import torch
from course import training
from course.models import get_model

checkpoint, out = Path(sys.argv[1]), Path(sys.argv[2])
kill_in_write = int(os.environ.get("KILL_IN_CHECKPOINT_WRITE", "0"))  # which write to cut short
writes = 0
real_save = torch.save

def save_then_die(obj, f, *args, **kwargs):  # half the file, then the process is killed
    global writes
    writes += 1
    if writes != kill_in_write:
        return real_save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

torch.save = save_then_die
generator = torch.Generator().manual_seed(0)
images = torch.randint(0, 256, (512, 1, 28, 28), dtype=torch.uint8, generator=generator)
labels = torch.randint(0, 10, (512,), generator=generator)
torch.manual_seed(0)  # the same initial weights in every process, as a seeded notebook has
model = get_model("resnet20", num_classes=10, in_channels=1, width=0.25)
print("training", flush=True)  # the parent times its kills from here
training.fit(model, (images, labels), epochs=EPOCHS, batch_size=64, checkpoint=checkpoint,
             resume=checkpoint.exists(), progress=False)
torch.save = real_save
torch.save(model.state_dict(), out)
""".replace("EPOCHS", str(EPOCHS))


def start(folder: Path, **env) -> subprocess.Popen:
    script = folder / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(folder / "run.pt"), str(folder / "final.pt")],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_training(process: subprocess.Popen) -> float:
    assert process.stdout.readline().strip() == "training"
    return time.monotonic()


def finish(process: subprocess.Popen) -> int:
    _, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, -signal.SIGKILL), stderr[-3000:]
    return process.returncode


def epoch_saved(folder: Path) -> int:
    """The epoch the checkpoint holds (0 if none yet); it must always be readable."""
    path = folder / "run.pt"
    return load_checkpoint(path)["epoch"] if path.exists() else 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The weights of an uninterrupted run, and how long it took."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    process = start(folder)
    started = wait_until_training(process)
    assert finish(process) == 0
    return torch.load(folder / "final.pt", weights_only=True), time.monotonic() - started


def assert_same_weights(folder: Path, reference_weights) -> None:
    weights = torch.load(folder / "final.pt", weights_only=True)
    assert weights.keys() == reference_weights.keys()
    for name, tensor in reference_weights.items():
        assert torch.equal(weights[name], tensor), f"{name} differs from the uninterrupted run"


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_at_random_moments_resumes_exactly(tmp_path, reference, seed):
    reference_weights, seconds = reference
    rng = random.Random(seed)
    saved, kills = 0, []
    for attempt in range(12):
        process = start(tmp_path)
        wait_until_training(process)
        if attempt < 5:  # the first few runs are killed at a random moment of their training
            try:
                process.wait(timeout=rng.uniform(0.02, 0.6) * seconds)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        if finish(process) == 0:
            break
        now = epoch_saved(tmp_path)  # readable, never corrupt ...
        assert now >= saved  # ... and never older than before the kill
        saved = now
        kills.append(now)
    else:
        pytest.fail("the run never finished")
    assert kills, "no run was killed: the test tested nothing"
    assert epoch_saved(tmp_path) == EPOCHS
    assert_same_weights(tmp_path, reference_weights)
    assert not list(tmp_path.glob(".run.pt.*.tmp")), "a temporary file was left behind"
    print(f"seed {seed}: killed after epochs {kills}, then finished")


def test_killed_while_writing_a_checkpoint(tmp_path, reference):
    reference_weights, _ = reference
    assert finish(start(tmp_path, KILL_IN_CHECKPOINT_WRITE="2")) == -signal.SIGKILL
    assert epoch_saved(tmp_path) == 1  # the write of epoch 2 was cut: epoch 1 is intact
    assert list(tmp_path.glob(".run.pt.*.tmp")), "the half-written file should be there"
    assert finish(start(tmp_path)) == 0
    assert not list(tmp_path.glob(".run.pt.*.tmp")), "the stale temporary file was not removed"
    assert_same_weights(tmp_path, reference_weights)
