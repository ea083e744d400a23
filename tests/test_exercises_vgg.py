"""The VGG-block checker passes right answers and gives the right hint for plausible wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import keras
import pytest
from keras import layers

from workshop_utils.exercises import FAIL_PREFIX, PASS_PREFIX
from workshop_utils.exercises import vgg as vgg_exercise
from workshop_utils.exercises.vgg import (
    KERAS_VGG16_PARAMS,
    CheckResult,
    build_vgg16,
    check_vgg_block,
    reference_from_model,
    reference_vgg_block,
)


@pytest.fixture(autouse=True)
def shared_vgg16(keras_vgg16: keras.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker reads Keras' VGG-16 from the session's one build (conftest.py), not from a second one."""
    reference = reference_from_model(keras_vgg16)
    monkeypatch.setattr(vgg_exercise, "keras_vgg16_reference", lambda: reference)


def solution(x, filters, convs, name=None, batch_norm=False):
    for index in range(1, convs + 1):
        conv_name = f"{name}_conv{index}" if name else None
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=conv_name)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=conv_name)(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool" if name else None)(x)


def separate_relu_layers(x, filters, convs, **options):
    """Same block written with ReLU layers, keyword arguments and **options: must pass too."""
    name = options.get("name")
    for index in range(convs):
        conv = layers.Conv2D(filters=filters, kernel_size=(3, 3), padding="same",
                             use_bias=not options.get("batch_norm"), name=name and f"{name}_conv{index + 1}")(x)
        x = layers.ReLU()(layers.BatchNormalization()(conv) if options.get("batch_norm") else conv)
    return layers.MaxPooling2D(pool_size=(2, 2), name=name and f"{name}_pool")(x)


def paper_block_only(x, filters, convs):
    """Right block, but without the keywords the rest of notebook 02 passes."""
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2, strides=2)(x)


def names_ignored(x, filters, convs, name=None, batch_norm=False):
    return solution(x, filters, convs, batch_norm=batch_norm)


def names_from_zero(x, filters, convs, name=None, batch_norm=False):
    for index in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=name and f"{name}_conv{index}")(x)
    return layers.MaxPooling2D(2, strides=2, name=name and f"{name}_pool")(x)


def batch_norm_ignored(x, filters, convs, name=None, batch_norm=False):
    return solution(x, filters, convs, name=name)


def batch_norm_with_bias(x, filters, convs, name=None, batch_norm=False):
    for index in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", name=name and f"{name}_conv{index + 1}")(x)
        x = layers.ReLU()(layers.BatchNormalization()(x)) if batch_norm else layers.ReLU()(x)
    return layers.MaxPooling2D(2, strides=2, name=name and f"{name}_pool")(x)


def batch_norm_after_relu(x, filters, convs, name=None, batch_norm=False):
    for index in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", use_bias=not batch_norm,
                          name=name and f"{name}_conv{index + 1}")(x)
        x = layers.BatchNormalization()(x) if batch_norm else x
    return layers.MaxPooling2D(2, strides=2, name=name and f"{name}_pool")(x)


def stub(x, filters, convs):
    raise NotImplementedError


def missing_pooling(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def pooling_per_conv(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    return x


def valid_padding(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def no_bias(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", use_bias=False)(x)
    return layers.MaxPooling2D(2)(x)


def no_activation(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same")(x)
    return layers.MaxPooling2D(2)(x)


def sigmoid_activation(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="sigmoid")(x)
    return layers.MaxPooling2D(2)(x)


def relu_on_last_only(x, filters, convs):
    for index in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu" if index == convs - 1 else None)(x)
    return layers.MaxPooling2D(2)(x)


def average_pooling(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.AveragePooling2D(2)(x)


def two_convs_always(x, filters, convs):
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def five_by_five(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 5, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def with_batch_norm(x, filters, convs):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    return layers.MaxPooling2D(2)(x)


def returns_nothing(x, filters, convs):
    layers.Conv2D(filters, 3, padding="same", activation="relu")(x)


def unchained_convs(x, filters, convs):
    """Every conv reads the block input: only the last one ends up in the block."""
    outputs = [layers.Conv2D(filters, 3, padding="same", activation="relu")(x) for _ in range(convs)]
    return layers.MaxPooling2D(2)(outputs[-1])


def relu_before_conv(x, filters, convs):
    """Pre-activation order (right shapes and layers, wrong numbers)."""
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same")(layers.ReLU()(x))
    return layers.MaxPooling2D(2)(x)


@pytest.mark.parametrize(
    ("wrong", "mistake", "hint"),
    [
        (stub, "not_written", "Not written yet"),
        (missing_pooling, "no_pooling", "No pooling"),
        (pooling_per_conv, "pool_per_conv", "not after every conv"),
        (valid_padding, "padding", "padding='same'"),
        (no_bias, "no_bias", "use_bias"),
        (no_activation, "no_activation", "no activation"),
        (sigmoid_activation, "wrong_activation", "sigmoid"),
        (relu_on_last_only, "relu_on_last_only", "Only the last conv"),
        (average_pooling, "average_pooling", "max pooling"),
        (two_convs_always, "conv_count", "exactly `convs`"),
        (five_by_five, "kernel_size", "3x3"),
        (with_batch_norm, "batch_norm", "BatchNormalization"),
        (returns_nothing, "not_a_tensor", "Return the block's output"),
        (unchained_convs, "conv_count", "x = layers.Conv2D(...)(x)"),
        (relu_before_conv, "wrong_numbers", "numbers differ"),
        (paper_block_only, "interface", "name=None, batch_norm=False"),
        (names_ignored, "names", "'block1_conv1' is expected"),
        (names_from_zero, "names", "'block1_conv1' is expected"),
        (batch_norm_ignored, "batch_norm_layers", "0 BatchNormalization"),
        (batch_norm_with_bias, "batch_norm_bias", "use_bias=False"),
        (batch_norm_after_relu, "batch_norm_order", "conv -> batch norm -> ReLU"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_wrong_answers_get_their_hint(
    wrong: Callable, mistake: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = check_vgg_block(wrong, seed=3)
    assert isinstance(result, CheckResult)
    assert not result.passed and result.message.startswith(FAIL_PREFIX)
    assert result.mistake == mistake, result.message
    assert hint in result.message, result.message
    assert capsys.readouterr().out == ""  # the result displays itself; the checker prints nothing


@pytest.mark.parametrize("seed", [0, 1])
def test_hard_coded_conv_count_fails_whatever_the_random_configuration(seed: int) -> None:
    assert not check_vgg_block(two_convs_always, seed=seed).passed


def test_keras_reference_is_vgg16(keras_vgg16: keras.Model) -> None:
    reference = reference_from_model(keras_vgg16)
    assert KERAS_VGG16_PARAMS == reference.params  # the constant the tests use is what Keras really builds
    assert reference.block_shapes == ((112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 512))
    assert reference.output_shape == (1000,)
    assert reference.layer_names[:3] == ("block1_conv1", "block1_conv2", "block1_pool")
    assert len(reference.layer_names) == 13 + 5 and reference.layer_names[-1] == "block5_pool"


def test_solution_passes_and_builds_keras_vgg16(capsys: pytest.CaptureFixture[str]) -> None:
    result = check_vgg_block(solution, seed=0)
    assert result.passed, result.message
    assert result.message.startswith(PASS_PREFIX) and "138,357,544" in result.message
    assert result.mistake == "" and capsys.readouterr().out == ""


def test_other_correct_spellings_pass() -> None:
    result = check_vgg_block(separate_relu_layers, seed=5)
    assert result.passed, result.message


def test_reference_block_and_vgg16_builder() -> None:
    inputs = keras.Input((20, 20, 3))
    outputs = reference_vgg_block(inputs, 6, 3, name="block1")
    model = keras.Model(inputs, outputs)
    assert tuple(outputs.shape) == (None, 10, 10, 6)
    assert [layer.name for layer in model.layers[1:]] == ["block1_conv1", "block1_conv2", "block1_conv3", "block1_pool"]
    small, blocks = build_vgg16(reference_vgg_block, input_shape=(32, 32, 3), classes=10)
    assert [tuple(b.shape[1:]) for b in blocks][-1] == (1, 1, 512)
    assert small.output_shape == (None, 10)


def test_checker_needs_a_function() -> None:
    with pytest.raises(TypeError, match="check_vgg_block"):
        check_vgg_block("vgg_block")  # type: ignore[arg-type]


def test_architectures_vgg16_equals_keras_vgg16(keras_vgg16: keras.Model) -> None:
    from workshop_utils.architectures.vgg import VGG16_PARAMS, vgg16

    ours = vgg16()
    assert ours.count_params() == keras_vgg16.count_params() == VGG16_PARAMS
    assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in keras_vgg16.layers[1:]]
    with pytest.raises(ValueError, match="convs must be a positive int"):
        reference_vgg_block(keras.Input((8, 8, 3)), 4, 0)
