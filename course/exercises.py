"""Exercises with checkers that point at the mistake without giving the answer away.

from course.exercises import LECTURE_TASK, random_conv_task
LECTURE_TASK.check(12345)          # Feedback: correct, or a hint about the likely mistake
LECTURE_TASK.hint(1)               # the hint ladder: hint(1), hint(2), ...
LECTURE_TASK.solution()            # the worked solution, only when asked for
task = random_conv_task(seed=1)    # a fresh variant to practise on
print(task.question()); task.check(...)

Answers may be typed as a student writes them: 73856, 73_856, "73,856", "73 856" or an
expression such as 3*3*64*128 + 128 (or the same as text).
"""

from __future__ import annotations

import ast
import numbers
import operator
import random
import re
from dataclasses import dataclass

from course.checks import as_int
from course.conv import ConvSpec, as_pair, receptive_fields


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


@dataclass(frozen=True)
class Note:
    """A hint or a worked solution, shown as Markdown in Jupyter."""

    title: str
    text: str

    def __str__(self) -> str:
        return f"{self.title}: {self.text}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return f"**{self.title}.** {self.text}"


class HintLadder:
    """Hints one rung at a time, then the worked solution, each only when asked for.

    A task gives ``hints()`` (a list, gentlest first) and ``worked_solution()`` (Markdown)."""

    def hints(self) -> list[str]:
        raise NotImplementedError

    def worked_solution(self) -> str:
        raise NotImplementedError

    def hint(self, level: int = 1) -> Note:
        hints = self.hints()
        level = as_int(level, "level", 1)
        if level > len(hints):
            return Note("No more hints", f"there are {len(hints)}; .solution() shows the worked "
                        f"solution")  # fmt: skip
        more = f" (next: .hint({level + 1}))" if level < len(hints) else " (next: .solution())"
        return Note(f"Hint {level} of {len(hints)}", hints[level - 1] + more)

    def solution(self) -> Note:
        return Note("Worked solution", self.worked_solution())


_ARITHMETIC = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub,
               ast.Mult, ast.Div, ast.FloorDiv, ast.USub, ast.UAdd)  # fmt: skip


def read_number(answer) -> int | float | Feedback:
    """The answer as a number, from the forms a student types (see the module docstring), or
    friendly feedback saying why it is not one."""
    if answer is None or answer is ...:
        return Feedback(False, "Replace `None` with your answer, a whole number such as 1234.")
    if isinstance(answer, bool):
        return Feedback(False, f"{answer} is a truth value; the answer is a number.")
    if isinstance(answer, str):
        return _read_text(answer)
    if isinstance(answer, numbers.Real):
        return answer
    try:  # NumPy integers, 0-d tensors
        return operator.index(answer)
    except TypeError:
        return Feedback(False, f"Give the answer as a number, not a {type(answer).__name__}.")


def _read_text(text: str) -> int | float | Feedback:
    plain = re.sub(r"(?<=\d)[,_ \u00a0\u202f](?=\d{3}(?!\d))", "", text.strip())
    if re.fullmatch(r"[+-]?\d+", plain):
        return int(plain)
    try:
        tree = ast.parse(plain.replace("×", "*").replace("·", "*"), mode="eval")
    except SyntaxError:
        tree = None
    if tree is None or not all(isinstance(node, _ARITHMETIC) for node in ast.walk(tree)):
        return Feedback(
            False,
            f"{text!r} is not a number I can read. Write it as 73856, 73_856, '73,856' or as "
            f"arithmetic such as 3 * 3 * 64 + 1.",
        )
    try:  # numbers and + - * / // only (checked above): nothing else can run
        return eval(compile(tree, "<answer>", "eval"), {"__builtins__": {}})
    except ArithmeticError:
        return Feedback(False, f"{text!r} cannot be computed (a division by zero?).")


def _as_count(answer) -> int | Feedback:
    """The answer as a whole number, or friendly feedback about why it is not one."""
    answer = read_number(answer)
    if isinstance(answer, Feedback):
        return answer
    if isinstance(answer, numbers.Integral):
        count = int(answer)
    elif isinstance(answer, numbers.Real) and float(answer).is_integer():
        count = int(answer)
    else:
        return Feedback(
            False,
            f"{answer} is not a whole number, and the answer is one. Did a division slip in "
            f"(// divides and drops the remainder)?",
        )
    if count <= 0:
        return Feedback(False, f"{count} cannot be the answer: it must be positive.")
    return count


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
        return (
            f"An {self.input_size}x{self.input_size} input goes through a {self.kernel_size}x"
            f"{self.kernel_size} convolution with stride {self.stride}, padding {self.padding} "
            f"and dilation {self.dilation}. How many pixels wide is its output?"
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
        return _without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        value = read_number(answer)
        if isinstance(value, Feedback):
            return value
        for mistake, hint in self.known_mistakes():
            if value == mistake and not float(mistake).is_integer():
                return Feedback(False, f"Not quite. {hint}")
        return _judge(
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


@dataclass(frozen=True)
class ReceptiveFieldTask(HintLadder):
    """How many input pixels (per side) does one unit after this stack of layers see?"""

    layers: tuple[tuple[str, int, int], ...]  # (name, kernel, stride), input to output

    def __post_init__(self):
        if not self.layers:
            raise ValueError("layers must list at least one (name, kernel, stride)")
        checked = []
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (tuple, list)) or len(layer) != 3:
                raise ValueError(f"layers[{i}] must be (name, kernel, stride), got {layer!r}")
            name, k, s = layer
            checked.append((str(name), as_int(k, f"layers[{i}] kernel", 1),
                            as_int(s, f"layers[{i}] stride", 1)))  # fmt: skip
        object.__setattr__(self, "layers", tuple(checked))

    def question(self) -> str:
        stack = ", ".join(f"{name} ({k}x{k}, stride {s})" for name, k, s in self.layers)
        return (
            f"A stack of layers: {stack}. How many input pixels wide is the patch that one "
            f"unit of the last layer depends on (its receptive field)?"
        )

    def _answer(self) -> int:
        return receptive_fields([(k, s, 1) for _, k, s in self.layers])[-1].size

    def known_mistakes(self) -> list[tuple[int, str]]:
        no_jump = 1 + sum(k - 1 for _, k, _ in self.layers)
        convs_only = 1 + sum(k - 1 for name, k, _ in self.layers if "pool" not in name)
        candidates = [
            (no_jump, "After a layer with stride 2, neighbouring units are 2 input pixels "
             "apart: every later layer's kernel widens the field by (k−1) times that step."),
            (sum(k for _, k, _ in self.layers), "Kernel sizes do not add up: each layer adds "
             "(k−1) steps of the current jump to the field."),
            (convs_only, "The pooling layers count too: they see a window and multiply the "
             "step between units."),
        ]  # fmt: skip
        return _without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return _judge(
            answer, self._answer(), self.known_mistakes(),
            "Go through the layers in order, keeping the field r and the step j between "
            "units: r += (k−1)·j, then j *= stride.", unit="pixels",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "Keep two numbers while you go from the input up: the field r (start 1) and the "
            "step j between neighbouring units (start 1).",
            "Each layer adds (k−1)·j to r, and then multiplies j by its stride.",
        ]

    def worked_solution(self) -> str:
        r, j, steps = 1, 1, []
        for name, k, s in self.layers:
            r, j = r + (k - 1) * j, j * s
            steps.append(f"{name}: r = {r}, j = {j}")
        return "; ".join(steps) + f". The receptive field is **{r}** pixels wide."
