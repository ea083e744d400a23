"""The depthwise separable block checker passes correct blocks and names each listed mistake."""

from __future__ import annotations

import pytest
from keras import layers

from workshop_utils.architectures.mobilenet import depthwise_separable_block as reference_block
from workshop_utils.exercises.mobilenet import check_depthwise_separable_block


def _block(x, filters, strides, *, dw_bias=False, pw_bias=False, dw_bn=True, pw_bn=True, dw_relu=True,
           pw_relu=True, pw_strides=False, full=False, pw_filters=None, padding="same", relu_first=False,
           relu6=False, depth_multiplier=1, pointwise=True):
    """A configurable block: every keyword makes one of the mistakes the checker must name."""
    if full:
        x = layers.Conv2D(x.shape[-1], 3, strides=strides, padding=padding, use_bias=dw_bias)(x)
    else:
        x = layers.DepthwiseConv2D(3, strides=1 if pw_strides else strides, padding=padding, use_bias=dw_bias,
                                   depth_multiplier=depth_multiplier, activation="relu" if relu_first else None)(x)
    if dw_bn:
        x = layers.BatchNormalization()(x)
    if dw_relu and not relu_first:
        x = layers.ReLU(6.0 if relu6 else None)(x)
    if pointwise:
        x = layers.Conv2D(pw_filters or filters, 1, strides=strides if pw_strides else 1, use_bias=pw_bias)(x)
        if pw_bn:
            x = layers.BatchNormalization()(x)
        if pw_relu:
            x = layers.ReLU(6.0 if relu6 else None)(x)
    return x


def test_reference_and_plain_variants_pass() -> None:
    for seed in (0, 1):
        result = check_depthwise_separable_block(reference_block, seed=seed)
        assert result.passed, result.message
    assert check_depthwise_separable_block(lambda x, f, s: _block(x, f, s), seed=2).passed
    assert check_depthwise_separable_block(lambda x, f, s: _block(x, f, s, relu6=True), seed=3).passed

    def with_activation_layer(x, filters, strides):
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    assert check_depthwise_separable_block(with_activation_layer, seed=4).passed


@pytest.mark.parametrize(
    ("options", "mistake", "words"),
    [
        ({"dw_bias": True}, "bias_before_bn", "use_bias=False"),
        ({"pw_bias": True}, "bias_before_bn", "pointwise"),
        ({"dw_bn": False}, "missing_bn", "depthwise"),
        ({"pw_bn": False}, "missing_bn", "pointwise"),
        ({"dw_relu": False}, "missing_relu", "depthwise"),
        ({"pw_relu": False}, "missing_relu", "pointwise"),
        ({"pw_strides": True}, "stride_on_pointwise", "depthwise"),
        ({"full": True}, "full_conv", "DepthwiseConv2D"),
        ({"pw_filters": 7}, "wrong_channels", "filters"),
        ({"depth_multiplier": 2}, "wrong_channels", "depth_multiplier"),
        ({"relu_first": True}, "relu_before_bn", "BatchNormalization -> ReLU"),
        ({"padding": "valid"}, "wrong_padding", "padding='same'"),
        ({"pointwise": False}, "missing_pointwise", "Conv2D(filters, 1"),
    ],
)
def test_each_mistake_is_named(options: dict, mistake: str, words: str) -> None:
    result = check_depthwise_separable_block(lambda x, f, s: _block(x, f, s, **options), seed=0)
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert words in result.message


def test_ignored_stride_and_separable_layer_and_stub() -> None:
    result = check_depthwise_separable_block(lambda x, f, s: _block(x, f, 1), seed=0)
    assert (result.passed, result.mistake) == (False, "wrong_stride")
    result = check_depthwise_separable_block(lambda x, f, s: layers.SeparableConv2D(f, 3, strides=s, padding="same")(x))
    assert result.mistake == "missing_bn" and "SeparableConv2D" in result.message

    def stub(x, filters, strides):
        raise NotImplementedError

    assert check_depthwise_separable_block(stub).mistake == "not_written"
    assert check_depthwise_separable_block(lambda x, f, s: None).mistake == "not_a_tensor"
    assert check_depthwise_separable_block(lambda x, f, s: layers.Conv2D(f, 1)(x, nonsense=1)).mistake == "error"
    with pytest.raises(TypeError, match="needs your function"):
        check_depthwise_separable_block("depthwise_separable_block")


def test_unused_relu_and_a_clipped_relu() -> None:
    def unused_depthwise_relu(x, filters, strides):
        y = layers.BatchNormalization()(layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x))
        layers.ReLU()(y)  # computed but not used: the pointwise conv reads the BN output
        y = layers.Conv2D(filters, 1, use_bias=False)(y)
        return layers.ReLU()(layers.BatchNormalization()(y))

    assert check_depthwise_separable_block(unused_depthwise_relu, seed=0).mistake == "missing_relu"

    def clipped_at_one(x, filters, strides):  # right layers, wrong function: only the numbers can tell
        y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
        y = layers.ReLU(1.0)(layers.BatchNormalization()(y))
        y = layers.Conv2D(filters, 1, use_bias=False)(y)
        return layers.ReLU(1.0)(layers.BatchNormalization()(y))

    result = check_depthwise_separable_block(clipped_at_one, seed=0)
    assert result.mistake == "numbers_differ" and "reference block" in result.message
