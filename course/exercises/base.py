"""What every exercise of the course shares: answers read in the forms a student types,
feedback that points at the mistake without giving the answer away, and a hint ladder whose
worked solution appears only when asked for.

    task.check(12345)       # Feedback: correct, or a hint about the likely mistake
    task.hint(1)            # the hint ladder: hint(1), hint(2), ...
    task.solution()         # the worked solution, only when asked for

Answers may be typed as a student writes them: 73856, 73_856, "73,856", "73 856" or arithmetic
such as 3*3*64*128 + 128, also as text in the course's own notation: "3x3x64x128 + 128",
"577 × 128", "3**2 * 64" or "3^2 * 64". Text is read, never run: only numbers and + - * / // and
powers, at most ``MAX_CHARS`` characters, no result beyond ``LARGEST``. A check before the first
attempt (the answer still ``None``) is neutral, not wrong. A task is a frozen dataclass that
subclasses ``HintLadder`` and gives ``question()``, ``check(answer)``, ``hints()`` and
``worked_solution()``.
"""

from __future__ import annotations

import ast
import functools
import math
import numbers
import operator
import re
from dataclasses import dataclass

from course.checks import as_int


@dataclass(frozen=True)
class Feedback:
    """What a check says. ``graded=False``: nothing was judged yet (no answer given, or the
    answer's cell failed), shown with a pencil rather than a red cross."""

    correct: bool
    message: str
    graded: bool = True

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return f"{'✅' if self.correct else '❌' if self.graded else '✏️'} {self.message}"

    def __repr__(self) -> str:
        state = "correct" if self.correct else "not yet" if self.graded else "waiting"
        return f"{state}: {self.message}"


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


_SETTLED: set = set()  # the tasks solved, or whose solution was shown, in this session


class HintLadder:
    """Hints one rung at a time, then the worked solution, each only when asked for.

    A task gives ``hints()`` (a list, gentlest first) and ``worked_solution()`` (Markdown).
    ``settled`` is True once the task was solved or its solution shown: a table further down
    the notebook shows the answer only then (``shown``)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("check", "check_channels"):
            if name in cls.__dict__:
                setattr(cls, name, _settles(cls.__dict__[name]))

    @property
    def settled(self) -> bool:
        return self in _SETTLED

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
        _SETTLED.add(self)
        return Note("Worked solution", self.worked_solution())


def _settles(check):
    """``check``, and a right answer settles the task."""

    @functools.wraps(check)
    def checked(self, answer):
        feedback = check(self, answer)
        if feedback:
            _SETTLED.add(self)
        return feedback

    return checked


def shown(value: int, task: HintLadder | None) -> str:
    """``value`` as a table prints it (``1,234``), or "?" while ``task`` (the exercise it
    answers) is not settled."""
    return f"{value:,}" if task is None or task.settled else "?"


MAX_CHARS = 200  # an answer fits on a line; longer text is refused before it is parsed
LARGEST = 10**15  # far above every answer in the course; a larger number is a slip
FORMS = "a whole number (1234, 1_234 or '1,234') or arithmetic such as 12 * 34 + 5 or 2^5"
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
              ast.USub: operator.neg, ast.UAdd: operator.pos}  # fmt: skip


class _Unreadable(Exception):
    """The text is not arithmetic on numbers; the message says why, to the student."""


def read_number(answer) -> int | float | Feedback:
    """The answer as a number, from the forms a student types (see the module docstring), or
    friendly feedback saying why it is not one."""
    if answer is None or answer is ...:
        return Feedback(False, "Replace `None` with your answer, then run this cell again.",
                        graded=False)  # fmt: skip
    if _answer_cell_failed():
        return Feedback(False, "The cell before this one stopped with an error, so your answer "
                        "was not stored (an older value may still be): fix it, run it, then run "
                        "this cell again.", graded=False)  # fmt: skip
    if isinstance(answer, bool):
        return Feedback(False, f"{answer} is a truth value; the answer is a number.")
    if isinstance(answer, str):
        return _read_text(answer)
    if not isinstance(answer, numbers.Real):
        try:  # NumPy integers, 0-d tensors
            answer = operator.index(answer)
        except TypeError:
            return Feedback(False, f"Give the answer as a number, not a {type(answer).__name__}.")
    if isinstance(answer, float) and not math.isfinite(answer):
        return Feedback(False, f"{answer} is not a finite number; the answer is a whole number.")
    if abs(answer) > LARGEST:
        return Feedback(False, "That number is far larger than any answer here (over 10**15).")
    return answer


def _answer_cell_failed() -> bool:
    """In IPython: did the cell run just before this one end with an error? Then a variable it
    was to set still holds an older value (or none), and grading it would mislead."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "last_execution_succeeded", True) is False


def _read_text(text: str) -> int | float | Feedback:
    if len(text) > MAX_CHARS:
        return Feedback(False, f"That text is {len(text):,} characters long; an answer fits on a "
                        f"line (at most {MAX_CHARS}). Write {FORMS}.")  # fmt: skip
    plain = re.sub(r"(?<=\d)[,_ \u00a0\u202f](?=\d{3}(?!\d))", "", text.strip())
    if re.fullmatch(r"[+-]?\d+", plain):
        return read_number(int(plain))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", plain) and not float(plain).is_integer():
        meant = int(plain.replace(".", ""))
        return Feedback(
            False,
            f"Did you mean {meant:,}? Here a dot is a decimal point, so "
            f"{plain} is a fraction; write {meant} or '{meant:,}'.",
            graded=False,
        )
    expression = re.sub(r"(?<=[\d)])\s*[xX×·]\s*(?=[\d(])", "*", plain).replace("^", "**")
    try:
        value = _evaluate(ast.parse(expression, mode="eval").body)
    except (SyntaxError, ValueError, RecursionError, MemoryError, _Unreadable) as exc:
        why = f" ({exc})" if isinstance(exc, _Unreadable) and str(exc) else ""
        return Feedback(False, f"{text!r} is not a number I can read{why}. Write {FORMS}.")
    except ZeroDivisionError:
        return Feedback(False, f"{text!r} cannot be computed (a division by zero?).")
    return read_number(value)


def _evaluate(node: ast.AST) -> int | float:
    """Numbers and + - * / // ** alone, each intermediate result within ``LARGEST`` (so that no
    power or product can take the machine's memory); anything else is unreadable."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        value = _OPERATORS[type(node.op)](_evaluate(node.operand))
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and not (
            float(right).is_integer() and 0 <= right <= 64
            and (abs(left) <= 1 or right * math.log10(abs(left)) <= 15)
        ):  # fmt: skip
            raise _Unreadable("powers up to 64, with a result below 10**15")
        value = _OPERATORS[type(node.op)](left, int(right) if isinstance(node.op, ast.Pow)
                                          else right)  # fmt: skip
    else:
        raise _Unreadable("")
    if abs(value) > LARGEST:
        raise _Unreadable("a number over 10**15")
    return value


def read_count(answer) -> int | Feedback:
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


def judge(answer, correct: int, mistakes: list[tuple[int, str]], advice: str,
          unit: str = "trainable parameters") -> Feedback:  # fmt: skip
    """Feedback on ``answer``: correct, a known mistake's hint, or too high/low + advice."""
    count = read_count(answer)
    if isinstance(count, Feedback):
        return count
    if count == correct:
        return Feedback(True, f"Correct: {count:,} {unit}.")
    for value, hint in mistakes:
        if count == value:
            return Feedback(False, f"Not quite. {hint}")
    too = "high" if count > correct else "low"
    return Feedback(False, f"{count:,} is too {too}. {advice}")


def without_duplicates(candidates: list[tuple[int, str]], answer: int) -> list[tuple[int, str]]:
    """Drop candidates equal to the answer (a formula that happens to be right) or to an
    earlier candidate; the first hint for a value wins."""
    seen, result = set(), []
    for value, hint in candidates:
        if value != answer and value not in seen:
            seen.add(value)
            result.append((value, hint))
    return result
