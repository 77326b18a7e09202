"""Receptive fields of whole networks: how many input pixels one value of each layer sees.

    path = receptive_path(get_model("resnet50"))   # one LayerField per convolution or pooling
    path[-1].size                                  # 427: the last convolution's field
    measured_receptive_field(get_model("vgg16"), "features.30", 512)   # 212, by gradients

``receptive_path`` applies the course's recurrence (``course.measure.conv.receptive_fields``) to
the layers an input travels through, in the order they run. Where a block runs branches side by
side (Inception's ``branch1``..``branch4``), the branch that sees furthest is followed; a
residual block's shortcut (``downsample``) and GoogLeNet's auxiliary heads are left out, since
they never see further than the main path. Global pooling and the classifier are not
convolutions: the path stops before them (after them every output sees the whole image).

``measured_receptive_field`` checks the arithmetic without it: it backpropagates from one
central value of a layer to the input and measures how far the nonzero gradient reaches.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import torch
from torch import nn

from course.measure.conv import receptive_fields
from course.measure.probe import input_channels, probe, run

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_BRANCH = re.compile(r"^(.*)\.branch(\d+)(\.|$)")


@dataclass(frozen=True)
class LayerField:
    name: str  # the module's path in the model
    kind: str  # "Conv2d", "MaxPool2d" or "AvgPool2d"
    kernel: int
    stride: int
    dilation: int
    size: int  # receptive field after this layer (input pixels, per side)
    jump: int  # input pixels between neighbouring values of this layer


def _first(value) -> int:
    return value[0] if isinstance(value, tuple) else value


def _calls(model: nn.Module, input_size: tuple[int, int, int]) -> list[tuple]:
    """(name, kind, kernel, stride, dilation) of every convolution and pooling, in execution
    order."""
    names = {m: n for n, m in model.named_modules()}
    calls = []

    def record(module, _inputs, _output):
        if isinstance(module, nn.Conv2d):
            k, s, d = module.kernel_size[0], module.stride[0], module.dilation[0]
        else:
            k = _first(module.kernel_size)
            s = _first(module.stride) if module.stride else k
            d = _first(getattr(module, "dilation", 1))
        calls.append((names[module], type(module).__name__, k, s, d))

    probe(
        model,
        input_size,
        record,
        [m for m in model.modules() if isinstance(m, (nn.Conv2d, *_POOLS))],
    )
    return calls


def receptive_path(model: nn.Module, input_size: tuple[int, int, int] = (3, 224, 224)
                   ) -> list[LayerField]:  # fmt: skip
    """The receptive field after each convolution and pooling on the path that sees furthest."""
    calls = [c for c in _calls(model, input_size)
             if ".downsample" not in f".{c[0]}" and not c[0].startswith("aux")]  # fmt: skip
    path, done = [], set()
    for call in calls:
        match = _BRANCH.match(call[0])
        if match is None:
            path.append(call)
            continue
        block = match.group(1)
        if block in done:
            continue
        done.add(block)
        branches: dict[str, list] = {}
        for other in calls:
            m = _BRANCH.match(other[0])
            if m is not None and m.group(1) == block:
                branches.setdefault(m.group(2), []).append(other)

        def reach(branch):
            fields = receptive_fields([c[2:] for c in branch])
            return fields[-1].size, fields[-1].jump

        path.extend(max(branches.values(), key=reach))
    fields = receptive_fields([c[2:] for c in path])
    return [LayerField(name, kind, k, s, d, f.size, f.jump)
            for (name, kind, k, s, d), f in zip(path, fields, strict=True)]  # fmt: skip


def measured_receptive_field(model: nn.Module, layer: str, input_size: int) -> int:
    """Rows of a square ``input_size`` input that one central value of ``layer``'s output
    depends on, found by backpropagation through a copy of the model in which every weight is
    positive, max-pooling averages (so every window position gets gradient) and LRN is left
    out (it mixes channels, not positions). Pick ``input_size`` larger than the field."""
    model = copy.deepcopy(model).eval()
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer {layer!r} is not a module of the model; e.g. {list(modules)[1]!r}")
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                average = nn.AvgPool2d(
                    child.kernel_size, child.stride, child.padding, child.ceil_mode
                )
                setattr(module, child_name, average)
            elif isinstance(child, nn.LocalResponseNorm):
                setattr(module, child_name, nn.Identity())
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
    captured = {}
    hook = dict(model.named_modules())[layer].register_forward_hook(
        lambda _m, _i, out: captured.setdefault("out", out)
    )
    x = torch.ones(1, input_channels(model) or 3, input_size, input_size, requires_grad=True)
    try:
        run(model.cpu(), x)
    finally:
        hook.remove()
    if "out" not in captured:
        raise ValueError(
            f"layer {layer!r} did not run when the model saw an image in evaluation mode (an "
            f"auxiliary head runs only in training): choose a layer on the main path"
        )
    out = captured["out"]
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1)
