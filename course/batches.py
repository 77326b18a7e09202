"""Fast batches from in-memory uint8 images: every step runs on whole batches on the training
device (no per-sample Python work, no worker processes).

    prep = Preprocess.for_images(train.images, crop=28, pad=4, flip=True)
    for x, y in TensorBatches(train.images, train.labels, 256, prep, device, shuffle=True, seed=0):
        ...  # x: float (N, C, 28, 28), normalized; y: int64 (N,)

Test-time augmentation views (``ten_crop_views``, ``flip_views``) follow AlexNet (Section 4.1):
the four corner crops and the centre crop, each also mirrored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from course.checks import as_int


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
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
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
