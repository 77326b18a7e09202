"""A user's own image folders (ImageNet, Imagenette, any class-per-folder tree) as a torch
Dataset of uint8 images; torchvision is imported on first use only."""

from __future__ import annotations

import os
import re
from pathlib import Path

from course.checks import as_int
from course.data.files import IMAGE_SUFFIXES, DataError


def find_image_folder(root: str | Path, split: str | None = None) -> Path:
    """The folder whose sub-folders are the classes: ``root/split`` if ``split`` is given.

    ImageNet and Imagenette unpack as ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/...``.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist or is not a folder")
    folder = root / split if split is not None else root
    if not folder.is_dir():
        present = sorted(p.name for p in root.iterdir() if p.is_dir())[:10]
        raise DataError(f"{root} has no split folder {split!r}; its sub-folders are {present}")
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise DataError(
            f"{folder} has no class sub-folders; expected one folder per class holding "
            f"images ({', '.join(IMAGE_SUFFIXES)})"
        )
    return folder


def readable_class_names(folder_names: list[str]) -> list[str]:
    """Folder names as readable names: ImageNet wnids become 'tench', others stay as they are
    (a cats/dogs tree needs no ImageNet metadata at all)."""
    if isinstance(folder_names, str):
        raise ValueError(f"folder_names must be a list of names, got the string {folder_names!r}")
    if not any(re.fullmatch(r"n\d{8}", name) for name in folder_names):
        return list(folder_names)
    from course.data.imagenet import load_imagenet_classes

    by_wnid = {c.wnid: c.name for c in load_imagenet_classes()}
    return [by_wnid.get(name, name) for name in folder_names]


def load_image_folder(
    root: str | Path,
    split: str | None = None,
    *,
    image_size: int = 224,
    transform=None,
    follow_links: bool = False,
):
    """A ``torchvision.datasets.ImageFolder`` over ``root[/split]``, images as uint8 tensors.

    Without ``transform``, each image is resized (shorter side ``image_size * 8/7``, as for
    ImageNet evaluation) and centre-cropped to ``image_size``; the result's
    ``readable_classes`` holds names such as 'tench' for ImageNet wnids. A link that leads out
    of the folder is refused (naming it) unless ``follow_links=True``.
    """
    from torchvision.transforms import v2

    from course.data.folder_scan import LoopSafeImageFolder, read_image

    try:
        image_size = as_int(image_size, "image_size", 1)
    except ValueError:
        raise ValueError(f"image_size must be a positive int, got {image_size!r}") from None
    if transform is not None and not callable(transform):
        raise ValueError(f"transform must be callable (e.g. a v2.Compose), got {transform!r}")
    folder = find_image_folder(root, split)
    if transform is None:
        transform = v2.Compose([
            v2.PILToTensor(),
            v2.Resize(round(image_size * 8 / 7), antialias=True),
            v2.CenterCrop(image_size),
        ])  # fmt: skip
    try:
        kind = LoopSafeImageFolder
        if follow_links:
            kind = type("LinkFollowingImageFolder", (LoopSafeImageFolder,), {"follow_links": True})
        dataset = kind(str(folder), transform=transform, loader=read_image)
    except FileNotFoundError as exc:  # class folders without a single image
        raise DataError(f"{folder}: {exc}") from None
    dataset.readable_classes = readable_class_names(dataset.classes)
    return dataset


def default_num_workers() -> int:
    """DataLoader workers: none where worker processes are spawned (Windows, macOS notebooks),
    otherwise one core fewer than the machine has, at most 8."""
    import platform

    if platform.system() in ("Windows", "Darwin"):
        return 0
    return max(0, min(8, (os.cpu_count() or 1) - 1))
