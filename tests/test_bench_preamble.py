"""benchmarks/_preamble.py: every benchmark imports it first; it drops TensorFlow's start-up lines, keeps the rest."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _preamble  # noqa: E402 (benchmarks/ is not a package: the scripts find it beside them)

SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))


def _first_import(tree: ast.Module) -> str:
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import):
            return node.names[0].name
        if isinstance(node, ast.ImportFrom):
            return str(node.module)
    return "(none)"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_every_benchmark_imports_the_preamble_first_and_repeats_none_of_it(script: Path) -> None:
    source = script.read_text()
    assert _first_import(ast.parse(source)) == "_preamble"
    assert "sys.path.insert" not in source
    assert 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL"' not in source


def test_startup_lines_are_told_from_errors() -> None:
    # Lines TensorFlow 2.21 wrote on this machine at import, with TF_CPP_MIN_LOG_LEVEL=2 set.
    assert _preamble.is_startup_noise(
        "I0000 00:00:1796436212.753677   22297 port.cc:153] oneDNN custom operations are on. You may see ...\n")
    assert _preamble.is_startup_noise(
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    assert not _preamble.is_startup_noise(
        "E0000 00:00:1758131045.203198 3722035 cuda_dnn.cc:8579] Unable to register cuDNN factory\n")
    assert not _preamble.is_startup_noise("Traceback (most recent call last):\n")


def _run_with_fake_tensorflow(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the preamble in a fresh process whose `tensorflow` is a stub that writes to fd 2 like the C++ runtime."""
    package = tmp_path / "tensorflow"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(body))
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update({"KERAS_BACKEND": "tensorflow", "PYTHONPATH": os.pathsep.join([str(tmp_path), str(BENCHMARKS)]),
                        **env})
    report = "import _preamble, sys; print('imported' if 'tensorflow' in sys.modules else 'not imported')"
    return subprocess.run([sys.executable, "-c", report], capture_output=True, text=True, env=environment, timeout=60)


STUB = """
    import os
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
    os.write(2, b"I0000 00:00:1796436212.753677   22297 port.cc:153] oneDNN custom operations are on.\\n")
    os.write(2, b"E0000 00:00:1796436212.790374   22297 cuda_dnn.cc:8579] a real error\\n")
"""


def test_the_import_drops_startup_lines_and_writes_back_the_rest(tmp_path: Path) -> None:
    done = _run_with_fake_tensorflow(tmp_path, STUB)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"
    assert done.stderr == "E0000 00:00:1796436212.790374   22297 cuda_dnn.cc:8579] a real error\n"


def test_a_failing_import_shows_everything_it_wrote(tmp_path: Path) -> None:
    done = _run_with_fake_tensorflow(tmp_path, STUB + '    raise ImportError("libtensorflow.so: cannot open")\n')
    assert done.returncode == 1
    assert "oneDNN custom operations are on" in done.stderr and "a real error" in done.stderr
    assert "ImportError: libtensorflow.so: cannot open" in done.stderr


@pytest.mark.parametrize("env", [{"KERAS_BACKEND": "jax"}, {"TF_CPP_MIN_LOG_LEVEL": "0"}], ids=["jax", "level-0"])
def test_tensorflow_is_left_alone_on_another_backend_or_when_info_lines_are_asked_for(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = _run_with_fake_tensorflow(tmp_path, STUB, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "not imported"
    assert done.stderr == ""
