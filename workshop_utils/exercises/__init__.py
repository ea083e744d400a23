"""Exercise checkers: one module per notebook.

Each checker runs the attendee's function on fresh inputs against a reference and returns a :class:`CheckResult`:
a short pass, or a hint pointing at the likely mistake. They share the result type and the :class:`Hint`
exception defined here.

Example::

    from workshop_utils.exercises.convolution import check_conv2d
    check_conv2d(conv2d)   # shows "Passed: ..." or a hint
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """A checker's verdict; a notebook (and ``print``) shows just its message.

    Attributes:
        passed: whether every case matched the reference.
        message: the pass line, or the hint.
        mistake: a short key for the diagnosed mistake (``""`` when passed or not classified).
        case: the input case that failed, where the checker has one (``None`` when passed).

    Example::

        result = check_conv2d(conv2d); assert result.passed, result.message
    """

    passed: bool
    message: str
    mistake: str = ""
    case: Any = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.message)


class Hint(Exception):
    """Raised inside a checker to stop at the first mistake found; its text is the hint shown to the attendee."""
