"""Reference runs: each comparison over several seeds, stored as JSON, and the band a live run is read against.

``python3 workshop.py reference [NAME ...] [--seeds N] [--list]`` (or ``python -m workshop_utils.reference_runs``)
trains every model of each named :class:`~workshop_utils.experiments.Experiment` with seeds 0..N-1, by the
protocol of :mod:`workshop_utils.comparison`, and writes ``data/reference_runs/NAME.json``::

    {"comparison", "notebook", "claim", "metric", "better", "expected_order",
     "runs": {model: [{"seed", "value", "steps", "seconds", ...}, ...]}, "config", "provenance"}

A notebook then draws :func:`plot_band` (the seeds' spread, the mean, and the live run on it) and prints
:func:`verdict` (whether the paper's direction held in the mean and in each seed).

Example::

    record = load("alexnet_vs_vgg")
    print(verdict(record))
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workshop_utils.comparison import Comparison

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference_runs"
REQUIRED_KEYS = ("comparison", "notebook", "claim", "metric", "better", "expected_order", "runs", "config",
                 "provenance")
RUN_KEYS = ("seed", "value", "steps", "seconds")


def provenance(run_name: str) -> dict[str, Any]:
    """Where and with what the runs were made: commit, date, machine, device, library versions.

    Example::

        provenance("cpu")["keras"]
    """
    import keras
    import numpy

    root = REFERENCE_DIR.parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    backend = keras.config.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = getattr(sys.modules.get(backend_module or "", None), "__version__", "unknown")
    from workshop_utils.settings import gpu_available

    return {
        "commit": commit, "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.system()}",
        "device": "GPU" if gpu_available() else "CPU", "profile": run_name,
        "python": platform.python_version(), "keras": keras.__version__, "backend": backend,
        "backend_version": backend_version, "numpy": numpy.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


#: Reference runs are not interactive: their safety cap is generous, so a busy machine slows them but does not
#: void them (a live notebook cell keeps the run profile's cap).
REFERENCE_CAP_SECONDS = 1800.0


def run_reference(name: str, seeds: int | list[int] = 3, run: Any = None, length: float = 1.0,
                  log: Any = print) -> dict[str, Any]:
    """Train every model of experiment ``name`` with seeds ``0..seeds-1`` (or the listed seeds); return the record.

    Example::

        record = run_reference("alexnet_vs_vgg", seeds=3, run=settings.get_profile("cpu"))
    """
    from workshop_utils import experiments, settings
    from workshop_utils.comparison import metric_value

    seed_list = list(range(seeds)) if isinstance(seeds, int) and not isinstance(seeds, bool) else seeds
    if not isinstance(seed_list, list) or not seed_list or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seed_list):
        raise ValueError(f"seeds must be an int >= 1 (seeds 0..N-1) or a list of seeds >= 0; got {seeds!r}.")
    experiment = experiments.get(name)
    run = settings.get_profile() if run is None else run
    run = run.scaled(max_train_seconds=max(run.max_train_seconds, REFERENCE_CAP_SECONDS))
    runs: dict[str, list[dict[str, Any]]] = {model: [] for model in experiment.expected_order}
    comparison = None
    for seed in seed_list:
        settings.setup(seed=seed, profile=run.name, verbose=False)
        comparison = experiment.comparison(run, seed=seed, length=length)
        for model_name in experiment.expected_order:
            result = comparison.train(comparison.build(model_name), model_name, progress=False)
            entry = {"seed": seed, "value": metric_value(result, experiment.metric), "steps": result.steps_run,
                     "seconds": round(result.train_seconds, 2), "val_accuracy": result.val_accuracy,
                     "test_accuracy": result.test_accuracy, "train_loss": result.final_train_loss,
                     "images_per_second": round(result.images_per_second, 1), "void": result.void,
                     "params": result.params, "macs": result.macs}
            runs[model_name].append(entry)
            log(f"  {name} seed {seed} {model_name:18} {experiment.metric} {entry['value']:.4f} after "
                f"{result.steps_run} steps in {result.train_seconds:.0f} s{' VOID' if result.void else ''}")
    assert comparison is not None
    return {
        "comparison": name, "notebook": experiment.notebook, "claim": experiment.claim,
        "metric": experiment.metric, "better": experiment.better, "expected_order": list(experiment.expected_order),
        "runs": runs,
        "config": {"profile": run.name, "epochs": comparison.epochs, "steps": comparison.steps,
                   "batch_size": comparison.run.batch_size, "train_images": comparison.steps_per_epoch
                   * comparison.run.batch_size, "dataset": comparison.dataset.name, "length": length,
                   "recipe": experiment.recipe.describe(), "seeds": seed_list,
                   "scale_note": experiment.scale_note},
        "provenance": provenance(run.name),
    }


def merge(stored: dict[str, Any], rerun: dict[str, Any]) -> dict[str, Any]:
    """``stored`` with the seeds that ``rerun`` ran replaced by its runs (same comparison and config).

    Example::

        save(merge(load("degradation"), run_reference("degradation", seeds=[2])))
    """
    same = ("comparison", "metric", "expected_order")
    if any(stored[key] != rerun[key] for key in same) or stored["config"]["steps"] != rerun["config"]["steps"]:
        raise ValueError("merge needs records of the same comparison and step count; rerun every seed instead.")
    redone = set(rerun["config"]["seeds"])
    runs = {model: sorted([e for e in stored["runs"][model] if e["seed"] not in redone] + rerun["runs"][model],
                          key=lambda entry: entry["seed"]) for model in stored["runs"]}
    seeds = sorted({e["seed"] for entries in runs.values() for e in entries})
    provenance = {**rerun["provenance"], "seeds_rerun": sorted(redone)}
    return {**stored, "runs": runs, "config": {**stored["config"], "seeds": seeds}, "provenance": provenance}


def validate(record: Any) -> list[str]:
    """Problems with a reference record's schema (empty when it is well formed).

    Example::

        assert not validate(load("alexnet_vs_vgg"))
    """
    if not isinstance(record, dict):
        return ["a reference record is a JSON object"]
    problems = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in record]
    if problems:
        return problems
    if record["better"] not in ("higher", "lower"):
        problems.append(f"better must be 'higher' or 'lower', got {record['better']!r}")
    order, runs = record["expected_order"], record["runs"]
    if not isinstance(order, list) or len(order) < 2 or sorted(order) != sorted(runs):
        problems.append("expected_order must name every model in runs, at least two")
    for model, entries in runs.items() if isinstance(runs, dict) else []:
        if not isinstance(entries, list) or not entries:
            problems.append(f"runs[{model!r}] must be a non-empty list")
            continue
        for entry in entries:
            missing = [key for key in RUN_KEYS if key not in entry]
            if missing:
                problems.append(f"runs[{model!r}] entry lacks {missing}")
            elif not all(isinstance(entry[key], (int, float)) for key in RUN_KEYS):
                problems.append(f"runs[{model!r}] entry has a non-number in {RUN_KEYS}")
    seeds = {model: sorted(e.get("seed") for e in entries) for model, entries in runs.items()} \
        if isinstance(runs, dict) else {}
    if len({tuple(s) for s in seeds.values()}) > 1:
        problems.append("every model must be run with the same seeds")
    for key in ("commit", "date", "machine", "keras", "backend"):
        if key not in record["provenance"]:
            problems.append(f"provenance lacks {key!r}")
    return problems


def save(record: dict[str, Any], directory: Path | str = REFERENCE_DIR) -> Path:
    """Write ``record`` as ``directory/NAME.json`` (after checking its schema); returns the path.

    Example::

        save(run_reference("alexnet_vs_vgg"))
    """
    problems = validate(record)
    if problems:
        raise ValueError(f"not a valid reference record: {'; '.join(problems)}")
    path = Path(directory) / f"{record['comparison']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load(name: str, directory: Path | str = REFERENCE_DIR) -> dict[str, Any]:
    """The stored reference record of comparison ``name``.

    Example::

        load("alexnet_vs_vgg")["runs"]["vgg_style"][0]["value"]
    """
    path = Path(directory) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no reference runs for {name!r} at {path}: run `python3 workshop.py reference "
                                f"{name}` to make them.")
    return json.loads(path.read_text())


def band(record: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per model: mean, min and max of the metric over the seeds (void runs left out).

    Example::

        band(load("alexnet_vs_vgg"))["vgg_style"]["mean"]
    """
    out = {}
    for model, entries in record["runs"].items():
        values = [e["value"] for e in entries if not e.get("void")]
        out[model] = {"mean": statistics.fmean(values) if values else float("nan"),
                      "min": min(values, default=float("nan")), "max": max(values, default=float("nan")),
                      "seeds": len(values)}
    return out


def verdict(record: dict[str, Any]) -> str:
    """Whether the paper's direction held in the mean and in every seed, in one line.

    Example::

        print(verdict(load("alexnet_vs_vgg")))  # "... held in the mean and in 3 of 3 seeds"
    """
    from workshop_utils.comparison import follows, format_metric

    order, better, metric = record["expected_order"], record["better"], record["metric"]
    stats = band(record)
    in_mean = follows({m: s["mean"] for m, s in stats.items()}, order, better)
    seeds = sorted({e["seed"] for entries in record["runs"].values() for e in entries})
    per_seed = []
    for seed in seeds:
        values = {m: next(e["value"] for e in entries if e["seed"] == seed) for m, entries in record["runs"].items()}
        void = any(e.get("void") for entries in record["runs"].values() for e in entries if e["seed"] == seed)
        per_seed.append(not void and follows(values, order, better))
    means = ", ".join(f"{m} {format_metric(stats[m]['mean'], metric)} "
                      f"({format_metric(stats[m]['min'], metric)}-{format_metric(stats[m]['max'], metric)})"
                      for m in order)
    config = record["config"]
    return (f"Reference ({len(seeds)} seeds, {config['steps']:,} steps each, {config['profile']} profile): {means}. "
            f"The paper's direction ({' > '.join(order)}) "
            + (f"held in the mean and in {sum(per_seed)} of {len(per_seed)} seeds." if in_mean else
               f"did not hold in the mean; it held in {sum(per_seed)} of {len(per_seed)} seeds."))


def plot_band(record: dict[str, Any], comparison: Comparison | None = None) -> Any:
    """The reference seeds of every model (dots, mean bar, spread) with the live run on it ("your run").

    Example::

        plot_band(load("alexnet_vs_vgg"), comparison)
    """
    import matplotlib.pyplot as plt

    from workshop_utils.comparison import metric_value

    order, metric = record["expected_order"], record["metric"]
    stats = band(record)
    scale = 100 if metric == "val_accuracy" else 1
    figure, axis = plt.subplots(figsize=(7.5, 0.7 + 0.55 * len(order)))
    for row, model in enumerate(reversed(order)):
        values = [e["value"] * scale for e in record["runs"][model] if not e.get("void")]
        axis.plot([stats[model]["min"] * scale, stats[model]["max"] * scale], [row, row], color="0.75", lw=8,
                  solid_capstyle="butt", label="reference: spread over seeds" if row == 0 else None)
        axis.plot(values, [row] * len(values), "o", color="0.35", label="reference: one seed" if row == 0 else None)
        axis.plot([stats[model]["mean"] * scale] * 2, [row - 0.25, row + 0.25], color="k", lw=2,
                  label="reference: mean" if row == 0 else None)
        if comparison is not None and model in comparison.results:
            live = metric_value(comparison.results[model], metric) * scale
            axis.plot([live], [row], "*", color="tab:red", markersize=16, label="your run" if row == 0 else None)
    axis.set_yticks(range(len(order)), list(reversed(order)))
    axis.set_ylim(-0.6, len(order) - 0.4)
    unit = "validation accuracy (%)" if metric == "val_accuracy" else "training loss, last epoch"
    better = "right" if record["better"] == "higher" else "left"
    axis.set_xlabel(f"{unit}: better to the {better}")
    axis.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m workshop_utils.reference_runs [NAME ...] [--seeds N] [--list]``."""
    from workshop_utils import experiments, settings

    parser = argparse.ArgumentParser(
        prog="workshop.py reference",
        description="Rerun the workshop's comparisons over several seeds; write data/reference_runs/NAME.json.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="comparisons to run (default: all)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--rerun-seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="rerun only these seeds and merge them into the stored file")
    parser.add_argument("--list", action="store_true", help="list the comparisons and their stored results")
    parser.add_argument("--profile", choices=settings.PROFILE_NAMES, default=None,
                        help="run profile (default: WORKSHOP_PROFILE, else cpu/gpu by what is found)")
    parser.add_argument("--out", default=str(REFERENCE_DIR), help="folder for the JSON files")
    parser.add_argument("--length", type=float, default=1.0, help="epochs times this (default 1)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    unknown = [name for name in args.names if name not in experiments.EXPERIMENTS]
    if unknown:
        parser.error(f"unknown comparison(s) {unknown}; `--list` shows them: {', '.join(experiments.EXPERIMENTS)}")
    if args.list:
        for name, experiment in experiments.EXPERIMENTS.items():
            path = Path(args.out) / f"{name}.json"
            stored = "not run yet"
            if path.exists():
                record = json.loads(path.read_text())
                stored = f"{len(record['config']['seeds'])} seeds, {record['provenance']['date']}"
            print(f"{name:24} notebook {experiment.notebook[:2]}  {' > '.join(experiment.expected_order)}  "
                  f"[{stored}]")
        return 0
    run = settings.setup(seed=0, profile=args.profile)
    for name in args.names or list(experiments.EXPERIMENTS):
        start = time.perf_counter()
        if args.rerun_seeds:
            record = merge(load(name, args.out), run_reference(name, seeds=args.rerun_seeds, run=run,
                                                               length=args.length))
        else:
            record = run_reference(name, seeds=args.seeds, run=run, length=args.length)
        path = save(record, args.out)
        print(f"{verdict(record)}\n  -> {path} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
