"""Nothing in the package or the notebooks downloads at run time by default."""

import ast
import json
import socket
from pathlib import Path

import pytest
import torch
import torchvision

from course import data, runtime
from course.data import fashion_mnist, imagenet
from course.models import imagenet_model

REPO = Path(__file__).resolve().parent.parent
# Functions that fetch from the internet.
FETCHERS = {"urlopen", "urlretrieve", "load_state_dict_from_url", "get_state_dict", "download_url"}


LOOKUPS = {"torch.hub.get_dir"}  # where torch's cache is: reads a setting, fetches nothing
OPT_IN = "# opt-in download"  # marks the one line that downloads when the caller asks


def downloads_in(source: str) -> list[str]:
    """Calls in ``source`` that download by default: a fetcher, torch.hub, download=True,
    or pretrained weights asked for by a literal (weights="DEFAULT", weights=X.DEFAULT).
    A line marked ``# opt-in download`` is exempt: it must sit behind an explicit argument."""
    found = []
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or OPT_IN in lines[node.lineno - 1]:
            continue
        name = ast.unparse(node.func)
        fetches = name.startswith(("torch.hub.", "requests.")) and name not in LOOKUPS
        if name.split(".")[-1] in FETCHERS or fetches:
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
    for split in fashion_mnist.SPLITS:
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
    assert downloads_in("torch.hub.get_dir()") == []  # a path, not a download
    assert downloads_in("f(download=opted_in); vgg16(weights=None)") == []
    assert downloads_in("w.get_state_dict()  # opt-in download") == []


def test_notebooks_do_not_download():
    hits = [(name, hit) for name, src in code_of_notebooks() for hit in downloads_in(src)]
    assert hits == []


def test_package_does_not_download_by_default():
    hits, opt_in_lines = {}, []
    for path in sorted((REPO / "course").rglob("*.py")):
        text = path.read_text()
        if found := downloads_in(text):
            hits[str(path.relative_to(REPO))] = found
        opt_in_lines += [line for line in text.splitlines() if OPT_IN in line]
    assert hits == {}
    assert len(opt_in_lines) == 1  # torchvision weights, only with weights=... (tests below)


def test_pretrained_weights_are_fetched_only_when_asked(no_network, monkeypatch):
    import torchvision

    from course.models import get_model, pretrained

    calls = []
    fake = torchvision.models.resnet18(weights=None).state_dict()
    fake_googlenet = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True)

    def load_weights(url, download):  # what the checked download would return, offline
        calls.append((url, download))
        return fake_googlenet.state_dict() if "googlenet" in url else fake

    monkeypatch.setattr(pretrained, "load_weights", load_weights)
    get_model("resnet18")
    assert calls == []  # default: no weights, no download
    model = get_model("resnet18", weights="DEFAULT")
    assert calls == [(torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url, True)]
    assert torch.equal(model.fc.weight, fake["fc.weight"])
    googlenet = get_model("googlenet", weights="IMAGENET1K_V1", aux_logits=False)
    assert googlenet.transform_input  # as torchvision does for these weights


def test_pretrained_weights_need_the_imagenet_shape(no_network):
    from course.models import get_model

    with pytest.raises(ValueError, match=r"need num_classes=1000.*got \{'num_classes': 10\}"):
        get_model("resnet18", weights="DEFAULT", num_classes=10)
    with pytest.raises(ValueError, match=r"and the ImageNet stem\); got \{'stem': 'cifar'\}"):
        get_model("googlenet", weights="DEFAULT", stem="cifar")
    with pytest.raises(ValueError, match=r"unknown weights 'BEST' for vgg16; valid: \['DEFAULT'"):
        get_model("vgg16", weights="BEST")


# --- weights files are checked before they are read -------------------------------------------


class _Payload:
    """A pickle that runs code when unpickled: it would create ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_in_the_weights_cache_is_refused_not_run(tmp_path, monkeypatch):
    from torchvision.models import VGG19_Weights

    from course.from_scratch import texture
    from course.models import pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    marker = tmp_path / "code-ran"
    planted = pretrained.cache_path(VGG19_Weights.IMAGENET1K_V1.url)
    assert planted.is_relative_to(tmp_path)
    planted.parent.mkdir(parents=True)
    torch.save({"features.0.weight": _Payload(marker)}, planted)
    with pytest.raises(pretrained.PretrainedWeightsError, match=r"does not match the hash"):
        texture.load_vgg19()  # the cached file is found, hashed and refused
    with pytest.raises(pretrained.PretrainedWeightsError, match=r"refused.*holds more than"):
        pretrained.read_state_dict(planted)  # even without the hash: weights_only=True
    assert not marker.exists(), "the planted code ran"


def test_a_weights_file_of_tensors_loads(tmp_path):
    from course.models import pretrained

    path = tmp_path / "w.pth"
    torch.save({"a": torch.ones(2)}, path)
    assert torch.equal(pretrained.read_state_dict(path)["a"], torch.ones(2))
    with pytest.raises(pretrained.PretrainedWeightsError, match="no weights at"):
        pretrained.load_weights("https://example.org/notreal-0123abcd.pth")  # not cached


# --- the notebooks' ImageNet-weights path, offline: stand-in weights of the right shapes -------


@pytest.fixture
def stand_in_cache(tmp_path, monkeypatch):
    """An empty torch cache in tmp_path whose files pass the hash check as torchvision's real
    files do (the expected prefix is made the file's own): what is left to test is the rest."""
    from course.models import pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def own_prefix(url):
        return pretrained.sha256_of(pretrained.cache_path(url))[:8]

    monkeypatch.setattr(pretrained, "published_hash_prefix", own_prefix)
    return pretrained


def put_in_cache(pretrained, arch, state):
    path = pretrained.cache_path(pretrained.weights_of(arch).url)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def test_without_imagenet_weights_the_message_says_what_is_missing_and_how_to_get_it(
    stand_in_cache, no_network
):
    with pytest.raises(stand_in_cache.PretrainedWeightsError,
                       match=r"no ImageNet weights for alexnet in torch's cache \(expected .*"
                             r"alexnet-owt-7be5be79\.pth, 233 MB\)\. To use them, pass "
                             r"download=True \(in the notebooks: DOWNLOAD = True\)"):  # fmt: skip
        imagenet_model("alexnet")
    with pytest.raises(ValueError, match="download must be True or False, got 'yes'"):
        imagenet_model("alexnet", download="yes")
    with pytest.raises(ValueError, match="arch must be one of the course's models, got 'lenet'"):
        imagenet_model("lenet")
    with pytest.raises(ValueError, match="torchvision has no IMAGENET1K_V1 weights for 'resnet20'"):
        imagenet_model("resnet20")  # the course's CIFAR ResNet: no such file


def test_stand_in_weights_in_the_cache_are_loaded_and_misshapen_ones_refused(stand_in_cache):
    torch.manual_seed(0)
    state = torchvision.models.alexnet(weights=None).state_dict()
    put_in_cache(stand_in_cache, "alexnet", state)
    model = imagenet_model("alexnet")
    assert not model.training
    assert torch.equal(model.features[0].weight, state["features.0.weight"])  # (64, 3, 11, 11)

    state["features.0.weight"] = torch.zeros(96, 3, 11, 11)  # the paper's 96 kernels: not this net
    put_in_cache(stand_in_cache, "alexnet", state)
    with pytest.raises(stand_in_cache.PretrainedWeightsError,
                       match=r"does not fit the network: .*features\.0\.weight"):  # fmt: skip
        imagenet_model("alexnet")


def test_a_file_of_code_in_place_of_the_weights_is_refused_even_when_its_hash_matches(
    stand_in_cache, tmp_path
):
    marker = tmp_path / "code-ran"
    put_in_cache(stand_in_cache, "alexnet", {"features.0.weight": _Payload(marker)})
    with pytest.raises(stand_in_cache.PretrainedWeightsError, match="holds more than tensors"):
        imagenet_model("alexnet")
    assert not marker.exists(), "the planted code ran"


def test_notebook_03s_imagenet_cells_run_with_stand_in_weights(stand_in_cache, monkeypatch):
    """Section 4 of notebook 03 as a user with the weights runs it (stored outputs come from a
    machine without them): the kernels sorted by colour, the top-5 classes of four photos."""
    import matplotlib

    matplotlib.use("Agg")
    torch.manual_seed(0)
    put_in_cache(stand_in_cache, "alexnet", torchvision.models.alexnet(weights=None).state_dict())
    cells = [src for name, src in code_of_notebooks() if name == "03_alexnet.ipynb"]
    start = next(i for i, src in enumerate(cells) if "imagenet_model(" in src)
    namespace = {}
    exec(cells[0], namespace)  # the notebook's imports
    exec(cells[start - 1], namespace)  # torchvision's published figures
    monkeypatch.setattr(matplotlib.pyplot, "show", lambda: None)
    for src in cells[start:]:
        exec(src, namespace)
    assert namespace["imagenet_alexnet"] is not None
    guesses = namespace["guesses"]
    assert set(guesses) == {"astronaut", "chelsea", "coffee", "rocket"}
    assert all(len(top) == 5 for top in guesses.values())
