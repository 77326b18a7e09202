"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015.

The network is its configuration table (Table 1 of the paper): numbers are 3x3 convolutions
with that many output channels, ``"1x1-N"`` a 1x1 convolution, ``"M"`` a 2x2 max-pool.
Configurations A (VGG-11), B (VGG-13), C (VGG-16 with 1x1 convolutions), D (VGG-16) and E
(VGG-19), with or without batch norm (added later, not in the paper).

Layout and names follow torchvision (``features``, ``avgpool``, ``classifier``), so its
``vgg11`` ... ``vgg19_bn`` weights load into ``vgg11`` ... ``vgg19_bn`` here.

Options for CPU-sized experiments: ``width`` scales every channel count, ``hidden`` sets the
FC layers' size (4096 in the paper), ``fc_input`` the side of the map the FC head sees (7 in
the paper, where a 224x224 image ends as a 7x7 map; 1 for 32x32 inputs), ``head="gap"``
replaces the three FC layers by global average pooling and one linear layer ("today one
linear layer is enough").
Departure: the paper's A-LRN variant is left out (the paper found LRN did not help).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from course.models.registry import (
    check_common,
    check_dropout,
    check_input,
    register,
    scaled,
    with_torchvision_weights,
)

# Table 1, "ConvNet configuration", columns A-E.
CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1x1-256", "M",
          512, 512, "1x1-512", "M", 512, 512, "1x1-512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
          512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip
Head = Literal["fc", "gap"]


def make_features(config: list[int | str], in_channels: int, batch_norm: bool, width: float):
    """The convolutional body from a configuration: conv (+BN) + ReLU, and max-pools."""
    layers: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        kernel, out = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
        out = scaled(out, width)
        layers.append(nn.Conv2d(channels, out, kernel, padding=kernel // 2))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU(inplace=True))
        channels = out
    return nn.Sequential(*layers), channels


class VGG(nn.Module):
    def __init__(
        self,
        config: str = "D",
        num_classes: int = 1000,
        in_channels: int = 3,
        batch_norm: bool = False,
        width: float = 1.0,
        hidden: int = 4096,
        dropout: float = 0.5,
        head: Head = "fc",
        fc_input: int = 7,
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_dropout(dropout)
        if config not in CONFIGS:
            raise ValueError(f"unknown VGG config {config!r}; valid configs: {sorted(CONFIGS)}")
        if head not in ("fc", "gap"):
            raise ValueError(f"head must be 'fc' (paper: three FC layers) or 'gap', got {head!r}")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be an int >= 1 (4096 in the paper), got {hidden!r}")
        if isinstance(fc_input, bool) or not isinstance(fc_input, int) or fc_input < 1:
            raise ValueError(f"fc_input must be an int >= 1 (7 in the paper), got {fc_input!r}")
        self.in_channels, self.config = in_channels, config
        self.features, channels = make_features(CONFIGS[config], in_channels, batch_norm, width)
        if head == "fc":
            # The paper's head on a 7x7 map (224x224 input); adaptive pooling keeps other
            # input sizes working with the same weights, as in torchvision.
            self.avgpool = nn.AdaptiveAvgPool2d((fc_input, fc_input))
            self.classifier = nn.Sequential(
                nn.Linear(channels * fc_input**2, hidden),
                nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, num_classes),
            )  # fmt: skip
        else:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:  # torchvision's choice (the paper pre-trained config A)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x)
        x = self.features(x)  # (N, 512, H/32, W/32)
        x = self.avgpool(x)  # (N, 512, fc_input, fc_input) or (N, 512, 1, 1)
        return self.classifier(torch.flatten(x, 1))


@register
def vgg11(*, weights=None, **kwargs) -> VGG:
    model = VGG("A", **kwargs)
    return with_torchvision_weights(model, "vgg11", weights, **kwargs)


@register
def vgg13(*, weights=None, **kwargs) -> VGG:
    model = VGG("B", **kwargs)
    return with_torchvision_weights(model, "vgg13", weights, **kwargs)


@register
def vgg16_c(**kwargs) -> VGG:
    """Configuration C: VGG-16 whose last conv in stages 3-5 is 1x1 (not in torchvision)."""
    return VGG("C", **kwargs)


@register
def vgg16(*, weights=None, **kwargs) -> VGG:
    model = VGG("D", **kwargs)
    return with_torchvision_weights(model, "vgg16", weights, **kwargs)


@register
def vgg19(*, weights=None, **kwargs) -> VGG:
    model = VGG("E", **kwargs)
    return with_torchvision_weights(model, "vgg19", weights, **kwargs)


@register
def vgg11_bn(*, weights=None, **kwargs) -> VGG:
    model = VGG("A", batch_norm=True, **kwargs)
    return with_torchvision_weights(model, "vgg11_bn", weights, **kwargs)


@register
def vgg13_bn(*, weights=None, **kwargs) -> VGG:
    model = VGG("B", batch_norm=True, **kwargs)
    return with_torchvision_weights(model, "vgg13_bn", weights, **kwargs)


@register
def vgg16_bn(*, weights=None, **kwargs) -> VGG:
    model = VGG("D", batch_norm=True, **kwargs)
    return with_torchvision_weights(model, "vgg16_bn", weights, **kwargs)


@register
def vgg19_bn(*, weights=None, **kwargs) -> VGG:
    model = VGG("E", batch_norm=True, **kwargs)
    return with_torchvision_weights(model, "vgg19_bn", weights, **kwargs)
