"""The Inception-module checker passes right answers and gives the right hint for plausible wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import keras
import pytest
from keras import layers

from workshop_utils import flops
from workshop_utils.exercises import FAIL_PREFIX, PASS_PREFIX
from workshop_utils.exercises.inception import CheckResult, _conv_macs, check_inception_module


def conv(x, filters, size, padding="same", name=None, use_bias=True):
    return layers.Conv2D(filters, size, padding=padding, activation="relu", name=name, use_bias=use_bias)(x)


def pool(x, pool_layer=layers.MaxPooling2D, name=None, **options):
    return pool_layer(3, name=name, **({"strides": 1, "padding": "same"} | options))(x)


def solution(x, f1, r3, f3, r5, f5, fp, name="inception"):
    branch_1x1 = conv(x, f1, 1, name=f"{name}_1x1")
    branch_3x3 = conv(conv(x, r3, 1, name=f"{name}_3x3_reduce"), f3, 3, name=f"{name}_3x3")
    branch_5x5 = conv(conv(x, r5, 1, name=f"{name}_5x5_reduce"), f5, 5, name=f"{name}_5x5")
    branch_pool = conv(pool(x, name=f"{name}_pool"), fp, 1, name=f"{name}_pool_proj")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([branch_1x1, branch_3x3, branch_5x5, branch_pool])


def batch_norm_inside(x, f1, r3, f3, r5, f5, fp, name="inception"):
    def conv_bn_relu(t, filters, size, suffix):
        t = layers.Conv2D(filters, size, padding="same", use_bias=False, name=f"{name}_{suffix}")(t)
        return layers.ReLU(name=f"{name}_{suffix}_relu")(layers.BatchNormalization(name=f"{name}_{suffix}_bn")(t))

    branches = [conv_bn_relu(x, f1, 1, "1x1"), conv_bn_relu(conv_bn_relu(x, r3, 1, "3x3_reduce"), f3, 3, "3x3"),
                conv_bn_relu(conv_bn_relu(x, r5, 1, "5x5_reduce"), f5, 5, "5x5"),
                conv_bn_relu(pool(x, name=f"{name}_pool"), fp, 1, "pool_proj")]
    return keras.ops.concatenate(branches, axis=-1)


def unnamed(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return layers.Concatenate()([conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3), conv(conv(x, r5, 1), f5, 5),
                                 conv(pool(x), fp, 1)])


def pool_without_prefix(x, f1, r3, f3, r5, f5, fp, name="inception"):
    branch_pool = conv(pool(x, name="pool"), fp, 1, name=f"{name}_pool_proj")
    branches = [conv(x, f1, 1, name=f"{name}_1x1"), conv(conv(x, r3, 1, name=f"{name}_3x3_reduce"), f3, 3,
                name=f"{name}_3x3"), conv(conv(x, r5, 1, name=f"{name}_5x5_reduce"), f5, 5, name=f"{name}_5x5")]
    return layers.Concatenate(name=f"{name}_concat")([*branches, branch_pool])


def no_biases(x, f1, r3, f3, r5, f5, fp, name="inception"):
    def unbiased(t, filters, size, suffix):
        return conv(t, filters, size, name=f"{name}_{suffix}", use_bias=False)

    return layers.Concatenate(name=f"{name}_concat")([
        unbiased(x, f1, 1, "1x1"), unbiased(unbiased(x, r3, 1, "3x3_reduce"), f3, 3, "3x3"),
        unbiased(unbiased(x, r5, 1, "5x5_reduce"), f5, 5, "5x5"),
        unbiased(pool(x, name=f"{name}_pool"), fp, 1, "pool_proj")])


def stub(x, f1, r3, f3, r5, f5, fp, name="inception"):
    raise NotImplementedError("write the four branches")


def no_bottleneck(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return layers.Concatenate()([conv(x, f1, 1), conv(x, f3, 3), conv(x, f5, 5), conv(pool(x), fp, 1)])


def no_pool_projection(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return layers.Concatenate()([conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3), conv(conv(x, r5, 1), f5, 5), pool(x)])


def concat_on_height(x, f1, r3, f3, r5, f5, fp, name="inception"):
    branches = [conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3), conv(conv(x, r5, 1), f5, 5), conv(pool(x), fp, 1)]
    return layers.Concatenate(axis=1)(branches)


def valid_padding(x, f1, r3, f3, r5, f5, fp, name="inception"):
    branches = [conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3, padding="valid"),
                conv(conv(x, r5, 1), f5, 5, padding="valid"), conv(pool(x, padding="valid"), fp, 1)]
    return layers.Concatenate()(branches)


def default_pool_stride(x, f1, r3, f3, r5, f5, fp, name="inception"):
    pooled = layers.MaxPooling2D(3, padding="same")(x)  # stride defaults to 3
    return layers.Concatenate()([conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3), conv(conv(x, r5, 1), f5, 5),
                                 conv(pooled, fp, 1)])


def swapped_branches(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return layers.Concatenate()([conv(x, f1, 1), conv(conv(x, r5, 1), f5, 5), conv(conv(x, r3, 1), f3, 3),
                                 conv(pool(x), fp, 1)])


def average_pooling(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return layers.Concatenate()([conv(x, f1, 1), conv(conv(x, r3, 1), f3, 3), conv(conv(x, r5, 1), f5, 5),
                                 conv(pool(x, layers.AveragePooling2D), fp, 1)])


def linear_reduce(x, f1, r3, f3, r5, f5, fp, name="inception"):
    reduce_3x3, reduce_5x5 = layers.Conv2D(r3, 1)(x), layers.Conv2D(r5, 1)(x)  # no ReLU after the bottleneck
    return layers.Concatenate()([conv(x, f1, 1), conv(reduce_3x3, f3, 3), conv(reduce_5x5, f5, 5),
                                 conv(pool(x), fp, 1)])


def hard_coded_widths(x, *widths, name="inception"):
    return solution(x, 64, 96, 128, 16, 32, 32)


def reduce_and_filters_swapped(x, f1, r3, f3, r5, f5, fp, name="inception"):
    return solution(x, f1, f3, r3, r5, f5, fp)


@pytest.mark.parametrize("right", [solution])
@pytest.mark.parametrize("seed", [0, 1])
def test_right_answers_pass_with_the_3a_figures(right: Callable, seed: int, capsys: pytest.CaptureFixture) -> None:
    result = check_inception_module(right, seed=seed)
    assert isinstance(result, CheckResult) and result.passed, result.message
    assert "(28, 28, 256)" in result.message and "163,696 parameters" in result.message
    assert "128,049,152 MACs" in result.message and result.message.startswith(PASS_PREFIX)
    assert capsys.readouterr().out == ""  # the result displays itself; the checker prints nothing


def test_later_cells_names_are_checked() -> None:
    result = check_inception_module(solution, seed=3)
    assert result.passed and "GoogLeNet's names" in result.message, result.message


@pytest.mark.parametrize(
    ("wrong", "mistake", "hint"),
    [
        (stub, "not_written", "NotImplementedError"),
        (no_bottleneck, "no_bottleneck", "Missing bottleneck"),
        (no_pool_projection, "no_pool_projection", "no projection"),
        (concat_on_height, "concat_axis", "channel axis"),
        (valid_padding, "padding", "padding='same'"),
        (default_pool_stride, "padding", "strides=1"),
        (swapped_branches, "branch_order", "order 1x1, 5x5, 3x3, pool"),
        (average_pooling, "wrong_numbers_pool", "max, not average"),
        (linear_reduce, "wrong_numbers_3x3_5x5", "3x3, 5x5 branch"),
        (hard_coded_widths, "ignores_widths", "ignores its width arguments"),
        (reduce_and_filters_swapped, "wrong_kernels", "filters_3x3_reduce"),
        (batch_norm_inside, "batch_norm", "has none"),
        (unnamed, "names", "expects 'inception_3a_"),
        (pool_without_prefix, "names", "MaxPooling2D is named 'pool'"),
        (no_biases, "no_bias", "keep each convolution's bias"),
    ],
)
def test_wrong_answers_fail_with_the_matching_hint(wrong: Callable, mistake: str, hint: str) -> None:
    result = check_inception_module(wrong, seed=0)
    assert not result.passed
    assert result.message.startswith(FAIL_PREFIX)
    assert result.mistake == mistake, result.message
    assert hint in result.message, result.message


def test_a_module_joined_with_ops_concatenate_passes() -> None:
    def with_ops(x, f1, r3, f3, r5, f5, fp, name="inception"):
        branches = [conv(x, f1, 1, name=f"{name}_1x1"),
                    conv(conv(x, r3, 1, name=f"{name}_3x3_reduce"), f3, 3, name=f"{name}_3x3"),
                    conv(conv(x, r5, 1, name=f"{name}_5x5_reduce"), f5, 5, name=f"{name}_5x5"),
                    conv(pool(x, name=f"{name}_pool"), fp, 1, name=f"{name}_pool_proj")]
        return keras.ops.concatenate(branches, axis=-1)  # ops instead of a layer: no layer to name

    result = check_inception_module(with_ops, seed=2)
    assert result.passed, result.message


def test_mac_count_is_flops_also_for_grouped_convolutions() -> None:
    # The checker used its own arithmetic, which divided by `groups` twice; it now asks flops.
    inputs = keras.Input((8, 8, 12))
    model = keras.Model(inputs, layers.Conv2D(6, 3, padding="same", groups=3)(inputs))
    assert _conv_macs(model) == flops.profile(model).macs == 8 * 8 * 3 * 3 * (12 // 3) * 6


def test_valid_padding_names_the_shrunken_branches() -> None:
    message = check_inception_module(valid_padding, seed=0).message
    assert "(None, 26, 26, 128)" in message and "(None, 24, 24, 32)" in message


def test_not_a_function_is_refused() -> None:
    with pytest.raises(TypeError, match="your function"):
        check_inception_module("inception_module")  # type: ignore[arg-type]


def test_returning_a_list_gets_a_hint() -> None:
    def returns_branches(x, f1, r3, f3, r5, f5, fp, name="inception"):
        return [conv(x, f1, 1)]

    result = check_inception_module(returns_branches, seed=0)
    assert not result.passed and "Return the concatenated tensor" in result.message
