"""measure_latency warms up, times the requested calls, reports the median, refuses bad input (no timing asserts)."""

from __future__ import annotations

import itertools
import logging

import keras
import numpy as np
import pytest

from workshop_utils.latency import Latency, measure_latency


class _Recorder:
    """A stand-in model: records the batches it is given."""

    input_shape = (None, 8, 8, 3)

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(batch)
        return batch.sum(axis=(1, 2, 3))


def _clock(durations_s: list[float]):
    """A fake perf_counter: each (start, stop) pair is `duration` apart."""
    ticks = itertools.accumulate(itertools.chain.from_iterable((0.0, d) for d in durations_s))
    return lambda: next(ticks)


def test_warmup_calls_are_not_timed_and_batches_have_the_right_shape() -> None:
    model = _Recorder()
    result = measure_latency(model, batch_size=4, repeats=3, warmup=2, timer=_clock([0.010, 0.030, 0.020]))
    assert len(model.batches) == 5
    assert all(b.shape == (4, 8, 8, 3) and b.dtype == np.float32 for b in model.batches)
    assert len(result.samples_ms) == 3


def test_median_not_mean_and_derived_figures() -> None:
    # One outlier (a stalled call) must not move the figure: median of 10, 10, 12, 500 ms is 11 ms.
    result = measure_latency(_Recorder(), batch_size=8, repeats=4, warmup=0,
                             timer=_clock([0.010, 0.500, 0.012, 0.010]))
    assert result.ms_per_batch == pytest.approx(11.0)
    assert result.ms_per_image == pytest.approx(11.0 / 8)
    assert result.images_per_second == pytest.approx(8 / 0.011)
    assert (result.min_ms, result.max_ms) == (pytest.approx(10.0), pytest.approx(500.0))
    assert "median of 4" in result.summary() and "ms per image" in result.summary()


def test_times_a_real_keras_model_and_a_plain_callable() -> None:
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.DepthwiseConv2D(3)(inputs))
    result = measure_latency(model, batch_size=2, repeats=2, warmup=1)
    assert isinstance(result, Latency) and result.ms_per_batch > 0 and len(result.samples_ms) == 2
    calls = []
    result = measure_latency(lambda batch: calls.append(batch.shape) or batch * 2, input_shape=(5, 5, 2),
                             repeats=3, warmup=1)
    assert calls == [(1, 5, 5, 2)] * 4 and result.batch_size == 1


def test_explicit_input_shape_overrides_a_free_model_shape() -> None:
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))
    with pytest.raises(ValueError, match="free sizes"):
        measure_latency(model)
    assert measure_latency(model, input_shape=(16, 16, 3), repeats=1, warmup=0).batch_size == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"repeats": 0}, "repeats must be an integer >= 1"),
        ({"warmup": -1}, "warmup must be an integer >= 0"),
        ({"input_shape": (8, 0, 3)}, "input_shape must be positive sizes"),
    ],
)
def test_bad_arguments_raise(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        measure_latency(_Recorder(), **kwargs)


def test_callable_without_shape_and_non_callable_are_refused() -> None:
    with pytest.raises(ValueError, match="pass input_shape"):
        measure_latency(lambda batch: batch)
    with pytest.raises(TypeError, match="Keras model or a callable"):
        measure_latency(42)


def test_tensorflow_retracing_warnings_are_silenced_only_while_measuring(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tensorflow")
    before = logger.level

    class Retracing(_Recorder):
        def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
            logger.warning("5 out of the last 5 calls triggered tf.function retracing")
            return super().predict_on_batch(batch)

    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        measure_latency(Retracing(), repeats=2, warmup=1)
        assert not [r for r in caplog.records if "retracing" in r.getMessage()]
    assert logger.level == before
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning("outside a measurement")
    assert any("outside" in r.getMessage() for r in caplog.records)
