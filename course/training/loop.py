"""``fit`` and ``evaluate``: training fast on a CPU, ready for GPUs, and never losing work.

    from course.training import fit, evaluate
    history = fit(model, train, test, epochs=5, checkpoint="runs/resnet20.pt")
    evaluate(model, test, history.preprocess, tta="ten_crop")

* Data: in-memory uint8 images (a ``course.data.ImageSet`` or an ``(images, labels)`` pair) are
  batched, augmented (random crop, flip) and normalized on the training device, whole batches
  at a time; a ``torch.utils.data.Dataset`` of uint8 images (e.g.
  ``course.data.load_image_folder``) goes through a DataLoader with worker processes
  (``course.training.batches``). Any ``nn.Module`` trains: grey images are repeated to the
  channels its first convolution takes.
* Device: CUDA, then Apple MPS, then the CPU (``course.runtime.pick_device``). On CUDA: mixed
  precision (bf16 where supported, else fp16 with a gradient scaler) and channels_last. On the
  CPU: channels_last (measured 1.25-1.4x faster for the course's CNNs on this project's 2-core
  machine); bf16 autocast only on CPUs with native bf16 instructions (it was slower without)
  (``course.training.devices``).
* Defaults that train every network of the course without tuning, with or without batch norm:
  AdamW (lr 1e-3, weight decay 0.05), linear warm-up over the first epoch, cosine decay to 0,
  gradient clipping at norm 2.
* Progress: a tqdm bar per epoch with the running loss and accuracy (synchronized every
  ``log_every`` batches, not every batch), a live plot of the curves in Jupyter, plain text
  lines elsewhere; the final metrics are always printed (``course.training.progress``).
* Never lose work: a checkpoint after every epoch (model, optimizer, scheduler, scaler, RNG
  states, history), written to a temporary file and renamed, so a crash leaves the previous
  one intact; ``resume=True`` continues exactly where it stopped; Ctrl-C (KeyboardInterrupt)
  saves the interrupted weights beside the checkpoint and returns the history so far; a
  non-finite loss stops training with the epoch and batch where it happened
  (``course.training.checkpoints``).
* Models with auxiliary classifiers (``AuxOutputs``) train on ``loss + 0.3 * aux losses`` (the
  GoogLeNet paper's weight) and are evaluated on their main output; the training loss that is
  reported and recorded is the main output's alone, so it compares with a model without them.
* ``torchrun --nproc_per_node=N``: the same ``fit`` runs with DistributedDataParallel (NCCL on
  GPUs, gloo on CPUs), each process on its share of the data; metrics are averaged over all
  processes; only rank 0 prints and writes checkpoints.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course.checks import as_int
from course.models.registry import AuxOutputs
from course.runtime import pick_device
from course.training.batches import (
    Preprocess,
    check_labels,
    check_preprocess_fits,
    data_fingerprint,
    default_preprocess,
    labels_of,
    make_batches,
    uint8_batches,
)
from course.training.checkpoints import (
    atomic_save,
    check_checkpoint_path,
    check_resumable,
    describe_run,
    load_checkpoint,
    save_interrupted,
    set_rng_state,
    training_state,
)
from course.training.devices import Distributed, autocast, choose_precision, device_for
from course.training.progress import Progress

AUX_WEIGHT = 0.3  # GoogLeNet paper, Section 6


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """Per-epoch metrics; ``preprocess`` tells ``evaluate`` how ``fit`` saw the data."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)  # the main output's loss alone
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    images_per_second: list[float] = field(default_factory=list)
    # with fit(..., val_every=n): the held-out accuracy every n optimizer steps and at the end
    # of each epoch, and the step (counted from the start of training) it was measured after
    val_step: list[int] = field(default_factory=list)
    val_step_acc: list[float] = field(default_factory=list)
    preprocess: dict = field(default_factory=dict)
    interrupted: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**d)

    def epochs_to(self, accuracy: float, on: str = "train_acc") -> int | None:
        """The first epoch whose ``on`` accuracy ('train_acc' or 'val_acc') reached
        ``accuracy``; None if none did within this run."""
        if on not in ("train_acc", "val_acc"):
            raise ValueError(f"on must be 'train_acc' or 'val_acc', got {on!r}")
        reached = (e for e, a in zip(self.epoch, getattr(self, on), strict=False) if a >= accuracy)
        return next(reached, None)

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


def loss_and_logits(output, y, label_smoothing: float, aux_weight: float):
    """(objective, main loss, main logits): the objective is the cross-entropy of the main
    output plus ``aux_weight`` x each auxiliary head's; without auxiliary heads the two losses
    are the same tensor. torchvision's GoogLeNet and Inception v3 return a named tuple in
    training mode (``logits`` first, then their auxiliary heads' logits, None where off): it
    counts as ``AuxOutputs``."""
    fields = getattr(output, "_fields", ())
    if fields[:1] == ("logits",) and not isinstance(output, AuxOutputs):
        output = AuxOutputs(output[0], tuple(a for a in output[1:] if a is not None))
    if isinstance(output, AuxOutputs):
        main = F.cross_entropy(output.logits, y, label_smoothing=label_smoothing)
        loss = main
        for aux in output.aux:
            loss = loss + aux_weight * F.cross_entropy(aux, y, label_smoothing=label_smoothing)
        return loss, main, output.logits
    if not isinstance(output, torch.Tensor) or output.ndim != 2:
        got = (f"a tensor of shape {tuple(output.shape)}" if isinstance(output, torch.Tensor)
               else f"a {type(output).__name__}")  # fmt: skip
        raise TypeError(
            f"the model must return class scores, a tensor (N, classes), got {got}; a model "
            f"that returns several outputs needs a wrapper that returns the scores alone"
        )
    loss = F.cross_entropy(output, y, label_smoothing=label_smoothing)
    return loss, loss, output


def evaluate(
    model: nn.Module,
    data,
    preprocess: Preprocess | dict | None = None,
    *,
    tta: str = "none",
    batch_size: int = 512,
    device=None,
    precision: str = "fp32",
    per_image: bool = False,
) -> dict:
    """Loss and accuracy of ``model`` on ``data`` (what ``fit`` takes: an ImageSet, an
    ``(images, labels)`` pair or a Dataset of uint8 images), seeing it as ``preprocess`` says
    (use ``history.preprocess`` from ``fit``; without it, the one ``fit`` last trained this
    model with). ``tta``: 'none', 'flip' (image and its mirror) or 'ten_crop' (AlexNet's 10
    views); the softmax outputs of the views are averaged. ``per_image=True`` adds
    ``"correct"``: a bool tensor, one per image in order (for paired comparisons).
    ``precision`` is fp32 unless asked: ``fit`` measures its held-out accuracy in the training
    precision ('auto': bf16 where the device has it), so the two can differ by an image or two
    (seen on an H200 GPU: 0.764 against ``fit``'s 0.763 on 1,000 images); ``precision="auto"``
    measures as ``fit`` does."""
    if tta not in ("none", "flip", "ten_crop"):
        raise ValueError(f"tta must be 'none', 'flip' or 'ten_crop', got {tta!r}")
    batch_size = as_int(batch_size, "batch_size", 1)
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
        preprocess = Preprocess.from_dict(preprocess)
    check_labels(labels_of(data, "data"), model, "data")
    dtype = choose_precision(device, precision)
    was_training = model.training
    model.eval()
    total_loss, correct = torch.zeros((), device=device), torch.zeros((), device=device)
    n, hits = 0, []
    try:
        with torch.no_grad():
            for x, y in uint8_batches(data, batch_size):
                x, y = x.to(device), y.to(device)
                views = preprocess.views(x, tta)  # (V, N, C, h, w)
                with autocast(device, dtype):
                    probs = sum(F.softmax(model(v).float(), dim=1) for v in views) / len(views)
                total_loss += F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum")
                right = probs.argmax(1) == y
                correct += right.sum()
                n += len(y)
                if per_image:
                    hits.append(right.cpu())
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("data is empty: 0 images (check how it was sliced or filtered)")
    result = {"loss": total_loss.item() / n, "acc": correct.item() / n, "n": n}
    if per_image:
        result["correct"] = torch.cat(hits)
    return result


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
    live_plot: bool | Callable = True,
    log_every: int = 25,
    val_every: int | None = None,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs; evaluate on ``val`` after each.

    Returns the ``History``. With ``checkpoint``, the state after every epoch is saved there,
    and ``resume=True`` continues from it. ``live_plot`` may be a function ``history ->
    Figure`` to draw your own curves. ``val_every=n`` also measures the held-out accuracy every
    n optimizer steps (``history.val_step`` and ``history.val_step_acc``: to find when a run
    reached an accuracy to within n steps, not a whole epoch). See the module docstring for
    everything else.
    """
    _check_fit_arguments(epochs, batch_size, lr, weight_decay, warmup_epochs, log_every)
    lr, weight_decay, warmup_epochs = float(lr), float(weight_decay), float(warmup_epochs)
    if val_every is not None:
        as_int(val_every, "val_every", 1)
        if val is None:
            raise ValueError("val_every needs val= (the held-out images to measure)")
    dist = Distributed.from_env()
    device = device_for(dist, device)
    dist.join(device)
    dtype = choose_precision(device, precision)
    checkpoint = Path(checkpoint).expanduser() if checkpoint is not None else None  # "~/x.pt"
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint= (the file to resume from)")
    if checkpoint is not None and dist.main:
        check_checkpoint_path(checkpoint, resume)
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
    for name, data in (("train", train), ("val", val)):
        if data is not None:
            check_preprocess_fits(preprocess, data, model, name)
    # everything that changes what a resumed run would compute: check_resumable compares it
    run = describe_run(
        model, optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs,
        batch_size=batch_size, seed=seed, augment=augment, label_smoothing=label_smoothing,
        warmup_epochs=warmup_epochs, max_grad_norm=max_grad_norm, aux_weight=aux_weight,
        preprocess=preprocess.to_dict(),
        data=data_fingerprint(train) if checkpoint is not None else None,  # a resume checks it
    )  # fmt: skip
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
            check_labels(labels_of(data, name), model, name)
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

    step = _Step(
        optimizer=optimizer, scheduler=scheduler, scaler=scaler, dtype=dtype, device=device,
        dist=dist, progress=Progress(progress and dist.main, live_plot, epochs),
        label_smoothing=label_smoothing, aux_weight=aux_weight, max_grad_norm=max_grad_norm,
        log_every=log_every, lr=lr, val_every=val_every, val_batches=val_batches,
    )  # fmt: skip
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            metrics = _train_one_epoch(net, train_batches, epoch, step)
            if val_batches is not None:
                metrics.update(_validate(net, val_batches, step))
            if val_every is not None:
                metrics["val_step"].append(epoch * len(train_batches))
                metrics["val_step_acc"].append(metrics["val_acc"])
            _record(history, epoch, metrics, optimizer)
            if checkpoint is not None and dist.main:
                state = training_state(
                    model, optimizer, scheduler, scaler, epoch, history.to_dict(), run
                )
                atomic_save(state, checkpoint)
            dist.barrier()
            step.progress.epoch_done(history)
    except KeyboardInterrupt:
        history.interrupted = True
        if checkpoint is not None and dist.main:
            saved = save_interrupted(model, epoch - 1, history.to_dict(), checkpoint)
            where = (
                f"{checkpoint} holds epoch {epoch - 1}, and resuming goes on from it "
                f"(fit(..., resume=True))"
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


# --- one epoch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """What every training step needs besides the model and the batch (named, not positional)."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    dtype: torch.dtype | None
    device: torch.device
    dist: Distributed
    progress: Progress
    label_smoothing: float
    aux_weight: float
    max_grad_norm: float | None
    log_every: int
    lr: float
    val_every: int | None = None
    val_batches: object = None  # measured every val_every steps


def _train_one_epoch(net: nn.Module, batches, epoch: int, s: _Step) -> dict[str, float]:
    net.train()
    batches.set_epoch(epoch)
    bar = s.progress.bar(epoch, len(batches))
    loss_sum = torch.zeros((), device=s.device)
    correct = torch.zeros((), device=s.device)
    seen = 0
    first_bad = torch.full((), -1, device=s.device)  # first batch with a non-finite loss
    started = time.perf_counter()
    checks: dict[str, list] = {"val_step": [], "val_step_acc": []}
    checked_seconds = 0.0  # time spent measuring the held-out accuracy within the epoch
    channels_last = next(net.parameters()).is_contiguous(memory_format=torch.channels_last)
    for step, (x, y) in enumerate(batches):
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(s.device, s.dtype):
            output = net(x)
            if step == 0:  # once an epoch (a host sync): labels the scores cannot hold
                _check_scores(output, y)
            loss, main_loss, logits = loss_and_logits(output, y, s.label_smoothing, s.aux_weight)
        finite = torch.isfinite(loss.detach())
        first_bad = torch.where(
            (first_bad < 0) & ~finite, torch.full_like(first_bad, step), first_bad
        )
        s.optimizer.zero_grad(set_to_none=True)
        s.scaler.scale(loss).backward()
        if s.max_grad_norm is not None:
            s.scaler.unscale_(s.optimizer)
            nn.utils.clip_grad_norm_(net.parameters(), s.max_grad_norm)
        s.scaler.step(s.optimizer)
        s.scaler.update()
        s.scheduler.step()
        loss_sum += main_loss.detach().float() * len(y)  # comparable with and without aux heads
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if (step + 1) % s.log_every == 0 or step + 1 == len(batches):  # the only host syncs
            if first_bad.item() >= 0:
                raise TrainingDiverged(
                    f"the loss became NaN or infinite in epoch {epoch}, batch {first_bad.item()} "
                    f"(of {len(batches)}); training stopped and the last checkpoint was kept. "
                    f"Try a lower learning rate, e.g. lr={s.lr / 10:g} (it was {s.lr:g})."
                )
            if bar is not None:
                bar.update(step + 1 - bar.n)
                bar.set_postfix(
                    loss=f"{loss_sum.item() / seen:.4f}", acc=f"{correct.item() / seen:.4f}"
                )
        # every val_every steps since the start of training (an epoch's end is measured anyway)
        done = (epoch - 1) * len(batches) + step + 1
        if s.val_every and done % s.val_every == 0 and step + 1 < len(batches):
            check_started = time.perf_counter()
            checks["val_step"].append(done)
            checks["val_step_acc"].append(_validate(net, s.val_batches, s)["val_acc"])
            net.train()
            checked_seconds += time.perf_counter() - check_started
    if bar is not None:
        bar.close()
    totals = s.dist.sum(
        torch.stack([loss_sum, correct.float(), torch.tensor(float(seen), device=s.device)])
    )
    elapsed = time.perf_counter() - started - checked_seconds
    return {
        **(checks if s.val_every else {}),
        "train_loss": totals[0].item() / totals[2].item(),
        "train_acc": totals[1].item() / totals[2].item(),
        "seconds": elapsed,
        "images_per_second": totals[2].item() / elapsed,
    }


def _check_scores(output, y: torch.Tensor) -> None:
    """A model without a final Linear layer (so fit could not check the labels before training)
    whose scores are fewer than the classes: a clear error, not an index error deep in torch."""
    scores = getattr(output, "logits", output)  # AuxOutputs or torchvision's named tuples
    if isinstance(scores, torch.Tensor) and scores.ndim == 2 and scores.shape[1] <= int(y.max()):
        raise ValueError(
            f"labels go up to {int(y.max())}, but the model gives {scores.shape[1]} class scores "
            f"per image; build it with as many outputs as classes"
        )


def _validate(net: nn.Module, batches, s: _Step) -> dict[str, float]:
    net.eval()
    totals = torch.zeros(3, device=s.device)
    with torch.no_grad():
        for x, y in batches:
            with autocast(s.device, s.dtype):
                out = net(x)
            logits = out.logits if isinstance(out, AuxOutputs) else out
            totals[0] += F.cross_entropy(logits.float(), y, reduction="sum")
            totals[1] += (logits.argmax(1) == y).sum()
            totals[2] += len(y)
    totals = s.dist.sum(totals)
    return {
        "val_loss": totals[0].item() / totals[2].item(),
        "val_acc": totals[1].item() / totals[2].item(),
    }


def _record(history: History, epoch: int, metrics: dict, optimizer) -> None:
    history.epoch.append(epoch)
    history.lr.append(optimizer.param_groups[0]["lr"])
    for key, value in metrics.items():
        recorded = getattr(history, key)
        recorded.extend(value) if isinstance(value, list) else recorded.append(value)


def _check_fit_arguments(epochs, batch_size, lr, weight_decay, warmup_epochs, log_every) -> None:
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("log_every", log_every)):
        as_int(value, name, 1)
    if not _real(lr) or not 0 < lr < 10:
        raise ValueError(f"lr must be a number in (0, 10), got {lr!r}")
    if not _real(weight_decay) or not 0 <= weight_decay < math.inf:
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    if not _real(warmup_epochs) or not 0 <= warmup_epochs < math.inf:
        raise ValueError(f"warmup_epochs must be a number >= 0, got {warmup_epochs!r}")


def _real(value) -> bool:
    """A real number: Python's, NumPy's (np.float32(1e-3)) or a 0-d tensor's; not a bool."""
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and value.is_floating_point()
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _warmup_cosine(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor
