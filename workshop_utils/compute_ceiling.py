"""This machine's compute ceiling: the most float32 GFLOP/s it reaches on dense arithmetic, through Keras.

A model's achieved GFLOP/s means little alone; as a share of what the machine can do at best it says how much of
the hardware the architecture uses. Notebook 09 and ``benchmarks/bench_latency.py`` report each architecture's
share of :func:`compute_ceiling_gflops`; ``benchmarks/bench_training.py`` uses the matmul ceiling alone.

Example::

    from workshop_utils.compute_ceiling import compute_ceiling_gflops
    print(f"ceiling {compute_ceiling_gflops():.0f} GFLOP/s")
"""

from __future__ import annotations

import time

import numpy as np

from workshop_utils._validate import positive_int


def matmul_ceiling_gflops(size: int = 2048, repeats: int = 10) -> float:
    """This machine's float32 matmul speed through the Keras backend: the most GFLOP/s any model here can reach.

    One warm-up product (traces and allocates), then the **best** of ``repeats`` timed ones (a ceiling is a
    maximum: a busy machine only makes single products slower); 2 size^3 FLOPs each.

    Example::

        print(f"{matmul_ceiling_gflops():.0f} GFLOP/s")
    """
    from keras import ops

    size, repeats = positive_int("size", size), positive_int("repeats", repeats)
    rng = np.random.default_rng(0)
    a = ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32))
    b = ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32))
    ops.convert_to_numpy(ops.matmul(a, b))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.convert_to_numpy(ops.matmul(a, b))  # to NumPy: waits for the result on asynchronous backends
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def conv_ceiling_gflops(batch: int = 16, size: int = 14, channels: int = 512, repeats: int = 10) -> float:
    """This machine's float32 speed on one large 3x3 convolution (VGG's conv5 shape by default) through Keras.

    Convolution libraries (oneDNN on TensorFlow's CPU build) can beat the backend's plain matmul, so a ceiling
    taken from matmul alone was passed by VGG-16 on this machine (107%). Best of ``repeats`` calls after one
    warm-up; 2 x batch x size^2 x channels^2 x 9 FLOPs each.

    Example::

        print(f"{conv_ceiling_gflops():.0f} GFLOP/s")
    """
    from keras import layers, ops

    batch, size = positive_int("batch", batch), positive_int("size", size)
    channels, repeats = positive_int("channels", channels), positive_int("repeats", repeats)
    images = np.random.default_rng(0).standard_normal((batch, size, size, channels), dtype=np.float32)
    x = ops.convert_to_tensor(images)
    conv = layers.Conv2D(channels, 3, padding="same", use_bias=False)
    conv.build(x.shape)
    ops.convert_to_numpy(conv(x))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.convert_to_numpy(conv(x))  # to NumPy: waits for the result on asynchronous backends
        best = min(best, time.perf_counter() - start)
    return 2 * batch * size * size * channels * channels * 9 / best / 1e9


def compute_ceiling_gflops(repeats: int = 10) -> float:
    """The most float32 GFLOP/s this machine reached on dense arithmetic: the better of a 2048^2 matmul
    (:func:`matmul_ceiling_gflops`) and a large 3x3 conv (:func:`conv_ceiling_gflops`). Notebook 09 and
    ``benchmarks/bench_latency.py`` report each architecture's achieved GFLOP/s as a share of it.

    Example::

        print(f"ceiling {compute_ceiling_gflops():.0f} GFLOP/s")
    """
    return max(matmul_ceiling_gflops(repeats=repeats), conv_ceiling_gflops(repeats=repeats))
