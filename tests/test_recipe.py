"""The short-run recipe: its schedule, loss, batch-norm rule and batch order do what they say."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils.recipe import OrderedBatches, Recipe, SmoothedSparseCrossentropy


def test_schedule_warms_up_then_decays_to_the_end_fraction() -> None:
    schedule = Recipe(learning_rate=0.01, warmup_fraction=0.2, end_fraction=0.0).schedule(100)
    values = [float(schedule(step)) for step in (0, 10, 20, 60, 100)]
    assert values[0] == pytest.approx(0.0) and values[1] == pytest.approx(0.005)  # halfway up the warm-up
    assert values[2] == pytest.approx(0.01)  # the peak at the end of the warm-up
    assert values[2] > values[3] > values[4] and values[4] == pytest.approx(0.0, abs=1e-9)
    constant = Recipe(warmup_fraction=0.0, end_fraction=1.0, learning_rate=0.003).schedule(50)
    assert [float(constant(s)) for s in (0, 25, 50)] == pytest.approx([0.003] * 3)


def test_smoothed_loss_equals_keras_categorical_crossentropy_with_smoothing() -> None:
    rng = np.random.default_rng(0)
    predictions = keras.ops.softmax(keras.ops.convert_to_tensor(rng.normal(size=(6, 5)).astype("float32")))
    labels = np.array([0, 4, 2, 2, 1, 3])
    ours = float(SmoothedSparseCrossentropy(0.1)(labels, predictions))
    reference = float(keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(np.eye(5)[labels], predictions))
    assert ours == pytest.approx(reference, rel=1e-5)
    plain = float(keras.losses.SparseCategoricalCrossentropy()(labels, predictions))
    assert float(SmoothedSparseCrossentropy(0.0)(labels, predictions)) == pytest.approx(plain, rel=1e-5)


def test_prepare_sets_batchnorm_momentum_in_nested_models_too() -> None:
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    inputs = keras.Input((4,))
    outputs = keras.layers.BatchNormalization(momentum=0.5)(inner(inputs))
    model = keras.Model(inputs, outputs)
    assert Recipe(batchnorm_momentum=0.9).prepare(model) == 2
    momenta = sorted(layer.momentum for layer in [inner.layers[-1], model.layers[-1]])
    assert momenta == [0.9, 0.9]
    assert Recipe(batchnorm_momentum=None).prepare(model) == 0


def test_recipe_trains_a_model_it_compiles() -> None:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    Recipe().compile(model, total_steps=10)
    assert isinstance(model.loss, SmoothedSparseCrossentropy)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    sgd = Recipe(optimizer="sgd", weight_decay=5e-4).make_optimizer(10)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": "rmsprop"}, "optimizer"), ({"augment": "mixup"}, "augment"), ({"learning_rate": 0}, "learning_rate"),
    ({"warmup_fraction": 1.5}, "warmup_fraction"), ({"batchnorm_momentum": 1.0}, "batchnorm_momentum"),
    ({"shift": -1}, "shift"),
])
def test_bad_recipes_say_what_is_allowed(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recipe(**changes)


def batches_of(seed: int, **kwargs: object) -> list[np.ndarray]:
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1).repeat(4, axis=1).repeat(4, axis=2)
    batches = OrderedBatches(images, np.arange(10), batch_size=3, seed=seed, **kwargs)
    epochs = []
    for _ in range(2):
        epochs.append(np.concatenate([batches[i][1] for i in range(len(batches))]))
        batches.on_epoch_end()
    return epochs


def test_ordered_batches_depend_on_the_seed_alone_and_drop_the_last_partial_batch() -> None:
    first, again, other = batches_of(0), batches_of(0), batches_of(1)
    assert len(first[0]) == 9  # 10 images, batches of 3: three full batches
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # a new order each epoch
    assert not np.array_equal(first[0], other[0])


def test_ordered_batches_scale_and_flip() -> None:
    images = np.zeros((8, 2, 3, 1), dtype=np.uint8)
    images[:, :, 0] = 255  # left column white
    batches = OrderedBatches(images, np.zeros(8, dtype=int), batch_size=8, seed=0, augment="flip")
    x, _ = batches[0]
    assert x.dtype == np.float32 and x.max() == 1.0
    left_white = x[:, :, 0, 0].all(axis=1)
    right_white = x[:, :, 2, 0].all(axis=1)
    assert np.all(left_white ^ right_white) and 0 < right_white.sum() < 8  # some flipped, some not


def test_ordered_batches_refuse_floats_and_too_few_images() -> None:
    with pytest.raises(TypeError, match="uint8"):
        OrderedBatches(np.zeros((4, 2, 2, 1), "float32"), np.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="fewer than one batch"):
        OrderedBatches(np.zeros((4, 2, 2, 1), np.uint8), np.zeros(4), batch_size=8)
