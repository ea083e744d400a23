"""Authoring helper: write a workshop notebook from a list of cells, with the slide metadata every deck needs.

Notebooks in ``notebooks/`` are the source of truth; this only saves typing JSON by hand when a notebook is first
written or restructured. Conventions it enforces (tools/AUTHORING.md; ``tests/test_slides.py`` and
``tests/test_pacing.py`` check them on every notebook):

* every cell has ``metadata.slideshow.slide_type`` (slide, subslide, fragment, -, skip, notes);
* the first cell is a markdown title slide;
* speaker notes are cells of type ``notes``, e.g. ``notes("Timing: talk 10 min, hands-on 15 min. ...")``;
* a code cell whose output is a deterministic number is marked ``check=True``: its source starts with
  ``# NBVAL_CHECK_OUTPUT`` so nbval compares it;
* cell tags the deck builder honours: ``solution()`` (collapsed, never in a deck), ``hide_input=True`` (the deck
  shows the output only), ``output_slide=True`` (the output gets a subslide of its own), ``appendix=True`` (the
  appendix block, after the main flow, before the references; the deck shows it after the references).

Example::

    from tools.nbbuild import code, md, notes, references, solution, write_notebook
    write_notebook("notebooks/99_demo.ipynb", [
        md("# Demo"), notes("Timing: talk 5 min"), code("1 + 1", check=True),
        code("def f(x):\n    raise NotImplementedError"), solution("def f(x):\n    return 2 * x"),
        references(["LeCun, Bottou, Bengio, Haffner (1998). Gradient-based learning... Proc. IEEE 86(11)."]),
    ])

Command line: ``python tools/nbbuild.py strip-widget-state notebooks/*.ipynb`` deletes the saved widget state
(``metadata.widgets``), which ``jupyter nbconvert --execute`` stores and which makes nbviewer show an empty
widget instead of ``show_widget``'s figure. ``python tools/nbbuild.py coalesce-streams notebooks/*.ipynb`` joins
consecutive stdout (or stderr) chunks of a cell into one output, as JupyterLab shows them: a cell that prints
inside a slow loop is otherwise stored as one chunk per print, and each chunk becomes its own block, with margins,
on the slide.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def _meta(slide: str, tags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    if slide not in SLIDE_TYPES:
        raise ValueError(f"slide type must be one of {SLIDE_TYPES}, got {slide!r}")
    meta: dict[str, Any] = {"slideshow": {"slide_type": slide}, **extra}
    if tags:
        meta["tags"] = list(dict.fromkeys(tags))
    return meta


def md(text: str, slide: str = "slide", appendix: bool = False) -> nbformat.NotebookNode:
    """A markdown cell (default: starts a new slide); ``appendix=True`` tags it for the appendix block.

    Example: ``md("## 2. Stacking small kernels")``
    """
    tags = ["appendix"] if appendix else None
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip(), metadata=_meta(slide, tags))


def notes(text: str, appendix: bool = False) -> nbformat.NotebookNode:
    """Speaker notes: shown in the presenter view (press `s` in the deck), hidden from the slides.

    In the appendix (``appendix=True``) notes carry no ``Timing:`` line. Example: ``notes("Timing: talk 3 min")``
    """
    body = textwrap.dedent(text).strip()
    if appendix and "timing:" in body.lower():
        raise ValueError("appendix notes carry no Timing line: the appendix takes no time of the slot")
    return nbformat.v4.new_markdown_cell(body, metadata=_meta("notes", ["appendix"] if appendix else None))


def code(
    source: str,
    slide: str = "-",
    check: bool = False,
    hide_input: bool = False,
    output_slide: bool = False,
    appendix: bool = False,
) -> nbformat.NotebookNode:
    """A code cell.

    ``check=True`` makes nbval compare its output; ``hide_input`` collapses the source in Lab and shows only the
    output in the deck; ``output_slide`` puts the output on a subslide of its own in the deck; ``appendix`` tags
    it for the appendix block. Example: ``code("model.summary()", hide_input=True)``
    """
    body = textwrap.dedent(source).strip()
    if check and "NBVAL_CHECK_OUTPUT" not in body:
        body = "# NBVAL_CHECK_OUTPUT\n" + body
    extra: dict[str, Any] = {"jupyter": {"source_hidden": True}} if hide_input else {}
    tags = [t for t, on in (("hide-input", hide_input), ("output-slide", output_slide), ("appendix", appendix)) if on]
    return nbformat.v4.new_code_cell(body, metadata=_meta(slide, tags, **extra))


def solution(source: str, appendix: bool = False) -> nbformat.NotebookNode:
    """An exercise's solution: tagged ``solution``, collapsed in JupyterLab, never shown in a deck.

    Example: ``solution("def conv2d(image, kernel):\n    ...")``
    """
    body = textwrap.dedent(source).strip()
    if not body.lower().startswith("# solution"):
        body = "# Solution\n" + body
    tags = ["solution", "appendix"] if appendix else ["solution"]
    return nbformat.v4.new_code_cell(body, metadata=_meta("-", tags, jupyter={"source_hidden": True}))


def references(entries: list[str]) -> nbformat.NotebookNode:
    """The notebook's last slide: ``## References``, one bullet per paper (authors, year, arXiv id or venue).

    Example: ``references(["He, Zhang, Ren, Sun (2016). Deep residual learning. CVPR. arXiv:1512.03385"])``
    """
    if not entries:
        raise ValueError("list every paper the notebook quotes: authors, year, arXiv id or venue")
    return md("## References\n\n" + "\n".join(f"- {entry}" for entry in entries))


def strip_widget_state(path: str | Path) -> bool:
    """Delete ``metadata.widgets`` from a notebook file; True when there was something to delete.

    Example: ``strip_widget_state("notebooks/01_convolution_basics.ipynb")``
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    if "widgets" not in notebook.metadata:
        return False
    del notebook.metadata["widgets"]
    path.write_text(nbformat.writes(notebook) + "\n")
    return True


def coalesce_streams(path: str | Path) -> bool:
    """Join consecutive stream outputs of each code cell (nbconvert's ``CoalesceStreamsPreprocessor``); the text is
    unchanged. True when the file changed.

    Example: ``coalesce_streams("notebooks/09_extras.ipynb")``
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    after = nbformat.writes(notebook)
    if after == before:
        return False
    path.write_text(after + "\n")
    return True


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


def main(argv: list[str] | None = None) -> int:
    """``python tools/nbbuild.py strip-widget-state|coalesce-streams NOTEBOOK...``."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    commands = {
        "strip-widget-state": (strip_widget_state, "widget state removed", "no widget state"),
        "coalesce-streams": (coalesce_streams, "stream outputs joined", "nothing to join"),
    }
    if len(args) < 2 or args[0] not in commands:
        print(f"usage: python tools/nbbuild.py {'|'.join(commands)} NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    function, changed, unchanged = commands[args[0]]
    for name in args[1:]:
        print(f"{name}: {changed if function(name) else unchanged}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
