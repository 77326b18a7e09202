"""The ResNet exercise: how many trainable parameters does one bottleneck block have?

    from course.exercises.resnet import BottleneckTask
    task = BottleneckTask(in_channels=256, width=128, stride=2)  # ResNet-50's layer2[0]
    print(task.question()); task.check(379_392)

Like every task (``course.exercises.base``), the checker recognizes the usual mistakes
(BatchNorm forgotten, the projection shortcut forgotten, the expansion forgotten ...) and says
which one, without giving the answer away. The answer is counted on a real ``Bottleneck``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import torch
from torch import nn

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge
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
from course.models.resnet import BasicBlock, Bottleneck, conv1x1
from course.models.summary import count_parameters


@dataclass(frozen=True)
class BottleneckTask(HintLadder):
    """A bottleneck block (1x1 reduce to ``width``, 3x3, 1x1 expand to 4 x ``width``, BN after
    each convolution, no biases) on ``in_channels`` input channels. Its shortcut is the
    projection (1x1 conv + BN) when the shape changes, the identity otherwise."""

    in_channels: int
    width: int
    stride: int = 1

    def __post_init__(self):
        for name in ("in_channels", "width", "stride"):
            object.__setattr__(self, name, as_int(getattr(self, name), name, 1))
        if self.stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2 (as in ResNet), got {self.stride!r}")

    @property
    def out_channels(self) -> int:
        return self.width * Bottleneck.expansion

    @property
    def projection(self) -> bool:
        return self.stride != 1 or self.in_channels != self.out_channels

    def block(self) -> Bottleneck:
        """The real block, built as ``course.models.resnet.ResNet`` builds it."""
        down = None
        if self.projection:
            down = nn.Sequential(
                conv1x1(self.in_channels, self.out_channels, self.stride),
                nn.BatchNorm2d(self.out_channels),
            )
        return Bottleneck(self.in_channels, self.width, self.stride, down)

    def question(self) -> str:
        shortcut = (f"a projection shortcut (1x1 conv, stride {self.stride}, + BN) because the "
                    f"shape changes" if self.projection else "an identity shortcut")  # fmt: skip
        return textwrap.fill(
            f"A bottleneck block gets {self.in_channels} input channels: 1x1 conv to "
            f"{self.width}, 3x3 conv to {self.width}, 1x1 conv to {self.out_channels}, each "
            f"followed by BatchNorm, convolutions without bias, and {shortcut}. "
            f"How many trainable parameters does the block have?",
            100,  # a notebook column
        )

    def _parts(self) -> dict[str, int]:
        c, w, out = self.in_channels, self.width, self.out_channels
        proj = c * out if self.projection else 0
        return {
            "convs": c * w + 9 * w * w + w * out,
            "bn": 2 * (w + w + out),  # a scale and a shift per channel
            "proj_conv": proj,
            "proj_bn": 2 * out if self.projection else 0,
        }

    def _answer(self) -> int:
        return count_parameters(self.block())

    def known_mistakes(self) -> list[tuple[int, str]]:
        """(the number a typical mistake gives, the hint for it), most common first."""
        p = self._parts()
        c, w, out = self.in_channels, self.width, self.out_channels
        proj = p["proj_conv"] + p["proj_bn"]
        right = self._answer()
        candidates = [
            (right - p["bn"] - p["proj_bn"], "Close: BatchNorm layers have trainable parameters "
             "too, a scale and a shift per channel, after every convolution."),
            (right - proj, "Close: the shortcut is not free here. The shape changes, so the "
             "input goes through a projection (1x1 convolution + BN) to match the output."),
            (p["convs"], "Those are the three convolutions only. What about the BatchNorm layers "
             "and the shortcut?"),
            (p["convs"] + p["bn"], "Close: the shortcut is not free here. The shape changes, so "
             "the input goes through a projection (1x1 convolution + BN) to match the output."),
            (p["convs"] + p["proj_conv"], "Close: BatchNorm layers have trainable parameters "
             "too, a scale and a shift per channel (the projection's BN included)."),
            (right + p["bn"] + p["proj_bn"], "BatchNorm's running mean and variance are buffers, "
             "not trainable parameters: count only its scale and shift."),
            (right - (p["bn"] + p["proj_bn"]) // 2, "BatchNorm has two trainable numbers per "
             "channel, a scale and a shift: it looks like you counted one."),
            (right + (p["bn"] + p["proj_bn"]) // 2, "One extra number per channel: the "
             "convolutions have no bias (BatchNorm's shift does that job), and BatchNorm has "
             "two trainable numbers per channel, not three."),
            (c * w + 9 * w * w + w * w + 2 * 3 * w + (c * w + 2 * w if self.projection else 0),
             "The last 1x1 convolution expands to 4 x width channels, not width."),
            (c * w + w * w + w * out + p["bn"] + proj, "The middle convolution is 3x3: it has "
             "9 weights per input channel, not 1."),
            (c * w + 9 * c * w + w * out + p["bn"] + proj, "The 3x3 convolution sees the "
             "output of the first 1x1 convolution (width channels), not the block's input."),
            (right + 8 * p["proj_conv"], "The projection shortcut is a 1x1 convolution, "
             "not 3x3."),
        ]  # fmt: skip
        seen, result = set(), []
        for value, hint in candidates:
            if value != right and value > 0 and value not in seen:  # mistakes that happen to be
                seen.add(value)  # right for this block (no projection ...) are not mistakes
                result.append((value, hint))
        return result

    def check(self, answer) -> Feedback:
        return judge(
            answer, self._answer(), self.known_mistakes(),
            "Add up the three convolutions (kernel height x width x input channels x output "
            "channels, no bias), two BatchNorm numbers per channel after each, and the "
            "shortcut's parameters if it is a projection.",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "Three convolutions without bias: count kernel height x width x input channels x "
            "output channels for each, where each one sees the previous one's output.",
            "After each convolution a BatchNorm with two trainable numbers per channel (scale "
            "and shift; its running statistics are buffers). "
            + (
                "The shape changes, so the shortcut is a 1x1 convolution + BatchNorm too."
                if self.projection
                else "The shortcut here is the identity: no parameters."
            ),
        ]

    def worked_solution(self) -> str:
        c, w, out, p = self.in_channels, self.width, self.out_channels, self._parts()
        shortcut = (
            f"; the projection {c}·{out} + 2·{out} = {p['proj_conv'] + p['proj_bn']:,}"
            if self.projection else "; the identity shortcut has none"
        )  # fmt: skip
        return (
            f"convolutions {c}·{w} + 3·3·{w}·{w} + {w}·{out} = {p['convs']:,}; BatchNorm "
            f"2·({w} + {w} + {out}) = {p['bn']:,}{shortcut}. In all **{self._answer():,}**, "
            f"as PyTorch counts the real block."
        )


# --- a coding exercise: a basic residual block, with its shortcut for a stride-2 stage ----------


def reference_block(in_channels: int, out_channels: int, stride: int) -> BasicBlock:
    """ResNet-18/34's basic block with option B's projection where the shape changes."""
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(conv1x1(in_channels, out_channels, stride),
                                   nn.BatchNorm2d(out_channels))  # fmt: skip
    return BasicBlock(in_channels, out_channels, stride, downsample)


@dataclass(frozen=True)
class ResidualBlockTask(CodeTask):
    """Write ``class Block(nn.Module)`` with ``__init__(self, in_channels, out_channels,
    stride=1)``: ResNet-18's basic block, checked in a stage's first block (stride 2, twice the
    channels) and a block inside a stage (stride 1), against the course's ``BasicBlock``."""

    kind = "class"
    shapes: tuple = ((16, 16, 1), (16, 32, 2))  # (in_channels, out_channels, stride)

    def question(self) -> str:
        return (
            "Write class Block(nn.Module) with __init__(self, in_channels, out_channels, "
            "stride=1): two 3x3 convolutions (the first with the stride), each followed by batch "
            "norm, a ReLU after the first; then add the shortcut and apply a ReLU. Where the "
            "shape changes (stride 2 or new channel count) the shortcut is a 1x1 convolution "
            "with that stride and batch norm (the paper's option B); else it is x itself."
        )

    def diagnose(self, block_class) -> Feedback | None:
        for in_ch, out_ch, stride in self.shapes:
            torch.manual_seed(0)
            where = f"Block({in_ch}, {out_ch}, stride={stride})"
            block = run(block_class, in_ch, out_ch, stride=stride, what=f"building {where}")
            if (problem := not_a_module(block, where)) is not None:
                return problem
            x = torch.randn(4, in_ch, 8, 8).relu()  # a block's input comes out of a ReLU
            out = self._forward(block, x, where, stride)
            if isinstance(out, Feedback):
                return out
            if out is None:  # the skeleton, or a forgotten return: nothing to grade yet
                return nothing_yet("forward", "write the layers and forward")
            want = (4, out_ch, 8 // stride, 8 // stride)
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                return Feedback(False, f"{where} gives {got} for an input (4, {in_ch}, 8, 8); it "
                                f"should give {want}: the first convolution carries the stride "
                                f"and the channel change.")  # fmt: skip
            if (out < 0).any():
                return Feedback(False, f"{where} gives negative values: apply the last ReLU after "
                                f"adding the shortcut, relu(F(x) + shortcut(x)).")  # fmt: skip
            problem = self._parameters(block, in_ch, out_ch, stride, where)
            if problem is None and stride == 1 and in_ch == out_ch:
                problem = self._identity(block, x, where)
            if problem is None:
                problem = self._same_weights(block, in_ch, out_ch, stride, where)
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _forward(block, x, where, stride):
        try:
            return block(x)
        except Exception as exc:  # the student's forward: shown as theirs, with advice
            crash = StudentCrash(exc, f"running {where}")
            advice = ""
            if "must match the size" in str(exc) and stride != 1:
                advice = ("\n\nWhen the block changes the shape, x no longer fits F(x): the "
                          "shortcut must change it the same way (1x1 convolution with the "
                          "stride, to the new channel count, then batch norm).")  # fmt: skip
            return Feedback(False, crash.message + advice)

    @staticmethod
    def _parameters(block, in_ch, out_ch, stride, where) -> Feedback | None:
        mine, standard = (
            count_parameters(block),
            count_parameters(reference_block(in_ch, out_ch, stride)),
        )
        if mine == standard:
            return None
        biases = 2 * out_ch + (out_ch if stride != 1 or in_ch != out_ch else 0)
        projection = out_ch * in_ch + 2 * out_ch if stride != 1 or in_ch != out_ch else 0
        known = {
            standard + biases: "the convolutions need no bias (bias=False): the batch norm "
                               "after each one has its own shift, β",
            standard - projection: "the shortcut has no projection: when the shape changes it "
                                   "needs a 1x1 convolution (with the stride) and batch norm",
            standard - 4 * out_ch: "batch norm is missing after a convolution (each has two "
                                   "parameters per channel, γ and β)",
        }  # fmt: skip
        otherwise = (
            "count the layers: two 3x3 convolutions without bias, a batch norm "
            "after each, and the projection where the shape changes"
        )
        return count_differs(mine, standard, where, known, otherwise, "the standard block")

    @staticmethod
    def _identity(block, x, where) -> Feedback | None:
        """With every batch norm's γ and β at 0 the residual branch gives 0: the block must then
        give back its input (which is never negative)."""
        for m in block.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                nn.init.zeros_(m.weight)
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            out = run(block.eval(), x, what=f"running {where} with γ = β = 0")
        if torch.allclose(out, x, atol=1e-6):
            return None
        if torch.allclose(out, torch.zeros_like(out)):
            return Feedback(False, f"With every batch norm's γ and β at 0, {where} gives 0: the "
                            f"shortcut is missing. The block adds its input back: "
                            f"relu(F(x) + x).")  # fmt: skip
        return Feedback(
            False,
            f"With every batch norm's γ and β at 0 the residual branch F(x) "
            f"is 0, so {where} should give back its input x; it does not. Add x "
            f"itself (not a transformed x) where the shape does not change.",
        )

    @staticmethod
    def _same_weights(block, in_ch, out_ch, stride, where) -> Feedback | None:
        """Given the standard block's weights (matched by shape, in order), the same outputs."""
        torch.manual_seed(1)
        standard = reference_block(in_ch, out_ch, stride)
        for m in standard.modules():  # γ, β and running statistics away from 1 and 0
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    nn.init.normal_(t, 0, 0.5)
                nn.init.uniform_(m.running_var, 0.5, 2)
        theirs, ours = list(block.state_dict().values()), list(standard.state_dict().values())
        if [t.shape for t in theirs] != [t.shape for t in ours]:
            return None  # another order of layers: the checks above have to do
        with torch.no_grad():
            for a, b in zip(theirs, ours, strict=True):
                a.copy_(b)
        x = torch.randn(4, in_ch, 8, 8).relu()
        for mode in ("train", "eval"):
            with torch.no_grad():
                yours = run(getattr(block, mode)(), x, what=f"running {where}")
                expected = getattr(standard, mode)()(x)
            if not close(yours, expected, 1e-5):
                return Feedback(
                    False,
                    f"Given the standard block's weights, {where} differs in "
                    f"{mode} mode {first_difference(yours, expected, 1e-5)}: check "
                    f"the order conv → BN → ReLU → conv → BN, + shortcut, ReLU.",
                )
        return None

    def hints(self) -> list[str]:
        return [
            "In __init__: conv1 = 3x3 (in_channels → out_channels, the stride, padding 1, no "
            "bias), bn1, conv2 = 3x3 (out_channels → out_channels, padding 1, no bias), bn2.",
            "The shortcut: nn.Identity() if stride == 1 and in_channels == out_channels, else "
            "nn.Sequential(1x1 convolution with the stride and no bias, batch norm).",
            "forward: out = relu(bn1(conv1(x))); out = bn2(conv2(out)); return relu(out + "
            "self.shortcut(x)): the last ReLU comes after the addition.",
        ]

    def worked_solution(self) -> str:
        return (
            "```python\n"
            "class Block(nn.Module):\n"
            "    def __init__(self, in_channels, out_channels, stride=1):\n"
            "        super().__init__()\n"
            "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)\n"
            "        self.bn1 = nn.BatchNorm2d(out_channels)\n"
            "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)\n"
            "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
            "        self.shortcut = nn.Identity()\n"
            "        if stride != 1 or in_channels != out_channels:\n"
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),\n"
            "                nn.BatchNorm2d(out_channels))\n"
            "\n"
            "    def forward(self, x):\n"
            "        out = torch.relu(self.bn1(self.conv1(x)))\n"
            "        out = self.bn2(self.conv2(out))\n"
            "        return torch.relu(out + self.shortcut(x))\n"
            "```\n\n"
            "It has the parameters of `course.models.resnet.BasicBlock` and, given its weights, "
            "its outputs in training and evaluation mode: **every check passes**."
        )
