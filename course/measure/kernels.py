"""What a layer's kernels look like, in numbers: smooth or noisy, grey or coloured. For
first-layer kernels (out, in, k, k), trained or not."""

from __future__ import annotations

import torch

# Notebook 01's four hand-made 3x3 kernels, for comparison with learned ones.
HAND_MADE_KERNELS = {
    "vertical edges (Sobel x)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges (Sobel y)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "blur (box)": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}


def hand_made_kernels() -> torch.Tensor:
    """``HAND_MADE_KERNELS`` as the weight of a ``Conv2d(1, 4, 3)``: (4, 1, 3, 3)."""
    return torch.tensor(list(HAND_MADE_KERNELS.values())).unsqueeze(1)


def _check(weight: torch.Tensor) -> torch.Tensor:
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        got = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight must be kernels (out, in, k, k), got {got}")
    return weight.detach().float().cpu()


def neighbour_correlation(weight: torch.Tensor) -> dict[str, float]:
    """The correlation between horizontally and between vertically neighbouring weights, over
    all kernels (each kernel's mean removed): about 0 for random kernels, high for smooth
    patterns such as edge detectors."""
    w = _check(weight).flatten(0, 1)  # (kernels, k, k)
    w = w - w.mean(dim=(1, 2), keepdim=True)

    def correlation(a, b):
        return torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1].item()

    return {
        "horizontal": correlation(w[:, :, :-1], w[:, :, 1:]),
        "vertical": correlation(w[:, :-1, :], w[:, 1:, :]),
    }


def colour_share(weight: torch.Tensor) -> torch.Tensor:
    """Per kernel of an RGB layer (out, 3, k, k), the share of its squared weights that is not
    the same in the three channels: 0 for a grey kernel (it sees brightness only), larger for a
    colour-specific one."""
    w = _check(weight)
    if w.shape[1] != 3:
        raise ValueError(f"colour_share needs kernels of 3 input channels, got {w.shape[1]}")
    grey = w.mean(dim=1, keepdim=True)
    return ((w - grey) ** 2).sum(dim=(1, 2, 3)) / (w**2).sum(dim=(1, 2, 3)).clamp_min(1e-12)
