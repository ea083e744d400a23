"""Training helpers' overhead, and the machine's matmul ceiling for training GFLOP/s.

Prints, measured in the same run:
1. the machine's float32 matmul GFLOP/s through the Keras backend (the ceiling no training run can pass);
2. ``model.fit`` time for the same model and data with and without the workshop's callbacks (time budget,
   throughput meter, progress bar), interleaved and repeated, and their ratio (goal: <= 1.05);
3. the achieved training GFLOP/s that the throughput meter reports, as a fraction of the matmul ceiling.

Run: ``python benchmarks/bench_training.py`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import statistics
import time

import keras
import numpy as np

from workshop_utils.compute_ceiling import matmul_ceiling_gflops
from workshop_utils.flops import profile
from workshop_utils.training import Throughput, TimeBudget, progress_bar

BATCH = 128
IMAGES = 4096
REPEATS = 7


def small_cnn() -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name="bench_cnn")


def timed_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, callbacks: list) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main() -> None:
    ceiling = matmul_ceiling_gflops()
    print(f"matmul ceiling (float32, 2048^2, keras.ops on {keras.config.backend()}): {ceiling:,.1f} GFLOP/s")

    rng = np.random.default_rng(0)
    x = rng.random((IMAGES, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, IMAGES)
    model = small_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    macs = profile(model).macs
    timed_fit(model, x, y, [])  # trace once so neither arm pays for compilation

    plain, helped, meters = [], [], []
    for _ in range(REPEATS):  # interleave the two arms so machine noise hits both alike
        plain.append(timed_fit(model, x, y, []))
        meter = Throughput(macs, BATCH)
        helped.append(timed_fit(model, x, y, [TimeBudget(3600), meter, progress_bar()]))
        meters.append(meter)
    # On this CPU a fit runs in one of two speed modes about 2x apart, whatever the callbacks (measured): the
    # best of several runs compares like with like; the median is printed too, to show the spread.
    print(f"fit, 1 epoch of {IMAGES} images, {REPEATS} interleaved runs each:")
    print(f"  best:   plain {min(plain):.2f} s, with workshop callbacks {min(helped):.2f} s "
          f"-> ratio {min(helped) / min(plain):.3f} (goal <= 1.05)")
    print(f"  median: plain {statistics.median(plain):.2f} s, "
          f"with workshop callbacks {statistics.median(helped):.2f} s "
          f"-> ratio {statistics.median(helped) / statistics.median(plain):.3f}")
    print(f"  all runs, plain: {', '.join(f'{t:.2f}' for t in plain)}; helped: {', '.join(f'{t:.2f}' for t in helped)}")
    achieved = statistics.median(meter.gflops_per_second for meter in meters)
    speed = statistics.median(meter.images_per_second for meter in meters)
    print(f"throughput meter: {speed:,.0f} images/s, {achieved:.2f} GFLOP/s achieved in training "
          f"= {achieved / ceiling:.1%} of the matmul ceiling")


if __name__ == "__main__":
    main()
