"""Grouped convolution speed: ``Conv2D(groups=g)`` against the split form (split -> per-group Conv2D -> concat).

The two compute the same function with the same weights and multiply-adds (checked here on every model pair).
Prints, measured in the same run on this machine, for g = 1, 2, 3, 4, 8 on a small net (a 3x3 conv, then three 1x1
convs of 96 channels with ``groups=g``, global pool, softmax; 32x32 inputs, batch 64):

* training images/s (``train_on_batch``), and
* inference ms per batch (``predict_on_batch``, median of repeats),

for both forms, interleaved and repeated (best of the rounds: on a shared machine other processes slow some runs
down), with the ratio split / grouped. Notebook 05 quotes this output.

Run: ``python benchmarks/bench_grouped_conv.py`` (a few minutes on 2 cores; ``--quick`` for one round).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import sys
import time

import keras
import numpy as np
from keras import layers

from workshop_utils.flops import profile
from workshop_utils.grouped_conv import copy_grouped_to_split, group_convs, grouped_conv2d
from workshop_utils.latency import measure_latency

BATCH = 64
WIDTH = 96
GROUPS = (1, 2, 3, 4, 8)


def grouped_stack(form: str, groups: int) -> keras.Model:
    """The benchmark net, with its grouped 1x1 convs as ``Conv2D(groups=g)`` (form "grouped") or split + concat."""
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(WIDTH, 3, padding="same", use_bias=False, name="stem")(inputs)
    for index in range(3):
        name = f"gconv{index}"
        if form == "grouped":
            x = layers.Conv2D(WIDTH, 1, groups=groups, use_bias=False, name=name)(x)
        else:
            x = grouped_conv2d(x, WIDTH, 1, groups, name=name)
        x = layers.ReLU(name=f"relu{index}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="predictions")(x), name=f"{form}_g{groups}")


def same_function(grouped: keras.Model, split: keras.Model, x: np.ndarray) -> float:
    """Copy the grouped model's weights into the split one; return the largest output difference."""
    for layer in grouped.layers:
        if isinstance(layer, layers.Conv2D) and layer.groups > 1:
            copy_grouped_to_split(layer, group_convs(split, layer.name))
        elif layer.weights:
            split.get_layer(layer.name).set_weights(layer.get_weights())
    return float(np.abs(grouped.predict_on_batch(x) - split.predict_on_batch(x)).max())


def training_images_per_second(model: keras.Model, x: np.ndarray, y: np.ndarray, seconds: float = 2.0) -> float:
    """train_on_batch steps until ``seconds`` have passed (at least 2 steps), after the model was warmed up."""
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < seconds:
        model.train_on_batch(x, y)
        steps += 1
    return steps * len(x) / (time.perf_counter() - start)


def main() -> None:
    rounds = 1 if "--quick" in sys.argv else 3
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, BATCH)
    print(f"Keras {keras.__version__} on {keras.config.backend()}; batch {BATCH}, 32x32x3, three 1x1 convs of "
          f"{WIDTH} channels; best of {rounds} interleaved rounds")
    models: dict[tuple[str, int], keras.Model] = {}
    for groups in GROUPS:
        pair = {form: grouped_stack(form, groups) for form in ("grouped", "split")}
        costs = {form: profile(model) for form, model in pair.items()}
        assert costs["grouped"].macs == costs["split"].macs and costs["grouped"].params == costs["split"].params
        difference = same_function(pair["grouped"], pair["split"], x)
        print(f"g={groups}: {costs['grouped'].params:,} parameters, {costs['grouped'].macs:,} MACs in both forms; "
              f"largest output difference with copied weights {difference:.1e}")
        for form, model in pair.items():
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            start = time.perf_counter()
            model.train_on_batch(x, y)  # tracing, not timed
            print(f"  {form:8} first training step (tracing): {time.perf_counter() - start:.1f} s")
            models[(form, groups)] = model
    train = {key: 0.0 for key in models}
    infer = {key: float("inf") for key in models}
    for _ in range(rounds):
        for key, model in models.items():
            train[key] = max(train[key], training_images_per_second(model, x, y))
            infer[key] = min(infer[key], measure_latency(model, batch_size=BATCH, repeats=10).ms_per_batch)
    print(f"\n{'groups':>6} | {'train img/s: grouped':>21} {'split':>7} {'split/grouped':>14} | "
          f"{'inference ms: grouped':>22} {'split':>7} {'grouped/split':>14}")
    for groups in GROUPS:
        g_train, s_train = train[("grouped", groups)], train[("split", groups)]
        g_infer, s_infer = infer[("grouped", groups)], infer[("split", groups)]
        print(f"{groups:>6} | {g_train:>21,.0f} {s_train:>7,.0f} {s_train / g_train:>13.1f}x | "
              f"{g_infer:>22.1f} {s_infer:>7.1f} {g_infer / s_infer:>13.2f}x")
    print("(g=1: both forms are one plain Conv2D per layer, a measure of the run-to-run noise)")


if __name__ == "__main__":
    main()
