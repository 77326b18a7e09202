"""Exercises of the convolution lecture (notebooks 01 and 03): a conv layer's trainable
parameters (the lecture's mini-task, and fresh variants) and a layer's output size.

    from course.exercises.convolution import LECTURE_TASK, random_conv_task
    LECTURE_TASK.check(12345); LECTURE_TASK.hint(1); LECTURE_TASK.solution()
    task = random_conv_task(seed=1)    # a fresh variant to practise on
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge, read_number, without_duplicates
from course.exercises.coding import CodeTask, close, first_difference, nothing_yet, run
from course.measure.conv import ConvSpec, as_pair


def indefinite_article(number: int) -> str:
    """'an' before a number said with a vowel first (8, 11, 18, 80-89, 800-899, 8,000, 11,000),
    else 'a': "a 44x44 input", "an 8x8 input"."""
    digits = str(number)
    leading = digits[: (len(digits) - 1) % 3 + 1]  # the group said first: 11 of 11,000
    return "an" if leading[0] == "8" or leading in ("11", "18") else "a"


@dataclass(frozen=True)
class ConvParamsTask(HintLadder):
    """How many trainable parameters does this convolution layer have?"""

    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int] | int
    bias: bool = True
    groups: int = 1

    def __post_init__(self):
        spec = self.spec()  # validates every setting
        object.__setattr__(self, "kernel_size", spec.kernel_size)

    def spec(self) -> ConvSpec:
        return ConvSpec(
            self.in_channels, self.out_channels, self.kernel_size,
            groups=self.groups, bias=self.bias,
        )  # fmt: skip

    def question(self) -> str:
        kh, kw = as_pair(self.kernel_size, "kernel_size")
        groups = f", groups={self.groups}" if self.groups > 1 else ""
        return (
            f"A convolution layer has {indefinite_article(kh)} {kh}x{kw} kernel, "
            f"{self.in_channels} input channels, {self.out_channels} output channels{groups}, "
            f"bias={self.bias}.\nHow many trainable parameters does it have?"
        )

    def _answer(self) -> int:
        return self.spec().parameters()

    def known_mistakes(self) -> list[tuple[int, str]]:
        """(the number a typical mistake gives, the hint for it), most common first."""
        kh, kw = self.kernel_size
        c_in, c_out, g = self.in_channels, self.out_channels, self.groups
        depth = c_in // g  # input channels one kernel sees
        per_kernel = depth * kh * kw
        bias = 1 if self.bias else 0
        candidates = [
            (c_out * per_kernel, "Close: count the bias too. Each output channel has one bias."),
            (per_kernel + bias, "That is one kernel. The layer has one kernel per output channel."),
            (per_kernel, "That is the weights of one kernel only. How many kernels are there, "
                         "and does each have a bias?"),
            (c_out * (kh * kw + bias), "A kernel is not flat: it spans the whole depth of its "
                                      "input (every input channel it sees), not one channel."),
            (c_out * kh * kw, "A kernel spans the whole input depth, and each output channel "
                              "may have a bias: both are missing."),
            (c_out * (per_kernel + depth * bias), "A bias is one number per kernel (per output "
                                                  "channel), not one per input channel."),
            (c_out * per_kernel * (1 + bias), "A bias is one number per kernel (per output "
                                              "channel), not one per weight."),
            (c_out * per_kernel + bias, "The whole layer has more than one bias: one per "
                                        "output channel."),
            (c_out * (c_in * kh * kw + bias), "With groups, each kernel sees only "
                                              "in_channels / groups input channels."),
            (c_out * (depth * (kh + kw) + bias), "A kh x kw kernel has kh * kw weights per "
                                                 "channel, not kh + kw."),
            (c_out * per_kernel + c_out * (1 - bias), "This layer has bias=False: no biases "
                                                      "to count."),
        ]  # fmt: skip
        return without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return judge(
            answer, self._answer(), self.known_mistakes(),
            "Count the weights of one kernel (height x width x the input channels it sees), "
            "add its bias if any, then multiply by the number of kernels.",
        )  # fmt: skip

    def hints(self) -> list[str]:
        kh, kw = self.kernel_size
        sees = (f"{self.in_channels} / groups = {self.in_channels // self.groups}"
                if self.groups > 1 else f"all {self.in_channels}")  # fmt: skip
        bias = "plus one bias" if self.bias else "and no bias (bias=False)"
        return [
            f"Start with one kernel: it covers {kh}x{kw} pixels of every input channel it sees "
            f"({sees} of them). How many weights is that?",
            f"Each kernel has those weights {bias}, and the layer has one kernel per output "
            f"channel.",
        ]

    def worked_solution(self) -> str:
        kh, kw = self.kernel_size
        depth, bias = self.in_channels // self.groups, int(self.bias)
        per_kernel = kh * kw * depth + bias
        torch_count = sum(p.numel() for p in self.spec().to_module().parameters())
        return (
            f"one kernel has {kh}·{kw}·{depth}{' + 1' if bias else ''} = {per_kernel:,} "
            f"parameters; {self.out_channels} kernels: {self.out_channels} · {per_kernel:,} = "
            f"**{self._answer():,}**. PyTorch counts the same: the `nn.Conv2d` has "
            f"{torch_count:,} trainable parameters."
        )


LECTURE_TASK = ConvParamsTask(in_channels=64, out_channels=128, kernel_size=3, bias=True)


_KERNELS = [1, 3, 5, 7, (3, 5), (5, 3), (1, 7), (7, 1), 11]


_CHANNELS = [1, 3, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]


def random_conv_task(seed: int | None = None) -> ConvParamsTask:
    """A fresh variant of the lecture's mini-task: other sizes, sometimes groups or no bias."""
    rng = random.Random(None if seed is None else as_int(seed, "seed"))
    c_in, c_out = rng.choice(_CHANNELS), rng.choice(_CHANNELS)
    groups = 1
    if rng.random() < 0.3:  # grouped or depthwise
        common = [g for g in (2, 4, 8, c_in) if c_in % g == 0 and c_out % g == 0 and g > 1]
        groups = rng.choice(common) if common else 1
    return ConvParamsTask(c_in, c_out, rng.choice(_KERNELS), bias=rng.random() < 0.7, groups=groups)


@dataclass(frozen=True)
class OutputSizeTask(HintLadder):
    """How large (per side) is the output of this convolution or pooling layer?"""

    input_size: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        for name in ("input_size", "kernel_size", "stride", "dilation"):
            object.__setattr__(self, name, as_int(getattr(self, name), name, 1))
        object.__setattr__(self, "padding", as_int(self.padding, "padding", 0))
        self.spec().output_size(self.input_size)  # an empty output is a ValueError here

    def spec(self) -> ConvSpec:
        return ConvSpec(1, 1, self.kernel_size, self.stride, self.padding, self.dilation)

    def question(self) -> str:
        n, k = self.input_size, self.kernel_size
        return (
            f"{indefinite_article(n).capitalize()} {n}x{n} input goes through "
            f"{indefinite_article(k)} {k}x{k} convolution with stride {self.stride}, "
            f"padding {self.padding} and dilation {self.dilation}.\nHow many pixels wide is its "
            f"output?"
        )

    def _answer(self) -> int:
        return self.spec().output_size(self.input_size)[0]

    def known_mistakes(self) -> list[tuple[int | float, str]]:
        n, k, s, p, d = (self.input_size, self.kernel_size, self.stride, self.padding,
                         self.dilation)  # fmt: skip
        extent = d * (k - 1) + 1
        exact = (n + 2 * p - extent) / s + 1
        candidates = [
            ((n + 2 * p - k) // s + 1, "Dilation spreads the kernel: it spans d·(k−1)+1 "
             "pixels, not k."),
            ((n + p - extent) // s + 1, "Padding is added on both sides: n + 2p."),
            ((n + 2 * p - extent) // s, "Count the first position too: the formula ends in + 1."),
            (-(-(n + 2 * p - extent) // s) + 1, "A kernel that would stick out past the padded "
             "input is not applied: round the division down, not up."),
            ((n + 2 * p - extent) + 1, "With stride s the kernel moves s pixels at a time: "
             "divide by the stride."),
        ]  # fmt: skip
        if not float(exact).is_integer():
            candidates.insert(0, (exact, "The kernel takes whole steps only: round the "
                                         "division down (floor) before adding 1."))  # fmt: skip
        return without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        value = read_number(answer)
        if isinstance(value, Feedback):
            return value
        for mistake, hint in self.known_mistakes():
            if value == mistake and not float(mistake).is_integer():
                return Feedback(False, f"Not quite. {hint}")
        return judge(
            answer, self._answer(), self.known_mistakes(),
            "Use floor((n + 2p − d·(k−1) − 1) / s) + 1.", unit="pixels",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "First find how many input pixels the kernel spans with its dilation, then how "
            "many pixels the padded input has.",
            "The kernel fits at the first position, then moves by the stride while it still "
            "fits: floor((padded size − span) / stride) + 1 positions.",
        ]

    def worked_solution(self) -> str:
        n, k, s, p, d = (self.input_size, self.kernel_size, self.stride, self.padding,
                         self.dilation)  # fmt: skip
        extent = d * (k - 1) + 1
        answer = self._answer()
        import torch

        measured = self.spec().to_module()(torch.zeros(1, 1, n, n)).shape[-1]
        return (
            f"the kernel spans {d}·({k}−1)+1 = {extent} pixels; the padded input has "
            f"{n} + 2·{p} = {n + 2 * p}; floor(({n + 2 * p} − {extent}) / {s}) + 1 = "
            f"**{answer}**. `nn.Conv2d` gives {measured}."
        )


# --- a coding exercise: the convolution's forward pass ------------------------------------------


@dataclass(frozen=True)
class ConvForwardTask(CodeTask):
    """Write ``conv2d(x, weight, bias, stride, padding, dilation)``, checked against
    ``F.conv2d`` on ``cases`` random layers and inputs (float64, so rounding cannot hide a
    mistake)."""

    cases: int = 12
    seed: int = 0

    def question(self) -> str:
        return (
            "Write conv2d(x, weight, bias, stride=1, padding=0, dilation=1) without nn.Conv2d or "
            "F.conv2d: x is (N, C_in, H, W), weight (C_out, C_in, kh, kw), bias (C_out,) or "
            "None; stride, padding and dilation are ints. Return (N, C_out, H_out, W_out), what "
            "F.conv2d returns."
        )

    def random_cases(self):
        """(x, weight, bias, stride, padding, dilation) in float64; every case has an output."""
        rng = torch.Generator().manual_seed(self.seed)
        pick = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=rng))  # noqa: E731
        cases = []
        while len(cases) < self.cases:
            k, s, p, d = (pick(1, 3), pick(1, 3)), pick(1, 3), pick(0, 2), pick(1, 2)
            if len(cases) < 4:  # the first cases isolate one knob each, the rest mix them
                k, s, p, d = [((3, 3), 1, 0, 1), ((3, 3), 1, 2, 1), ((3, 2), 2, 0, 1),
                              ((3, 3), 1, 1, 2)][len(cases)]  # fmt: skip
            size = pick(5, 9), pick(5, 9)
            if any(n + 2 * p - d * (kk - 1) - 1 < 0 for n, kk in zip(size, k, strict=True)):
                continue
            c_in, c_out = pick(1, 3), pick(1, 4)
            x = torch.randn(2, c_in, *size, generator=rng, dtype=torch.float64)
            weight = torch.randn(c_out, c_in, *k, generator=rng, dtype=torch.float64)
            bias = torch.randn(c_out, generator=rng, dtype=torch.float64)
            cases.append((x, weight, bias if len(cases) % 5 else None, s, p, d))
        return cases

    def diagnose(self, conv2d) -> Feedback | None:
        import torch.nn.functional as F

        for x, weight, bias, s, p, d in self.random_cases():
            knobs = f"stride={s}, padding={p}, dilation={d}, kernel {tuple(weight.shape[2:])}"
            given = (x.clone(), weight.clone(), None if bias is None else bias.clone())
            yours = run(conv2d, *given, stride=s, padding=p, dilation=d,
                        what=f"computing a case with {knobs}")  # fmt: skip
            if not torch.equal(given[0], x) or not torch.equal(given[1], weight):
                return Feedback(False, "Your function changed its input (x or weight) in place; "
                                "compute into a new tensor instead.")  # fmt: skip
            if yours is None:  # the skeleton, or a forgotten return: nothing to grade yet
                return nothing_yet("conv2d", "compute the output and return it")
            if not isinstance(yours, torch.Tensor):
                return Feedback(False, f"conv2d must return a tensor; it returned a "
                                f"{type(yours).__name__}.")  # fmt: skip
            expected = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
            if yours.shape != expected.shape:
                return Feedback(False, self._shape_advice(yours, expected, x, weight, s, p, d))
            if not close(yours, expected):
                return Feedback(False, self._value_advice(yours, expected, x, weight, bias, s, p,
                                                          d, knobs))  # fmt: skip
        return None

    @staticmethod
    def _shape_advice(yours, expected, x, weight, s, p, d) -> str:
        shape, want = tuple(yours.shape), tuple(expected.shape)
        said = (
            f"For input {tuple(x.shape)} and weight {tuple(weight.shape)} with stride={s}, "
            f"padding={p}, dilation={d}, your output is {shape}; PyTorch's is {want}."
        )
        if len(shape) != 4 or shape[:2] != want[:2]:
            return (f"{said} The first two axes are the batch (N = x.shape[0]) and the output "
                    f"channels (C_out = weight.shape[0]).")  # fmt: skip

        def size(n, k, s_, p_, d_):
            return (n + 2 * p_ - d_ * (k - 1) - 1) // s_ + 1

        h, w, (kh, kw) = x.shape[2], x.shape[3], weight.shape[2:]
        knob_ignored = {  # the output size if one knob were left out
            "the padding (zeros added on every side)": (0, s, d),
            "the stride (the kernel moves s pixels at a time)": (p, 1, d),
            "the dilation (taps d pixels apart: the kernel spans d·(k−1)+1 pixels)": (p, s, 1),
        }
        for knob, (p_, s_, d_) in knob_ignored.items():
            if shape[2:] == (size(h, kh, s_, p_, d_), size(w, kw, s_, p_, d_)) != want[2:]:
                return f"{said} That is the size without {knob}: apply it."
        return (f"{said} Each side is floor((n + 2·padding − dilation·(k − 1) − 1) / stride) + 1; "
                f"check it for the height and the width separately.")  # fmt: skip

    @staticmethod
    def _value_advice(yours, expected, x, weight, bias, s, p, d, knobs) -> str:
        import torch.nn.functional as F

        where = first_difference(yours, expected)
        if close(yours, F.conv2d(x, weight.flip(-1, -2), bias, stride=s, padding=p, dilation=d)):
            return (f"The values differ {where}: you flipped the kernel. That is convolution as "
                    f"mathematics defines it; deep learning's layers (and PyTorch) slide the "
                    f"kernel as it is (cross-correlation).")  # fmt: skip
        if bias is not None and close(yours, F.conv2d(x, weight, None, stride=s, padding=p,
                                                      dilation=d)):  # fmt: skip
            return f"The values differ {where}: the bias is missing (one per output channel)."
        if bias is not None and close(yours, expected + bias.view(1, -1, 1, 1)):
            return f"The values differ {where}: the bias is added twice."
        return (f"The values differ {where} (a case with {knobs}). The output at row i, column "
                f"j sums, over every input channel and kernel tap (a, b), "
                f"weight[c, :, a, b] times the padded input at row i·stride + a·dilation, column "
                f"j·stride + b·dilation; then adds bias[c].")  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "First get the output's shape right: N and C_out from the inputs, and each side "
            "from the formula of section 4, with the effective kernel size of section 5.",
            "Pad x with zeros on every side (F.pad(x, (p, p, p, p))). Output position (i, j) "
            "then sees the window that starts at row i·stride, column j·stride, with taps "
            "dilation pixels apart.",
            "For each output position: take the window xp[:, :, rows, cols] with rows = "
            "i·s + dilation·arange(kh) (likewise cols): shape (N, C_in, kh, kw). Multiply it "
            "with weight[None] (1, C_out, C_in, kh, kw) after window[:, None], sum over the "
            "last three axes, add the bias.",
        ]

    def worked_solution(self) -> str:
        return (
            "Loop over output positions; each is one dot product per output channel:\n\n"
            "```python\n"
            "def conv2d(x, weight, bias, stride=1, padding=0, dilation=1):\n"
            "    n, c_in, h, w = x.shape\n"
            "    c_out, _, kh, kw = weight.shape\n"
            "    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1\n"
            "    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1\n"
            "    xp = F.pad(x, (padding,) * 4)  # zeros on every side\n"
            "    rows, cols = dilation * torch.arange(kh), dilation * torch.arange(kw)\n"
            "    out = x.new_zeros(n, c_out, h_out, w_out)\n"
            "    for i in range(h_out):\n"
            "        for j in range(w_out):\n"
            "            window = xp[:, :, i * stride + rows][:, :, :, j * stride + cols]\n"
            "            out[:, :, i, j] = (window[:, None] * weight[None]).sum((2, 3, 4))\n"
            "    return out if bias is None else out + bias.view(1, -1, 1, 1)\n"
            "```\n\n"
            "`F.unfold` does the window gathering in one call (and `F.conv2d` in optimized "
            "kernels); this version agrees with `F.conv2d` on **every case** of the check."
        )
