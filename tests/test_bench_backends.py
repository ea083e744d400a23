"""benchmarks/bench_backends.py: one convnet, three backends, one table (the training itself is not run here)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # where `python benchmarks/x.py` finds the scripts' _preamble
spec = importlib.util.spec_from_file_location("bench_backends", ROOT / "benchmarks" / "bench_backends.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_backends"] = bench
spec.loader.exec_module(bench)


def _args(**changes: object) -> argparse.Namespace:
    return argparse.Namespace(**{"model": "plain", "batch": 128, "images": 2048, "repeats": 3, **changes})


def test_table_puts_backends_side_by_side_relative_to_tensorflow() -> None:
    results = [
        {"backend": "tensorflow", "version": "2.21.0", "params": 95_000, "warm_up_s": 3.0, "best_s": 1.0,
         "median_s": 1.1, "images": 2048},
        {"backend": "jax", "version": "0.10.2", "params": 95_000, "warm_up_s": 9.0, "best_s": 4.0,
         "median_s": 4.0, "images": 2048},
        {"backend": "torch", "error": "not installed: pip install -r requirements-torch.txt"},
    ]
    table = bench.format_table(results, _args())
    rows = {line.split()[0]: line for line in table.splitlines()[3:]}
    assert "2,048" in rows["tensorflow"] and "1.00x" in rows["tensorflow"]
    assert "512" in rows["jax"] and "0.25x" in rows["jax"]
    assert "requirements-torch.txt" in rows["torch"]


def test_missing_backend_is_a_row_naming_its_requirements_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    result = bench.run_backend("jax", _args(timeout=10))
    assert result == {"backend": "jax", "error": "not installed: pip install -r requirements-jax.txt"}


def test_every_backend_builds_the_same_model() -> None:
    plain, depthwise = bench.build_model("plain"), bench.build_model("depthwise")
    assert plain.output.shape[-1] == depthwise.output.shape[-1] == 10
    assert depthwise.count_params() < plain.count_params()


def test_bad_sizes_are_refused_with_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--images", "64", "--batch", "128"])
    assert "--images at least --batch" in capsys.readouterr().err
