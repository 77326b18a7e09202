"""Argument checks shared by the whole package, so every function accepts the same things and
says the same thing when it refuses.

Whole numbers may come as Python ints, NumPy integers or 0-d integer tensors (all three support
``operator.index``); bools and floats are refused, even 3.0.
"""

from __future__ import annotations

import operator


def as_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int, or a ``ValueError`` that names ``name`` and what is allowed."""
    allowed = f"an int >= {minimum}" if minimum is not None else "an int"
    if isinstance(value, bool):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be {allowed}, got {number}")
    return number
