"""The VGG lecture's exercise (notebook 05): how many input pixels does one unit after a stack
of layers see?

    from course.exercises.vgg import ReceptiveFieldTask
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course.checks import as_int
from course.exercises.base import Feedback, HintLadder, judge, without_duplicates
from course.measure.conv import receptive_fields


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
        return without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return judge(
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


@dataclass(frozen=True)
class LinearParamsTask(HintLadder):
    """How many trainable parameters has a fully connected layer on a flattened map of
    ``channels`` x ``side`` x ``side`` values, with ``out_features`` outputs and biases?"""

    channels: int
    side: int
    out_features: int
    name: str = "the layer"

    def __post_init__(self):
        for field in ("channels", "side", "out_features"):
            object.__setattr__(self, field, as_int(getattr(self, field), field, 1))

    def question(self) -> str:
        return (
            f"{self.name} takes the last max-pool's output, {self.channels} channels of "
            f"{self.side}x{self.side}, flattened into one vector, and gives {self.out_features:,} "
            f"outputs, each with a bias. How many trainable parameters does it have?"
        )

    def _inputs(self) -> int:
        return self.channels * self.side * self.side

    def _answer(self) -> int:
        from torch import nn

        with torch.device("meta"):  # counted on PyTorch's layer, no memory taken
            layer = nn.Linear(self._inputs(), self.out_features)
        return sum(p.numel() for p in layer.parameters())

    def known_mistakes(self) -> list[tuple[int, str]]:
        n, c, out = self._inputs(), self.channels, self.out_features
        candidates = [
            (n * out, "The weights are right; each output also has a bias."),
            (c * out + out, "The layer sees every position of the map, not only one value per "
             "channel: flatten all side x side positions of every channel."),
            (n * out + n, "There is one bias per output, not per input."),
            (c * self.side * out + out, "The map is side x side: both the height and the "
             "width count."),
        ]  # fmt: skip
        return without_duplicates(candidates, self._answer())

    def check(self, answer) -> Feedback:
        return judge(
            answer, self._answer(), self.known_mistakes(),
            "A fully connected layer has one weight per (input, output) pair, plus one bias per "
            "output.",
        )  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "First count the layer's inputs: every value of the flattened map.",
            "Every output is a weighted sum of all the inputs, plus its own bias.",
        ]

    def worked_solution(self) -> str:
        n = self._inputs()
        return (
            f"{self.side}·{self.side}·{self.channels} = {n:,} inputs; {n:,} · "
            f"{self.out_features:,} weights + {self.out_features:,} biases = "
            f"**{self._answer():,}**, as `nn.Linear({n}, {self.out_features})` counts."
        )


FC6_TASK = LinearParamsTask(512, 7, 4096, name="VGG-16's first fully connected layer, fc6,")
