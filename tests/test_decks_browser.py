"""Build the reveal.js decks and check them in headless Chromium, as an instructor would use them offline.

For every notebook in notebooks/ (plus a small fixture notebook with math, a PNG plot, fragments, subslides,
skipped and notes cells, so the pipeline is checked even before the notebooks exist):

- served over http on 127.0.0.1: the slide count equals what the notebook's metadata says, no request leaves
  127.0.0.1, no console error, no failed load, math typeset, every image decoded, a first-slide screenshot
  that is not blank (kept as build/screenshots/<notebook>.png, a CI artifact);
- opened from file://: the same count and no error; the speaker view (key ``s``) opens and shows the notes
  of the slide it is on (fixture and first notebook: it is the same plugin in every deck);
- the index page links every deck.

Needs Debian's chromium (``apt-get install -y chromium``) and playwright (driving /usr/bin/chromium; its own
browser download is not used). Without them the browser tests skip, except under CI (env CI=true), where they
fail. Also checks that JupyterLab serves the notebook as live RISE slides (/rise/<notebook>).
"""

from __future__ import annotations

import functools
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
REMOTE_RE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+|@import\s+url\(\s*["']?https?:[^)]+""")
MATH_RE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(|\\\[", re.DOTALL)


from tools import build_slides as bs  # noqa: E402 (repo root is on sys.path: root conftest.py)
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


# ---------------------------------------------------------------------------------------------
# Fixtures: the fixture notebook, the build, a local http server, the browser


def _cell(cell_type: str, source: str, slide_type: str, outputs=None) -> dict:
    cell = {"cell_type": cell_type, "metadata": {"slideshow": {"slide_type": slide_type}}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=1, outputs=outputs or [])
    return cell


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
    cells = [
        _cell("markdown", "# Fixture deck: 3x3 kernels\n\nWhat you will learn and build.", "slide"),
        _cell("markdown", "Welcome. Timing: talk 10 min, hands-on 15 min", "notes"),
        _cell("markdown", "## Backpropagation\n\n$$\\frac{\\partial J}{\\partial x} = \\sum_k "
              "\\frac{\\partial J}{\\partial b_k}\\frac{\\partial b_k}{\\partial x}$$", "slide"),
        _cell("markdown", "- a 3x3 kernel has $k^2 = 9$ weights per channel", "fragment"),
        _cell("markdown", "Say: two 3x3 layers see 5x5 with 18 weights instead of 25.", "notes"),
        _cell("code", "print(sum(i * j for i in range(4) for j in range(4)))", "subslide", [plot]),
        _cell("code", "print('setup only')", "skip"),
        _cell("markdown", "![kernel](kernel.png)", "-"),
        _cell("markdown", "## Cheat sheet\n\n- small kernels, deep stacks", "slide"),
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}, "rise": {"theme": "white"}},
          "nbformat": 4, "nbformat_minor": 5}
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    path = folder / f"{FIXTURE_STEM}.ipynb"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if shutil.which("npm") is None and not (bs.NODE_MODULES / "reveal.js").exists():
        _unavailable("npm is not installed and tools/slides/node_modules is missing (install Node.js and npm)")
    fixture = write_fixture_notebook(tmp_path_factory.mktemp("fixture_nb"))
    out = tmp_path_factory.mktemp("slides")
    result = bs.build([*NOTEBOOKS, fixture], out)
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
        for cell in nb["cells"]
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
# The tests


def test_built_decks_reference_no_remote_asset(built) -> None:
    result, decks = built
    assert set(decks) == set(STEMS)
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


@pytest.mark.parametrize("stem", STEMS)
def test_deck_from_file(stem, built, browser) -> None:
    _, decks = built
    deck = decks[stem]
    context, page, recorder = _open_deck(browser, deck.html_path.as_uri())
    try:
        assert page.evaluate("Reveal.getTotalSlides()") == deck.expected_slides
        assert not recorder.outside(("file://",)), f"requests left file://: {recorder.outside(('file://',))}"
        assert not recorder.problems, f"{deck.html_path.name} (file://): {recorder.problems}"
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
# Live slides: JupyterLab + jupyterlab-rise serve /rise/<notebook>


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_rise_serves_live_slides(built, browser, tmp_path) -> None:
    if importlib.util.find_spec("jupyterlab_rise") is None:
        _unavailable("jupyterlab-rise is not installed: pip install jupyterlab-rise==0.43.1")
    _, decks = built
    deck = decks[FIXTURE_STEM]
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(deck.notebook, root)
    shutil.copy(deck.notebook.parent / "kernel.png", root)
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
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
        url = f"{base}/rise/{deck.notebook.name}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        recorder = Recorder(context, page)
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
        context.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
