"""Inference latency of a model, measured the same way on every backend: median ms per batch, ms per image, images/s.

MAC counts say how much arithmetic a model needs; latency says how long the machine takes. They differ because a
layer's speed also depends on how many bytes it moves per multiply-add (depthwise convs move many bytes for few
MACs), on the kernels the backend has, and on fixed per-call overhead. Notebook 04 puts the two side by side.

How the measurement is made, and why:

* **Warm-up calls first, not timed.** The first call traces and compiles the model (TensorFlow's ``tf.function``,
  JAX's ``jit``), allocates buffers and fills caches; that takes from 0.1 s to several seconds and says nothing
  about the model's steady speed.
* **The median of several timed calls**, not the mean: on a shared laptop a few calls are slowed by other
  processes (a garbage collection, a browser tab), and a mean lets one such outlier move the result. The median
  ignores them; the spread (``min_ms``/``max_ms``) is kept so it can be reported.
* **TensorFlow's retracing warnings are silenced while measuring.** Every new batch size traces the predict
  function once more (the warm-up absorbs it); after a few models TensorFlow warns about "excessive retracing",
  which here is expected and says nothing about the model.
* **Each timed call waits for its result** (``predict_on_batch`` returns NumPy; a plain callable's result is
  converted to NumPy), so asynchronous backends (JAX dispatches asynchronously) are timed to completion.

Example::

    from workshop_utils.latency import measure_latency
    print(measure_latency(model, batch_size=1).summary())
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workshop_utils._validate import positive_int


@dataclass(frozen=True)
class Latency:
    """One latency measurement.

    Attributes:
        batch_size: images per timed call.
        ms_per_batch: median wall time of one call, in milliseconds.
        samples_ms: every timed call, in milliseconds (warm-up calls excluded).

    Example::

        Latency(batch_size=8, ms_per_batch=4.0, samples_ms=(4.0,)).images_per_second   # 2000.0
    """

    batch_size: int
    ms_per_batch: float
    samples_ms: tuple[float, ...]

    @property
    def ms_per_image(self) -> float:
        """Median milliseconds per image (the batch's time shared by its images)."""
        return self.ms_per_batch / self.batch_size

    @property
    def images_per_second(self) -> float:
        """Images per second at the median call time."""
        return 1000.0 * self.batch_size / self.ms_per_batch if self.ms_per_batch > 0 else float("inf")

    @property
    def min_ms(self) -> float:
        """Fastest timed call, in milliseconds."""
        return min(self.samples_ms)

    @property
    def max_ms(self) -> float:
        """Slowest timed call, in milliseconds."""
        return max(self.samples_ms)

    def summary(self) -> str:
        """One line for a notebook.

        Example::

            print(measure_latency(model).summary())
        """
        return (
            f"batch {self.batch_size}: {self.ms_per_batch:.2f} ms per batch (median of {len(self.samples_ms)}, "
            f"range {self.min_ms:.2f}-{self.max_ms:.2f}), {self.ms_per_image:.3f} ms per image, "
            f"{self.images_per_second:,.0f} images/s"
        )


def _image_shape(model: Any, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The shape of one input (no batch axis), from ``input_shape`` or the model's own input."""
    if input_shape is not None:
        shape = tuple(input_shape)
        if not shape or any(not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1 for d in shape):
            raise ValueError(f"input_shape must be positive sizes without the batch axis, e.g. (32, 32, 3); "
                             f"got {input_shape!r}.")
        return tuple(int(d) for d in shape)
    model_shape = getattr(model, "input_shape", None)
    if model_shape is None:
        raise ValueError(
            "the model has no input_shape (a plain function, or a Keras model that was never built): pass "
            "input_shape=(height, width, channels) without the batch axis."
        )
    if isinstance(model_shape, list):
        raise ValueError("measure_latency times single-input models; this model has several inputs.")
    shape = tuple(model_shape)[1:]
    if any(d is None for d in shape):
        raise ValueError(
            f"the model's input shape {tuple(model_shape)} has free sizes: pass input_shape=(height, width, "
            f"channels) to say which size to time."
        )
    return tuple(int(d) for d in shape)


def _caller(model: Any) -> Callable[[np.ndarray], Any]:
    """A function that runs one batch to completion."""
    if hasattr(model, "predict_on_batch"):
        return model.predict_on_batch  # Keras: a compiled predict step on every backend, returns NumPy
    if callable(model):
        def call(batch: np.ndarray) -> Any:
            # np.asarray waits for the result, so asynchronous backends are timed to completion.
            return np.asarray(model(batch))

        return call
    raise TypeError(
        f"measure_latency needs a Keras model or a callable taking a batch, got {type(model).__name__}."
    )


@contextlib.contextmanager
def _quiet_tensorflow_warnings() -> Iterator[None]:
    """Raise the ``tensorflow`` Python logger to ERROR for the duration (its retracing warnings), then restore it."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def measure_latency(
    model: Any,
    batch_size: int = 1,
    repeats: int = 10,
    warmup: int = 2,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    timer: Callable[[], float] = time.perf_counter,
) -> Latency:
    """Median inference time of ``model`` on random batches of ``batch_size`` images.

    Args:
        model: a Keras model (timed through ``predict_on_batch``, which is compiled on every backend) or any
            callable taking a NumPy batch (e.g. a ``jax.jit`` function); its result is converted to NumPy.
        batch_size: images per call; ``1`` is the latency a single user waits, larger batches give throughput.
        repeats: timed calls; the median is reported.
        warmup: untimed calls first (tracing, compilation, caches).
        input_shape: one image's shape without the batch axis; default: the model's input shape.
        seed: seed of the random input (its values do not change the work a conv net does).
        timer: the clock, in seconds (tests pass a fake one).

    Example::

        measure_latency(model, batch_size=32, repeats=5).ms_per_image
    """
    batch_size = positive_int("batch_size", batch_size, 1)
    repeats = positive_int("repeats", repeats, 1)
    warmup = positive_int("warmup", warmup, 0)
    call = _caller(model)
    shape = _image_shape(model, input_shape)
    batch = np.random.default_rng(seed).standard_normal((batch_size, *shape)).astype("float32")
    samples = []
    with _quiet_tensorflow_warnings():
        for _ in range(warmup):
            call(batch)
        for _ in range(repeats):
            start = timer()
            call(batch)
            samples.append(1000.0 * (timer() - start))
    return Latency(batch_size=batch_size, ms_per_batch=float(statistics.median(samples)), samples_ms=tuple(samples))
