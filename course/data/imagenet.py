"""ImageNet (ILSVRC-2012) class metadata, read from the files committed in ``data/imagenet/``.

The 1000 classes in their standard index order (the order of every ImageNet model's outputs),
each with its WordNet id, a readable name and its WordNet 3.0 hypernym path(s) from
``entity.n.01`` down. Built by ``scripts/make_imagenet_metadata.py``; reading it needs
neither nltk nor WordNet.

    classes = load_imagenet_classes()
    classes[388].name                        # 'giant panda'
    len(descendants("dog.n.01"))             # classes that are dogs
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from course.data.files import DATA_DIR_ENV, DataError, data_dir

PATH_SEPARATOR = " > "
# Per-channel (R, G, B) mean and std of ImageNet's training images, values in [0, 1]: what
# torchvision's pretrained models (and the course's models fed ImageNet-style data) expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ROOT_SYNSET = "entity.n.01"


@dataclass(frozen=True)
class Synset:
    name: str  # WordNet's name, e.g. 'dog.n.01'
    wnid: str  # e.g. 'n02084071'
    lemma: str  # first lemma, readable: 'dog'
    definition: str


@dataclass(frozen=True)
class ImageNetClass:
    index: int  # 0..999, the model output this class belongs to
    wnid: str  # WordNet id, also the folder name in ImageNet's train/ and val/
    name: str  # readable name (imagenet-classes' curated name)
    synonyms: str  # the original ILSVRC label, comma-separated synonyms
    paths: tuple[tuple[str, ...], ...]  # hypernym paths, each from entity.n.01 to the class

    @property
    def synset(self) -> str:
        return self.paths[0][-1]

    def ancestors(self) -> set[str]:
        """Every synset above the class on any of its paths (the class itself excluded)."""
        return {s for path in self.paths for s in path[:-1]}


def imagenet_dir() -> Path:
    return data_dir() / "imagenet"


def _read_tsv(name: str) -> list[dict[str, str]]:
    path = imagenet_dir() / name
    if not path.is_file():
        raise DataError(
            f"ImageNet metadata file {path} is missing; it ships with the course in "
            f"data/imagenet/ (restore it with git, or rebuild it with "
            f"scripts/make_imagenet_metadata.py). ${DATA_DIR_ENV}, when set, must point at a "
            f"copy of the course's data/ folder; it is now "
            f"{os.environ.get(DATA_DIR_ENV, 'not set')!r}."
        )
    fix = "restore it with git (git checkout data/imagenet), or rebuild it"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} cannot be read ({exc}); {fix}") from None
    for line, row in enumerate(rows, 2):
        if None in row.values() or None in row:  # a line cut short, or one with extra fields
            raise DataError(f"{path}, line {line}, does not have the header's columns; {fix}")
    return rows


@lru_cache(maxsize=1)
def load_imagenet_classes() -> tuple[ImageNetClass, ...]:
    """All 1000 classes, ``result[i].index == i``."""
    paths: dict[str, list[tuple[str, ...]]] = {}
    for row in _read_tsv("wordnet_paths.tsv"):
        paths.setdefault(row["wnid"], []).append(tuple(row["path"].split(PATH_SEPARATOR)))
    try:
        classes = tuple(
            ImageNetClass(int(r["index"]), r["wnid"], r["name"], r["synonyms"],
                          tuple(paths[r["wnid"]]))
            for r in _read_tsv("classes.tsv")
        )  # fmt: skip
    except (KeyError, ValueError) as exc:
        raise DataError(
            f"{imagenet_dir() / 'classes.tsv'} does not match wordnet_paths.tsv or lacks a "
            f"column ({type(exc).__name__}: {exc}); restore both with git"
        ) from None
    if [c.index for c in classes] != list(range(1000)):
        raise DataError(f"{imagenet_dir() / 'classes.tsv'} must list indices 0..999 in order")
    return classes


@lru_cache(maxsize=1)
def load_synsets() -> dict[str, Synset]:
    """Every synset on a class's path, by name: ``load_synsets()['dog.n.01'].definition``."""
    rows = _read_tsv("synsets.tsv")
    return {r["synset"]: Synset(r["synset"], r["wnid"], r["lemma"], r["definition"]) for r in rows}


def class_by_wnid(wnid: str) -> ImageNetClass:
    for c in load_imagenet_classes():
        if c.wnid == wnid:
            return c
    raise KeyError(f"{wnid!r} is not one of the 1000 ILSVRC-2012 wnids (e.g. 'n02510455')")


def descendants(synset: str) -> list[ImageNetClass]:
    """The classes that have ``synset`` (e.g. 'dog.n.01') above them on some path."""
    if not isinstance(synset, str):
        raise TypeError(f"synset must be a WordNet name such as 'dog.n.01', got {synset!r}")
    if synset not in load_synsets():
        raise KeyError(
            f"{synset!r} is on no class's hypernym path; use a WordNet name such as 'dog.n.01'"
        )
    return [c for c in load_imagenet_classes() if synset in c.ancestors()]


def search_classes(text: str) -> list[ImageNetClass]:
    """Classes whose name or synonyms contain ``text`` (case-insensitive)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string such as 'panda', got {text!r}")
    needle = text.strip().lower()
    return [
        c for c in load_imagenet_classes()
        if needle in c.name.lower() or needle in c.synonyms.lower()
    ]  # fmt: skip


def children(synset: str) -> dict[str, int]:
    """The synsets directly below ``synset`` on the classes' paths, each with how many of the
    1000 classes lie under it (a class that is itself a child counts 1)."""
    if synset not in load_synsets():
        raise KeyError(f"{synset!r} is on no class's hypernym path; try {ROOT_SYNSET!r}")
    counts: dict[str, set[int]] = {}
    for c in load_imagenet_classes():
        for path in c.paths:
            if synset in path[:-1]:
                below = path[path.index(synset) + 1]
                counts.setdefault(below, set()).add(c.index)
    return dict(sorted(((s, len(i)) for s, i in counts.items()), key=lambda kv: (-kv[1], kv[0])))


def siblings(cls: ImageNetClass) -> list[ImageNetClass]:
    """Other classes that share a direct parent synset with ``cls``."""
    parents = {path[-2] for path in cls.paths if len(path) > 1}
    return [
        c for c in load_imagenet_classes()
        if c.index != cls.index and parents & {p[-2] for p in c.paths if len(p) > 1}
    ]  # fmt: skip


def name_collisions() -> dict[str, list[ImageNetClass]]:
    """Readable names or first ILSVRC synonyms shared by more than one class."""
    groups: dict[str, list[ImageNetClass]] = {}
    for c in load_imagenet_classes():
        for name in {c.name, c.synonyms.split(", ")[0]}:
            groups.setdefault(name, []).append(c)
    return {n: cs for n, cs in sorted(groups.items()) if len({c.index for c in cs}) > 1}


def annotated_photo(name: str = "astronaut"):
    """A real photo from ``skimage.data`` (uint8 tensor, 3 x H x W) and the objects annotated
    on it for the course (``data/annotations/NAME.json``): label, wnid, box [x0, y0, x1, y1]."""
    import json

    import torch
    from skimage import data as photos

    path = data_dir() / "annotations" / f"{name}.json"
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.json"))
        raise DataError(
            f"no annotations for {name!r} in {path.parent}; available: {available}. "
            f"They ship in the course's data/annotations/ (${DATA_DIR_ENV}, when set, must point "
            f"at a copy of the course's data/ folder)."
        )
    notes = json.loads(path.read_text(encoding="utf-8"))
    image = torch.from_numpy(getattr(photos, name)()).permute(2, 0, 1).contiguous()
    return image, notes["objects"]
