"""The dense-block and transition checkers pass right answers and name each listed mistake."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from workshop_utils.exercises import FAIL_PREFIX, PASS_PREFIX
from workshop_utils.exercises.densenet import check_dense_block, check_transition


def composite(x, filters, size):
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(filters, size, padding="same", use_bias=False)(x)


def new_features(x, growth_rate):
    return composite(composite(x, 4 * growth_rate, 1), growth_rate, 3)


# --- dense blocks ---------------------------------------------------------------------------------------------


def dense_block(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Concatenate()([x, new_features(x, growth_rate)])
    return x


def dense_block_with_ops(x, num_layers, growth_rate):
    """Independent style: Activation('relu'), keras.ops.concatenate, default BN epsilon: must pass too."""
    for _ in range(num_layers):
        y = layers.Activation("relu")(layers.BatchNormalization()(x))
        y = layers.Conv2D(4 * growth_rate, 1, use_bias=False)(y)
        y = layers.Activation("relu")(layers.BatchNormalization()(y))
        y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)(y)
        x = keras.ops.concatenate([x, y], axis=-1)
    return x


def stub(x, num_layers, growth_rate):
    raise NotImplementedError


def adds(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Add()([x, new_features(x, growth_rate)])
    return x


def adds_with_plus(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = x + new_features(x, growth_rate)
    return x


def concatenates_only_last(x, num_layers, growth_rate):
    """Each layer reads only the previous layer's output; the input and the last output are joined at the end."""
    y = x
    for _ in range(num_layers):
        y = new_features(y, growth_rate)
    return layers.Concatenate()([x, y])


def never_updates_x(x, num_layers, growth_rate):
    for _ in range(num_layers):
        out = layers.Concatenate()([x, new_features(x, growth_rate)])
    return out


def concatenates_on_height(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Concatenate(axis=1)([x, new_features(x, growth_rate)])
    return x


def no_bottleneck(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Concatenate()([x, composite(x, growth_rate, 3)])
    return x


def narrow_bottleneck(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Concatenate()([x, composite(composite(x, growth_rate, 1), growth_rate, 3)])
    return x


def post_activation(x, num_layers, growth_rate):
    for _ in range(num_layers):
        y = layers.Conv2D(4 * growth_rate, 1, use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)(y)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        x = layers.Concatenate()([x, y])
    return x


def new_first(x, num_layers, growth_rate):
    for _ in range(num_layers):
        x = layers.Concatenate()([new_features(x, growth_rate), x])
    return x


def valid_padding(x, num_layers, growth_rate):
    for _ in range(num_layers):
        y = composite(x, 4 * growth_rate, 1)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(growth_rate, 3, use_bias=False)(y)
        x = layers.Concatenate()([x, y])
    return x


def test_dense_block_checker_passes_the_reference_and_an_independent_solution() -> None:
    from workshop_utils.architectures.densenet import dense_block as reference

    for function in (dense_block, dense_block_with_ops, lambda x, n, k: reference(x, n, k)):
        result = check_dense_block(function)
        assert result.passed, result.message
        assert result.message.startswith(PASS_PREFIX)


@pytest.mark.parametrize("function, mistake", [
    (adds, "add_instead_of_concat"),
    (adds_with_plus, "add_instead_of_concat"),
    (concatenates_only_last, "only_last"),
    (never_updates_x, "only_last"),
    (concatenates_on_height, "concat_axis"),
    (no_bottleneck, "missing_bottleneck"),
    (narrow_bottleneck, "bottleneck_width"),
    (post_activation, "composite_order"),
    (new_first, "concat_order"),
    (stub, "not_written"),
])
def test_dense_block_checker_names_each_mistake(function, mistake: str) -> None:
    result = check_dense_block(function)
    assert not result.passed
    assert result.message.startswith(FAIL_PREFIX)
    assert result.mistake == mistake, result.message


def test_dense_block_checker_reports_valid_padding_without_a_traceback() -> None:
    result = check_dense_block(valid_padding)
    assert not result.passed and result.mistake in ("concat_axis", "structure"), result.message


def test_dense_block_checker_wants_a_function() -> None:
    with pytest.raises(TypeError, match="check_dense_block"):
        check_dense_block("dense_block")


# --- transitions ----------------------------------------------------------------------------------------------

GROWTH_RATE = 12


def transition(x, compression):
    x = composite(x, int(compression * x.shape[-1]), 1)
    return layers.AveragePooling2D(2, strides=2)(x)


def compresses_k(x, compression):
    x = composite(x, int(compression * GROWTH_RATE), 1)
    return layers.AveragePooling2D(2, strides=2)(x)


def rounds_up(x, compression):
    import math

    x = composite(x, math.ceil(compression * x.shape[-1]), 1)
    return layers.AveragePooling2D(2, strides=2)(x)


def no_compression(x, compression):
    return layers.AveragePooling2D(2)(composite(x, x.shape[-1], 1))


def max_pool(x, compression):
    return layers.MaxPooling2D(2)(composite(x, int(compression * x.shape[-1]), 1))


def pool_first(x, compression):
    return composite(layers.AveragePooling2D(2)(x), int(compression * x.shape[-1]), 1)


def no_pool(x, compression):
    return composite(x, int(compression * x.shape[-1]), 1)


def conv_bn_relu(x, compression):
    x = layers.Conv2D(int(compression * x.shape[-1]), 1, use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    return layers.AveragePooling2D(2)(x)


def test_transition_checker_passes_the_reference() -> None:
    from workshop_utils.architectures.densenet import transition as reference

    for function in (transition, lambda x, theta: reference(x, theta)):
        result = check_transition(function, growth_rate=GROWTH_RATE)
        assert result.passed, result.message


@pytest.mark.parametrize("function, mistake", [
    (compresses_k, "compression_on_k"),
    (rounds_up, "compression_rounding"),
    (no_compression, "no_compression"),
    (max_pool, "pooling"),
    (pool_first, "pooling"),
    (no_pool, "pooling"),
    (conv_bn_relu, "composite_order"),
])
def test_transition_checker_names_each_mistake(function, mistake: str) -> None:
    result = check_transition(function, growth_rate=GROWTH_RATE)
    assert not result.passed
    assert result.mistake == mistake, result.message


def test_transition_checker_says_theta_times_k_when_it_knows_k() -> None:
    result = check_transition(compresses_k, growth_rate=GROWTH_RATE)
    assert "0.5 * 12 = 6" in result.message
