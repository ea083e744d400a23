"""Exercise checkers: one module per notebook.

Each checker runs the attendee's function on fresh inputs against a reference and returns a :class:`CheckResult`:
a short pass, or a hint pointing at the likely mistake. They share the result type and the :class:`Hint`
exception defined here.

Example::

    from workshop_utils.exercises.convolution import check_conv2d
    check_conv2d(conv2d)   # shows "Passed: ..." or a hint

New checkers are written with :func:`run_check`: the checks raise :class:`Hint` (with a short ``mistake`` key)
at the first problem, and the runner turns that into one :class:`CheckResult` with the shared wording
(``Passed: ...`` / ``Not yet: ...``). The steps a checker of a Keras block repeats (the preamble, build or hint,
reading the graph, copying weights into the reference, comparing outputs) are in :mod:`._toolkit`.
A result displays itself once, so a checker call needs no trailing ``;``;
a notebook shows its message wrapped at :data:`DISPLAY_WIDTH` characters, so it fits a slide.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PASS_PREFIX = "Passed: "
FAIL_PREFIX = "Not yet: "


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
        printer.text(wrap_message(self.message))


DISPLAY_WIDTH = 110
"""Characters per line when a notebook shows a result: longer lines wrap on a 1280x720 slide."""


def wrap_message(message: str, width: int = DISPLAY_WIDTH) -> str:
    """``message`` with each line broken at spaces to at most ``width`` characters (words are never split).

    Example::

        wrap_message("Passed: " + "word " * 40).count("\\n")   # 1
    """
    return "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
                     for line in message.splitlines() or [""])


class Hint(Exception):
    """Raised inside a checker to stop at the first mistake found; its text is the hint shown to the attendee.

    Args:
        message: what is wrong and what to change, in the attendee's terms.
        mistake: a short key naming the diagnosed mistake (``"bias_before_bn"``), which tests assert on.
        case: the input case that showed it, if any.

    Example::

        raise Hint("The pointwise conv has a bias; BN right after makes it useless: use_bias=False.",
                   mistake="bias_before_bn")
    """

    def __init__(self, message: str, mistake: str = "", case: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.case = case


def run_check(checks: Callable[[], str], not_written: str | None = None) -> CheckResult:
    """Run an exercise's checks and return one :class:`CheckResult` with the shared wording.

    ``checks`` raises :class:`Hint` at the first mistake it finds and otherwise returns a one-line description of
    what passed. ``NotImplementedError`` from the attendee's stub becomes a "not written yet" result; any other
    exception from their code is reported with its type and text (the checker should catch the ones it can
    explain and raise a :class:`Hint` instead). ``not_written`` replaces the generic "not written yet" text with
    one that says what to write.

    Example::

        def check_block(fn):
            def checks():
                if wrong(fn):
                    raise Hint("...", mistake="missing_bn")
                return "your block matches the reference on 4 shapes."
            return run_check(checks)
    """
    try:
        detail = checks()
    except Hint as hint:
        return CheckResult(False, FAIL_PREFIX + hint.message, hint.mistake, hint.case)
    except NotImplementedError:
        return CheckResult(False, FAIL_PREFIX + (not_written or "not written yet: replace `raise NotImplementedError` "
                                                 "with your code, then run this cell again."), "not_written")
    return CheckResult(True, PASS_PREFIX + detail)
