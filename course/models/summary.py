"""Inspect a model: a per-layer table (output shape, parameters, MACs) and where the
parameters sit. MACs come from ``torch.utils.flop_counter`` (FLOPs / 2 for convolutions and
matrix products); output shapes from forward hooks; nothing is counted by hand.

    rows = summarize(get_model("alexnet_paper"), (3, 227, 227))
    print(format_summary(rows))
    parameter_breakdown(get_model("vgg16"))      # {'features': 14714688, 'classifier': 123642856}
    count_depth(get_model("resnet50"), (3, 224, 224))  # 50: weight layers on the longest path
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from course.checks import as_int
from course.measure.probe import model_device, run


@dataclass(frozen=True)
class LayerRow:
    name: str  # the module's path in the model, e.g. 'features.0'
    kind: str  # its class, e.g. 'Conv2d'
    output_shape: tuple[int, ...]
    parameters: int  # the module's own parameters (counted at its first call only)
    macs: int  # multiply-accumulates of this call, batch of one


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _check_input_size(input_size) -> tuple[int, int, int]:
    message = f"input_size must be (channels, height, width) of ints >= 1, got {input_size!r}"
    if not isinstance(input_size, (tuple, list)) or len(input_size) != 3:
        raise ValueError(message)
    try:
        return tuple(as_int(n, "input_size", 1) for n in input_size)
    except ValueError:
        raise ValueError(message) from None


def summarize(model: nn.Module, input_size: tuple[int, int, int]) -> list[LayerRow]:
    """One row per call of a leaf module (a layer with no sub-modules), in execution order, for
    one image of ``input_size`` in evaluation mode."""
    input_size = _check_input_size(input_size)
    names = {m: n for n, m in model.named_modules()}
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda mod, _in, out: calls.append((mod, tuple(out.shape))))
        for m in model.modules()
        if not list(m.children())
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            run(model, torch.zeros(1, *input_size, device=model_device(model)))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    root = type(model).__name__
    rows, seen, calls_of = [], set(), {}
    for module, _ in calls:  # the counter totals all calls of a module: split it evenly
        calls_of[names[module]] = calls_of.get(names[module], 0) + 1
    for module, shape in calls:
        name = names[module]
        total = flops.get(f"{root}.{name}", 0)
        rows.append(LayerRow(name, type(module).__name__, shape,
                             0 if name in seen else count_parameters(module),
                             total // calls_of[name] // 2))  # fmt: skip
        seen.add(name)
    return rows


def format_summary(rows: list[LayerRow], skip_parameterless: bool = False,
                   hide: Iterable[str] = ()) -> str:  # fmt: skip
    """The rows as a fixed-width text table with totals; the layers in ``hide`` show "?" for
    their parameters (an exercise's answer the student has not found yet)."""
    hide = set(hide)
    lines = [f"{'layer':28} {'type':18} {'output shape':>20} {'parameters':>13} {'MACs':>15}"]
    for r in rows:
        if skip_parameterless and r.parameters == 0 and r.macs == 0:
            continue
        shape = "x".join(map(str, r.output_shape[1:]))
        count = "?" if r.name in hide else f"{r.parameters:,}"
        lines.append(f"{r.name:28} {r.kind:18} {shape:>20} {count:>13} {r.macs:>15,}")
    total_p, total_m = sum(r.parameters for r in rows), sum(r.macs for r in rows)
    lines.append(f"{'total':28} {'':18} {'':>20} {total_p:>13,} {total_m:>15,}")
    return "\n".join(lines)


def count_macs(model: nn.Module, input_size: tuple[int, int, int]) -> int:
    """Multiply-accumulates of one forward pass over one image, evaluation mode."""
    return sum(r.macs for r in summarize(model, input_size))


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Parameters per top-level part (``features``, ``classifier``, ``layer1`` ...), each
    counted once even if a module is shared; parameters registered on the model itself go
    under '(own)'."""
    seen: set[int] = set()
    parts: dict[str, int] = {}
    for name, child in model.named_children():
        fresh = [p for p in child.parameters() if id(p) not in seen and p.requires_grad]
        seen.update(id(p) for p in fresh)
        if fresh:
            parts[name] = sum(p.numel() for p in fresh)
    own = [p for p in model.parameters(recurse=False) if p.requires_grad]
    if own:
        parts["(own)"] = sum(p.numel() for p in own)
    return parts


# Operations that make a "layer" when counting depth: layers with weights, as papers count them
# (VGG-16 = 13 convolutions + 3 FC layers; pools, norms and activations do not count).
_WEIGHT_OPS = {F.conv2d, F.linear}


class _DepthTracker(TorchFunctionMode):
    """Follows every tensor through the forward pass and remembers how many weight layers
    lie on the longest path from the input to it (a residual sum takes the longer branch)."""

    def __init__(self):
        super().__init__()
        self.depth: dict[int, int] = {}
        self.alive: list[torch.Tensor] = []  # keeps ids unique while we look them up

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        depth = max((self.depth.get(id(t), 0) for t in inputs), default=0)
        depth += func in _WEIGHT_OPS
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.depth[id(t)] = max(depth, self.depth.get(id(t), 0))
                self.alive.append(t)
        return out


def count_depth(model: nn.Module, input_size: tuple[int, int, int]) -> int:
    """Weight layers (convolutions and linear layers) on the longest path from input to output,
    for one image in evaluation mode: the depth in a network's name (VGG-16: 16, GoogLeNet: 22,
    ResNet-50: 50). Branches side by side count once; projection shortcuts are not on the
    longest path."""
    input_size = _check_input_size(input_size)
    was_training = model.training
    model.eval()
    tracker = _DepthTracker()
    try:
        with torch.no_grad(), tracker:
            out = run(model, torch.zeros(1, *input_size, device=model_device(model)))
    finally:
        model.train(was_training)
    return tracker.depth.get(id(out), 0)
