"""Forward passes with hooks on chosen modules, in evaluation mode without gradients: a zero
image (``probe``: what the per-layer counts of ``course.measure.memory`` and
``course.measure.receptive`` are read from) or a real batch (``outputs_of``: feature maps).

Any ``nn.Module`` that classifies images works, the course's, torchvision's or one written in a
notebook: a model that cannot run on the input gets an error that says what it takes
(``could_not_run``), e.g. the number of channels its first convolution expects."""

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


def first_convolution(model: nn.Module) -> tuple[str, nn.Conv2d] | None:
    """(name, layer) of the first ``nn.Conv2d`` registered in ``model`` (its input layer in
    the course's models, torchvision's and ``nn.Sequential`` ones), or None."""
    return next(((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)


def input_channels(model: nn.Module) -> int | None:
    """The channels of the images ``model`` takes: the course's models say so
    (``in_channels``); otherwise its first convolution's input channels; None if unknown."""
    channels = getattr(model, "in_channels", None)
    if isinstance(channels, int):
        return channels
    first = first_convolution(model)
    return first[1].in_channels if first else None


def model_device(model: nn.Module) -> torch.device:
    """Where ``model``'s first parameter (or buffer) lives; the CPU for a model without any."""
    tensor = next(model.parameters(), None)
    tensor = next(model.buffers(), None) if tensor is None else tensor
    return tensor.device if tensor is not None else torch.device("cpu")


def could_not_run(model: nn.Module, shape: tuple[int, ...], error: Exception) -> ValueError:
    """A clear error for a model that failed on an input of ``shape`` (N, C, H, W): PyTorch's
    reason, and what the model takes."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]
    channels = input_channels(model)
    if channels is not None and channels != shape[1]:
        hint = (f"its first convolution takes {channels}-channel images: give images of shape "
                f"({channels}, H, W)")  # fmt: skip
    else:
        hint = "check that it takes images of this size (a larger one may be needed)"
    return ValueError(f"{type(model).__name__} could not run on images of shape "
                      f"{tuple(shape[1:])}: {reason}; {hint}")  # fmt: skip


def run(model: nn.Module, x: torch.Tensor):
    """``model(x)``; a RuntimeError inside it (a shape PyTorch refuses) comes back as
    ``could_not_run``'s ValueError. The course's models check their inputs themselves."""
    try:
        return model(x)
    except RuntimeError as error:
        raise could_not_run(model, tuple(x.shape), error) from error


def _forward_with_hooks(model: nn.Module, x: torch.Tensor, hook: Callable,
                        modules: list[nn.Module]) -> None:  # fmt: skip
    hooks = [m.register_forward_hook(hook) for m in modules]
    try:
        with evaluating(model):
            run(model, x.to(model_device(model)))
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
