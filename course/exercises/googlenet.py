"""The GoogLeNet lecture's exercise (notebook 06): the parameters and output channels of an
Inception block, as in the paper's Table 1.

    from course.exercises.googlenet import INCEPTION_4A
"""

from __future__ import annotations

from dataclasses import dataclass

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge, without_duplicates
from course.measure.conv import ConvSpec


@dataclass(frozen=True)
class InceptionTask(HintLadder):
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
        return without_duplicates(candidates, answer)

    def check(self, answer) -> Feedback:
        return judge(
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
        return judge(
            answer, self.channels(), without_duplicates(mistakes, self.channels()),
            "The branches are concatenated along the channels: add the channels of the last "
            "layer of each of the four branches.", unit="output channels",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "The output concatenates the last layer of each of the four branches along the "
            "channels. For the parameters, count the six convolutions one at a time: "
            "(k·k·inputs + 1)·filters each.",
            f"The 3x3 and the 5x5 see the outputs of their 1x1 reduce layers ({self.r3} and "
            f"{self.r5} channels), not the block's {self.in_channels}; the pool has no "
            f"parameters, the 1x1 projection after it does.",
        ]

    def worked_solution(self) -> str:
        names = ["1x1", "3x3 reduce", "3x3", "5x5 reduce", "5x5", "pool projection"]
        rows = [
            f"{name} {i}→{o}: ({k}·{k}·{i} + 1)·{o} = {ConvSpec(i, o, k).parameters():,}"
            for name, (i, o, k) in zip(names, self._convs(), strict=True)
        ]
        modules = [ConvSpec(i, o, k).to_module() for i, o, k in self._convs()]
        torch_count = sum(p.numel() for m in modules for p in m.parameters())
        return (
            "; ".join(rows) + f". In all **{self._answer():,}** parameters (PyTorch counts "
            f"{torch_count:,}). Output channels: {self.c1} + {self.c3} + {self.c5} + "
            f"{self.proj} = **{self.channels()}**."
        )


INCEPTION_4A = InceptionTask(480, 192, 96, 208, 16, 48, 64)  # Table 1, inception (4a)
