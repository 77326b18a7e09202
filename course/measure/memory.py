"""How much memory training a network takes at least, counted from its shapes (no GPU needed).

    rows = activation_memory(get_model("alexnet_paper"), (3, 227, 227), batch=128)
    training_memory(get_model("alexnet_paper"), (3, 227, 227), batch=128)
    # {'weights': ..., 'gradients': ..., 'momentum': ..., 'input': ..., 'activations': ...,
    #  'activation gradients': ..., 'total': ...}

What is counted, in bytes of ``dtype`` (fp32 by default, as in 2012), for the whole batch:
- the weights, their gradients and SGD's momentum buffer: three values per parameter;
- the input batch, and every distinct tensor a module returns in the forward pass, which the
  backward pass needs (an in-place ReLU, a view or a container's output adds nothing);
- the gradient of the largest of those outputs: the backward pass holds at least one at a time.
Not counted, so this is a lower bound: what layers save besides their outputs (pooling indices,
LRN's intermediate sums), dropout's masks (the count runs in evaluation mode), gradients of
several layers alive at once, and the framework's temporary buffers (e.g. a convolution's
unrolled patches), which depend on the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from course.measure.probe import probe


@dataclass(frozen=True)
class ActivationRow:
    name: str  # the module's path in the model
    kind: str
    output_shape: tuple[int, ...]  # for one image
    bytes: int  # the output for the whole batch


def activation_memory(model: nn.Module, input_size: tuple[int, int, int], batch: int = 128,
                      dtype: torch.dtype = torch.float32) -> list[ActivationRow]:  # fmt: skip
    """One row per module call that returns a new tensor, in the order the calls finish, with
    the bytes of that output for a batch of ``batch`` images (found on one image)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    if not (isinstance(input_size, tuple) and len(input_size) == 3):
        raise ValueError(f"input_size must be (channels, height, width), got {input_size!r}")
    size = torch.tensor([], dtype=dtype).element_size()
    names = {m: n for n, m in model.named_modules()}
    rows: list[ActivationRow] = []
    kept, seen = [], set()  # outputs stay referenced, so no storage is reused and counted twice

    def record(module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            return
        kept.append(output)
        storage = output.untyped_storage().data_ptr()
        if storage in seen:  # in place, a view, or a container passing a child's output on
            return
        seen.add(storage)
        name = names[module] or type(model).__name__
        shape, count = tuple(output.shape[1:]), output.numel() * batch
        rows.append(ActivationRow(name, type(module).__name__, shape, count * size))

    probe(model, input_size, record)
    return rows


def training_memory(model: nn.Module, input_size: tuple[int, int, int], batch: int = 128,
                    dtype: torch.dtype = torch.float32) -> dict[str, int]:  # fmt: skip
    """Bytes one SGD-with-momentum training step needs at least, by kind (see the module's
    docstring)."""
    size = torch.tensor([], dtype=dtype).element_size()
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad) * size
    rows = activation_memory(model, input_size, batch, dtype)
    channels, height, width = input_size
    counts = {
        "weights": parameters,
        "gradients": parameters,
        "momentum": parameters,
        "input": batch * channels * height * width * size,
        "activations": sum(r.bytes for r in rows),
        "activation gradients": max((r.bytes for r in rows), default=0),
    }
    counts["total"] = sum(counts.values())
    return counts
