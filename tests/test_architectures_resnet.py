"""Reference ResNets: counts equal Keras' and torchvision's, shortcuts behave as the paper's options, variants build."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import flops
from workshop_utils.architectures.resnet import (
    VARIANTS,
    IdentityPadShortcut,
    basic_block,
    bottleneck_block,
    resnet,
    resnext,
    small_resnet,
    variant_resnet,
)

#: torchvision's quoted parameter counts (weights metadata ``num_params``), which leave out BN's moving statistics.
TORCHVISION_PARAMS = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032}


def trainable(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_resnet50_equals_keras_applications_with_its_conv_biases():
    ours, theirs = resnet(50, use_bias=True), keras.applications.ResNet50(weights=None)
    assert ours.count_params() == theirs.count_params() == 25_636_712
    assert [[w.shape for w in a.weights] for a in ours.layers] == [[w.shape for w in b.weights] for b in theirs.layers]
    ours.set_weights(theirs.get_weights())
    images = np.random.default_rng(0).random((1, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(ours(images), theirs(images), atol=1e-6)


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_trainable_counts_equal_torchvision(depth):
    assert trainable(resnet(depth)) == TORCHVISION_PARAMS[depth]


def test_resnext50_32x4d_equals_torchvision():
    assert trainable(resnext(50, cardinality=32, width_per_group=4)) == 25_028_904


def test_stride_on_3x3_costs_more_macs_same_params():
    v1, v15 = resnet(50, stride_on="1x1"), resnet(50, stride_on="3x3")
    assert v1.count_params() == v15.count_params()
    assert flops.profile(v15).macs > flops.profile(v1).macs


def test_option_a_has_no_parameters_and_pads_zero_channels():
    x = np.arange(2 * 4 * 4 * 2, dtype="float32").reshape(2, 4, 4, 2)
    y = keras.ops.convert_to_numpy(IdentityPadShortcut(6, stride=2)(x))
    assert y.shape == (2, 2, 2, 6)
    np.testing.assert_array_equal(y[..., 2:4], x[:, ::2, ::2, :])
    assert not y[..., :2].any() and not y[..., 4:].any()
    plain, option_a = small_resnet(shortcut="none"), small_resnet(shortcut="identity_pad")
    assert plain.count_params() == option_a.count_params()
    assert small_resnet(shortcut="projection").count_params() > option_a.count_params()


def test_blocks_shapes_and_projection_only_on_shape_change():
    inputs = keras.Input((16, 16, 32))
    same = keras.Model(inputs, basic_block(inputs, 32, name="b"))
    assert "b_0_conv" not in [layer.name for layer in same.layers]
    down = keras.Model(inputs, basic_block(inputs, 64, stride=2, name="b"))
    assert down.output_shape == (None, 8, 8, 64) and down.get_layer("b_0_conv").strides == (2, 2)
    neck = keras.Model(inputs, bottleneck_block(inputs, 16, groups=4, name="n"))
    assert neck.output_shape == (None, 16, 16, 64)


def test_small_resnet_depth_names_plain_twin():
    assert small_resnet(blocks_per_stage=(3, 3, 3)).name == "resnet20"
    assert small_resnet(blocks_per_stage=(9, 9, 9), shortcut="none").name == "plain56"


@pytest.mark.parametrize("bad", [
    lambda: resnet(42), lambda: resnet(50, groups=3),
    lambda: small_resnet(shortcut="option_z"), lambda: bottleneck_block(keras.Input((8, 8, 8)), 6, groups=4),
    lambda: variant_resnet("gated"),
])
def test_bad_hyper_parameters_raise_with_allowed_values(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_build_and_run(variant):
    model = variant_resnet(variant, stage_widths=(4, 8), blocks_per_stage=(1, 1), input_shape=(8, 8, 3))
    out = keras.ops.convert_to_numpy(model(np.ones((2, 8, 8, 3), "float32")))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_se_resnet50_matches_the_squeeze_and_excitation_paper():
    """SE-ResNet-50 (Hu et al. 2018, table 2: 28.09M): ResNet-50's 25,557,032 trainable + SE's 2,530,992."""
    from workshop_utils.architectures.resnet import resnet

    model = resnet(50, se_ratio=16)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 28_088_024 and round(trainable / 1e6, 2) == 28.09
    assert model.name == "se_resnet50"
    # per block 2 C^2 / r + C / r + C: conv2 (C = 256) x3, conv3 (512) x4, conv4 (1024) x6, conv5 (2048) x3
    se = sum(n * (2 * c * c // 16 + c // 16 + c) for c, n in ((256, 3), (512, 4), (1024, 6), (2048, 3)))
    assert trainable - 25_557_032 == se == 2_530_992


def test_squeeze_excitation_scales_channels_by_gates():
    from workshop_utils.architectures.resnet import basic_block, squeeze_excitation

    inputs = keras.Input((4, 4, 32))
    model = keras.Model(inputs, squeeze_excitation(inputs, ratio=8, name="t"))
    assert model.count_params() == 2 * 32 * 32 // 8 + 32 // 8 + 32
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([np.zeros(w.shape, "float32") for w in layer.weights])  # gates = sigmoid(0) = 0.5
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 32)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), 0.5 * x, rtol=1e-6)
    with pytest.raises(ValueError, match="no hidden unit"):
        squeeze_excitation(inputs, ratio=64)
    plain = keras.Model(inputs, basic_block(inputs, 32))
    with_se = keras.Model(inputs, basic_block(inputs, 32, se_ratio=8))
    assert with_se.count_params() - plain.count_params() == model.count_params()
    assert any(layer.name == "block_se_scale" for layer in with_se.layers)
