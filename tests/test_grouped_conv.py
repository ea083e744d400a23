"""The split form of a grouped convolution is the same function as ``Conv2D(groups=g)``, with the same cost."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from workshop_utils import flops
from workshop_utils.grouped_conv import (
    ChannelSplit,
    copy_grouped_to_split,
    copy_split_to_grouped,
    group_convs,
    grouped_conv2d,
)


def pair(channels=12, filters=24, kernel_size=3, groups=3, strides=1, padding="same", use_bias=False, size=9):
    """The same block twice: Conv2D(groups=g), and grouped_conv2d's split form."""
    inputs = keras.Input((size, size, channels))
    grouped = keras.Model(inputs, layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                                                groups=groups, use_bias=use_bias, name="gconv")(inputs))
    inputs = keras.Input((size, size, channels))
    split = keras.Model(inputs, grouped_conv2d(inputs, filters, kernel_size, groups, strides=strides,
                                               padding=padding, use_bias=use_bias, name="gconv"))
    return grouped, split


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32"))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"groups": 2, "kernel_size": 1},
        {"groups": 4, "strides": 2, "use_bias": True},
        {"groups": 12, "filters": 12, "padding": "valid"},  # one channel per group: depthwise
        {"groups": 3, "filters": 6, "kernel_size": 5, "strides": 2, "padding": "valid", "use_bias": True},
    ],
)
def test_copied_weights_give_equal_outputs_both_ways(options):
    grouped, split = pair(**options)
    x = np.random.default_rng(0).normal(size=(2, 9, 9, 12)).astype("float32")
    randomize(grouped, 1)
    copy_grouped_to_split(grouped.get_layer("gconv"), group_convs(split, "gconv"))
    np.testing.assert_allclose(split.predict(x, verbose=0), grouped.predict(x, verbose=0), rtol=1e-4, atol=1e-4)

    randomize(split, 2)
    copy_split_to_grouped(group_convs(split, "gconv"), grouped.get_layer("gconv"))
    np.testing.assert_allclose(grouped.predict(x, verbose=0), split.predict(x, verbose=0), rtol=1e-4, atol=1e-4)


def test_group_i_reads_only_its_own_input_channels():
    _, split = pair(channels=6, filters=6, groups=3, kernel_size=1, size=1)
    randomize(split, 0)
    x = np.zeros((1, 1, 1, 6), "float32")
    x[..., 2:4] = 1.0  # only group 1's inputs are non-zero
    y = split.predict(x, verbose=0)[0, 0, 0]
    assert np.all(y[[0, 1, 4, 5]] == 0) and np.all(y[2:4] != 0)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_parameters_and_macs_equal_the_grouped_layer(groups):
    grouped, split = pair(channels=16, filters=32, groups=groups)
    assert split.count_params() == grouped.count_params() == 3 * 3 * 16 // groups * 32
    assert flops.profile(split).macs == flops.profile(grouped).macs == 9 * 9 * 32 * 9 * 16 // groups


def test_groups_one_is_a_plain_conv_with_the_blocks_name():
    inputs = keras.Input((8, 8, 5))
    model = keras.Model(inputs, grouped_conv2d(inputs, 7, 3, groups=1, name="conv"))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Conv2D"]
    assert model.get_layer("conv").use_bias is False


def test_layer_names_follow_the_block_name():
    _, split = pair(groups=3)
    assert [layer.name for layer in split.layers[1:]] == [
        "gconv_split", "gconv_group0", "gconv_group1", "gconv_group2", "gconv_concat"
    ]


@pytest.mark.parametrize(
    ("channels", "filters", "groups", "says"),
    [(10, 12, 3, "10 channels"), (12, 10, 3, "10 filters"), (12, 12, 0, "positive integer"),
     (12, 12, 2.0, "positive integer")],
)
def test_indivisible_channels_or_filters_raise_a_clear_error(channels, filters, groups, says):
    with pytest.raises(ValueError, match=says):
        grouped_conv2d(keras.Input((8, 8, channels)), filters, 1, groups=groups, name="bad")


def test_channel_split_refuses_indivisible_channels():
    with pytest.raises(ValueError, match="cannot be split into 4"):
        ChannelSplit(4)(keras.Input((4, 4, 6)))


def test_copy_refuses_mismatched_layers():
    grouped, _ = pair(groups=3)
    _, other = pair(groups=2)
    with pytest.raises(ValueError, match="groups=3 but 2"):
        copy_grouped_to_split(grouped.get_layer("gconv"), group_convs(other, "gconv"))
    _, with_bias = pair(groups=3, use_bias=True)
    with pytest.raises(ValueError, match="use_bias"):
        copy_split_to_grouped(group_convs(with_bias, "gconv"), grouped.get_layer("gconv"))


def test_group_convs_names_the_blocks_it_has():
    _, split = pair()
    with pytest.raises(ValueError, match=r"\['gconv'\]"):
        group_convs(split, "conv9")


def test_split_form_saves_and_loads(tmp_path):
    _, split = pair()
    randomize(split, 3)
    path = tmp_path / "split.keras"
    split.save(path)
    loaded = keras.models.load_model(path)
    x = np.ones((1, 9, 9, 12), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), split.predict(x, verbose=0), rtol=1e-5)
