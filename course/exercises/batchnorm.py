"""The batch-norm lecture's coding exercise (notebook 07): batch norm's forward pass, in training
and in evaluation mode, with its running statistics.

    from course.exercises.batchnorm import BatchNormTask
    BatchNormTask().check(MyBatchNorm2d)

The student's class is built twice (PyTorch's defaults, then eps=0.5 and momentum=0.3, so that
neither can be hard-coded), given the same γ and β as an ``nn.BatchNorm2d``, and both are fed the
same three training batches and then two evaluation batches (one of a single image). Outputs,
the gradients of γ and β, and the running statistics after every batch must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from course.exercises.base import Feedback
from course.exercises.coding import (
    CodeTask,
    close,
    first_difference,
    not_a_module,
    nothing_yet,
    run,
)

CHANNELS = 3


def _normalize(x, mean, var, eps, weight, bias):
    shape = (1, -1, 1, 1)
    return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) * weight.view(
        shape
    ) + bias.view(shape)


@dataclass(frozen=True)
class BatchNormTask(CodeTask):
    """Write ``class MyBatchNorm2d(nn.Module)`` with ``__init__(self, num_features, eps=1e-5,
    momentum=0.1)``: γ (``weight``) and β (``bias``) as parameters, ``running_mean`` and
    ``running_var`` as buffers; checked against ``nn.BatchNorm2d``."""

    kind = "class"
    settings: tuple = ((1e-5, 0.1), (0.5, 0.3))  # (eps, momentum)

    def question(self) -> str:
        return (
            "Write class MyBatchNorm2d(nn.Module) with __init__(self, num_features, eps=1e-5, "
            "momentum=0.1): weight (γ, starts at 1) and bias (β, starts at 0) as nn.Parameter, "
            "running_mean (0) and running_var (1) as buffers; forward normalizes each channel "
            "with the batch's statistics in training mode (and updates the running ones) and "
            "with the running statistics in evaluation mode."
        )

    def diagnose(self, layer_class) -> Feedback | None:
        for eps, momentum in self.settings:
            where = f"MyBatchNorm2d({CHANNELS}, eps={eps}, momentum={momentum})"
            layer = run(layer_class, CHANNELS, eps=eps, momentum=momentum,
                        what=f"building {where}")  # fmt: skip
            problem = self._state(layer, where)
            if problem is None:
                problem = self._compare(layer, eps, momentum, where)
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _state(layer, where) -> Feedback | None:
        if (problem := not_a_module(layer, where)) is not None:
            return problem
        parameters = dict(layer.named_parameters())
        if not parameters and not dict(layer.named_buffers()):  # the skeleton, as shipped
            return Feedback(False, "Your layer has no parameters or buffers yet: write __init__ "
                            "and forward, then run this cell again.", graded=False)  # fmt: skip
        for name, start in (("weight", 1.0), ("bias", 0.0)):
            if name not in parameters or parameters[name].shape != (CHANNELS,):
                return Feedback(False, f"It needs a parameter `{name}` of shape ({CHANNELS},), "
                                f"one per channel: self.{name} = nn.Parameter(...).")  # fmt: skip
            if not torch.all(parameters[name] == start):
                return Feedback(False, f"`{name}` should start at {start:g} for every channel, "
                                f"so that a new layer only normalizes.")  # fmt: skip
        buffers = dict(layer.named_buffers())
        for name, start in (("running_mean", 0.0), ("running_var", 1.0)):
            if name not in buffers or buffers[name].shape != (CHANNELS,):
                return Feedback(False, f"It needs a buffer `{name}` of shape ({CHANNELS},), not "
                                f"trained: self.register_buffer('{name}', ...).")  # fmt: skip
            if not torch.all(buffers[name] == start):
                return Feedback(False, f"`{name}` should start at {start:g} for every channel.")
        return None

    def _compare(self, layer, eps, momentum, where) -> Feedback | None:
        torch.manual_seed(0)
        reference = nn.BatchNorm2d(CHANNELS, eps=eps, momentum=momentum)
        with torch.no_grad():
            for ours in (reference, layer):
                ours.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
                ours.bias.copy_(torch.tensor([0.0, 1.0, -0.5]))
        layer.train(), reference.train()
        for step in range(3):
            x = torch.randn(6, CHANNELS, 4, 5) * torch.tensor([1.0, 3.0, 0.5]).view(
                1, -1, 1, 1
            ) + torch.tensor([2.0, -1.0, 0.0]).view(1, -1, 1, 1)
            before = layer.running_mean.clone(), layer.running_var.clone()
            yours = run(layer, x, what=f"running {where} in training mode")
            if yours is None:
                return nothing_yet("forward", "write it")
            expected = reference(x)
            if not close(yours, expected, 1e-4):
                return Feedback(False, self._training_advice(yours, expected, x, layer, eps,
                                                             where))  # fmt: skip
            if step == 0:
                problem = self._gradients(layer, reference, yours, expected, where)
                if problem is not None:
                    return problem
            problem = self._running(layer, reference, before, x, momentum, where)
            if problem is not None:
                return problem
        layer.eval(), reference.eval()
        for x in (torch.randn(5, CHANNELS, 4, 5) * 2 + 1, torch.randn(1, CHANNELS, 3, 3)):
            kept = layer.running_mean.clone(), layer.running_var.clone()
            with torch.no_grad():
                yours = run(layer, x, what=f"running {where} in evaluation mode")
                expected = reference(x)
            if not close(yours, expected, 1e-4):
                batch_stats = _normalize(x, x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False),
                                         eps, layer.weight, layer.bias)  # fmt: skip
                if isinstance(yours, torch.Tensor) and close(yours, batch_stats, 1e-4):
                    return Feedback(False, "In evaluation mode (after model.eval()) normalize "
                                    "with running_mean and running_var, not the batch's own "
                                    "statistics: check self.training.")  # fmt: skip
                return Feedback(False, f"In evaluation mode {where} differs "
                                f"{first_difference(yours, expected, 1e-4)}.")  # fmt: skip
            if not (torch.equal(kept[0], layer.running_mean)
                    and torch.equal(kept[1], layer.running_var)):  # fmt: skip
                return Feedback(False, "In evaluation mode the running statistics must stay as "
                                "they are: update them only in training mode.")  # fmt: skip
        return None

    @staticmethod
    def _training_advice(yours, expected, x, layer, eps, where) -> str:
        said = f"In training mode {where}'s output differs"
        if not isinstance(yours, torch.Tensor) or yours.shape != expected.shape:
            got = tuple(yours.shape) if isinstance(yours, torch.Tensor) else type(yours).__name__
            return f"{said}: it is {got}, the input's shape is {tuple(x.shape)}."
        w, b = layer.weight.detach(), layer.bias.detach()
        dims = (0, 2, 3)
        variants = {
            "normalize with the biased variance (divide by n = N·H·W); the unbiased one only "
            "goes into the running estimate": (x.mean(dims), x.var(dims, unbiased=True), eps, w, b),
            "add eps to the variance, inside the square root": (
                x.mean(dims), x.var(dims, unbiased=False), 0.0, w, b),
            "after normalizing, scale by weight (γ) and shift by bias (β)": (
                x.mean(dims), x.var(dims, unbiased=False), eps, torch.ones(3), torch.zeros(3)),
        }  # fmt: skip
        for advice, (mean, var, e, ww, bb) in variants.items():
            if close(yours, _normalize(x, mean, var, e, ww, bb), 1e-4):
                return f"{said}: {advice}."
        per_image = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(
            x.var((2, 3), unbiased=False, keepdim=True) + eps) * w.view(1, -1, 1, 1) \
            + b.view(1, -1, 1, 1)  # fmt: skip
        if close(yours, per_image, 1e-4):
            return (f"{said}: the statistics are per channel over the whole batch, dims (0, 2, "
                    f"3), not per image.")  # fmt: skip
        return f"{said} {first_difference(yours, expected, 1e-4)}."

    @staticmethod
    def _gradients(layer, reference, yours, expected, where) -> Feedback | None:
        grad = torch.randn_like(expected)
        reference.zero_grad()
        torch.autograd.backward(expected, grad)
        layer.zero_grad()
        if not yours.requires_grad:
            return Feedback(False, f"{where}'s output carries no gradient: compute with the "
                            f"tensors themselves (no .item(), .data or torch.no_grad()), so that "
                            f"γ and β are trained.")  # fmt: skip
        run(torch.autograd.backward, yours, grad, what=f"back-propagating through {where}")
        for name in ("weight", "bias"):
            mine, want = getattr(layer, name).grad, getattr(reference, name).grad
            if mine is None or not close(mine, want, 1e-4):
                return Feedback(False, f"The gradient of `{name}` differs from nn.BatchNorm2d's: "
                                f"use it directly in forward (γ·x̂ + β).")  # fmt: skip
        return None

    @staticmethod
    def _running(layer, reference, before, x, momentum, where) -> Feedback | None:
        if close(layer.running_mean, reference.running_mean, 1e-5) and close(
                layer.running_var, reference.running_var, 1e-5):  # fmt: skip
            return None
        if torch.equal(before[0], layer.running_mean) and torch.equal(before[1], layer.running_var):
            return Feedback(False, "running_mean and running_var did not change in training "
                            "mode: after each batch, move them towards the batch's statistics "
                            "with momentum.")  # fmt: skip
        n = x.numel() / x.shape[1]
        biased = (1 - momentum) * before[1] + momentum * x.var((0, 2, 3), unbiased=False)
        reversed_ = momentum * before[0] + (1 - momentum) * x.mean((0, 2, 3))
        if close(layer.running_var, biased, 1e-5):
            return Feedback(False, f"The running variance takes the unbiased variance, "
                            f"σ²·n/(n − 1) with n = {n:.0f} values per channel (the batch's own "
                            f"normalization uses the biased one).")  # fmt: skip
        if close(layer.running_mean, reversed_, 1e-5):
            return Feedback(
                False,
                "running = (1 − momentum)·running + momentum·(the batch's "
                "statistic): momentum is the weight of the newest batch.",
            )
        return Feedback(False, f"After a training batch, {where}'s running_mean or running_var "
                        f"differs from nn.BatchNorm2d's: running = (1 − momentum)·running + "
                        f"momentum·(batch mean, or unbiased batch variance).")  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "In __init__: self.weight = nn.Parameter(torch.ones(num_features)), self.bias the "
            "same with zeros; self.register_buffer('running_mean', torch.zeros(num_features)) "
            "and running_var with ones; keep eps and momentum.",
            "In training mode (self.training): mean and biased variance over dims (0, 2, 3); "
            "under torch.no_grad(), update the running statistics with momentum, the variance "
            "times n / (n − 1).",
            "Normalize with the chosen statistics, reshaped to (1, C, 1, 1): (x − mean) / "
            "sqrt(var + eps), then times weight plus bias, also reshaped.",
        ]

    def worked_solution(self) -> str:
        return (
            "```python\n"
            "class MyBatchNorm2d(nn.Module):\n"
            "    def __init__(self, num_features, eps=1e-5, momentum=0.1):\n"
            "        super().__init__()\n"
            "        self.eps, self.momentum = eps, momentum\n"
            "        self.weight = nn.Parameter(torch.ones(num_features))\n"
            "        self.bias = nn.Parameter(torch.zeros(num_features))\n"
            "        self.register_buffer('running_mean', torch.zeros(num_features))\n"
            "        self.register_buffer('running_var', torch.ones(num_features))\n"
            "\n"
            "    def forward(self, x):\n"
            "        if self.training:\n"
            "            mean = x.mean((0, 2, 3))\n"
            "            var = x.var((0, 2, 3), unbiased=False)\n"
            "            n = x.numel() / x.shape[1]\n"
            "            with torch.no_grad():\n"
            "                m = self.momentum\n"
            "                self.running_mean.mul_(1 - m).add_(m * mean)\n"
            "                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))\n"
            "        else:\n"
            "            mean, var = self.running_mean, self.running_var\n"
            "        shape = (1, -1, 1, 1)\n"
            "        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)\n"
            "        return x_hat * self.weight.view(shape) + self.bias.view(shape)\n"
            "```\n\n"
            "It agrees with `nn.BatchNorm2d` in both modes, in its gradients and its running "
            "statistics: **every check passes**."
        )
