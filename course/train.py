"""Training: ``fit`` and ``evaluate``, fast on a CPU, ready for GPUs, and never losing work.

    from course.train import fit, evaluate
    history = fit(model, train, test, epochs=5, checkpoint="runs/resnet20.pt")
    evaluate(model, test, history.preprocess, tta="ten_crop")

* Data: in-memory uint8 images (a ``course.data.ImageSet`` or an ``(images, labels)`` pair) are
  batched, augmented (random crop, flip) and normalized on the training device, whole batches
  at a time (``course.batches``); a ``torch.utils.data.Dataset`` of uint8 images (e.g.
  ``course.data.load_image_folder``) goes through a DataLoader with worker processes.
* Device: CUDA, then Apple MPS, then the CPU (``course.runtime.pick_device``). On CUDA: mixed
  precision (bf16 where supported, else fp16 with a gradient scaler) and channels_last. On the
  CPU: channels_last (measured 1.25-1.4x faster for the course's CNNs on this project's 2-core
  machine); bf16 autocast only on CPUs with native bf16 instructions (it was slower without).
* Defaults that train every network of the course without tuning, with or without batch norm:
  AdamW (lr 1e-3, weight decay 0.05), linear warm-up over the first epoch, cosine decay to 0,
  gradient clipping at norm 2.
* Progress: a tqdm bar per epoch with the running loss and accuracy (synchronized every
  ``log_every`` batches, not every batch), a live plot of the curves in Jupyter, plain text
  lines elsewhere; the final metrics are always printed.
* Never lose work: a checkpoint after every epoch (model, optimizer, scheduler, scaler, RNG
  states, history), written to a temporary file and renamed, so a crash leaves the previous
  one intact; ``resume=True`` continues exactly where it stopped; Ctrl-C (KeyboardInterrupt)
  saves the interrupted weights beside the checkpoint and returns the history so far; a
  non-finite loss stops training with the epoch and batch where it happened.
* Models with auxiliary classifiers (``AuxOutputs``) train on ``loss + 0.3 * aux losses`` (the
  GoogLeNet paper's weight) and are evaluated on their main output.
* ``torchrun --nproc_per_node=N``: the same ``fit`` runs with DistributedDataParallel (NCCL on
  GPUs, gloo on CPUs), each process on its share of the data; metrics are averaged over all
  processes; only rank 0 prints and writes checkpoints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.batches import Preprocess, TensorBatches, check_images
from course.checks import as_int
from course.models.registry import AuxOutputs
from course.runtime import cpu_has_native_bf16, pick_device

CHECKPOINT_FORMAT = 1
AUX_WEIGHT = 0.3  # GoogLeNet paper, Section 6


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read or does not belong to this model."""


# --- history ---------------------------------------------------------------------------------


@dataclass
class History:
    """Per-epoch metrics; ``preprocess`` tells ``evaluate`` how ``fit`` saw the data."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    images_per_second: list[float] = field(default_factory=list)
    preprocess: dict = field(default_factory=dict)
    interrupted: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**d)

    def last(self) -> str:
        if not self.epoch:
            return "no epoch finished"
        i = -1
        val = (
            f", val loss {self.val_loss[i]:.4f}, val acc {self.val_acc[i]:.4f}"
            if self.val_loss
            else ""
        )
        return (
            f"epoch {self.epoch[i]}: train loss {self.train_loss[i]:.4f}, train acc "
            f"{self.train_acc[i]:.4f}{val}"
        )


# --- devices, precision, distributed ------------------------------------------------------------


def choose_precision(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for ``precision`` ('auto', 'fp32', 'bf16', 'fp16'); None is fp32."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got {precision!r}")
    if precision == "fp32" or (precision == "auto" and device.type == "mps"):
        return None
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_native_bf16() else None
    if precision == "fp16" and device.type == "cpu":
        raise ValueError("precision='fp16' is for GPUs; on a CPU use 'bf16' or 'fp32'")
    return torch.bfloat16 if precision == "bf16" else torch.float16


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Distributed:
        """torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; a plain run is a world of one."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls()
        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()


# --- data ------------------------------------------------------------------------------------


def as_tensors(data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images, int64 labels) from an ImageSet-like object or an (images, labels) pair."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        images, labels = data
    else:
        raise ValueError(
            f"{name} must be an ImageSet (course.data.load_fashion_mnist), an (images, labels) "
            f"pair of tensors or a torch Dataset, got {type(data).__name__}"
        )
    check_images(images, f"{name} images")
    labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(
            f"{name} labels must be integer class indices, got {labels.dtype} (values would be "
            f"cut to integers silently); convert whole-number labels with labels.long()"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{name} has {len(images):,} images but labels of shape {tuple(labels.shape)}; "
            f"it needs one label per image"
        )
    if len(images) == 0:
        raise ValueError(f"{name} is empty: 0 images (check how it was sliced or filtered)")
    return images, labels.long()


def num_outputs(model: nn.Module) -> int | None:
    """How many classes the model predicts: its last Linear layer's outputs (None if none)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1].out_features if linears else None


def check_labels(labels, model: nn.Module, name: str) -> None:
    """Labels outside 0..classes-1 would fail deep inside the loss (a device-side assert on
    CUDA); say so before any compute."""
    classes = num_outputs(model)
    if classes is None or labels is None or len(labels) == 0:
        return
    labels = torch.as_tensor(labels)
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        raise ValueError(
            f"{name} labels range from {low} to {high}, but the model predicts {classes} classes "
            f"(labels 0..{classes - 1}); build it with num_classes={max(high + 1, classes)} or "
            f"fix the labels"
        )


def make_batches(data, name, batch_size, preprocess, device, *, train, seed, dist: Distributed):
    """TensorBatches for in-memory data; a DataLoader for a Dataset (image folders)."""
    if is_dataset(data):
        if len(data) == 0:
            raise ValueError(f"{name} is empty: a Dataset with 0 images")
        return DatasetBatches(
            data, batch_size, preprocess, device, train=train, seed=seed, dist=dist
        )
    images, labels = as_tensors(data, name)
    return TensorBatches(
        images,
        labels,
        batch_size,
        preprocess,
        device,
        shuffle=train,
        train=train,
        seed=seed,
        shard=(dist.rank, dist.world),
    )


class DatasetBatches:
    """A DataLoader over a Dataset of (uint8 image, label), with the same on-device steps."""

    def __init__(self, dataset, batch_size, preprocess, device, *, train, seed, dist):
        from torch.utils.data import DataLoader, DistributedSampler

        from course.data import default_num_workers

        self.preprocess, self.device, self.train, self.seed = preprocess, device, train, seed
        self.sampler = (
            DistributedSampler(dataset, dist.world, dist.rank, shuffle=train, seed=seed)
            if dist.world > 1
            else None
        )
        generator = torch.Generator().manual_seed(seed)
        workers = default_num_workers()
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=train and self.sampler is None,
            sampler=self.sampler,
            num_workers=workers,
            generator=generator,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        self.epoch = 0

    def __len__(self):
        return len(self.loader)

    def set_epoch(self, epoch):
        self.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        for x, y in self.loader:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            yield (
                (
                    self.preprocess.train_batch(x, generator)
                    if self.train
                    else self.preprocess.eval_batch(x)
                ),
                y,
            )


def is_dataset(data) -> bool:
    return isinstance(data, torch.utils.data.Dataset) and not hasattr(data, "images")


def default_preprocess(data, model: nn.Module, augment: bool) -> Preprocess:
    """Statistics of the training images (10,000 of them at most); when training, random crops
    shifted by up to 4 pixels and random flips. A Dataset gets ImageNet's statistics."""
    channels = getattr(model, "in_channels", None)
    if is_dataset(data):
        imagenet = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
        return Preprocess(*imagenet, channels=channels, flip=augment)
    images, _ = as_tensors(data, "train")
    options = dict(crop=images.shape[-1], pad=4, flip=True) if augment else {}
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:10_000]
    return Preprocess.for_images(images[pick], channels=channels, **options)


# --- loss and metrics ------------------------------------------------------------------------


def loss_and_logits(output, y, label_smoothing: float, aux_weight: float):
    """Cross-entropy on the main output, plus ``aux_weight`` x each auxiliary head's loss."""
    if isinstance(output, AuxOutputs):
        loss = F.cross_entropy(output.logits, y, label_smoothing=label_smoothing)
        for aux in output.aux:
            loss = loss + aux_weight * F.cross_entropy(aux, y, label_smoothing=label_smoothing)
        return loss, output.logits
    return F.cross_entropy(output, y, label_smoothing=label_smoothing), output


def evaluate(
    model: nn.Module,
    data,
    preprocess: Preprocess | dict | None = None,
    *,
    tta: str = "none",
    batch_size: int = 512,
    device=None,
    precision: str = "fp32",
) -> dict[str, float]:
    """Loss and accuracy of ``model`` on ``data``, seeing it as ``preprocess`` says (use
    ``history.preprocess`` from ``fit``; without it, the one ``fit`` last trained this model
    with). ``tta``: 'none', 'flip' (image and its mirror) or 'ten_crop' (AlexNet's 10 views);
    the softmax outputs of the views are averaged."""
    if tta not in ("none", "flip", "ten_crop"):
        raise ValueError(f"tta must be 'none', 'flip' or 'ten_crop', got {tta!r}")
    device = pick_device(device) if device is not None else next(model.parameters()).device
    if preprocess is None:
        preprocess = getattr(model, "course_preprocess", None)
        if preprocess is None:
            raise ValueError(
                "evaluate needs to know how the model saw its training images (normalization, "
                "size): pass history.preprocess from fit, or a Preprocess; this model was not "
                "trained by fit in this session, so it will not guess"
            )
    if isinstance(preprocess, dict):
        preprocess = Preprocess(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in preprocess.items()}
        )
    images, labels = as_tensors(data, "data")
    check_labels(labels, model, "data")
    dtype = choose_precision(device, precision)
    was_training = model.training
    model.eval()
    total_loss, correct = torch.zeros((), device=device), torch.zeros((), device=device)
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = images[start : start + batch_size].to(device)
                y = labels[start : start + batch_size].to(device)
                views = preprocess.views(x, tta)  # (V, N, C, h, w)
                with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
                    probs = sum(F.softmax(model(v).float(), dim=1) for v in views) / len(views)
                total_loss += F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum")
                correct += (probs.argmax(1) == y).sum()
    finally:
        model.train(was_training)
    n = len(images)
    return {"loss": total_loss.item() / n, "acc": correct.item() / n, "n": n}


# --- checkpoints -----------------------------------------------------------------------------


def atomic_save(obj, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``: a crash or
    an interrupt during the write leaves the previous file as it was. Temporary files that a
    killed process left behind are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale_temporaries(path: Path) -> None:
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours, or no signals here (Windows): leave its file
        return True
    return True


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
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        probe = checkpoint.with_name(f".{checkpoint.name}.{os.getpid()}.tmp")
        probe.write_bytes(b"")
        probe.unlink()
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
            # epochs may grow: a resumed run can go on longer (its cosine schedule stretches)
            if key not in ("model", "epochs") and stored.get(key) != value:
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


# --- progress --------------------------------------------------------------------------------


def in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


class Progress:
    """tqdm bars, a live plot in Jupyter, text lines elsewhere; silent on ranks > 0."""

    def __init__(self, enabled: bool, live_plot: bool, total_epochs: int):
        self.enabled, self.total = enabled, total_epochs
        self.jupyter = enabled and in_jupyter()
        self.live_plot = live_plot and self.jupyter
        self.handle = None

    def bar(self, epoch: int, steps: int):
        if not self.enabled:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=steps,
            desc=f"epoch {epoch}/{self.total}",
            leave=False,
            file=sys.stdout if not self.jupyter else None,
        )

    def epoch_done(self, history: History) -> None:
        if not self.enabled:
            return
        if self.live_plot:
            import matplotlib.pyplot as plt
            from IPython.display import display

            from course.viz.history_plots import plot_history

            fig = plot_history(history)
            if self.handle is None:
                self.handle = display(fig, display_id=True)
            else:
                self.handle.update(fig)
            plt.close(fig)
        else:
            print(history.last(), flush=True)


# --- fit -------------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: str = "adamw",
    weight_decay: float = 0.05,
    warmup_epochs: float = 1.0,
    label_smoothing: float = 0.0,
    aux_weight: float = AUX_WEIGHT,
    max_grad_norm: float | None = 2.0,
    augment: bool = True,
    preprocess: Preprocess | None = None,
    device=None,
    precision: str = "auto",
    channels_last: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    seed: int = 0,
    progress: bool = True,
    live_plot: bool = True,
    log_every: int = 25,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs; evaluate on ``val`` after each.

    Returns the ``History``. With ``checkpoint``, the state after every epoch is saved there,
    and ``resume=True`` continues from it. See the module docstring for everything else.
    """
    _check_fit_arguments(epochs, batch_size, lr, weight_decay, warmup_epochs, log_every)
    dist = Distributed.from_env()
    device = _device_for(dist, device)
    dtype = choose_precision(device, precision)
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint= (the file to resume from)")
    if checkpoint is not None and dist.main:
        check_checkpoint_path(checkpoint, resume)
    run = describe_run(
        model, optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs,
        batch_size=batch_size, seed=seed,
    )  # fmt: skip

    torch.manual_seed(seed)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    net = model
    if dist.world > 1:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    preprocess = preprocess or default_preprocess(train, model, augment)
    train_batches = make_batches(
        train, "train", batch_size, preprocess, device, train=True, seed=seed, dist=dist
    )
    val_batches = (
        make_batches(val, "val", 512, preprocess, device, train=False, seed=seed, dist=dist)
        if val is not None
        else None
    )
    for name, data in (("train", train), ("val", val)):
        if data is not None:
            check_labels(_labels_of(data, name), model, name)
    model.course_preprocess = preprocess.to_dict()  # what evaluate() uses when not told
    steps = len(train_batches) * epochs
    optimizer = make_optimizer(optimizer, model, lr, weight_decay)
    warmup = max(1, round(warmup_epochs * len(train_batches)))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(warmup, steps))
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    history = History(preprocess=preprocess.to_dict())

    start_epoch = 0
    if resume:
        state = load_checkpoint(checkpoint)
        check_resumable(state, model, run, checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        history = History.from_dict(state["history"])
        history.interrupted = False
        start_epoch = state["epoch"]
        if dist.main and progress:
            print(f"resumed from {checkpoint} after epoch {start_epoch}")

    show = Progress(progress and dist.main, live_plot, epochs)
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            metrics = _train_one_epoch(
                net,
                train_batches,
                epoch,
                optimizer,
                scheduler,
                scaler,
                dtype,
                device,
                dist,
                show,
                label_smoothing,
                aux_weight,
                max_grad_norm,
                log_every,
                lr,
            )
            if val_batches is not None:
                metrics.update(_validate(net, val_batches, dtype, device, dist))
            _record(history, epoch, metrics, optimizer)
            if checkpoint is not None and dist.main:
                atomic_save(
                    _state(model, optimizer, scheduler, scaler, epoch, history, run), checkpoint
                )
            dist.barrier()
            show.epoch_done(history)
    except KeyboardInterrupt:
        history.interrupted = True
        if checkpoint is not None and dist.main:
            saved = checkpoint.with_name(checkpoint.stem + ".interrupted" + checkpoint.suffix)
            atomic_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "model": model.state_dict(),
                    "epoch": epoch - 1,
                    "history": history.to_dict(),
                },
                saved,
            )
            where = (
                f"{checkpoint} holds epoch {epoch - 1}, and fit(..., resume=True) goes on from it"
                if epoch > 1
                else f"no epoch had finished, so there is no {checkpoint.name} to resume from: "
                f"run fit again without resume=True"
            )
            print(
                f"interrupted in epoch {epoch}: the weights at that moment are in {saved}; {where}"
            )
        elif dist.main:
            print(f"interrupted in epoch {epoch}; the model keeps the weights it had")
    if dist.main and progress:
        print(f"final: {history.last()}")
    return history


def make_optimizer(name: str, model: nn.Module, lr: float, weight_decay: float):
    """'adamw' (the default) or 'sgd' (momentum 0.9, as AlexNet, VGG and ResNet were trained)."""
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {name!r}")


def _check_fit_arguments(epochs, batch_size, lr, weight_decay, warmup_epochs, log_every) -> None:
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("log_every", log_every)):
        as_int(value, name, 1)
    if not isinstance(lr, (int, float)) or not 0 < lr < 10:
        raise ValueError(f"lr must be a number in (0, 10), got {lr!r}")
    if not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if not isinstance(warmup_epochs, (int, float)) or warmup_epochs < 0:
        raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs!r}")


def _device_for(dist: Distributed, device) -> torch.device:
    if dist.world > 1 and torch.cuda.is_available() and device is None:
        torch.cuda.set_device(dist.local_rank)
        return torch.device("cuda", dist.local_rank)
    return pick_device(device)


def _warmup_cosine(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _train_one_epoch(
    net,
    batches,
    epoch,
    optimizer,
    scheduler,
    scaler,
    dtype,
    device,
    dist,
    show,
    label_smoothing,
    aux_weight,
    max_grad_norm,
    log_every,
    lr,
):
    net.train()
    batches.set_epoch(epoch)
    bar = show.bar(epoch, len(batches))
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen = 0
    first_bad = torch.full((), -1, device=device)  # first batch with a non-finite loss
    started = time.perf_counter()
    channels_last = next(net.parameters()).is_contiguous(memory_format=torch.channels_last)
    for step, (x, y) in enumerate(batches):
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
            loss, logits = loss_and_logits(net(x), y, label_smoothing, aux_weight)
        finite = torch.isfinite(loss.detach())
        first_bad = torch.where(
            (first_bad < 0) & ~finite, torch.full_like(first_bad, step), first_bad
        )
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if max_grad_norm is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(net.parameters(), max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        loss_sum += loss.detach().float() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if (step + 1) % log_every == 0 or step + 1 == len(batches):  # the only host syncs
            if first_bad.item() >= 0:
                raise TrainingDiverged(
                    f"the loss became NaN or infinite in epoch {epoch}, batch {first_bad.item()} "
                    f"(of {len(batches)}); training stopped and the last checkpoint was kept. "
                    f"Try a lower learning rate, e.g. lr={lr / 10:g} (it was {lr:g})."
                )
            if bar is not None:
                bar.update(step + 1 - bar.n)
                bar.set_postfix(
                    loss=f"{loss_sum.item() / seen:.4f}", acc=f"{correct.item() / seen:.4f}"
                )
    if bar is not None:
        bar.close()
    totals = dist.sum(
        torch.stack([loss_sum, correct.float(), torch.tensor(float(seen), device=device)])
    )
    elapsed = time.perf_counter() - started
    return {
        "train_loss": totals[0].item() / totals[2].item(),
        "train_acc": totals[1].item() / totals[2].item(),
        "seconds": elapsed,
        "images_per_second": totals[2].item() / elapsed,
    }


def _validate(net, batches, dtype, device, dist) -> dict[str, float]:
    net.eval()
    totals = torch.zeros(3, device=device)
    with torch.no_grad():
        for x, y in batches:
            with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
                out = net(x)
            logits = out.logits if isinstance(out, AuxOutputs) else out
            totals[0] += F.cross_entropy(logits.float(), y, reduction="sum")
            totals[1] += (logits.argmax(1) == y).sum()
            totals[2] += len(y)
    totals = dist.sum(totals)
    return {
        "val_loss": totals[0].item() / totals[2].item(),
        "val_acc": totals[1].item() / totals[2].item(),
    }


def _record(history: History, epoch: int, metrics: dict, optimizer) -> None:
    history.epoch.append(epoch)
    history.lr.append(optimizer.param_groups[0]["lr"])
    for key, value in metrics.items():
        getattr(history, key).append(value)


def _labels_of(data, name: str):
    if is_dataset(data):
        return getattr(data, "targets", None)  # ImageFolder keeps them; others: not checked
    return as_tensors(data, name)[1]


def _state(model, optimizer, scheduler, scaler, epoch, history, run) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "run": run,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "epoch": epoch,
        "rng": rng_state(),
        "history": history.to_dict(),
    }


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """python -m course.train --model resnet20 --epochs 5 [--out runs/resnet20]"""
    from course.data import load_fashion_mnist
    from course.models import get_model, list_models

    parser = argparse.ArgumentParser(
        prog="python -m course.train", description="Train a course model on Fashion-MNIST."
    )
    parser.add_argument("--model", required=True, choices=list_models(), metavar="MODEL",
                        help=f"one of: {', '.join(list_models())}")  # fmt: skip
    parser.add_argument("--epochs", type=_positive(int), default=10)
    parser.add_argument("--batch-size", type=_positive(int), default=128)
    parser.add_argument("--lr", type=_positive(float), default=1e-3)
    parser.add_argument("--width", type=_positive(float), default=None, help="channel multiplier")
    parser.add_argument(
        "--image-size", type=_positive(int), default=None,
        help="resize the 28x28 images to this size (default: 28, or the smallest size the "
        "model takes, e.g. 32 for VGG)",
    )  # fmt: skip
    parser.add_argument(
        "--data", default=None, help="Fashion-MNIST folder (default: look-up order)"
    )
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for checkpoint.pt and history.json"
    )
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dist = Distributed.from_env()
    train = load_fashion_mnist("train", args.data, verbose=dist.main)
    test = load_fashion_mnist("test", args.data, verbose=dist.main)
    options = {"width": args.width} if args.width is not None else {}
    model = get_model(args.model, num_classes=10, in_channels=1, **options)
    smallest = model.min_input_size or 1
    size = args.image_size or max(28, smallest)
    if size < smallest:
        parser.error(f"--image-size {size}: {args.model} needs at least {smallest}")
    preprocess = None  # fit's default: the 28x28 images, random shifts and flips
    if size != 28:
        sample = train.images[:10_000]
        preprocess = Preprocess.for_images(sample, size=size, crop=size, pad=4, flip=True)
        if dist.main:
            print(f"images resized to {size}x{size} ({args.model} needs at least {smallest})")
    out = args.out or Path("runs") / args.model
    try:
        history = fit(
            model,
            train,
            test,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            preprocess=preprocess,
            device=args.device,
            checkpoint=out / "checkpoint.pt",
            resume=args.resume,
            seed=args.seed,
            live_plot=False,
        )
    except CheckpointError as exc:
        parser.error(f"{exc} On the command line: --resume goes on, --out names another folder.")
    if dist.main:
        (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1) + "\n")
        print(f"wrote {out / 'checkpoint.pt'} and {out / 'history.json'}")
    if dist.world > 1:
        import torch.distributed as torch_dist

        torch_dist.destroy_process_group()


def _positive(kind):
    """An argparse type: a number of ``kind`` above 0, or a one-line error (not a traceback)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


if __name__ == "__main__":
    main()
