"""Convolution arithmetic: output size, trainable parameters, multiply-accumulates, receptive field.

Everything here agrees with what ``torch.nn.Conv2d`` does (the tests check it over thousands of
random settings). Sizes are (height, width) pairs; a single int means a square.

For one dimension with input size ``n``, kernel ``k``, padding ``p_lo + p_hi``, stride ``s`` and
dilation ``d`` (PyTorch's documentation, ``nn.Conv2d``):

    the dilated kernel spans   k_eff = d * (k - 1) + 1   input pixels
    output size                n_out = floor((n + p_lo + p_hi - k_eff) / s) + 1

A layer with ``C_in`` input and ``C_out`` output channels in ``g`` groups has

    parameters = C_out * (C_in / g) * k_h * k_w  (+ C_out biases)
    MACs       = H_out * W_out * C_out * (C_in / g) * k_h * k_w   per image

(one multiply-accumulate per kernel weight per output value; adding the bias is not counted,
as in ``torch.utils.flop_counter``, which reports FLOPs = 2 x MACs).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from course.checks import as_int

Pair = tuple[int, int]
PerSide = tuple[Pair, Pair]  # ((top, bottom), (left, right))
PaddingArg = int | Pair | PerSide | str
PADDING_WORDS = ("same", "valid")


def _int(value, name: str, minimum: int) -> int:
    return as_int(value, name, minimum)


def as_pair(value, name: str, minimum: int = 1) -> Pair:
    """``3`` -> ``(3, 3)``; ``(3, 5)`` stays; anything else is a ``ValueError`` naming ``name``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
        return (_int(value[0], f"{name}[0] (height)", minimum),
                _int(value[1], f"{name}[1] (width)", minimum))  # fmt: skip
    value = _int(value, name, minimum)
    return (value, value)


def dilated_extent(kernel: int, dilation: int) -> int:
    """How many input pixels a kernel of ``kernel`` taps spans with dilation ``dilation``."""
    return dilation * (kernel - 1) + 1


@dataclass(frozen=True)
class ConvSpec:
    """The settings of one ``nn.Conv2d``, checked and normalized to (height, width) pairs.

    ``padding`` may be an int, a (height, width) pair (each applied on both sides, as in
    ``nn.Conv2d``), per-side pairs ``((top, bottom), (left, right))``, or ``"same"``/``"valid"``.
    """

    in_channels: int
    out_channels: int
    kernel_size: Pair | int
    stride: Pair | int = 1
    padding: PaddingArg = 0
    dilation: Pair | int = 1
    groups: int = 1
    bias: bool = True

    def __post_init__(self):
        set_ = object.__setattr__  # frozen dataclass: normalize once, here
        set_(self, "in_channels", _int(self.in_channels, "in_channels", 1))
        set_(self, "out_channels", _int(self.out_channels, "out_channels", 1))
        set_(self, "kernel_size", as_pair(self.kernel_size, "kernel_size"))
        set_(self, "stride", as_pair(self.stride, "stride"))
        set_(self, "dilation", as_pair(self.dilation, "dilation"))
        set_(self, "groups", _int(self.groups, "groups", 1))
        if not isinstance(self.bias, bool):
            raise ValueError(f"bias must be True or False, got {self.bias!r}")
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise ValueError(
                    f"{name} ({getattr(self, name)}) must be divisible by groups "
                    f"({self.groups}); allowed groups here: {self.allowed_groups()}"
                )
        set_(self, "padding", self._normalize_padding(self.padding))

    def _normalize_padding(self, padding) -> PerSide | str:
        if isinstance(padding, str):
            if padding not in PADDING_WORDS:
                raise ValueError(
                    f"padding must be an int, a pair, per-side pairs or one of {PADDING_WORDS}, "
                    f"got {padding!r}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(
                    f"padding='same' needs stride 1 (PyTorch does not support it for strided "
                    f"convolutions), got stride={self.stride}"
                )
            return padding
        if isinstance(padding, (tuple, list)) and len(padding) == 2:
            if all(isinstance(p, (tuple, list)) for p in padding):  # per side
                return (as_pair(padding[0], "padding[0] (top, bottom)", minimum=0),
                        as_pair(padding[1], "padding[1] (left, right)", minimum=0))  # fmt: skip
        ph, pw = as_pair(padding, "padding", minimum=0)
        return ((ph, ph), (pw, pw))

    def allowed_groups(self) -> list[int]:
        """Every ``groups`` value that divides both channel counts."""
        g = math.gcd(self.in_channels, self.out_channels)
        return [d for d in range(1, g + 1) if g % d == 0]

    # --- per-dimension arithmetic --------------------------------------------------------

    def padding_per_side(self) -> PerSide:
        """((top, bottom), (left, right)) zeros, with "same"/"valid" resolved as PyTorch does."""
        if self.padding == "valid":
            return ((0, 0), (0, 0))
        if self.padding == "same":  # total d*(k-1); the odd pixel goes to the bottom/right
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
        return self.padding  # type: ignore[return-value]

    def kernel_extent(self) -> Pair:
        """Input pixels spanned by the (dilated) kernel, (height, width)."""
        return tuple(
            dilated_extent(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True)
        )  # type: ignore[return-value]  # noqa: E501

    def output_size(self, input_size: Pair | int) -> Pair:
        """(H_out, W_out) for an input of ``input_size``; an empty output is a ``ValueError``."""
        size = as_pair(input_size, "input_size")
        out = []
        for dim, n, (lo, hi), extent, s in zip(
            ("height", "width"), size, self.padding_per_side(), self.kernel_extent(), self.stride,
            strict=True,
        ):  # fmt: skip
            if n + lo + hi < extent:
                raise ValueError(
                    f"the dilated kernel spans {extent} pixels in {dim} but the padded input has "
                    f"only {n + lo + hi} (input {n} + padding {lo}+{hi}), so the output would be "
                    f"empty; use a larger input or padding, or a smaller kernel_size or dilation"
                )
            out.append((n + lo + hi - extent) // s + 1)
        return tuple(out)  # type: ignore[return-value]

    def output_shape(self, input_size: Pair | int, batch: int = 1) -> tuple[int, int, int, int]:
        return (batch, self.out_channels, *self.output_size(input_size))

    def parameters(self) -> int:
        """Trainable parameters: weights plus biases."""
        kh, kw = self.kernel_size
        weights = self.out_channels * (self.in_channels // self.groups) * kh * kw
        return weights + (self.out_channels if self.bias else 0)

    def macs(self, input_size: Pair | int, batch: int = 1) -> int:
        """Multiply-accumulates of one forward pass over ``batch`` images (bias adds excluded)."""
        h, w = self.output_size(input_size)
        kh, kw = self.kernel_size
        return batch * h * w * self.out_channels * (self.in_channels // self.groups) * kh * kw

    def formula(self, input_size: Pair | int) -> str:
        """The output-size and parameter formulas with this layer's numbers substituted."""
        size = as_pair(input_size, "input_size")
        out = self.output_size(size)
        lines = []
        for dim, n, (lo, hi), k, d, s, o in zip(
            ("H", "W"), size, self.padding_per_side(), self.kernel_size, self.dilation,
            self.stride, out, strict=True,
        ):  # fmt: skip
            lines.append(
                f"{dim}_out = floor(({n} + {lo} + {hi} - {d}·({k} - 1) - 1) / {s}) + 1 = {o}"
            )
        kh, kw = self.kernel_size
        per_group = self.in_channels // self.groups
        bias = f" + {self.out_channels}" if self.bias else ""
        lines.append(
            f"params = {self.out_channels}·{per_group}·{kh}·{kw}{bias} = {self.parameters():,}"
        )
        return "\n".join(lines)

    def to_module(self) -> nn.Module:
        """The real layer: ``nn.Conv2d``, behind ``nn.ZeroPad2d`` if padding differs per side."""
        (top, bottom), (left, right) = self.padding_per_side()
        common = dict(
            kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation,
            groups=self.groups, bias=self.bias,
        )  # fmt: skip
        if isinstance(self.padding, str):
            return nn.Conv2d(self.in_channels, self.out_channels, padding=self.padding, **common)
        if top == bottom and left == right:
            return nn.Conv2d(self.in_channels, self.out_channels, padding=(top, left), **common)
        return nn.Sequential(
            nn.ZeroPad2d((left, right, top, bottom)),
            nn.Conv2d(self.in_channels, self.out_channels, padding=0, **common),
        )

    def output_positions(self, input_size: Pair | int) -> list[Pair]:
        """Every output position (row, col), row by row: the order the kernel visits them."""
        h, w = self.output_size(input_size)
        return [(r, c) for r in range(h) for c in range(w)]

    def footprint(self, position: Pair) -> list[Pair]:
        """Input pixels (row, col) the kernel taps for output ``position``, in padded
        coordinates: row 0 is the first row of top padding."""
        r, c = position
        (sh, sw), (dh, dw) = self.stride, self.dilation
        kh, kw = self.kernel_size
        return [(r * sh + i * dh, c * sw + j * dw) for i in range(kh) for j in range(kw)]


def conv_output_size(
    input_size: Pair | int,
    kernel_size: Pair | int,
    stride: Pair | int = 1,
    padding: PaddingArg = 0,
    dilation: Pair | int = 1,
) -> Pair:
    """(H_out, W_out) of a convolution: ``conv_output_size(32, 3, padding=1) == (32, 32)``."""
    spec = ConvSpec(1, 1, kernel_size, stride, padding, dilation)
    return spec.output_size(input_size)


def conv_parameters(
    in_channels: int, out_channels: int, kernel_size: Pair | int, groups: int = 1, bias: bool = True
) -> int:
    """Trainable parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, ...)``."""
    return ConvSpec(in_channels, out_channels, kernel_size, groups=groups, bias=bias).parameters()


def measure(spec: ConvSpec, input_size: Pair | int) -> dict[str, object]:
    """What the real layer does on a zero tensor: output shape, parameters, FLOPs counted by
    ``torch.utils.flop_counter``. The reference the arithmetic above is checked against."""
    from torch.utils.flop_counter import FlopCounterMode

    h, w = as_pair(input_size, "input_size")
    layer = spec.to_module()
    x = torch.zeros(1, spec.in_channels, h, w)
    with torch.no_grad(), FlopCounterMode(display=False) as counter, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' with an even kernel warns of a padded copy
        y = layer(x)
    return {
        "output_shape": tuple(y.shape),
        "parameters": sum(p.numel() for p in layer.parameters() if p.requires_grad),
        "flops": counter.get_total_flops(),
    }


# --- receptive field of a stack ----------------------------------------------------------------


@dataclass(frozen=True)
class ReceptiveField:
    size: int  # input pixels that one output value of this layer depends on (per dimension)
    jump: int  # input pixels between the receptive fields of two neighbouring outputs


def receptive_fields(layers) -> list[ReceptiveField]:
    """Receptive field and jump after each layer of a stack, along one dimension.

    ``layers`` holds ``(kernel, stride, dilation)`` triples or :class:`ConvSpec` objects (their
    height dimension is used). Pooling counts too: a 2x2 max-pool with stride 2 is ``(2, 2, 1)``.
    Padding does not change the size, only where the field sits. The recurrence
    (Dumoulin & Visin, "A guide to convolution arithmetic", 2016; Araujo et al., 2019):

        size_l = size_{l-1} + (k_eff - 1) * jump_{l-1}        jump_l = jump_{l-1} * stride_l
    """
    size, jump, result = 1, 1, []
    for i, layer in enumerate(layers):
        if isinstance(layer, ConvSpec):
            k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
        else:
            if not isinstance(layer, (tuple, list)) or len(layer) != 3:
                raise ValueError(
                    f"layers[{i}] must be a ConvSpec or a (kernel, stride, dilation) triple, "
                    f"got {layer!r}"
                )
            names = ("kernel", "stride", "dilation")
            k, s, d = (_int(v, f"layers[{i}] {n}", 1) for v, n in zip(layer, names, strict=True))
        size += (dilated_extent(k, d) - 1) * jump
        jump *= s
        result.append(ReceptiveField(size, jump))
    return result
