"""Make the small balanced Fashion-MNIST subset committed in data/fashion-mnist-subset/.

    python scripts/make_fashion_mnist_subset.py [--source /usr/share/datasets/fashion-mnist]

Deterministic: for each class, the first N images of that class in the original file order
(the original files are already shuffled), kept in file order. The output is gzipped IDX with a
zero timestamp, so the same source gives the same bytes on every machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from course.data.fashion_mnist import (
    DEBIAN_FASHION_MNIST,
    FASHION_MNIST_CLASSES,
    embedded_fashion_mnist_dir,
    read_fashion_mnist_folder,
    write_idx,
)

PER_CLASS = {"train": 600, "test": 100}
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def balanced_first_indices(labels: np.ndarray, per_class: int, num_classes: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of every class, in their original order."""
    chosen = [np.flatnonzero(labels == c)[:per_class] for c in range(num_classes)]
    short = [c for c, idx in enumerate(chosen) if len(idx) < per_class]
    if short:
        raise ValueError(f"classes {short} have fewer than {per_class} examples in the source")
    return np.sort(np.concatenate(chosen))


def make_subset(source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, per_class in PER_CLASS.items():
        images, labels = read_fashion_mnist_folder(source, split)
        keep = balanced_first_indices(labels.numpy(), per_class, len(FASHION_MNIST_CLASSES))
        image_file, label_file = FILES[split]
        write_idx(out / image_file, images[keep, 0].numpy())
        write_idx(out / label_file, labels[keep].numpy().astype(np.uint8))
        print(f"{split}: {len(keep)} images ({per_class} per class) -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=DEBIAN_FASHION_MNIST,
        help="folder with the full Fashion-MNIST (default: Debian's package)",
    )
    parser.add_argument("--out", type=Path, default=embedded_fashion_mnist_dir())
    args = parser.parse_args()
    make_subset(args.source, args.out)


if __name__ == "__main__":
    main()
