"""Training throughput on this run's device, lever by lever: batch size, where the data lives, the compute dtype and
compiling once, for notebook 02's two small nets and ResNet-50 at 224, against the device's own matmul ceiling.

Written for a GPU (``benchmarks/gpu_check.sh`` runs it on the lent GPU machine, Keras on JAX), it runs on any
Keras backend and device. Measured in the same run and printed:

1. the device (``workshop_utils.devices.device_name``), the backend and versions;
2. the device's matmul ceiling per compute dtype (float32, bfloat16, float16): the best TFLOP/s of square
   ``keras.ops.matmul`` products (8192^2 on an accelerator, 2048^2 on a CPU), the most any model here can reach;
3. one table row per setting: images/s in ``model.fit`` (timed after a warm-up fit that compiles), achieved TFLOP/s
   (3 x the forward FLOPs per image, 2 FLOPs per MAC counted by ``workshop_utils.flops.profile``: forward, and
   backward at twice the forward), its share of that dtype's ceiling, and the speed-up over the model's first row.

The models:

* ``alexnet_style`` and ``vgg_style``, built exactly as notebook 02 builds them (its "same budget" cell: 32x32x3,
  10 classes, batch norm, 128-unit FC layers; 3.11 M and 3.24 M MACs per image), from the reference blocks in
  ``workshop_utils.architectures.alexnet``;
* ``resnet50``: ``keras.applications.ResNet50(weights=None)`` at 224x224, 1000 classes, random data.

The levers, each against the first row of its model (the plain path: float32 batches of 256, copied from host
NumPy every step, one compiled program per step):

* **data**: ``host`` passes NumPy arrays to ``fit``, which copies every batch to the device; ``device`` passes
  backend-native arrays made once (``jax.device_put`` on JAX, a tensor placed on the first GPU on TensorFlow,
  a CUDA tensor on PyTorch), so ``fit`` slices them where they live;
* **batch**: 256, 1024, 4096 for the small nets; 128 and 256 for ResNet-50;
* **dtype**: the Keras policies ``float32``, ``mixed_bfloat16`` and ``mixed_float16`` (float16 with loss scaling);
* **jit**: ``jit_compile=True`` (one XLA program per step) against ``False`` (JAX: op by op; TensorFlow: a
  ``tf.function`` graph without XLA).

Each row is printed as soon as it is measured (a run stopped early keeps its rows); ``--budget-s`` skips the rows
that would start after the budget (they are listed as skipped). A setting the device cannot run (float16 kernels
missing on a CPU) is reported as failed, with the error, and the run goes on.

Run (inside ``.venv``, or on the GPU machine through ``gpu_check.sh``)::

    python benchmarks/bench_gpu_training.py                 # every model, the full ladder (a few minutes on a GPU)
    python benchmarks/bench_gpu_training.py --quick         # tiny sizes: under a minute on a 2-core CPU (the test)
    KERAS_BACKEND=jax python benchmarks/bench_gpu_training.py --models alexnet_style,vgg_style --budget-s 90
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import gc
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from workshop_utils import flops
from workshop_utils.devices import active_device

DTYPES = ("float32", "bfloat16", "float16")
POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
MODELS = ("alexnet_style", "vgg_style", "resnet50")


@dataclass(frozen=True)
class Setting:
    """One compiled model: dtype, batch and jit; measured with each of ``data`` (host / device) in turn."""

    dtype: str
    batch: int
    jit: bool
    data: tuple[str, ...]
    steps: int  # optimizer steps per timed epoch
    rank: int = 0  # the run measures settings in rank order (ties: the models' order)


@dataclass(frozen=True)
class Plan:
    """A model and its ladder of settings."""

    model: str
    image: int
    classes: int
    settings: tuple[Setting, ...]


def plans(quick: bool) -> dict[str, Plan]:
    """The sweep. Full: the sizes the issue names. Quick: the same levers at tiny sizes (a test on a 2-core CPU)."""
    if quick:  # every lever once, few compilations: each XLA compile costs seconds on a CPU
        return {"alexnet_style": Plan("alexnet_style", 32, 10, (
                    Setting("float32", 32, True, ("host", "device"), 2),
                    Setting("float32", 32, False, ("host",), 2),
                    Setting("bfloat16", 64, True, ("device",), 2),
                    Setting("float16", 64, True, ("device",), 2))),
                "vgg_style": Plan("vgg_style", 32, 10, (Setting("float32", 32, True, ("host", "device"), 2),)),
                "resnet50": Plan("resnet50", 32, 10, (Setting("float32", 2, False, ("host", "device"), 2),))}
    # `rank` orders the whole run (ties: in --models order), so that one cut short by --budget-s still has the most
    # telling rows: the plain path and the likely best (bfloat16, large batch, data on the device) of the small
    # nets, then ResNet-50's plain path, then the other levers one by one.
    small = (Setting("float32", 256, True, ("host", "device"), 16, rank=0),  # the plain path, then on the device
             Setting("bfloat16", 4096, True, ("device", "host"), 8, rank=1),
             Setting("float32", 4096, True, ("device",), 8, rank=3),
             Setting("float16", 4096, True, ("device",), 8, rank=4),
             Setting("float32", 1024, True, ("device",), 12, rank=6),
             Setting("bfloat16", 1024, True, ("device",), 12, rank=7),
             Setting("float32", 256, False, ("host",), 3, rank=8))  # not compiled into one program
    resnet = (Setting("float32", 128, True, ("host", "device"), 6, rank=2),
              Setting("bfloat16", 256, True, ("device", "host"), 4, rank=5),
              Setting("float16", 256, True, ("device",), 4, rank=9))
    return {"alexnet_style": Plan("alexnet_style", 32, 10, small), "vgg_style": Plan("vgg_style", 32, 10, small),
            "resnet50": Plan("resnet50", 224, 1000, resnet)}


def build(name: str, image: int, classes: int) -> keras.Model:
    """The model ``name`` under the current dtype policy.

    ``alexnet_style`` and ``vgg_style`` as notebook 02's cell builds them (``vgg`` there composes the reference
    ``conv_block`` with batch norm, as here); ``resnet50`` from ``keras.applications``.
    """
    from workshop_utils.architectures import alexnet as reference
    from workshop_utils.architectures.alexnet import conv_block, dense_block

    shape = (image, image, 3)
    if name == "alexnet_style":
        return reference.alexnet(
            input_shape=shape, classes=classes, filters=(8, 16, 32, 32, 32), kernel_sizes=(7, 5, 3, 3, 3),
            first_stride=1, first_padding="same", fc_units=128, dropout=0.0, batch_norm=True, name="alexnet_style")
    if name == "vgg_style":  # notebook 02: vgg(((8, 3), (16, 2), (24, 3)), fc_units=128, dropout=0.0, batch_norm=True)
        inputs = keras.Input(shape, name="image")
        x = inputs
        for index, (filters, convs) in enumerate(((8, 3), (16, 2), (24, 3)), start=1):
            for conv in range(1, convs + 1):
                x = conv_block(x, filters, 3, batch_norm=True, name=f"block{index}_conv{conv}")
            x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{index}_pool")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        x = dense_block(x, 128, 0.0, "fc1")
        x = dense_block(x, 128, 0.0, "fc2")
        outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
        return keras.Model(inputs, outputs, name="vgg_style")
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=shape, classes=classes)
    raise ValueError(f"unknown model {name!r}: pass one or more of {', '.join(MODELS)} (comma-separated).")


def wait_for(value: Any) -> None:
    """Block until ``value`` is computed (JAX and GPU backends dispatch asynchronously)."""
    ops.convert_to_numpy(ops.reshape(value, (-1,))[:1])


def on_device(array: np.ndarray) -> Any:
    """``array`` as a backend-native array on the device the backend computes on, made once."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return jax.device_put(array, jax.devices()[0])
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        with tf.device(gpus[0].name if gpus else "/CPU:0"):
            return tf.identity(tf.convert_to_tensor(array))
    if backend == "torch":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.as_tensor(array, device=device)
    return ops.convert_to_tensor(array)


def matmul_ceiling_tflops(dtype: str, size: int, products: int, rounds: int = 3) -> float:
    """The best TFLOP/s of ``products`` chained ``size``^2 matmuls in ``dtype``, over ``rounds`` rounds (2 n^3 each)."""
    rng = np.random.default_rng(0)
    a = ops.cast(ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32)), dtype)
    b = ops.cast(ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32)), dtype)
    wait_for(ops.matmul(a, b))  # compile / allocate once
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(products):
            product = ops.matmul(a, b)
        wait_for(product)
        best = min(best, (time.perf_counter() - start) / products)
    return 2 * size**3 / best / 1e12


def timed_fit(model: keras.Model, x: Any, y: Any, batch: int, epochs: int) -> float:
    """Seconds for ``fit`` over ``x`` (its length a multiple of ``batch``), waiting for the last step's weights."""
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=False)
    wait_for(model.trainable_weights[0].value)
    return time.perf_counter() - start


def measure(plan: Plan, setting: Setting, macs: int, x_host: np.ndarray, y_host: np.ndarray,
            min_seconds: float) -> list[dict[str, Any]]:
    """Build and compile the model for ``setting``, then time ``fit`` with each data placement in turn."""
    keras.backend.clear_session()
    gc.collect()
    keras.config.set_dtype_policy(POLICY[setting.dtype])
    try:
        keras.utils.set_random_seed(0)
        model = build(plan.model, plan.image, plan.classes)
    finally:
        keras.config.set_dtype_policy("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=setting.jit)
    count = setting.batch * setting.steps
    rows = []
    for data in setting.data:
        x, y = x_host[:count], y_host[:count]
        if data == "device":
            x, y = on_device(x), on_device(y)
        first = timed_fit(model, x[: setting.batch], y[: setting.batch], setting.batch, 1)  # compiles
        seconds, epochs = timed_fit(model, x, y, setting.batch, 1), 1
        if seconds < min_seconds:  # too short to time well: run enough epochs for min_seconds
            epochs = min(int(math.ceil(min_seconds / max(seconds, 1e-4))), 50)
            seconds = timed_fit(model, x, y, setting.batch, epochs)
        steps = setting.steps * epochs
        rate = count * epochs / seconds
        rows.append({"model": plan.model, "dtype": setting.dtype, "batch": setting.batch, "data": data,
                     "jit": "yes" if setting.jit else "no", "first_fit_s": first, "ms_per_step": 1000 * seconds / steps,
                     "images_per_s": rate, "tflops": 3 * 2 * macs * rate / 1e12})
        del x, y
    del model
    return rows


def format_row(row: dict[str, Any]) -> str:
    """One table line (``row`` as :func:`measure` returns it, with ``pct_ceiling`` and ``x_first`` added)."""
    pct = f"{row['pct_ceiling']:.1f}%" if row.get("pct_ceiling") is not None else "n/a"
    return (f"{row['model']:14} {row['dtype']:8} {row['batch']:>6} {row['data']:6} {row['jit']:3} "
            f"{row['first_fit_s']:>8.2f} {row['ms_per_step']:>9.2f} {row['images_per_s']:>12,.0f} "
            f"{row['tflops']:>9.4f} {pct:>8} {row['x_first']:>7.2f}x")


HEADER = (f"{'model':14} {'dtype':8} {'batch':>6} {'data':6} {'jit':3} {'1st fit':>8} {'ms/step':>9} "
          f"{'images/s':>12} {'TFLOP/s':>9} {'% ceil':>8} {'vs 1st':>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a test on a 2-core CPU, under a minute)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated, from {', '.join(MODELS)} (default: all)")
    parser.add_argument("--budget-s", type=float, default=0.0,
                        help="start no new setting after this many seconds (0: no limit)")
    parser.add_argument("--min-seconds", type=float, default=None,
                        help="shortest timed fit per row (default 1.0; 0.05 with --quick)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in MODELS]
    if unknown or not chosen:
        parser.error(f"unknown model(s) {', '.join(unknown) or '(none given)'}: pass --models with one or more of "
                     f"{', '.join(MODELS)}, comma-separated.")
    if args.budget_s < 0:
        parser.error("--budget-s must be >= 0 (0: no limit).")
    min_seconds = args.min_seconds if args.min_seconds is not None else (0.05 if args.quick else 1.0)
    start = time.perf_counter()

    device = active_device()
    backend = keras.config.backend()
    versions = f"Keras {keras.__version__} on {backend}"
    if backend == "jax":
        import jax

        versions += f" {jax.__version__}"
    elif backend == "tensorflow":
        import tensorflow as tf

        versions += f" {tf.__version__}"
    print(f"device: {device} ({device.kind}); {versions}; Python {sys.version.split()[0]}"
          f"{'; --quick: tiny sizes' if args.quick else ''}", flush=True)

    size = 256 if args.quick else (8192 if device.is_accelerator else 2048)
    products = 2 if args.quick else (10 if device.is_accelerator else 3)
    ceilings: dict[str, float | None] = {}
    for dtype in DTYPES:
        try:
            ceilings[dtype] = matmul_ceiling_tflops(dtype, size, products)
            print(f"matmul ceiling {dtype:8}: {ceilings[dtype]:10.3f} TFLOP/s ({size}^2 keras.ops.matmul, best of "
                  f"3 rounds of {products})", flush=True)
        except Exception as error:  # noqa: BLE001 - a dtype the device lacks: reported, not fatal
            ceilings[dtype] = None
            print(f"matmul ceiling {dtype:8}: n/a ({type(error).__name__}: {str(error).splitlines()[0][:120]})",
                  flush=True)

    every, skipped, failed = [], [], []
    chosen_plans = {name: plans(args.quick)[name] for name in chosen}
    macs, x_host, y_host, first_rate = {}, {}, {}, {}
    for name, plan in chosen_plans.items():  # counted once (MACs do not depend on the dtype), random data once
        probe = build(plan.model, plan.image, plan.classes)
        macs[name] = flops.profile(probe).macs
        del probe
        largest = max(setting.batch * setting.steps for setting in plan.settings)
        rng = np.random.default_rng(0)
        x_host[name] = rng.random((largest, plan.image, plan.image, 3), dtype=np.float32)
        y_host[name] = rng.integers(0, plan.classes, largest).astype(np.int32)
        print(f"  ({name}: {macs[name]:,} MACs per image at {plan.image}x{plan.image}; "
              f"TFLOP/s = 3 x 2 x MACs x images/s)", flush=True)
    print("\n" + HEADER + "\n" + "-" * len(HEADER), flush=True)
    # In rank order across the models (ties: --models order), so a budget that runs out leaves the telling rows.
    tasks = sorted(((name, setting) for name, plan in chosen_plans.items() for setting in plan.settings),
                   key=lambda task: (task[1].rank, chosen.index(task[0])))
    for name, setting in tasks:
        plan = chosen_plans[name]
        label = (f"{name} {setting.dtype} batch {setting.batch} jit {'yes' if setting.jit else 'no'} "
                 f"({'/'.join(setting.data)})")
        if args.budget_s and time.perf_counter() - start > args.budget_s:
            skipped.append(label)
            continue
        try:
            rows = measure(plan, setting, macs[name], x_host[name], y_host[name], min_seconds)
        except Exception as error:  # noqa: BLE001 - e.g. no float16 conv kernel on a CPU
            message = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
            failed.append(f"{label}: {type(error).__name__}: {message}")
            print(f"{name:14} {setting.dtype:8} {setting.batch:>6} failed: {type(error).__name__}: {message}",
                  flush=True)
            continue
        for row in rows:
            first_rate.setdefault(name, row["images_per_s"])
            ceiling = ceilings.get(setting.dtype)
            row["pct_ceiling"] = 100 * row["tflops"] / ceiling if ceiling else None
            row["x_first"] = row["images_per_s"] / first_rate[name]
            every.append(row)
            print(format_row(row), flush=True)

    print()
    for name in chosen:
        rows = [row for row in every if row["model"] == name]
        if rows:
            best = max(rows, key=lambda row: row["images_per_s"])
            print(f"best {name}: {best['images_per_s']:,.0f} images/s, {best['tflops']:.3f} TFLOP/s "
                  f"({best['dtype']}, batch {best['batch']}, data on {best['data']}, jit {best['jit']}) = "
                  f"{best['x_first']:.1f}x its first row; measured on {device}")
    for label in skipped:
        print(f"skipped (time budget of {args.budget_s:.0f} s): {label}")
    for label in failed:
        print(f"failed: {label}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0 if every else 1


if __name__ == "__main__":
    raise SystemExit(main())
