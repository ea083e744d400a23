"""Argument checks shared by the library: one copy of each, each raising a ValueError that says what to pass.

Every public function checks its arguments before it builds or computes anything, so bad input stops with a
message that names the argument and the value, never with a silent wrong number or a traceback deep in Keras.

Example::

    from workshop_utils._validate import positive_int, choice

    steps = positive_int("steps", steps)           # ValueError: steps must be an integer >= 1, got 0.
    method = choice("method", method, ("euler", "rk4"))
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def positive_int(what: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) ``>= minimum``; else a ValueError naming ``what``.

    NumPy integers are accepted and returned as Python ints.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def choice(what: str, value: T, allowed: Sequence[Any]) -> T:
    """``value`` if it is one of ``allowed``; else a ValueError that lists what is allowed."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}.")
    return value


def fraction(what: str, value: Any, low: float = 0.0, high: float = 1.0, *, low_open: bool = False,
             high_open: bool = False) -> float:
    """``value`` as a ``float`` from ``low`` to ``high`` (a closed interval unless ``*_open``); else a ValueError."""
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and (value > low if low_open else value >= low) and (value < high if high_open else value <= high))
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{what} must be a number in {interval}, got {value!r}.")
    return float(value)
