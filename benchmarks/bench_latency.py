"""Latency and throughput of every architecture of the day on this machine, beside their counted MACs.

Prints the table that notebook 09's closing chart shows (and the README quotes), with more repetitions than the
notebook can afford: each model at batch 1 and at a larger batch, median of ``--repeats`` timed calls after a
warm-up, achieved GFLOP/s against this machine's float32 compute ceiling (the better of a matmul and a large 3x3 conv)
measured in the same run.

    .venv/bin/python benchmarks/bench_latency.py [--batch 32] [--repeats 10] [--only ResNet-50 MobileNet\\ 1.0]

Run it on a quiet machine: other processes change every figure.
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import os
import time

import keras

from workshop_utils import compute_ceiling, model_zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="the large batch (batch 1 is always timed)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per batch size (median kept)")
    parser.add_argument("--only", nargs="*", default=None, help="architecture names (default: all of the day's)")
    args = parser.parse_args()
    entries = [model_zoo.entry(name) for name in args.only] if args.only else list(model_zoo.DAY_MODELS)

    print(f"Keras {keras.__version__} on {keras.config.backend()}, {os.cpu_count()} CPU cores")
    ceiling = compute_ceiling.compute_ceiling_gflops()
    print(f"compute ceiling (float32, best of a 2048^2 matmul and a 16x14x14x512 3x3 conv): {ceiling:,.0f} GFLOP/s")
    start = time.perf_counter()
    rows = model_zoo.measure_models(entries, batch_size=args.batch, repeats=args.repeats, warmup=2, progress=print)
    print(f"\n{len(rows)} architectures timed in {time.perf_counter() - start:.0f} s "
          f"(batch 1 and batch {args.batch}, median of {args.repeats}):\n")
    print(model_zoo.format_rows(rows, ceiling))
    ceiling_after = compute_ceiling.compute_ceiling_gflops()
    print(f"\ncompute ceiling again at the end: {ceiling_after:,.0f} GFLOP/s "
          f"({ceiling_after / ceiling:.0%} of the first: a large change means the machine was busy)")


if __name__ == "__main__":
    main()
