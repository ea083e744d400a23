"""What fewer multiply-adds buy on this CPU: depthwise separable vs standard convolutions, measured.

Prints, measured in the same run (interleaved, best and median of several repeats):
1. **one layer of each kind** at 16x16x128 -> 128 channels (forward pass, batch 32): a standard 3x3 conv (the
   baseline), a depthwise 3x3 conv, a pointwise 1x1 conv, and depthwise + pointwise together: milliseconds, MACs,
   and achieved GMAC/s. The depthwise conv does 9 MACs per input value it reads, the standard conv 9 x 128, so the
   depthwise layer reaches a small fraction of the standard conv's GMAC/s;
2. **notebook 04's pair** (the small standard CNN and its depthwise-separable twin, same layout): training
   images/s (``train_on_batch``, batch 32 as in the notebook) and inference ms/image (batch 1 and 128, through
   :func:`workshop_utils.latency.measure_latency`), beside the MAC ratio;
3. **MobileNet vs "Conv MobileNet"** at 224x224 (the paper's table 4 pair): batch-1 latency beside the MAC ratio.

Run: ``python benchmarks/bench_depthwise_speed.py`` (about 3 minutes on 2 cores; under the shared cpu lock:
``flock /tmp/workshop-cpu.lock .venv/bin/python benchmarks/bench_depthwise_speed.py``).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import statistics
import time
from collections.abc import Callable

import keras
import numpy as np
from keras import layers

from workshop_utils.architectures.mobilenet import MOBILENET_V1_BLOCKS, conv_bn_relu, mobilenet
from workshop_utils.flops import profile
from workshop_utils.latency import measure_latency

REPEATS = 7
BLOCKS_32 = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))  # notebook 04's layout for 32x32 images


def _layer_model(kind: str, size: int = 16, channels: int = 128) -> keras.Model:
    inputs = keras.Input((size, size, channels))
    if kind == "standard 3x3":
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False)(inputs)
    elif kind == "depthwise 3x3":
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(inputs)
    elif kind == "pointwise 1x1":
        x = layers.Conv2D(channels, 1, use_bias=False)(inputs)
    else:
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(inputs)
        x = layers.Conv2D(channels, 1, use_bias=False)(x)
    return keras.Model(inputs, x, name=kind.replace(" ", "_").replace("+", "and"))


def small_net(separable: bool, alpha: float = 1.0) -> keras.Model:
    """Notebook 04's pair: a stride-2 stem, five blocks, GAP, softmax; full 3x3 convs or separable blocks."""
    if separable:
        return mobilenet(alpha, input_size=32, classes=10, blocks=BLOCKS_32, stem_filters=16, dropout=0.0,
                         relu6=False, name="separable_twin")
    inputs = keras.Input((32, 32, 3))
    x = conv_bn_relu(inputs, int(16 * alpha), 3, 2, name="stem", relu6=False)
    for index, (filters, strides) in enumerate(BLOCKS_32, start=1):
        x = conv_bn_relu(x, int(filters * alpha), 3, strides, name=f"block{index}", relu6=False)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="standard_cnn")


def conv_mobilenet() -> keras.Model:
    """MobileNet with a full 3x3 conv-BN-ReLU in place of every depthwise separable block (table 4)."""
    inputs = keras.Input((224, 224, 3))
    x = conv_bn_relu(inputs, 32, 3, 2, name="conv1")
    for index, (filters, strides) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = conv_bn_relu(x, filters, 3, strides, name=f"conv_{index}")
    x = layers.Conv2D(1000, 1, name="conv_preds")(layers.GlobalAveragePooling2D(keepdims=True)(x))
    return keras.Model(inputs, layers.Softmax()(layers.Flatten()(x)), name="conv_mobilenet")


def _interleaved(arms: dict[str, Callable[[], float]], repeats: int = REPEATS) -> dict[str, list[float]]:
    """Run every arm once per round, ``repeats`` rounds, so machine noise hits all arms alike."""
    times: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(repeats):
        for name, arm in arms.items():
            times[name].append(arm())
    return times


def layer_speeds() -> None:
    batch = np.random.default_rng(0).standard_normal((32, 16, 16, 128)).astype("float32")
    models = {kind: _layer_model(kind) for kind in ("standard 3x3", "depthwise 3x3", "pointwise 1x1",
                                                   "depthwise + pointwise")}
    for model in models.values():
        model.predict_on_batch(batch)  # trace once

    def arm(model: keras.Model) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            model.predict_on_batch(batch)
            return time.perf_counter() - start
        return run

    times = _interleaved({kind: arm(model) for kind, model in models.items()}, repeats=REPEATS * 3)
    base = min(times["standard 3x3"])
    print("1. One layer, 16x16x128 -> 128, forward, batch 32 (best of "
          f"{REPEATS * 3}; baseline: the standard 3x3 conv)")
    print(f"   {'layer':24}{'MACs/image':>12}{'best ms':>9}{'median ms':>11}{'GMAC/s':>9}{'vs standard':>13}")
    for kind, model in models.items():
        macs = profile(model).macs
        best, median = min(times[kind]), statistics.median(times[kind])
        print(f"   {kind:24}{macs:>12,}{best * 1e3:>9.2f}{median * 1e3:>11.2f}{32 * macs / best / 1e9:>9.1f}"
              f"{base / best:>12.2f}x")


def pair_speeds() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((32, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    models = {"standard CNN": small_net(False), "separable twin": small_net(True)}
    for model in models.values():
        model.compile("adam", "sparse_categorical_crossentropy")
        model.train_on_batch(x, y)  # trace once

    def arm(model: keras.Model, steps: int = 20) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            return 32 * steps / (time.perf_counter() - start)  # images/s
        return run

    rates = _interleaved({name: arm(model) for name, model in models.items()})
    macs = {name: profile(model).macs for name, model in models.items()}
    latency = {name: {b: measure_latency(model, batch_size=b, repeats=30 if b == 1 else 10) for b in (1, 128)}
               for name, model in models.items()}
    print("\n2. Notebook 04's pair (train_on_batch, batch 32, best of "
          f"{REPEATS} interleaved runs of 20 steps; inference: median of repeated calls)")
    print(f"   {'model':16}{'MACs':>11}{'train img/s':>13}{'median':>9}{'ms/img b1':>11}{'ms/img b128':>13}")
    for name in models:
        print(f"   {name:16}{macs[name]:>11,}{max(rates[name]):>13,.0f}{statistics.median(rates[name]):>9,.0f}"
              f"{latency[name][1].ms_per_image:>11.3f}{latency[name][128].ms_per_image:>13.4f}")
    saving = macs["standard CNN"] / macs["separable twin"]
    train = max(rates["separable twin"]) / max(rates["standard CNN"])
    infer = {b: latency["standard CNN"][b].ms_per_batch / latency["separable twin"][b].ms_per_batch for b in (1, 128)}
    print(f"   MAC saving {saving:.1f}x; speed-up: training {train:.2f}x, inference batch 1 {infer[1]:.2f}x, "
          f"batch 128 {infer[128]:.2f}x")


def imagenet_speeds() -> None:
    models = {"MobileNet": mobilenet(1.0), "Conv MobileNet": conv_mobilenet()}
    latency = {name: measure_latency(model, batch_size=1, repeats=15) for name, model in models.items()}
    macs = {name: profile(model).macs for name, model in models.items()}
    print("\n3. MobileNet vs Conv MobileNet, 224x224, batch 1 (median of 15 calls after warm-up)")
    for name in models:
        print(f"   {name:15}{macs[name] / 1e6:>8.0f}M MACs {latency[name].ms_per_image:>8.1f} ms "
              f"(range {latency[name].min_ms:.1f}-{latency[name].max_ms:.1f})")
    print(f"   MAC saving {macs['Conv MobileNet'] / macs['MobileNet']:.1f}x; speed-up "
          f"{latency['Conv MobileNet'].ms_per_batch / latency['MobileNet'].ms_per_batch:.1f}x")


def main() -> None:
    print(f"Keras {keras.__version__} on {keras.config.backend()}")
    layer_speeds()
    pair_speeds()
    imagenet_speeds()


if __name__ == "__main__":
    main()
