"""The code passes the linter configured in pyproject.toml ([tool.ruff]): ruff over the package, tests, tools,
benchmarks and workshop.py. Run it yourself with ``.venv/bin/python -m ruff check .`` (``--fix`` sorts imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert "No module named ruff" not in result.stderr, "ruff is missing: it is pinned in requirements.txt"
    assert result.returncode == 0, f"ruff found problems (fix them, or run ruff check --fix):\n{result.stdout}"


def test_ruff_reads_the_project_configuration() -> None:
    # The selection is the project's, not ruff's defaults: an import-order finding (I001) exists only if it is read.
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--show-settings", "workshop.py"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pyproject.toml" in result.stdout and "line_length = 120" in result.stdout
    assert "isort" in result.stdout and "unsorted-imports" in result.stdout
