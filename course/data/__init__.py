"""Offline-first data.

    course.data.files          where the course's files are (data/ or the installed copy); DataError
    course.data.fashion_mnist  Fashion-MNIST as uint8 tensors: load_fashion_mnist, ImageSet
    course.data.image_folders  your own class-per-folder images: load_image_folder
    course.data.folder_scan    torchvision's ImageFolder with a link-loop-safe scan (used by it)
    course.data.imagenet       the 1000 ILSVRC-2012 classes, their WordNet hierarchy, mean/std

The names used most are importable from ``course.data`` itself:

    from course.data import load_fashion_mnist, load_image_folder
"""

from course.data.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    ImageSet,
    fashion_mnist_sources,
    load_fashion_mnist,
)
from course.data.files import DATA_DIR_ENV, DataError, data_dir, shown_path
from course.data.image_folders import default_num_workers, load_image_folder

__all__ = [
    "DATA_DIR_ENV",
    "FASHION_MNIST_CLASSES",
    "DataError",
    "ImageSet",
    "data_dir",
    "default_num_workers",
    "fashion_mnist_sources",
    "load_fashion_mnist",
    "load_image_folder",
    "shown_path",
]
