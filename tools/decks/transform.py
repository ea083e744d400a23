"""Notebook -> the notebook a deck shows: slide types, tags, timing lines, cell anchors, and the deck's cells.

Notebook conventions the decks rely on (tools/AUTHORING.md; checked by tests/test_slides.py):

- every cell has ``metadata.slideshow.slide_type`` in {slide, subslide, fragment, -, skip, notes};
- the first cell is a markdown title slide (``slide``, source starting with ``# ``);
- notes cells carry what the instructor says, including a line such as
  ``Timing: talk 10 min, hands-on 15 min``.

What the deck shows differs from the notebook in six ways (:func:`deck_notebook`):

- cells tagged ``solution`` are left out;
- nbval's marker comments (``# NBVAL_CHECK_OUTPUT`` and the other ``# NBVAL_`` lines) are left out of the code
  shown: they are for the test run, not the room;
- code cells tagged ``hide-input`` (or collapsed in JupyterLab: ``metadata.jupyter.source_hidden``) show only
  their output;
- code cells tagged ``output-slide`` show their input on their slide and their output on a subslide of its own;
- cells tagged ``appendix`` move to the end of the deck, after the ``## References`` slide that ends the main
  flow (in the notebook, the appendix comes before the references, which are its last slide);
- an output that carries both a widget view and a PNG (what ``workshop_utils.display.show_widget`` stores) shows
  the PNG: a deck has no kernel to drive the widget.

Each cell of a deck is a ``<div id="cell-id=nb<index>">`` (``nb<index>-output`` for an ``output-slide`` output),
with ``<index>`` the cell's position in the notebook, so the browser test can name the cell that overflows.

Only the standard library: nbconvert is loaded by :mod:`tools.decks.export`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
# Cell tags the builder honours (tools/AUTHORING.md).
SOLUTION_TAG = "solution"
HIDE_INPUT_TAG = "hide-input"
OUTPUT_SLIDE_TAG = "output-slide"
APPENDIX_TAG = "appendix"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
ANCHOR_RE = re.compile(r"^nb(?P<index>\d+)(?P<output>-output)?$")
NBVAL_MARKER_RE = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$")  # nbval's per-cell markers, one comment a line
TIMING_RE = re.compile(
    # Either part may be left out ("Timing: hands-on 10 min"), but not both.
    r"Timing:\s*(?=talk|hands-on)(?:talk\s+(?P<talk>\d+)\s*min(?:utes)?)?"
    r"(?:\s*,?\s*hands-on\s+(?P<hands_on>\d+)\s*min(?:utes)?)?",
    re.IGNORECASE,
)


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as a dict (its JSON); ValueError, saying what to do, when it is not a notebook.

    Example: ``len(read_notebook(Path("notebooks/00_welcome.ipynb"))["cells"])  # -> 36``
    """
    try:
        with open(path, encoding="utf-8") as handle:
            nb = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid notebook JSON ({error}); open and re-save it in JupyterLab") from error
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} has no 'cells' list: is it a Jupyter notebook (.ipynb, nbformat 4)?")
    return nb


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def slide_type(cell: dict) -> str:
    """The cell's ``metadata.slideshow.slide_type``, ``"-"`` when it has none (as nbconvert reads it).

    Example: ``slide_type({"metadata": {"slideshow": {"slide_type": "notes"}}})  # -> "notes"``
    """
    slideshow = cell.get("metadata", {}).get("slideshow", {})
    if not isinstance(slideshow, dict):
        return "-"
    return slideshow.get("slide_type", "-")


def expected_slide_count(nb: dict) -> int:
    """Number of reveal.js slides nbconvert's reveal template makes from a notebook (``Reveal.getTotalSlides()``).

    Each ``slide`` and ``subslide`` cell opens one slide; the first cell that is neither ``notes`` nor
    ``skip`` is always turned into a slide (so it adds one when it was ``-`` or ``fragment``).

    Example: ``expected_slide_count(nbformat.read("notebooks/00_welcome.ipynb", 4))  # -> 12``
    """
    types = [slide_type(cell) for cell in nb.get("cells", [])]
    visible = [t for t in types if t not in ("notes", "skip")]
    if not visible:
        raise ValueError("every cell is 'notes' or 'skip': there is nothing to show; make the first cell a slide")
    count = sum(t in ("slide", "subslide") for t in types)
    if visible[0] not in ("slide", "subslide"):
        count += 1
    return count


def cell_tags(cell: dict) -> set[str]:
    """The cell's ``metadata.tags`` as a set.

    Example: ``cell_tags({"metadata": {"tags": ["solution"]}})  # -> {"solution"}``
    """
    tags = cell.get("metadata", {}).get("tags", [])
    return set(tags) if isinstance(tags, list) else set()


def first_line(cell: dict, width: int = 60) -> str:
    """The cell's first non-blank source line, cut to ``width`` characters (how error messages name a cell).

    nbval markers (``# NBVAL_CHECK_OUTPUT``) are skipped: they say nothing about the cell.
    Example: ``first_line({"source": "\\ndef vgg(x):\\n    ..."})  # -> "def vgg(x):"``
    """
    for line in _source(cell).splitlines():
        if line.strip() and not line.strip().startswith("# NBVAL_"):
            line = line.strip()
            return line if len(line) <= width else line[: width - 1] + "…"
    return "(empty)"


@dataclasses.dataclass(frozen=True)
class TimingLine:
    """One ``Timing:`` line of a notes cell: where it is and the minutes it gives."""

    cell_index: int
    talk: int
    hands_on: int
    appendix: bool

    @property
    def minutes(self) -> int:
        """Talk plus hands-on minutes."""
        return self.talk + self.hands_on


def timing_lines(nb: dict) -> list[TimingLine]:
    """Every ``Timing: talk N min, hands-on M min`` line of the notes cells, in notebook order.

    ``appendix`` is true for a line in a cell tagged ``appendix`` (such lines are not allowed: an appendix has no
    time in the slot). Example: ``timing_lines(nb)[0]  # -> TimingLine(cell_index=1, talk=5, hands_on=10, ...)``
    """
    lines = []
    for index, cell in enumerate(nb.get("cells", [])):
        if slide_type(cell) != "notes":
            continue
        appendix = APPENDIX_TAG in cell_tags(cell)
        for match in TIMING_RE.finditer(_source(cell)):
            lines.append(TimingLine(index, int(match["talk"] or 0), int(match["hands_on"] or 0), appendix))
    return lines


def notebook_timing(nb: dict) -> tuple[int, int]:
    """Talk and hands-on minutes summed over the ``Timing:`` lines of the main flow's notes cells.

    Cells tagged ``appendix`` do not count (they must not carry a Timing line; see :func:`timing_lines`).
    Example: ``notebook_timing(nb)  # -> (10, 15)``
    """
    main = [line for line in timing_lines(nb) if not line.appendix]
    return sum(line.talk for line in main), sum(line.hands_on for line in main)


def notebook_title(nb: dict, fallback: str) -> str:
    """Text of the first ``# `` heading of the first markdown cell, else ``fallback``.

    Example: ``notebook_title(nb, "00_welcome")  # -> "CNN Architectures: welcome"``
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            break
    return fallback


def cell_anchor(index: int, output: bool = False) -> str:
    """The id a notebook cell gets in its deck (``nb<index>``; ``nb<index>-output`` for a split-off output).

    In the HTML it appears as ``id="cell-id=nb<index>"``. Example: ``cell_anchor(12)  # -> "nb12"``
    """
    return f"nb{index}-output" if output else f"nb{index}"


def parse_anchor(anchor: str) -> tuple[int, bool]:
    """Inverse of :func:`cell_anchor`: ``(index, is_output)``; accepts the HTML form ``cell-id=nb12`` too.

    Example: ``parse_anchor("cell-id=nb12-output")  # -> (12, True)``
    """
    match = ANCHOR_RE.match(anchor.removeprefix("cell-id="))
    if match is None:
        raise ValueError(f"{anchor!r} is not a deck cell id (nb<index> or nb<index>-output)")
    return int(match["index"]), bool(match["output"])


def strip_nbval_markers(source: str) -> str:
    """``source`` without its nbval marker lines (``# NBVAL_CHECK_OUTPUT``, ``# NBVAL_SKIP``, ...).

    nbval reads a marker on any line of its own; other comments and code stay as they are.
    Example: ``strip_nbval_markers("# NBVAL_CHECK_OUTPUT\\nprint(1)")  # -> "print(1)"``
    """
    return "".join(line for line in source.splitlines(keepends=True) if not NBVAL_MARKER_RE.match(line))


def _static_output(output: dict) -> dict:
    data = output.get("data")
    if isinstance(data, dict) and WIDGET_VIEW_MIME in data and "image/png" in data:
        output = copy.deepcopy(output)
        del output["data"][WIDGET_VIEW_MIME]  # no widget manager in a deck: show the figure
    return output


def _set_slide_type(cell: dict, kind: str) -> None:
    cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = kind


def deck_notebook(nb: dict) -> dict:
    """The notebook as its deck shows it (a new dict; ``nb`` is not changed).

    - cells tagged ``solution`` are dropped;
    - nbval marker lines are removed from code cells' source (:func:`strip_nbval_markers`);
    - code cells tagged ``hide-input``, or collapsed in JupyterLab (``metadata.jupyter.source_hidden``), keep
      only their outputs (``metadata.transient.remove_source``, which nbconvert's templates honour);
    - code cells tagged ``output-slide`` keep their input, and their outputs go to a new subslide right after;
    - cells tagged ``appendix`` move to the end, the first visible one starting a new slide;
    - outputs with both a widget view and a PNG keep the PNG only; the notebook's saved widget state is dropped;
    - every cell's id becomes :func:`cell_anchor` of its index in ``nb``.

    Example: ``[c["id"] for c in deck_notebook(nb)["cells"]]  # -> ["nb0", "nb1", "nb3", ...]``
    """
    main: list[dict] = []
    appendix: list[dict] = []
    opens: str | None = None  # the slide a dropped solution cell opened, passed on to the next shown cell
    for index, original in enumerate(nb.get("cells", [])):
        tags = cell_tags(original)
        if SOLUTION_TAG in tags:
            if slide_type(original) in ("slide", "subslide") and opens != "slide":
                opens = slide_type(original)
            continue
        cell = copy.deepcopy(original)
        cell["id"] = cell_anchor(index)
        if opens and slide_type(cell) in ("-", "fragment"):
            _set_slide_type(cell, opens)
        if slide_type(cell) not in ("notes", "skip"):
            opens = None
        shown = [cell]
        if cell.get("cell_type") == "code":
            cell["source"] = strip_nbval_markers(_source(cell))
            cell["outputs"] = [_static_output(o) for o in cell.get("outputs", [])]
            if HIDE_INPUT_TAG in tags or cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
                cell["metadata"]["transient"] = {"remove_source": True}
            if OUTPUT_SLIDE_TAG in tags and cell["outputs"] and slide_type(cell) not in ("skip", "notes"):
                output = copy.deepcopy(cell)
                output["id"] = cell_anchor(index, output=True)
                output["metadata"]["transient"] = {"remove_source": True}
                _set_slide_type(output, "subslide")
                cell["outputs"] = []
                shown.append(output)
        (appendix if APPENDIX_TAG in tags else main).extend(shown)
    visible = [c for c in appendix if slide_type(c) not in ("skip", "notes")]
    if visible and slide_type(visible[0]) not in ("slide", "subslide"):
        _set_slide_type(visible[0], "slide")
    deck = copy.deepcopy({key: value for key, value in nb.items() if key != "cells"})
    deck.get("metadata", {}).pop("widgets", None)
    deck["cells"] = main + appendix
    return deck
