"""One deck: a notebook's :func:`~tools.decks.transform.deck_notebook` through nbconvert's reveal.js exporter, with
this workshop's template (``tools/slides/templates/workshop_reveal``) and the local assets of :mod:`tools.decks.assets`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tools.decks.assets import ASSETS, REVEAL_THEME, SLIDES_TOOL_DIR
from tools.decks.transform import (
    APPENDIX_TAG,
    SOLUTION_TAG,
    cell_tags,
    deck_notebook,
    expected_slide_count,
    notebook_timing,
    notebook_title,
    read_notebook,
    slide_type,
)

if TYPE_CHECKING:
    from nbconvert.exporters import SlidesExporter

TEMPLATE_DIR = SLIDES_TOOL_DIR / "templates"
TEMPLATE_NAME = "workshop_reveal"
DECK_SUFFIX = ".slides.html"


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


def slides_exporter() -> SlidesExporter:
    """nbconvert's reveal.js exporter set up for the workshop's decks (a build makes one and reuses it).

    Offline assets under ``_assets``, no prompts, no scrolling. Example: ``build_deck(path, out, slides_exporter())``
    """
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


def build_deck(notebook: Path, out_dir: Path, exporter: SlidesExporter | None = None) -> Deck:
    """Write ``out_dir/<stem>.slides.html`` for one notebook (assets must already be in ``out_dir/_assets``).

    The deck shows :func:`deck_notebook` of the notebook (no solutions, appendix at the end, PNGs for widgets).
    Example: ``build_deck(Path("notebooks/00_welcome.ipynb"), Path("build/slides"))``
    """
    import nbformat

    notebook = Path(notebook)
    raw = read_notebook(notebook)
    shown = deck_notebook(raw)
    expected = expected_slide_count(shown)
    nb = nbformat.reads(json.dumps(shown), as_version=4)
    title = notebook_title(raw, notebook.stem)
    nb.metadata["title"] = title
    exporter = exporter or slides_exporter()
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
