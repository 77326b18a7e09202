"""The model registry: every architecture of the course by name.

    from course.models import list_models, get_model
    list_models()                                  # ['alexnet', 'alexnet_paper', ...]
    get_model("resnet18", num_classes=10, in_channels=1)

Each family file registers its builders with ``@register``; a builder takes ``num_classes``,
``in_channels`` and the options of its family (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

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
    _load_families()
    return sorted(_BUILDERS)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build the model called ``name``; an unknown name lists the valid ones."""
    _load_families()
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name](**kwargs)


def _load_families() -> None:
    # Importing a family file registers its builders; imported here, on first use.
    from course.models import alexnet, googlenet, inception_bn, resnet, vgg  # noqa: F401


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
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0:
        raise ValueError(f"width must be a number > 0 (1.0 is the paper's size), got {width!r}")


def check_dropout(dropout: float, name: str = "dropout") -> None:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {dropout!r}")


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


def with_torchvision_weights(model: nn.Module, arch: str, weights, **built_with) -> nn.Module:
    """Load torchvision's pretrained ``weights`` for ``arch`` into ``model`` (same layout).

    ``weights`` is None (nothing happens: the default), a torchvision weights enum member, or
    its name ("DEFAULT", "IMAGENET1K_V1"). Loading DOWNLOADS the file unless torch's cache
    already has it, so it only ever happens when the caller asks. The model must have been
    built at its ImageNet shape: 1000 classes, 3 input channels, width 1.
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
    wrong = {k: v for k, v in built_with.items()
             if v != {"num_classes": 1000, "in_channels": 3, "width": 1.0}.get(k, v)}  # fmt: skip
    if wrong:
        raise ValueError(
            f"pretrained {arch} weights need num_classes=1000, in_channels=3, width=1.0; got "
            f"{wrong}. Load them into the ImageNet-shaped model, then replace its last layer."
        )
    state = weights.get_state_dict(progress=True, check_hash=True)  # opt-in download
    # torchvision stores (untrained) auxiliary heads with GoogLeNet: skip them if ours has none.
    model.load_state_dict(state, strict=getattr(model, "aux_logits", True))
    return model
