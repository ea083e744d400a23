"""Fast checks (no browser) that every notebook can be presented as slides.

Convention (see tools/build_slides.py): every cell has ``metadata.slideshow.slide_type``; the first cell is a
markdown title slide; notes cells carry the talk, including a ``Timing: talk N min, hands-on M min`` line.
Also unit tests of the slide-count and timing rules the deck builder and the browser test rely on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAX_CODE_LINES = 15
FRESH_PROGRESS_RE = re.compile(r"\?(?:epoch|it|batch)/s\]")  # tqdm before its first step: rate unknown


from tools import build_slides as bs  # noqa: E402 (repo root is on sys.path: root conftest.py)


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _cell(cell_type: str, source: str, slide_type: str | None, tags=(), outputs=None) -> dict:
    metadata: dict = {} if slide_type is None else {"slideshow": {"slide_type": slide_type}}
    if tags:
        metadata["tags"] = list(tags)
    cell = {"cell_type": cell_type, "source": source, "metadata": metadata}
    if cell_type == "code":
        cell["outputs"] = outputs or []
    return cell


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_widget_outputs_carry_a_static_figure(path: Path) -> None:
    """A widget view alone shows nothing in a deck, on GitHub or nbviewer: store it with show_widget's PNG."""
    bare = [
        f"cell {i} `{bs.first_line(cell)}`"
        for i, cell in enumerate(_read(path)["cells"])
        for output in cell.get("outputs", [])
        if bs.WIDGET_VIEW_MIME in output.get("data", {}) and "image/png" not in output["data"]
    ]
    assert not bare, (
        f"{path.name}: widget outputs without a PNG (static views show nothing, and a stored progress bar shows its "
        f"empty start): {bare}. Display widgets with workshop_utils.display.show_widget(widget, default_figure); "
        "training cells should store the finished run"
    )


def _output_text(output: dict) -> str:
    text = output.get("text", "") if output.get("output_type") == "stream" else output.get("data", {}).get(
        "text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_training_cells_store_the_finished_run(path: Path) -> None:
    """A stored progress bar in its initial state ("0epoch [00:00, ?epoch/s]") shows nothing of the run."""
    fresh = [
        f"cell {i} `{bs.first_line(cell)}`"
        for i, cell in enumerate(_read(path)["cells"])
        for output in cell.get("outputs", [])
        if FRESH_PROGRESS_RE.search(_output_text(output))
    ]
    assert not fresh, (
        f"{path.name}: {fresh} store a progress bar that never started; store the finished run (the final summary "
        "line of training.train_classifier, and/or the curves) by re-executing with the current workshop_utils"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_saved_widget_state_does_not_hide_the_static_figures(path: Path) -> None:
    """nbconvert (nbviewer) renders a widget view instead of its PNG when the notebook saved that widget's state."""
    nb = _read(path)
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    saved = set(state.get("state", {}))
    hidden = [
        f"cell {i} `{bs.first_line(cell)}`"
        for i, cell in enumerate(nb["cells"])
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
        and output["data"].get(bs.WIDGET_VIEW_MIME, {}).get("model_id") in saved
    ]
    assert not hidden, (
        f"{path.name}: the notebook saved the state of the widgets in {hidden}, so nbviewer and nbconvert show the "
        "widget (empty without a kernel) instead of its figure. Execute with "
        "`jupyter nbconvert --execute --ExecutePreprocessor.store_widget_state=False`, or delete metadata.widgets"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solution_cells_are_tagged_and_collapsed(path: Path) -> None:
    problems = []
    for i, cell in enumerate(_read(path)["cells"]):
        looks_like_solution = cell["cell_type"] == "code" and bs._source(cell).lstrip().lower().startswith("# solution")
        tagged = bs.SOLUTION_TAG in bs.cell_tags(cell)
        if looks_like_solution and not tagged:
            problems.append(f"cell {i} `{bs.first_line(cell)}` is a solution: tag it `solution`")
        if tagged and not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            problems.append(f"cell {i} is tagged `solution`: collapse it (metadata.jupyter.source_hidden = true)")
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_code_on_slides_is_short(path: Path) -> None:
    """One short code cell a slide (about 15 lines at most); longer helper code is `hide-input` or `skip`."""
    long_cells = []
    for cell in bs.deck_notebook(_read(path))["cells"]:
        shown = not cell["metadata"].get("transient", {}).get("remove_source")
        if cell["cell_type"] == "code" and shown and bs.slide_type(cell) not in ("skip", "notes"):
            lines = len(bs._source(cell).rstrip().splitlines())
            if lines > MAX_CODE_LINES:
                long_cells.append(f"cell {bs.parse_anchor(cell['id'])[0]} `{bs.first_line(cell)}` ({lines} lines)")
    assert not long_cells, (
        f"{path.name}: code cells longer than {MAX_CODE_LINES} lines on a slide: {long_cells}. Split them, move "
        "helpers to workshop_utils, or tag them `hide-input` (the deck shows the output only)"
    )


# ---------------------------------------------------------------------------------------------
# The rules the builder and the browser test use
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
    assert taught[0] == "00_welcome"  # the welcome has its own slot (09:15-09:30), so the index shows it
    decks = [deck(taught[0]), deck(taught[-1]), deck("99_bonus")]
    rows = bs.match_agenda(decks)
    linked = {PROGRAM[i].notebook for i in rows}
    assert linked == {taught[0], taught[-1]}
    assert all(len(ds) == 1 and ds[0].notebook.stem == PROGRAM[i].notebook for i, ds in rows.items())
    index = bs.write_index(decks, tmp_path).read_text(encoding="utf-8")
    for d in decks:  # in the programme or not, every deck is linked
        assert f'href="{d.html_path.name}"' in index
    assert "Other decks" in index and "Title 99_bonus" in index
    assert "09:15 – 09:30" in index and "Title 00_welcome" in index.split("Other decks")[0]
    assert "attendees write channel_shuffle" in index  # session notes show under their title
    assert index.count("<tr") == len(PROGRAM) + 1  # header row + one per session
    assert f"{taught[1]}: no deck yet" in index


def test_build_rejects_paths_that_are_not_notebooks(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ValueError, match="not a notebook"):
        bs.build([text], tmp_path / "out", install=False)


def test_the_script_runs_from_any_folder(tmp_path: Path) -> None:
    """`python tools/build_slides.py` imports tools.decks and workshop_utils from the checkout, wherever it is run."""
    (tmp_path / "notes.txt").write_text("x")
    done = subprocess.run([sys.executable, str(REPO / "tools" / "build_slides.py"), "--notebooks", "notes.txt",
                           "--out", "out", "--no-install"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("slides: error: notes.txt is not a notebook file (.ipynb)"), done.stderr


# ---------------------------------------------------------------------------------------------
# What the deck shows: deck_notebook


def _png_widget_output() -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {bs.WIDGET_VIEW_MIME: {"model_id": "ab"}, "image/png": "iVBOR", "text/plain": "widget"}}


def _deck_example() -> dict:
    return {
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
        "cells": [
            _cell("markdown", "# Title", "slide"),  # 0
            _cell("code", "def f(x):\n    raise NotImplementedError", "slide"),  # 1
            _cell("code", "# Solution\ndef f(x):\n    return 2 * x", "slide", tags=["solution"]),  # 2
            _cell("code", "check(f)", "-"),  # 3
            _cell("code", "helper()", "-", tags=["hide-input"], outputs=[_png_widget_output()]),  # 4
            _cell("code", "table()", "-", tags=["output-slide"], outputs=[{"output_type": "stream", "name": "stdout",
                                                                          "text": "rows"}]),  # 5
            _cell("markdown", "## Appendix", "-", tags=["appendix"]),  # 6
            _cell("markdown", "more", "fragment", tags=["appendix"]),  # 7
            _cell("markdown", "## References\n\n- A (2015)", "slide"),  # 8
        ],
    }


def test_deck_drops_solutions_and_passes_on_the_slide_they_opened() -> None:
    nb = _deck_example()
    deck = bs.deck_notebook(nb)
    ids = [c["id"] for c in deck["cells"]]
    assert "nb2" not in ids and not any("return 2 * x" in bs._source(c) for c in deck["cells"])
    assert bs.slide_type(deck["cells"][ids.index("nb3")]) == "slide"  # the checker keeps the slide break
    assert len(nb["cells"]) == 9 and "id" not in nb["cells"][0]  # the notebook itself is untouched


def test_deck_hides_input_splits_output_and_shows_widget_pngs() -> None:
    deck = bs.deck_notebook(_deck_example())
    by_id = {c["id"]: c for c in deck["cells"]}
    helper = by_id["nb4"]
    assert helper["metadata"]["transient"] == {"remove_source": True}
    assert list(helper["outputs"][0]["data"]) == ["image/png", "text/plain"]  # widget view dropped, PNG kept
    assert "widgets" not in deck["metadata"]
    assert by_id["nb5"]["outputs"] == [] and "transient" not in by_id["nb5"]["metadata"]
    output = by_id["nb5-output"]
    assert bs.slide_type(output) == "subslide" and output["metadata"]["transient"] == {"remove_source": True}
    assert output["outputs"][0]["text"] == "rows"
    assert [c["id"] for c in deck["cells"]].index("nb5-output") == [c["id"] for c in deck["cells"]].index("nb5") + 1
    collapsed = _cell("code", "x = 1", "-")
    collapsed["metadata"]["jupyter"] = {"source_hidden": True}
    assert bs.deck_notebook({"cells": [collapsed]})["cells"][0]["metadata"]["transient"] == {"remove_source": True}


def test_deck_moves_the_appendix_after_the_references() -> None:
    deck = bs.deck_notebook(_deck_example())
    ids = [c["id"] for c in deck["cells"]]
    assert ids[-3:] == ["nb8", "nb6", "nb7"]
    assert bs.slide_type(deck["cells"][-2]) == "slide"  # the appendix opens a slide of its own
    assert bs.slide_type(deck["cells"][-1]) == "fragment"
    assert bs.expected_slide_count(deck) == 6  # title, stub, helper+checker, output subslide, references, appendix


def test_deck_leaves_nbval_markers_off_the_slides() -> None:
    checked = _cell("code", "# NBVAL_CHECK_OUTPUT\nprint(model.count_params())  # NBVAL_CHECK_OUTPUT stays here",
                    "slide")
    skipped = _cell("code", "x = 1\n  # NBVAL_SKIP\n# a comment\ny = 2", "-")
    deck = bs.deck_notebook({"cells": [checked, skipped]})
    assert [bs._source(c) for c in deck["cells"]] == [
        "print(model.count_params())  # NBVAL_CHECK_OUTPUT stays here", "x = 1\n# a comment\ny = 2"]
    assert bs._source(checked).startswith("# NBVAL_CHECK_OUTPUT")  # the notebook keeps it: nbval reads it there


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_nbval_marker_in_any_deck(path: Path) -> None:
    shown = [bs._source(c) for c in bs.deck_notebook(_read(path))["cells"] if c["cell_type"] == "code"]
    assert not [s for s in shown if "# NBVAL_" in s], f"{path.name}: an nbval marker would show on a slide"


def test_anchor_round_trip_and_refusal() -> None:
    assert bs.parse_anchor(bs.cell_anchor(12)) == (12, False)
    assert bs.parse_anchor("cell-id=" + bs.cell_anchor(3, output=True)) == (3, True)
    with pytest.raises(ValueError, match="not a deck cell id"):
        bs.parse_anchor("cell-7")


def test_timing_lines_mark_appendix_cells_and_leave_them_out_of_the_total() -> None:
    nb = {"cells": [_cell("markdown", "Timing: talk 4 min, hands-on 6 min", "notes"),
                    _cell("markdown", "Timing: talk 9 min", "notes", tags=["appendix"])]}
    lines = bs.timing_lines(nb)
    assert [(line.cell_index, line.minutes, line.appendix) for line in lines] == [(0, 10, False), (1, 9, True)]
    assert bs.notebook_timing(nb) == (4, 6)


def test_first_line_names_a_cell_briefly() -> None:
    assert bs.first_line({"source": ["\n", "  def vgg(x):\n", "    pass"]}) == "def vgg(x):"
    assert bs.first_line({"source": ""}) == "(empty)"
    checked = {"source": "# NBVAL_CHECK_OUTPUT\nprint(model.count_params())"}
    assert bs.first_line(checked) == "print(model.count_params())"
    assert len(bs.first_line({"source": "x" * 200})) == 60


# ---------------------------------------------------------------------------------------------
# tools/nbbuild.py writes the tags the deck builder honours


def test_nbbuild_writes_tags_the_builder_honours(tmp_path: Path) -> None:
    from tools import nbbuild

    cells = [
        nbbuild.md("# Demo"),
        nbbuild.notes("Timing: talk 5 min"),
        nbbuild.code("def f(x):\n    raise NotImplementedError"),
        nbbuild.solution("def f(x):\n    return 2 * x"),
        nbbuild.code("helper()", hide_input=True, output_slide=True),
        nbbuild.md("## Appendix — if time allows / at home", appendix=True),
        nbbuild.notes("Only if there is time.", appendix=True),
        nbbuild.references(["LeCun, Bottou, Bengio, Haffner (1998). Proc. IEEE 86(11)."]),
    ]
    path = nbbuild.write_notebook(tmp_path / "demo.ipynb", cells)
    nb = _read(path)
    sol = nb["cells"][3]
    assert bs.cell_tags(sol) == {"solution"} and sol["metadata"]["jupyter"]["source_hidden"]
    assert "".join(sol["source"]).startswith("# Solution\n")
    assert bs.cell_tags(nb["cells"][4]) == {"hide-input", "output-slide"}
    assert bs.cell_tags(nb["cells"][5]) == bs.cell_tags(nb["cells"][6]) == {"appendix"}
    deck = bs.deck_notebook(nb)
    assert [c["id"] for c in deck["cells"]][-3:] == ["nb7", "nb5", "nb6"]  # references, then the appendix
    with pytest.raises(ValueError, match="no Timing line"):
        nbbuild.notes("Timing: talk 2 min", appendix=True)
    with pytest.raises(ValueError, match="every paper"):
        nbbuild.references([])


def test_nbbuild_strips_saved_widget_state(tmp_path: Path) -> None:
    from tools import nbbuild

    path = nbbuild.write_notebook(tmp_path / "w.ipynb", [nbbuild.md("# W")])
    nb = _read(path)
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path.write_text(json.dumps(nb))
    assert nbbuild.main(["strip-widget-state", str(path)]) == 0
    assert "widgets" not in _read(path)["metadata"]
    assert nbbuild.strip_widget_state(path) is False
    assert nbbuild.main(["oops"]) == 2


def test_fresh_progress_pattern_matches_a_new_bar_only() -> None:
    assert FRESH_PROGRESS_RE.search("0epoch [00:00, ?epoch/s]")
    assert FRESH_PROGRESS_RE.search("  0%|          | 0/6 [00:00<?, ?it/s]")
    assert not FRESH_PROGRESS_RE.search("6/6 [00:51<00:00,  8.52s/epoch]")
    assert not FRESH_PROGRESS_RE.search("small_cnn: 6/6 epoch(s) in 50.8 s, stopped by the time budget")


def test_nbbuild_coalesces_stream_chunks_without_changing_the_text(tmp_path: Path) -> None:
    from tools import nbbuild

    cell = nbbuild.code("for n in range(3): print(n)")
    cell["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text=f"{n}\n") for n in range(3)]
    cell["outputs"].append(nbformat.v4.new_output("stream", name="stderr", text="warning\n"))
    path = nbbuild.write_notebook(tmp_path / "s.ipynb", [nbbuild.md("# S"), cell])
    assert nbbuild.main(["coalesce-streams", str(path)]) == 0
    outputs = _read(path)["cells"][1]["outputs"]
    assert [(o["name"], "".join(o["text"])) for o in outputs] == [("stdout", "0\n1\n2\n"), ("stderr", "warning\n")]
    assert nbbuild.coalesce_streams(path) is False  # already joined
