"""The two install routes (pip: requirements.txt, conda: environment.yml) pin the same packages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _conda_pip_lines() -> list[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip_section,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    return [str(line).strip() for line in pip_section]


def test_conda_pip_section_mirrors_requirements() -> None:
    assert _conda_pip_lines() == _requirement_lines()


def test_every_requirement_is_pinned_exactly() -> None:
    unpinned = [line for line in _requirement_lines() if "==" not in line.split(";")[0]]
    assert not unpinned, f"pin these with ==: {unpinned}"


def test_conda_python_matches_the_tested_version() -> None:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in environment["dependencies"]
    assert "graphviz" in environment["dependencies"]


def test_tensorflow_wheel_chosen_for_every_platform() -> None:
    from packaging.markers import Marker

    tensorflow_lines = [line for line in _requirement_lines() if line.startswith("tensorflow")]
    platforms = [
        {"sys_platform": "linux", "platform_machine": "x86_64"},
        {"sys_platform": "linux", "platform_machine": "aarch64"},
        {"sys_platform": "darwin", "platform_machine": "arm64"},
        {"sys_platform": "win32", "platform_machine": "AMD64"},
    ]
    for platform in platforms:
        chosen = [line.split(";")[0] for line in tensorflow_lines if Marker(line.split(";", 1)[1]).evaluate(platform)]
        assert len(chosen) == 1, f"{platform}: exactly one TensorFlow wheel must apply, got {chosen}"


def test_jax_extra_is_pinned_and_run_by_ci() -> None:
    lines = [line.strip() for line in (ROOT / "requirements-jax.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines and all("==" in line for line in lines), lines
    assert any(line.startswith("jax==") for line in lines)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "requirements-jax.txt" in ci and "KERAS_BACKEND=jax python3 workshop.py test notebooks" in ci
    readme = (ROOT / "README.md").read_text()
    assert "KERAS_BACKEND=jax python3 workshop.py test notebooks" in readme  # the documented variant CI runs


def _torch_notebooks() -> list[str]:
    """The notebooks .ci/run's torch part runs (its torch_notebooks list)."""
    ci = (ROOT / ".ci" / "run").read_text()
    start = ci.index('torch_notebooks="') + len('torch_notebooks="')
    return ci[start:ci.index('"', start)].split()


def test_torch_extra_is_pinned_and_run_by_ci_as_the_readme_says() -> None:
    lines = [line.strip() for line in (ROOT / "requirements-torch.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["torch==2.13.0"], lines
    ci = (ROOT / ".ci" / "run").read_text()
    assert "requirements-torch.txt" in ci and "KERAS_BACKEND=torch python3 workshop.py test $torch_notebooks" in ci
    notebooks = _torch_notebooks()
    assert notebooks and all((ROOT / notebook).exists() for notebook in notebooks), notebooks
    # The README prints the same command with the same notebooks, so what it promises is what CI runs.
    readme = (ROOT / "README.md").read_text()
    command = "KERAS_BACKEND=torch python3 workshop.py test " + " ".join(notebooks)
    assert command in " ".join(readme.replace("\\\n", " ").split()), command  # lines joined as the shell does
    for name in sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if f"notebooks/{name}.ipynb" not in notebooks:  # a notebook left out must be named, with the reason
            assert f"`{name}`" in readme, f"README must say why {name} is not run on torch"


def test_ci_parts_each_run_alone() -> None:
    result = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    bad = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "tensorflw"], capture_output=True, text=True)
    assert bad.returncode == 2 and "all|tensorflow|jax|torch" in bad.stderr


def test_gpu_check_script_runs_every_notebook_on_jax_in_the_ci_and_gpu_profiles() -> None:
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    assert "export KERAS_BACKEND=jax" in script and "WORKSHOP_PROFILE=$profile" in script
    assert "notebooks/[0-9][0-9]_*.ipynb" in script  # every notebook, also ones added later
    assert '"notebooks/$name.ipynb gpu $nb_end' in script and '"$path ci $nb_end' in script  # one pool, both profiles
    assert "benchmarks/bench_gpu_training.py --budget-s" in script  # the GPU training benchmark, in the time left
    assert "--no-index" in script  # the lent machine is offline: wheels only
    result = subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gpu_check_summary_reports_each_run_and_its_training_lines(tmp_path: Path) -> None:
    for folder in ("results", "nb", "logs"):
        (tmp_path / folder).mkdir()
    (tmp_path / "results" / "00_welcome.ci.tsv").write_text("00_welcome\tci\t12\tok\n")
    (tmp_path / "results" / "07_resnet.gpu.tsv").write_text("07_resnet\tgpu\t440\ttimed out\tat cell 44\n")
    line = "small_cnn: validation accuracy 72.2% (1,000 held-out training images), 3,137 images/s"
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": "print(line)",
                           "outputs": [{"output_type": "stream", "name": "stdout", "text": line + "\n"}]}],
                # the driver's record of what this run executed: only those cells' outputs are quoted
                "metadata": {"gpu_check": {"code_cells": [0], "started": [0], "finished": [0]}}}
    (tmp_path / "nb" / "00_welcome.ci.ipynb").write_text(json.dumps(notebook))
    result = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--summarize", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert line in result.stdout  # the training cell's line, quoted
    table = result.stdout[result.stdout.rindex("notebook "):]
    assert "00_welcome" in table and "ok" in table and "timed out  (at cell 44)" in table
    assert "07_resnet [gpu, timed out, 440 s]:\n  (no executed notebook)" in result.stdout
