"""Forward passes with hooks on chosen modules, in evaluation mode without gradients: a zero
image (``probe``: what the per-layer counts of ``course.measure.memory`` and
``course.measure.receptive`` are read from) or a real batch (``outputs_of``: feature maps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in evaluation mode without gradients; its mode is restored afterwards, even
    after an error."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def _forward_with_hooks(model: nn.Module, x: torch.Tensor, hook: Callable,
                        modules: list[nn.Module]) -> None:  # fmt: skip
    hooks = [m.register_forward_hook(hook) for m in modules]
    try:
        with evaluating(model):
            model(x)
    finally:
        for handle in hooks:
            handle.remove()


def probe(model: nn.Module, input_size: tuple[int, int, int], hook: Callable,
          modules: list[nn.Module] | None = None) -> None:  # fmt: skip
    """Run one zero image of ``input_size`` through ``model`` in evaluation mode without
    gradients, calling ``hook(module, inputs, output)`` after each of ``modules`` (all by
    default); the hooks are removed and the model's mode restored, even after an error."""
    chosen = list(model.modules()) if modules is None else modules
    _forward_with_hooks(model, torch.zeros(1, *input_size), hook, chosen)


def outputs_of(model: nn.Module, x: torch.Tensor, modules: dict[str, nn.Module]) -> dict:
    """What each of ``modules`` ({name: module}) returns when ``model`` sees ``x``, in evaluation
    mode without gradients: {name: tensor}. The hooks are removed, the mode restored."""
    names = {id(m): name for name, m in modules.items()}
    outputs = {}

    def record(module, inputs, output):
        outputs[names[id(module)]] = output

    _forward_with_hooks(model, x, record, list(modules.values()))
    return outputs
