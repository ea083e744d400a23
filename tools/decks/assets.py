"""The files a deck loads: reveal.js 4.0.2 and its notes plugin, require.js, jQuery and MathJax 3, offline.

They come from ``tools/slides/node_modules`` (installed from ``tools/slides/package-lock.json`` with ``npm ci``, by
:func:`install_assets` when missing) and are copied to ``<out>/_assets`` (:func:`copy_assets`), so a deck folder
works opened from ``file://`` and served over http, with no network.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SLIDES_TOOL_DIR = Path(__file__).resolve().parent.parent / "slides"
NODE_MODULES = SLIDES_TOOL_DIR / "node_modules"
ASSETS = "_assets"  # the folder, beside the decks, that holds what they load
REVEAL_THEME = "white"  # its fonts ship with reveal.js; most other themes @import web fonts

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
