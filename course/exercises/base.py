"""What every exercise of the course shares: answers read in the forms a student types,
feedback that points at the mistake without giving the answer away, and a hint ladder whose
worked solution appears only when asked for.

    task.check(12345)       # Feedback: correct, or a hint about the likely mistake
    task.hint(1)            # the hint ladder: hint(1), hint(2), ...
    task.solution()         # the worked solution, only when asked for

Answers may be typed as a student writes them: 73856, 73_856, "73,856", "73 856" or an
expression such as 3*3*64*128 + 128 (or the same as text). A task is a frozen dataclass that
subclasses ``HintLadder`` and gives ``question()``, ``check(answer)``, ``hints()`` and
``worked_solution()``.
"""

from __future__ import annotations

import ast
import numbers
import operator
import re
from dataclasses import dataclass

from course.checks import as_int


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
