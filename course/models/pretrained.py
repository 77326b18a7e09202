"""torchvision's pretrained ImageNet weights, read safely: never downloaded unless asked for,
checked against the hash torchvision publishes, and unpickled with ``weights_only=True``.

torchvision names each file after the first hex digits of its SHA-256 (``vgg19-dcbb9e9d.pth``).
``torch.hub.load_state_dict_from_url`` checks that hash only while downloading and then unpickles
with ``weights_only=False``, so a file planted in the cache could run code. Here a cached file
is hashed before it is read, and a file that holds anything but tensors is refused.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlparse

import torch

_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torchvision's "name-<sha256 prefix>.pth"


class PretrainedWeightsError(RuntimeError):
    """A weights file is missing, altered, or holds more than tensors."""


def cache_path(url: str) -> Path:
    """Where torch's cache keeps the file of ``url`` (``$TORCH_HOME/hub/checkpoints/...``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def published_hash_prefix(url: str) -> str:
    match = _HASH_IN_NAME.search(Path(urlparse(url).path).name)
    if match is None:
        raise PretrainedWeightsError(f"{url} carries no SHA-256 prefix in its name to check")
    return match.group(1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Unpickle tensors only (``weights_only=True``); anything else is refused, not run."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError for code, others for damaged files
        raise PretrainedWeightsError(
            f"{path} was refused: it is damaged or holds more than tensors "
            f"({type(exc).__name__}: {str(exc)[:160]}). Delete it; weights files hold tensors only."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PretrainedWeightsError(f"{path} is not a state_dict (names -> tensors)")
    return state


def load_weights(url: str, *, download: bool = False) -> dict[str, torch.Tensor]:
    """The state_dict at ``url`` from torch's cache, or downloaded there when ``download=True``
    (the only way this module touches the network). Its SHA-256 must start with the prefix in
    the file name; a cached file that does not is refused with a message, never loaded."""
    path = cache_path(url)
    expected = published_hash_prefix(url)
    if not path.is_file():
        if not download:
            raise PretrainedWeightsError(
                f"no weights at {path}, and downloading was not asked for (download=True)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(path), hash_prefix=expected)  # opt-in download
    actual = sha256_of(path)
    if not actual.startswith(expected):
        raise PretrainedWeightsError(
            f"{path} does not match the hash torchvision publishes for it (SHA-256 should start "
            f"with {expected}, it starts with {actual[: len(expected)]}): the file was altered or "
            f"is incomplete. Delete it and download it again."
        )
    return read_state_dict(path)


def weights_of(arch: str):
    """torchvision's ImageNet weights for ``arch`` (its enum member IMAGENET1K_V1): the file's
    address, size, class names and preprocessing, all known offline."""
    from torchvision.models import get_model_weights

    try:
        return get_model_weights(arch).IMAGENET1K_V1
    except (ValueError, KeyError, AttributeError):
        raise ValueError(
            f"torchvision has no IMAGENET1K_V1 weights for {arch!r}; the course's models with "
            f"them have torchvision's names, such as 'alexnet', 'vgg16', 'googlenet', 'resnet50'"
        ) from None


def cached_weights_file(arch: str) -> Path | None:
    """Where torch keeps torchvision's ImageNet weights for ``arch``, if they are already there
    (nothing is downloaded); None otherwise."""
    path = cache_path(weights_of(arch).url)
    return path if path.is_file() else None
