"""What the activations of a network do, layer by layer: how many units are saturated and how
much gradient reaches them, at one moment or recorded during training (notebook 07).

    profile = layer_profile(model, nn.Sigmoid, x, y, "sigmoid")  # {"saturated": [..], ...}
    record = record_training(model, images, labels, steps=200, every=10)
    record.values["tanh 3"]        # (snapshots, keep) sampled inputs of the third tanh

A unit is *saturated* where its derivative is below ``SATURATED`` (10%) of the activation's
largest derivative: it passes almost no gradient back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SATURATED = 0.1  # a unit is "saturated" where its derivative is below 10% of its maximum


def derivative_ratio(z: torch.Tensor, activation: str) -> torch.Tensor:
    """f'(z) / max f' for 'sigmoid' (max 1/4 at 0), 'tanh' (max 1 at 0) or 'relu' (1 for z > 0,
    else 0): 1 passes the gradient fully, near 0 blocks it."""
    if activation == "relu":
        return (z > 0).to(z.dtype)
    if activation == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s) / 0.25
    if activation == "tanh":
        return 1 - torch.tanh(z) ** 2
    raise ValueError(f"activation must be 'sigmoid', 'tanh' or 'relu', got {activation!r}")


def saturated_fraction(values: torch.Tensor, activation: str) -> torch.Tensor:
    """Fraction of saturated inputs per row: (S, K) inputs of one layer -> (S,)."""
    return (derivative_ratio(values, activation) < SATURATED).float().mean(dim=-1)


def _activations(model: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    layers = [m for m in model.modules() if isinstance(m, kind)]
    if not layers:
        raise ValueError(f"the model has no {kind.__name__} layer to measure")
    return layers


def layer_profile(model: nn.Module, kind: type[nn.Module], x: torch.Tensor, y: torch.Tensor,
                  activation: str) -> dict[str, list[float]]:  # fmt: skip
    """Per ``kind`` layer (e.g. ``nn.Sigmoid``), input to output, on one batch: the fraction of
    saturated inputs and the norm of the loss gradient reaching those inputs."""
    inputs = []

    def keep(module, args, output):
        args[0].retain_grad()
        inputs.append(args[0])

    hooks = [m.register_forward_hook(keep) for m in _activations(model, kind)]
    try:
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    return {
        "saturated": [saturated_fraction(z.detach().flatten(), activation).item() for z in inputs],
        "gradient": [z.grad.norm().item() for z in inputs],
    }


@dataclass
class TrainingRecord:
    """What ``record_training`` saw. values: {"tanh 1": (S, keep) sampled inputs, ...};
    gradients: (S, layers) gradient norms at those inputs; steps: the S recorded steps;
    losses: the loss at every step."""

    values: dict[str, torch.Tensor]
    gradients: torch.Tensor
    steps: list[int]
    losses: list[float]


def record_training(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int,
                    every: int, *, kind: type[nn.Module] = nn.Tanh, lr: float = 0.1,
                    batch_size: int = 64, keep: int = 2_000,
                    seed: int = 0) -> TrainingRecord:  # fmt: skip
    """SGD (momentum 0.9) on random batches of normalized ``images``; at step 0 and every
    ``every`` steps, a random sample of ``keep`` inputs of each ``kind`` layer and the gradient
    norm reaching them (the snapshots the shift explorer shows)."""
    layers = _activations(model, kind)
    names = [f"{kind.__name__.lower()} {i + 1}" for i in range(len(layers))]
    values = {name: [] for name in names}  # name -> list of (keep,) tensors
    gradients, seen, recorded, losses = [], [], [], []
    pick = torch.Generator().manual_seed(seed)

    def keep_input(module, args, output):
        args[0].retain_grad()
        seen.append(args[0])

    torch.manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train().to(memory_format=torch.channels_last)  # faster convolutions on CPUs
    for step in range(steps + 1):
        index = torch.randint(0, len(labels), (batch_size,), generator=pick)
        record = step % every == 0
        hooks = [layer.register_forward_hook(keep_input) for layer in layers] if record else []
        x = images[index].contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), labels[index])
        optimizer.zero_grad()
        loss.backward()
        for hook in hooks:
            hook.remove()
        if record:
            for name, z in zip(names, seen, strict=True):
                flat = z.detach().flatten()
                values[name].append(flat[torch.randint(0, len(flat), (keep,), generator=pick)])
            gradients.append([z.grad.norm().item() for z in seen])
            recorded.append(step)
            seen.clear()
        if step < steps:
            optimizer.step()
        losses.append(loss.item())
    stacked = {name: torch.stack(v) for name, v in values.items()}
    return TrainingRecord(stacked, torch.tensor(gradients), recorded, losses)


def percentile_drift(values: torch.Tensor) -> float:
    """How far the 15th, 50th and 85th percentiles of (S, K) recorded inputs moved from the
    first snapshot: the largest move over the run."""
    q = values.quantile(torch.tensor([0.15, 0.5, 0.85]), dim=1)  # (3, S)
    return (q - q[:, :1]).abs().max().item()
