"""Does the channel shuffle matter? Notebook 05's two shuffle ablations over several seeds, by the comparison protocol.

* ``shuffle_cross_group``: the task where information must cross the groups (each pixel scattered to one of 8
  channel groups, a ShuffleNet with g = 8 and a grouped stem; :mod:`workshop_utils.cross_group`).
* ``shuffle_vs_no_shuffle``: the small ShuffleNet (g = 8) on shapes10 as it is, where every group sees the whole
  picture.

Each model trains the experiment's fixed number of optimizer steps (``workshop_utils.experiments``), with the same
batches, seed and recipe; seeds run interleaved, with and without the shuffle. Prints each run's validation
accuracy and the paired differences per task. ``python3 workshop.py reference shuffle_cross_group
shuffle_vs_no_shuffle`` runs the same and stores the JSON records notebook 05 reads; this script only prints, and
takes ``--length`` to run longer.

Run: ``python benchmarks/bench_shuffle_ablation.py [--seeds 3] [--length 1] [names ...]`` (about 40 s a run on a
quiet 2-core machine for the cross-group task).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import statistics

from workshop_utils import reference_runs, settings

NAMES = ("shuffle_cross_group", "shuffle_vs_no_shuffle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(NAMES), choices=NAMES)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--length", type=float, default=1.0, help="epochs times this (default 1)")
    args = parser.parse_args()
    run = settings.setup(seed=0, profile="cpu")
    for name in args.names:
        record = reference_runs.run_reference(name, seeds=args.seeds, run=run, length=args.length)
        runs = record["runs"]
        differences = [w["value"] - wo["value"] for w, wo in zip(runs["with_shuffle"], runs["without_shuffle"])]
        print(f"\n{name}: {record['config']['dataset']}, {record['config']['steps']} steps a run")
        points = ", ".join(f"{100 * d:+.1f}" for d in differences)
        print(f"  paired differences (with - without), validation accuracy: "
              f"{points} points; mean {100 * statistics.mean(differences):+.1f}")
        print(f"  {reference_runs.verdict(record)}", flush=True)


if __name__ == "__main__":
    main()
