"""torchvision's ImageFolder with a file scan that survives link loops, and an image reader that
names a damaged file (imported by ``course.data.load_image_folder`` on first use, so that
``import course.data`` does not import torchvision)."""

import os
from pathlib import Path

from torchvision import datasets

from course.data.files import IMAGE_SUFFIXES, DataError


class LoopSafeImageFolder(datasets.ImageFolder):
    """An ImageFolder whose scan visits each real folder once: a symbolic link back up the tree
    would otherwise list the same images again, once per level of the loop. Links that lead
    out of the folder are refused unless ``follow_links`` (see ``image_files``)."""

    follow_links = False

    @classmethod
    def make_dataset(cls, directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):  # fmt: skip
        samples = []
        seen = {os.path.realpath(Path(directory) / name) for name in class_to_idx}
        for name, index in sorted(class_to_idx.items(), key=lambda item: item[1]):
            files = image_files(Path(directory) / name, seen, inside=Path(directory),
                                follow_links=cls.follow_links)  # fmt: skip
            if not files and not allow_empty:
                raise FileNotFoundError(
                    f"class folder {name!r} holds no image ({', '.join(IMAGE_SUFFIXES)})"
                )
            samples += [(str(f), index) for f in files]
        return samples


def image_files(folder: Path, seen: set[str] | None = None, inside: Path | None = None,
                follow_links: bool = True) -> list[Path]:  # fmt: skip
    """Regular image files under ``folder``, following links but never into a real folder in
    ``seen`` or visited before (a link back up the tree would otherwise list the same images
    again and again); ``seen`` may hold the other classes' folders. With ``inside`` and
    ``follow_links=False``, a link that leads out of ``inside`` is refused, naming it (it could
    pull in any number of images from elsewhere without a word). A FIFO or device with an
    image's name is skipped: reading it would block."""
    found, seen = [], set() if seen is None else seen
    root = os.path.realpath(inside) if inside is not None and not follow_links else None
    for here, subfolders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(here)
        if real in seen and here != str(folder):
            subfolders[:] = []  # a loop, or another class's folder: do not go into it
            continue
        seen.add(real)
        if root is not None and not _within(real, root):
            raise DataError(_leads_out(Path(here), real, inside))
        subfolders.sort()
        with os.scandir(here) as entries:
            regular = {e.name for e in entries if e.is_file()}  # follows links; not a FIFO
        for name in sorted(files):
            path = Path(here) / name
            if not name.lower().endswith(IMAGE_SUFFIXES) or name not in regular:
                continue
            if root is not None and path.is_symlink() and not _within(path.resolve(), root):
                raise DataError(_leads_out(path, path.resolve(), inside))
            found.append(path)
    return found


def _within(path, root: str) -> bool:
    try:
        return os.path.commonpath([root, os.path.realpath(path)]) == root
    except ValueError:  # another drive (Windows)
        return False


def _leads_out(link: Path, target, inside: Path) -> str:
    return (
        f"{link} leads out of the image folder {inside} (to {target}); pass follow_links=True "
        f"to load images linked from elsewhere (e.g. a subset made of links), or copy them in"
    )


def read_image(path: str):
    """torchvision's image reader, with the file named when it fails (truncated or not an
    image): a DataLoader worker would otherwise report a bare PIL error."""
    from torchvision.datasets.folder import default_loader

    try:
        return default_loader(path)
    except Exception as exc:
        raise DataError(
            f"cannot read image {path}: {type(exc).__name__}: {exc}. The file is damaged or "
            f"not an image; replace or delete it."
        ) from None
