"""What ``fit`` and ``evaluate`` feed the model: uint8 images in, normalized float batches out.

In-memory images (an ``ImageSet`` or an ``(images, labels)`` pair) are batched by
``TensorBatches``: every step runs on whole batches on the training device (no per-sample
Python work, no worker processes). A ``torch.utils.data.Dataset`` of uint8 images (e.g.
``course.data.load_image_folder``) goes through a DataLoader with worker processes
(``DatasetBatches``), then the same on-device steps. ``Preprocess`` says what the steps are.

    prep = Preprocess.for_images(train.images, crop=28, pad=4, flip=True)
    for x, y in TensorBatches(train.images, train.labels, 256, prep, device, shuffle=True, seed=0):
        ...  # x: float (N, C, 28, 28), normalized; y: int64 (N,)

Test-time augmentation views (``ten_crop_views``, ``flip_views``) follow AlexNet (Section 4.1):
the four corner crops and the centre crop, each also mirrored.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.checks import as_int
from course.data.image_folders import default_num_workers
from course.data.imagenet import IMAGENET_MEAN, IMAGENET_STD


@dataclass(frozen=True)
class Preprocess:
    """What happens to a uint8 batch (N, C, H, W) before the model sees it.

    size: resize to size x size first (None keeps the images' size);
    crop: training takes a random crop x crop (after zero-padding ``pad`` pixels on each side),
          evaluation the centre crop (None: no cropping);
    flip: training mirrors a random half of the batch;
    mean, std: per-channel normalization of values in [0, 1];
    channels: repeat grey images to this many channels (3 for ImageNet-shaped models).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    size: int | None = None
    crop: int | None = None
    pad: int = 0
    flip: bool = False
    channels: int | None = None

    def __post_init__(self):
        for name in ("size", "crop", "channels"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, as_int(value, name, 1))
                except ValueError:
                    raise ValueError(f"{name} must be None or an int >= 1, got {value!r}") from None
        object.__setattr__(self, "pad", as_int(self.pad, "pad", 0))
        if not all(math.isfinite(v) for v in (*self.mean, *self.std)):
            raise ValueError(
                f"mean and std must be finite numbers, got {self.mean}, {self.std} (statistics "
                f"of images that hold NaN or infinity?)"
            )
        if len(self.mean) != len(self.std) or any(s <= 0 for s in self.std):
            raise ValueError(
                f"mean and std need one value per channel, std > 0: {self.mean}, {self.std}"
            )

    @classmethod
    def for_images(cls, images: torch.Tensor, **options) -> Preprocess:
        """Normalization statistics measured on ``images`` (uint8, N x C x H x W)."""
        check_images(images, "images")
        x = images.float().div_(255)
        mean = x.mean(dim=(0, 2, 3)).tolist()
        std = x.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()
        return cls(tuple(round(m, 4) for m in mean), tuple(round(s, 4) for s in std), **options)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Preprocess:
        """The inverse of ``to_dict``, also after JSON (which turns tuples into lists)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    # --- the steps ---------------------------------------------------------------------------

    def _start(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().div_(255)
        if self.size is not None and x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(
                x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False
            )
        return x

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.new_tensor(self.mean).view(1, -1, 1, 1)
        std = x.new_tensor(self.std).view(1, -1, 1, 1)
        x = (x - mean) / std
        if self.channels is not None and x.shape[1] != self.channels:
            if x.shape[1] != 1:
                raise ValueError(f"cannot turn {x.shape[1]} channels into {self.channels}")
            x = x.expand(-1, self.channels, -1, -1)
        return x.contiguous()

    def train_batch(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Random crop (with padding) and random flip, drawn from ``generator`` (a CPU one)."""
        x = self._start(x)
        n, _, h, w = x.shape
        if self.crop is not None:
            if self.pad:
                x = F.pad(x, (self.pad,) * 4)
                h, w = h + 2 * self.pad, w + 2 * self.pad
            if self.crop > min(h, w):
                raise ValueError(f"crop {self.crop} is larger than the (padded) image {h}x{w}")
            top = torch.randint(0, h - self.crop + 1, (n,), generator=generator).to(x.device)
            left = torch.randint(0, w - self.crop + 1, (n,), generator=generator).to(x.device)
            offsets = torch.arange(self.crop, device=x.device)
            rows = (top[:, None] + offsets)[:, None, :, None]  # (N, 1, crop, 1)
            cols = (left[:, None] + offsets)[:, None, None, :]  # (N, 1, 1, crop)
            batch = torch.arange(n, device=x.device)[:, None, None, None]
            channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
            x = x[batch, channel, rows, cols]  # (N, C, crop, crop)
        if self.flip:
            mirror = (torch.rand(n, generator=generator) < 0.5).to(x.device)
            x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
        return self._finish(x)

    def eval_batch(self, x: torch.Tensor) -> torch.Tensor:
        """Resize, centre crop, normalize: the view a model is evaluated on."""
        x = self._start(x)
        if self.crop is not None:
            x = center_crop(x, self.crop)
        return self._finish(x)

    def views(self, x: torch.Tensor, tta: str) -> torch.Tensor:
        """Test-time views (V, N, C, h, w) of a uint8 batch: 'none' (V=1), 'flip' (2), 'ten_crop'
        (10)."""
        if tta == "none":
            return self.eval_batch(x)[None]
        if tta == "flip":
            centre = self.eval_batch(x)
            return torch.stack([centre, centre.flip(-1)])
        if tta == "ten_crop":
            if self.crop is None:
                raise ValueError(
                    "tta='ten_crop' needs a Preprocess with crop= smaller than the image"
                )
            return torch.stack([self._finish(v) for v in ten_crop_views(self._start(x), self.crop)])
        raise ValueError(f"tta must be 'none', 'flip' or 'ten_crop', got {tta!r}")


def check_images(images: torch.Tensor, name: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        got = (
            f"{images.dtype} {tuple(images.shape)}"
            if isinstance(images, torch.Tensor)
            else type(images).__name__
        )
        raise ValueError(f"{name} must be a uint8 tensor (N, C, H, W), got {got}")


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if size > min(h, w):
        raise ValueError(f"crop {size} is larger than the image {h}x{w}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]


def ten_crop_views(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    """AlexNet's ten views: 4 corner crops and the centre crop, then each mirrored."""
    h, w = x.shape[-2:]
    if size > min(h, w):
        raise ValueError(f"crop {size} is larger than the image {h}x{w}")
    crops = [
        x[..., :size, :size],
        x[..., :size, w - size :],
        x[..., h - size :, :size],
        x[..., h - size :, w - size :],
        center_crop(x, size),
    ]
    return crops + [c.flip(-1) for c in crops]


class TensorBatches:
    """Batches of (preprocessed images, labels) from uint8 tensors held in memory.

    Each epoch draws a new order from ``seed`` and the epoch number, so epoch ``k`` is the same
    batches whether or not training was interrupted before it. With ``shard=(rank, world)``
    every process takes its own equal share of each epoch (torchrun / DDP).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        preprocess: Preprocess,
        device: torch.device,
        *,
        shuffle: bool = False,
        train: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        shard: tuple[int, int] = (0, 1),
    ):
        check_images(images, "images")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"labels must be 1-D with one per image: {tuple(labels.shape)} for {len(images)}"
            )
        batch_size = as_int(batch_size, "batch_size", 1)
        self.images, self.labels = images, labels.long()
        self.batch_size, self.preprocess, self.device = batch_size, preprocess, torch.device(device)
        self.shuffle, self.train, self.seed, self.drop_last = shuffle, train, seed, drop_last
        self.rank, self.world = shard
        self.epoch = 0
        self._per_rank = len(images) // self.world if self.world > 1 else len(images)

    def __len__(self) -> int:
        full, rest = divmod(self._per_rank, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        n = len(self.images)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        if self.world > 1:  # equal shares: DDP needs the same number of steps everywhere
            order = order[self.rank :: self.world][: self._per_rank]
        pin = self.device.type == "cuda"
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                break
            x = self.images[index]
            y = self.labels[index]
            if pin:
                x, y = x.pin_memory(), y.pin_memory()
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            x = (
                self.preprocess.train_batch(x, generator)
                if self.train
                else self.preprocess.eval_batch(x)
            )
            yield x, y


# --- from what fit and evaluate are given to batches ------------------------------------------


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


def is_dataset(data) -> bool:
    return isinstance(data, torch.utils.data.Dataset) and not hasattr(data, "images")


def labels_of(data, name: str):
    """The labels of in-memory data, or of an ImageFolder (None for other Datasets)."""
    if is_dataset(data):
        return getattr(data, "targets", None)  # ImageFolder keeps them; others: not checked
    return as_tensors(data, name)[1]


def num_outputs(model: nn.Module) -> int | None:
    """How many classes the model predicts: its last Linear layer's outputs (None if none)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1].out_features if linears else None


def input_channels(model: nn.Module) -> int | None:
    """How many channels the model takes: ``model.in_channels`` (the course's models), else its
    first convolution's (any ``nn.Module``), else None (then images keep their channels)."""
    channels = getattr(model, "in_channels", None)
    if channels is None:
        first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        channels = first.in_channels if first is not None else None
    return channels


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


def default_preprocess(data, model: nn.Module, augment: bool) -> Preprocess:
    """Statistics of the training images (10,000 of them at most); when training, random crops
    shifted by up to 4 pixels and random flips. A Dataset gets ImageNet's statistics. Grey
    images are repeated to as many channels as the model's first convolution takes."""
    channels = input_channels(model)
    if is_dataset(data):
        if image_channels(data, "train") == 1:  # grey images: ImageNet's statistics averaged
            grey = (sum(IMAGENET_MEAN) / 3,), (sum(IMAGENET_STD) / 3,)
            return Preprocess(*grey, channels=channels, flip=augment)
        return Preprocess(IMAGENET_MEAN, IMAGENET_STD, channels=channels, flip=augment)
    images, _ = as_tensors(data, "train")
    options = dict(crop=images.shape[-1], pad=4, flip=True) if augment else {}
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:10_000]
    return Preprocess.for_images(images[pick], channels=channels, **options)


def make_batches(data, name, batch_size, preprocess, device, *, train, seed, dist):
    """TensorBatches for in-memory data; a DataLoader for a Dataset (image folders). In
    training, a last batch of a single image is left out of each epoch (a different image each
    epoch, as the order is shuffled): batch norm cannot normalize one value per channel."""
    if is_dataset(data):
        if len(data) == 0:
            raise ValueError(f"{name} is empty: a Dataset with 0 images")
        check_dataset_item(data, name)
        per_rank = math.ceil(len(data) / dist.world)  # DistributedSampler pads every share
        return DatasetBatches(
            data, batch_size, preprocess, device, train=train, seed=seed, dist=dist,
            drop_last=train and _last_batch_of_one(per_rank, batch_size),
        )  # fmt: skip
    images, labels = as_tensors(data, name)
    per_rank = len(images) // dist.world if dist.world > 1 else len(images)
    return TensorBatches(
        images,
        labels,
        batch_size,
        preprocess,
        device,
        shuffle=train,
        train=train,
        seed=seed,
        drop_last=train and _last_batch_of_one(per_rank, batch_size),
        shard=(dist.rank, dist.world),
    )


def _last_batch_of_one(images: int, batch_size: int) -> bool:
    """An epoch would end in a batch of a single image after full ones (a training set of one
    image is left alone: it is a sanity check people run on purpose)."""
    return images > batch_size and images % batch_size == 1


def check_dataset_item(data, name: str) -> torch.Tensor | None:
    """A Dataset's first item must be (uint8 image (C, H, W), label), a tensor or a NumPy
    array: ``fit`` scales images from 0-255 itself, so images already scaled to [0, 1]
    (``ToTensor()``) would be divided by 255 again and train on values near -2, silently.
    Returns that first image (None for an IterableDataset: no first item to look at)."""
    if isinstance(data, torch.utils.data.IterableDataset):
        return None
    item = data[0]
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise ValueError(f"{name}[0] must be an (image, label) pair, got {type(item).__name__}")
    image = torch.as_tensor(item[0]) if isinstance(item[0], np.ndarray) else item[0]
    if not isinstance(image, torch.Tensor) or image.dtype != torch.uint8 or image.ndim != 3:
        got = (f"a {image.dtype} tensor of shape {tuple(image.shape)}"
               if isinstance(image, torch.Tensor) else type(image).__name__)  # fmt: skip
        raise ValueError(
            f"{name}[0]'s image must be a uint8 tensor (C, H, W) with values 0-255, got {got}; "
            f"use transforms.PILToTensor() (uint8), not ToTensor() (floats in [0, 1]), or "
            f"course.data.load_image_folder, and let fit normalize"
        )
    return image


class DatasetBatches:
    """A DataLoader over a Dataset of (uint8 image, label), with the same on-device steps."""

    def __init__(self, dataset, batch_size, preprocess, device, *, train, seed, dist,
                 drop_last=False):  # fmt: skip
        from torch.utils.data import DataLoader, DistributedSampler

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
            drop_last=drop_last,
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


def uint8_batches(data, batch_size: int):
    """(uint8 images, labels) batches of in-memory data or a Dataset, in order (evaluation)."""
    if is_dataset(data):
        from torch.utils.data import DataLoader

        check_dataset_item(data, "data")
        yield from DataLoader(data, batch_size=batch_size, num_workers=default_num_workers())
        return
    images, labels = as_tensors(data, "data")
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size], labels[start : start + batch_size]


def image_channels(data, name: str) -> int | None:
    """The channels of the images of in-memory data or of a Dataset (its first image; None for
    an IterableDataset)."""
    if is_dataset(data):
        first = check_dataset_item(data, name)
        return None if first is None else first.shape[0]
    return as_tensors(data, name)[0].shape[1]


def check_preprocess_fits(preprocess: Preprocess, data, model: nn.Module, name: str) -> None:
    """Before training: the normalization has one value per image channel (or one for all),
    and what it hands the model has the channels the model's first convolution takes."""
    have = image_channels(data, name)
    if have is None:
        return
    # one value for all channels, one per channel, or (grey images) one per channel they become
    if len(preprocess.mean) not in (1, have, preprocess.channels if have == 1 else have):
        raise ValueError(
            f"the preprocess normalizes {len(preprocess.mean)} channels, but the {name} images "
            f"have {have}; give mean and std one value per channel (or one for all)"
        )
    sees, takes = preprocess.channels or have, input_channels(model)
    if takes is not None and sees != takes:
        fix = (f"Preprocess(..., channels={takes})" if have == 1
               else f"a model built with in_channels={have}")  # fmt: skip
        raise ValueError(
            f"the model takes {takes}-channel images but would be given {sees} channels "
            f"({name} images have {have}); use {fix}"
        )


def data_fingerprint(data) -> str:
    """What a resumed run checks it trains on the same data: in-memory images and labels by
    count and SHA-256 of their bytes; a Dataset by its class, size and folder."""
    if is_dataset(data):
        root = getattr(data, "root", None)
        where = f" in {os.path.realpath(root)}" if root else ""  # wherever it is opened from
        return f"{type(data).__name__} of {len(data):,} images{where}"
    images, labels = as_tensors(data, "train")
    digest = hashlib.sha256(images.contiguous().numpy())  # the buffer itself, no copy
    digest.update(labels.contiguous().numpy())
    return f"{len(images):,} images, sha256 {digest.hexdigest()[:16]}"
