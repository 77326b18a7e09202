"""The closing exercise (notebook 10): design a network of your own under a budget.

    from course.exercises.design import DesignTask
    task = DesignTask(parameters=60_000, macs=5_000_000)
    print(task.question()); task.check(Net)

The student writes ``class Net(nn.Module)`` whose ``Net()`` classifies 32x32 Fashion-MNIST
images (one channel, ten classes). ``check`` builds it, runs it on a batch in PyTorch, counts
its parameters and MACs (``course.measure.budget.costs``), and says what to change: the input
or output it gets wrong, or the layer that spends most of the budget it exceeds.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import torch

from course.checks import as_int
from course.exercises.base import Feedback
from course.exercises.coding import CodeTask, not_a_module, nothing_yet, run
from course.measure.budget import costs
from course.measure.probe import first_convolution
from course.models.summary import summarize

SIDE, CLASSES = 32, 10  # Fashion-MNIST resized to 32x32 (architectures' data), ten classes


@dataclass(frozen=True)
class DesignTask(CodeTask):
    """``class Net(nn.Module)``, built as ``Net()``: (N, 1, 32, 32) images to (N, 10) scores,
    with at most ``parameters`` trainable parameters and ``macs`` MACs per image."""

    parameters: int = 60_000
    macs: int = 5_000_000
    kind = "class"

    def __post_init__(self):
        for name in ("parameters", "macs"):
            object.__setattr__(self, name, as_int(getattr(self, name), name, 1))

    def question(self) -> str:
        return textwrap.fill(
            f"Write class Net(nn.Module), built as Net(), that takes a batch of Fashion-MNIST "
            f"images of shape (N, 1, {SIDE}, {SIDE}) and returns {CLASSES} scores per image "
            f"(N, {CLASSES}), with at most {self.parameters:,} trainable parameters and "
            f"{self.macs:,} MACs per image. Use what the lecture taught.",
            100,  # a notebook column
        )

    def diagnose(self, net_class) -> Feedback | None:
        torch.manual_seed(0)
        net = run(net_class, what="building Net()")
        problem = not_a_module(net, "Net()")
        if problem:
            return problem
        if not any(True for _ in net.children()):  # the skeleton: no layers yet
            return nothing_yet("Net", "add your layers in __init__ and use them in forward")
        first = first_convolution(net)
        if first is None:
            return Feedback(False, "Net() has no nn.Conv2d: this course's networks are "
                            "convolutional; start with a 3x3 convolution.")  # fmt: skip
        name, conv = first
        if conv.in_channels != 1:
            return Feedback(False, f"Your first convolution ({name}) takes {conv.in_channels} "
                            f"channels; Fashion-MNIST images have 1 (grey).")  # fmt: skip
        net.eval()
        with torch.no_grad():
            out = run(net, torch.rand(2, 1, SIDE, SIDE), what=f"running Net() on a batch of "
                      f"2 images of 1x{SIDE}x{SIDE}")  # fmt: skip
        if out is None:
            return nothing_yet("Net's forward", "return the scores")
        if not torch.is_tensor(out) or tuple(out.shape) != (2, CLASSES):
            got = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
            why = (" Its output is still a stack of maps: average each map (global average "
                   "pooling, x.mean(dim=(2, 3))) and end with an nn.Linear to 10 classes."
                   if torch.is_tensor(out) and out.ndim == 4 else "")  # fmt: skip
            return Feedback(False, f"For 2 images Net() returned {got}, not (2, {CLASSES}): one "
                            f"score per class and image.{why}")  # fmt: skip
        found = costs(net, (1, SIDE, SIDE))
        if found["parameters"] > self.parameters:
            top = max(summarize(net, (1, SIDE, SIDE)), key=lambda r: r.parameters)
            return Feedback(False, f"Net() has {found['parameters']:,} trainable parameters, "
                            f"{found['parameters'] - self.parameters:,} over the budget. The "
                            f"largest layer is {top.name} ({top.kind}) with {top.parameters:,} "
                            f"({top.parameters / found['parameters']:.0%}). "
                            f"{self._fewer_parameters(top)}")  # fmt: skip
        if found["macs"] > self.macs:
            top = max(summarize(net, (1, SIDE, SIDE)), key=lambda r: r.macs)
            side = "x".join(map(str, top.output_shape[2:]))
            return Feedback(False, f"Net() computes {found['macs']:,} MACs per image, "
                            f"{found['macs'] - self.macs:,} over the budget. The layer that "
                            f"computes most is {top.name} ({top.kind}, {top.macs:,} MACs) on "
                            f"{side} maps: a layer's MACs grow with its map's area, so fewer "
                            f"channels where maps are large, or halve the map sooner (stride "
                            f"2).")  # fmt: skip
        object.__setattr__(self, "_found", found)  # for success()
        return None

    @staticmethod
    def _fewer_parameters(top) -> str:
        if top.kind == "Linear":
            return ("A linear layer on flattened maps pays for every position: average each map "
                    "first (global average pooling), as GoogLeNet does.")  # fmt: skip
        return ("A 3x3 convolution costs 9 x its input x its output channels: fewer channels, "
                "or a 1x1 bottleneck around it (notebook 06).")  # fmt: skip

    def success(self) -> str:
        found = getattr(self, "_found", None) or {}
        return (f"Within the budget: {found.get('parameters', 0):,} parameters, "
                f"{found.get('macs', 0):,} MACs per image, {found.get('depth', 0)} layers deep. "
                f"Train it below and see where it lands on the chart.")  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "Count before you train: budget_table(Net(), parameters=..., macs=...) gives the "
            "totals, and summarize(Net(), (1, 32, 32)) each layer's share.",
            "Keep the 3x3 stride-1 stem of section 2 and global average pooling: they cost "
            "almost nothing, and such a stem is what let 09's later designs pass VGG.",
            "The worked example is over both limits; its widths (16, 32, 64, 128) halved give a "
            "quarter of its parameters and MACs: convolutions cost in-channels x out-channels.",
        ]

    def worked_solution(self) -> str:
        return (
            "The worked example at half the width, with its blocks from above:\n\n"
            "```python\nclass Net(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.stem = nn.Sequential(conv_bn(1, 8), basic(8))\n"
            "        self.stage1 = nn.Sequential(conv_bn(8, 16, stride=2), basic(16))\n"
            "        self.stage2 = nn.Sequential(conv_bn(16, 32, stride=2), basic(32))\n"
            "        self.stage3 = nn.Sequential(conv_bn(32, 64, stride=2), bottleneck(64, 16))\n"
            "        self.head = nn.Linear(64, 10)\n\n"
            "    def forward(self, x):\n"
            "        x = self.stage3(self.stage2(self.stage1(self.stem(x))))\n"
            "        return self.head(x.mean(dim=(2, 3)))\n```\n\n"
            "Its parameters and MACs are a quarter of the worked example's; task.check(Net) "
            "counts them."
        )
