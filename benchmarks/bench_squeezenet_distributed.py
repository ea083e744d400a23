"""Data-parallel speed on this machine: one worker against two MultiWorkerMirroredStrategy workers, and where the
wall time of a worker run goes (starting TensorFlow, joining the cluster, tracing, training).

Prints, measured in the same run (interleaved, ``REPEATS`` times each, medians):
1. steps/s of the custom training loop with 1 worker and with 2 workers (same global batch, same steps): the
   baseline and the distributed run, on the same cores;
2. each run's wall time and worker 0's stages;
3. whether the two workers ended with bit-identical weights every time.

The notebook (06) asserts nothing about speed; this script is where the speed figures come from.
Run: ``python benchmarks/bench_squeezenet_distributed.py`` (TensorFlow backend; about 2 minutes on 2 quiet cores).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import statistics

from workshop_utils import distributed

STEPS = 30
GLOBAL_BATCH = 64
REPEATS = 3


def main() -> None:
    speeds: dict[int, list[float]] = {1: [], 2: []}
    walls: dict[int, list[float]] = {1: [], 2: []}
    stages: dict[int, dict[str, list[float]]] = {1: {}, 2: {}}
    identical = []
    for _ in range(REPEATS):
        for workers in (1, 2):
            run = distributed.run_workers(workers=workers, steps=STEPS, global_batch=GLOBAL_BATCH, timeout=300)
            if not run.ok:
                raise SystemExit(f"{workers} worker(s) failed: {run.message}\n{run.workers[0].log_tail}")
            speeds[workers].append(run.workers[0].steps_per_second)
            walls[workers].append(run.seconds)
            for stage, seconds in run.workers[0].stages.items():
                stages[workers].setdefault(stage, []).append(seconds)
            if workers == 2:
                identical.append(run.weights_equal())
    print(f"custom loop, {STEPS} steps of global batch {GLOBAL_BATCH}, median of {REPEATS}:")
    for workers in (1, 2):
        stage_text = ", ".join(f"{k} {statistics.median(v):.1f} s" for k, v in stages[workers].items())
        print(f"  {workers} worker(s): {statistics.median(speeds[workers]):6.1f} steps/s, wall "
              f"{statistics.median(walls[workers]):5.1f} s ({stage_text})")
    ratio = statistics.median(speeds[2]) / statistics.median(speeds[1])
    print(f"  2 workers / 1 worker: {ratio:.2f}x steps/s (the baseline is the 1-worker run above)")
    print(f"  two workers ended with bit-identical weights: {sum(identical)}/{len(identical)} runs")


if __name__ == "__main__":
    main()
