"""torchvision's ImageFolder with a file scan that survives link loops (imported on first use,
so that ``course.data`` does not import torchvision)."""

import os
from pathlib import Path

from torchvision import datasets

from course.data import IMAGE_SUFFIXES, _image_files


class LoopSafeImageFolder(datasets.ImageFolder):
    """An ImageFolder whose scan visits each real folder once: a symbolic link back up the tree
    would otherwise list the same images again, once per level of the loop."""

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):  # fmt: skip
        samples = []
        seen = {os.path.realpath(Path(directory) / name) for name in class_to_idx}
        for name, index in sorted(class_to_idx.items(), key=lambda item: item[1]):
            files = _image_files(Path(directory) / name, seen)
            if not files and not allow_empty:
                raise FileNotFoundError(
                    f"class folder {name!r} holds no image ({', '.join(IMAGE_SUFFIXES)})"
                )
            samples += [(str(f), index) for f in files]
        return samples
