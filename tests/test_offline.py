"""Nothing in the package or the notebooks downloads at run time by default."""

import ast
import json
import socket
from pathlib import Path

import pytest

from course import data, imagenet, runtime

REPO = Path(__file__).resolve().parent.parent
# Functions that fetch from the internet.
FETCHERS = {"urlopen", "urlretrieve", "load_state_dict_from_url", "get_state_dict", "download_url"}


def downloads_in(source: str) -> list[str]:
    """Calls in ``source`` that download by default: a fetcher, torch.hub, download=True,
    or pretrained weights asked for by a literal (weights="DEFAULT", weights=X.DEFAULT)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name.split(".")[-1] in FETCHERS or name.startswith(("torch.hub.", "requests.")):
            found.append(name)
        for kw in node.keywords:
            literal = isinstance(kw.value, ast.Constant) and kw.value.value not in (None, False)
            if kw.arg == "download" and literal:
                found.append(f"{name}(download={kw.value.value!r})")
            if kw.arg == "weights" and (literal or ast.unparse(kw.value).endswith("DEFAULT")):
                found.append(f"{name}(weights={ast.unparse(kw.value)})")
    return found


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"tried to connect to {address} during an offline test")
        return original(self, address, *args)

    original = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_the_guard_catches_a_connection(no_network):
    with pytest.raises(AssertionError, match="tried to connect"), socket.socket() as s:
        s.connect(("127.0.0.1", 9))


def test_loaders_work_without_network(no_network):
    for split in data.SPLITS:
        assert len(data.load_fashion_mnist(split, verbose=False)) > 0
    assert len(imagenet.load_imagenet_classes()) == 1000
    assert runtime.environment_report()


def code_of_notebooks():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                yield path.name, "".join(cell["source"])


def test_the_scan_finds_downloads():
    assert downloads_in("FashionMNIST('.', download=True)") == ["FashionMNIST(download=True)"]
    assert downloads_in("m = vgg16(weights=VGG16_Weights.DEFAULT)") == [
        "vgg16(weights=VGG16_Weights.DEFAULT)"
    ]
    assert downloads_in("torch.hub.load('a', 'b')") == ["torch.hub.load"]
    assert downloads_in("f(download=opted_in); vgg16(weights=None)") == []


def test_notebooks_do_not_download():
    hits = [(name, hit) for name, src in code_of_notebooks() for hit in downloads_in(src)]
    assert hits == []


def test_package_does_not_download_by_default():
    hits = {}
    for path in sorted((REPO / "course").rglob("*.py")):
        if found := downloads_in(path.read_text()):
            hits[str(path.relative_to(REPO))] = found
    assert hits == {}
