"""A plain ten-layer CNN for the batch-norm experiments (notebook 07): 3x3 convolutions, the
activation of your choice, batch norm on or off, nothing else (no shortcuts, no dropout).

    model = plain_cnn(batch_norm=True, activation=nn.Tanh)     # (N, 1, 28, 28) -> (N, 10)

Not an architecture of a paper, so not in the registry: it is the smallest network deep enough
to show what the Inception-BN paper is about.
"""

from __future__ import annotations

from torch import nn

WIDTHS = (16, 16, 16, 32, 32, 32, 64, 64, 64, 64)  # ten conv layers
POOL_BEFORE = (3, 6)  # 2x2 max pooling before these layers: 28 -> 14 -> 7


def plain_cnn(batch_norm: bool, activation: type[nn.Module] = nn.ReLU,
              norm: type[nn.Module] = nn.BatchNorm2d, in_channels: int = 1,
              num_classes: int = 10) -> nn.Sequential:  # fmt: skip
    """Conv (no bias with batch norm: its shift replaces it) -> [norm] -> activation, ten
    times; global average pooling; one linear classifier. ``norm`` may be any class taking
    the channel count, e.g. ``course.from_scratch.batchnorm.BatchNorm2d``."""
    layers, channels = [], in_channels
    for i, width in enumerate(WIDTHS):
        if i in POOL_BEFORE:
            layers.append(nn.MaxPool2d(2))
        layers.append(nn.Conv2d(channels, width, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(norm(width))
        layers.append(activation())
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def four_layer_cnn(activation: str = "relu", in_channels: int = 1,
                   num_classes: int = 10) -> nn.Sequential:  # fmt: skip
    """The kind of network of the AlexNet paper's Figure 1 (ReLU vs tanh): three convolutions
    and a linear classifier, no normalization, no dropout. (N, 1, 28, 28) -> (N, 10)."""
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}.get(activation)
    if act is None:
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 5, padding=2), act(), nn.MaxPool2d(2),  # (N, 32, 14, 14)
        nn.Conv2d(32, 64, 5, padding=2), act(), nn.MaxPool2d(2),  # (N, 64, 7, 7)
        nn.Conv2d(64, 64, 3, padding=1), act(),  # (N, 64, 7, 7)
        nn.Flatten(), nn.Linear(64 * 7 * 7, num_classes),
    )  # fmt: skip
