"""The short-run training recipe: what gets a small net close to what it can reach in a few hundred steps.

Every comparison in the workshop trains its models with one :class:`Recipe`, for a step count fixed before
training starts (see :mod:`workshop_utils.comparison`). The choices come from the fast CIFAR-10 recipes (Page's
"How to train your ResNet", 2018; Keller Jordan's airbench, 2024), kept where they transfer to Keras on a laptop
CPU, and each one is measured by ``benchmarks/bench_recipe.py``:

* a learning rate that warms up linearly, then decays to zero by the last step (Keras' ``CosineDecay`` with
  warm-up), so the run ends on settled weights instead of a snapshot mid-climb;
* label smoothing (0.1), so the loss stops pushing confident logits once the class is right;
* batch-norm moving statistics that follow a few hundred steps: momentum 0.9 (Keras' default 0.99 averages over
  ~100 steps, longer than the weights stay put in a one-minute run, so inference used stale statistics);
* optional flip-and-shift augmentation, drawn from the run's seed.

Example::

    recipe = Recipe()
    model = recipe.compile(model, total_steps=600)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import keras
import numpy as np

OPTIMIZERS = ("adam", "sgd")
AUGMENTATIONS = ("none", "flip", "flip+shift")


@keras.saving.register_keras_serializable(package="workshop_utils")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing: the target puts ``1 - smoothing`` on the true class
    and spreads ``smoothing`` evenly over all classes (Szegedy et al. 2016, section 7).

    Keras' ``SparseCategoricalCrossentropy`` has no smoothing option; this is ``CategoricalCrossentropy(
    label_smoothing=...)`` on one-hot labels, without materialising them in the dataset.

    Example::

        model.compile("adam", loss=SmoothedSparseCrossentropy(0.1), metrics=["accuracy"])
    """

    def __init__(self, smoothing: float = 0.1, name: str = "smoothed_sparse_crossentropy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if isinstance(smoothing, bool) or not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be a number in [0, 1), e.g. 0.1; got {smoothing!r}.")
        self.smoothing = float(smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        classes = keras.ops.shape(y_pred)[-1]
        labels = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        targets = keras.ops.one_hot(labels, classes, dtype=y_pred.dtype)
        targets = targets * (1.0 - self.smoothing) + self.smoothing / keras.ops.cast(classes, y_pred.dtype)
        return keras.losses.categorical_crossentropy(targets, y_pred)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "smoothing": self.smoothing}


@dataclass(frozen=True)
class Recipe:
    """How every model in a comparison is trained (besides the step count, which the comparison fixes).

    Attributes:
        optimizer: ``"adam"`` or ``"sgd"`` (Nesterov momentum 0.9).
        learning_rate: the peak learning rate, reached after the warm-up.
        warmup_fraction: share of the steps spent rising linearly from 0 to the peak.
        end_fraction: the final learning rate as a share of the peak (0: decays to zero; 1 with no warm-up: a
            constant learning rate, the old way, for ablations).
        label_smoothing: see :class:`SmoothedSparseCrossentropy`; 0 turns it off.
        batchnorm_momentum: set on every ``BatchNormalization`` layer before training; ``None`` keeps the layers'
            own (Keras' default is 0.99).
        augment: ``"none"``, ``"flip"`` (horizontal) or ``"flip+shift"`` (also a random shift of up to
            ``shift`` pixels, the border filled by reflection).
        shift: largest shift in pixels for ``"flip+shift"``.
        weight_decay: decoupled weight decay (AdamW / SGDW); 0 turns it off.

    Example::

        Recipe().describe()  # "Adam, peak lr 0.003 after a 15% warm-up, cosine decay to 0, ..."
    """

    optimizer: str = "adam"
    learning_rate: float = 3e-3
    warmup_fraction: float = 0.15
    end_fraction: float = 0.0
    label_smoothing: float = 0.1
    batchnorm_momentum: float | None = 0.9
    augment: str = "none"
    shift: int = 2
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}.")
        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"augment must be one of {AUGMENTATIONS}; got {self.augment!r}.")
        checks = (("learning_rate", self.learning_rate, 0, None), ("warmup_fraction", self.warmup_fraction, 0, 1),
                  ("end_fraction", self.end_fraction, 0, 1.0001), ("label_smoothing", self.label_smoothing, 0, 1),
                  ("weight_decay", self.weight_decay, 0, None))
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (
                    high is not None and value >= high) or (name == "learning_rate" and value == 0):
                allowed = f"in [{low}, {high})" if high is not None else f"> {low}" if name == "learning_rate" \
                    else f">= {low}"
                raise ValueError(f"Recipe.{name} must be a number {allowed}; got {value!r}.")
        if self.batchnorm_momentum is not None and not 0 <= self.batchnorm_momentum < 1:
            raise ValueError(f"batchnorm_momentum must be in [0, 1) or None; got {self.batchnorm_momentum!r}.")
        if isinstance(self.shift, bool) or not isinstance(self.shift, int) or self.shift < 0:
            raise ValueError(f"shift must be an int >= 0 (pixels); got {self.shift!r}.")

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed.

        Example::

            Recipe().replace(learning_rate=1e-3)
        """
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for a notebook or a benchmark.

        Example::

            print(Recipe().describe())
        """
        parts = [f"{'Adam' if self.optimizer == 'adam' else 'SGD (Nesterov 0.9)'}, peak lr {self.learning_rate:g} "
                 f"after a {self.warmup_fraction:.0%} warm-up, cosine decay to {self.end_fraction:g} x peak"]
        parts.append(f"label smoothing {self.label_smoothing:g}" if self.label_smoothing else "no label smoothing")
        parts.append(f"BN momentum {self.batchnorm_momentum:g}" if self.batchnorm_momentum is not None
                     else "BN momentum as built")
        if self.augment != "none":
            parts.append(self.augment + (f" ({self.shift} px)" if "shift" in self.augment else ""))
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        return ", ".join(parts)

    def schedule(self, total_steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
        """Linear warm-up from 0 to the peak, then cosine decay to ``end_fraction`` x peak at ``total_steps``.

        Example::

            lr = Recipe().schedule(600); float(lr(0)), float(lr(600))  # (0.0, 0.0)
        """
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps must be an int >= 1; got {total_steps!r}.")
        warmup = int(round(self.warmup_fraction * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0, warmup_target=self.learning_rate, warmup_steps=warmup,
            decay_steps=max(1, total_steps - warmup), alpha=self.end_fraction)

    def make_optimizer(self, total_steps: int) -> keras.optimizers.Optimizer:
        """The optimizer with this recipe's schedule over ``total_steps``.

        Example::

            model.compile(Recipe().make_optimizer(600), ...)
        """
        schedule = self.schedule(total_steps)
        decay = self.weight_decay or None
        if self.optimizer == "adam":
            return keras.optimizers.AdamW(schedule, weight_decay=decay) if decay else keras.optimizers.Adam(schedule)
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=decay)

    def loss(self) -> keras.losses.Loss:
        """The training loss: cross-entropy on integer labels, smoothed if the recipe says so.

        Example::

            Recipe(label_smoothing=0).loss()  # plain sparse categorical cross-entropy
        """
        if self.label_smoothing:
            return SmoothedSparseCrossentropy(self.label_smoothing)
        return keras.losses.SparseCategoricalCrossentropy()

    def compile(self, model: keras.Model, total_steps: int) -> keras.Model:
        """Compile ``model`` with this recipe for a run of ``total_steps`` (and set its BN momentum); returns it.

        Example::

            Recipe().compile(model, total_steps=600)
        """
        self.prepare(model)
        model.compile(optimizer=self.make_optimizer(total_steps), loss=self.loss(),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        return model

    def prepare(self, model: keras.Model) -> int:
        """Set every BatchNormalization layer's momentum (nested models included); returns how many changed.

        Call before the first training step: a traced training function keeps the momentum it was traced with.

        Example::

            Recipe().prepare(model)  # e.g. 19 layers set to momentum 0.9
        """
        if self.batchnorm_momentum is None:
            return 0
        changed = 0
        for layer in _all_layers(model):
            if isinstance(layer, keras.layers.BatchNormalization) and layer.momentum != self.batchnorm_momentum:
                layer.momentum = self.batchnorm_momentum
                changed += 1
        return changed


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer inside ``model``, nested models and layers with sublayers included."""
    from workshop_utils._keras_internals import direct_sublayers

    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(direct_sublayers(layer))
    return found


class OrderedBatches(keras.utils.PyDataset):
    """Training batches in an order drawn from ``seed``: the same for every model and every backend.

    Each epoch is a fresh permutation (from ``numpy.random.default_rng((seed, epoch))``); the incomplete last batch
    is dropped so every step sees ``batch_size`` images and nothing is traced twice. Images are scaled to [0, 1]
    per batch (uint8 in, float32 out), and augmented if the recipe asks.

    Example::

        batches = OrderedBatches(x_uint8, y, batch_size=128, seed=0)
        model.fit(batches, epochs=3)
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0,
                 augment: str = "none", shift: int = 2, outputs: int = 1) -> None:
        super().__init__()
        if images.dtype != np.uint8:
            raise TypeError(f"OrderedBatches takes uint8 images (a Dataset's), got {images.dtype}.")
        if len(images) < batch_size:
            raise ValueError(f"{len(images)} training images are fewer than one batch of {batch_size}: lower the "
                             "batch size or use more images.")
        if augment not in AUGMENTATIONS:
            raise ValueError(f"augment must be one of {AUGMENTATIONS}; got {augment!r}.")
        self.images, self.labels = images, labels
        self.batch_size, self.seed, self.augment, self.shift, self.outputs = batch_size, seed, augment, shift, outputs
        self.epoch = 0
        self._order = self._permutation()

    def _permutation(self) -> np.ndarray:
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, Any]:
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.images[rows].astype("float32") / 255.0
        if self.augment != "none":
            x = _augment(x, np.random.default_rng((self.seed, self.epoch, index, 1)), self.augment, self.shift)
        y = self.labels[rows]
        return x, (tuple([y] * self.outputs) if self.outputs > 1 else y)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._permutation()


def _augment(x: np.ndarray, rng: np.random.Generator, augment: str, shift: int) -> np.ndarray:
    """Random horizontal flips, and for ``flip+shift`` random shifts with reflected borders."""
    flip = rng.random(len(x)) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    if augment == "flip+shift" and shift:
        padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
        dy, dx = rng.integers(0, 2 * shift + 1, (2, len(x)))
        height, width = x.shape[1:3]
        x = np.stack([padded[i, dy[i]:dy[i] + height, dx[i]:dx[i] + width] for i in range(len(x))])
    return x
