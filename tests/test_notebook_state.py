"""No hidden notebook state: what a visible cell uses is defined where the attendee can see it.

Read statically from each notebook's cells (Python's ast), so it runs in a second:
* a collapsed code cell defines nothing (variable, function, class, import) that a later visible cell reads
  without defining it itself; a collapsed exercise solution (tag ``solution``) is the one exception;
* the setup cell, the one that calls ``settings.setup(``, is visible;
* profile differences live in the run profile: no cell branches on ``run.name``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _code_cells(path: Path) -> list[tuple[int, str, bool, list[str]]]:
    cells = json.loads(path.read_text())["cells"]
    return [(index, "".join(cell["source"]), bool(cell["metadata"].get("jupyter", {}).get("source_hidden")),
             cell["metadata"].get("tags", [])) for index, cell in enumerate(cells) if cell["cell_type"] == "code"]


def _tree(source: str) -> ast.Module:
    # IPython lines (%magic, !shell) are not Python
    return ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))


def _defined(tree: ast.AST) -> set[str]:
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names |= {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    names |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return names


def hidden_state(path: Path) -> list[str]:
    """'name (defined in collapsed cell i, read in visible cell j)' for each leak, in cell order."""
    collapsed_defines: dict[str, int] = {}
    leaks = []
    for index, source, collapsed, tags in _code_cells(path):
        tree = _tree(source)
        if collapsed:
            if "solution" not in tags:
                collapsed_defines.update(dict.fromkeys(_defined(tree), index))
            continue
        own = _defined(tree) | {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
                                for arg in node.args + node.kwonlyargs}
        read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        leaks += [f"{name} (defined in collapsed cell {collapsed_defines[name]}, read in visible cell {index})"
                  for name in sorted(read - own) if name in collapsed_defines]
    return leaks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_collapsed_cell_defines_what_a_visible_cell_reads(path: Path) -> None:
    assert hidden_state(path) == [], "make the defining cell visible, or move the helper into workshop_utils"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_setup_cell_is_visible_and_no_cell_branches_on_the_profile_name(path: Path) -> None:
    cells = _code_cells(path)
    setup = [collapsed for _, source, collapsed, _ in cells if "settings.setup(" in source]
    assert setup and not any(setup), "the cell that calls settings.setup( must be visible"
    branches = [index for index, source, _, _ in cells
                if any(isinstance(node, ast.Compare) and "run.name" in ast.unparse(node.left)
                       for node in ast.walk(_tree(source)))]
    assert branches == [], f"cells {branches} compare run.name: put the difference in settings.RunProfile"


def test_the_check_finds_a_leak_and_ignores_solutions(tmp_path: Path) -> None:
    def cell(source: str, collapsed: bool = False, tags: tuple[str, ...] = ()) -> dict:
        metadata = {"tags": list(tags)} | ({"jupyter": {"source_hidden": True}} if collapsed else {})
        return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": [], "execution_count": None}

    notebook = {"cells": [cell("def helper(x):\n    return x", collapsed=True),
                          cell("answer = 1", collapsed=True, tags=("solution",)),
                          cell("y = helper(2) + answer\nz = 3"),
                          cell("z = 4", collapsed=True), cell("z = 5\nprint(z)")],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    assert hidden_state(path) == ["helper (defined in collapsed cell 0, read in visible cell 2)"]
