#!/usr/bin/env python3
"""Build offline reveal.js decks (with speaker notes) from the workshop notebooks.

One HTML deck per notebook goes to ``build/slides/<stem>.slides.html``, plus ``build/slides/index.html``:
the day's programme (``workshop_utils.agenda.PROGRAM``: the seed deck's PROGRAM FLOW, Plan A)
linking each deck that exists. Every script,
style sheet and font the decks load is copied from ``tools/slides/node_modules`` (installed from
``tools/slides/package-lock.json`` with ``npm ci``) into ``build/slides/_assets``, so the folder works
opened from ``file://`` and served over http, with no network: reveal.js 4.0.2 and its notes plugin
(press ``s``), require.js, jQuery and MathJax 3.

This file is the command line and :func:`build`; the work is done by the modules of :mod:`tools.decks`, one job each:
``transform`` (what a deck shows of a notebook, and the notebook conventions it relies on), ``assets``, ``export``
(one deck) and ``index_page``. Their public names are importable from here too (``from tools import build_slides``).

Usage::

    python tools/build_slides.py                       # all notebooks/*.ipynb -> build/slides
    python tools/build_slides.py --notebooks notebooks/00_welcome.ipynb --out /tmp/slides
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: `tools` and `workshop_utils` import from the checkout
    sys.path.insert(0, str(REPO_ROOT))

from tools.decks.assets import NODE_MODULES, copy_assets, install_assets  # noqa: E402
from tools.decks.export import DECK_SUFFIX, Deck, build_deck, slides_exporter  # noqa: E402
from tools.decks.index_page import match_agenda, notebook_slots, write_index  # noqa: E402
from tools.decks.transform import (  # noqa: E402
    APPENDIX_TAG,
    SLIDE_TYPES,
    SOLUTION_TAG,
    TIMING_RE,
    WIDGET_VIEW_MIME,
    _source,
    cell_anchor,
    cell_tags,
    deck_notebook,
    expected_slide_count,
    first_line,
    notebook_timing,
    parse_anchor,
    slide_type,
    strip_nbval_markers,
    timing_lines,
)

DEFAULT_NOTEBOOK_DIR = REPO_ROOT / "notebooks"
DEFAULT_OUT = REPO_ROOT / "build" / "slides"

# What the tests and tools/AUTHORING.md reach through this module (`from tools import build_slides as bs`).
__all__ = [
    "APPENDIX_TAG", "DECK_SUFFIX", "DEFAULT_NOTEBOOK_DIR", "DEFAULT_OUT", "NODE_MODULES", "SLIDE_TYPES", "SOLUTION_TAG",
    "TIMING_RE", "WIDGET_VIEW_MIME", "BuildResult", "Deck", "_source", "build", "cell_anchor", "cell_tags",
    "deck_notebook", "default_notebooks", "expected_slide_count", "first_line", "main", "match_agenda",
    "notebook_timing", "parse_anchor", "slide_type", "strip_nbval_markers", "timing_lines", "write_index",
]


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
    exporter = slides_exporter()
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
    slots = notebook_slots()
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
