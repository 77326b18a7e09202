"""Inception-BN (BN-Inception, "Inception v2"): Ioffe & Szegedy, "Batch Normalization:
Accelerating Deep Network Training by Reducing Internal Covariate Shift", ICML 2015.

GoogLeNet changed as the paper's Appendix (Figure 5) says: batch norm after every convolution
(before the ReLU); each 5x5 convolution replaced by two stacked 3x3 ("double 3x3", same
receptive field, fewer weights); average pooling in most blocks' pool branch; blocks 3c and 4e
halve the resolution themselves (stride-2 convolutions beside a max-pool that passes its input
through) instead of GoogLeNet's separate max-pools; 28x28 blocks 3a-3c, 14x14 blocks 4a-4e,
7x7 blocks 5a-5b. No torchvision model provides it.

``stem="cifar"``: a 3x3 first convolution at stride 1 and no max-pool after it, for 32x32
images (blocks on 16x16, 8x8 and 4x4 maps), as ``googlenet``'s option.

Departures: the paper's auxiliary classifiers are not specified in Figure 5 and are left out;
dropout is off by default, as the paper's accelerated BN networks removed it (Section 4.2.1).
"""

from __future__ import annotations

import torch
from torch import nn

from course.models.googlenet import ConvBlock
from course.models.registry import (
    check_common,
    check_dropout,
    check_input,
    check_stem,
    register,
    scaled,
)

# Figure 5: #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool, proj, stride.
# proj 0 with a max pool means "pass through"; #1x1 0 means no 1x1 branch.
BN_INCEPTION_TABLE: dict[str, tuple[int, int, int, int, int, str, int, int]] = {
    "3a": (64, 64, 64, 64, 96, "avg", 32, 1),
    "3b": (64, 64, 96, 64, 96, "avg", 64, 1),
    "3c": (0, 128, 160, 64, 96, "max", 0, 2),
    "4a": (224, 64, 96, 96, 128, "avg", 128, 1),
    "4b": (192, 96, 128, 96, 128, "avg", 128, 1),
    "4c": (160, 128, 160, 128, 160, "avg", 128, 1),
    "4d": (96, 128, 192, 160, 192, "avg", 128, 1),
    "4e": (0, 128, 192, 192, 256, "max", 0, 2),
    "5a": (352, 192, 320, 160, 224, "avg", 128, 1),
    "5b": (352, 192, 320, 192, 224, "max", 128, 1),
}


class InceptionBN(nn.Module):
    """1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | pool (-> 1x1), with batch norm; stride 1 or 2."""

    def __init__(self, in_ch: int, c1: int, r3: int, c3: int, rd: int, cd: int, pool: str,
                 proj: int, stride: int = 1):  # fmt: skip
        super().__init__()
        conv = lambda i, o, k, s=1: ConvBlock(i, o, True, kernel_size=k, stride=s, padding=k // 2)  # noqa: E731
        self.branch1 = conv(in_ch, c1, 1) if c1 else None
        self.branch2 = nn.Sequential(conv(in_ch, r3, 1), conv(r3, c3, 3, stride))
        self.branch3 = nn.Sequential(conv(in_ch, rd, 1), conv(rd, cd, 3), conv(cd, cd, 3, stride))
        pooling = nn.AvgPool2d if pool == "avg" else nn.MaxPool2d
        pool_layer = pooling(3, stride=stride, padding=1)
        self.branch4 = nn.Sequential(pool_layer, conv(in_ch, proj, 1)) if proj else pool_layer
        self.out_channels = c1 + c3 + cd + (proj or in_ch)

    def branches(self, x) -> list[torch.Tensor]:
        first = [self.branch1(x)] if self.branch1 is not None else []
        return first + [self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)


class InceptionBNNet(nn.Module):
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 dropout: float = 0.0, stem: str = "imagenet"):  # fmt: skip
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_stem(stem)
        check_dropout(dropout)
        self.in_channels = in_channels
        s = lambda c: scaled(c, width)  # noqa: E731
        if stem == "imagenet":  # 224x224 -> 56x56
            first = [ConvBlock(in_channels, s(64), True, kernel_size=7, stride=2, padding=3),
                     nn.MaxPool2d(3, stride=2, ceil_mode=True)]  # fmt: skip
        else:  # "cifar": 32x32 stays 32x32 until the max-pool below
            first = [ConvBlock(in_channels, s(64), True, kernel_size=3, padding=1)]
        self.stem = nn.Sequential(
            *first,
            ConvBlock(s(64), s(64), True, kernel_size=1),
            ConvBlock(s(64), s(192), True, kernel_size=3, padding=1),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (N, 192, 28, 28)
        )
        blocks, channels = {}, s(192)
        for name, (c1, r3, c3, rd, cd, pool, proj, stride) in BN_INCEPTION_TABLE.items():
            block = InceptionBN(channels, s(c1) if c1 else 0, s(r3), s(c3), s(rd), s(cd), pool,
                                s(proj) if proj else 0, stride)  # fmt: skip
            blocks[f"inception{name}"] = block
            channels = block.out_channels
        self.blocks = nn.Sequential(*blocks.values())  # 3a ... 5b: (N, 1024, 7, 7)
        self.block_names = list(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x)
        x = self.blocks(self.stem(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


@register
def inception_bn(**kwargs) -> InceptionBNNet:
    return InceptionBNNet(**kwargs)
