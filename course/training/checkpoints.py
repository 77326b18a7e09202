"""Checkpoints that never lose work: written atomically, read without running code, and refused
when they belong to another run.

A checkpoint is a dict: ``format``, ``run`` (what the run was: ``describe_run``), ``model``,
``optimizer``, ``scheduler``, ``scaler``, ``epoch``, ``rng`` and ``history``. An interrupted
run's ``NAME.interrupted.pt`` holds ``format``, ``model``, ``epoch`` and ``history``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course.files import check_writable, write_atomically

CHECKPOINT_FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read or does not belong to this model."""


def atomic_save(obj, path: Path) -> None:
    """``torch.save`` whole or not at all (``course.files.write_atomically``): a crash or an
    interrupt during the write leaves the previous file as it was."""
    write_atomically(path, lambda f: torch.save(obj, f))


def check_checkpoint_path(checkpoint: Path, resume: bool) -> None:
    """Before any training: the checkpoint can be written, and writing it loses nothing."""
    if checkpoint.is_dir():
        raise CheckpointError(
            f"checkpoint={str(checkpoint)!r} is a folder; name a file in it, e.g. "
            f"{str(checkpoint / 'run.pt')!r}"
        )
    if checkpoint.exists() and not resume:
        try:
            held = f"epoch {load_checkpoint(checkpoint)['epoch']} of an earlier run"
        except CheckpointError:
            held = "a file that is not a readable checkpoint"
        raise CheckpointError(
            f"{checkpoint} already holds {held}; nothing was trained or overwritten. Pass "
            f"resume=True to continue that run, choose another checkpoint path, or delete the "
            f"file to start again."
        )
    try:
        check_writable(checkpoint.parent)
    except OSError as exc:
        raise CheckpointError(
            f"checkpoints cannot be written to {checkpoint.parent} ({exc.strerror or exc}); "
            f"choose a checkpoint path in a folder you can write to"
        ) from None


def describe_run(model: nn.Module, **settings) -> dict:
    """What a checkpoint's run was: the model (registry name and options when built by
    get_model, else its class) and the settings a resumed run must share."""
    build = getattr(model, "course_build", None)
    described = (
        {"name": build["name"], "options": {k: repr(v) for k, v in build["options"].items()}}
        if build is not None
        else {"class": f"{type(model).__module__}.{type(model).__qualname__}"}
    )
    return {"model": described, **settings}


def check_resumable(state: dict, model: nn.Module, run: dict, path: Path) -> None:
    """Refuse a checkpoint of another model, shape or training set-up, naming the difference."""
    stored = state.get("run")
    if stored is not None:  # checkpoints written before runs were described have none
        if stored["model"] != run["model"]:
            raise CheckpointError(
                f"{path} was written by a run of another model: {stored['model']}, not "
                f"{run['model']}; resume with the model it was trained with, or start a new run "
                f"with another checkpoint path"
            )
        for key, value in run.items():
            # epochs may grow: a resumed run can go on longer (its cosine schedule stretches);
            # a key the stored run lacks was not recorded when it was written
            if key not in ("model", "epochs") and key in stored and stored[key] != value:
                raise CheckpointError(
                    f"{path} was trained with {key}={stored.get(key)!r}, this call asks for "
                    f"{key}={value!r}; a resumed run continues exactly, so pass "
                    f"{key}={stored.get(key)!r}, or start a new run with another checkpoint path"
                )
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state["model"].items()}
    if ours.keys() != theirs.keys():
        missing, extra = sorted(ours.keys() - theirs.keys()), sorted(theirs.keys() - ours.keys())
        raise CheckpointError(
            f"{path} holds the weights of another architecture: it lacks {missing[:3]} and has "
            f"{extra[:3]} that this model does not; build the model it was trained with"
        )
    for key, shape in ours.items():
        if theirs[key] != shape:
            raise CheckpointError(
                f"{path} holds {key} of shape {theirs[key]}, this model has {shape}: it was "
                f"built with other options (width, num_classes, in_channels?); build it as the "
                f"checkpoint's run did"
            )


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint safely (``weights_only=True``: tensors and plain data, no code)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; nothing to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a checkpoint, or holding code
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {str(exc)[:200]}). It is "
            f"damaged or not a course checkpoint; delete it to start again, or resume from a copy."
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a course checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def training_state(
    model, optimizer, scheduler, scaler, epoch: int, history: dict, run: dict
) -> dict:
    """Everything ``fit(..., resume=True)`` needs to go on exactly after ``epoch``."""
    return {
        "format": CHECKPOINT_FORMAT,
        "run": run,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "epoch": epoch,
        "rng": rng_state(),
        "history": history,
    }


def save_interrupted(model: nn.Module, epoch: int, history: dict, checkpoint: Path) -> Path:
    """The weights at the moment of an interrupt, beside the checkpoint: NAME.interrupted.pt."""
    saved = checkpoint.with_name(checkpoint.stem + ".interrupted" + checkpoint.suffix)
    atomic_save(
        {"format": CHECKPOINT_FORMAT, "model": model.state_dict(), "epoch": epoch,
         "history": history},
        saved,
    )  # fmt: skip
    return saved


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": json.dumps(random.getstate()),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
