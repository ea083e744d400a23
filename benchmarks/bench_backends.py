"""CPU training speed of one small convnet on TensorFlow, JAX and PyTorch, side by side, in one run.

Each backend trains the same Keras model (same layers, same seed, same batch of 32x32x3 images, same optimizer) in its
own subprocess (Keras picks its backend once per process), and reports images/s over timed epochs after a warm-up
epoch that pays for tracing/compilation. A backend that is not installed gets a row saying which requirements file
installs it.

    python benchmarks/bench_backends.py                      # all three backends, batch 128, 3 timed epochs
    python benchmarks/bench_backends.py --model depthwise    # the MobileNet-like variant
    python benchmarks/bench_backends.py --backends jax torch --images 2048 --repeats 5

Run it inside the workshop's environment (.venv/bin/python) with jax and torch installed
(requirements-jax.txt, requirements-torch.txt). On a shared machine speeds move between runs: compare backends
within one run, not across runs.
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

BACKENDS = {"tensorflow": "requirements.txt", "jax": "requirements-jax.txt", "torch": "requirements-torch.txt"}
RESULT_PREFIX = "BENCH_RESULT "


def build_model(kind: str):  # noqa: ANN201 (keras is imported in the worker only)
    """The convnet every backend trains: plain 3x3 convs, or depthwise separable blocks (MobileNet-like)."""
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for filters in (64, 128):
        if kind == "depthwise":
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(filters, 1, use_bias=False)(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"small_{kind}_cnn")


def worker(args: argparse.Namespace) -> None:
    """Runs in the subprocess for one backend: train, time, print one JSON line."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((args.images, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=args.images)
    model = build_model(args.model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    start = time.perf_counter()
    model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0, shuffle=False)  # traces / compiles the step
    warm_up = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    backend = keras.config.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    result = {
        "backend": backend,
        "version": __import__(module).__version__,
        "params": model.count_params(),
        "warm_up_s": warm_up,
        "best_s": min(times),
        "median_s": sorted(times)[len(times) // 2],
        "images": args.images,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, object]:
    """One backend in its own process; its result, or why there is none."""
    if importlib.util.find_spec(backend) is None:
        return {"backend": backend, "error": f"not installed: pip install -r {BACKENDS[backend]}"}
    env = {**os.environ, "KERAS_BACKEND": backend}  # the worker imports _preamble too
    command = [sys.executable, __file__, "--worker", "--model", args.model, "--batch", str(args.batch),
               "--images", str(args.images), "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"backend": backend, "error": f"exit {done.returncode}: {last[:100]}"}


def format_table(results: list[dict[str, object]], args: argparse.Namespace) -> str:
    """The side-by-side table: images/s on the best and the median timed epoch, warm-up, and relative speed."""
    reference = next((r for r in results if r.get("backend") == "tensorflow" and "error" not in r), None)
    lines = [
        f"{args.model} convnet, 32x32x3, batch {args.batch}, {args.images} images per epoch, "
        f"best and median of {args.repeats} timed epochs after one warm-up epoch",
        f"{'backend':<11} {'version':<10} {'params':>8} {'img/s best':>11} {'img/s med':>10} "
        f"{'warm-up s':>10} {'vs TF':>7}",
        "-" * 73,
    ]
    for result in results:
        if "error" in result:
            lines.append(f"{result['backend']:<11} {result['error']}")
            continue
        best = float(result["images"]) / float(result["best_s"])
        median = float(result["images"]) / float(result["median_s"])
        relative = "" if reference is None else f"{float(reference['best_s']) / float(result['best_s']):.2f}x"
        lines.append(
            f"{result['backend']:<11} {result['version']:<10} {result['params']:>8,} {best:>11,.0f} "
            f"{median:>10,.0f} {float(result['warm_up_s']):>10.1f} {relative:>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS))
    parser.add_argument("--model", choices=["plain", "depthwise"], default="plain")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--images", type=int, default=2048, help="images per epoch (default 2048: 16 steps)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs after the warm-up epoch")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per backend before giving up")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.batch, args.images, args.repeats) < 1 or args.images < args.batch:
        parser.error("--batch, --images and --repeats must be positive, and --images at least --batch")
    if args.worker:
        worker(args)
        return 0
    results = []
    for backend in args.backends:
        print(f"training on {backend} ...", flush=True)
        results.append(run_backend(backend, args))
    print(format_table(results, args))
    return 0 if all("error" not in result for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
