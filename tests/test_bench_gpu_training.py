"""bench_gpu_training sweeps the levers the GPU issue names, and its --quick run prints a complete, positive table
on any device (here: the CI machine's CPU)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_gpu_training.py"
HEADER = ["model", "dtype", "batch", "data", "jit", "1st fit", "ms/step", "images/s", "TFLOP/s", "% ceil", "vs 1st"]


def _load():
    """The script as a module (registered in sys.modules, as its dataclasses need)."""
    if "bench_gpu_training" in sys.modules:
        return sys.modules["bench_gpu_training"]
    if str(SCRIPT.parent) not in sys.path:  # where `python benchmarks/x.py` finds the scripts' _preamble
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_gpu_training", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gpu_training"] = module
    spec.loader.exec_module(module)
    return module


def test_the_full_sweep_covers_every_lever_the_issue_names() -> None:
    plans = _load().plans(quick=False)
    assert set(plans) == {"alexnet_style", "vgg_style", "resnet50"}
    for name in ("alexnet_style", "vgg_style"):
        settings = plans[name].settings
        assert (plans[name].image, plans[name].classes) == (32, 10)
        assert {256, 1024, 4096} <= {s.batch for s in settings}
        assert {s.dtype for s in settings} == {"float32", "bfloat16", "float16"}
        assert {d for s in settings for d in s.data} == {"host", "device"}
        assert {s.jit for s in settings} == {True, False}
        first = settings[0]
        assert (first.dtype, first.batch, first.jit, first.data[0]) == ("float32", 256, True, "host")
    assert plans["resnet50"].image == 224 and plans["resnet50"].classes == 1000
    assert {s.dtype for s in plans["resnet50"].settings} == {"float32", "bfloat16", "float16"}


def test_the_small_nets_are_notebook_02s() -> None:
    """The counts notebook 02 prints for its pair (cell "same budget": 82,690 / 86,242 parameters)."""
    from workshop_utils import flops

    bench = _load()
    alexnet, vgg = bench.build("alexnet_style", 32, 10), bench.build("vgg_style", 32, 10)
    assert (alexnet.count_params(), flops.profile(alexnet).macs) == (82_690, 3_107_712)
    assert (vgg.count_params(), flops.profile(vgg).macs) == (86_242, 3_237_120)
    with pytest.raises(ValueError, match="pass one or more of alexnet_style, vgg_style, resnet50"):
        bench.build("lenet", 32, 10)


def test_an_unknown_model_is_refused_with_the_names_to_pass() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--models", "alexnet_style,lenet"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert "unknown model(s) lenet: pass --models with one or more of alexnet_style, vgg_style, resnet50" \
        in result.stderr


def test_quick_run_prints_the_device_the_ceilings_and_a_positive_row_per_setting() -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600,
                            cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"^device: (CPU \(\d+ cores?\) \(cpu\)|.+ \((gpu|tpu)\)); Keras ", out, re.M), out[:500]
    for dtype in ("float32", "bfloat16", "float16"):
        ceiling = re.search(rf"^matmul ceiling {dtype} *: +([\d.]+) TFLOP/s", out, re.M)
        assert ceiling and float(ceiling.group(1)) > 0, f"no {dtype} ceiling in:\n{out[:800]}"

    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("model "))
    assert [column for column in HEADER if column in header] == HEADER
    rows = [line.split() for line in lines[lines.index(header) + 2:] if line and not line.startswith(" ")]
    rows = rows[: next((i for i, row in enumerate(rows) if not row or row[0] == "best"), len(rows))]
    assert not [row for row in rows if "failed:" in row], rows
    plans = _load().plans(quick=True)
    expected = sum(len(setting.data) for plan in plans.values() for setting in plan.settings)
    assert len(rows) == expected, "\n".join(" ".join(row) for row in rows)
    seen = set()
    for model, dtype, batch, data, jit, first, ms, rate, tflops, pct, ratio in rows:
        assert model in plans and dtype in ("float32", "bfloat16", "float16") and data in ("host", "device")
        assert jit in ("yes", "no") and int(batch) > 0
        numbers = [float(first), float(ms), float(rate.replace(",", "")), float(tflops),
                   float(pct.rstrip("%")), float(ratio.rstrip("x"))]
        assert all(number > 0 for number in numbers), (model, numbers)
        seen.add((model, dtype, data, jit))
    assert {row[0] for row in rows} == set(plans)
    assert {("alexnet_style", "float32", "host", "yes"), ("alexnet_style", "float32", "device", "yes"),
            ("alexnet_style", "float32", "host", "no"), ("alexnet_style", "bfloat16", "device", "yes"),
            ("alexnet_style", "float16", "device", "yes")} <= seen
    for model in plans:  # the speed-up column is against each model's first row
        assert next(row for row in rows if row[0] == model)[-1] == "1.00x"
        assert re.search(rf"^best {model}: [\d,]+ images/s, [\d.]+ TFLOP/s .* measured on ", out, re.M)
