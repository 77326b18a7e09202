"""How large are the gradients, layer by layer? One backward pass on one batch, measured.

    norms = layer_gradient_norms(get_model("plain56", in_channels=1), images, labels)
    [(name, norm) for name, norm in norms][:2]   # [('conv1', 0.41), ('layer1.0.conv1', 0.38)]

The norm is the Euclidean (Frobenius) norm of a layer's weight gradient, for the mean
cross-entropy loss of the batch (for a model with auxiliary classifiers, the main output's loss
plus ``aux_weight`` x theirs: ``aux_weight=0`` is the main output's gradient alone). The model
runs in training mode (BatchNorm normalizes with the batch's statistics, as in training) and is
left as it was found: same mode, no gradients kept, BatchNorm running statistics restored.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from course.training.loop import loss_and_logits

WEIGHTED = (nn.Conv2d, nn.Linear)  # the layers a network's depth counts


def weighted_layers(model: nn.Module, kinds=WEIGHTED) -> list[tuple[str, nn.Module]]:
    """(name, module) of every layer of ``kinds`` in registration order (input to output for the
    course's models)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


def layer_gradient_norms(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    kinds=WEIGHTED,
    aux_weight: float = 0.0,
) -> list[tuple[str, float]]:
    """(layer name, norm of its weight gradient) for every layer of ``kinds``, input to output.

    ``images``: float (N, C, H, W), already normalized; ``labels``: int64 (N,).
    """
    if not torch.is_tensor(images) or images.ndim != 4 or not images.is_floating_point():
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise ValueError(f"images must be a float tensor (N, C, H, W), got {shape}")
    if not torch.is_tensor(labels) or labels.shape != images.shape[:1]:
        shape = tuple(labels.shape) if torch.is_tensor(labels) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({len(images)},), got {shape}")
    layers = weighted_layers(model, kinds)
    if not layers:
        raise ValueError(f"the model has no layers of kinds {kinds}")
    buffers = copy.deepcopy({k: v for k, v in model.state_dict().items() if "running" in k
                             or "num_batches" in k})  # fmt: skip
    was_training = model.training
    saved_grads = [p.grad for p in model.parameters()]
    model.train()
    try:
        model.zero_grad(set_to_none=True)
        loss_and_logits(model(images), labels, 0.0, aux_weight)[0].backward()
        return [(name, m.weight.grad.norm().item()) for name, m in layers]
    finally:  # leave the model as it was: mode, gradients, BatchNorm statistics
        for p, g in zip(model.parameters(), saved_grads, strict=True):
            p.grad = g
        model.load_state_dict(buffers, strict=False)
        model.train(was_training)


def block_norms(norms: list[tuple[str, float]], blocks: list[str]) -> dict[str, float]:
    """The gradient norm of each block: the norm over all its layers' weight gradients (the
    square root of the sum of their squared norms); a layer belongs to block ``b`` if its name
    starts with ``b + "."``."""
    out = {}
    for block in blocks:
        squares = [n**2 for name, n in norms if name.startswith(block + ".")]
        if not squares:
            raise ValueError(f"no layer of the measured ones is in block {block!r}")
        out[block] = sum(squares) ** 0.5
    return out
