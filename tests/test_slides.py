"""Fast checks (no browser) that every notebook can be presented as slides.

Convention (see tools/build_slides.py): every cell has ``metadata.slideshow.slide_type``; the first cell is a
markdown title slide; notes cells carry the talk, including a ``Timing: talk N min, hands-on M min`` line.
Also unit tests of the slide-count and timing rules the deck builder and the browser test rely on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


from tools import build_slides as bs  # noqa: E402 (repo root is on sys.path: root conftest.py)


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _cell(cell_type: str, source: str, slide_type: str | None) -> dict:
    metadata = {} if slide_type is None else {"slideshow": {"slide_type": slide_type}}
    return {"cell_type": cell_type, "source": source, "metadata": metadata}


# ---------------------------------------------------------------------------------------------
# Every notebook in notebooks/


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_has_a_slide_type(path: Path) -> None:
    cells = _read(path)["cells"]
    bad = [
        (i, cell.get("metadata", {}).get("slideshow", {}).get("slide_type"))
        for i, cell in enumerate(cells)
        if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in bs.SLIDE_TYPES
    ]
    assert not bad, (
        f"{path.name}: cells (index, slide_type) {bad} need metadata.slideshow.slide_type in {bs.SLIDE_TYPES} "
        "(JupyterLab: Property Inspector > Slide Type)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_opens_with_a_title_slide(path: Path) -> None:
    first = _read(path)["cells"][0]
    source = "".join(first.get("source", ""))
    assert first["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown (the title slide)"
    assert bs.slide_type(first) == "slide", f"{path.name}: the first cell must have slide_type 'slide'"
    assert source.startswith("# "), f"{path.name}: the title slide must start with '# ', got {source[:40]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_speaker_notes_with_timing(path: Path) -> None:
    nb = _read(path)
    notes = [c for c in nb["cells"] if bs.slide_type(c) == "notes"]
    assert notes, f"{path.name}: add at least one cell of slide_type 'notes' (what the instructor says)"
    timed = [c for c in notes if bs.TIMING_RE.search("".join(c.get("source", "")))]
    assert timed, f"{path.name}: a notes cell must say the minutes, e.g. 'Timing: talk 10 min, hands-on 15 min'"
    assert bs.expected_slide_count(nb) >= 1


# ---------------------------------------------------------------------------------------------
# The rules the builder and the browser test use


def test_slide_count_counts_slides_and_subslides_only() -> None:
    nb = {
        "cells": [
            _cell("markdown", "# Title", "slide"),
            _cell("markdown", "say this", "notes"),
            _cell("markdown", "more", "fragment"),
            _cell("code", "x = 1", "subslide"),
            _cell("code", "hidden", "skip"),
            _cell("markdown", "## Next", "slide"),
            _cell("markdown", "same slide", "-"),
        ]
    }
    assert bs.expected_slide_count(nb) == 3


def test_slide_count_adds_the_slide_nbconvert_forces_on_the_first_visible_cell() -> None:
    nb = {
        "cells": [
            _cell("markdown", "notes first", "notes"),
            _cell("markdown", "text", None),
            _cell("markdown", "## A", "slide"),
        ]
    }
    assert bs.expected_slide_count(nb) == 2
    nb["cells"][1]["metadata"] = {"slideshow": {"slide_type": "subslide"}}
    assert bs.expected_slide_count(nb) == 2


def test_slide_count_refuses_a_notebook_with_nothing_to_show() -> None:
    with pytest.raises(ValueError, match="nothing to show"):
        bs.expected_slide_count({"cells": [_cell("markdown", "x", "notes"), _cell("code", "y", "skip")]})


def test_timing_sums_notes_cells_only() -> None:
    nb = {
        "cells": [
            _cell("markdown", "Timing: talk 99 min, hands-on 99 min", "slide"),
            _cell("markdown", "Intro.\nTiming: talk 10 min, hands-on 15 min", "notes"),
            _cell("markdown", "timing: Talk 5 minutes", "notes"),
        ]
    }
    assert bs.notebook_timing(nb) == (15, 15)


def test_index_links_each_session_to_its_notebooks_deck(tmp_path: Path) -> None:
    from workshop_utils.agenda import PROGRAM

    def deck(stem: str):
        return bs.Deck(tmp_path / f"{stem}.ipynb", tmp_path / f"{stem}.slides.html", f"Title {stem}", 1, 1, 0, 0, 0)

    taught = [s.notebook for s in PROGRAM if s.notebook]
    decks = [deck(taught[0]), deck(taught[-1]), deck("00_welcome")]
    rows = bs.match_agenda(decks)
    linked = {PROGRAM[i].notebook for i in rows}
    assert linked == {taught[0], taught[-1]}
    assert all(len(ds) == 1 and ds[0].notebook.stem == PROGRAM[i].notebook for i, ds in rows.items())
    index = bs.write_index(decks, tmp_path).read_text(encoding="utf-8")
    for d in decks:  # in the programme or not, every deck is linked
        assert f'href="{d.html_path.name}"' in index
    assert "Other decks" in index and "Title 00_welcome" in index
    assert index.count("<tr") == len(PROGRAM) + 1  # header row + one per session
    assert f"{taught[1]}: no deck yet" in index


def test_build_rejects_paths_that_are_not_notebooks(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ValueError, match="not a notebook"):
        bs.build([text], tmp_path / "out", install=False)
