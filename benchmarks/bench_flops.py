"""workshop_utils.flops.profile against TensorFlow's profiler: same count, how much faster.

For ResNet-50, VGG-16 and MobileNet (keras.applications, weights=None, 224x224x3) it prints, from one run:
our MACs x 2, the TF profiler's conv + matmul FLOPs on the frozen graph (and whether they are equal), the time of
``profile(model)`` (first call, and the median of the next calls), the time of the TF route (tf.function trace +
freezing + profiling), and the speed ratio. Model building is not timed.

    python benchmarks/bench_flops.py            # about a minute on 2 CPU cores; VGG-16's TF profile is ~30 s
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import os
import statistics
import time

import keras

from workshop_utils.flops import TF_MAC_OP_TYPES, format_count, profile, tf_profiler_flops

MODELS = {
    "ResNet-50": keras.applications.ResNet50,
    "VGG-16": keras.applications.VGG16,
    "MobileNet": keras.applications.MobileNet,
}
REPEATS = 20


def measure(name: str, build) -> dict:
    model = build(weights=None, input_shape=(224, 224, 3))
    started = time.perf_counter()
    cost = profile(model)
    first = time.perf_counter() - started
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        profile(model)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    tf_flops = sum(v for k, v in tf_profiler_flops(model).items() if k in TF_MAC_OP_TYPES)
    tf_seconds = time.perf_counter() - started
    ours = statistics.median(times)
    return {
        "model": name,
        "params": cost.params,
        "ours": 2 * cost.macs,
        "tf": tf_flops,
        "equal": "yes" if tf_flops == 2 * cost.macs else f"NO ({tf_flops - 2 * cost.macs:+,})",
        "first_ms": 1e3 * first,
        "ours_ms": 1e3 * ours,
        "tf_s": tf_seconds,
        "ratio": tf_seconds / ours,
    }


def main() -> None:
    rows = [measure(name, build) for name, build in MODELS.items()]
    header = (
        f"{'model':<10} {'params':>8} {'our MACs x2':>15} {'TF conv+matmul FLOPs':>21} {'equal':>5} "
        f"{'ours 1st':>9} {'ours median':>11} {'TF':>8} {'TF / ours':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<10} {format_count(r['params']):>8} {r['ours']:>15,} {r['tf']:>21,} {r['equal']:>5} "
            f"{r['first_ms']:>7.1f}ms {r['ours_ms']:>9.2f}ms {r['tf_s']:>7.2f}s {r['ratio']:>9,.0f}x"
        )
    print(
        f"\nours median: median of {REPEATS} calls of profile(model) after the first; TF: tf.function trace + "
        "convert_variables_to_constants_v2 + tf.compat.v1.profiler.profile(float_operation). "
        f"{os.cpu_count()} CPU cores; timings on a shared machine can be up to ~2x slow."
    )


if __name__ == "__main__":
    main()
