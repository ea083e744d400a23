"""Each notebook fits its slot in the day, keeps its appendix untimed, and ends with its references.

- **Pacing**: the ``Timing: talk N min, hands-on M min`` lines of a notebook's speaker notes add up to at most its
  slot: the minutes of the sessions in ``workshop_utils.agenda.PROGRAM`` that name it (01: 30, 02: 30, 03: 40,
  04: 50, 05: 20, 06: 45, 07: 60, 08: 30, 09: 15; the welcome, 00: 15).
- **Appendix** ("if time allows / at home"): cells tagged ``appendix`` carry no Timing line; they form one block
  that starts with a ``## Appendix`` heading and sits right before the references.
- **References**: the notebook's last slide, which is also the last slide of the deck's main flow (the deck
  builder moves the appendix after it), is a ``## References`` markdown slide listing every paper quoted, each
  entry with a year.

Fast (no kernel, no browser); covers every notebook in notebooks/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import build_slides as bs  # repo root is on sys.path: root conftest.py
from workshop_utils.agenda import slot_minutes

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
REFERENCES_RE = re.compile(r"^##\s+References\b")
APPENDIX_RE = re.compile(r"^##\s+Appendix\b")
YEAR_RE = re.compile(r"\b(19|20)\d\d\b")
WEB_RE = re.compile(r"https?://|\b[\w-]+\.(org|com|net|io|dev|ai)/")


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# The rules, as functions that return what is wrong (tested both ways below)


def pacing_problems(nb: dict, slot: int, name: str) -> list[str]:
    """What breaks the pacing rules: a total over the slot, a Timing line in an appendix cell."""
    lines = bs.timing_lines(nb)
    problems = []
    main = [line for line in lines if not line.appendix]
    total = sum(line.minutes for line in main)
    if total > slot:
        detail = ", ".join(f"cell {line.cell_index}: {line.talk}+{line.hands_on}" for line in main)
        problems.append(
            f"{name}: the Timing lines add up to {total} min for a {slot}-min slot ({detail}); trim, or move "
            "sections to the appendix (cells tagged `appendix`, no Timing)"
        )
    for line in lines:
        if line.appendix:
            problems.append(f"{name}: cell {line.cell_index} is tagged `appendix` but has a Timing line; "
                            "an appendix takes no time of the slot: drop the line")
    return problems


def _opens_slide(cell: dict) -> bool:
    return bs.slide_type(cell) in ("slide", "subslide")


def references_problems(nb: dict, name: str) -> list[str]:
    """What breaks the references rule: the notebook's last slide is not ``## References`` with dated entries."""
    cells = nb["cells"]
    openers = [i for i, cell in enumerate(cells) if _opens_slide(cell)]
    refs = [i for i in openers if cells[i]["cell_type"] == "markdown" and REFERENCES_RE.match(bs._source(cells[i]))]
    if not refs:
        return [f"{name}: no `## References` slide; end the notebook with one (a markdown cell of slide type "
                "`slide`): every paper quoted, with authors, year and arXiv id or venue"]
    problems = []
    last = openers[-1]
    if refs[-1] != last:
        problems.append(f"{name}: `## References` (cell {refs[-1]}) must be the notebook's last slide, but cell {last} "
                        f"`{bs.first_line(cells[last])}` opens a slide after it")
    if bs.APPENDIX_TAG in bs.cell_tags(cells[refs[-1]]):
        problems.append(f"{name}: the References cell {refs[-1]} must not be tagged `appendix` (it ends the main flow)")
    entries = reference_entries(bs._source(cells[refs[-1]]))
    if not entries:
        problems.append(f"{name}: the References slide (cell {refs[-1]}) lists no entry; one bullet per paper")
    # A paper needs its year; a web page (a link or a domain path, e.g. a blog post the deck cites) may have none.
    undated = [entry[:70] for entry in entries if not YEAR_RE.search(entry) and not WEB_RE.search(entry)]
    if undated:
        problems.append(f"{name}: references without a year (authors, year, arXiv id or venue): {undated}")
    return problems


def reference_entries(markdown: str) -> list[str]:
    """The bullets or numbered items of a references cell, each joined with its continuation lines."""
    entries: list[str] = []
    for line in markdown.splitlines():
        if re.match(r"\s{0,3}([-*+]|\d+[.)])\s", line):
            entries.append(line.strip())
        elif entries and line.strip() and line[:1].isspace():
            entries[-1] += " " + line.strip()
    return entries


def appendix_problems(nb: dict, name: str) -> list[str]:
    """What breaks the appendix layout: tagged cells scattered, not headed ``## Appendix``, or not before the refs."""
    cells = nb["cells"]
    tagged = [i for i, cell in enumerate(cells) if bs.APPENDIX_TAG in bs.cell_tags(cell)]
    headings = [i for i, cell in enumerate(cells)
                if cell["cell_type"] == "markdown" and APPENDIX_RE.match(bs._source(cell))]
    if not tagged and not headings:
        return []
    if headings and not tagged:
        return [f"{name}: cell {headings[0]} starts an appendix but no cell is tagged `appendix`: tag every cell "
                "of the appendix (the deck moves them after the references)"]
    problems = []
    start, end = tagged[0], tagged[-1]
    untagged = [i for i in range(start, end + 1) if i not in tagged]
    if untagged:
        problems.append(f"{name}: cells {untagged} sit inside the appendix (cells {start}–{end}) but are not tagged "
                        "`appendix`")
    if not (cells[start]["cell_type"] == "markdown" and APPENDIX_RE.match(bs._source(cells[start]))):
        problems.append(f"{name}: the appendix starts at cell {start} `{bs.first_line(cells[start])}`; start it with "
                        "a `## Appendix — if time allows / at home` slide")
    after = [i for i in range(end + 1, len(cells)) if bs.slide_type(cells[i]) not in ("notes", "skip")]
    if after and not (cells[after[0]]["cell_type"] == "markdown" and REFERENCES_RE.match(bs._source(cells[after[0]]))):
        problems.append(f"{name}: the appendix must come right before the `## References` slide, but cell {after[0]} "
                        f"`{bs.first_line(cells[after[0]])}` follows it")
    return problems


# ---------------------------------------------------------------------------------------------
# Every notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_fits_its_slot(path: Path) -> None:
    nb = _read(path)
    slot = slot_minutes(path.stem)  # KeyError (with what to do) when no session names the notebook
    problems = pacing_problems(nb, slot, path.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_references(path: Path) -> None:
    problems = references_problems(_read(path), path.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_appendix_is_one_block_before_the_references(path: Path) -> None:
    problems = appendix_problems(_read(path), path.name)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The rules themselves


def _cell(cell_type: str, source: str, slide_type: str = "-", tags=()) -> dict:
    metadata: dict = {"slideshow": {"slide_type": slide_type}}
    if tags:
        metadata["tags"] = list(tags)
    return {"cell_type": cell_type, "source": source, "metadata": metadata}


def _good() -> dict:
    return {"cells": [
        _cell("markdown", "# T", "slide"),
        _cell("markdown", "Timing: talk 10 min, hands-on 15 min", "notes"),
        _cell("markdown", "## Cheat sheet", "slide"),
        _cell("markdown", "Timing: talk 5 min", "notes"),
        _cell("markdown", "## Appendix — if time allows / at home", "slide", tags=["appendix"]),
        _cell("code", "x = 1", "-", tags=["appendix"]),
        _cell("markdown", "Say this if there is time.", "notes", tags=["appendix"]),
        _cell("markdown", "## References\n\n- LeCun et al. (1998). Proc. IEEE.\n- He et al. (2015). arXiv:1512.03385",
              "slide"),
    ]}


def test_rules_pass_a_notebook_that_follows_them() -> None:
    nb = _good()
    assert pacing_problems(nb, 30, "nb") == [] and references_problems(nb, "nb") == []
    assert appendix_problems(nb, "nb") == []
    assert bs.notebook_timing(nb) == (15, 15)


def test_pacing_fails_over_the_slot_and_on_timed_appendix_cells() -> None:
    nb = _good()
    (problem,) = pacing_problems(nb, 29, "nb")
    assert "30 min for a 29-min slot" in problem and "cell 1: 10+15" in problem
    nb["cells"][6]["source"] = "Timing: talk 3 min"
    problems = pacing_problems(nb, 30, "nb")
    assert problems == ["nb: cell 6 is tagged `appendix` but has a Timing line; an appendix takes no time of the "
                        "slot: drop the line"]


def test_references_must_be_the_last_slide_and_dated() -> None:
    nb = _good()
    nb["cells"].append(_cell("markdown", "## Bonus", "slide"))
    assert "cell 8 `## Bonus` opens a slide after it" in references_problems(nb, "nb")[0]
    nb = _good()
    nb["cells"][7]["source"] = "## References\n\n- LeCun et al., Proc. IEEE.\n- A blog post, example.com/post"
    (problem,) = references_problems(nb, "nb")
    assert "without a year" in problem and "LeCun" in problem and "blog" not in problem
    nb["cells"][7]["source"] = "## References\n\n1. Howard et al., MobileNets,\n   2017, arXiv:1704.04861"
    assert references_problems(nb, "nb") == []  # the year is on the entry's continuation line
    nb["cells"] = nb["cells"][:7]
    assert "no `## References` slide" in references_problems(nb, "nb")[0]


def test_appendix_must_be_tagged_headed_and_before_the_references() -> None:
    nb = _good()
    nb["cells"][5]["metadata"]["tags"] = []
    assert "cells [5] sit inside the appendix" in appendix_problems(nb, "nb")[0]
    nb = _good()
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    assert "no cell is tagged `appendix`" in appendix_problems(nb, "nb")[0]
    nb = _good()
    nb["cells"].insert(7, _cell("markdown", "## More main flow", "slide"))
    assert "cell 7 `## More main flow` follows it" in appendix_problems(nb, "nb")[0]
