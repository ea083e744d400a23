"""gpu_check.sh reports only what its run executed: its driver clears stored outputs and records the cells it ran,
and its summary quotes only those cells and names the ones that did not run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"

STALE = "my_resnet20: validation accuracy 57.4% (1,000 held-out training images), 2,011 images/s"
STALE_PLAIN = "my_plain20: validation accuracy 71.2% (1,000 held-out training images), 2,480 images/s"
FRESH = "resnet20: validation accuracy 31.0% (1,000 held-out training images), 7,537 images/s"


def _code(source: str, *lines: str, seconds: float | None = None) -> dict:
    """A code cell with stored stdout `lines` and, optionally, nbclient's timing metadata of `seconds`."""
    metadata: dict = {}
    if seconds is not None:
        metadata["execution"] = {"iopub.execute_input": "2026-11-30T10:00:00.000Z",
                                 "shell.execute_reply": f"2026-11-30T10:{int(seconds) // 60:02d}:"
                                                        f"{int(seconds) % 60:02d}.000Z"}
    outputs = [{"output_type": "stream", "name": "stdout", "text": line + "\n"} for line in lines]
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": outputs, "execution_count": 1}


def _summarize(work: Path) -> str:
    result = subprocess.run(["bash", str(SCRIPT), "--summarize", str(work)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _work_folder(tmp_path: Path) -> Path:
    for folder in ("results", "nb", "logs"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def test_summary_quotes_only_cells_this_run_executed_and_names_the_rest(tmp_path: Path) -> None:
    work = _work_folder(tmp_path)
    (work / "results" / "07_resnet.gpu.tsv").write_text("07_resnet\tgpu\t170\ttimed out\tcell 5, code cell 3 of 5\n")
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# ResNet"},
        _code("run = settings.setup()", "Run profile: gpu", seconds=4),
        _code("train(resnet20)", FRESH, seconds=30),
        {"cell_type": "markdown", "metadata": {}, "source": "## Plain nets"},
        _code("sleep_forever()", seconds=0),  # this run stopped here, at its deadline
        # after the stop: stored outputs and timings of an earlier CPU run, which must not be reported
        _code("train(my_resnet20)", STALE, seconds=300),
        _code("train(my_plain20)", STALE_PLAIN, seconds=200),
        _code("   "),  # an empty code cell is never run, and is not listed as "did not run"
    ]
    record = {"code_cells": [1, 2, 4, 5, 6], "started": [1, 2, 4], "finished": [1, 2]}
    (work / "nb" / "07_resnet.gpu.ipynb").write_text(json.dumps({"cells": cells, "metadata": {"gpu_check": record}}))
    out = _summarize(work)
    assert FRESH in out
    assert "57.4%" not in out and "71.2%" not in out and "my_resnet20" not in out and "my_plain20" not in out
    assert "  stopped in cell #4\n" in out
    assert "  cells that did not run: #5-6 (2 of 5 code cells)\n" in out
    slowest = next(line for line in out.splitlines() if "slowest cells" in line)
    assert "#2 30 s" in slowest and "#5" not in slowest and "#6" not in slowest  # stale timings are not this run's
    last_row = "07_resnet                        gpu         170  timed out  (cell 5, code cell 3 of 5)"
    assert out.rstrip().endswith(last_row)


def test_a_notebook_without_the_drivers_record_has_nothing_quoted(tmp_path: Path) -> None:
    work = _work_folder(tmp_path)
    (work / "results" / "02_kernel_size_alexnet_vgg.ci.tsv").write_text("02_kernel_size_alexnet_vgg\tci\t80\tok\n")
    notebook = {"cells": [_code("train()", STALE, seconds=30)], "metadata": {}}
    (work / "nb" / "02_kernel_size_alexnet_vgg.ci.ipynb").write_text(json.dumps(notebook))
    out = _summarize(work)
    assert STALE not in out and "57.4%" not in out
    assert "(no record of which cells this run executed: its outputs are not quoted)" in out


def test_a_finished_run_lists_no_missing_cells(tmp_path: Path) -> None:
    work = _work_folder(tmp_path)
    (work / "results" / "00_welcome.ci.tsv").write_text("00_welcome\tci\t23\tok\n")
    notebook = {"cells": [_code("a()", FRESH, seconds=3), _code("b()", seconds=1)],
                "metadata": {"gpu_check": {"code_cells": [0, 1], "started": [0, 1], "finished": [0, 1]}}}
    (work / "nb" / "00_welcome.ci.ipynb").write_text(json.dumps(notebook))
    out = _summarize(work)
    assert FRESH in out and "did not run" not in out and "stopped in" not in out


def test_summary_prints_the_benchmark_table_and_its_status(tmp_path: Path) -> None:
    work = _work_folder(tmp_path)
    (work / "results" / "00_welcome.ci.tsv").write_text("00_welcome\tci\t23\tok\n")
    table = ("device: NVIDIA H200 (gpu); Keras 3.15.1 on jax 0.11.2\n"
             "alexnet_style  float32     256 host   yes     3.10      2.00      128,000    2.3866     5.0%    1.00x\n")
    (work / "bench.txt").write_text(table)
    (work / "bench.status").write_text("timed out: killed at the deadline; the rows it printed are kept\n")
    (work / "logs" / "bench.log").write_text("W external/xla: a warning\n")
    out = _summarize(work)
    assert "bench_gpu_training.py [timed out: killed at the deadline; the rows it printed are kept]:" in out
    assert "  alexnet_style  float32     256 host" in out and "a warning" in out  # the table, and the log's tail
    assert out.index("bench_gpu_training.py [") < out.index("notebook ")  # the notebooks' table comes last


def test_the_driver_clears_stored_outputs_and_records_the_cells_it_ran(tmp_path: Path) -> None:
    """The real nbclient driver on a notebook that stops at its deadline in its second code cell."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    written = subprocess.run(["bash", str(SCRIPT), "--write-helpers", str(helpers)], capture_output=True, text=True,
                             timeout=30)
    assert written.returncode == 0, written.stderr
    assert (helpers / "run_notebook.py").is_file() and (helpers / "summary.py").is_file()

    work = _work_folder(tmp_path / "work")
    source = tmp_path / "07_resnet.ipynb"
    cells = [_code(f"print({FRESH!r})", "an old output of this cell", seconds=99),
             _code("import time\ntime.sleep(120)", seconds=50),
             _code(f"print({STALE!r})", STALE, seconds=300)]
    source.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    target = work / "nb" / "07_resnet.gpu.ipynb"
    status = work / "results" / "07_resnet.gpu.status"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_PLATFORM_DIRS": "1",
           "WORKSHOP_PROFILE": "gpu"}
    deadline = time.time() + 15  # the kernel starts in a few seconds; the sleeping cell then meets the deadline
    driver = subprocess.run([sys.executable, str(helpers / "run_notebook.py"), str(source), str(target),
                             str(deadline), str(status), str(tmp_path / "kernel.pid")],
                            capture_output=True, text=True, timeout=90, env=env)
    assert driver.returncode == 0, driver.stdout + driver.stderr
    assert status.read_text().startswith("timed out\tcell 1, code cell 2 of 3")

    executed = json.loads(target.read_text())
    assert executed["metadata"]["gpu_check"]["code_cells"] == [0, 1, 2]
    assert executed["metadata"]["gpu_check"]["started"] == [0, 1]
    assert executed["metadata"]["gpu_check"]["finished"] == [0]
    assert executed["metadata"]["gpu_check"]["profile"] == "gpu"
    first, _, never = executed["cells"]
    text = [output.get("text", "") for output in first["outputs"]]
    assert "".join("".join(t) if isinstance(t, list) else t for t in text) == FRESH + "\n"  # the old one is gone
    assert never["outputs"] == [] and never["execution_count"] is None and "execution" not in never["metadata"]

    row = status.read_text().rstrip("\n")
    (work / "results" / "07_resnet.gpu.tsv").write_text(f"07_resnet\tgpu\t20\t{row}\n")
    out = _summarize(work)
    assert FRESH in out and STALE not in out
    assert "stopped in cell #1" in out and "cells that did not run: #2 (1 of 3 code cells)" in out
