"""Fashion-MNIST look-up order, file checks and error messages; image folders."""

import gzip
import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course.data import DataError, fashion_mnist, files, image_folders, load_fashion_mnist

REPO = Path(__file__).resolve().parents[2]
FULL = fashion_mnist.DEBIAN_FASHION_MNIST
needs_full_set = pytest.mark.skipif(
    not (
        fashion_mnist.has_fashion_mnist(FULL, "train")
        and fashion_mnist.has_fashion_mnist(FULL, "test")
    ),
    reason="needs Debian's full set: apt-get install dataset-fashion-mnist",
)


def make_folder(folder: Path, n_per_class: int = 3, gz: bool = True, seed: int = 0) -> None:
    """A tiny but valid Fashion-MNIST folder: random images, n_per_class of each class."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for images_name, labels_name in fashion_mnist._FILES.values():
        labels = np.repeat(np.arange(10, dtype=np.uint8), n_per_class)
        images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        fashion_mnist.write_idx(folder / f"{images_name}{suffix}", images)
        fashion_mnist.write_idx(folder / f"{labels_name}{suffix}", labels)


@pytest.fixture
def no_system_sources(monkeypatch, tmp_path):
    """Hide Debian's copy, earlier downloads and the environment variable."""
    monkeypatch.delenv(fashion_mnist.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    monkeypatch.setattr(fashion_mnist, "DOWNLOAD_DIR", tmp_path / "no-download")


# --- look-up order ---------------------------------------------------------------------------


def test_named_folder_comes_first(tmp_path, monkeypatch):
    make_folder(tmp_path / "mine", n_per_class=2)
    make_folder(tmp_path / "env", n_per_class=5)
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_ENV, str(tmp_path / "env"))
    train = load_fashion_mnist("train", root=tmp_path / "mine", verbose=False)
    assert train.source == "folder you named"
    assert len(train) == 20
    assert train.images.shape == (20, 1, 28, 28) and train.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64


def test_environment_variable_comes_before_debian(tmp_path, monkeypatch):
    make_folder(tmp_path / "env", n_per_class=5, gz=False)  # plain, not gzipped, also works
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_ENV, str(tmp_path / "env"))
    test = load_fashion_mnist("test", verbose=False)
    assert test.source == f"${fashion_mnist.FASHION_MNIST_ENV} folder"
    assert len(test) == 50


def test_torchvision_layout_is_found(tmp_path):
    make_folder(tmp_path / "tv" / "FashionMNIST" / "raw")
    assert load_fashion_mnist("train", root=tmp_path / "tv", verbose=False).path == tmp_path / "tv"


def test_debian_copy_comes_before_download_cache_and_subset(tmp_path, monkeypatch):
    monkeypatch.delenv(fashion_mnist.FASHION_MNIST_ENV, raising=False)
    make_folder(tmp_path / "debian", n_per_class=4)
    make_folder(tmp_path / "cache", n_per_class=6)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    monkeypatch.setattr(fashion_mnist, "DOWNLOAD_DIR", tmp_path / "cache")
    assert load_fashion_mnist(verbose=False).source.startswith("full set from Debian")
    shutil.rmtree(tmp_path / "debian")
    assert load_fashion_mnist(verbose=False).source == "full set downloaded earlier"


def test_embedded_subset_is_the_last_resort(no_system_sources, capsys):
    train = load_fashion_mnist("train")
    assert train.source == "embedded subset"
    assert "embedded subset" in capsys.readouterr().out  # the loader reports its source


def test_download_is_opt_in_only(no_system_sources, monkeypatch):
    calls = []
    monkeypatch.setattr(fashion_mnist, "_download_fashion_mnist", lambda *a, **k: calls.append(a))
    load_fashion_mnist(verbose=False)
    assert calls == []  # default: never downloads
    with pytest.raises(DataError):  # the stub fetched nothing, so reading it fails loudly
        load_fashion_mnist(download=True, verbose=False)
    assert calls == [(fashion_mnist.DOWNLOAD_DIR,)]


# --- the embedded subset ---------------------------------------------------------------------


@pytest.mark.parametrize("split, per_class", [("train", 600), ("test", 100)])
def test_embedded_subset_is_balanced(split, per_class):
    images, labels = fashion_mnist.read_fashion_mnist_folder(
        fashion_mnist.embedded_fashion_mnist_dir(), split
    )
    assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10
    assert images.shape == (10 * per_class, 1, 28, 28)


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_subset_maker_is_deterministic(tmp_path):
    make_folder(tmp_path / "full", n_per_class=700)
    script = load_script("make_fashion_mnist_subset")
    script.make_subset(tmp_path / "full", tmp_path / "a")
    script.make_subset(tmp_path / "full", tmp_path / "b")
    for name in sorted(p.name for p in (tmp_path / "a").iterdir()):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    images, labels = fashion_mnist.read_fashion_mnist_folder(tmp_path / "a", "train")
    full_images, full_labels = fashion_mnist.read_fashion_mnist_folder(tmp_path / "full", "train")
    # The first 600 of each class, in file order: the fixture lists classes in blocks of 700.
    keep = np.concatenate([np.arange(c * 700, c * 700 + 600) for c in range(10)])
    assert torch.equal(images, full_images[keep]) and torch.equal(labels, full_labels[keep])


@needs_full_set
def test_committed_subset_is_reproduced_byte_for_byte(tmp_path):
    load_script("make_fashion_mnist_subset").make_subset(FULL, tmp_path)
    committed = fashion_mnist.embedded_fashion_mnist_dir()
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


@needs_full_set
@pytest.mark.parametrize("split, total", [("train", 60_000), ("test", 10_000)])
def test_full_set_sizes(split, total):
    result = load_fashion_mnist(split, root=FULL, verbose=False)
    assert len(result) == total
    assert set(result.class_counts().values()) == {total // 10}


# --- errors say what and where ---------------------------------------------------------------


def test_missing_named_folder_names_the_path(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.*does not exist"):
        load_fashion_mnist(root=tmp_path / "nowhere", verbose=False)


def test_named_folder_without_files_says_which(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty has no train-images-idx3-ubyte"):
        load_fashion_mnist(root=tmp_path / "empty", verbose=False)


def test_environment_variable_folder_must_hold_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_ENV, str(tmp_path / "missing"))
    with pytest.raises(DataError, match=r"missing(.|\n)*comes from \$COURSE_FASHION_MNIST"):
        load_fashion_mnist(verbose=False)


def test_a_broken_copy_from_the_variable_names_the_variable(tmp_path, monkeypatch):
    make_folder(tmp_path / "env")
    path = tmp_path / "env" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-4])
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_ENV, str(tmp_path / "env"))
    with pytest.raises(DataError, match=r"(?s)truncated.*\$COURSE_FASHION_MNIST.*unset it"):
        load_fashion_mnist(verbose=False)


def test_a_missing_subset_names_course_data_dir(no_system_sources, tmp_path, monkeypatch):
    monkeypatch.setenv(files.DATA_DIR_ENV, str(tmp_path / "not-the-data"))
    with pytest.raises(DataError, match=r"(?s)found nowhere.*\$COURSE_DATA_DIR.*COURSE_FASHION"):
        load_fashion_mnist(verbose=False)


def test_data_dir_order(tmp_path, monkeypatch):
    """$COURSE_DATA_DIR, else the clone's data/, else the copy installed in the package."""
    monkeypatch.delenv(files.DATA_DIR_ENV, raising=False)
    assert files.data_dir() == REPO / "data"  # these tests run from a clone
    monkeypatch.setenv(files.DATA_DIR_ENV, str(tmp_path))
    assert files.data_dir() == tmp_path
    monkeypatch.delenv(files.DATA_DIR_ENV)
    monkeypatch.setattr(files, "REPO_DIR", tmp_path)  # as in site-packages: no clone around
    assert files.data_dir() == files.INSTALLED_DATA_DIR


def test_truncated_gzip_file(tmp_path):
    make_folder(tmp_path / "f")
    path = tmp_path / "f" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*truncated"):
        load_fashion_mnist(root=tmp_path / "f", verbose=False)


def test_truncated_payload(tmp_path):
    make_folder(tmp_path / "f", gz=False)
    path = tmp_path / "f" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-28])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte is truncated.*Replace it"):
        load_fashion_mnist("test", root=tmp_path / "f", verbose=False)


def test_corrupt_header(tmp_path):
    make_folder(tmp_path / "f")
    path = tmp_path / "f" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + gzip.decompress(path.read_bytes())[4:]))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz has magic number 2051"):
        load_fashion_mnist(root=tmp_path / "f", verbose=False)


def test_labels_and_images_disagree(tmp_path):
    make_folder(tmp_path / "f")
    fashion_mnist.write_idx(tmp_path / "f" / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(DataError, match="30 images but .* has 7 labels"):
        load_fashion_mnist(root=tmp_path / "f", verbose=False)


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_wrong_split_name(split):
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\)"):
        load_fashion_mnist(split, verbose=False)


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    fashion_mnist.write_idx(tmp_path / "x.gz", array)
    assert np.array_equal(fashion_mnist.read_idx(tmp_path / "x.gz", ndim=3), array)


# --- image folders ---------------------------------------------------------------------------


def make_image_tree(root: Path) -> None:
    from PIL import Image

    for wnid in ("n01440764", "n01443537"):  # tench, goldfish
        (root / "val" / wnid).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (40 + i, 30), color=(i * 100, 20, 30)).save(
                root / "val" / wnid / f"{i}.JPEG"
            )


def test_image_folder_loads_with_readable_names(tmp_path):
    make_image_tree(tmp_path)
    dataset = image_folders.load_image_folder(tmp_path, "val", image_size=16)
    assert len(dataset) == 4
    assert dataset.readable_classes == ["tench", "goldfish"]
    image, label = dataset[3]
    assert image.shape == (3, 16, 16) and image.dtype == torch.uint8 and label == 1


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        image_folders.load_image_folder(tmp_path / "nope")
    make_image_tree(tmp_path)
    with pytest.raises(DataError, match=r"no split folder 'train'.*\['val'\]"):
        image_folders.load_image_folder(tmp_path, "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        image_folders.load_image_folder(tmp_path / "empty")
    with pytest.raises(ValueError, match="image_size must be a positive int, got 0"):
        image_folders.load_image_folder(tmp_path, "val", image_size=0)


def test_more_bad_inputs_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"split must be one of"):
        fashion_mnist.has_fashion_mnist(tmp_path, "val")
    with pytest.raises(ValueError, match=r"ndim must be 1 \(labels\) or 3 \(images\), got 2"):
        fashion_mnist.read_idx(tmp_path / "x", ndim=2)
    with pytest.raises(ValueError, match=r"must be uint8 \(values 0..255\), got float64"):
        fashion_mnist.write_idx(tmp_path / "x", np.full((2, 3, 3), 300.7))
    with pytest.raises(ValueError, match=r"1 \(labels\) or 3 \(images\) dimensions, got 2"):
        fashion_mnist.write_idx(tmp_path / "x", np.zeros((2, 3), np.uint8))
    with pytest.raises(DataError, match=r"missing.gz does not exist or is not a file"):
        fashion_mnist.read_idx(tmp_path / "missing.gz", ndim=1)
    with pytest.raises(ValueError, match=r"root must be a folder path"):
        load_fashion_mnist(root="", verbose=False)
    with pytest.raises(ValueError, match=r"list of names, got the string 'n01440764'"):
        image_folders.readable_class_names("n01440764")
    make_image_tree(tmp_path / "images")
    with pytest.raises(ValueError, match=r"transform must be callable"):
        image_folders.load_image_folder(tmp_path / "images", "val", transform="resize")


def test_gzip_file_without_gz_suffix(tmp_path):
    make_folder(tmp_path / "f")
    gz = tmp_path / "f" / "train-images-idx3-ubyte.gz"
    gz.rename(tmp_path / "f" / "train-images-idx3-ubyte")
    with pytest.raises(DataError, match=r"is gzip-compressed but its name does not end in .gz"):
        load_fashion_mnist(root=tmp_path / "f", verbose=False)


def test_wrong_image_size_or_empty_file(tmp_path):
    make_folder(tmp_path / "f")
    fashion_mnist.write_idx(
        tmp_path / "f" / "train-images-idx3-ubyte.gz", np.zeros((30, 32, 32), np.uint8)
    )
    with pytest.raises(DataError, match=r"shape \(30, 32, 32\); Fashion-MNIST has \(N, 28, 28\)"):
        load_fashion_mnist(root=tmp_path / "f", verbose=False)


def test_environment_variable_expands_home(tmp_path, monkeypatch):
    make_folder(tmp_path / "fm")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_ENV, "~/fm")
    assert load_fashion_mnist(verbose=False).path == tmp_path / "fm"


def test_paths_are_shown_relative_to_the_repository():
    assert (
        files.shown_path(fashion_mnist.embedded_fashion_mnist_dir()) == "data/fashion-mnist-subset"
    )
    assert files.shown_path(Path("/usr/share/x")) == "/usr/share/x"


def test_a_link_loop_in_an_image_folder_lists_each_image_once(tmp_path):
    make_image_tree(tmp_path)
    loop = tmp_path / "val" / "n01440764" / "again"
    loop.symlink_to(tmp_path / "val", target_is_directory=True)  # a link back up the tree
    dataset = image_folders.load_image_folder(tmp_path, "val", image_size=16)
    assert len(dataset) == 4


def test_a_damaged_image_is_named_when_it_is_read(tmp_path):
    make_image_tree(tmp_path)
    broken = tmp_path / "val" / "n01443537" / "1.JPEG"
    broken.write_bytes(broken.read_bytes()[:40])  # truncated
    dataset = image_folders.load_image_folder(tmp_path, "val", image_size=16)
    with pytest.raises(DataError, match=r"cannot read image .*n01443537/1.JPEG.*replace or delete"):
        dataset[3]


def test_a_plain_class_tree_needs_no_imagenet_metadata(tmp_path, monkeypatch):
    from PIL import Image

    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (20, 20)).save(tmp_path / name / "a.png")
    monkeypatch.setenv(files.DATA_DIR_ENV, str(tmp_path / "no-metadata-here"))
    dataset = image_folders.load_image_folder(tmp_path, image_size=8)
    assert dataset.readable_classes == ["cats", "dogs"] and len(dataset) == 2


def test_a_gzip_bomb_is_refused_without_expanding_it(tmp_path, monkeypatch):
    """1 MB of gzip whose header claims 60,000 images but which expands to 1 GiB: read no
    further than the limit (here lowered, so the test stays small), then refused."""
    monkeypatch.setattr(fashion_mnist, "MAX_IDX_BYTES", 10 * 2**20)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (60_000, 28, 28))
    with gzip.open(path, "wb") as f:
        f.write(header)
        for _ in range(64):  # 64 MiB of zeros, a few kB compressed
            f.write(bytes(2**20))
    with pytest.raises(DataError, match=r"holds more than 10,485,760 bytes \(uncompressed\)"):
        fashion_mnist.read_idx(path, 3)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symbolic links are POSIX here")
def test_an_image_folder_skips_a_fifo_and_refuses_a_link_out_of_it(tmp_path):
    import os

    from PIL import Image

    root = tmp_path / "images"
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(root / name / "a.png")
    os.mkfifo(root / "cat" / "z.png")  # reading it would block forever
    dataset = image_folders.load_image_folder(root, image_size=8)
    assert len(dataset) == 2
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    Image.new("RGB", (8, 8)).save(outside / "b.png")
    (root / "dog" / "more").symlink_to(outside)
    with pytest.raises(DataError, match=r"leads out of the image folder .* follow_links=True"):
        image_folders.load_image_folder(root, image_size=8)
    linked = image_folders.load_image_folder(root, image_size=8, follow_links=True)
    assert len(linked) == 3  # a subset made of links, asked for


def test_a_damaged_metadata_file_is_named(tmp_path, monkeypatch):
    from course.data import imagenet

    copy = tmp_path / "data"
    shutil.copytree(REPO / "data" / "imagenet", copy / "imagenet")
    lines = (copy / "imagenet" / "classes.tsv").read_text(encoding="utf-8").splitlines()
    (copy / "imagenet" / "classes.tsv").write_text("\n".join(lines[:10]) + "\nn0144\n")
    monkeypatch.setenv(files.DATA_DIR_ENV, str(copy))
    imagenet.load_imagenet_classes.cache_clear()
    try:
        with pytest.raises(DataError, match=r"classes.tsv, line 11, does not have the header"):
            imagenet.load_imagenet_classes()
    finally:
        imagenet.load_imagenet_classes.cache_clear()


def test_the_imagenet_explorer_shows_metadata_as_text_not_html(tmp_path, monkeypatch):
    from course.data import imagenet
    from course.viz.imagenet_explorer import ImageNetExplorer

    copy = tmp_path / "data"
    shutil.copytree(REPO / "data" / "imagenet", copy / "imagenet")
    path = copy / "imagenet" / "classes.tsv"
    text = path.read_text(encoding="utf-8").replace("\tgiant panda\t", "\t<img src=x>panda\t", 1)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(files.DATA_DIR_ENV, str(copy))
    for cached in (imagenet.load_imagenet_classes, imagenet.load_synsets):
        cached.cache_clear()
    try:
        shown = ImageNetExplorer(query="panda").details.value
        assert "&lt;img src=x&gt;panda" in shown and "<img" not in shown
    finally:
        for cached in (imagenet.load_imagenet_classes, imagenet.load_synsets):
            cached.cache_clear()
