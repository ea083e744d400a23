"""The reference MobileNetV2 equals Keras' MobileNetV2 (counts, names, outputs); its block is v1's, made linear."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import flops
from workshop_utils.architectures.mobilenet_v2 import (
    MOBILENET_V2_BLOCKS,
    PAPER_MACS,
    PAPER_PARAMS,
    inverted_residual_block,
    make_divisible,
    mobilenet_v2,
)


def test_alpha_1_at_224_equals_keras_exactly_and_the_paper_roughly() -> None:
    ours, theirs = mobilenet_v2(), keras.applications.MobileNetV2(weights=None)
    assert ours.count_params() == theirs.count_params() == 3_538_984
    by_name = {layer.name: layer.count_params() for layer in ours.layers if layer.count_params()}
    assert by_name == {layer.name: layer.count_params() for layer in theirs.layers if layer.count_params()}
    cost, keras_cost = flops.profile(ours), flops.profile(theirs)
    assert cost.macs == keras_cost.macs == 300_774_272
    assert cost.macs == pytest.approx(PAPER_MACS, rel=0.01)  # table 4: 300M
    conv_and_fc = sum(layer.count_params() for layer in ours.layers
                      if not isinstance(layer, keras.layers.BatchNormalization))
    assert conv_and_fc == 3_470_760  # the paper's table 4 says 3.4M: 2% low even without batch norm
    assert conv_and_fc == pytest.approx(PAPER_PARAMS, rel=0.03)
    assert sum(repeats for _, _, repeats, _ in MOBILENET_V2_BLOCKS) == 17


@pytest.mark.parametrize(("alpha", "size"), [(0.35, 96), (0.75, 128), (1.4, 224)])
def test_other_widths_equal_keras(alpha: float, size: int) -> None:
    ours = flops.profile(mobilenet_v2(alpha, size))
    theirs = flops.profile(keras.applications.MobileNetV2(weights=None, alpha=alpha, input_shape=(size, size, 3)))
    assert (ours.params, ours.macs) == (theirs.params, theirs.macs)


def test_same_weights_give_keras_outputs() -> None:
    # "same" padding on the strided depthwise convs equals Keras' ZeroPadding2D(((0, 1), (0, 1))) + "valid".
    theirs = keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(64, 64, 3))
    ours = mobilenet_v2(0.35, 64)
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


def test_block_expands_filters_depthwise_and_projects_linearly() -> None:
    inputs = keras.Input((8, 8, 16))
    block = keras.Model(inputs, inverted_residual_block(inputs, 16, strides=1, expansion=6, block_id=4))
    kinds = [type(layer).__name__ for layer in block.layers[1:]]
    assert kinds == ["Conv2D", "BatchNormalization", "ReLU", "DepthwiseConv2D", "BatchNormalization", "ReLU",
                     "Conv2D", "BatchNormalization", "Add"]  # no ReLU after the projection: the linear bottleneck
    assert block.get_layer("block_4_expand").filters == 96 and block.get_layer("block_4_project").filters == 16
    assert block.count_params() == 16 * 96 + 4 * 96 + 9 * 96 + 4 * 96 + 96 * 16 + 4 * 16
    strided = keras.Model(inputs, inverted_residual_block(inputs, 24, strides=2, block_id=1))
    assert strided.output_shape == (None, 4, 4, 24) and "Add" not in [type(lr).__name__ for lr in strided.layers]
    first = keras.Model(inputs, inverted_residual_block(inputs, 16, expansion=1, block_id=0))
    assert first.layers[1].name == "expanded_conv_depthwise"  # no expansion conv in the first block


def test_make_divisible_rounds_to_eight_and_never_down_more_than_ten_percent() -> None:
    assert [make_divisible(v) for v in (32, 11.2, 16 * 0.35, 1280 * 1.4, 20)] == [32, 16, 8, 1792, 24]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"alpha": 0}, "alpha .* must be > 0"), ({"input_size": 16}, "at least 32"), ({"classes": 0}, "classes"),
     ({"blocks": ()}, "at least one"), ({"blocks": ((6, 24, 1, 3),)}, "strides must be 1 or 2")],
)
def test_bad_hyper_parameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mobilenet_v2(**kwargs)
