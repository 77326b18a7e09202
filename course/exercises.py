"""Exercises with checkers that point at the mistake without giving the answer away.

from course.exercises import LECTURE_TASK, random_conv_task
LECTURE_TASK.check(12345)          # Feedback: correct, or a hint about the likely mistake
task = random_conv_task(seed=1)    # a fresh variant to practise on
print(task.question()); task.check(...)
"""

from __future__ import annotations

import numbers
import random
from dataclasses import dataclass

from course.conv import ConvSpec, as_pair


@dataclass(frozen=True)
class Feedback:
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return f"{'✅' if self.correct else '❌'} {self.message}"

    def __repr__(self) -> str:
        return f"{'correct' if self.correct else 'not yet'}: {self.message}"


def _as_count(answer) -> int | Feedback:
    """The answer as a whole number, or friendly feedback about why it is not one."""
    if answer is None or answer is ...:
        return Feedback(False, "Replace `None` with your answer, a whole number such as 1234.")
    if isinstance(answer, bool):
        return Feedback(False, f"{answer} is a truth value; the answer is a count of parameters.")
    if isinstance(answer, str):
        return Feedback(
            False,
            f"{answer!r} is text. Write the number itself, without quotes (Python accepts "
            f"1_000 for a thousand), or an expression such as 3 * 3.",
        )
    if isinstance(answer, numbers.Integral):
        count = int(answer)
    elif isinstance(answer, numbers.Real) and float(answer).is_integer():
        count = int(answer)
    elif isinstance(answer, numbers.Real):
        return Feedback(
            False,
            f"{answer} is not a whole number: a layer has a whole number of parameters. "
            f"Did a division slip in (// divides without a remainder)?",
        )
    else:
        return Feedback(False, f"Give the answer as a number, not a {type(answer).__name__}.")
    if count <= 0:
        return Feedback(False, f"{count} cannot be a number of parameters: it must be positive.")
    return count


@dataclass(frozen=True)
class ConvParamsTask:
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
            f"A convolution layer has a {kh}x{kw} kernel, {self.in_channels} input channels, "
            f"{self.out_channels} output channels{groups}, bias={self.bias}. "
            f"How many trainable parameters does it have?"
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
        answer, seen, result = self._answer(), set(), []
        for value, hint in candidates:
            if value != answer and value not in seen:  # a formula that happens to be right
                seen.add(value)
                result.append((value, hint))
        return result

    def check(self, answer) -> Feedback:
        count = _as_count(answer)
        if isinstance(count, Feedback):
            return count
        if count == self._answer():
            return Feedback(True, f"Correct: {count:,} trainable parameters.")
        for value, hint in self.known_mistakes():
            if count == value:
                return Feedback(False, f"Not quite. {hint}")
        too = "high" if count > self._answer() else "low"
        return Feedback(
            False,
            f"{count:,} is too {too}. Count the weights of one kernel (height x width x the "
            f"input channels it sees), add its bias if any, then multiply by the number of "
            f"kernels.",
        )


LECTURE_TASK = ConvParamsTask(in_channels=64, out_channels=128, kernel_size=3, bias=True)

_KERNELS = [1, 3, 5, 7, (3, 5), (5, 3), (1, 7), (7, 1), 11]
_CHANNELS = [1, 3, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]


def random_conv_task(seed: int | None = None) -> ConvParamsTask:
    """A fresh variant of the lecture's mini-task: other sizes, sometimes groups or no bias."""
    rng = random.Random(seed)
    c_in, c_out = rng.choice(_CHANNELS), rng.choice(_CHANNELS)
    groups = 1
    if rng.random() < 0.3:  # grouped or depthwise
        common = [g for g in (2, 4, 8, c_in) if c_in % g == 0 and c_out % g == 0 and g > 1]
        groups = rng.choice(common) if common else 1
    return ConvParamsTask(c_in, c_out, rng.choice(_KERNELS), bias=rng.random() < 0.7, groups=groups)
