"""Coding exercises: the student writes a function or a module in the notebook, and ``check``
runs it on random cases against PyTorch and says what is wrong in the student's terms.

    task.check(my_conv2d)   # Feedback: correct, or the first thing that differs and why
    task.hint(1)            # the hint ladder, then task.solution()

What a check promises the student: it calls their code on fresh inputs (never on anything of
theirs, and it never changes their function or class); a crash inside their code comes back as
their own traceback, with the line, not as an error of the course; a check before the first
attempt (still ``None``) or after the cell that defines the code failed is neutral.

A task subclasses ``CodeTask`` and gives ``question()``, ``hints()``, ``worked_solution()`` and
``diagnose(code)``: the first problem it finds as a ``Feedback``, or None when every case
passes. It calls the student's code through ``run`` (which turns a crash into their
traceback).
"""

from __future__ import annotations

import traceback
from pathlib import Path

import torch

from course.exercises.base import Feedback, HintLadder, _answer_cell_failed

_COURSE = str(Path(__file__).resolve().parents[1])  # frames below this are the course's


class StudentCrash(Exception):
    """The student's code raised; ``message`` is their traceback, trimmed to their frames."""

    def __init__(self, exc: BaseException, what: str):
        frames = [f for f in traceback.extract_tb(exc.__traceback__)  # the student's own
                  if not f.filename.startswith(_COURSE)
                  and "-packages" not in f.filename]  # fmt: skip
        lines = "".join(traceback.format_list(frames[-4:]))
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.message = (f"Your code stopped with an error while {what}:\n\n```\n{lines}{error}\n"
                        f"```")  # fmt: skip
        super().__init__(self.message)


def run(code, *args, what: str = "running", **kwargs):
    """``code(*args, **kwargs)``; a crash inside it becomes a ``StudentCrash``."""
    try:
        return code(*args, **kwargs)
    except Exception as exc:  # the student's error, shown as theirs
        raise StudentCrash(exc, what) from None


def first_difference(yours: torch.Tensor, expected: torch.Tensor, tol: float = 1e-6) -> str:
    """Where two tensors of one shape first differ: 'at [0, 1, 2, 3]: yours 0.5, PyTorch's 0.25'."""
    bad = ~torch.isclose(yours.double(), expected.double(), rtol=tol, atol=tol)
    index = [int(i) for i in bad.nonzero()[0]]
    return (f"at [{', '.join(map(str, index))}]: yours {yours[tuple(index)].item():.6g}, "
            f"PyTorch's {expected[tuple(index)].item():.6g}")  # fmt: skip


def nothing_yet(name: str, todo: str) -> Feedback:
    """The neutral answer to code that returned None (the skeleton, or a forgotten return)."""
    return Feedback(False, f"{name} returns nothing yet (None): {todo}, then run this cell again.",
                    graded=False)  # fmt: skip


def not_a_module(built, where: str) -> Feedback | None:
    """Feedback when what the student's class built is not an ``nn.Module`` (else None)."""
    if isinstance(built, torch.nn.Module):
        return None
    return Feedback(False, f"{where} is not an nn.Module: subclass nn.Module and call "
                    f"super().__init__() first.")  # fmt: skip


def count_differs(mine: int, standard: int, where: str, known: dict[int, str], otherwise: str,
                  reference: str) -> Feedback | None:  # fmt: skip
    """Feedback when the student's module has another number of trainable parameters than the
    reference's: the known mistake that gives ``mine``, or ``otherwise``."""
    if mine == standard:
        return None
    why = known.get(mine, otherwise)
    return Feedback(False, f"{where} has {mine:,} trainable parameters, {reference} "
                    f"{standard:,}: {why}.")  # fmt: skip


def close(yours, expected: torch.Tensor, tol: float = 1e-6) -> bool:
    return (isinstance(yours, torch.Tensor) and yours.shape == expected.shape
            and torch.allclose(yours.double(), expected.double(), rtol=tol, atol=tol))  # fmt: skip


class CodeTask(HintLadder):
    """A coding exercise (see the module docstring)."""

    kind = "function"  # what the student hands to check: "function" or "class"

    def diagnose(self, code) -> Feedback | None:
        raise NotImplementedError

    def success(self) -> str:
        return "Correct: your code agrees with PyTorch on every case."

    def check(self, code) -> Feedback:
        if code is None or code is ...:
            return Feedback(False, f"Write your {self.kind} in the cell above, then run this cell "
                            f"again.", graded=False)  # fmt: skip
        if _answer_cell_failed():
            return Feedback(False, f"The cell before this one stopped with an error, so your "
                            f"{self.kind} was not (re)defined: fix it, run it, then run this cell "
                            f"again.", graded=False)  # fmt: skip
        wanted = isinstance(code, type) if self.kind == "class" else callable(code)
        if not wanted or (self.kind == "function" and isinstance(code, type)):
            name = type(code).__name__
            return Feedback(False, f"Give the {self.kind} itself (its name, without calling it), "
                            f"not a {name}.")  # fmt: skip
        try:
            with torch.random.fork_rng():  # the student's random state is left as it was
                problem = self.diagnose(code)
        except StudentCrash as crash:
            return Feedback(False, crash.message)
        return problem if problem is not None else Feedback(True, self.success())
