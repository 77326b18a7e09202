"""The committed ImageNet metadata: order, hierarchy, counts the notebooks use, reproducibility."""

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest
import torchvision

from course.data import imagenet
from course.data.imagenet import ROOT_SYNSET, descendants, load_imagenet_classes

REPO = Path(__file__).resolve().parents[2]
WORDNET = Path("/usr/share/wordnet")


def test_thousand_unique_wnids_in_standard_order():
    classes = load_imagenet_classes()
    wnids = [c.wnid for c in classes]
    assert len(classes) == 1000 and len(set(wnids)) == 1000
    assert [c.index for c in classes] == list(range(1000))
    assert wnids == sorted(wnids)  # ILSVRC-2012 numbers its classes in wnid order
    assert classes[388].wnid == "n02510455"  # giant panda, as NOTES.md and imagenet-classes say


def test_order_matches_torchvision_model_outputs():
    """torchvision's offline weight metadata lists the 1000 output names in index order."""
    tv = torchvision.models.get_model_weights("resnet18").DEFAULT.meta["categories"]
    classes = load_imagenet_classes()
    agree = [
        t.lower() in c.synonyms.lower() or t.lower() == c.name.lower()
        for t, c in zip(tv, classes, strict=True)
    ]
    # torchvision renamed a few classes (e.g. 'crane' twice); nearly all must agree by index.
    assert sum(agree) >= 990, [t for t, ok in zip(tv, agree, strict=True) if not ok][:20]


def test_every_path_runs_from_entity_to_the_class():
    synsets = imagenet.load_synsets()
    for c in load_imagenet_classes():
        assert c.paths, c
        for path in c.paths:
            assert path[0] == ROOT_SYNSET
            assert path[-1] == c.synset
            assert all(s in synsets for s in path)
        assert synsets[c.synset].wnid == c.wnid


def test_counts_the_imagenet_notebook_uses():
    dogs = descendants("dog.n.01")
    animals = descendants("animal.n.01")
    assert {c.index for c in dogs} <= {c.index for c in animals}
    # Dog breeds sit at indices 151..268 in the standard order.
    assert {c.index for c in dogs} == set(range(151, 269))
    assert len(dogs) == 118
    # Animals are the first 398 classes of the standard order.
    assert {c.index for c in animals} == set(range(398))
    # Notebook 02: more dogs than birds, reptiles or fish, over five times the cats or primates.
    count = {name: len(descendants(name)) for name in
             ("bird.n.01", "reptile.n.01", "fish.n.01", "cat.n.01", "primate.n.02")}  # fmt: skip
    assert len(dogs) > max(count["bird.n.01"], count["reptile.n.01"], count["fish.n.01"])
    assert len(dogs) > 5 * max(count["cat.n.01"], count["primate.n.02"])
    # ... and (its sunburst) over half of the classes are artifacts, over half the animals mammals.
    assert len(descendants("artifact.n.01")) > 500
    assert len(descendants("mammal.n.01")) > len(animals) / 2
    names = Counter(c.name for c in load_imagenet_classes())
    assert sorted(n for n, k in names.items() if k > 1) == ["missile", "sunglasses"]


def test_lookups_and_their_errors():
    assert imagenet.class_by_wnid("n02510455").name == "giant panda"
    assert [c.index for c in imagenet.search_classes("GOLDFISH")] == [1]
    with pytest.raises(KeyError, match="not one of the 1000"):
        imagenet.class_by_wnid("n00000000")
    with pytest.raises(KeyError, match="on no class's hypernym path"):
        descendants("unicorn.n.01")
    with pytest.raises(TypeError, match="synset must be a WordNet name"):
        descendants(["dog.n.01"])
    for bad in ("", "  ", None, 3):
        with pytest.raises(ValueError, match="text must be a non-empty string"):
            imagenet.search_classes(bad)


def test_missing_metadata_file_says_how_to_restore(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    imagenet.load_imagenet_classes.cache_clear()
    try:
        with pytest.raises(imagenet.DataError, match="restore it with git"):
            imagenet.load_imagenet_classes()
    finally:
        imagenet.load_imagenet_classes.cache_clear()


@pytest.mark.skipif(
    not (WORDNET / "index.sense").is_file() or importlib.util.find_spec("nltk") is None,
    reason="needs Debian's wordnet-base + wordnet-sense-index and nltk (the dev extra)",
)
def test_regeneration_reproduces_committed_files(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "mk", REPO / "scripts" / "make_imagenet_metadata.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mk"] = module
    spec.loader.exec_module(module)
    module.build(WORDNET, tmp_path)
    committed = imagenet.imagenet_dir()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["classes.tsv", "synsets.tsv", "wordnet_paths.tsv"]
    for name in made:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
