"""Training within the run profile's budget, with a notebook progress bar and measured throughput.

:func:`train_classifier` is what the notebooks call: it takes a model, a :class:`~workshop_utils.data.Dataset`
and a :class:`~workshop_utils.settings.RunProfile`, trains for at most the profile's time budget and returns a
:class:`TrainResult` with accuracy, time, images/s and achieved GFLOP/s. The callbacks it uses are public so a
notebook can add them to its own ``fit`` call.

Example::

    result = train_classifier(model, dataset, profile)
    print(result.summary())
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import keras

if TYPE_CHECKING:
    from workshop_utils.data import Dataset
    from workshop_utils.settings import RunProfile

# Backward pass ~ 2x forward (gradients w.r.t. activations and weights), so one training step costs ~3x the
# forward FLOPs. This is the usual estimate (e.g. Kaplan et al. 2020); it ignores optimizer and elementwise work.
TRAINING_FLOPS_PER_FORWARD_FLOP = 3


class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` so that training, validation included, ends within ``max_seconds`` of wall time.

    Checked after every training batch. The validation pass at the end of an epoch cannot be interrupted, so the
    callback remembers how long the last one took and stops early enough to leave room for it.
    ``stopped_early`` tells afterwards whether the budget, not the epoch count, ended training.

    Example::

        model.fit(x, y, epochs=100, callbacks=[TimeBudget(50)])
    """

    def __init__(self, max_seconds: float) -> None:
        super().__init__()
        if not max_seconds > 0:
            raise ValueError(f"max_seconds must be > 0, got {max_seconds!r}.")
        self.max_seconds = float(max_seconds)
        self.stopped_early = False
        self.validation_seconds = 0.0  # duration of the latest validation pass inside fit
        self._start = 0.0
        self._validation_start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self.stopped_early = False
        self.validation_seconds = 0.0

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._validation_start = time.perf_counter()

    def on_test_end(self, logs: dict | None = None) -> None:
        self.validation_seconds = time.perf_counter() - self._validation_start

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        elapsed = time.perf_counter() - self._start
        if elapsed + self.validation_seconds >= self.max_seconds:
            self.stopped_early = True
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Measures training images/s and achieved GFLOP/s.

    The first batch is left out of the measurement: it includes graph tracing (4-17 s on a laptop CPU), which says
    nothing about the model's speed. GFLOP/s counts ``3 x`` the forward FLOPs per image (forward + backward), from
    :func:`workshop_utils.flops.profile`.

    Example::

        meter = Throughput(forward_macs=profile(model).macs, batch_size=128)
        model.fit(x, y, batch_size=128, callbacks=[meter]); print(meter.images_per_second)
    """

    def __init__(self, forward_macs: int, batch_size: int) -> None:
        super().__init__()
        if forward_macs < 0 or batch_size <= 0:
            raise ValueError("forward_macs must be >= 0 and batch_size > 0.")
        self.forward_macs = int(forward_macs)
        self.batch_size = int(batch_size)
        self.images = 0
        self.seconds = 0.0
        self._batch_start = 0.0
        self._batches_seen = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.images, self.seconds, self._batches_seen = 0, 0.0, 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batches_seen += 1
        if self._batches_seen == 1:
            return  # tracing/compilation happens in the first batch
        self.seconds += time.perf_counter() - self._batch_start
        self.images += self.batch_size  # the last batch may be smaller: error < 1 batch in the total

    @property
    def images_per_second(self) -> float:
        """Steady-state training throughput (0.0 before two batches have run)."""
        return self.images / self.seconds if self.seconds > 0 else 0.0

    @property
    def gflops_per_second(self) -> float:
        """Achieved training GFLOP/s: images/s x 3 x forward FLOPs (FLOPs = 2 x MACs)."""
        flops_per_image = TRAINING_FLOPS_PER_FORWARD_FLOP * 2 * self.forward_macs
        return self.images_per_second * flops_per_image / 1e9


def progress_bar() -> Any:
    """A notebook progress bar for ``fit`` (tqdm's Keras callback), replacing Keras' text bar.

    Example::

        model.fit(x, y, verbose=0, callbacks=[progress_bar()])
    """
    from tqdm.keras import TqdmCallback

    return TqdmCallback(verbose=0, leave=True)


@dataclass
class TrainResult:
    """What one training run measured.

    Example::

        result.summary()  # "lenet5: test accuracy 61.2% after 6 epochs in 41.3 s ..."
    """

    name: str
    params: int
    macs: int
    test_accuracy: float
    train_seconds: float
    epochs_run: int
    stopped_by_budget: bool
    images_per_second: float
    gflops_per_second: float
    history: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> str:
        """One readable line with the figures."""
        budget = " (stopped by the time budget)" if self.stopped_by_budget else ""
        return (
            f"{self.name}: test accuracy {self.test_accuracy:.1%} after {self.epochs_run} epoch(s) in "
            f"{self.train_seconds:.1f} s{budget}; {self.images_per_second:,.0f} images/s, "
            f"{self.gflops_per_second:.2f} GFLOP/s achieved in training"
        )

    def as_row(self) -> dict[str, Any]:
        """A dict for comparison tables and :func:`workshop_utils.plots.plot_model_comparison`."""
        return {
            "name": self.name, "params": self.params, "macs": self.macs, "accuracy": self.test_accuracy,
            "seconds": self.train_seconds, "images_per_second": self.images_per_second,
            "gflops_per_second": self.gflops_per_second,
        }


def _scaled_images(images: np.ndarray) -> np.ndarray:
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images from a Dataset, got {images.dtype}; scale floats yourself.")
    return images.astype("float32") / 255.0


def train_classifier(
    model: keras.Model,
    dataset: Dataset,
    profile: RunProfile | None = None,
    *,
    epochs: int | None = None,
    learning_rate: float = 1e-3,
    progress: bool | None = None,
    validation: bool = True,
) -> TrainResult:
    """Train ``model`` on ``dataset`` within ``profile``'s size and time budget, then measure test accuracy.

    Images are scaled to [0, 1] here, so models take float inputs in that range. An uncompiled model is compiled
    with Adam and sparse categorical cross-entropy; a compiled one keeps its own settings (e.g. GoogLeNet's
    ``loss_weights``). A model with several outputs gets the labels once per output; accuracy is read from the
    first output.

    Args:
        model: a Keras classifier whose (first) output has ``dataset.num_classes`` units.
        dataset: the data (see :func:`workshop_utils.data.load_dataset`).
        profile: the run profile (``None``: :func:`workshop_utils.settings.get_profile`).
        epochs: overrides ``profile.epochs``.
        learning_rate: Adam's learning rate when this function compiles the model.
        progress: show a progress bar (default: yes, except in the ``ci`` profile).
        validation: evaluate on the test split after every epoch (for learning curves).

    Example::

        result = train_classifier(lenet5(), load_dataset(), get_profile("cpu"))
    """
    from workshop_utils.flops import profile as count_cost
    from workshop_utils.settings import get_profile

    if not isinstance(model, keras.Model):
        raise TypeError(f"train_classifier needs a keras.Model, got {type(model).__name__}.")
    profile = profile or get_profile()
    epochs = profile.epochs if epochs is None else epochs
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    classes = int(model.outputs[0].shape[-1])
    if classes != dataset.num_classes:
        raise ValueError(
            f"{model.name} predicts {classes} classes but {dataset.name} has {dataset.num_classes}; "
            f"build the model with classes={dataset.num_classes}."
        )

    x_train = _scaled_images(dataset.x_train[: profile.train_samples])
    y_train = dataset.y_train[: profile.train_samples]
    x_test = _scaled_images(dataset.x_test[: profile.test_samples])
    y_test = dataset.y_test[: profile.test_samples]
    outputs = len(model.outputs)
    as_targets = (lambda y: tuple([y] * outputs)) if outputs > 1 else (lambda y: y)

    if not model.compiled:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    cost = count_cost(model)
    budget = TimeBudget(profile.max_train_seconds)
    meter = Throughput(cost.macs, profile.batch_size)
    callbacks = [budget, meter]
    if progress if progress is not None else profile.name != "ci":
        callbacks.append(progress_bar())

    start = time.perf_counter()
    history = model.fit(
        x_train, as_targets(y_train), batch_size=profile.batch_size, epochs=epochs, verbose=0,
        validation_data=(x_test, as_targets(y_test)) if validation else None, callbacks=callbacks,
    )
    seconds = time.perf_counter() - start

    predictions = model.predict(x_test, batch_size=256, verbose=0)
    main_output = predictions[0] if outputs > 1 else predictions
    probabilities = np.asarray(main_output, dtype="float32")
    accuracy = float(np.mean(np.argmax(probabilities, axis=-1) == y_test))
    return TrainResult(
        name=model.name, params=cost.params, macs=cost.macs, test_accuracy=accuracy,
        train_seconds=seconds, epochs_run=len(history.history.get("loss", [])),
        stopped_by_budget=budget.stopped_early, images_per_second=meter.images_per_second,
        gflops_per_second=meter.gflops_per_second,
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
    )
