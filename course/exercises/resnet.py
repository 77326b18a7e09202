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

from torch import nn

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge
from course.models.resnet import Bottleneck, conv1x1
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
