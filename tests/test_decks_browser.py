"""Build the reveal.js decks and check them in headless Chromium, as an instructor would use them offline.

For every notebook in notebooks/ (whatever is there when the test runs), plus small fixture notebooks that use
every slide type, math, a PNG plot, a widget output, a solution, a hide-input cell and an appendix, so the pipeline
is checked even before the notebooks exist:

- **every slide fits the screen**: each deck is stepped through slide by slide and fragment by fragment
  (subslides included) at 1280x720 with reveal's default scaling; any content past the screen's bottom or right
  edge fails the test, naming the notebook, the slide, the cell (index and first line) and by how many screen
  pixels it overflows. The code font must stay readable (at least ``MIN_CODE_FONT_PX`` on screen). It writes
  ``build/screenshots/<notebook>-contact.png``: every slide as a thumbnail, overflowing ones framed in red;
- **no solution in a deck**: the code of a cell tagged ``solution`` (or starting with ``# Solution``) must not
  appear in its deck (speaker notes aside);
- served over http on 127.0.0.1: the slide count equals what the notebook's metadata says, no request leaves
  127.0.0.1, no console error, no failed load, math typeset, every image decoded, a first-slide screenshot
  that is not blank (kept as build/screenshots/<notebook>.png, a CI artifact);
- opened from file:// (the fit check above): the same count and no error; the speaker view (key ``s``) opens and
  shows the notes of the slide it is on (fixture and first notebook: it is the same plugin in every deck);
- the index page links every deck.

Needs Debian's chromium (``apt-get install -y chromium``) and playwright (driving /usr/bin/chromium; its own
browser download is not used). Without them the browser tests skip, except under CI (env CI=true), where they
fail. Also checks that JupyterLab serves the notebook as live RISE slides (/rise/<notebook>) and renders a
``show_widget`` output as the live widget.

Run as a script to print the slide/overflow table of any folder of notebooks (no assertion)::

    python tests/test_decks_browser.py notebooks/          # or another folder, e.g. a snapshot
"""

from __future__ import annotations

import dataclasses
import functools
import html
import http.server
import importlib.util
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "build" / "screenshots"
FIXTURE_STEM = "zz_fixture_deck"
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    # Any host but 127.0.0.1 fails at once: an external request shows up as a failure, it never hangs.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOAD_TIMEOUT_MS = 30_000
# What a page *loads* from elsewhere: any src=, a <link href=> (style sheets, icons), a CSS @import. A plain <a href>
# (a reference's web page) loads nothing until clicked, so it is allowed.
REMOTE_RE = re.compile(
    r"""\bsrc\s*=\s*["'](?:https?:)?//[^"']+|<link\b[^>]*?\bhref\s*=\s*["'](?:https?:)?//[^"']+"""
    r"""|@import\s+url\(\s*["']?https?:[^)]+"""
)
MATH_RE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(|\\\[", re.DOTALL)


if str(REPO) not in sys.path:  # run as a script (python tests/test_decks_browser.py); under pytest conftest.py does it
    sys.path.insert(0, str(REPO))
from tools import build_slides as bs  # noqa: E402

NOTEBOOKS = bs.default_notebooks()
STEMS = [p.stem for p in NOTEBOOKS] + [FIXTURE_STEM]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this test may not skip)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# Screenshot check, tested both ways


def looks_blank(png: bytes) -> bool:
    """True when a screenshot is (nearly) one flat colour: under 0.2% of pixels differ from the commonest."""
    from PIL import Image

    gray = Image.open(io.BytesIO(png)).convert("L")
    histogram = gray.histogram()
    background = max(range(256), key=histogram.__getitem__)
    differing = sum(n for value, n in enumerate(histogram) if abs(value - background) > 16)
    return differing < 0.002 * gray.width * gray.height


def _png(draw=None) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 360), "white")
    if draw:
        draw(ImageDraw.Draw(image))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_blank_check_flags_flat_images_and_passes_text() -> None:
    assert looks_blank(_png())
    assert looks_blank(_png(lambda d: d.rectangle((600, 330, 605, 335), fill="black")))  # a stray control dot
    assert not looks_blank(_png(lambda d: d.rectangle((100, 150, 540, 200), fill="black")))  # a title bar


def test_remote_asset_check_flags_cdn_links_only() -> None:
    nbconvert_default = (
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>'
        '<link rel="stylesheet" href="//unpkg.com/reveal.js@4.0.2/dist/reveal.css">'
        "<style>@import url(https://fonts.googleapis.com/css?family=Lato);</style>"
    )
    assert len(REMOTE_RE.findall(nbconvert_default)) == 3
    local = '<script src="_assets/require.js"></script><a href="#cheat-sheet">x</a><img src="data:image/png;base64,AA">'
    assert REMOTE_RE.findall(local) == []
    assert REMOTE_RE.findall('<a href="https://arxiv.org/abs/1512.03385">He et al. 2016</a>') == []  # a link
    assert len(REMOTE_RE.findall('<img alt="x" src="https://example.com/a.png">')) == 1


# ---------------------------------------------------------------------------------------------
# Fixtures: the fixture notebook, the build, a local http server, the browser


def _cell(cell_type: str, source: str, slide_type: str, outputs=None, tags=()) -> dict:
    cell = {"cell_type": cell_type, "metadata": {"slideshow": {"slide_type": slide_type}}, "source": source}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    if "solution" in tags:
        cell["metadata"]["jupyter"] = {"source_hidden": True}
    if cell_type == "code":
        cell.update(execution_count=1, outputs=outputs or [])
    return cell


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def write_fixture_notebook(folder: Path) -> Path:
    """A small notebook that uses every slide type, math, a PNG output and a markdown image."""
    import base64

    def bars(d):
        for i in range(8):
            d.rectangle((40 + 70 * i, 300 - 30 * i, 90 + 70 * i, 320), fill=(30 * i, 90, 200 - 20 * i))

    png = _png(bars)
    (folder / "kernel.png").write_bytes(png)
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode(), "text/plain": ["<Figure>"]}}
    widget = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "0f" * 16, "version_major": 2,
                                                                    "version_minor": 0},
                       "image/png": base64.b64encode(png).decode(), "text/plain": ["Interactive widget"]}}
    cells = [
        _cell("markdown", "# Fixture deck: 3x3 kernels\n\nWhat you will learn and build.", "slide"),
        _cell("markdown", "Welcome. Timing: talk 10 min, hands-on 15 min", "notes"),
        _cell("markdown", "## Backpropagation\n\n$$\\frac{\\partial J}{\\partial x} = \\sum_k "
              "\\frac{\\partial J}{\\partial b_k}\\frac{\\partial b_k}{\\partial x}$$", "slide"),
        _cell("markdown", "- a 3x3 kernel has $k^2 = 9$ weights per channel", "fragment"),
        _cell("markdown", "Say: two 3x3 layers see 5x5 with 18 weights instead of 25.", "notes"),
        _cell("code", "print(sum(i * j for i in range(4) for j in range(4)))", "subslide", [plot]),
        _cell("code", "print('setup only')", "skip"),
        _cell("markdown", "![kernel](kernel.png)", "subslide"),
        _cell("markdown", "## Exercise: double it", "slide"),
        _cell("code", "def double(x):\n    raise NotImplementedError", "-"),
        _cell("code", "# Solution\ndef double(x):\n    return x + x  # SOLUTION-MARKER", "-", tags=["solution"]),
        _cell("code", "helper_code_nobody_reads = 1  # HIDDEN-INPUT-MARKER\nprint('helper output')", "-",
              [_stream("helper output\n")], tags=["hide-input"]),
        _cell("code", "show_widget(slider, figure)", "subslide", [widget]),
        _cell("markdown", "## Cheat sheet\n\n- small kernels, deep stacks", "slide"),
        _cell("markdown", "## Appendix: if time allows\n\nAPPENDIX-MARKER", "slide", tags=["appendix"]),
        _cell("markdown", "Backup material; no timing here.", "notes", tags=["appendix"]),
        _cell("markdown", "## References\n\n- LeCun et al. (1998), Proc. IEEE.", "slide"),
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}, "rise": {"theme": "white"},
                                       "widgets": {"application/vnd.jupyter.widget-state+json": {
                                           "state": {"0f" * 16: {}}, "version_major": 2, "version_minor": 0}}},
          "nbformat": 4, "nbformat_minor": 5}
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    path = folder / f"{FIXTURE_STEM}.ipynb"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


OVERFLOW_STEM = "zz_overflow_deck"


def write_overflow_notebook(folder: Path) -> Path:
    """A deck with one slide that fits, one 60 lines too tall (cell 3), one too wide (cell 5) and a split output."""
    tall = "\n".join(f"value_{i} = {i}" for i in range(60))
    wide = '<table><tr>' + "".join(f"<td>column_{i}</td>" for i in range(60)) + "</tr></table>"
    cells = [
        _cell("markdown", "# Overflow fixture", "slide"),
        _cell("markdown", "## Fits", "slide"),
        _cell("markdown", "## Too tall", "slide"),
        _cell("code", tall, "-"),
        _cell("markdown", "## Too wide", "slide"),
        _cell("code", "wide_table()", "-", [{"output_type": "display_data", "metadata": {},
                                            "data": {"text/html": wide, "text/plain": "table"}}]),
        _cell("code", "print(40 * 'long output line\\n')", "slide", [_stream(40 * "long output line\n")],
              tags=["output-slide"]),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = folder / f"{OVERFLOW_STEM}.ipynb"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if shutil.which("npm") is None and not (bs.NODE_MODULES / "reveal.js").exists():
        _unavailable("npm is not installed and tools/slides/node_modules is missing (install Node.js and npm)")
    folder = tmp_path_factory.mktemp("fixture_nb")
    fixtures = [write_fixture_notebook(folder), write_overflow_notebook(folder)]
    out = tmp_path_factory.mktemp("slides")
    result = bs.build([*NOTEBOOKS, *fixtures], out)
    return result, {deck.notebook.stem: deck for deck in result.decks}


@pytest.fixture(scope="module")
def server(built):
    result, _ = built

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(result.out_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install playwright==1.65.2")
    if CHROMIUM is None:
        _unavailable("chromium is not installed: apt-get update && apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Recorder:
    """Every request, failed load and console error of one browser context."""

    def __init__(self, context, page):
        self.requests: list[str] = []
        self.problems: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        context.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.watch(page)

    def watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def outside(self, allowed: tuple[str, ...]) -> list[str]:
        return [u for u in self.requests if not u.startswith(allowed + ("data:", "about:", "blob:"))]


def _open_deck(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    recorder = Recorder(context, page)
    page.goto(url)
    page.wait_for_function(
        "window.Reveal && Reveal.isReady() && document.body.dataset.mathjaxDone === 'true'",
        timeout=LOAD_TIMEOUT_MS,
    )
    return context, page, recorder


def _raw(deck) -> dict:
    return json.loads(deck.notebook.read_text(encoding="utf-8"))


def _expected_pngs(nb: dict) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in bs.deck_notebook(nb)["cells"]
        if bs.slide_type(cell) != "skip"
        for output in cell.get("outputs", [])
    )


def _has_math(nb: dict) -> bool:
    return any(
        MATH_RE.search("".join(cell["source"]))
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown" and bs.slide_type(cell) != "skip"
    )


# ---------------------------------------------------------------------------------------------
# Every slide fits the screen: step through every slide and fragment, measure, and draw a contact sheet

VIEWPORT = {"width": 1280, "height": 720}
MIN_CODE_FONT_PX = 14.0  # on screen, after reveal's scaling: readable from the back of a room on a projector
THUMB = (320, 180)
SHEET_COLUMNS = 5

# Steps through every slide (Reveal.getSlides(): leaf slides, subslides included) and, on each, from no fragment
# shown to all of them; at each step takes the union of the bounding boxes of everything on the slide but the
# speaker notes, in screen pixels, and finds the deck cells (id "cell-id=nb<index>") that cross the screen's edge.
MEASURE_JS = """async () => {
    const style = document.createElement('style');
    style.textContent = '.reveal *, .reveal *::before, .reveal *::after '
        + '{ transition: none !important; animation: none !important; }';
    document.head.appendChild(style);
    Reveal.configure({ transition: 'none', backgroundTransition: 'none' });
    await document.fonts.ready;
    await Promise.all([...document.images].map(i => i.complete ? null : i.decode().catch(() => null)));
    const W = window.innerWidth, H = window.innerHeight;
    const measure = (slide) => {
        let bottom = -Infinity, right = -Infinity;
        for (const el of slide.querySelectorAll('*')) {
            if (el.closest('aside.notes') || el.closest('mjx-assistive-mml')) continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            bottom = Math.max(bottom, r.bottom);
            right = Math.max(right, r.right);
        }
        // Each cell's extent is that of everything inside it (a wide table can stick out of its cell's box).
        const cells = [...slide.querySelectorAll('[id^="cell-id=nb"]')].filter(c => !c.closest('aside.notes'));
        const extent = (cell) => {
            let b = -Infinity, r = -Infinity;
            for (const el of [cell, ...cell.querySelectorAll('*')]) {
                const box = el.getBoundingClientRect();
                if (box.width === 0 && box.height === 0) continue;
                b = Math.max(b, box.bottom); r = Math.max(r, box.right);
            }
            return { bottom: b, right: r };
        };
        const rects = cells.map(c => [c.id, extent(c)]);
        const below = rects.find(([, r]) => r.bottom > H + 0.5);
        const wide = rects.filter(([, r]) => r.right > W + 0.5).sort((a, b) => b[1].right - a[1].right)[0];
        return {
            bottom: Math.ceil(bottom - H), right: Math.ceil(right - W),
            cells: cells.map(c => c.id), below: below ? below[0] : null, wide: wide ? wide[0] : null,
        };
    };
    const slides = [];
    for (const slide of Reveal.getSlides()) {
        const at = Reveal.getIndices(slide);
        Reveal.slide(at.h, at.v, -1);
        let worst = measure(slide), steps = 1;
        while (Reveal.nextFragment()) {
            const m = measure(slide);
            steps += 1;
            if (Math.max(m.bottom, m.right) > Math.max(worst.bottom, worst.right)) worst = m;
        }
        const heading = slide.querySelector('h1, h2, h3, h4');
        slides.push({ h: at.h, v: at.v, steps: steps, ...worst,
                      heading: heading ? heading.textContent.replace(/¶/g, '').trim().slice(0, 50) : '' });
    }
    const code = document.querySelector('.reveal .jp-InputArea-editor pre, .reveal pre');
    const font = code ? parseFloat(getComputedStyle(code).fontSize) * Reveal.getScale() : null;
    Reveal.slide(0, 0, -1);
    return { slides: slides, codeFontPx: font, scale: Reveal.getScale() };
}"""


@dataclasses.dataclass(frozen=True)
class SlideFit:
    """One slide, measured with all its fragments shown: how far it runs past the screen, and which cells."""

    number: int  # 1-based, in deck order (what reveal's "c/t" counter shows)
    h: int
    v: int
    heading: str
    steps: int  # the slide and its fragments, each shown and measured
    bottom_px: int  # > 0: screen pixels past the bottom edge
    right_px: int  # > 0: screen pixels past the right edge
    cells: tuple[str, ...]  # deck cell ids on the slide (nb<index>[-output])
    culprit: str | None  # the first cell that crosses the bottom edge (else the widest one past the right edge)

    @property
    def overflows(self) -> bool:
        """True when anything on the slide lies outside the 1280x720 screen."""
        return self.bottom_px > 0 or self.right_px > 0


@dataclasses.dataclass(frozen=True)
class DeckFit:
    """What :func:`measure_deck` found in one deck."""

    slides: tuple[SlideFit, ...]
    code_font_px: float | None
    scale: float

    @property
    def overflowing(self) -> list[SlideFit]:
        """The slides that run past the screen."""
        return [s for s in self.slides if s.overflows]


def measure_deck(page) -> DeckFit:
    """Step through every slide and fragment of the deck open in ``page`` and measure each against the screen."""
    raw = page.evaluate(MEASURE_JS)
    slides = tuple(
        SlideFit(i + 1, s["h"], s["v"], s["heading"], s["steps"], max(s["bottom"], 0), max(s["right"], 0),
                 tuple(c.removeprefix("cell-id=") for c in s["cells"]),
                 (s["below"] or s["wide"] or "").removeprefix("cell-id=") or None)
        for i, s in enumerate(raw["slides"])
    )
    return DeckFit(slides, raw["codeFontPx"], raw["scale"])


def name_cell(nb: dict, anchor: str | None) -> str:
    """``cell 12 `def vgg(x):`` `` for a deck cell id, from the notebook's own cells."""
    if not anchor:
        return "no cell (the slide's own margin)"
    index, output = bs.parse_anchor(anchor)
    label = f"cell {index}{' (its output slide)' if output else ''}"
    return f"{label} `{bs.first_line(nb['cells'][index])}`"


def describe_overflow(stem: str, nb: dict, slide: SlideFit) -> str:
    """One line an author can act on: notebook, slide, by how much, which cell crosses the edge, what is on it."""
    parts = []
    if slide.bottom_px:
        parts.append(f"{slide.bottom_px} px too tall")
    if slide.right_px:
        parts.append(f"{slide.right_px} px too wide")
    indices = sorted({bs.parse_anchor(c)[0] for c in slide.cells})
    span = (f"cells {indices[0]}–{indices[-1]}" if len(indices) > 1 else f"cell {indices[0]}") if indices else "no cell"
    heading = f" “{slide.heading}”" if slide.heading else ""
    return (f"{stem}: slide {slide.number} ({slide.h}/{slide.v}){heading}: {' and '.join(parts)}"
            f" (screen 1280x720); {name_cell(nb, slide.culprit)} crosses the edge; the slide holds {span}")


def contact_sheet(thumbnails: list[bytes], fits: tuple[SlideFit, ...], title: str, path: Path) -> Path:
    """Write one PNG with every slide as a numbered thumbnail; overflowing slides get a red frame and label."""
    from PIL import Image, ImageDraw, ImageFont

    columns = min(SHEET_COLUMNS, max(len(thumbnails), 1))
    rows = -(-len(thumbnails) // columns)
    pad, label_h, head_h = 8, 20, 30
    width = columns * (THUMB[0] + pad) + pad
    height = head_h + rows * (THUMB[1] + label_h + pad) + pad
    sheet = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(sheet)
    try:  # Pillow >= 10.1 scales its built-in font; older ones only have a tiny bitmap font
        font, head_font = ImageFont.load_default(size=14), ImageFont.load_default(size=18)
    except TypeError:
        font = head_font = ImageFont.load_default()
    over = sum(f.overflows for f in fits)
    draw.text((pad, 6), f"{title}: {len(fits)} slides, {over} overflowing 1280x720 (red)", fill=(0, 0, 0),
              font=head_font)
    for i, (png, fit) in enumerate(zip(thumbnails, fits)):
        x = pad + (i % columns) * (THUMB[0] + pad)
        y = head_h + (i // columns) * (THUMB[1] + label_h + pad)
        thumb = Image.open(io.BytesIO(png))
        thumb.draft("RGB", (THUMB[0] * 2, THUMB[1] * 2))  # JPEG: decode at a reduced size, much faster
        thumb = thumb.convert("RGB").resize(THUMB, Image.BILINEAR, reducing_gap=2.0)
        sheet.paste(thumb, (x, y + label_h))
        colour = (200, 0, 0) if fit.overflows else (60, 60, 60)
        label = f"{fit.number} ({fit.h}/{fit.v})"
        if fit.overflows:
            label += f"  +{fit.bottom_px} px" + (f", +{fit.right_px} px wide" if fit.right_px else "")
        draw.text((x, y + 2), label, fill=colour, font=font)
        if fit.overflows:
            box = (x - 2, y + label_h - 2, x + THUMB[0] + 1, y + label_h + THUMB[1] + 1)
            draw.rectangle(box, outline=colour, width=3)
        else:
            draw.rectangle((x - 1, y + label_h - 1, x + THUMB[0], y + label_h + THUMB[1]), outline=(180, 180, 180))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def inspect_deck(browser, deck_path: Path, sheet: Path | None) -> tuple[DeckFit, Recorder]:
    """Open a deck from file:// at 1280x720, measure every slide, and (if ``sheet``) write its contact sheet.

    Returns the measurements and the recorder of the page's requests and errors.
    """
    context, page, recorder = _open_deck(browser, deck_path.as_uri())
    try:
        fit = measure_deck(page)
        if sheet is not None:
            shots = []
            for slide in fit.slides:
                page.evaluate("([h, v]) => Reveal.slide(h, v, 1000)", [slide.h, slide.v])  # all fragments shown
                shots.append(page.screenshot(type="jpeg", quality=70))
            contact_sheet(shots, fit.slides, deck_path.name.removesuffix(bs.DECK_SUFFIX), sheet)
        return fit, recorder
    finally:
        context.close()


def solution_lines(nb: dict) -> dict[int, list[str]]:
    """For each solution cell (tagged ``solution``, or starting with ``# Solution``): its lines that no other cell
    shares (the stub repeats the signature), at least 10 characters long, comments left out, whitespace collapsed.
    """
    def norm(line: str) -> str:
        return " ".join(line.split())

    def is_solution(cell: dict) -> bool:
        return bs.SOLUTION_TAG in bs.cell_tags(cell) or bs._source(cell).lstrip().lower().startswith("# solution")

    cells = nb["cells"]
    elsewhere = {norm(line) for c in cells if not is_solution(c) for line in bs._source(c).splitlines()}
    found = {}
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and is_solution(cell):
            lines = [norm(line) for line in bs._source(cell).splitlines()]
            distinctive = [
                line for line in lines if len(line) >= 10 and not line.startswith("#") and line not in elsewhere
            ]
            if distinctive:
                found[index] = distinctive
    return found


def deck_text(html_text: str) -> str:
    """The text of a deck's slides (speaker notes left out), whitespace collapsed: what the room can read."""
    body = re.sub(r"<aside class=\"notes\">.*?</aside>", " ", html_text, flags=re.DOTALL)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    body = html.unescape(re.sub(r"<[^>]+>", "", body))
    return " ".join(body.split())


def _show_table(folder: Path) -> int:
    """``python tests/test_decks_browser.py FOLDER``: slides and overflowing slides per deck, contact sheets."""
    from playwright.sync_api import sync_playwright

    notebooks = bs.default_notebooks(folder)
    out = Path(os.environ.get("DECKS_OUT", "/tmp/decks-table"))
    result = bs.build(notebooks, out, install=True)
    sheets = Path(os.environ.get("DECKS_SHEETS", str(SCREENSHOTS)))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for deck in result.decks:
            stem = deck.notebook.stem
            fit, _ = inspect_deck(chromium, deck.html_path, sheets / f"{stem}-contact.png")
            nb = _raw(deck)
            print(f"{stem}: {len(fit.slides)} slides, {len(fit.overflowing)} overflowing "
                  f"(code font {fit.code_font_px:.1f} px on screen)", flush=True)
            for slide in fit.overflowing:
                print("   ", describe_overflow(stem, nb, slide))
        chromium.close()
    return 0


# ---------------------------------------------------------------------------------------------
# The tests


def test_built_decks_reference_no_remote_asset(built) -> None:
    result, decks = built
    assert set(decks) == set(STEMS) | {OVERFLOW_STEM}
    for deck in result.decks:
        text = deck.html_path.read_text(encoding="utf-8")
        remote = REMOTE_RE.findall(text)
        assert not remote, f"{deck.html_path.name} loads from the network: {remote[:5]}"
        assert 'src="_assets/require.js"' in text and "_assets/reveal.js/dist/reveal.js" in text


@pytest.mark.parametrize("stem", STEMS)
def test_deck_over_http_on_localhost(stem, built, server, browser) -> None:
    _, decks = built
    deck = decks[stem]
    nb = _raw(deck)
    context, page, recorder = _open_deck(browser, server + deck.html_path.name)
    try:
        assert page.evaluate("Reveal.getTotalSlides()") == deck.expected_slides
        assert page.evaluate("document.querySelectorAll('.reveal .slides section:not(:has(section))').length") == (
            deck.expected_slides
        )
        images = page.evaluate("[...document.querySelectorAll('.reveal img')].map(i => [i.complete, i.naturalWidth])")
        assert all(done and width > 0 for done, width in images), f"an image did not decode: {images}"
        pngs = page.evaluate("document.querySelectorAll('.reveal img[src^=\"data:image/png\"]').length")
        assert pngs >= _expected_pngs(nb), "a PNG output of the notebook is missing from the deck"
        asides = page.evaluate("document.querySelectorAll('.reveal .slides aside.notes').length")
        assert asides == deck.notes_cells, f"{deck.notes_cells} notes cells but {asides} speaker notes in the deck"
        if _has_math(nb):
            assert page.evaluate("document.querySelectorAll('mjx-container').length") > 0, "math was not typeset"
            assert page.evaluate("document.querySelectorAll('mjx-merror').length") == 0, "MathJax reported an error"
        png = page.screenshot()
        if stem != FIXTURE_STEM:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"{stem}.png").write_bytes(png)
        assert not looks_blank(png), f"the first slide of {deck.html_path.name} renders blank"
        assert not recorder.outside((server,)), f"requests left localhost: {recorder.outside((server,))}"
        assert not recorder.problems, f"{deck.html_path.name}: {recorder.problems}"
    finally:
        context.close()


# The speaker view is the same plugin in every deck: open it in the fixture and in the first notebook's deck.
@pytest.mark.parametrize("stem", [FIXTURE_STEM, *(p.stem for p in NOTEBOOKS[:1])])
def test_speaker_view_opens_offline_with_the_notes(stem, built, browser) -> None:
    _, decks = built
    deck = decks[stem]
    context, page, recorder = _open_deck(browser, deck.html_path.as_uri())
    try:
        # Go to the first slide that has notes, open the speaker view, and find those notes in it.
        target = page.evaluate(
            """() => {
                const aside = document.querySelector('.reveal .slides aside.notes');
                const slide = aside.closest('section');
                const at = Reveal.getIndices(slide);
                Reveal.slide(at.h, at.v);
                return aside.textContent.replace(/\\s+/g, ' ').trim().slice(0, 40);
            }"""
        )
        assert target, "the deck has no speaker notes"
        with context.expect_page(timeout=10_000) as popup:
            page.keyboard.press("s")
        notes = popup.value
        recorder.watch(notes)
        notes.wait_for_function(
            """(target) => {
                const box = document.querySelector('.speaker-controls-notes');
                return box && box.textContent.replace(/\\s+/g, ' ').includes(target);
            }""",
            arg=target,
            timeout=10_000,
        )
        assert not recorder.outside(("file://",)), f"requests left file://: {recorder.outside(('file://',))}"
        assert not recorder.problems, f"{deck.html_path.name} speaker view: {recorder.problems}"
    finally:
        context.close()


def test_index_links_every_deck(built, server, browser) -> None:
    result, _ = built
    context = browser.new_context()
    page = context.new_page()
    recorder = Recorder(context, page)
    try:
        page.goto(server + "index.html")
        links = set(page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))"))
        assert {d.html_path.name for d in result.decks} <= links
        assert all((result.out_dir / link).is_file() for link in links)
        assert not recorder.outside((server,)) and not recorder.problems, recorder.problems
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# Slides fit the screen; no solution in a deck


@pytest.mark.parametrize("stem", STEMS)
def test_every_slide_fits_the_screen(stem, built, browser) -> None:
    _, decks = built
    deck = decks[stem]
    sheet = None if stem == FIXTURE_STEM else SCREENSHOTS / f"{stem}-contact.png"
    fit, recorder = inspect_deck(browser, deck.html_path, sheet)  # opened from file://, as from a USB stick
    assert len(fit.slides) == deck.expected_slides
    assert not recorder.outside(("file://",)), f"requests left file://: {recorder.outside(('file://',))}"
    assert not recorder.problems, f"{deck.html_path.name} (file://): {recorder.problems}"
    if stem == FIXTURE_STEM:  # the math slide has one fragment: shown and measured in two steps
        assert [(s.steps, s.cells) for s in fit.slides if s.heading == "Backpropagation"] == [(2, ("nb2", "nb3"))]
    # reveal 4 default: a 960x700 slide scaled to the screen less a 4% margin
    default_scale = min(1280 * 0.96 / 960, 720 * 0.96 / 700)
    assert fit.scale == pytest.approx(default_scale, rel=1e-3), "not reveal's default scaling"
    if fit.code_font_px is not None:
        assert fit.code_font_px >= MIN_CODE_FONT_PX, (
            f"{stem}: code is {fit.code_font_px:.1f} px on a 1280x720 screen; keep it at least {MIN_CODE_FONT_PX} px "
            "(split the slide instead of shrinking the font)"
        )
    problems = [describe_overflow(stem, _raw(deck), slide) for slide in fit.overflowing]
    assert not problems, (
        f"{len(problems)} of {len(fit.slides)} slides of {stem} run past a 1280x720 screen (contact sheet: "
        f"{sheet}). Split the slide (a new `slide`/`subslide` cell), move detail to notes, tag long helper code "
        "`hide-input` or make it `skip`, or tag the cell `output-slide`:\n" + "\n".join(problems)
    )


def test_overflow_check_names_the_cell_and_the_pixels(built, browser) -> None:
    _, decks = built
    deck = decks[OVERFLOW_STEM]
    fit, _ = inspect_deck(browser, deck.html_path, None)
    by_heading = {slide.heading: slide for slide in fit.slides}
    assert not by_heading["Fits"].overflows and not by_heading["Overflow fixture"].overflows
    tall, wide = by_heading["Too tall"], by_heading["Too wide"]
    assert tall.culprit == "nb3" and tall.bottom_px > 400 and tall.right_px == 0
    assert wide.culprit == "nb5" and wide.right_px > 200 and wide.bottom_px == 0
    message = describe_overflow(OVERFLOW_STEM, _raw(deck), tall)
    assert f"{tall.bottom_px} px too tall" in message and "cell 3 `value_0 = 0`" in message
    assert "slide 3 (2/0)" in message and "cells 2–3" in message
    # output-slide: the input stays (fits), the 40-line output gets its own subslide, which overflows and is named.
    split = [slide for slide in fit.slides if "nb6-output" in slide.cells]
    assert len(split) == 1 and split[0].culprit == "nb6-output" and split[0].v == 1
    assert "cell 6 (its output slide)" in describe_overflow(OVERFLOW_STEM, _raw(deck), split[0])
    assert not [s for s in fit.slides if "nb6" in s.cells][0].overflows


def test_fixture_deck_honours_solution_hide_input_appendix_and_widget_png(built, browser) -> None:
    _, decks = built
    deck = decks[FIXTURE_STEM]
    text = deck_text(deck.html_path.read_text(encoding="utf-8"))
    assert "SOLUTION-MARKER" not in text and "return x + x" not in text
    assert "raise NotImplementedError" in text  # the stub stays
    assert "HIDDEN-INPUT-MARKER" not in text and "helper output" in text
    assert text.index("## References".removeprefix("## ")) < text.index("APPENDIX-MARKER")  # appendix after refs
    assert text.index("Cheat sheet") < text.index("References")
    assert deck.solutions_dropped == 1 and deck.appendix_cells == 2
    context, page, recorder = _open_deck(browser, deck.html_path.as_uri())
    try:
        widget_slide = page.evaluate(
            # cell 12 is the show_widget(...) cell
            """() => { const s = [...Reveal.getSlides()].find(s => s.querySelector('[id="cell-id=nb12"]'));
                       return [s.querySelectorAll('img[src^="data:image/png"]').length,
                               s.querySelectorAll('.jupyter-widgets').length]; }"""
        )
        assert widget_slide == [1, 0], "a widget output with a PNG must show the PNG in the deck"
        last = page.evaluate("Reveal.getSlides().at(-1).textContent")
        assert "APPENDIX-MARKER" in last
    finally:
        context.close()


@pytest.mark.parametrize("stem", STEMS)
def test_no_solution_code_in_deck(stem, built) -> None:
    _, decks = built
    deck = decks[stem]
    nb = _raw(deck)
    text = deck_text(deck.html_path.read_text(encoding="utf-8"))
    leaks = {
        index: shown
        for index, lines in solution_lines(nb).items()
        if (shown := [line for line in lines if line in text])
    }
    described = [f"cell {index} `{bs.first_line(nb['cells'][index])}`: “{lines[0]}”"
                 + (f" and {len(lines) - 1} more lines" if len(lines) > 1 else "")
                 for index, lines in leaks.items()]
    assert not leaks, (
        f"{stem}: solution code shows in the deck. Tag each solution cell `solution` (the builder drops it) and "
        "collapse it (metadata.jupyter.source_hidden = true):\n" + "\n".join(described)
    )


def test_solution_lines_skip_what_the_stub_shares() -> None:
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "def double(x):\n    raise NotImplementedError"},
        {"cell_type": "code", "metadata": {}, "source": "# Solution\ndef double(x):\n    return x + x  # twice"},
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "y = 1\nanswer = compute_it(42)"},
    ]}
    assert solution_lines(nb) == {1: ["return x + x # twice"], 2: ["answer = compute_it(42)"]}
    html_text = '<pre><span class="n">answer</span> <span class="o">=</span> compute_it(42)</pre>'
    assert "answer = compute_it(42)" in deck_text(html_text)
    assert "secret" not in deck_text('<aside class="notes">secret</aside><p>shown</p>')


# ---------------------------------------------------------------------------------------------
# Live slides: JupyterLab + jupyterlab-rise serve /rise/<notebook>


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WIDGET_NOTEBOOK = "widget_live.ipynb"
WIDGET_CELL = """\
import matplotlib.pyplot as plt
import ipywidgets
from workshop_utils.display import show_widget

figure, axes = plt.subplots(figsize=(3, 2))
axes.plot([0, 1], [0, 3])
show_widget(ipywidgets.IntSlider(value=3, min=1, max=7, description="kernel"), figure)
"""


def _stored_widget_output() -> dict:
    """The output show_widget stores, as a clone of the repository has it (no kernel, no saved widget state)."""
    import matplotlib

    matplotlib.use("agg")
    import ipywidgets
    import matplotlib.pyplot as plt

    from workshop_utils.display import widget_bundle

    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([0, 1], [0, 3])
    bundle = widget_bundle(ipywidgets.IntSlider(value=3, description="kernel"), figure)
    return {"output_type": "display_data", "metadata": {}, "data": bundle}


@pytest.fixture(scope="module")
def lab(built, tmp_path_factory):
    """A JupyterLab server (RISE and the widget manager installed) on a folder with the fixture notebooks."""
    if importlib.util.find_spec("jupyterlab_rise") is None:
        _unavailable("jupyterlab-rise is not installed: pip install jupyterlab-rise==0.43.1")
    _, decks = built
    deck = decks[FIXTURE_STEM]
    tmp_path = tmp_path_factory.mktemp("lab")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(deck.notebook, root)
    shutil.copy(deck.notebook.parent / "kernel.png", root)
    widget_nb = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "widget-cell", "metadata": {},
                            "outputs": [_stored_widget_output()], "source": WIDGET_CELL}],
                 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                 "nbformat": 4, "nbformat_minor": 5}
    (root / WIDGET_NOTEBOOK).write_text(json.dumps(widget_nb), encoding="utf-8")
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               MPLBACKEND="agg", PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
               "--ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly"]
    log = open(tmp_path / "jupyter.log", "w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "jupyter.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_show_widget_is_live_in_jupyterlab(lab, browser) -> None:
    """JupyterLab shows the stored PNG of a freshly cloned notebook, and the live widget once the cell runs.

    A clone's outputs are untrusted, so JupyterLab picks the safe ``image/png`` over the widget view; an output the
    kernel just produced is trusted, and the widget manager (jupyterlab_widgets) outranks the PNG.
    """
    if importlib.util.find_spec("jupyterlab_widgets") is None:
        _unavailable("the JupyterLab widget manager is not installed: pip install ipywidgets==8.1.9")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    _recorder = Recorder(context, page)  # listens for console errors while the page lives
    try:
        page.goto(f"{lab}/lab/tree/{WIDGET_NOTEBOOK}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell .jp-InputArea-editor", timeout=LOAD_TIMEOUT_MS)
        output = ".jp-Notebook .jp-CodeCell .jp-OutputArea-output"
        # Opened from a clone (not trusted, no kernel output yet): the stored figure shows, not a broken widget.
        page.wait_for_selector(f"{output} img", timeout=LOAD_TIMEOUT_MS)
        assert "Error displaying widget" not in page.text_content(output)
        # The status bar reads "Python 3 (ipykernel) | Idle" once the kernel is up: only then run the cell.
        page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=60_000)
        for attempt in range(3):
            page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_selector(f"{output} .jupyter-widgets", timeout=30_000)
                break
            except Exception:  # a keystroke lost while the page settles: run the cell again
                if attempt == 2:
                    raise
        rendered = page.evaluate(
            f"""() => {{
                const out = document.querySelector('{output}');
                return {{ slider: !!out.querySelector('.widget-slider, .widget-hslider'),
                          images: out.querySelectorAll('img').length,
                          mime: out.dataset.mimeType || '',
                          text: out.textContent.slice(0, 200) }};
            }}"""
        )
        assert rendered["slider"] and rendered["images"] == 0, f"JupyterLab did not render the live widget: {rendered}"
        assert "Error displaying widget" not in rendered["text"], rendered
        assert "kernel" in rendered["text"]  # the slider's label
    finally:
        context.close()


def test_rise_serves_live_slides(built, browser, lab) -> None:
    _, decks = built
    deck = decks[FIXTURE_STEM]
    base = lab
    url = f"{base}/rise/{deck.notebook.name}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    recorder = Recorder(context, page)
    try:
        page.goto(url)
        # RISE lays the notebook out as reveal.js sections: one leaf section per slide and subslide.
        page.wait_for_function(
            "document.querySelectorAll('.reveal .slides section').length > 0", timeout=LOAD_TIMEOUT_MS
        )
        leaf_slides = "document.querySelectorAll('.reveal .slides section:not(:has(section))').length"
        page.wait_for_function(f"{leaf_slides} === {deck.expected_slides}", timeout=10_000)
        assert "Fixture deck" in page.text_content(".reveal .slides section.present")
        # Live: step to the code slide and run its cell in the kernel (Shift+Enter), as an instructor does.
        for _ in range(6):
            if page.locator(".reveal .slides section.present:not(.stack) .jp-CodeCell").count():
                break
            page.keyboard.press("Space")
            page.wait_for_timeout(300)
        page.locator(".reveal .slides section.present:not(.stack) .jp-CodeCell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "[...document.querySelectorAll('.reveal .jp-OutputArea-output')].some(o => o.textContent.trim() === '36')",
            timeout=LOAD_TIMEOUT_MS,
        )
        assert not recorder.outside((base,)), f"requests left localhost: {recorder.outside((base,))}"
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(_show_table(Path(sys.argv[1]) if len(sys.argv) > 1 else bs.DEFAULT_NOTEBOOK_DIR))
