"""Reference runs: the committed JSON files follow the schema, and the command reruns a comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop_utils import experiments, reference_runs

ROOT = Path(__file__).resolve().parent.parent
STORED = sorted(reference_runs.REFERENCE_DIR.glob("*.json"))


def test_at_least_eight_comparisons_across_the_notebooks_are_stored() -> None:
    names = {path.stem for path in STORED}
    assert len(names) >= 8 and names <= set(experiments.EXPERIMENTS)
    notebooks = {experiments.get(name).notebook[:2] for name in names}
    assert len(notebooks) >= 5


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_stored_record_follows_the_schema_and_its_experiment(path: Path) -> None:
    record = json.loads(path.read_text())
    assert reference_runs.validate(record) == []
    experiment = experiments.get(record["comparison"])
    assert record["expected_order"] == list(experiment.expected_order)
    assert record["metric"] == experiment.metric and record["better"] == experiment.better
    assert record["notebook"] == experiment.notebook
    for entries in record["runs"].values():
        assert len(entries) >= 3  # at least three seeds
        assert len({entry["steps"] for entry in entries}) == 1  # every seed ran the same steps
    steps = {entry["steps"] for entries in record["runs"].values() for entry in entries}
    assert steps == {record["config"]["steps"]}  # every model ran every step: equal steps, none void
    line = reference_runs.verdict(record)
    assert " held in the mean" in line or " did not hold in the mean" in line


def test_validate_names_the_problem() -> None:
    record = {key: None for key in reference_runs.REQUIRED_KEYS}
    record.update(better="up", expected_order=["a", "b"], runs={"a": [{"seed": 0, "value": 0.5}], "b": []},
                  provenance={})
    problems = reference_runs.validate(record)
    assert any("better" in p for p in problems) and any("lacks ['steps', 'seconds']" in p for p in problems)
    assert any("runs['b']" in p for p in problems) and any("provenance lacks" in p for p in problems)
    assert reference_runs.validate([]) == ["a reference record is a JSON object"]


def make_record(values: dict[str, list[float]], better: str = "higher") -> dict:
    return {"comparison": "x", "notebook": "00", "claim": "", "metric": "val_accuracy", "better": better,
            "expected_order": list(values), "config": {"steps": 10, "profile": "cpu"}, "provenance": {},
            "runs": {m: [{"seed": s, "value": v, "steps": 10, "seconds": 1.0} for s, v in enumerate(vs)]
                     for m, vs in values.items()}}


def test_verdict_counts_the_seeds_that_held() -> None:
    record = make_record({"a": [0.8, 0.6, 0.9], "b": [0.7, 0.7, 0.5]})
    line = reference_runs.verdict(record)
    assert "held in the mean and in 2 of 3 seeds" in line and "a 76.7% (60.0%-90.0%)" in line
    assert "did not hold in the mean; it held in 1 of 3" in reference_runs.verdict(
        make_record({"a": [0.5, 0.5, 0.9], "b": [0.7, 0.7, 0.5]}))
    assert reference_runs.band(record)["b"] == pytest.approx({"mean": 0.6333333, "min": 0.5, "max": 0.7, "seeds": 3})


def test_plot_band_draws_every_model_and_the_live_run() -> None:
    figure = reference_runs.plot_band(make_record({"a": [0.8, 0.6, 0.9], "b": [0.7, 0.7, 0.5]}))
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["b", "a"]


def test_the_command_reruns_one_comparison_in_the_ci_profile(tmp_path: Path) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    listed = subprocess.run([sys.executable, "-m", "workshop_utils.reference_runs", "--list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and all(name in listed.stdout for name in experiments.EXPERIMENTS)
    done = subprocess.run([sys.executable, "-m", "workshop_utils.reference_runs", "alexnet_vs_vgg", "--seeds", "1",
                           "--profile", "ci", "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((tmp_path / "alexnet_vs_vgg.json").read_text())
    assert reference_runs.validate(record) == [] and record["config"]["profile"] == "ci"
    assert "Reference (1 seeds" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "workshop_utils.reference_runs", "no_such_comparison"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--list" in bad.stderr


def test_merge_replaces_the_rerun_seeds_only() -> None:
    stored = make_record({"a": [0.8, 0.6, 0.9], "b": [0.7, 0.7, 0.5]})
    stored["config"]["seeds"] = [0, 1, 2]
    rerun = make_record({"a": [0.1], "b": [0.2]})
    for entries in rerun["runs"].values():
        entries[0]["seed"] = 1
    rerun["config"]["seeds"] = [1]
    merged = reference_runs.merge(stored, rerun)
    assert [e["value"] for e in merged["runs"]["a"]] == [0.8, 0.1, 0.9]
    assert merged["config"]["seeds"] == [0, 1, 2] and merged["provenance"]["seeds_rerun"] == [1]
    rerun["config"]["steps"] = 99
    with pytest.raises(ValueError, match="same comparison and step count"):
        reference_runs.merge(stored, rerun)
