"""The two install routes (pip: requirements.txt, conda: environment.yml) pin the same packages."""

from __future__ import annotations

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


def test_gpu_check_script_runs_every_notebook_on_jax_in_the_gpu_profile() -> None:
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    assert "KERAS_BACKEND=jax" in script and "WORKSHOP_PROFILE=gpu" in script
    assert "notebooks/[0-9][0-9]_*.ipynb" in script and "grep -v -e '^tensorflow'" in script
