"""workshop.py, the quick-start script: standard library only, reinstall on requirement changes, test narrowing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import workshop  # noqa: E402


def test_uses_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "workshop.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)


def test_digest_follows_requirements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(workshop, "ROOT", tmp_path)
    before = workshop.requirements_digest()
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    assert workshop.requirements_digest() != before


def test_venv_python_location() -> None:
    python = workshop.venv_python(Path("env"))
    assert python.parts[-2:] in (("bin", "python"), ("Scripts", "python.exe"))


def test_test_command_narrows_to_given_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(workshop, "run", lambda command, **kwargs: calls.append([str(c) for c in command]))
    args = workshop.argparse.Namespace(extra=["tests/test_agenda.py", "-k", "slots"])
    workshop.command_test(Path("python"), args)
    (command,) = calls
    assert "tests/test_agenda.py" in command and "notebooks" not in command
    assert command[-2:] == ["-k", "slots"] and "--nbval-lax" in command


def test_unsupported_python_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workshop.sys, "version_info", (3, 9, 0))
    with pytest.raises(SystemExit, match="Install Python 3.11"):
        workshop.check_python_version()


def test_help_lists_both_quick_start_commands() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "workshop.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "lab" in out.stdout and "test" in out.stdout
