#!/usr/bin/env python3
"""Build offline reveal.js decks (with speaker notes) from the workshop notebooks.

One HTML deck per notebook goes to ``build/slides/<stem>.slides.html``, plus ``build/slides/index.html``:
the day's programme (``workshop_utils.agenda.PROGRAM``: the seed deck's PROGRAM FLOW, Plan A)
linking each deck that exists. Every script,
style sheet and font the decks load is copied from ``tools/slides/node_modules`` (installed from
``tools/slides/package-lock.json`` with ``npm ci``) into ``build/slides/_assets``, so the folder works
opened from ``file://`` and served over http, with no network: reveal.js 4.0.2 and its notes plugin
(press ``s``), require.js, jQuery and MathJax 3.

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

Usage::

    python tools/build_slides.py                       # all notebooks/*.ipynb -> build/slides
    python tools/build_slides.py --notebooks notebooks/00_welcome.ipynb --out /tmp/slides
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SLIDES_TOOL_DIR = Path(__file__).resolve().parent / "slides"
NODE_MODULES = SLIDES_TOOL_DIR / "node_modules"
TEMPLATE_DIR = SLIDES_TOOL_DIR / "templates"
TEMPLATE_NAME = "workshop_reveal"
DEFAULT_NOTEBOOK_DIR = REPO_ROOT / "notebooks"
DEFAULT_OUT = REPO_ROOT / "build" / "slides"
ASSETS = "_assets"
REVEAL_THEME = "white"  # its fonts ship with reveal.js; most other themes @import web fonts
DECK_SUFFIX = ".slides.html"

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

# (source under node_modules, destination under _assets). Only what the decks load is copied.
ASSET_FILES: tuple[tuple[str, str], ...] = (
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    (f"reveal.js/dist/theme/{REVEAL_THEME}.css", f"reveal.js/dist/theme/{REVEAL_THEME}.css"),
    ("reveal.js/dist/theme/fonts/source-sans-pro", "reveal.js/dist/theme/fonts/source-sans-pro"),
    ("reveal.js/plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    ("requirejs/require.js", "require.js"),
    ("jquery/dist/jquery.min.js", "jquery.min.js"),
    ("jquery/LICENSE.txt", "jquery.LICENSE.txt"),
    ("mathjax/es5/tex-chtml-full.js", "mathjax/tex-chtml-full.js"),
    ("mathjax/es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
)


@dataclasses.dataclass(frozen=True)
class Deck:
    """A built deck: where it came from, where it is, and what it should contain."""

    notebook: Path
    html_path: Path
    title: str
    expected_slides: int
    notes_cells: int
    talk_min: int
    hands_on_min: int
    size_bytes: int
    solutions_dropped: int = 0
    appendix_cells: int = 0


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """What :func:`build` produced."""

    out_dir: Path
    index_path: Path
    decks: tuple[Deck, ...]
    assets_bytes: int
    seconds: float

    @property
    def total_bytes(self) -> int:
        """Bytes on disk of the decks, the index and the shared assets."""
        return self.assets_bytes + sum(d.size_bytes for d in self.decks) + self.index_path.stat().st_size


# --------------------------------------------------------------------------------------------------
# Reading notebooks


def _read_notebook(path: Path) -> dict:
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


# --------------------------------------------------------------------------------------------------
# Assets


def install_assets(tool_dir: Path = SLIDES_TOOL_DIR) -> Path:
    """Run ``npm ci`` in ``tools/slides`` when ``node_modules`` is missing or older than the lock file.

    Returns the ``node_modules`` folder. Example: ``install_assets()  # -> Path(".../tools/slides/node_modules")``
    """
    node_modules = tool_dir / "node_modules"
    lock = tool_dir / "package-lock.json"
    marker = node_modules / ".package-lock.json"  # npm writes it on every install
    missing = [src for src, _ in ASSET_FILES if not (node_modules / src).exists()]
    if not missing and marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not installed, and the slide assets are not in tools/slides/node_modules. "
            "Install Node.js 18 or newer (Debian: apt-get install -y npm), then rerun; or copy a "
            "tools/slides/node_modules folder from a machine that ran `npm ci --prefix tools/slides`."
        )
    command = [npm, "ci", "--prefix", str(tool_dir), "--no-audit", "--no-fund", "--loglevel=error"]
    print("slides: installing reveal.js, require.js, jQuery, MathJax:", " ".join(command[1:]), flush=True)
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(
            f"`npm ci` failed (exit {completed.returncode}); is the npm registry reachable?\n{completed.stderr[-2000:]}"
        )
    missing = [src for src, _ in ASSET_FILES if not (node_modules / src).exists()]
    if missing:
        raise RuntimeError(f"`npm ci` ran but these files are missing under {node_modules}: {missing}")
    return node_modules


def _tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def copy_assets(node_modules: Path, out_dir: Path) -> int:
    """Copy the files the decks load from ``node_modules`` to ``out_dir/_assets``; return their bytes.

    Example: ``copy_assets(install_assets(), Path("build/slides"))  # -> 3_600_000``
    """
    assets = out_dir / ASSETS
    if assets.exists():
        shutil.rmtree(assets)
    for source, destination in ASSET_FILES:
        src = node_modules / source
        dst = assets / destination
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci --prefix {node_modules.parent}`")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    return _tree_bytes(assets)


# --------------------------------------------------------------------------------------------------
# Decks and index


def _exporter():
    from nbconvert.exporters import SlidesExporter  # slow import (about 1 s): only when building

    return SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name=TEMPLATE_NAME,
        reveal_url_prefix=f"{ASSETS}/reveal.js",
        reveal_theme=REVEAL_THEME,
        reveal_transition="slide",
        reveal_number="c/t",
        reveal_scroll=False,  # a slide must fit the screen (tests/test_decks_browser.py); it never scrolls
        exclude_input_prompt=True,  # no "In [ ]:" column: more width for code on a projector
        exclude_output_prompt=True,
        require_js_url=f"{ASSETS}/require.js",
        jquery_url=f"{ASSETS}/jquery.min.js",
        mathjax_url=f"{ASSETS}/mathjax/tex-chtml-full.js",
        embed_images=True,  # markdown images become data: URIs, so decks do not depend on notebooks/
    )


def build_deck(notebook: Path, out_dir: Path, exporter=None) -> Deck:
    """Write ``out_dir/<stem>.slides.html`` for one notebook (assets must already be in ``out_dir/_assets``).

    The deck shows :func:`deck_notebook` of the notebook (no solutions, appendix at the end, PNGs for widgets).
    Example: ``build_deck(Path("notebooks/00_welcome.ipynb"), Path("build/slides"))``
    """
    import nbformat

    notebook = Path(notebook)
    raw = _read_notebook(notebook)
    shown = deck_notebook(raw)
    expected = expected_slide_count(shown)
    nb = nbformat.reads(json.dumps(shown), as_version=4)
    title = notebook_title(raw, notebook.stem)
    nb.metadata["title"] = title
    exporter = exporter or _exporter()
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": notebook.stem, "path": str(notebook.parent)}}
    )
    html_path = out_dir / f"{notebook.stem}{DECK_SUFFIX}"
    html_path.write_text(body, encoding="utf-8")
    talk, hands_on = notebook_timing(raw)
    return Deck(
        notebook=notebook,
        html_path=html_path,
        title=title,
        expected_slides=expected,
        notes_cells=sum(slide_type(c) == "notes" for c in shown["cells"]),
        talk_min=talk,
        hands_on_min=hands_on,
        size_bytes=html_path.stat().st_size,
        solutions_dropped=sum(SOLUTION_TAG in cell_tags(c) for c in raw["cells"]),
        appendix_cells=sum(APPENDIX_TAG in cell_tags(c) for c in raw["cells"]),
    )


def _program():
    if str(REPO_ROOT) not in sys.path:  # run as a script outside an editable install
        sys.path.insert(0, str(REPO_ROOT))
    from workshop_utils.agenda import PROGRAM

    return PROGRAM


def _slots() -> dict[str, int]:
    """Minutes per notebook stem from the programme (``workshop_utils.agenda.slot_minutes``)."""
    program = _program()
    from workshop_utils.agenda import slot_minutes

    return {s.notebook: slot_minutes(s.notebook, program) for s in program if s.notebook}


def match_agenda(decks: Sequence[Deck], program: Sequence | None = None) -> dict[int, list[Deck]]:
    """Map each session's index in the programme to the decks of the notebook it names (by file stem).

    ``program`` defaults to ``workshop_utils.agenda.PROGRAM`` (the deck's Plan A). Decks that no session
    names are left out (the index lists them apart). Example: ``match_agenda(decks)  # -> {1: [Deck(...)]}``
    """
    program = _program() if program is None else program
    by_stem = {deck.notebook.stem: deck for deck in decks}
    return {i: [by_stem[s.notebook]] for i, s in enumerate(program) if s.notebook in by_stem}


def _minutes(talk: int | None, hands_on: int | None) -> str:
    parts = []
    if talk:
        parts.append(f"talk {talk} min")
    if hands_on:
        parts.append(f"hands-on {hands_on} min")
    return ", ".join(parts)


def _deck_link(deck: Deck) -> str:
    timing = _minutes(deck.talk_min, deck.hands_on_min)
    timing_html = f' <span class="timing">(notes: {html.escape(timing)})</span>' if timing else ""
    return (
        f'<a href="{html.escape(deck.html_path.name)}">{html.escape(deck.title)}</a>'
        f' <span class="file">{html.escape(deck.notebook.name)}</span>{timing_html}'
    )


def write_index(decks: Sequence[Deck], out_dir: Path, program: Sequence | None = None) -> Path:
    """Write ``out_dir/index.html``: the programme with each session's deck link, then the other decks.

    Example: ``write_index(result.decks, Path("build/slides"))  # -> Path("build/slides/index.html")``
    """
    program = _program() if program is None else program
    rows = match_agenda(decks, program)
    matched = {id(d) for ds in rows.values() for d in ds}
    lines = []
    for i, session in enumerate(program):
        when = f"{session.start} – {session.end}" if session.end else f"{session.start} –"
        if i in rows:
            links = "<br>".join(_deck_link(d) for d in rows[i])
        elif session.notebook:
            links = f'<span class="missing">{html.escape(session.notebook)}: no deck yet</span>'
        else:
            links = ""
        css = "" if session.notebook else ' class="break"'
        planned = _minutes(session.talk_minutes, session.hands_on_minutes)
        note = f'<br><span class="note">{html.escape(session.note)}</span>' if session.note else ""
        lines.append(
            f"<tr{css}><td>{html.escape(when)}</td><td>{html.escape(session.title)}{note}</td>"
            f"<td>{html.escape(planned)}</td><td>{links}</td></tr>"
        )
    others = [d for d in decks if id(d) not in matched]
    other_html = ""
    if others:
        items = "\n".join(f"<li>{_deck_link(d)}</li>" for d in others)
        other_html = f"<h2>Other decks</h2>\n<ul>\n{items}\n</ul>"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>CNN Architectures workshop: slides</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
tr.break td {{ color: #888; }}
td:first-child {{ white-space: nowrap; }}
.file, .timing, .missing, .note {{ color: #777; font-size: .9em; }}
kbd {{ border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; }}
</style>
</head>
<body>
<h1>CNN Architectures: slides</h1>
<p>Program flow (Plan A). Each deck is built from the notebook attendees run. In a deck press
<kbd>s</kbd> for the speaker notes, <kbd>Esc</kbd> for the overview, <kbd>f</kbd> for full screen.</p>
<table>
<thead><tr><th>Time</th><th>Session</th><th>Planned</th><th>Deck</th></tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody>
</table>
{other_html}
</body>
</html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def default_notebooks(notebook_dir: Path = DEFAULT_NOTEBOOK_DIR) -> list[Path]:
    """The notebooks the workshop ships: ``notebooks/*.ipynb``, sorted by name.

    Example: ``default_notebooks()  # -> [Path(".../notebooks/00_welcome.ipynb"), ...]``
    """
    return sorted(Path(notebook_dir).glob("*.ipynb"))


def build(
    notebooks: Iterable[Path | str] | None = None,
    out: Path | str = DEFAULT_OUT,
    *,
    install: bool = True,
) -> BuildResult:
    """Build one offline deck per notebook, the shared assets and the index into ``out``.

    ``notebooks`` defaults to ``notebooks/*.ipynb``; ``install=False`` never calls npm (the assets must be in
    ``tools/slides/node_modules``). Old decks in ``out`` are removed first.
    Example: ``build(["notebooks/00_welcome.ipynb"], "/tmp/slides").decks[0].html_path``
    """
    started = time.perf_counter()
    paths = [Path(p) for p in (default_notebooks() if notebooks is None else notebooks)]
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"{path} is not a notebook file (.ipynb): pass paths such as notebooks/00_welcome.ipynb")
    stems = [p.stem for p in paths]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise ValueError(f"two notebooks would write the same deck name: {duplicates}; rename one of them")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"*{DECK_SUFFIX}"):
        old.unlink()
    node_modules = install_assets() if install else NODE_MODULES
    assets_bytes = copy_assets(node_modules, out_dir)
    exporter = _exporter()
    decks = tuple(build_deck(path, out_dir, exporter) for path in paths)
    index = write_index(decks, out_dir)
    return BuildResult(out_dir, index, decks, assets_bytes, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python tools/build_slides.py [--out DIR] [--notebooks NB ...] [--no-install]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/slides)")
    parser.add_argument(
        "--notebooks", nargs="+", type=Path, default=None, help="notebooks to build (default: notebooks/*.ipynb)"
    )
    parser.add_argument("--no-install", action="store_true", help="never run npm; use tools/slides/node_modules")
    args = parser.parse_args(argv)
    try:
        result = build(args.notebooks, args.out, install=not args.no_install)
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        print(f"slides: error: {error}", file=sys.stderr)
        return 1
    slots = _slots()
    for deck in result.decks:
        slot = slots.get(deck.notebook.stem)
        timed = deck.talk_min + deck.hands_on_min
        pacing = f"timed {timed:>3} min of {slot} min" if slot else f"timed {timed:>3} min (no slot)"
        print(
            f"  {deck.html_path.name:<40} {deck.expected_slides:>3} slides  {deck.notes_cells:>3} notes"
            f"  {deck.size_bytes / 1e6:6.2f} MB  {pacing}{'  OVER' if slot and timed > slot else ''}"
        )
    if not result.decks:
        print(f"slides: no notebooks found in {DEFAULT_NOTEBOOK_DIR}", file=sys.stderr)
    print(
        f"slides: {len(result.decks)} decks, {result.total_bytes / 1e6:.1f} MB in all "
        f"(shared assets {result.assets_bytes / 1e6:.1f} MB) in {result.seconds:.1f} s"
    )
    print(f"slides: open {os.path.relpath(result.index_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
