"""ResNet: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.

ImageNet networks (Table 1 of the paper), in torchvision's layout so its weights load:
    resnet18/34 (basic blocks), resnet50/101/152 (bottleneck blocks)
and the matching "plain" networks: the same layers without shortcuts (plain18 ... plain152).

CIFAR-style networks (Section 4.2): 6n + 2 layers on 16/32/64 channels,
    resnet20/32/44/56/110 and plain20/32/44/56/110, for CPU-sized experiments.

Deliberate choices, each an option:
* ``stride_on="conv2"`` (default) puts a bottleneck's stride on its 3x3 convolution, as
  torchvision does ("ResNet v1.5", slightly more accurate); ``"conv1"`` is the paper's choice,
  the first 1x1 convolution. Basic blocks have one place only. Same parameters either way.
* ``zero_init_residual=True`` starts every block's last BatchNorm scale at 0, so each residual
  block is the identity at initialization (Goyal et al., 2017). Off by default, as in torchvision.
* ``stem="cifar"`` replaces the ImageNet stem (7x7 at stride 2, then a max-pool: the first block
  sees a quarter of the image's side) with one 3x3 convolution at stride 1, as CIFAR networks
  do, for 32x32 images; the blocks are unchanged.
* Shortcuts that change shape: ImageNet networks use a 1x1 convolution + BN (the paper's option
  B, torchvision's ``downsample``); CIFAR networks use option A, parameter-free: subsample and
  pad the new channels with zeros, as in the paper's CIFAR experiments (Table 6 counts).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from course.models.registry import (
    check_common,
    check_input,
    check_stem,
    register,
    scaled,
    with_torchvision_weights,
)

StrideOn = Literal["conv1", "conv2"]


def conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions; ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``."""

    expansion = 1

    def __init__(
        self,
        in_ch: int,
        width: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        shortcut: bool = True,
        stride_on: StrideOn = "conv2",
    ):
        super().__init__()
        self.conv1 = conv3x3(in_ch, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample
        self.shortcut = shortcut  # False: a "plain" block, no identity path

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 (reduce to ``width``), 3x3, 1x1 (expand to ``4 * width``), plus the shortcut."""

    expansion = 4

    def __init__(
        self,
        in_ch: int,
        width: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        shortcut: bool = True,
        stride_on: StrideOn = "conv2",
    ):
        super().__init__()
        stride1, stride2 = (stride, 1) if stride_on == "conv1" else (1, stride)
        self.conv1 = conv1x1(in_ch, width, stride1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride2)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, width * self.expansion)
        self.bn3 = nn.BatchNorm2d(width * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.shortcut = shortcut

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


def init_resnet(model: nn.Module, zero_init_residual: bool) -> None:
    """He initialization for convolutions, BN at scale 1 / shift 0 (torchvision's recipe)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, (BasicBlock, Bottleneck)):
                nn.init.zeros_(m.last_bn().weight)


class ResNet(nn.Module):
    """The ImageNet ResNet: a 7x7 stem, four stages of blocks, global average pooling, one FC."""

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        in_channels: int = 3,
        width: float = 1.0,
        shortcut: bool = True,
        stride_on: StrideOn = "conv2",
        zero_init_residual: bool = False,
        stem: str = "imagenet",
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_stem(stem)
        if stride_on not in ("conv1", "conv2"):
            raise ValueError(
                f"stride_on must be 'conv1' (paper) or 'conv2' (torchvision), got {stride_on!r}"
            )  # noqa: E501
        self.in_channels = in_channels
        self._block, self._shortcut, self._stride_on = block, shortcut, stride_on
        self._in = scaled(64, width)
        if stem == "imagenet":  # 224x224 -> 56x56 before the first stage
            self.conv1 = nn.Conv2d(in_channels, self._in, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        else:  # "cifar": 32x32 stays 32x32 into the first stage
            self.conv1, self.maxpool = conv3x3(in_channels, self._in), nn.Identity()
        self.bn1 = nn.BatchNorm2d(self._in)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._stage(scaled(64, width), layers[0], stride=1)
        self.layer2 = self._stage(scaled(128, width), layers[1], stride=2)
        self.layer3 = self._stage(scaled(256, width), layers[2], stride=2)
        self.layer4 = self._stage(scaled(512, width), layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self._in, num_classes)
        init_resnet(self, zero_init_residual)

    def _stage(self, width: int, blocks: int, stride: int) -> nn.Sequential:
        out = width * self._block.expansion
        downsample = None
        if self._shortcut and (stride != 1 or self._in != out):  # projection shortcut (option B)
            downsample = nn.Sequential(conv1x1(self._in, out, stride), nn.BatchNorm2d(out))
        layers = [self._block(self._in, width, stride, downsample, self._shortcut, self._stride_on)]
        self._in = out
        layers += [self._block(out, width, 1, None, self._shortcut, self._stride_on)
                   for _ in range(blocks - 1)]  # fmt: skip
        return nn.Sequential(*layers)

    def forward(self, x):
        check_input(self, x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4); cifar: H, W
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512*e, H/32, W/32); H/8
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- CIFAR-style networks (Section 4.2) ------------------------------------------------------


class ShortcutA(nn.Module):
    """Option A: take every ``stride``-th pixel and append zero channels. No parameters."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.extra, self.stride = out_ch - in_ch, stride

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))


class CifarResNet(nn.Module):
    """6n + 2 layers: a 3x3 conv, three stages of n basic blocks on 16, 32, 64 channels (stride 2
    between stages), global average pooling, one FC. Built for 32x32 inputs; any size works."""

    def __init__(
        self,
        depth: int,
        num_classes: int = 10,
        in_channels: int = 3,
        width: float = 1.0,
        shortcut: bool = True,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110), got {depth!r}"
            )  # noqa: E501
        n = (depth - 2) // 6
        self.in_channels, self.depth = in_channels, depth
        widths = [scaled(c, width) for c in (16, 32, 64)]
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        stages, previous = [], widths[0]
        for i, w in enumerate(widths):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                down = ShortcutA(previous, w, stride) if (stride != 1 or previous != w) else None
                blocks.append(BasicBlock(previous, w, stride, down, shortcut))
                previous = w
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)
        init_resnet(self, zero_init_residual)

    def forward(self, x):
        check_input(self, x)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 16, H, W)
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, 64, H/4, W/4)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- named builders (Table 1: blocks per stage) ----------------------------------------------

STAGES = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]),
          50: (Bottleneck, [3, 4, 6, 3]), 101: (Bottleneck, [3, 4, 23, 3]),
          152: (Bottleneck, [3, 8, 36, 3])}  # fmt: skip


def _resnet(depth: int, shortcut: bool, kwargs) -> ResNet:
    block, layers = STAGES[depth]
    return ResNet(block, layers, shortcut=shortcut, **kwargs)


@register
def resnet18(*, weights=None, **kwargs) -> ResNet:
    return with_torchvision_weights(_resnet(18, True, kwargs), "resnet18", weights, **kwargs)


@register
def resnet34(*, weights=None, **kwargs) -> ResNet:
    return with_torchvision_weights(_resnet(34, True, kwargs), "resnet34", weights, **kwargs)


@register
def resnet50(*, weights=None, **kwargs) -> ResNet:
    return with_torchvision_weights(_resnet(50, True, kwargs), "resnet50", weights, **kwargs)


@register
def resnet101(*, weights=None, **kwargs) -> ResNet:
    return with_torchvision_weights(_resnet(101, True, kwargs), "resnet101", weights, **kwargs)


@register
def resnet152(*, weights=None, **kwargs) -> ResNet:
    return with_torchvision_weights(_resnet(152, True, kwargs), "resnet152", weights, **kwargs)


@register
def plain18(**kwargs) -> ResNet:
    return _resnet(18, False, kwargs)


@register
def plain34(**kwargs) -> ResNet:
    return _resnet(34, False, kwargs)


@register
def plain50(**kwargs) -> ResNet:
    return _resnet(50, False, kwargs)


@register
def plain101(**kwargs) -> ResNet:
    return _resnet(101, False, kwargs)


@register
def plain152(**kwargs) -> ResNet:
    return _resnet(152, False, kwargs)


@register
def resnet20(**kwargs) -> CifarResNet:
    return CifarResNet(20, **kwargs)


@register
def resnet32(**kwargs) -> CifarResNet:
    return CifarResNet(32, **kwargs)


@register
def resnet44(**kwargs) -> CifarResNet:
    return CifarResNet(44, **kwargs)


@register
def resnet56(**kwargs) -> CifarResNet:
    return CifarResNet(56, **kwargs)


@register
def resnet110(**kwargs) -> CifarResNet:
    return CifarResNet(110, **kwargs)


@register
def plain20(**kwargs) -> CifarResNet:
    return CifarResNet(20, shortcut=False, **kwargs)


@register
def plain32(**kwargs) -> CifarResNet:
    return CifarResNet(32, shortcut=False, **kwargs)


@register
def plain44(**kwargs) -> CifarResNet:
    return CifarResNet(44, shortcut=False, **kwargs)


@register
def plain56(**kwargs) -> CifarResNet:
    return CifarResNet(56, shortcut=False, **kwargs)


@register
def plain110(**kwargs) -> CifarResNet:
    return CifarResNet(110, shortcut=False, **kwargs)
