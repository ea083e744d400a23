"""Receptive-field arithmetic, checked against brute force and published values; its table and figure."""

from __future__ import annotations

import math

import keras
import matplotlib
import numpy as np
import pytest
from keras import layers

from workshop_utils.receptive_field import (
    FieldRow,
    LayerSpec,
    format_fields,
    plot_receptive_fields,
    receptive_fields,
)

matplotlib.use("Agg")


# ---------------------------------------------------------------------------------------------------------
# Spec lists


def test_stacked_3x3_fields_grow_by_two() -> None:
    rows = receptive_fields([(3, 1, 1)] * 3)
    assert [row.receptive_field for row in rows] == [(3, 3), (5, 5), (7, 7)]
    assert all(row.jump == (1, 1) and row.start == (0.5, 0.5) for row in rows)
    assert all(row.output_size is None for row in rows)  # no input size given


def test_dilation_and_stride() -> None:
    rows = receptive_fields([(3, 1, 2), (3, 2, 1, "valid"), (3, 1, 1)], input_size=32)
    # dilation 2 -> effective 5; then a 3x3 stride 2 adds 2; then the jump of 2 makes a 3x3 add 4
    assert [row.side for row in rows] == [5, 7, 11]
    assert [row.jump[0] for row in rows] == [1, 2, 2]
    assert [row.output_size for row in rows] == [(32, 32), (15, 15), (15, 15)]


def test_alexnet_input_size_arithmetic() -> None:
    pool = {"layer_type": "MaxPooling2D", "stride": 2, "padding": "valid"}
    specs = [LayerSpec(11, 4, padding="valid", name="conv1"), LayerSpec(3, name="pool1", **pool), LayerSpec(5),
             LayerSpec(3, **pool), LayerSpec(3), LayerSpec(3), LayerSpec(3), LayerSpec(3, name="pool5", **pool)]
    at_227 = receptive_fields(specs, input_size=227)
    assert at_227[0].output_size == (55, 55) and at_227[-1].output_size == (6, 6)
    assert at_227[-1].receptive_field == (195, 195) and at_227[-1].jump == (32, 32)
    assert at_227[0].start == (5.5, 5.5)  # the first 11-pixel window is centred on pixel 5 (centre 5.5)
    assert receptive_fields(specs, input_size=224)[-1].output_size == (5, 5)
    assert [r.name for r in at_227][:2] == ["conv1", "pool1"] and at_227[2].name == "layer3"


def test_explicit_padding_moves_the_start() -> None:
    (row,) = receptive_fields([(5, 1, 1, 2)], input_size=10)
    assert row.start == (0.5, 0.5) and row.output_size == (10, 10)  # centred on the first pixel
    (row,) = receptive_fields([(5, 1, 1, 0)], input_size=10)
    assert row.start == (2.5, 2.5) and row.output_size == (6, 6)


def test_non_square_kernels_are_per_axis() -> None:
    rows = receptive_fields([((1, 7), 1, 1), ((7, 1), 1, 1)], input_size=(17, 17))
    assert rows[0].receptive_field == (1, 7) and rows[1].receptive_field == (7, 7)
    assert "1x7" in format_fields(rows)


@pytest.mark.parametrize(
    ("specs", "error"),
    [
        ("3x3", TypeError),
        ([], ValueError),
        ([(3, 0, 1)], ValueError),
        ([(3, 1, 1, "full")], ValueError),
        (["conv"], TypeError),
        ([(True, 1, 1)], TypeError),
    ],
)
def test_bad_specs_raise(specs: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        receptive_fields(specs)  # type: ignore[arg-type]


def test_window_larger_than_input_raises() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        receptive_fields([(11, 4, 1, "valid")], input_size=8)


# ---------------------------------------------------------------------------------------------------------
# Models


def test_vgg16_matches_published_fields(keras_vgg16: keras.Model) -> None:
    rows = {row.name: row for row in receptive_fields(keras_vgg16)}  # the shared VGG-16 of conftest.py
    assert rows["block1_conv2"].side == 5 and rows["block3_conv3"].side == 40
    assert rows["block5_conv3"].side == 196 and rows["block5_pool"].side == 212  # Araujo et al. 2019, table 1
    assert rows["block5_pool"].jump == (32, 32) and rows["block5_pool"].output_size == (7, 7)
    assert len(rows) == 18  # 13 convs and 5 pools; nothing else is listed by default (Flatten ends the walk)


def _impulse_support(model: keras.Model, size: int, position: tuple[int, int]) -> tuple[int, int]:
    """Input rows on which output `position` depends, found by feeding one impulse per input pixel."""
    impulses = np.zeros((size * size, size, size, 1), "float32")
    impulses[np.arange(size * size), np.arange(size * size) // size, np.arange(size * size) % size, 0] = 1.0
    responses = np.asarray(model.predict(impulses, verbose=0))[:, position[0], position[1], 0]
    rows = np.flatnonzero(np.abs(responses) > 0) // size
    return int(rows.min()), int(rows.max())


@pytest.mark.parametrize("size", [19, 20])
def test_model_fields_match_brute_force(size: int) -> None:
    """All-ones kernels and average pooling: an output depends on exactly the pixels its window covers."""
    ones = {"use_bias": False, "kernel_initializer": "ones"}
    inputs = keras.Input((size, size, 1))
    x = layers.Conv2D(1, 3, padding="same", **ones)(inputs)
    x = layers.Conv2D(1, 3, strides=2, padding="same", **ones)(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2D(1, 3, dilation_rate=2, padding="same", **ones)(x)
    model = keras.Model(inputs, x)
    last = receptive_fields(model)[-1]
    assert last.output_size == tuple(model.output.shape[1:3])
    for index in (0, last.output_size[0] // 2):
        centre = last.start[0] + index * last.jump[0]
        half = (last.receptive_field[0] - 1) / 2
        low = max(0, math.ceil(centre - half - 0.5))
        high = min(size - 1, math.floor(centre + half - 0.5))
        assert _impulse_support(model, size, (index, index)) == (low, high)


def test_branches_take_the_larger_field() -> None:
    inputs = keras.Input((16, 16, 4))
    branch = layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    branch = layers.Conv2D(4, 3, padding="same", name="conv_b")(branch)
    merged = layers.Add(name="add")([inputs, branch])
    pooled = layers.GlobalAveragePooling2D(name="gap")(merged)
    outputs = layers.Dense(2)(pooled)
    model = keras.Model(inputs, outputs)
    rows = {row.name: row for row in receptive_fields(model, all_layers=True)}
    assert rows["add"].receptive_field == (5, 5)
    assert rows["gap"].receptive_field == (20, 20) and rows["gap"].output_size == (1, 1)  # 5 + 15 pixels
    assert "dense" not in " ".join(rows)  # nothing spatial after global pooling


def test_flatten_and_dense_head_are_not_listed() -> None:
    inputs = keras.Input((8, 8, 3))
    x = layers.MaxPooling2D(2, name="pool")(layers.Conv2D(2, 3, name="conv")(inputs))
    model = keras.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))
    assert [row.name for row in receptive_fields(model)] == ["conv", "pool"]


def test_unsupported_models_raise() -> None:
    inputs = keras.Input((8, 8, 3))
    upsampled = keras.Model(inputs, layers.Conv2DTranspose(2, 3)(inputs))
    with pytest.raises(ValueError, match="not supported"):
        receptive_fields(upsampled)
    with pytest.raises(ValueError, match="input_size"):
        receptive_fields(upsampled, input_size=8)
    two_inputs = keras.Model([inputs, keras.Input((8, 8, 3))], inputs)
    with pytest.raises(ValueError, match="one image input"):
        receptive_fields(two_inputs)


# ---------------------------------------------------------------------------------------------------------
# Table and figure


def test_plots_return_labelled_figures() -> None:
    rows = receptive_fields([(3, 1, 1)] * 4)
    figure = plot_receptive_fields({"four 3x3": rows})
    axis = figure.axes[0]
    assert "receptive field" in axis.get_ylabel()
    assert [tick.get_text() for tick in axis.get_xticklabels()] == [row.name for row in rows]
    two = plot_receptive_fields({"a": rows, "b": rows[:2]}, log=True)
    assert two.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError):
        plot_receptive_fields({})


def test_format_fields_table() -> None:
    rows = receptive_fields([(3, 2, 1)], input_size=9)
    text = format_fields(rows, title="one conv")
    assert text.splitlines()[0] == "one conv" and "receptive field" in text
    assert isinstance(rows[0], FieldRow)
    with pytest.raises(ValueError):
        format_fields([])


# --------------------------------------------------------------------------------------------------------------
# keras.ops nodes: the walk shared with flops sees them, so no layer after them is dropped
# --------------------------------------------------------------------------------------------------------------


def _residual_net(join: str) -> keras.Model:
    """stem -> [conv_a -> conv_b] + shortcut -> relu -> head_conv -> pool; the join by ops.add or layers.Add."""
    inputs = keras.Input((32, 32, 3))
    stem = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv_a")(stem)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv_b")(x)
    if join == "ops":
        x = keras.ops.relu(keras.ops.add(x, stem))
    else:
        x = keras.layers.ReLU(name="relu")(keras.layers.Add(name="add")([x, stem]))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="head_conv")(x)
    return keras.Model(inputs, keras.layers.MaxPooling2D(2, name="pool")(x), name=f"residual_{join}")


def test_residual_block_with_ops_add_gives_the_same_rows_as_layers_add() -> None:
    by_ops, by_layer = receptive_fields(_residual_net("ops")), receptive_fields(_residual_net("layer"))
    assert [row.name for row in by_ops] == ["stem", "conv_a", "conv_b", "head_conv", "pool"]
    assert by_ops == by_layer  # the layers after the ops.add node are all there, with the same fields
    assert by_ops[-1].receptive_field == (11, 11) and by_ops[-1].jump == (4, 4)  # 3, 5, 7, 9 (stride 2), 11
    # With every layer listed, the join and the activation show up as rows of both kinds, with the same fields.
    rows_ops = receptive_fields(_residual_net("ops"), all_layers=True)
    rows_layer = receptive_fields(_residual_net("layer"), all_layers=True)
    assert [r.layer_type for r in rows_ops] == ["Conv2D"] * 3 + ["ops.Add", "ops.Relu", "Conv2D", "MaxPooling2D"]
    assert [r.layer_type for r in rows_layer] == ["Conv2D"] * 3 + ["Add", "ReLU", "Conv2D", "MaxPooling2D"]
    fields = lambda rows: [(r.receptive_field, r.jump, r.start, r.output_size) for r in rows]  # noqa: E731
    assert fields(rows_ops) == fields(rows_layer)


def test_an_op_that_moves_pixels_is_refused_not_skipped() -> None:
    inputs = keras.Input((8, 8, 3))
    x = keras.ops.transpose(keras.layers.Conv2D(4, 3, name="conv")(inputs), (0, 2, 1, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="after")(x))
    with pytest.raises(ValueError, match=r"ops\.Transpose.*elementwise keras\.ops"):
        receptive_fields(model)
