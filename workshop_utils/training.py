"""Training within the run profile's budget, with a notebook progress bar and measured throughput.

:func:`train_classifier` is what the notebooks call: it takes a model, a :class:`~workshop_utils.data.Dataset`
and the run profile from :func:`workshop_utils.settings.setup`, holds out a validation split of the training
images, trains for at most the profile's time budget, measures test accuracy once at the end, and returns a
:class:`TrainResult` with both accuracies, time, images/s and achieved GFLOP/s. The learning curves
(``history["val_*"]``) are on the validation split; the test split is touched once. The callbacks it uses are
public so a notebook can add them to its own ``fit`` call.

Example::

    run = settings.setup(seed=0)
    result = train_classifier(model, dataset, run)
    print(result.summary())
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from tqdm.keras import TqdmCallback

if TYPE_CHECKING:
    from workshop_utils.data import Dataset
    from workshop_utils.recipe import Recipe
    from workshop_utils.settings import RunProfile

# Backward pass ~ 2x forward (gradients w.r.t. activations and weights), so one training step costs ~3x the
# forward FLOPs. This is the usual estimate (e.g. Kaplan et al. 2020); it ignores optimizer and elementwise work.
TRAINING_FLOPS_PER_FORWARD_FLOP = 3


class TimeBudget(keras.callbacks.Callback):
    """A safety cap: stops ``fit`` once training has run for ``max_seconds`` of wall time.

    It is not how long models train: a comparison fixes its step count up front, and a run the cap stopped is
    *void* (``stopped_early``; :attr:`TrainResult.void`), never ranked against the others. Checked after every
    training batch.

    Example::

        model.fit(x, y, epochs=100, callbacks=[TimeBudget(50)])
    """

    def __init__(self, max_seconds: float) -> None:
        super().__init__()
        if not max_seconds > 0:
            raise ValueError(f"max_seconds must be > 0, got {max_seconds!r}.")
        self.max_seconds = float(max_seconds)
        self.stopped_early = False
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self.stopped_early = False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if time.perf_counter() - self._start >= self.max_seconds:
            self.stopped_early = True
            self.model.stop_training = True


class StepLog(keras.callbacks.Callback):
    """Counts the optimizer steps that ran and records, at each epoch's end, the step count and the seconds since
    training began: the x axes of a learning curve against steps and against time.

    Example::

        log = StepLog(); model.fit(x, y, epochs=3, callbacks=[log]); log.steps, log.epoch_steps, log.epoch_seconds
    """

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.epoch_steps: list[int] = []
        self.epoch_seconds: list[float] = []
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.steps, self.epoch_steps, self.epoch_seconds = 0, [], []
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps += 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_steps.append(self.steps)
        self.epoch_seconds.append(time.perf_counter() - self._start)


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


class ProgressBar(TqdmCallback):
    """tqdm's epoch bar for ``fit`` that leaves a readable line behind.

    In a Jupyter kernel the live bar is a widget shown under a display id; :meth:`finish` replaces it with one text
    line (epochs, seconds, validation accuracy), so a saved notebook, a deck or GitHub shows the finished run and not
    the widget's placeholder ``0epoch [00:00, ?epoch/s]``. Elsewhere (a terminal, a script) tqdm's text bar is used
    and :meth:`finish` prints the line.

    Example::

        bar = ProgressBar(); model.fit(x, y, verbose=0, callbacks=[bar]); bar.finish("3 epochs in 12.0 s")
    """

    def __init__(self) -> None:
        self._handles: list[Any] = []
        notebook_bar = _notebook_bar_class(self._handles)
        if notebook_bar is None:
            super().__init__(verbose=0, leave=True)
        else:
            super().__init__(verbose=0, leave=True, tqdm_class=notebook_bar)

    def finish(self, line: str) -> None:
        """Replace the live bar by ``line`` (in a notebook) or print ``line`` after it (elsewhere)."""
        if self._handles:
            from IPython.display import Pretty

            for handle in self._handles:
                handle.update(Pretty(line + "\n"))  # a line of its own in static views
        else:
            print(line, flush=True)


def _notebook_bar_class(handles: list[Any]) -> Any:
    """tqdm's notebook bar, displayed under a display id (appended to ``handles``); None outside a Jupyter kernel."""
    try:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
            return None
        import ipywidgets  # noqa: F401  (tqdm's notebook bar needs it)
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:
        return None

    class _Bar(notebook_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["display"] = False
            super().__init__(*args, **kwargs)
            if getattr(self, "container", None) is not None:
                handles.append(display(self.container, display_id=True))

    return _Bar


def progress_bar() -> ProgressBar:
    """A notebook progress bar for ``fit`` (tqdm's Keras callback), replacing Keras' text bar; see
    :class:`ProgressBar`.

    Example::

        model.fit(x, y, verbose=0, callbacks=[progress_bar()])
    """
    return ProgressBar()


@dataclass
class TrainResult:
    """What one training run measured.

    ``val_accuracy`` is measured on the validation split held out of the training images (the split the learning
    curves in ``history["val_*"]`` come from), after the last step; ``test_accuracy`` on the test split, once,
    after training. Compare architectures on the validation figures; quote the test figure once, at the end.
    ``steps_run`` optimizer steps ran out of the ``steps_planned`` that the run fixed before it started; a run
    that the safety cap stopped short is :attr:`void`.

    Example::

        result.summary()  # "lenet5: validation accuracy 64.0%, ... after 840 steps (6 epochs of 140) in 41.3 s ..."
    """

    name: str
    params: int
    macs: int
    val_accuracy: float
    test_accuracy: float
    train_seconds: float
    epochs_run: int
    stopped_by_budget: bool
    images_per_second: float
    gflops_per_second: float
    train_samples: int = 0
    validation_samples: int = 0
    test_samples: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    steps_run: int = 0
    steps_planned: int = 0
    steps_per_epoch: int = 0
    seed: int = 0
    epoch_steps: list[int] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def void(self) -> bool:
        """True when the safety cap stopped the run before its planned steps: its figures must not be ranked."""
        return self.stopped_by_budget or (0 < self.steps_run < self.steps_planned)

    @property
    def epochs(self) -> float:
        """Epochs that ran, partial ones included (``steps_run / steps_per_epoch``)."""
        return self.steps_run / self.steps_per_epoch if self.steps_per_epoch else float(self.epochs_run)

    @property
    def final_train_loss(self) -> float:
        """Training loss averaged over the last epoch's steps (NaN if none ran)."""
        losses = self.history.get("loss", [])
        return float(losses[-1]) if losses else float("nan")

    def ran(self) -> str:
        """What ran, as steps and epochs, e.g. ``"840 steps (6 epochs of 140)"`` or ``"90 of 840 steps (0.643 ...)"``.

        Example::

            result.ran()
        """
        epochs = f"{self.epochs:.3g} epoch{'s' if self.epochs != 1 else ''} of {self.steps_per_epoch}"
        if self.void:
            return f"{self.steps_run:,} of {self.steps_planned:,} steps ({epochs})"
        return f"{self.steps_run:,} steps ({epochs})"

    def summary(self) -> str:
        """One readable line with the figures.

        Example::

            print(result.summary())
        """
        void = " VOID: stopped by the safety time cap, not comparable" if self.void else ""
        validation = (
            f"validation accuracy {self.val_accuracy:.1%} ({self.validation_samples:,} held-out training images), "
            if self.validation_samples else ""
        )
        # Throughput leaves out the first batch (tracing), so a run stopped after one batch has no speed to report.
        speed = (
            f"{self.images_per_second:,.0f} images/s, {self.gflops_per_second:.2f} GFLOP/s achieved in training"
            if self.images_per_second > 0 else "speed not measured (only the first, tracing batch ran)"
        )
        return (
            f"{self.name}: {validation}test accuracy {self.test_accuracy:.1%} ({self.test_samples:,} test images) "
            f"after {self.ran()} in {self.train_seconds:.1f} s{void}; {speed}"
        )

    def as_row(self) -> dict[str, Any]:
        """A dict for comparison tables and :func:`workshop_utils.plots.plot_model_comparison`
        (``accuracy`` is the test accuracy; ``val_accuracy`` is there too).

        Example::

            plots.plot_model_comparison([a.as_row(), b.as_row()])
        """
        return {
            "name": self.name, "params": self.params, "macs": self.macs, "accuracy": self.test_accuracy,
            "val_accuracy": self.val_accuracy, "seconds": self.train_seconds,
            "images_per_second": self.images_per_second, "gflops_per_second": self.gflops_per_second,
            "steps": self.steps_run, "train_loss": self.final_train_loss, "void": self.void,
        }


def _scaled_images(images: np.ndarray) -> np.ndarray:
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images from a Dataset, got {images.dtype}; scale floats yourself.")
    return images.astype("float32") / 255.0


def _split_points(dataset: Dataset, run: RunProfile, validation_fraction: float) -> tuple[int, int]:
    """(first validation index, end): the training images are ``[:split]``, the validation split ``[split:end]``."""
    end = min(run.train_samples, len(dataset.x_train))
    n_val = math.ceil(validation_fraction * end) if validation_fraction else 0
    if n_val and end - n_val < 1:
        raise ValueError(f"{dataset.name} has {end} training images: too few to hold out a validation split.")
    return end - n_val, end


def validation_split(
    dataset: Dataset, run: RunProfile | None = None, validation_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """The validation images (scaled to [0, 1]) and labels that :func:`train_classifier` holds out for ``run``.

    Use it to evaluate a trained model again on the same split, e.g. after changing how it computes
    (notebook 09 changes an ODE solver's steps after training).

    Example::

        x_val, y_val = validation_split(dataset, run)
    """
    run, dataset = _checked_run(run), _checked_dataset(dataset)
    if isinstance(validation_fraction, bool) or not 0 < validation_fraction <= 0.5:
        raise ValueError(f"validation_fraction must be a number in (0, 0.5], e.g. 0.1; got {validation_fraction!r}.")
    split, end = _split_points(dataset, run, validation_fraction)
    return _scaled_images(dataset.x_train[split:end]), dataset.y_train[split:end]


def _checked_run(run: Any) -> RunProfile:
    """The run profile, or a TypeError that says what to pass."""
    from workshop_utils.settings import PROFILE_NAMES, RunProfile, get_profile

    if run is None:
        return get_profile()
    if isinstance(run, RunProfile):
        return run
    if isinstance(run, str):
        hint = (f"settings.get_profile({run!r})" if run in PROFILE_NAMES
                else f"settings.get_profile(name) with a name from {', '.join(PROFILE_NAMES)}")
        raise TypeError(
            f"train_classifier's third argument is the run profile object, not the string {run!r}: pass the `run` "
            f"that `run = settings.setup()` returned (or {hint})."
        )
    raise TypeError(
        f"train_classifier's third argument is the run profile from `run = settings.setup()`, got "
        f"{type(run).__name__}."
    )


def _checked_dataset(dataset: Any) -> Dataset:
    """The dataset, or a TypeError that says what to pass (a look-alike with the same fields is accepted)."""
    if isinstance(dataset, (tuple, list)):
        raise TypeError(
            f"train_classifier needs a Dataset (from `dataset = data.load_dataset()`), got a "
            f"{type(dataset).__name__} of {len(dataset)} items. To train on your own arrays, wrap them: "
            "data.Dataset(name, x_train, y_train, x_test, y_test, class_names) with uint8 images."
        )
    needed = ("x_train", "y_train", "x_test", "y_test", "num_classes")
    if not all(hasattr(dataset, name) for name in needed):
        raise TypeError(
            f"train_classifier needs a Dataset (from `dataset = data.load_dataset()`), got "
            f"{type(dataset).__name__}."
        )
    return dataset


def _model_classes(model: keras.Model, image_shape: tuple) -> int:
    """Units of the (first) output; a clear error for a subclassed model that was never built."""
    if not model.built:
        raise ValueError(
            f"{model.name} ({type(model).__name__}) is not built yet, so its output shape is unknown (a subclassed "
            f"model, or a Sequential without keras.Input). Call it once on a batch first, e.g. "
            f"model(keras.ops.zeros({(1, *image_shape)})), then pass it to train_classifier."
        )
    outputs = getattr(model, "outputs", None)
    if outputs:
        return int(outputs[0].shape[-1])
    spec = model.compute_output_spec(keras.KerasTensor((None, *image_shape), dtype="float32"))
    first = spec[0] if isinstance(spec, (list, tuple)) else spec
    return int(first.shape[-1])


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, outputs: int) -> float:
    """Top-1 accuracy of the (first) output on ``x``; NaN for an empty split."""
    if len(x) == 0:
        return float("nan")
    predictions = model.predict(x, batch_size=256, verbose=0)
    main_output = predictions[0] if outputs > 1 else predictions
    return float(np.mean(np.argmax(np.asarray(main_output, dtype="float32"), axis=-1) == y))


def train_classifier(
    model: keras.Model,
    dataset: Dataset,
    run: RunProfile | None = None,
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    recipe: Recipe | None = None,
    seed: int = 0,
    progress: bool | None = None,
    validation_fraction: float = 0.1,
    callbacks: list[keras.callbacks.Callback] | tuple[keras.callbacks.Callback, ...] = (),
) -> TrainResult:
    """Train ``model`` for a step count fixed before it starts; validate on held-out training images, test once.

    Of the first ``run.train_samples`` training images, the last ``validation_fraction`` are held out as the
    validation split (the splits are class-balanced, so it is too): the learning curves and
    ``TrainResult.val_accuracy`` come from it. The rest are seen in an order drawn from ``seed``
    (:class:`~workshop_utils.recipe.OrderedBatches`), the same for every model, ``epochs`` times, in full batches
    of ``run.batch_size``: so two models trained with the same arguments take the same number of optimizer steps
    on the same batches. The test split (``run.test_samples`` images) is used once, after training.

    An uncompiled model is compiled with the :class:`~workshop_utils.recipe.Recipe` (warm-up then decay over
    exactly these steps, label smoothing, Adam); a compiled one keeps its own settings (e.g. GoogLeNet's
    ``loss_weights``), so it cannot also take ``recipe`` or ``learning_rate``. Either way the recipe sets the
    batch-norm momentum. ``run.max_train_seconds`` is only a safety cap: a run it stops is marked void
    (``TrainResult.void``). Images are scaled to [0, 1] here. A model with several outputs gets the labels once
    per output; accuracy is read from the first output.

    Args:
        model: a Keras classifier whose (first) output has ``dataset.num_classes`` units; a subclassed model must
            be built.
        dataset: the data (see :func:`workshop_utils.data.load_dataset`).
        run: the run profile that ``run = settings.setup()`` returns (``None``:
            :func:`workshop_utils.settings.get_profile`).
        epochs: passes over the training images (default ``run.epochs``).
        learning_rate: the recipe's peak learning rate, if not the recipe's own.
        recipe: how to train (default ``Recipe()``).
        seed: draws the order of the training images (and the augmentation, if any).
        progress: show a progress bar and a final line (default: yes, except in the ``ci`` profile).
        validation_fraction: share of the training images held out for validation, in [0, 0.5]; 0 trains on all
            of them and records no validation curves.
        callbacks: more Keras callbacks for ``fit`` (e.g. ``compression.TiedCentroids``).

    Raises:
        TypeError: ``model`` is not a Keras model, ``run`` is not a run profile (e.g. the string ``"cpu"``), or
            ``dataset`` is not a Dataset (e.g. an ``(x, y)`` tuple).
        ValueError: a subclassed model is not built, its classes do not match the dataset's, a compiled model is
            given ``recipe`` or ``learning_rate`` (it would ignore them), or a bad number.

    Example::

        result = train_classifier(lenet5(), load_dataset(), run, epochs=3)
    """
    from workshop_utils.flops import profile as count_cost
    from workshop_utils.recipe import OrderedBatches, Recipe

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"train_classifier needs a keras.Model (e.g. keras.Model(inputs, outputs)), got {type(model).__name__}."
        )
    run = _checked_run(run)
    dataset = _checked_dataset(dataset)
    epochs = run.epochs if epochs is None else epochs
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}.")
    if isinstance(validation_fraction, bool) or not 0 <= validation_fraction <= 0.5:
        raise ValueError(f"validation_fraction must be a number in [0, 0.5], e.g. 0.1; got {validation_fraction!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}.")
    if model.compiled and (recipe is not None or learning_rate is not None):
        raise ValueError(
            f"{model.name} is already compiled, so it would train with its own optimizer and schedule and ignore "
            "recipe= / learning_rate=. (keras.models.clone_model compiles the clone like the original, schedule "
            "included.) Build the model afresh (or clone it and pass it uncompiled), or leave out recipe= and "
            "learning_rate= to keep its own settings."
        )
    recipe = Recipe() if recipe is None else recipe
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a workshop_utils.recipe.Recipe, got {type(recipe).__name__}.")
    if learning_rate is not None:
        recipe = recipe.replace(learning_rate=learning_rate)
    classes = _model_classes(model, tuple(dataset.x_train.shape[1:]))
    if classes != dataset.num_classes:
        raise ValueError(
            f"{model.name} predicts {classes} classes but {dataset.name} has {dataset.num_classes}; "
            f"build the model with classes={dataset.num_classes}."
        )

    split, end = _split_points(dataset, run, validation_fraction)
    n_val = end - split
    outputs = len(getattr(model, "outputs", None) or [None])
    batch_size = min(run.batch_size, split)
    batches = OrderedBatches(dataset.x_train[:split], dataset.y_train[:split], batch_size, seed=seed,
                             augment=recipe.augment, shift=recipe.shift, outputs=outputs)
    x_val, y_val = _scaled_images(dataset.x_train[split:end]), dataset.y_train[split:end]
    x_test = _scaled_images(dataset.x_test[: run.test_samples])
    y_test = dataset.y_test[: run.test_samples]
    as_targets = (lambda y: tuple([y] * outputs)) if outputs > 1 else (lambda y: y)
    steps_planned = epochs * len(batches)

    if model.compiled:
        recipe.prepare(model)  # its own optimizer and loss; the batch-norm rule still holds
    else:
        recipe.compile(model, total_steps=steps_planned)
    cost = count_cost(model)
    budget = TimeBudget(run.max_train_seconds)
    meter = Throughput(cost.macs, batch_size)
    log = StepLog()
    all_callbacks: list[keras.callbacks.Callback] = [budget, meter, log, *callbacks]
    bar = progress_bar() if (progress if progress is not None else run.name != "ci") else None
    if bar is not None:
        all_callbacks.append(bar)

    start = time.perf_counter()
    history = model.fit(
        batches, epochs=epochs, verbose=0, shuffle=False,
        validation_data=(x_val, as_targets(y_val)) if n_val else None, callbacks=all_callbacks,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    epochs_run = len(history.history.get("loss", []))
    val_accuracy = _accuracy(model, x_val, y_val, outputs)
    void = budget.stopped_early and log.steps < steps_planned
    if bar is not None:
        stopped = f", VOID: stopped by the {run.max_train_seconds:.0f} s safety cap" if void else ""
        validation = f"; validation accuracy {val_accuracy:.1%}" if n_val else ""
        bar.finish(f"{model.name}: {log.steps:,}/{steps_planned:,} steps in {seconds:.1f} s{stopped}{validation}")
    test_accuracy = _accuracy(model, x_test, y_test, outputs)
    return TrainResult(
        name=model.name, params=cost.params, macs=cost.macs, val_accuracy=val_accuracy,
        test_accuracy=test_accuracy, train_seconds=seconds, epochs_run=epochs_run,
        stopped_by_budget=void, images_per_second=meter.images_per_second,
        gflops_per_second=meter.gflops_per_second, train_samples=split, validation_samples=n_val,
        test_samples=len(x_test),
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
        steps_run=log.steps, steps_planned=steps_planned, steps_per_epoch=len(batches), seed=seed,
        epoch_steps=list(log.epoch_steps), epoch_seconds=list(log.epoch_seconds),
    )  # fmt: skip


def results_table(results: Mapping[str, TrainResult]) -> str:
    """The results table of training runs, one row a run: cost, steps, time, speed, training loss, accuracies.

    The one place a results table is formatted (:meth:`workshop_utils.comparison.Comparison.table` prints it). A
    run stopped by the safety cap before its planned steps is marked ``*`` and void.

    Example::

        print(results_table({"ResNet-20": resnet_result, "plain-20": plain_result}))
    """
    if not results:
        raise ValueError("results is empty: pass {name: TrainResult} for the runs to tabulate "
                         "(train_classifier returns a TrainResult).")
    header = (f"{'model':18}{'params':>9}{'MACs':>12}{'steps':>7}{'s':>6}{'images/s':>10}{'train loss':>11}"
              f"{'val.':>7}{'test':>7}")
    lines = [header, "-" * len(header)]
    for name, r in results.items():
        if not isinstance(r, TrainResult):
            raise ValueError(f"results[{name!r}] is a {type(r).__name__}, not a TrainResult: pass what "
                             f"train_classifier returned.")
        steps = f"{r.steps_run}{'*' if r.void else ''}"
        lines.append(f"{name:18}{r.params:>9,}{r.macs:>12,}{steps:>7}{r.train_seconds:>6.0f}"
                     f"{r.images_per_second:>10,.0f}{r.final_train_loss:>11.3f}{r.val_accuracy:>7.1%}"
                     f"{r.test_accuracy:>7.1%}")
    if any(r.void for r in results.values()):
        lines.append("* void: stopped by the safety cap before its steps; not ranked")
    return "\n".join(lines)
