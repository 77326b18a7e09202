"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015.

The Inception block, in both forms of the paper's Figure 2:
* ``InceptionNaive`` -- 1x1, 3x3 and 5x5 convolutions and a 3x3 max-pool side by side,
  concatenated along the channels;
* ``Inception`` -- the same with 1x1 "bottleneck" convolutions before the 3x3 and 5x5 and after
  the pool, which cut parameters and multiply-adds several times.

Two networks built from the paper's channel table (Table 1):
* ``googlenet_paper`` -- as in the paper: no batch norm, a real 5x5 branch, LRN in the stem,
  two auxiliary classifiers on 4a and 4d (5x5/3 average pool, 1x1 conv with 128 filters, FC
  1024, 70% dropout), global average pooling, 40% dropout before the last FC layer.
* ``googlenet`` -- torchvision's layout (batch norm everywhere, a 3x3 conv where the paper's
  5x5 branch is, no LRN, adaptive pooling in the auxiliary heads), so its weights load.

Output convention (``course.models.AuxOutputs``): in training mode with ``aux_logits=True``
the model returns ``AuxOutputs(logits, (aux1, aux2))``; in evaluation mode, or with
``aux_logits=False``, the main logits only. The auxiliary heads cost no time at inference.

``stem="cifar"`` (both layouts) makes the first convolution a 3x3 at stride 1 and drops the max-pool
after it, for 32x32 images: the blocks then see 16x16, 8x8 and 4x4 maps instead of 4x4, 2x2
and 1x1 (at 224x224 with the ImageNet stem: 28x28, 14x14, 7x7).

Departures: weights start from He initialization (the paper trained with DistBelief and does not
say); the auxiliary heads' 5x5 pooling falls back to adaptive pooling on maps smaller than 5x5
(small inputs), which is the same operation at 224x224.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from course.data.imagenet import IMAGENET_MEAN, IMAGENET_STD
from course.models.registry import (
    AuxOutputs,
    check_common,
    check_dropout,
    check_input,
    check_stem,
    register,
    scaled,
    with_torchvision_weights,
)

Layout = Literal["paper", "torchvision"]

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj. Output = #1x1+#3x3+#5x5+proj.
INCEPTION_TABLE: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


class ConvBlock(nn.Module):
    """Convolution (+ batch norm) + ReLU; named ``conv``/``bn`` as torchvision's BasicConv2d."""

    def __init__(self, in_ch: int, out_ch: int, batch_norm: bool = False, **conv_kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, bias=not batch_norm, **conv_kwargs)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001) if batch_norm else None

    def forward(self, x):
        x = self.conv(x)
        return F.relu(self.bn(x) if self.bn is not None else x, inplace=True)


class InceptionNaive(nn.Module):
    """Figure 2(a): every branch sees all input channels; the pool passes them all through,
    so the output has ``c1 + c3 + c5 + in_ch`` channels."""

    def __init__(self, in_ch: int, c1: int, c3: int, c5: int):
        super().__init__()
        self.branch1 = ConvBlock(in_ch, c1, kernel_size=1)
        self.branch2 = ConvBlock(in_ch, c3, kernel_size=3, padding=1)
        self.branch3 = ConvBlock(in_ch, c5, kernel_size=5, padding=2)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)
        self.out_channels = c1 + c3 + c5 + in_ch

    def branches(self, x) -> list[torch.Tensor]:
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)


class Inception(nn.Module):
    """Figure 2(b): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, concatenated."""

    def __init__(self, in_ch: int, c1: int, r3: int, c3: int, r5: int, c5: int, proj: int,
                 batch_norm: bool = False, kernel5: int = 5):  # fmt: skip
        super().__init__()
        self.branch1 = ConvBlock(in_ch, c1, batch_norm, kernel_size=1)
        self.branch2 = nn.Sequential(
            ConvBlock(in_ch, r3, batch_norm, kernel_size=1),
            ConvBlock(r3, c3, batch_norm, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(  # torchvision: kernel5=3 (its known, kept bug)
            ConvBlock(in_ch, r5, batch_norm, kernel_size=1),
            ConvBlock(r5, c5, batch_norm, kernel_size=kernel5, padding=kernel5 // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            ConvBlock(in_ch, proj, batch_norm, kernel_size=1),
        )
        self.out_channels = c1 + c3 + c5 + proj

    def branches(self, x) -> list[torch.Tensor]:
        """The four branch outputs before concatenation (same height and width)."""
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: pool to 4x4, 1x1 conv (128), FC 1024, dropout 70%, FC."""

    def __init__(self, in_ch: int, num_classes: int, batch_norm: bool, paper_pool: bool,
                 width: float = 1.0, dropout: float = 0.7):  # fmt: skip
        super().__init__()
        self.paper_pool = paper_pool
        self.conv = ConvBlock(in_ch, scaled(128, width), batch_norm, kernel_size=1)
        self.fc1 = nn.Linear(scaled(128, width) * 16, scaled(1024, width))
        self.fc2 = nn.Linear(scaled(1024, width), num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        if self.paper_pool and min(x.shape[-2:]) >= 5:
            x = F.avg_pool2d(x, 5, stride=3)  # (N, C, 4, 4) from 14x14
        x = F.adaptive_avg_pool2d(x, 4)
        x = torch.flatten(self.conv(x), 1)  # (N, 2048)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 layout: Layout = "paper", aux_logits: bool = True, dropout: float | None = None,
                 dropout_aux: float = 0.7, width: float = 1.0,
                 transform_input: bool = False, stem: str = "imagenet"):  # fmt: skip
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_stem(stem)
        if layout not in ("paper", "torchvision"):
            raise ValueError(f"layout must be 'paper' or 'torchvision', got {layout!r}")
        paper = layout == "paper"
        dropout = (0.4 if paper else 0.2) if dropout is None else dropout
        check_dropout(dropout)
        check_dropout(dropout_aux, "dropout_aux")
        self.in_channels, self.layout, self.aux_logits = in_channels, layout, aux_logits
        self.transform_input = transform_input  # torchvision's pretrained weights expect it
        bn = not paper
        s = lambda c: scaled(c, width)  # noqa: E731
        if stem == "imagenet":  # 224x224 -> 56x56 before conv2
            self.conv1 = ConvBlock(in_channels, s(64), bn, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        else:  # "cifar": 32x32 stays 32x32 until maxpool2
            self.conv1 = ConvBlock(in_channels, s(64), bn, kernel_size=3, padding=1)
            self.maxpool1 = nn.Identity()
        self.conv2 = ConvBlock(s(64), s(64), bn, kernel_size=1)
        self.conv3 = ConvBlock(s(64), s(192), bn, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        # The paper's stem normalizes after the first pool and after conv3 (Figure 3).
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75) if paper else nn.Identity()

        channels = s(192)
        for name, row in INCEPTION_TABLE.items():
            block = Inception(
                channels, *(s(c) for c in row), batch_norm=bn, kernel5=5 if paper else 3
            )
            setattr(self, f"inception{name}", block)
            channels = block.out_channels
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool4 = (
            nn.MaxPool2d(3, 2, ceil_mode=True) if paper else nn.MaxPool2d(2, 2, ceil_mode=True)
        )

        if aux_logits:
            aux_in = (self.inception4a.out_channels, self.inception4d.out_channels)
            self.aux1 = InceptionAux(aux_in[0], num_classes, bn, paper, width, dropout_aux)
            self.aux2 = InceptionAux(aux_in[1], num_classes, bn, paper, width, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _transform(self, x):
        # torchvision's weights were ported from a model that expected inputs in [-1, 1]; this
        # maps ImageNet-normalized inputs there (only with transform_input=True).
        mean, std = x.new_tensor(IMAGENET_MEAN), x.new_tensor(IMAGENET_STD)
        return x * (std / 0.5).view(1, 3, 1, 1) + ((mean - 0.5) / 0.5).view(1, 3, 1, 1)

    def forward(self, x):
        check_input(self, x)
        if self.transform_input:
            x = self._transform(x)
        x = self.lrn(self.maxpool1(self.conv1(x)))  # (N, 64, 56, 56)
        x = self.maxpool2(self.lrn(self.conv3(self.conv2(x))))  # (N, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, 480, 14, 14)
        x = self.inception4a(x)  # (N, 512, 14, 14)
        aux = []
        if self.training and self.aux1 is not None:
            aux.append(self.aux1(x))
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, 14, 14)
        if self.training and self.aux2 is not None:
            aux.append(self.aux2(x))
        x = self.maxpool4(self.inception4e(x))  # (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))  # (N, 1024, 7, 7)
        logits = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return AuxOutputs(logits, tuple(aux)) if aux else logits


@register
def googlenet_paper(**kwargs) -> GoogLeNet:
    return GoogLeNet(layout="paper", **kwargs)


@register
def googlenet(*, weights=None, **kwargs) -> GoogLeNet:
    """torchvision's GoogLeNet layout; ``aux_logits=True`` by default here (torchvision's
    own default is False: its pretrained weights have untrained auxiliary heads). With
    ``weights``, inputs are mapped as those weights expect (``transform_input``), as in
    torchvision."""
    if weights is not None:
        kwargs.setdefault("transform_input", True)
    model = GoogLeNet(layout="torchvision", **kwargs)
    return with_torchvision_weights(model, "googlenet", weights, **kwargs)
