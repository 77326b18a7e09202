"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", NeurIPS 2012.

Three forms of one network:

* ``alexnet`` -- torchvision's layout (Krizhevsky's later single-tower "one weird trick"
  variant: 64-192-384-256-256 filters, no LRN), so torchvision's weights load. 61,100,840
  parameters.
* ``alexnet_paper`` -- the 2012 paper's network (Figure 2), its two GPU towers written as
  grouped convolutions (``groups=2``) where the towers do not talk (conv2, conv4, conv5), full
  convolutions where they do (conv3 and the FC layers), and local response normalization per
  tower after conv1 and conv2. 60,965,224 parameters for 227x227 inputs and 1000 classes.
* ``alexnet_two_tower`` -- the same network as two explicit towers, each on its own device,
  exchanging activations exactly where the paper's GPUs did. It computes the same outputs as
  ``alexnet_paper`` given the same weights (``AlexNetTwoTower.from_grouped``).

Departures, each documented where it happens: the input is 227x227 (the paper says 224, but
only 227 gives its 55x55 first map); adaptive average pooling before the classifier lets other
input sizes through (identity at 227x227); PyTorch's LRN divides ``alpha`` by the window size,
so the paper's alpha=1e-4 is passed as 5e-4.
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

Activation = Literal["relu", "tanh"]
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0  # Section 3.3


def activation_layer(name: Activation) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"activation must be 'relu' or 'tanh', got {name!r}")


class AlexNet(nn.Module):
    """torchvision's single-tower AlexNet (same module names, so its weights load)."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 4096,
        activation: Activation = "relu",
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_dropout(dropout)
        self.in_channels = in_channels
        c = [scaled(n, width) for n in (64, 192, 384, 256, 256)]
        act = lambda: activation_layer(activation)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c[0], 11, stride=4, padding=2), act(),  # (N, 64, 55, 55)
            nn.MaxPool2d(3, stride=2),                                     # (N, 64, 27, 27)
            nn.Conv2d(c[0], c[1], 5, padding=2), act(),                    # (N, 192, 27, 27)
            nn.MaxPool2d(3, stride=2),                                     # (N, 192, 13, 13)
            nn.Conv2d(c[1], c[2], 3, padding=1), act(),                    # (N, 384, 13, 13)
            nn.Conv2d(c[2], c[3], 3, padding=1), act(),                    # (N, 256, 13, 13)
            nn.Conv2d(c[3], c[4], 3, padding=1), act(),                    # (N, 256, 13, 13)
            nn.MaxPool2d(3, stride=2),                                     # (N, 256, 6, 6)
        )  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c[4] * 6 * 6, hidden), act(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), act(),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip

    def forward(self, x):
        check_input(self, x)
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class TowerLRN(nn.Module):
    """Local response normalization within each tower's channels (each GPU normalized its own
    maps), Section 3.3: ``b = a / (k + alpha * sum of a^2 over 5 neighbouring maps)^beta``."""

    def __init__(self, towers: int = 2):
        super().__init__()
        self.towers = towers
        # PyTorch divides alpha by the window size; the paper does not.
        self.lrn = nn.LocalResponseNorm(
            LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_K
        )

    def forward(self, x):
        return torch.cat([self.lrn(part) for part in x.chunk(self.towers, dim=1)], dim=1)


def init_paper(model: nn.Module, bias_one: list[nn.Module]) -> None:
    """Section 5: weights from N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden FC
    layers (so ReLUs start with positive inputs), 0 elsewhere."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.constant_(m.bias, 1.0 if any(m is b for b in bias_one) else 0.0)


class AlexNetPaper(nn.Module):
    """The 2012 two-tower network, towers as groups=2 (see the module docstring)."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 4096,
        activation: Activation = "relu",
        lrn: bool = True,
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_dropout(dropout)
        self.in_channels = in_channels
        c = [2 * scaled(n // 2, width) for n in (96, 256, 384, 384, 256)]  # even: two towers
        self.act = activation_layer(activation)  # stateless, so one module serves every layer
        self.norm = TowerLRN(2) if lrn else nn.Identity()
        self.pool = nn.MaxPool2d(3, stride=2)  # overlapping pooling, Section 3.4
        self.conv1 = nn.Conv2d(in_channels, c[0], 11, stride=4)  # (N, 96, 55, 55)
        self.conv2 = nn.Conv2d(c[0], c[1], 5, padding=2, groups=2)  # (N, 256, 27, 27)
        self.conv3 = nn.Conv2d(c[1], c[2], 3, padding=1)  # the towers exchange here
        self.conv4 = nn.Conv2d(c[2], c[3], 3, padding=1, groups=2)  # (N, 384, 13, 13)
        self.conv5 = nn.Conv2d(c[3], c[4], 3, padding=1, groups=2)  # (N, 256, 13, 13)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.dropout = nn.Dropout(dropout)
        self.fc6 = nn.Linear(c[4] * 6 * 6, hidden)  # the towers exchange before each FC layer
        self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, num_classes)
        init_paper(self, bias_one=[self.conv2, self.conv4, self.conv5, self.fc6, self.fc7])

    def forward(self, x):
        check_input(self, x)
        x = self.pool(self.norm(self.act(self.conv1(x))))  # (N, 96, 27, 27)
        x = self.pool(self.norm(self.act(self.conv2(x))))  # (N, 256, 13, 13)
        x = self.act(self.conv3(x))  # (N, 384, 13, 13)
        x = self.act(self.conv4(x))
        x = self.pool(self.act(self.conv5(x)))  # (N, 256, 6, 6)
        x = torch.flatten(self.avgpool(x), 1)  # (N, 9216)
        x = self.act(self.fc6(self.dropout(x)))
        x = self.act(self.fc7(self.dropout(x)))
        return self.fc8(x)


class Tower(nn.Module):
    """One GPU's half of the 2012 network."""

    def __init__(
        self,
        in_channels: int,
        c: list[int],
        hidden: int,
        dropout: float,
        activation: Activation,
        lrn: bool,
    ):
        super().__init__()
        act = lambda: activation_layer(activation)  # noqa: E731
        norm = lambda: TowerLRN(1) if lrn else nn.Identity()  # noqa: E731
        half = [n // 2 for n in c]
        self.lower = nn.Sequential(  # conv1, conv2: this tower's input only
            nn.Conv2d(in_channels, half[0], 11, stride=4), act(), norm(), nn.MaxPool2d(3, 2),
            nn.Conv2d(half[0], half[1], 5, padding=2), act(), norm(), nn.MaxPool2d(3, 2),
        )  # fmt: skip
        self.conv3 = nn.Conv2d(c[1], half[2], 3, padding=1)  # sees both towers
        self.upper = nn.Sequential(  # conv4, conv5: this tower's conv3 output only
            act(), nn.Conv2d(half[2], half[3], 3, padding=1), act(),
            nn.Conv2d(half[3], half[4], 3, padding=1), act(), nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d((6, 6)),
        )  # fmt: skip
        self.fc6 = nn.Sequential(nn.Dropout(dropout), nn.Linear(c[4] * 36, hidden // 2), act())
        self.fc7 = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, hidden // 2), act())


class AlexNetTwoTower(nn.Module):
    """The 2012 network as two towers on two devices. ``crossings`` lists what the devices
    exchange; the outputs equal ``AlexNetPaper``'s with the same weights."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 4096,
        activation: Activation = "relu",
        lrn: bool = True,
        devices: tuple[str, str] = ("cpu", "cpu"),
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_dropout(dropout)
        if hidden % 2:
            raise ValueError(f"hidden must be even (split over two towers), got {hidden}")
        self.in_channels = in_channels
        c = [2 * scaled(n // 2, width) for n in (96, 256, 384, 384, 256)]
        self.tower_a = Tower(in_channels, c, hidden, dropout, activation, lrn)
        self.tower_b = Tower(in_channels, c, hidden, dropout, activation, lrn)
        self.fc8 = nn.Linear(hidden, num_classes)  # on tower A's device
        self.place(devices)

    def place(self, devices: tuple[str, str]) -> AlexNetTwoTower:
        """Move tower A to ``devices[0]`` and tower B (and nothing else) to ``devices[1]``."""
        if not isinstance(devices, (tuple, list)) or len(devices) != 2:
            raise ValueError(
                f"devices must be a pair such as ('cuda:0', 'cuda:1'), got {devices!r}"
            )  # noqa: E501
        self.devices = tuple(torch.device(d) for d in devices)
        self.tower_a.to(self.devices[0])
        self.fc8.to(self.devices[0])
        self.tower_b.to(self.devices[1])
        return self

    def forward(self, x):
        check_input(self, x)
        da, db = self.devices
        a, b = self.tower_a.lower(x.to(da)), self.tower_b.lower(x.to(db))  # (N, 128, 13, 13) each
        both_a, both_b = torch.cat([a, b.to(da)], 1), torch.cat([a.to(db), b], 1)  # exchange 1
        a = self.tower_a.upper(self.tower_a.conv3(both_a))  # (N, 128, 6, 6)
        b = self.tower_b.upper(self.tower_b.conv3(both_b))
        fa, fb = torch.flatten(a, 1), torch.flatten(b, 1)
        both_a, both_b = torch.cat([fa, fb.to(da)], 1), torch.cat([fa.to(db), fb], 1)  # exchange 2
        a, b = self.tower_a.fc6(both_a), self.tower_b.fc6(both_b)  # (N, 2048) each
        both_a, both_b = torch.cat([a, b.to(da)], 1), torch.cat([a.to(db), b], 1)  # exchange 3
        a, b = self.tower_a.fc7(both_a), self.tower_b.fc7(both_b)
        return self.fc8(torch.cat([a, b.to(da)], 1))  # exchange 4: B's fc7 to A for fc8

    @staticmethod
    def crossings(
        input_size: int = 227, hidden: int = 4096, width: float = 1.0
    ) -> list[tuple[str, tuple]]:  # noqa: E501
        """What each tower sends to the other per image: (where, shape)."""
        c = [2 * scaled(n // 2, width) for n in (96, 256, 384, 384, 256)]
        probe = Tower(3, c, hidden, 0.0, "relu", lrn=False).lower
        side = probe(torch.zeros(1, 3, input_size, input_size)).shape[-1]
        return [
            ("pooled conv2 output, into the other tower's conv3", (c[1] // 2, side, side)),
            ("pooled conv5 output, into the other tower's fc6", (c[4] // 2 * 36,)),
            ("fc6 output, into the other tower's fc7", (hidden // 2,)),
            ("tower B's fc7 output, into fc8", (hidden // 2,)),
        ]

    @classmethod
    def from_grouped(cls, grouped: AlexNetPaper, devices=("cpu", "cpu")) -> AlexNetTwoTower:
        """Split a grouped ``AlexNetPaper``'s weights into two explicit towers."""
        c_out = grouped.conv1.out_channels
        model = cls(num_classes=grouped.fc8.out_features, in_channels=grouped.in_channels,
                    hidden=grouped.fc7.out_features,
                    width=c_out / 96, lrn=any(isinstance(m, TowerLRN) for m in grouped.modules()),
                    activation="tanh" if any(isinstance(m, nn.Tanh) for m in grouped.modules())
                    else "relu")  # fmt: skip
        pairs = [(grouped.conv1, model.tower_a.lower[0], model.tower_b.lower[0]),
                 (grouped.conv2, model.tower_a.lower[4], model.tower_b.lower[4]),
                 (grouped.conv3, model.tower_a.conv3, model.tower_b.conv3),
                 (grouped.conv4, model.tower_a.upper[1], model.tower_b.upper[1]),
                 (grouped.conv5, model.tower_a.upper[3], model.tower_b.upper[3]),
                 (grouped.fc6, model.tower_a.fc6[1], model.tower_b.fc6[1]),
                 (grouped.fc7, model.tower_a.fc7[1], model.tower_b.fc7[1])]  # fmt: skip
        with torch.no_grad():
            for whole, part_a, part_b in pairs:  # output rows: first half A, second half B
                weight_a, weight_b = whole.weight.chunk(2, dim=0)
                bias_a, bias_b = whole.bias.chunk(2, dim=0)
                part_a.weight.copy_(weight_a), part_a.bias.copy_(bias_a)
                part_b.weight.copy_(weight_b), part_b.bias.copy_(bias_b)
            model.fc8.load_state_dict(grouped.fc8.state_dict())
        return model.place(devices)


class AlexNetSmall(nn.Module):
    """AlexNet's design at CPU size, for 24-32 px inputs (Fashion-MNIST, CIFAR): five
    convolutions in two towers (``groups=2`` where the paper's GPUs did not talk), ReLU,
    per-tower LRN, overlapping 3x3/2 max-pooling, three FC layers with dropout. Kernels are
    5x5 and 3x3 with stride 1: an 11x11/4 first layer would leave nothing of a 28 px image."""

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 512,
        activation: Activation = "relu",
        lrn: bool = True,
    ):
        super().__init__()
        check_common(num_classes, in_channels, width)
        check_dropout(dropout)
        self.in_channels = in_channels
        c = [2 * scaled(n // 2, width) for n in (64, 128, 192, 192, 128)]
        self.act = activation_layer(activation)
        self.norm = TowerLRN(2) if lrn else nn.Identity()
        self.pool = nn.MaxPool2d(3, stride=2)
        self.conv1 = nn.Conv2d(in_channels, c[0], 5, padding=2)  # (N, 64, 24, 24) at 24 px
        self.conv2 = nn.Conv2d(c[0], c[1], 5, padding=2, groups=2)  # (N, 128, 11, 11)
        self.conv3 = nn.Conv2d(c[1], c[2], 3, padding=1)  # (N, 192, 5, 5), towers exchange
        self.conv4 = nn.Conv2d(c[2], c[3], 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(c[3], c[4], 3, padding=1, groups=2)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.dropout = nn.Dropout(dropout)
        self.fc6 = nn.Linear(c[4] * 4, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, num_classes)
        for m in self.modules():  # He initialization: the paper's N(0, 0.01) is for 227 px
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nonlinearity = "tanh" if activation == "tanh" else "relu"
                nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x)
        x = self.pool(self.norm(self.act(self.conv1(x))))
        x = self.pool(self.norm(self.act(self.conv2(x))))
        x = self.act(self.conv4(self.act(self.conv3(x))))
        x = self.pool(self.act(self.conv5(x)))  # (N, 128, 2, 2) at 24 px
        x = torch.flatten(self.avgpool(x), 1)
        x = self.act(self.fc6(self.dropout(x)))
        x = self.act(self.fc7(self.dropout(x)))
        return self.fc8(x)


@register
def alexnet_small(**kwargs) -> AlexNetSmall:
    return AlexNetSmall(**kwargs)


@register
def alexnet(*, weights=None, **kwargs) -> AlexNet:
    return with_torchvision_weights(AlexNet(**kwargs), "alexnet", weights, **kwargs)


@register
def alexnet_paper(**kwargs) -> AlexNetPaper:
    return AlexNetPaper(**kwargs)


@register
def alexnet_two_tower(**kwargs) -> AlexNetTwoTower:
    return AlexNetTwoTower(**kwargs)
