"""Every architecture of the course measured the same way, for side-by-side comparison.

    record = measure_architecture("resnet50")      # parameters, MACs, depth, CPU latency, top-1
    records = [measure_architecture(name) for name in ARCHITECTURES]

Parameters, MACs and depth are computed from the model (``course.models``); latency is measured
here, on this machine (median of several forward passes of one 224x224 image); top-1 is
torchvision's published ImageNet accuracy for the same architecture, read from its offline
weights metadata (no download). Architectures torchvision has no weights for have no top-1.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from course.models import count_depth, count_macs, count_parameters, skeleton

# name in course.models -> (family, torchvision weights it is checked against, or None)
ARCHITECTURES: dict[str, tuple[str, str | None]] = {
    "alexnet": ("AlexNet", "alexnet"),
    "vgg11": ("VGG", "vgg11"),
    "vgg13": ("VGG", "vgg13"),
    "vgg16": ("VGG", "vgg16"),
    "vgg19": ("VGG", "vgg19"),
    "googlenet": ("GoogLeNet", "googlenet"),
    "inception_bn": ("Inception-BN", None),
    "resnet18": ("ResNet", "resnet18"),
    "resnet34": ("ResNet", "resnet34"),
    "resnet50": ("ResNet", "resnet50"),
    "resnet101": ("ResNet", "resnet101"),
    "resnet152": ("ResNet", "resnet152"),
}
FAMILIES = list(dict.fromkeys(family for family, _ in ARCHITECTURES.values()))


@dataclass(frozen=True)
class ArchitectureRecord:
    name: str
    family: str
    parameters: int
    macs: int  # multiply-accumulates for one 224x224 image
    depth: int  # weight layers on the longest path
    latency_ms: float | None  # median CPU forward time, one image; None if not measured
    top1: float | None  # torchvision's published ImageNet-1K top-1 (%), None if no weights

    def to_dict(self) -> dict:
        return asdict(self)


def published_top1(arch: str | None) -> float | None:
    """torchvision's ImageNet-1K top-1 for its first (IMAGENET1K_V1) weights of ``arch``."""
    if arch is None:
        return None
    from torchvision.models import get_model_weights

    return get_model_weights(arch).IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"]


def forward_latency(model: torch.nn.Module, size: int = 224, repeats: int = 5) -> float:
    """Median wall time in milliseconds of one forward pass of one image, after a warm-up."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    model.eval()
    x = torch.randn(1, 3, size, size)
    times = []
    with torch.inference_mode():
        model(x)  # warm-up: first calls allocate and pick kernels
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _stand_in_weights(structure: nn.Module) -> nn.Module:
    """``structure`` (built on the meta device) in CPU memory, for timing, with stand-in values:
    every parameter a short random pattern repeated, within +-1/sqrt(fan-in) (of a weight; a
    1-D tensor such as a bias: +-1/sqrt(its length)), batch-norm statistics reset. A dense
    forward pass does the same arithmetic for any values, and initializing VGG-19's 144 million
    weights at random takes 1.7 s on one core, longer than timing it."""
    model = structure.to_empty(device="cpu")
    pattern = torch.empty(4099).uniform_(-1, 1)  # a prime length: rows do not repeat in step
    with torch.no_grad():
        for tensor in model.parameters():
            flat, n = tensor.view(-1), tensor.numel()
            whole = n - n % len(pattern)
            flat[:whole].view(-1, len(pattern)).copy_(pattern.expand(whole // len(pattern), -1))
            flat[whole:].copy_(pattern[: n - whole])
            flat.mul_(1 / math.sqrt(tensor[0].numel() if tensor.dim() > 1 else n))
        for tensor in model.buffers():
            tensor.zero_()
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()  # mean 0, variance 1
    return model


def measure_architecture(name: str, repeats: int = 5, latency: bool = True) -> ArchitectureRecord:
    """Build ``name`` at ImageNet size and measure it (``latency=False`` skips the timing)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose from {list(ARCHITECTURES)}")
    family, arch = ARCHITECTURES[name]
    options = {"aux_logits": False} if family == "GoogLeNet" else {}
    torch.manual_seed(0)
    # Counting needs the layers' shapes, not their weights (no weight drawn on the meta device)
    structure = skeleton(name, **options)
    shape = (3, 224, 224)
    record = ArchitectureRecord(
        name=name,
        family=family,
        parameters=count_parameters(structure),
        macs=count_macs(structure, shape),
        depth=count_depth(structure, shape),
        latency_ms=None,
        top1=published_top1(arch),
    )
    if not latency:
        return record
    # after counting: to_empty turns the skeleton itself into the timed model
    timed = forward_latency(_stand_in_weights(structure), repeats=repeats)
    return dataclasses.replace(record, latency_ms=timed)
