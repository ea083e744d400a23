"""Authoring helper: write a workshop notebook from a list of cells, with the slide metadata every deck needs.

Notebooks in ``notebooks/`` are the source of truth; this only saves typing JSON by hand when a notebook is first
written or restructured. Conventions it enforces (``tests/test_slides.py`` checks them on every notebook):

* every cell has ``metadata.slideshow.slide_type`` (slide, subslide, fragment, -, skip, notes);
* the first cell is a markdown title slide;
* speaker notes are cells of type ``notes``, e.g. ``notes("Timing: talk 10 min, hands-on 15 min. ...")``;
* a code cell whose output is a deterministic number is marked ``check=True``: its source starts with
  ``# NBVAL_CHECK_OUTPUT`` so nbval compares it.

Example::

    from tools.nbbuild import code, md, notes, write_notebook
    write_notebook("notebooks/99_demo.ipynb", [md("# Demo"), notes("Timing: talk 5 min"), code("1 + 1", check=True)])
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def _meta(slide: str, **extra: Any) -> dict[str, Any]:
    if slide not in SLIDE_TYPES:
        raise ValueError(f"slide type must be one of {SLIDE_TYPES}, got {slide!r}")
    return {"slideshow": {"slide_type": slide}, **extra}


def md(text: str, slide: str = "slide") -> nbformat.NotebookNode:
    """A markdown cell (default: starts a new slide)."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip(), metadata=_meta(slide))


def notes(text: str) -> nbformat.NotebookNode:
    """Speaker notes: shown in the presenter view (press `s` in the deck), hidden from the slides."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip(), metadata=_meta("notes"))


def code(source: str, slide: str = "-", check: bool = False, hide_input: bool = False) -> nbformat.NotebookNode:
    """A code cell; ``check=True`` makes nbval compare its output; ``hide_input`` collapses the source in Lab."""
    body = textwrap.dedent(source).strip()
    if check and "NBVAL_CHECK_OUTPUT" not in body:
        body = "# NBVAL_CHECK_OUTPUT\n" + body
    extra: dict[str, Any] = {"jupyter": {"source_hidden": True}} if hide_input else {}
    return nbformat.v4.new_code_cell(body, metadata=_meta(slide, **extra))


def write_notebook(path: str | Path, cells: list[nbformat.NotebookNode], title: str | None = None) -> Path:
    """Write the cells as a notebook with the Python 3 kernel and reveal.js settings for the decks."""
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        raise ValueError("the first cell must be a markdown title slide starting with '# '")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11"},
        "rise": {"scroll": True, "transition": "none", "theme": "white"},  # white: fonts ship locally
    })
    if title:
        notebook.metadata["title"] = title
    path = Path(path)
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n")
    return path
