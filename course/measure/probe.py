"""One forward pass of a zero image with hooks on chosen modules: what the per-layer counts of
``course.measure.memory`` and ``course.measure.receptive`` are read from."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def probe(model: nn.Module, input_size: tuple[int, int, int], hook: Callable,
          modules: list[nn.Module] | None = None) -> None:  # fmt: skip
    """Run one zero image of ``input_size`` through ``model`` in evaluation mode without
    gradients, calling ``hook(module, inputs, output)`` after each of ``modules`` (all by
    default); the hooks are removed and the model's mode restored, even after an error."""
    chosen = list(model.modules()) if modules is None else modules
    hooks = [m.register_forward_hook(hook) for m in chosen]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_size))
    finally:
        for handle in hooks:
            handle.remove()
        model.train(was_training)


def outputs_of(model: nn.Module, x: torch.Tensor, modules: dict[str, nn.Module]) -> dict:
    """What each of ``modules`` ({name: module}) returns when ``model`` sees ``x``, in evaluation
    mode without gradients: {name: tensor}. The hooks are removed, the mode restored."""
    outputs = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
             for name, m in modules.items()]  # fmt: skip
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in hooks:
            handle.remove()
        model.train(was_training)
    return outputs
