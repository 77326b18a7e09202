"""The AlexNet lecture's coding exercise (notebook 04): its ten test-time views.

    from course.exercises.alexnet import TenViewTask
    TenViewTask().check(my_ten_views)

The student's ``ten_views(x, size)`` is compared with the course's ``ten_crop_views`` (the one
``evaluate(..., tta="ten_crop")`` uses) on images of odd and even, square and oblong sizes, as a
set: the order of the views does not change their average.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course.exercises.base import Feedback
from course.exercises.coding import CodeTask, nothing_yet, run
from course.training.batches import ten_crop_views

NAMES = ["top-left corner", "top-right corner", "bottom-left corner", "bottom-right corner",
         "centre"]  # fmt: skip
VIEW_NAMES = NAMES + [f"{name}, mirrored" for name in NAMES]  # ten_crop_views' order


@dataclass(frozen=True)
class TenViewTask(CodeTask):
    """Write ``ten_views(x, size)``: AlexNet's ten views of a batch ``x`` (N, C, H, W), each
    (N, C, size, size)."""

    cases: tuple = (((2, 3, 9, 11), 5), ((1, 1, 8, 8), 6), ((2, 1, 7, 10), 7))  # (shape, size)

    def question(self) -> str:
        return (
            "Write ten_views(x, size) for a batch x (N, C, H, W): the four corner crops and the "
            "centre crop, size x size each, then the same five mirrored left to right; return "
            "the ten (a list, or a tensor with 10 in front)."
        )

    def diagnose(self, ten_views) -> Feedback | None:
        for shape, size in self.cases:
            x = torch.arange(torch.Size(shape).numel(), dtype=torch.float32).view(shape)
            where = f"an input {shape} and size {size}"
            views = run(ten_views, x.clone(), size, what=f"computing the views of {where}")
            if views is None:
                return nothing_yet("ten_views", "crop, mirror and return the views")
            views = list(views) if isinstance(views, (list, tuple, torch.Tensor)) else None
            if views is None or not all(isinstance(v, torch.Tensor) for v in views):
                return Feedback(False, "ten_views must return the views: a list of tensors, or "
                                "one tensor with the views along its first axis.")  # fmt: skip
            if len(views) != 10:
                return Feedback(False, f"For {where} you return {len(views)} views; AlexNet "
                                f"averages 10: 5 crops (4 corners and the centre) and each "
                                f"mirrored left to right.")  # fmt: skip
            want = (*shape[:2], size, size)
            wrong = [tuple(v.shape) for v in views if tuple(v.shape) != want]
            if wrong:
                return Feedback(False, f"For {where} a view is {wrong[0]}; each should be {want}: "
                                f"size x size pixels of every image and channel.")  # fmt: skip
            problem = self._compare(views, ten_crop_views(x, size), x, size, where)
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _compare(views, expected, x, size, where) -> Feedback | None:
        found = [any(torch.equal(v, e) for v in views) for e in expected]
        if all(found):
            return None
        missing = [name for name, ok in zip(VIEW_NAMES, found, strict=True) if not ok]
        if any(torch.equal(v, e.flip(-1).flip(-2)) for v in views for e in expected[5:]):
            why = "mirror left to right (flip the last axis, -1), not upside down (-2)"
        elif len({tuple(v.flatten().tolist()) for v in views}) <= 5:
            why = "the mirrored views are missing: the same five crops, flipped left to right"
        elif not found[4] or not found[9]:
            h, w = x.shape[-2:]
            why = (f"the centre crop starts at row (H − size) // 2 = {(h - size) // 2} and column "
                   f"(W − size) // 2 = {(w - size) // 2} here")  # fmt: skip
        else:
            why = "a corner crop takes the first or the last size rows and columns"
        return Feedback(False, f"For {where} these views are missing or differ: "
                        f"{'; '.join(missing)}. Hint: {why}.")  # fmt: skip

    def hints(self) -> list[str]:
        return [
            "A crop is a slice of the last two axes: x[..., top:top + size, left:left + size].",
            "The corners start at top 0 or H − size and left 0 or W − size; the centre at "
            "((H − size) // 2, (W − size) // 2).",
            "Mirror each of the five crops left to right with .flip(-1) and return all ten.",
        ]

    def worked_solution(self) -> str:
        return (
            "```python\n"
            "def ten_views(x, size):\n"
            "    h, w = x.shape[-2:]\n"
            "    top, left = (h - size) // 2, (w - size) // 2\n"
            "    crops = [x[..., :size, :size], x[..., :size, w - size:],\n"
            "             x[..., h - size:, :size], x[..., h - size:, w - size:],\n"
            "             x[..., top:top + size, left:left + size]]\n"
            "    return crops + [crop.flip(-1) for crop in crops]\n"
            "```\n\n"
            'These are the views `evaluate(..., tta="ten_crop")` averages: **every check '
            "passes**."
        )
