"""Fashion-MNIST as in-memory uint8 tensors, offline first.

Fashion-MNIST is looked up in this order, and the first place that has it wins:

1. ``root=`` -- a folder the caller names;
2. ``$COURSE_FASHION_MNIST`` -- a folder named by an environment variable;
3. ``/usr/share/datasets/fashion-mnist`` -- the full set from Debian's ``dataset-fashion-mnist``;
4. ``~/.cache/course/fashion-mnist`` -- where an earlier opt-in ``download=True`` put it;
5. ``download=True`` only: fetch the full set into that cache folder;
6. ``data/fashion-mnist-subset`` -- a small balanced subset committed with the course.

Nothing is downloaded unless the caller passes ``download=True``. A folder holds the four
original files (``train-images-idx3-ubyte[.gz]`` ...), directly or in torchvision's
``FashionMNIST/raw/`` layout. The result says which source it came from.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course.data.files import DATA_DIR_ENV, DataError, data_dir, shown_path

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
SPLITS = ("train", "test")
FASHION_MNIST_ENV = "COURSE_FASHION_MNIST"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_DIR = Path.home() / ".cache" / "course" / "fashion-mnist"

# IDX file names of the original distribution, per split: (images, labels).
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # number of dimensions -> magic number for uint8 IDX files


@dataclass(frozen=True)
class ImageSet:
    """Images and labels held in memory, ready for fast batched training.

    images: uint8 tensor (N, C, H, W); labels: int64 tensor (N,).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    split: str
    source: str  # which of the look-up places it came from, e.g. "embedded subset"
    path: Path

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def describe(self) -> str:
        _, c, h, w = self.images.shape
        return (
            f"Fashion-MNIST {self.split}: {len(self):,} images {c}x{h}x{w}, "
            f"{len(self.classes)} classes, from the {self.source} ({shown_path(self.path)})"
        )


def embedded_fashion_mnist_dir() -> Path:
    return data_dir() / "fashion-mnist-subset"


# --- IDX files ------------------------------------------------------------------------------


def _find_idx_file(folder: Path, name: str) -> Path | None:
    for sub in (folder, folder / "FashionMNIST" / "raw"):
        for candidate in (sub / name, sub / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def has_fashion_mnist(folder: Path, split: str) -> bool:
    """True when ``folder`` holds both files of ``split`` (plain or gzipped)."""
    _check_split(split)
    return all(_find_idx_file(Path(folder), name) for name in _FILES[split])


MAX_IDX_BYTES = 256 * 2**20  # an MNIST-style file is far smaller; a gzip bomb is refused here


def _read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes (decompressed when its name ends in .gz), None if there are more than
    ``limit``: never more than ``limit + 1`` bytes in memory, whatever a header claims."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read(limit + 1)
    return None if len(raw) > limit else raw


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one uint8 IDX file (optionally gzipped) with every header field checked."""
    path = Path(path)
    if ndim not in _IDX_MAGIC:
        raise ValueError(f"ndim must be 1 (labels) or 3 (images), got {ndim!r}")
    fix = "Replace it with an intact copy of the original Fashion-MNIST file, or delete it."
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file")
    try:
        raw = _read_at_most(path, MAX_IDX_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc} (truncated or not gzip). {fix}") from None
    if raw is None:
        raise DataError(
            f"{path} holds more than {MAX_IDX_BYTES:,} bytes (uncompressed): not an MNIST-style "
            f"file (Fashion-MNIST's largest is 47,040,016). {fix}"
        )
    if path.suffix != ".gz" and raw[:2] == b"\x1f\x8b":
        raise DataError(f"{path} is gzip-compressed but its name does not end in .gz; rename it")
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path} is too short ({len(raw)} bytes) to be an IDX file. {fix}")
    magic = int.from_bytes(raw[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise DataError(
            f"{path} has magic number {magic}, expected {_IDX_MAGIC[ndim]} for a uint8 "
            f"IDX file with {ndim} dimension(s). {fix}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise DataError(
            f"{path} is truncated or padded: its header says {shape} = {expected:,} bytes of "
            f"data, the file has {len(raw) - offset:,}. {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def read_fashion_mnist_folder(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) uint8 and labels (N,) int64 of one split from one folder."""
    folder = Path(folder)
    _check_split(split)
    if not folder.is_dir():
        raise DataError(f"Fashion-MNIST folder {folder} does not exist or is not a folder")
    paths = [_find_idx_file(folder, name) for name in _FILES[split]]
    missing = [name for name, p in zip(_FILES[split], paths, strict=True) if p is None]
    if missing:
        raise DataError(
            f"{folder} has no {' or '.join(missing)}[.gz] (looked in it and in "
            f"FashionMNIST/raw/). Put the original Fashion-MNIST files there, or name another "
            f"folder."
        )
    images = read_idx(paths[0], ndim=3)
    labels = read_idx(paths[1], ndim=1)
    if images.shape[1:] != (28, 28) or len(images) == 0:
        raise DataError(
            f"{paths[0]} holds images of shape {images.shape}; Fashion-MNIST has (N, 28, 28) "
            f"with N > 0. Is this the right file?"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{paths[0]} has {len(images):,} images but {paths[1]} has {len(labels):,} labels; "
            f"the two files come from different copies"
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise DataError(f"{paths[1]} has label {labels.max()}, but Fashion-MNIST has 10 classes")
    images_t = torch.from_numpy(images.copy()).unsqueeze(1)  # (N, 1, 28, 28) uint8
    labels_t = torch.from_numpy(labels.astype(np.int64))
    return images_t, labels_t


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file; ``.gz`` paths are gzipped reproducibly (mtime 0)."""
    array = np.asarray(array)
    if array.ndim not in _IDX_MAGIC:
        raise ValueError(f"array must have 1 (labels) or 3 (images) dimensions, got {array.ndim}")
    if array.dtype != np.uint8:
        raise ValueError(
            f"array must be uint8 (values 0..255), got {array.dtype}; convert it first"
        )
    array = np.ascontiguousarray(array)
    header = _IDX_MAGIC[array.ndim].to_bytes(4, "big")
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as gz:
            gz.write(payload)
    else:
        path.write_bytes(payload)


# --- look-up ---------------------------------------------------------------------------------


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _download_fashion_mnist(folder: Path, opted_in: bool) -> None:
    """Explicit opt-in only: torchvision fetches the four files into ``folder``."""
    from torchvision.datasets import FashionMNIST

    if not opted_in:
        raise RuntimeError("downloading needs the caller's explicit download=True")
    folder.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        FashionMNIST(str(folder), train=train, download=opted_in)


def fashion_mnist_sources(root: str | Path | None = None) -> list[tuple[str, Path]]:
    """The look-up order as (source name, folder) pairs, before checking what exists."""
    places = []
    if root is not None:
        if not isinstance(root, (str, os.PathLike)) or not str(root).strip():
            raise ValueError(f"root must be a folder path (str or Path), got {root!r}")
        places.append(("folder you named", Path(root).expanduser().resolve()))
    if os.environ.get(FASHION_MNIST_ENV):
        env_folder = Path(os.environ[FASHION_MNIST_ENV]).expanduser().resolve()
        places.append((f"${FASHION_MNIST_ENV} folder", env_folder))
    places.append(("full set from Debian's dataset-fashion-mnist", DEBIAN_FASHION_MNIST))
    places.append(("full set downloaded earlier", DOWNLOAD_DIR))
    places.append(("embedded subset", embedded_fashion_mnist_dir()))
    return places


def load_fashion_mnist(
    split: str = "train",
    root: str | Path | None = None,
    *,
    download: bool = False,
    verbose: bool = True,
) -> ImageSet:
    """Load one Fashion-MNIST split into memory from the first source that has it.

    ``root`` and ``$COURSE_FASHION_MNIST`` must hold the data if given: a folder you name that
    lacks it is an error, not a silent fall-back. ``download=True`` fetches the full set into
    ``~/.cache/course/fashion-mnist`` when no full copy is found (never done by default).
    With ``verbose`` the source is printed; it is always in the result's ``.source``.
    """
    _check_split(split)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    for name, folder in fashion_mnist_sources(root):
        named_by_user = name in ("folder you named", f"${FASHION_MNIST_ENV} folder")
        if name == "embedded subset" and download:  # no full copy anywhere: fetch it, as asked
            _download_fashion_mnist(DOWNLOAD_DIR, opted_in=download)
            name, folder = "full set downloaded now", DOWNLOAD_DIR
        if named_by_user and not has_fashion_mnist(folder, split):
            try:  # let read_fashion_mnist_folder say exactly what is missing
                read_fashion_mnist_folder(folder, split)
            except DataError as exc:
                raise DataError(f"{exc}\n{_how_to_fix(name)}") from None
        if has_fashion_mnist(folder, split):
            try:
                images, labels = read_fashion_mnist_folder(folder, split)
            except DataError as exc:  # say which look-up place the broken copy came from
                raise DataError(f"{exc}\n{_how_to_fix(name)}") from None
            result = ImageSet(images, labels, FASHION_MNIST_CLASSES, split, name, folder)
            if verbose:
                print(result.describe())
            return result
    raise DataError(
        f"Fashion-MNIST ({split}) was found nowhere; the embedded subset should be in "
        f"{embedded_fashion_mnist_dir()}. {_how_to_fix('embedded subset')}"
    )


def _how_to_fix(source: str) -> str:
    """What a user can do about a missing or broken copy from one look-up place."""
    elsewhere = (
        f"Or name a folder with the full set: load_fashion_mnist(root=...) or "
        f"${FASHION_MNIST_ENV}=/path; Debian: sudo apt-get install dataset-fashion-mnist."
    )
    if source == f"${FASHION_MNIST_ENV} folder":
        return (
            f"The folder comes from ${FASHION_MNIST_ENV}: point the variable at a folder with "
            f"the four Fashion-MNIST files, or unset it to use the other copies."
        )
    if source == "embedded subset":
        return (
            f"The subset ships in the course's data/ folder: restore it with git in a clone, "
            f"or set ${DATA_DIR_ENV} to a copy of that folder. {elsewhere}"
        )
    if source == "folder you named":
        return f"Check the root= you passed. {elsewhere}"
    return f"Reinstall that copy or delete it. {elsewhere}"
