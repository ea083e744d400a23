"""Reference ResNets: counts equal Keras' and torchvision's, shortcuts behave as the paper's options, the factory
refuses contradictory arguments, and each Identity Mappings unit orders its layers as the paper's figure."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import flops
from workshop_utils._keras_internals import inbound_nodes, source_layer
from workshop_utils.architectures import identity_mappings
from workshop_utils.architectures.densenet import densenet
from workshop_utils.architectures.identity_mappings import UNITS, VARIANTS, variant_resnet
from workshop_utils.architectures.resnet import (
    TORCHVISION,
    IdentityPadShortcut,
    basic_block,
    bottleneck_block,
    resnet,
    resnext,
)


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
    assert trainable(resnet(depth)) == TORCHVISION[depth]


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
    plain, option_a = resnet(14, stem="cifar", shortcut="none"), resnet(14, stem="cifar", shortcut="identity_pad")
    assert plain.count_params() == option_a.count_params()
    assert resnet(14, stem="cifar", shortcut="projection").count_params() > option_a.count_params()


def test_blocks_shapes_and_projection_only_on_shape_change():
    inputs = keras.Input((16, 16, 32))
    same = keras.Model(inputs, basic_block(inputs, 32, name="b"))
    assert "b_0_conv" not in [layer.name for layer in same.layers]
    down = keras.Model(inputs, basic_block(inputs, 64, stride=2, name="b"))
    assert down.output_shape == (None, 8, 8, 64) and down.get_layer("b_0_conv").strides == (2, 2)
    neck = keras.Model(inputs, bottleneck_block(inputs, 16, groups=4, name="n"))
    assert neck.output_shape == (None, 16, 16, 64)


def test_cifar_stem_builds_notebook_07s_nets_with_their_counts_and_names():
    # Counts printed by notebooks 07 (ResNet-20 option B, plain-20, 56-layer option A at 16x16) and 08 (ResNet-14).
    assert resnet(20, stem="cifar").count_params() == 274_042
    assert resnet(20, stem="cifar", shortcut="none").name == "plain20"
    assert resnet(20, stem="cifar", shortcut="none").count_params() == 271_098
    assert resnet(56, stem="cifar", shortcut="identity_pad", input_shape=(16, 16, 3)).count_params() == 857_082
    assert resnet(14, stem="cifar").count_params() == 176_378 and resnet(14, stem="cifar").name == "resnet14"
    model = resnet(20, stem="cifar")
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert [model.get_layer(n).output.shape[1] for n in ("conv1_relu", "conv2_block3_out", "conv4_block3_out")] == [
        32, 32, 8]


def test_top_options_follow_keras_applications():
    features = resnet(20, stem="cifar", include_top=False)
    assert features.output_shape == (None, 8, 8, 64)
    assert resnet(20, stem="cifar", include_top=False, pooling="max").output_shape == (None, 64)
    assert resnet(18, include_top=False, pooling="avg").output_shape == (None, 512)
    logits = resnet(20, stem="cifar", classes=7, classifier_activation=None)
    assert logits.output_shape == (None, 7) and logits.get_layer("predictions").activation.__name__ == "linear"
    assert features.count_params() == resnet(20, stem="cifar").count_params() - (64 * 10 + 10)


@pytest.mark.parametrize("bad, message", [
    (lambda: resnet(42), "one of"),
    (lambda: resnet(50, groups=3), "groups=3 must divide"),
    (lambda: resnet(50, blocks=(1, 1, 1, 1)), "not both"),
    (lambda: resnet(18, block="bottleneck"), "goes with blocks="),
    (lambda: resnet(21, stem="cifar"), "6n \\+ 2"),
    (lambda: resnet(stem="mnist"), "stem must be one of"),
    (lambda: resnet(18, groups=32), "bottleneck's"),
    (lambda: resnet(18, stride_on="3x3"), "bottleneck's"),
    (lambda: resnet(18, expansion=2), "bottleneck's"),
    (lambda: resnet(blocks=(1, 1), widths=(16,), stem="cifar"), "one entry per stage"),
    (lambda: resnet(50, pooling="avg"), "include_top=False"),
    (lambda: resnet(50, pooling="mean", include_top=False), "pooling must be one of"),
    (lambda: resnet(14, stem="cifar", shortcut="option_z"), "shortcut must be one of"),
    (lambda: bottleneck_block(keras.Input((8, 8, 8)), 6, groups=4), "groups=4 must divide"),
    (lambda: variant_resnet("gated"), "variant must be one of"),
    (lambda: variant_resnet("original", scale=0.3), "takes no extra arguments"),
])
def test_bad_hyper_parameters_raise_with_allowed_values(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


@pytest.mark.parametrize("build", [
    lambda: resnet(14, stem="cifar"), lambda: resnet(18, input_shape=(64, 64, 3), se_ratio=8),
    lambda: densenet((2, 2), growth_rate=4, stem="cifar"),
    *(lambda variant=variant: variant_resnet(variant, blocks_per_stage=(1, 1, 1)) for variant in VARIANTS),
])
def test_layer_names_are_deterministic_and_no_op_node_is_auto_named(build):
    first, second = build(), build()
    assert [layer.name for layer in first.operations] == [layer.name for layer in second.operations]
    assert all(isinstance(operation, keras.layers.Layer) for operation in first.operations)  # no bare keras.ops node
    assert len({layer.name for layer in first.layers}) == len(first.layers)


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_build_and_run(variant):
    model = variant_resnet(variant, stage_widths=(4, 8), blocks_per_stage=(1, 1), input_shape=(8, 8, 3))
    out = keras.ops.convert_to_numpy(model(np.ones((2, 8, 8, 3), "float32")))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_variant_counts_are_notebook_07s():
    counts = {variant: variant_resnet(variant).count_params() for variant in VARIANTS}
    assert counts == {
        "original": 274_042, "constant_scaling": 274_042, "exclusive_gating": 287_946,
        "shortcut_only_gating": 287_946, "conv_shortcut": 284_666, "dropout_shortcut": 274_042,
        "bn_after_addition": 274_042, "relu_before_addition": 274_042, "relu_only_preactivation": 273_914,
        "full_preactivation": 273_658}
    assert set(identity_mappings.PAPER_ERROR) == set(VARIANTS) == set(UNITS)


# --- Which op follows which: each unit's graph, written as the paper's formula -----------------------------------

def formula(tensor) -> str:
    """The expression that computes ``tensor``, read back from the graph: conv, conv1x1, gate (sigmoid 1x1 conv),
    bn, relu, add, mul, dropout, ``s*`` (scaling by s), ``1-`` (one minus), ``x`` (the unit's input)."""
    layer = source_layer(tensor)
    if isinstance(layer, keras.layers.InputLayer):
        return "x"
    node = next(n for n in inbound_nodes(layer) if any(out is tensor for out in n.output_tensors))
    args = [formula(parent) for parent in node.input_tensors]
    if isinstance(layer, keras.layers.Rescaling):
        return f"1-{args[0]}" if (layer.scale, layer.offset) == (-1.0, 1.0) else f"{layer.scale:g}*{args[0]}"
    if isinstance(layer, keras.layers.Conv2D):
        kind = "gate" if layer.activation.__name__ == "sigmoid" else "conv" + ("1x1" if layer.kernel_size == (1, 1)
                                                                                 else "")
    else:
        kind = {"BatchNormalization": "bn", "Activation": layer.get_config().get("activation"), "Add": "add",
                "Multiply": "mul", "Dropout": "dropout"}[type(layer).__name__]
    return f"{kind}({', '.join(args)})"


F = "bn(conv(relu(bn(conv(x)))))"  # the post-activation residual branch conv-BN-ReLU-conv-BN

#: He et al. 2016, figure 2 (a)-(f) and figure 4 (a)-(e), on a unit that keeps the shape (identity shortcut).
IDENTITY_FORMULAS = {
    "original": f"relu(add(x, {F}))",
    "constant_scaling": f"relu(add(0.5*x, 0.5*{F}))",
    "exclusive_gating": f"relu(add(mul(1-gate(x), x), mul(gate(x), {F})))",
    "shortcut_only_gating": f"relu(add(mul(1-gate(x), x), {F}))",
    "conv_shortcut": f"relu(add(conv1x1(x), {F}))",
    "dropout_shortcut": f"relu(add(dropout(x), {F}))",
    "bn_after_addition": "relu(bn(add(x, conv(relu(bn(conv(x)))))))",  # BN moved after the addition
    "relu_before_addition": f"add(x, relu({F}))",                       # nothing after the addition
    "relu_only_preactivation": "add(x, bn(conv(relu(bn(conv(relu(x)))))))",
    "full_preactivation": "add(x, conv(relu(bn(conv(relu(bn(x)))))))",
}


def unit_formula(variant: str, channels: int, filters: int, stride: int) -> str:
    inputs = keras.Input((8, 8, channels))
    return formula(UNITS[variant](inputs, filters, stride, name="u"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_unit_orders_its_layers_as_the_papers_figure(variant):
    assert unit_formula(variant, 4, 4, 1) == IDENTITY_FORMULAS[variant]


@pytest.mark.parametrize("variant, expected", [
    # Post-activation units project with a 1x1 conv + BN where the shape changes ...
    ("original", "relu(add(bn(conv1x1(x)), bn(conv(relu(bn(conv(x)))))))"),
    ("dropout_shortcut", "relu(add(dropout(bn(conv1x1(x))), bn(conv(relu(bn(conv(x)))))))"),
    ("conv_shortcut", "relu(add(conv1x1(x), bn(conv(relu(bn(conv(x)))))))"),
    # ... pre-activation units project the activated input, and add no BN to the shortcut.
    ("relu_only_preactivation", "add(conv1x1(relu(x)), bn(conv(relu(bn(conv(relu(x)))))))"),
    ("full_preactivation", "add(conv1x1(relu(bn(x))), conv(relu(bn(conv(relu(bn(x)))))))"),
])
def test_units_that_change_the_shape_project_the_shortcut(variant, expected):
    assert unit_formula(variant, 4, 8, 2) == expected


def test_preactivation_nets_end_with_bn_relu_and_full_preactivation_starts_with_a_bare_conv():
    full, original = variant_resnet("full_preactivation"), variant_resnet("original")
    assert formula(full.get_layer("avg_pool").input).startswith("relu(bn(add(")
    assert formula(original.get_layer("avg_pool").input).startswith("relu(add(")
    assert "conv1_bn" not in [layer.name for layer in full.layers]
    assert formula(full.get_layer("conv2_block1_preact_bn").input) == "conv(x)"


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
