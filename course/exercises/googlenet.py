"""The GoogLeNet lecture's exercise (notebook 06): the parameters and output channels of an
Inception block, as in the paper's Table 1.

    from course.exercises.googlenet import INCEPTION_4A
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge, without_duplicates
from course.exercises.coding import (
    CodeTask,
    StudentCrash,
    close,
    count_differs,
    first_difference,
    not_a_module,
    nothing_yet,
    run,
)
from course.measure.conv import ConvSpec
from course.models.googlenet import INCEPTION_TABLE, Inception, InceptionNaive
from course.models.summary import count_parameters


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


@dataclass(frozen=True)
class InceptionMACsTask(HintLadder):
    """How many multiply-accumulates does an Inception block do on one ``side`` x ``side``
    input, naive (Figure 2(a)) or with its 1x1 bottlenecks (Figure 2(b))? Counted as PyTorch's
    FLOP counter counts them: one per weight at every output position, biases and the max-pool
    free. Checked against ``count_macs`` on the real module."""

    block: InceptionTask
    side: int
    naive: bool

    def question(self) -> str:
        b, form = self.block, "the naive block" if self.naive else "the block with bottlenecks"
        return (
            f"How many multiply-accumulates (MACs) does {form} do for one input of "
            f"{b.in_channels} channels of {self.side}x{self.side}? Every branch keeps the "
            f"{self.side}x{self.side} size; count one MAC per weight at every output position, "
            f"nothing for biases and the max-pool."
        )

    def _convs(self) -> list[tuple[int, int, int]]:
        b = self.block
        if self.naive:
            return [(b.in_channels, b.c1, 1), (b.in_channels, b.c3, 3), (b.in_channels, b.c5, 5)]
        return b._convs()

    def _answer(self) -> int:
        return self.side**2 * sum(i * o * k * k for i, o, k in self._convs())

    def known_mistakes(self) -> list[tuple[int, str]]:
        per_position = self._answer() // self.side**2
        outputs = self.side**2 * sum(o for _, o, _ in self._convs())
        candidates = [
            (per_position, "That is one output position: the kernels slide over all "
             f"{self.side}x{self.side} of them."),
            (self._answer() + outputs, "The biases are additions, not multiply-accumulates: "
             "leave them out."),
            (self._answer() + self.side**2 * self.block.in_channels * 9, "The max-pool "
             "compares values; it multiplies nothing."),
            (self.side**2 * sum(i * o * k for i, o, k in self._convs()), "A k x k kernel has "
             "k·k weights per input channel, not k."),
        ]  # fmt: skip
        if not self.naive:
            without = [c for n, c in enumerate(self._convs()) if n not in (1, 3)]  # no reduce
            candidates.append((self.side**2 * sum(i * o * k * k for i, o, k in without),
                               "The 1x1 reduce convolutions cost MACs too."))  # fmt: skip
        return without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return judge(
            answer, self._answer(), self.known_mistakes(),
            "For each convolution: output positions x output channels x (k·k·input channels); "
            "then add the convolutions up.", unit="MACs",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "A convolution does k·k·C_in multiply-accumulates for each output value, and it "
            f"has {self.side}·{self.side}·C_out output values.",
            "List the block's convolutions with their input channels, filters and kernel "
            "size (the 3x3 and 5x5 of the bottleneck form see their reduce layer's output), "
            "then add up H·W·C_out·k·k·C_in over them.",
        ]

    def worked_solution(self) -> str:
        from course.models.summary import count_macs

        b = self.block
        module = (InceptionNaive(b.in_channels, b.c1, b.c3, b.c5) if self.naive
                  else Inception(b.in_channels, b.c1, b.r3, b.c3, b.r5, b.c5, b.proj))  # fmt: skip
        counted = count_macs(module, (self.block.in_channels, self.side, self.side))
        terms = " + ".join(f"{o}·{k}·{k}·{i}" for i, o, k in self._convs())
        return (f"{self.side}·{self.side} positions · ({terms}) = **{self._answer():,}** MACs; "
                f"PyTorch's FLOP counter gives {counted:,}.")  # fmt: skip


INCEPTION_3A = InceptionTask(192, *INCEPTION_TABLE["3a"])
MACS_3A_NAIVE = InceptionMACsTask(INCEPTION_3A, 28, naive=True)
MACS_3A = InceptionMACsTask(INCEPTION_3A, 28, naive=False)


# --- a coding exercise: an Inception block from one row of the paper's Table 1 ------------------


@dataclass(frozen=True)
class InceptionBlockTask(CodeTask):
    """Write ``class Inception(nn.Module)`` with ``__init__(self, in_channels, c1, c3_reduce, c3,
    c5_reduce, c5, pool_proj)``: the paper's block (convolutions with biases, a ReLU after each,
    no batch norm), checked against the course's ``Inception`` on Table 1's row (3a) and on a
    small row whose layers all differ in shape (so that given weights can be matched)."""

    kind = "class"
    rows: tuple = ((192, 64, 96, 128, 16, 32, 32), (12, 3, 4, 5, 6, 7, 8))

    def question(self) -> str:
        return (
            "Write class Inception(nn.Module) with __init__(self, in_channels, c1, c3_reduce, "
            "c3, c5_reduce, c5, pool_proj): four branches on the same input (a 1x1 convolution; "
            "1x1 then 3x3; 1x1 then 5x5; a 3x3 max-pool with stride 1 then a 1x1 convolution), "
            "each convolution with a bias and followed by a ReLU, the four outputs concatenated."
        )

    def diagnose(self, block_class) -> Feedback | None:
        for row in self.rows:
            torch.manual_seed(0)
            where = f"Inception{row}"
            block = run(block_class, *row, what=f"building {where}")
            if (problem := not_a_module(block, where)) is not None:
                return problem
            x = torch.randn(2, row[0], 6, 6)
            try:
                out = block(x)
            except Exception as exc:  # the student's forward: their traceback, with advice
                advice, axis = "", re.search(r"must match except in dimension (\d)", str(exc))
                if axis and axis.group(1) != "1":
                    advice = (f"\n\nThe outputs are concatenated along dim={axis.group(1)}; "
                              f"the channel axis is dim=1.")  # fmt: skip
                elif axis:
                    advice = ("\n\nThe four outputs must have the same height and width to be "
                              "concatenated on the channel axis: padding 1 for the 3x3 "
                              "convolution and the max-pool (stride 1), 2 for the 5x5."
                              )  # fmt: skip
                return Feedback(False, StudentCrash(exc, f"running {where}").message + advice)
            if out is None:
                return nothing_yet("forward", "write the branches and forward")
            problem = self._shape(out, row, where)  # a Feedback is falsy: no `or` here
            if problem is None:
                problem = self._parameters(block, row, where)
            if problem is None and (out < 0).any():
                problem = Feedback(False, f"{where} gives negative values: a ReLU follows every "
                                   f"convolution in the paper's block.")  # fmt: skip
            if problem is None:
                problem = self._same_weights(block, row, where)
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _shape(out, row, where) -> Feedback | None:
        in_ch, c1, _, c3, _, c5, proj = row
        want = (2, c1 + c3 + c5 + proj, 6, 6)
        if not isinstance(out, torch.Tensor):
            return Feedback(False, f"forward must return a tensor; it returned a "
                            f"{type(out).__name__}.")  # fmt: skip
        got = tuple(out.shape)
        if got == want:
            return None
        said = f"For an input (2, {in_ch}, 6, 6), {where} gives {got}; it should give {want}"
        if len(got) == 4 and got[1] == c1 + c3 + c5 + in_ch:
            why = ("the pool branch passes all its input channels through: its 1x1 projection "
                   "(pool proj) is missing")  # fmt: skip
        elif len(got) == 4 and got[1] == c1 + c3 + c5:
            why = "the pool branch is missing from the concatenation"
        elif len(got) == 4 and (got[0] != 2 or got[2:] != (6, 6)) and got[1] in (c1, c3, c5, proj):
            why = "the outputs are concatenated on the wrong axis: channels are dim=1"
        else:
            why = ("the channels add up over the branches (#1x1 + #3x3 + #5x5 + pool proj), and "
                   "every branch keeps the height and width")  # fmt: skip
        return Feedback(False, f"{said}: {why}.")

    @staticmethod
    def _parameters(block, row, where) -> Feedback | None:
        mine, standard = count_parameters(block), count_parameters(Inception(*row))
        if mine == standard:
            return None
        in_ch, c1, r3, c3, r5, c5, proj = row
        known = {
            standard - (c1 + r3 + c3 + r5 + c5 + proj): "the paper's convolutions have biases "
                                                        "(one per filter)",
            count_parameters(InceptionNaive(in_ch, c1, c3, c5)) + proj * (in_ch + 1):
                "the 1x1 reductions before the 3x3 and the 5x5 convolutions are missing",
        }  # fmt: skip
        otherwise = (
            "each branch's convolutions: 1x1; 1x1 then 3x3; 1x1 then 5x5; "
            "after the pool a 1x1, each with a bias"
        )
        return count_differs(mine, standard, where, known, otherwise, "the paper's block")

    @staticmethod
    def _same_weights(block, row, where) -> Feedback | None:
        """Given the course block's weights (matched by shape: every shape differs in the small
        row), the same output."""
        torch.manual_seed(1)
        standard = Inception(*row)
        by_shape = {t.shape: t for t in standard.state_dict().values()}
        theirs = list(block.state_dict().values())
        if len(by_shape) != len(standard.state_dict()) or len(theirs) != len(by_shape) or any(
            t.shape not in by_shape for t in theirs
        ):  # fmt: skip
            return None  # shapes shared, or other layers: the checks above have to do
        with torch.no_grad():
            for t in theirs:
                t.copy_(by_shape[t.shape])
            x = torch.randn(2, row[0], 6, 6)
            yours, expected = run(block.eval(), x, what=f"running {where}"), standard.eval()(x)
        if close(yours, expected, 1e-5):
            return None
        return Feedback(
            False,
            f"Given the paper block's weights, {where} differs "
            f"{first_difference(yours, expected, 1e-5)}: check the order of the "
            f"outputs (1x1, 3x3, 5x5, pool) and each branch's padding (the output's "
            f"channel {first_channel(yours, expected)} is the first that differs).",
        )

    def hints(self) -> list[str]:
        return [
            "In __init__, one nn.Sequential per branch: [1x1 conv, ReLU]; [1x1 conv, ReLU, 3x3 "
            "conv with padding 1, ReLU]; [1x1, ReLU, 5x5 with padding 2, ReLU]; "
            "[nn.MaxPool2d(3, stride=1, padding=1), 1x1 conv, ReLU].",
            "Each 1x1 reduction goes from in_channels to the reduce count; the 3x3 (or 5x5) "
            "then from the reduce count to c3 (or c5). The pool keeps in_channels; its 1x1 "
            "projection takes them to pool_proj.",
            "forward: torch.cat([branch(x) for branch in the four], dim=1): the channel axis.",
        ]

    def worked_solution(self) -> str:
        return (
            "```python\n"
            "class Inception(nn.Module):\n"
            "    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):\n"
            "        super().__init__()\n"
            "        relu = nn.ReLU()\n"
            "        self.branches = nn.ModuleList([\n"
            "            nn.Sequential(nn.Conv2d(in_channels, c1, 1), relu),\n"
            "            nn.Sequential(nn.Conv2d(in_channels, c3_reduce, 1), relu,\n"
            "                          nn.Conv2d(c3_reduce, c3, 3, padding=1), relu),\n"
            "            nn.Sequential(nn.Conv2d(in_channels, c5_reduce, 1), relu,\n"
            "                          nn.Conv2d(c5_reduce, c5, 5, padding=2), relu),\n"
            "            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),\n"
            "                          nn.Conv2d(in_channels, pool_proj, 1), relu),\n"
            "        ])\n"
            "\n"
            "    def forward(self, x):\n"
            "        return torch.cat([branch(x) for branch in self.branches], dim=1)\n"
            "```\n\n"
            "It has the parameters of the course's `Inception` and, given its weights, its "
            "output: **every check passes**."
        )


def first_channel(yours: torch.Tensor, expected: torch.Tensor) -> int:
    """The first output channel where two (N, C, H, W) tensors differ."""
    bad = ~torch.isclose(yours, expected, rtol=1e-5, atol=1e-5)
    return int(bad.any(dim=(0, 2, 3)).nonzero()[0])
