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

from course.checks import as_int
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
        return _without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return _judge(
            answer, self._answer(), self.known_mistakes(),
            "Count the weights of one kernel (height x width x the input channels it sees), "
            "add its bias if any, then multiply by the number of kernels.",
        )  # fmt: skip


def _judge(answer, correct: int, mistakes: list[tuple[int, str]], advice: str,
           unit: str = "trainable parameters") -> Feedback:  # fmt: skip
    """Feedback on ``answer``: correct, a known mistake's hint, or too high/low + advice."""
    count = _as_count(answer)
    if isinstance(count, Feedback):
        return count
    if count == correct:
        return Feedback(True, f"Correct: {count:,} {unit}.")
    for value, hint in mistakes:
        if count == value:
            return Feedback(False, f"Not quite. {hint}")
    too = "high" if count > correct else "low"
    return Feedback(False, f"{count:,} is too {too}. {advice}")


def _without_duplicates(candidates: list[tuple[int, str]], answer: int) -> list[tuple[int, str]]:
    """Drop candidates equal to the answer (a formula that happens to be right) or to an
    earlier candidate; the first hint for a value wins."""
    seen, result = set(), []
    for value, hint in candidates:
        if value != answer and value not in seen:
            seen.add(value)
            result.append((value, hint))
    return result


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
class InceptionTask:
    """How many parameters, and how many output channels, has this Inception block (GoogLeNet's
    Figure 2(b), as in the paper: every convolution has a bias, no batch norm)?

    The arguments are one row of the paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce,
    #5x5, pool proj, and the channels coming in.
    """

    in_channels: int
    c1: int
    r3: int
    c3: int
    r5: int
    c5: int
    proj: int

    def __post_init__(self):
        for name in ("in_channels", "c1", "r3", "c3", "r5", "c5", "proj"):
            object.__setattr__(self, name, as_int(getattr(self, name), name, 1))

    def question(self) -> str:
        return (
            f"An Inception block receives {self.in_channels} channels. Its branches: a 1x1 "
            f"convolution with {self.c1} filters; a 1x1 convolution with {self.r3} filters then "
            f"a 3x3 with {self.c3}; a 1x1 with {self.r5} then a 5x5 with {self.c5}; a 3x3 "
            f"max-pool (stride 1) then a 1x1 with {self.proj}. Every convolution has a bias. "
            f"How many output channels does it have, and how many trainable parameters?"
        )

    def _convs(self) -> list[tuple[int, int, int]]:
        """(in, out, kernel) of every convolution in the block."""
        c = self.in_channels
        return [(c, self.c1, 1), (c, self.r3, 1), (self.r3, self.c3, 3), (c, self.r5, 1),
                (self.r5, self.c5, 5), (c, self.proj, 1)]  # fmt: skip

    def _answer(self) -> int:
        return sum(ConvSpec(i, o, k).parameters() for i, o, k in self._convs())

    def channels(self) -> int:
        return self.c1 + self.c3 + self.c5 + self.proj

    def known_mistakes(self) -> list[tuple[int, str]]:
        c, answer = self.in_channels, self._answer()
        weights = sum(i * o * k * k for i, o, k in self._convs())
        reduce = ConvSpec(c, self.r3, 1).parameters() + ConvSpec(c, self.r5, 1).parameters()
        naive = sum(ConvSpec(c, o, k).parameters() for o, k in
                    ((self.c1, 1), (self.c3, 3), (self.c5, 5)))  # fmt: skip
        candidates = [
            (weights, "Close: every convolution has a bias, one per filter."),
            (answer - ConvSpec(c, self.proj, 1).parameters(),
             "The pool branch has a convolution too: the 1x1 'pool projection' after the pool."),
            (answer - reduce, "The 1x1 'reduce' convolutions before the 3x3 and the 5x5 have "
                              "parameters too."),
            (naive, "That is the naive block (Figure 2(a)): here the 3x3 and 5x5 see only the "
                    "reduced channels, and the pool is followed by a 1x1 convolution."),
            (naive + ConvSpec(c, self.proj, 1).parameters() + reduce,
             "The 3x3 and 5x5 convolutions see the outputs of their 1x1 reduce layers "
             f"({self.r3} and {self.r5} channels), not the block's {c} input channels."),
            (answer - self.c1 - self.r3 - self.c3 - self.r5 - self.c5 - self.proj + 1,
             "Each convolution has its own biases: one per filter, not one per block."),
        ]  # fmt: skip
        return _without_duplicates(candidates, answer)

    def check(self, answer) -> Feedback:
        return _judge(
            answer, self._answer(), self.known_mistakes(),
            "Count each of the six convolutions on its own: (kernel height x width x input "
            "channels + 1) x filters, where a 3x3 or 5x5 sees its reduce layer's output.",
        )  # fmt: skip

    def check_channels(self, answer) -> Feedback:
        mistakes = [
            (self.channels() + self.r3 + self.r5,
             "The reduce layers' outputs feed the 3x3 and 5x5; they are not concatenated."),
            (self.c1 + self.c3 + self.c5 + self.in_channels,
             "That is the naive block, whose pool passes all input channels through; here a "
             "1x1 projection follows the pool."),
            (self.c1 + self.c3 + self.c5, "The pool branch adds channels too."),
        ]  # fmt: skip
        return _judge(
            answer, self.channels(), _without_duplicates(mistakes, self.channels()),
            "The branches are concatenated along the channels: add the channels of the last "
            "layer of each of the four branches.", unit="output channels",
        )  # fmt: skip


INCEPTION_4A = InceptionTask(480, 192, 96, 208, 16, 48, 64)  # Table 1, inception (4a)
