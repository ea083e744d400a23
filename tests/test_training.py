"""train_classifier and its callbacks: budgets respected, throughput consistent, bad input refused."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from workshop_utils.data import Dataset
from workshop_utils.settings import get_profile
from workshop_utils.training import (
    TRAINING_FLOPS_PER_FORWARD_FLOP,
    Throughput,
    TimeBudget,
    TrainResult,
    train_classifier,
    validation_split,
)


def quadrant_dataset(train: int = 384, test: int = 128, seed: int = 0) -> Dataset:
    """Four classes: which quadrant of the image is bright. Easy enough to learn in one short epoch."""
    rng = np.random.default_rng(seed)

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 4, count)
        images = rng.integers(0, 60, (count, 32, 32, 3)).astype(np.uint8)
        for index, label in enumerate(labels):
            row, col = divmod(int(label), 2)
            images[index, row * 16:(row + 1) * 16, col * 16:(col + 1) * 16] += 150
        return images, labels.astype(np.int64)

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    classes = ("top-left", "top-right", "bottom-left", "bottom-right")
    return Dataset("quadrants", x_train, y_train, x_test, y_test, classes)


def small_cnn(classes: int = 4, name: str = "small_cnn") -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)  # keeps where things are: the label is a position
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return quadrant_dataset()


def test_trains_above_chance_and_reports_consistent_figures(data: Dataset) -> None:
    keras.utils.set_random_seed(0)
    run = get_profile("ci").scaled(epochs=3, batch_size=32)
    result = train_classifier(small_cnn(), data, run, progress=False, learning_rate=1e-2)
    assert result.test_accuracy > 0.5 and result.val_accuracy > 0.5  # chance is 0.25
    assert result.epochs_run == 3 and not result.stopped_by_budget
    assert result.params == small_cnn().count_params()
    assert result.macs == 15 * 15 * 3 * 3 * 3 * 8 + 15 * 15 * 8 * 4  # conv + dense, hand-computed
    expected_gflops = result.images_per_second * TRAINING_FLOPS_PER_FORWARD_FLOP * 2 * result.macs / 1e9
    assert result.images_per_second > 0 and result.gflops_per_second == pytest.approx(expected_gflops)
    assert len(result.history["val_accuracy"]) == 3
    summary = result.summary()
    assert "validation accuracy" in summary and "test accuracy" in summary
    assert result.as_row()["accuracy"] == result.test_accuracy
    assert result.as_row()["val_accuracy"] == result.val_accuracy


def test_validation_split_is_the_split_train_classifier_validates_on(data: Dataset) -> None:
    keras.utils.set_random_seed(0)
    run = get_profile("ci").scaled(epochs=1, batch_size=32)
    model = small_cnn()
    result = train_classifier(model, data, run, progress=False, validation_fraction=0.25)
    x_val, y_val = validation_split(data, run, validation_fraction=0.25)
    assert len(x_val) == result.validation_samples == 96 and x_val.dtype == np.float32 and x_val.max() <= 1.0
    accuracy = float(np.mean(np.argmax(model.predict(x_val, verbose=0), axis=-1) == y_val))
    assert accuracy == pytest.approx(result.val_accuracy)
    with pytest.raises(ValueError, match="validation_fraction"):
        validation_split(data, run, validation_fraction=0)


def test_summary_says_when_no_speed_was_measured() -> None:
    result = TrainResult(name="deep", params=1, macs=1, val_accuracy=0.1, test_accuracy=0.1, train_seconds=60.0,
                         epochs_run=1, stopped_by_budget=True, images_per_second=0.0, gflops_per_second=0.0)
    assert "speed not measured" in result.summary() and "0 images/s" not in result.summary()


def test_validation_is_held_out_of_the_training_images_not_the_test_split(data: Dataset) -> None:
    keras.utils.set_random_seed(0)
    run = get_profile("ci").scaled(epochs=2, batch_size=32)
    result = train_classifier(small_cnn(), data, run, progress=False, validation_fraction=0.25)
    assert (result.train_samples, result.validation_samples) == (288, 96)  # 384 training images, a quarter held out
    assert result.test_samples == len(data.x_test) == 128
    # The last epoch's curve point is the validation accuracy, measured on the 96 held-out images: a multiple of
    # 1/96, which no accuracy on the 128 test images is unless it is also a multiple of 1/32.
    assert result.history["val_accuracy"][-1] == pytest.approx(result.val_accuracy, abs=1e-6)
    assert round(result.val_accuracy * 96, 6) == round(result.val_accuracy * 96)
    # A test split that the model gets all wrong cannot change the validation figures.
    flipped = Dataset("flipped", data.x_train, data.y_train, data.x_test, (data.y_test + 1) % 4, data.class_names)
    keras.utils.set_random_seed(0)
    again = train_classifier(small_cnn(), flipped, run, progress=False, validation_fraction=0.25)
    assert again.history["val_accuracy"] == pytest.approx(result.history["val_accuracy"], abs=1e-6)
    assert again.test_accuracy != pytest.approx(result.test_accuracy)


def test_no_validation_split_when_fraction_is_zero(data: Dataset) -> None:
    result = train_classifier(small_cnn(), data, get_profile("ci"), progress=False, validation_fraction=0)
    assert "val_accuracy" not in result.history and result.validation_samples == 0
    assert "validation" not in result.summary() and result.train_samples == len(data.x_train)
    with pytest.raises(ValueError, match=r"validation_fraction.*\[0, 0\.5\]"):
        train_classifier(small_cnn(), data, get_profile("ci"), progress=False, validation_fraction=0.9)


def test_progress_line_reports_the_finished_run(data: Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    train_classifier(small_cnn(name="bar_test"), data, get_profile("ci"), progress=True)
    out = capsys.readouterr().out
    assert out.startswith("bar_test: 5/5 steps in ") and "validation accuracy" in out  # 345 images // 64


def test_the_safety_cap_voids_a_run_it_stops(data: Dataset) -> None:
    run = get_profile("ci").scaled(epochs=50, batch_size=16, max_train_seconds=0.001)
    result = train_classifier(small_cnn(), data, run, progress=False, validation_fraction=0)
    assert result.void and result.stopped_by_budget
    assert result.steps_run < result.steps_planned == 50 * (384 // 16)
    assert "VOID" in result.summary() and f"{result.steps_run} of 1,200 steps" in result.summary()


def test_time_budget_is_a_plain_cap() -> None:
    budget = TimeBudget(max_seconds=10.0)
    model = small_cnn()
    model.stop_training = False  # fit sets this; the test drives the callback by hand
    budget.set_model(model)
    budget.on_train_begin()
    budget.on_train_batch_end(0)
    assert not budget.model.stop_training and not budget.stopped_early
    budget._start -= 10.0  # ten seconds later
    budget.on_train_batch_end(1)
    assert budget.model.stop_training and budget.stopped_early


def test_equal_steps_same_batches_and_a_rerun_gives_the_same_numbers(data: Dataset) -> None:
    run = get_profile("ci").scaled(epochs=2, batch_size=32)
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        results.append(train_classifier(small_cnn(), data, run, progress=False, seed=3))
    first, second = results
    assert first.steps_run == second.steps_run == first.steps_planned == 2 * (345 // 32)  # full batches only
    assert first.steps_per_epoch == 10 and first.epochs == 2.0 and first.epoch_steps == [10, 20]
    assert first.history == second.history and first.val_accuracy == second.val_accuracy
    keras.utils.set_random_seed(0)
    other_order = train_classifier(small_cnn(), data, run, progress=False, seed=4)
    assert other_order.history["loss"] != first.history["loss"]  # another seed draws another order


def test_time_budget_callback_rejects_nonpositive_budget() -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        TimeBudget(0)


def test_throughput_skips_the_tracing_batch() -> None:
    meter = Throughput(forward_macs=1_000_000, batch_size=10)
    meter.on_train_begin()
    for batch in range(3):
        meter.on_train_batch_begin(batch)
        meter.on_train_batch_end(batch)
    assert meter.images == 20  # first batch left out
    assert meter.images_per_second > 0
    assert meter.gflops_per_second == pytest.approx(meter.images_per_second * 6e6 / 1e9)


def test_multi_output_model_gets_labels_per_output(data: Dataset) -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    features = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, strides=2)(inputs))
    main = keras.layers.Dense(4, activation="softmax", name="main")(features)
    aux = keras.layers.Dense(4, activation="softmax", name="aux")(features)
    model = keras.Model(inputs, [main, aux])
    model.compile(keras.optimizers.Adam(1e-2), loss=["sparse_categorical_crossentropy"] * 2, loss_weights=[1.0, 0.3])
    run = get_profile("ci").scaled(epochs=3, batch_size=32)
    result = train_classifier(model, data, run, progress=False)
    assert result.epochs_run == 3 and result.test_accuracy > 0.5  # read from the main output; chance is 0.25


def test_class_count_mismatch_is_explained(data: Dataset) -> None:
    with pytest.raises(ValueError, match="classes=4"):
        train_classifier(small_cnn(classes=10), data, get_profile("ci"), progress=False)


def test_non_model_is_refused(data: Dataset) -> None:
    with pytest.raises(TypeError, match="keras.Model"):
        train_classifier("lenet", data, get_profile("ci"))  # type: ignore[arg-type]


def test_a_profile_name_instead_of_the_run_profile_says_what_to_pass(data: Dataset) -> None:
    with pytest.raises(TypeError, match=r"not the string 'cpu'.*run = settings\.setup\(\).*get_profile\('cpu'\)"):
        train_classifier(small_cnn(), data, "cpu")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"run profile from `run = settings\.setup\(\)`, got int"):
        train_classifier(small_cnn(), data, 3)  # type: ignore[arg-type]


def test_an_x_y_tuple_instead_of_a_dataset_says_what_to_pass(data: Dataset) -> None:
    with pytest.raises(TypeError, match=r"needs a Dataset.*tuple of 2 items.*data\.Dataset\(name, x_train"):
        train_classifier(small_cnn(), (data.x_train, data.y_train), get_profile("ci"))  # type: ignore[arg-type]


class TinySubclassed(keras.Model):
    def __init__(self) -> None:
        super().__init__(name="tiny_subclassed")
        self.flatten = keras.layers.Flatten()
        self.head = keras.layers.Dense(4, activation="softmax")

    def call(self, x):
        return self.head(self.flatten(x))


def test_subclassed_model_must_be_built_and_then_trains(data: Dataset) -> None:
    model = TinySubclassed()
    with pytest.raises(ValueError, match=r"not built yet.*model\(keras\.ops\.zeros\(\(1, 32, 32, 3\)\)\)"):
        train_classifier(model, data, get_profile("ci"), progress=False)
    model(keras.ops.zeros((1, 32, 32, 3)))
    result = train_classifier(model, data, get_profile("ci"), progress=False)
    assert result.epochs_run == 1 and result.params == model.count_params() == 32 * 32 * 3 * 4 + 4


def test_float_images_are_refused_rather_than_scaled_twice(data: Dataset) -> None:
    # Dataset itself refuses floats; a look-alike object (e.g. an attendee's own namespace) reaches this check.
    floats = SimpleNamespace(name="f", x_train=data.x_train.astype("float32"), y_train=data.y_train,
                             x_test=data.x_test.astype("float32"), y_test=data.y_test, num_classes=4)
    with pytest.raises(TypeError, match="uint8"):
        train_classifier(small_cnn(), floats, get_profile("ci"), progress=False)


def test_compiled_model_refuses_a_recipe_it_would_ignore(data: Dataset) -> None:
    # keras.models.clone_model compiles the clone with a fresh copy of the original's optimizer and schedule: a
    # fine-tune of such a clone at a small learning rate would silently run the original's warm-up again.
    from workshop_utils.recipe import Recipe

    original = small_cnn()
    Recipe().compile(original, total_steps=100)
    clone = keras.models.clone_model(original)
    assert clone.compiled
    with pytest.raises(ValueError, match="already compiled.*clone_model"):
        train_classifier(clone, data, get_profile("ci"), progress=False, recipe=Recipe(learning_rate=1e-4))
    with pytest.raises(ValueError, match="already compiled"):
        train_classifier(clone, data, get_profile("ci"), progress=False, learning_rate=1e-4)
    result = train_classifier(clone, data, get_profile("ci"), progress=False)  # its own settings, as documented
    assert result.steps_run == result.steps_planned
