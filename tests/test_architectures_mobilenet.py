"""The reference MobileNet v1 equals Keras' MobileNet (counts, names, outputs) and scales as the paper says."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import flops
from workshop_utils.architectures.mobilenet import (
    MOBILENET_V1_BLOCKS,
    depthwise_separable_block,
    mobilenet,
    scaled_filters,
)


@pytest.fixture(scope="module")
def keras_mobilenet() -> keras.Model:
    return keras.applications.MobileNet(weights=None)


def test_parameter_count_equals_keras_at_alpha_1_and_224(keras_mobilenet: keras.Model) -> None:
    model = mobilenet(alpha=1.0)
    assert model.count_params() == keras_mobilenet.count_params() == 4_253_864
    assert model.output_shape == (None, 1000)
    ours = {layer.name: layer.count_params() for layer in model.layers if layer.count_params()}
    theirs = {layer.name: layer.count_params() for layer in keras_mobilenet.layers if layer.count_params()}
    assert ours == theirs  # same names, same weights per layer


@pytest.mark.parametrize(("alpha", "size"), [(0.75, 224), (0.5, 160), (0.25, 128)])
def test_counts_equal_keras_for_other_widths_and_resolutions(alpha: float, size: int) -> None:
    ours = flops.profile(mobilenet(alpha=alpha, input_size=size))
    theirs = flops.profile(keras.applications.MobileNet(weights=None, alpha=alpha, input_shape=(size, size, 3)))
    assert (ours.params, ours.macs) == (theirs.params, theirs.macs)


def test_same_weights_give_keras_outputs() -> None:
    # "same" padding on the strided depthwise convs equals Keras' explicit ZeroPadding2D(((0,1),(0,1))) + "valid".
    theirs = keras.applications.MobileNet(weights=None, alpha=0.25, input_shape=(64, 64, 3), dropout=0.0)
    ours = mobilenet(alpha=0.25, input_size=64, dropout=0.0)
    rng = np.random.default_rng(0)
    for layer in theirs.layers:
        weights = layer.get_weights()
        if weights:
            if isinstance(layer, keras.layers.BatchNormalization):  # non-trivial statistics: a real test
                weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in weights]
            ours.get_layer(layer.name).set_weights(weights)
            layer.set_weights(weights)
    images = rng.normal(size=(2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict_on_batch(images), theirs.predict_on_batch(images), rtol=1e-4, atol=1e-6)


def test_width_multiplier_and_resolution_multiplier() -> None:
    full, half = flops.profile(mobilenet(1.0)), flops.profile(mobilenet(0.5))
    assert half.params < full.params / 3 and half.macs < full.macs / 3.5  # roughly alpha**2 = 1/4
    small = flops.profile(mobilenet(1.0, rho=128 / 224))
    assert small.params == full.params  # rho changes no weights
    assert small.macs == pytest.approx(full.macs * (128 / 224) ** 2, rel=0.01)
    assert mobilenet(rho=160 / 224).input_shape == (None, 160, 160, 3)
    assert scaled_filters(1024, 0.75) == 768 and scaled_filters(32, 0.3) == 9  # truncation, as Keras


def test_block_structure_and_names() -> None:
    inputs = keras.Input((16, 16, 8))
    block = keras.Model(inputs, depthwise_separable_block(inputs, 24, strides=2, block_id=7))
    kinds = [type(layer).__name__ for layer in block.layers[1:]]
    assert kinds == ["DepthwiseConv2D", "BatchNormalization", "ReLU", "Conv2D", "BatchNormalization", "ReLU"]
    assert [layer.name for layer in block.layers[1:]][::3] == ["conv_dw_7", "conv_pw_7"]
    depthwise, pointwise = block.get_layer("conv_dw_7"), block.get_layer("conv_pw_7")
    assert depthwise.strides == (2, 2) and pointwise.strides == (1, 1)
    assert not depthwise.use_bias and not pointwise.use_bias
    assert block.output_shape == (None, 8, 8, 24)
    assert block.count_params() == 9 * 8 + 4 * 8 + 8 * 24 + 4 * 24


def test_headless_and_small_variants() -> None:
    features = mobilenet(0.25, input_size=32, include_top=False, stem_strides=1)
    assert features.output_shape == (None, 2, 2, 256)
    pooled = mobilenet(0.25, input_size=(64, 96), include_top=False, pooling="avg")
    assert pooled.output_shape == (None, 256)
    tiny = mobilenet(0.5, input_size=32, classes=10, blocks=MOBILENET_V1_BLOCKS[:3], stem_strides=1)
    assert tiny.output_shape == (None, 10) and tiny.get_layer("conv_pw_3").filters == 64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "alpha .* must be > 0"),
        ({"alpha": 0.01}, "use alpha >="),
        ({"input_size": 16}, "at least 32"),
        ({"input_size": 160, "rho": 0.5}, "either input_size or rho"),
        ({"rho": -1}, "rho .* must be > 0"),
        ({"pooling": "sum", "include_top": False}, "pooling must be one of"),
        ({"blocks": ((64, 3),)}, "strides must be 1 or 2"),
        ({"classes": 0}, "classes must be an integer >= 1"),
    ],
)
def test_bad_hyper_parameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mobilenet(**kwargs)
