"""The model registry: every architecture of the course by name.

    from course.models import list_models, get_model
    list_models()                                  # ['alexnet', 'alexnet_paper', ...]
    get_model("resnet18", num_classes=10, in_channels=1)

Each family file registers its builders with ``@register``; ``course/models/__init__.py``
imports the families, so the registry is full whenever ``course.models`` is imported (and this
module imports none of them: no import circle). A builder takes ``num_classes``,
``in_channels`` and the options of its family (see its docstring).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from course.checks import as_int
from course.models import pretrained

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Add ``builder`` to the registry under its function name."""
    name = builder.__name__
    if name in _BUILDERS:
        raise ValueError(f"model {name!r} is registered twice")
    _BUILDERS[name] = builder
    return builder


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_BUILDERS)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build the model called ``name``; an unknown name suggests the close ones.

    The model remembers how it was built (``model.course_build``: name and options, which
    ``fit`` stores in checkpoints) and the smallest input it takes (``model.min_input_size``,
    checked before every forward pass).
    """
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(_unknown_model(name))
    model = _BUILDERS[name](**kwargs)
    options = {k: v for k, v in kwargs.items() if k != "weights"}
    model.course_build = {"name": name, "options": options}
    model.min_input_size = smallest_input_size(name, **options)
    return model


def skeleton(name: str, **kwargs) -> nn.Module:
    """``get_model(name, **kwargs)`` on PyTorch's meta device: every layer with its shapes, no
    weight drawn (VGG-16 in 20 ms instead of 2 s on one core). For what reads the structure:
    parameter counts, MACs, depth, receptive paths; a forward pass gives shapes, not numbers."""
    if name == "alexnet_two_tower":
        kwargs.setdefault("devices", ("meta", "meta"))  # its towers are placed on devices
    with torch.device("meta"):
        return get_model(name, **kwargs)


def _unknown_model(name) -> str:
    names = sorted(_BUILDERS)
    if not isinstance(name, str):
        return f"model name must be a str such as 'resnet18', got {name!r}"
    lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower().replace("-", "_"), list(lower), n=3)
    hint = f"did you mean {' or '.join(repr(lower[c]) for c in close)}? " if close else ""
    return f"unknown model {name!r}; {hint}valid names: {', '.join(names)}"


# Options that change the spatial arithmetic (strides, pools, extra heads); the rest do not.
_SIZE_NEUTRAL = {"num_classes", "dropout", "dropout_aux", "zero_init_residual", "width"}


def smallest_input_size(name: str, **options) -> int | None:
    """The smallest height and width ``name`` (built with ``options``) accepts, found once per
    architecture by running a copy built on PyTorch's "meta" device (shapes only, no memory,
    no arithmetic) in training mode, auxiliary heads included, batch norm left out (it keeps
    shapes). None if it cannot be found. Remembered in the process, and shared with other
    processes through the file ``$COURSE_PROBE_CACHE`` names, if set."""
    options = {k: v for k, v in options.items() if k not in _SIZE_NEUTRAL}
    key = repr((name, sorted((k, repr(v)) for k, v in options.items())))
    if key not in _SMALLEST:
        shared = _read_shared_probes()
        if key in shared:
            _SMALLEST[key] = shared[key]
        else:
            _SMALLEST[key] = _probe_smallest_input(name, options)
            _write_shared_probe(key, _SMALLEST[key])
    return _SMALLEST[key]


_SMALLEST: dict[str, int | None] = {}  # repr((name, options)) -> size, once per process

# A probe takes 0.1-1 s, and 1-2 s more in a process whose first meta-device operation it is
# (PyTorch imports its compiler stack then). Processes that build the same models again and
# again (the test suite's notebook kernels and subprocesses) can share what was probed through
# a JSON file named by $COURSE_PROBE_CACHE (an absolute path: each process resolves it from its
# own folder); its entries hold only for the code in course/models/ and the PyTorch version
# that probed them. Unset (the default): nothing is written anywhere.
PROBE_CACHE_ENV = "COURSE_PROBE_CACHE"


@functools.cache
def _code_version() -> str:
    """A hash of this folder's code (the builders and the probe) and PyTorch's version."""
    digest = hashlib.sha256(torch.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _read_shared_probes() -> dict[str, int | None]:
    path = os.environ.get(PROBE_CACHE_ENV)
    try:
        stored = json.loads(Path(path).read_text()) if path else {}
    except (OSError, ValueError):  # not written yet, or cut short: probe again
        return {}
    return stored.get(_code_version(), {}) if isinstance(stored, dict) else {}


def _write_shared_probe(key: str, size: int | None) -> None:
    """Add one answer to the shared file (written whole, then renamed: a reader never sees half
    a file; two writers at once may lose one answer, which is then probed again)."""
    path = os.environ.get(PROBE_CACHE_ENV)
    if not path:
        return
    entries = {**_read_shared_probes(), key: size}
    temporary = Path(f"{path}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps({_code_version(): entries}))
        os.replace(temporary, path)
    except OSError:  # a folder one cannot write to: no sharing, nothing lost
        temporary.unlink(missing_ok=True)


def _probe_smallest_input(name: str, options: dict) -> int | None:
    try:
        with torch.device("meta"):
            try:
                twin = _BUILDERS[name](**options)
            except NotImplementedError:  # a model that places itself on devices (two towers)
                twin = _BUILDERS[name](**options, devices=("meta", "meta"))
    except Exception:  # options the probe cannot rebuild: no size check, nothing lost
        return None
    # Batch norm keeps shapes (and a batch of two never leaves one value per channel), but on
    # the meta device it runs as slow Python: the probe leaves it out (2.4 times quicker)
    for module in list(twin.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, child_name, nn.Identity())
    twin.train()

    def fits(size: int) -> bool:
        try:
            twin(torch.empty(2, twin.in_channels, size, size, device="meta"))
        except (RuntimeError, ValueError):
            return False
        return True

    low, high = 0, 1  # invariant: low does not fit (0 never does), high is being tried
    while not fits(high):
        low, high = high, high * 2
        if high > 4096:
            return None
    while high - low > 1:  # binary search: low does not fit, high fits
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


# --- shared by the families ------------------------------------------------------------------


class AuxOutputs(NamedTuple):
    """What a model with auxiliary classifiers returns in training mode.

    ``logits`` is the main output; ``aux`` the auxiliary heads' logits, earliest first. In
    evaluation mode such a model returns the main logits alone, like every other model.
    Training code: ``loss = ce(out.logits, y) + 0.3 * sum(ce(a, y) for a in out.aux)``.
    """

    logits: torch.Tensor
    aux: tuple[torch.Tensor, ...]


def check_common(num_classes: int, in_channels: int, width: float = 1.0) -> None:
    """The arguments every builder takes, checked with a message that names them."""
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        as_int(value, name, 1)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width < 1e3:
        raise ValueError(
            f"width must be a number between 0 and 1000 (1.0 is the paper's size), got {width!r}"
        )


def check_dropout(dropout: float, name: str = "dropout") -> None:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {dropout!r}")


STEMS = ("imagenet", "cifar")


def check_stem(stem: str) -> None:
    """``stem`` of ResNet, GoogLeNet and Inception-BN: "imagenet" (the papers': a 7x7
    convolution at stride 2 and a max-pool, 224x224 -> 56x56) or "cifar" (a 3x3 convolution at
    stride 1, no max-pool after it, as the CIFAR networks do: 32x32 stays 32x32)."""
    if not isinstance(stem, str) or stem not in STEMS:
        raise ValueError(
            "stem must be 'imagenet' (the paper's: 7x7 at stride 2, then a max-pool) or "
            f"'cifar' (3x3 at stride 1, no max-pool: for 32x32 images), got {stem!r}"
        )


def scaled(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, at least 1."""
    return max(1, round(channels * width))


def check_input(model: nn.Module, x: torch.Tensor) -> None:
    """A clear error for an input the model was not built for (instead of a shape mismatch
    deep inside). Every model calls it first in ``forward``; ``model.in_channels`` is set."""
    if x.ndim != 4:
        raise ValueError(
            f"{type(model).__name__} expects a batch of images (N, C, H, W), got shape "
            f"{tuple(x.shape)}; add a batch dimension with x.unsqueeze(0)"
        )
    if x.shape[1] != model.in_channels:
        raise ValueError(
            f"{type(model).__name__} was built for in_channels={model.in_channels} but the input "
            f"has {x.shape[1]} channels (shape {tuple(x.shape)}); build it with "
            f"in_channels={x.shape[1]}"
        )
    if x.device.type == "meta":  # the size probe itself
        return
    if not x.is_floating_point():
        raise TypeError(
            f"{type(model).__name__} takes float images, got {x.dtype}: normalize uint8 images "
            f"first, e.g. Preprocess.for_images(images).eval_batch(x) (fit and evaluate do it)"
        )
    weight = next(model.parameters(), None)
    if weight is not None and x.dtype != weight.dtype and not _autocast_on(x.device.type):
        raise TypeError(
            f"{type(model).__name__} has {weight.dtype} weights but the input is {x.dtype}; "
            f"convert the input with x.to({weight.dtype}) (or the model with model.to(...))"
        )
    smallest = getattr(model, "min_input_size", None)
    if smallest is not None and min(x.shape[-2:]) < smallest:
        raise ValueError(
            f"{type(model).__name__} needs inputs of at least {smallest}x{smallest} pixels, got "
            f"{x.shape[-2]}x{x.shape[-1]} (its pooling and strides shrink smaller images to "
            f"nothing). Resize them: Preprocess(..., size={max(smallest, 32)}) for fit and "
            f"evaluate, or --image-size {max(smallest, 32)} with python -m course.training"
        )


def _autocast_on(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (it casts inputs inside the model)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # PyTorch < 2.4 has no device argument
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()


def with_torchvision_weights(model: nn.Module, arch: str, weights, **built_with) -> nn.Module:
    """Load torchvision's pretrained ``weights`` for ``arch`` into ``model`` (same layout).

    ``weights`` is None (nothing happens: the default), a torchvision weights enum member, or
    its name ("DEFAULT", "IMAGENET1K_V1"). Loading DOWNLOADS the file unless torch's cache
    already has it, so it only ever happens when the caller asks; a cached file is checked
    against the hash torchvision publishes before it is read. The model must have been
    built at its ImageNet shape: 1000 classes, 3 input channels, width 1, the ImageNet stem.
    """
    if weights is None:
        return model
    from torchvision.models import get_model_weights

    enum = get_model_weights(arch)
    if isinstance(weights, str):
        valid = ["DEFAULT", *enum.__members__]
        if weights not in valid:
            raise ValueError(f"unknown weights {weights!r} for {arch}; valid: {valid}")
        weights = enum[weights]
    if not isinstance(weights, enum):
        raise ValueError(
            f"weights must be None, a name or a {enum.__name__} member, got {weights!r}"
        )
    imagenet_shape = {"num_classes": 1000, "in_channels": 3, "width": 1.0, "stem": "imagenet"}
    wrong = {k: v for k, v in built_with.items() if v != imagenet_shape.get(k, v)}
    if wrong:
        raise ValueError(
            f"pretrained {arch} weights need num_classes=1000, in_channels=3, width=1.0 (and "
            f"the ImageNet stem); got "
            f"{wrong}. Load them into the ImageNet-shaped model, then replace its last layer."
        )
    # Passing weights= is the caller's opt-in: a file not yet in torch's cache is downloaded;
    # either way it is hash-checked and unpickled with weights_only=True (models.pretrained).
    opted_in = weights is not None
    state = pretrained.load_weights(weights.url, download=opted_in)
    # torchvision stores (untrained) auxiliary heads with GoogLeNet: skip them if ours has none.
    try:
        model.load_state_dict(state, strict=getattr(model, "aux_logits", True))
    except RuntimeError as error:  # missing, unexpected or misshapen tensors
        raise pretrained.PretrainedWeightsError(
            f"the weights file for {arch} ({pretrained.cache_path(weights.url)}) does not fit "
            f"the network: {str(error).splitlines()[-1].strip()} Delete it and download it again."
        ) from None
    return model


def imagenet_model(arch: str, download: bool = False):
    """The course's ``arch`` with torchvision's ImageNet weights, in evaluation mode, from torch's
    cache, or downloaded there first when ``download=True``. Without them (and without
    ``download``) ``pretrained.PretrainedWeightsError`` says which file is missing, its size, and
    the two ways to get it. The file is hash-checked and read with ``weights_only=True``."""
    if arch not in _BUILDERS:
        raise ValueError(f"arch must be one of the course's models, got {arch!r}")
    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False, got {download!r}")
    weights = pretrained.weights_of(arch)
    if pretrained.cached_weights_file(arch) is None and not download:
        raise pretrained.PretrainedWeightsError(
            f"no ImageNet weights for {arch} in torch's cache (expected "
            f"{pretrained.cache_path(weights.url)}, {weights.meta['_file_size']:.0f} MB). To use "
            f"them, pass download=True (in the notebooks: DOWNLOAD = True) for one download into "
            f"the cache, or copy {weights.url} there from a machine that has it."
        )
    return get_model(arch, weights=weights).eval()  # the caller asked, or the file is cached
