"""Batch normalization from scratch: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep
Network Training by Reducing Internal Covariate Shift", ICML 2015 (Algorithms 1 and 2).

    from course.from_scratch.batchnorm import BatchNorm2d
    bn = BatchNorm2d(64)            # same arguments, buffers and state_dict keys as nn.BatchNorm2d
    y = bn(x)                       # x: (N, 64, H, W)

For every channel c of a batch x of shape (N, C, H, W):

* training: normalize with the statistics of this batch, over N*H*W values,
      mean_c = mean(x[:, c]),  var_c = mean((x[:, c] - mean_c)^2)      (biased: divide by n)
      y = weight_c * (x - mean_c) / sqrt(var_c + eps) + bias_c
  and update the running estimates used later in evaluation:
      running_mean = (1 - momentum) * running_mean + momentum * mean_c
      running_var  = (1 - momentum) * running_var  + momentum * var_c * n / (n - 1)   (unbiased)
  ``momentum=None`` makes them a plain (cumulative) average of all batches seen so far;
* evaluation (``model.eval()``): normalize with ``running_mean`` and ``running_var``, so one
  image's output no longer depends on the other images of its batch.

It computes what ``torch.nn.BatchNorm2d`` computes (the tests compare both, in both modes) and
loads its ``state_dict``. Departure: it is written for reading, not speed (no fused kernel).
"""

from __future__ import annotations

import torch
from torch import nn


class BatchNorm2d(nn.Module):
    """Batch norm over the channels of (N, C, H, W) inputs; arguments as ``nn.BatchNorm2d``.

    num_features: C, the number of channels of the input;
    eps: added to the variance before the square root (avoids dividing by 0);
    momentum: weight of the newest batch in the running estimates, in [0, 1]; None: the
        cumulative average over all batches (1 / num_batches_tracked);
    affine: learn a scale ``weight`` (gamma, starts at 1) and a shift ``bias`` (beta, starts at 0);
    track_running_stats: keep running estimates for evaluation; if False, evaluation also
        normalizes with the statistics of the batch it is given.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"num_features must be an int >= 1 (channels), got {num_features!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"eps must be a number > 0, got {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not 0 <= momentum <= 1
        ):
            raise ValueError(
                f"momentum must be a number in [0, 1] or None (cumulative average), "
                f"got {momentum!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features))  # gamma: (C,)
            self.bias = nn.Parameter(torch.zeros(num_features))  # beta: (C,)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:  # same (absent) buffers as nn.BatchNorm2d, so state_dicts match
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )

    def _check_input(self, x) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"BatchNorm2d expects a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"BatchNorm2d expects a floating-point tensor, got dtype {x.dtype}")
        if x.ndim != 4:
            raise ValueError(
                f"BatchNorm2d expects a 4D input (N, C, H, W), got {x.ndim}D input of shape "
                f"{tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d was built for num_features={self.num_features} channels but the "
                f"input has {x.shape[1]} (shape {tuple(x.shape)})"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            n = x.numel() // x.shape[1]  # values per channel: N * H * W
            if self.training and n <= 1:
                raise ValueError(
                    f"BatchNorm2d in training mode needs more than 1 value per channel to "
                    f"estimate a variance, got input of shape {tuple(x.shape)} (N * H * W = {n}); "
                    f"use a larger batch, or model.eval() to normalize with running estimates"
                )
            mean = x.mean(dim=(0, 2, 3))  # (C,)
            var = x.var(dim=(0, 2, 3), unbiased=False)  # (C,), biased: what normalizes x
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.detach(), var.detach(), n)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        if self.affine:
            return x_hat * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return x_hat

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: int) -> None:
        self.num_batches_tracked += 1
        if self.momentum is None:  # cumulative average: the k-th batch gets weight 1/k
            factor = 1.0 / self.num_batches_tracked.item()
        else:
            factor = self.momentum
        unbiased = var * n / (n - 1)  # the running estimate is of the population variance
        self.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
        self.running_var.mul_(1 - factor).add_(unbiased, alpha=factor)


def compare_with_torch(options: dict | None = None, shape=(16, 4, 6, 6), batches: int = 5,
                       seed: int = 0) -> dict[str, float]:  # fmt: skip
    """Run ours and ``nn.BatchNorm2d(**options)`` on the same random batches (training mode,
    then one in evaluation mode); the largest difference in each thing they compute."""
    options = dict(options or {})
    torch.manual_seed(seed)
    ref = nn.BatchNorm2d(shape[1], **options)
    if ref.affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.normal_()
    ours = BatchNorm2d(shape[1], **options)
    ours.load_state_dict(
        ref.state_dict()
    )  # same keys: weight, bias, running_*, num_batches_tracked
    worst = dict.fromkeys(
        ("output", "input grad", "param grads", "running stats", "eval output"), 0.0
    )
    for _ in range(batches):
        x = torch.randn(shape) * 2 + 1
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), ref(xb)
        up = torch.randn_like(ya)
        (ya * up).sum().backward()
        (yb * up).sum().backward()
        worst["output"] = max(worst["output"], (ya - yb).abs().max().item())
        worst["input grad"] = max(worst["input grad"], (xa.grad - xb.grad).abs().max().item())
        if ref.affine:
            d = max((ours.weight.grad - ref.weight.grad).abs().max().item(),
                    (ours.bias.grad - ref.bias.grad).abs().max().item())  # fmt: skip
            worst["param grads"] = max(worst["param grads"], d)
        if ref.track_running_stats:
            d = max((ours.running_mean - ref.running_mean).abs().max().item(),
                    (ours.running_var - ref.running_var).abs().max().item())  # fmt: skip
            worst["running stats"] = max(worst["running stats"], d)
            if ours.num_batches_tracked.item() != ref.num_batches_tracked.item():
                worst["running stats"] = float("inf")
    ours.eval(), ref.eval()
    x = torch.randn(shape) * 2 + 1
    worst["eval output"] = (ours(x) - ref(x)).abs().max().item()
    return worst
