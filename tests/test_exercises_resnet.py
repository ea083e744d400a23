"""The residual-block checker passes the reference and names each listed mistake."""

from __future__ import annotations

import pytest
from keras import layers

from workshop_utils.exercises.resnet import check_residual_block


def conv_bn(x, filters, size, stride=1, bias=False, activation=None):
    x = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=bias, activation=activation)(x)
    return layers.BatchNormalization()(x)


def solution(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    y = conv_bn(y, filters, 3)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def with_ops_add(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.Activation("relu")(conv_bn(x, filters, 3, stride))
    return layers.Activation("relu")(conv_bn(y, filters, 3) + shortcut)


def add_before_bn(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(layers.Add()([y, shortcut]))
    return layers.ReLU()(y)


def no_projection(x, filters, stride=1):
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), x]))


def relu_before_add(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    y = layers.ReLU()(conv_bn(y, filters, 3))
    return layers.Add()([y, shortcut])


def no_final_relu(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    return layers.Add()([conv_bn(y, filters, 3), shortcut])


def relu_in_conv(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = conv_bn(x, filters, 3, stride, activation="relu")
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), shortcut]))


def shortcut_after_first_conv(x, filters, stride=1):
    x = layers.ReLU()(conv_bn(x, filters, 3, stride))
    shortcut = x  # too late: x was reassigned
    y = conv_bn(x, filters, 3)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def always_projection(x, filters, stride=1):
    shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), shortcut]))


def projection_without_bn(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), shortcut]))


def stride_on_second(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3, stride), shortcut]))


def with_bias(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.ReLU()(conv_bn(x, filters, 3, stride, bias=True))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), shortcut]))


def valid_padding(x, filters, stride=1):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride)
    y = layers.Conv2D(filters, 3, strides=stride, padding="valid", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    return layers.ReLU()(layers.Add()([conv_bn(y, filters, 3), shortcut]))


def stub(x, filters, stride=1):
    raise NotImplementedError


@pytest.mark.parametrize("block", [solution, with_ops_add])
def test_reference_passes(block):
    result = check_residual_block(block)
    assert result.passed, result.message
    assert result.message.startswith("Passed: ")


@pytest.mark.parametrize("block, mistake", [
    (add_before_bn, "add_before_bn"),
    (no_projection, "missing_projection"),
    (relu_before_add, "relu_placement"),
    (no_final_relu, "relu_placement"),
    (relu_in_conv, "relu_placement"),
    (shortcut_after_first_conv, "wrong_shortcut_tensor"),
    (always_projection, "projection_always"),
    (projection_without_bn, "projection_without_bn"),
    (stride_on_second, "stride_placement"),
    (with_bias, "bias_before_bn"),
    (valid_padding, "shape"),
    (stub, "not_written"),
])
def test_names_each_mistake(block, mistake):
    result = check_residual_block(block)
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert result.message.startswith("Not yet: ")
