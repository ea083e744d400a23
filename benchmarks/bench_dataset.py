"""Is the offline dataset hard enough that architecture matters?

Generates shapes10 (timing 12,000 images), then trains three models for the same wall-time
budget each on CPU and prints their test accuracy: a linear softmax classifier, an MLP and a
small CNN (3 conv blocks, about 100k parameters). Keras on TensorFlow, batch 128, Adam 1e-3,
inputs scaled to 0..1. The workshop wants linear and MLP clearly below the CNN, and the CNN
well above chance (10%) but well below 100%.

Run: ``.venv/bin/python benchmarks/bench_dataset.py`` (about 3.5 minutes; ``--seconds 20`` for a quick look).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import os
import time

from workshop_utils.data import (
    DATASETS,
    SHAPES10_CLASSES,
    SHAPES10_TEST_START,
    Dataset,
    load_dataset,
    make_shapes10,
)


def build_linear(input_shape, num_classes):  # type: ignore[no-untyped-def]
    import keras

    inputs = keras.Input(shape=input_shape)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs, name="linear")


def build_mlp(input_shape, num_classes):  # type: ignore[no-untyped-def]
    import keras

    x = inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(x)
    for index, units in enumerate((256, 128), start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name="mlp")


def build_small_cnn(input_shape, num_classes):  # type: ignore[no-untyped-def]
    import keras

    x = inputs = keras.Input(shape=input_shape)
    for block, filters in enumerate((32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        # momentum 0.9, not Keras' 0.99: with only a few hundred steps the slower moving averages
        # still remember their initial values and test accuracy lags far behind training accuracy.
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{block}_bn")(x)
        x = keras.layers.ReLU(name=f"block{block}_relu")(x)
        x = keras.layers.MaxPooling2D(name=f"block{block}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def train_for(model, data: Dataset, seconds: float, batch_size: int = 128) -> dict:  # type: ignore[type-arg]
    """Fit until ``seconds`` of wall time have passed (checked after every batch); evaluate on test."""
    import keras

    from workshop_utils.training import TimeBudget

    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x_train = data.x_train.astype("float32") / 255
    x_test = data.x_test.astype("float32") / 255
    budget = TimeBudget(seconds)
    start = time.perf_counter()
    history = model.fit(
        x_train,
        data.y_train,
        batch_size=batch_size,
        epochs=10_000,
        callbacks=[budget],
        verbose=0,
    )
    train_seconds = time.perf_counter() - start
    _, test_accuracy = model.evaluate(x_test, data.y_test, batch_size=512, verbose=0)
    return {
        "model": model.name,
        "params": model.count_params(),
        "epochs": len(history.history["loss"]),
        "seconds": train_seconds,
        "train_acc": history.history["accuracy"][-1],
        "test_acc": test_accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training wall time per model")
    parser.add_argument("--dataset", default="shapes10", choices=DATASETS)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--test-size", type=int, default=2_000)
    parser.add_argument("--models", default="linear,mlp,small_cnn")
    args = parser.parse_args()

    if args.dataset == "shapes10":
        start = time.perf_counter()
        x_train, y_train = make_shapes10(args.train_size, seed=0)
        x_test, y_test = make_shapes10(args.test_size, seed=0, start=SHAPES10_TEST_START)
        elapsed = time.perf_counter() - start
        total = args.train_size + args.test_size
        print(f"shapes10: generated {total} images in {elapsed:.2f} s ({total / elapsed:.0f} images/s, no cache)")
        data = Dataset("shapes10", x_train, y_train, x_test, y_test, SHAPES10_CLASSES)
    else:
        data = load_dataset(args.dataset, args.train_size, args.test_size)
    print(data)
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{load:.1f}" for load in os.getloadavg()))

    import keras

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs; "
          f"budget {args.seconds:.0f} s of training per model, batch 128, Adam 1e-3")  # fmt: skip
    builders = {"linear": build_linear, "mlp": build_mlp, "small_cnn": build_small_cnn}
    rows = []
    for name in args.models.split(","):
        keras.utils.set_random_seed(0)
        model = builders[name](data.input_shape, data.num_classes)
        row = train_for(model, data, args.seconds)
        rows.append(row)
        print(
            f"{row['model']:<10} params {row['params']:>8,}  epochs {row['epochs']:5.1f}  "
            f"time {row['seconds']:5.1f} s  train acc {row['train_acc']:.3f}  test acc {row['test_acc']:.3f}",
            flush=True,
        )
    chance = 1 / data.num_classes
    print(f"chance level {chance:.3f}; best {max(rows, key=lambda r: r['test_acc'])['model']}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.1f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
