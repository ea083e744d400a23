"""SqueezeNet reference: the paper's counts, metaparameters, bypass variants, stems, tops and bad arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import flops
from workshop_utils.architectures.squeezenet import (
    PARAMS,
    SMALL_SQUEEZENET,
    STEM_32X32,
    fire_module,
    fire_widths,
    squeezenet,
    squeezenet_cost,
)


def test_v1_0_matches_table_1_and_v1_1_the_release():
    v10, v11 = squeezenet("1.0"), squeezenet("1.1")
    assert v10.count_params() == PARAMS["1.0"] == 1_248_424  # Iandola et al. 2016, table 1
    assert v11.count_params() == PARAMS["1.1"] == 1_235_496
    assert v10.output_shape == (None, 1000)
    assert v10.get_layer("conv1").kernel.shape == (7, 7, 3, 96)
    assert v11.get_layer("conv1").kernel.shape == (3, 3, 3, 64)


def test_v1_1_is_cheaper_than_v1_0():
    macs_10 = flops.profile(squeezenet("1.0")).macs
    macs_11 = flops.profile(squeezenet("1.1")).macs
    assert 2.0 < macs_10 / macs_11 < 2.6  # the release notes say 2.4x at Caffe's rounding


def test_fire_widths_follow_section_5():
    assert fire_widths() == [(16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
                             (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]
    assert fire_widths(squeeze_ratio=0.75)[0] == (96, 64, 64)
    assert fire_widths(pct_3x3=0.25)[0] == (16, 96, 32)


def test_fire_module_output_and_names():
    inputs = keras.Input((13, 13, 96))
    outputs = fire_module(inputs, 16, 64, 64, name="fire2")
    model = keras.Model(inputs, outputs)
    assert outputs.shape == (None, 13, 13, 128)
    assert model.count_params() == (96 * 16 + 16) + (16 * 64 + 64) + (9 * 16 * 64 + 64)
    assert {layer.name for layer in model.layers} >= {"fire2_squeeze1x1", "fire2_expand1x1", "fire2_expand3x3"}
    images = np.random.default_rng(0).normal(size=(1, 13, 13, 96)).astype("float32")
    assert np.min(np.asarray(model(images))) >= 0  # ReLU on both expand branches


def test_bypass_costs():
    plain = squeezenet().count_params()
    assert squeezenet(bypass="simple").count_params() == plain  # identity adds no weights
    complex_extra = sum(cin * cout + cout for cin, cout in ((96, 128), (128, 256), (256, 384), (384, 512)))
    assert squeezenet(bypass="complex").count_params() == plain + complex_extra
    model = squeezenet(bypass="simple")
    assert [layer.name for layer in model.layers if layer.name.endswith("_bypass")] == [
        "fire3_bypass", "fire5_bypass", "fire7_bypass", "fire9_bypass"]


def small(**changes):
    return squeezenet(input_shape=(32, 32, 3), classes=10, **{**SMALL_SQUEEZENET, **changes})


def test_small_squeezenet_counts_trains_one_step_and_has_bn():
    model = small()
    assert model.count_params() == 190_026  # notebook 06 prints it
    assert small(batch_norm=False).count_params() == 185_514  # the paper's form: conv biases, no batch norm
    assert model.output_shape == (None, 10) and model.name == "small_squeezenet"
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    # the 32x32 stem: conv1 keeps the map, the 2x2 pools after conv1, fire3 and fire5 halve it
    assert model.get_layer("conv1").output.shape[1:3] == (32, 32)
    assert [model.get_layer(f"pool{i}").output.shape[1] for i in (1, 3, 5)] == [16, 8, 4]
    assert model.get_layer("conv1").kernel.shape == (3, 3, 3, 64) and STEM_32X32.strides == 1
    assert model.get_layer("conv10").activation.__name__ == "linear"  # logits: no ReLU before the softmax
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.train_on_batch(np.zeros((4, 32, 32, 3), "float32"), np.arange(4))
    assert np.isfinite(loss)


def test_names_are_deterministic_with_no_auto_named_layers():
    for model in (squeezenet(), squeezenet("1.1", bypass="complex"), small(), small(bypass="simple")):
        names = [layer.name for layer in model.layers]
        assert len(set(names)) == len(names)
        assert all(name == "image" or name.startswith(("conv", "pool", "fire", "drop", "predictions"))
                   for name in names), names
    assert [layer.name for layer in squeezenet().layers][-4:] == ["drop9", "conv10", "pool10", "predictions"]


@pytest.mark.parametrize("pooling, shape", [(None, (None, 12, 12, 512)), ("avg", (None, 512)), ("max", (None, 512))])
def test_without_top_pooling_and_classifier_activation(pooling, shape):
    model = squeezenet(include_top=False, pooling=pooling)
    assert model.output_shape == shape
    assert model.count_params() == PARAMS["1.0"] - (512 * 1000 + 1000)  # all but conv10
    logits = squeezenet(input_shape=(64, 64, 3), classes=3, classifier_activation=None)
    scores = np.asarray(logits(np.random.default_rng(0).random((2, 64, 64, 3)).astype("float32")))
    assert not np.allclose(scores.sum(axis=-1), 1.0)  # no softmax: logits (ReLU'd by conv10, as in the paper)


def test_fewer_modules_and_a_stem_give_the_distributed_demo_model():
    model = squeezenet("1.1", (32, 32, 3), 10, modules=2, squeeze_ratio=0.25, base_e=32, incr_e=0,
                       stem=(16, 3, 1, "same", 2), batch_norm=True, dropout=0.0, conv10_relu=False)
    assert model.count_params() == 4_090
    assert "fire4_concat" not in [layer.name for layer in model.layers]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)  # dropout=0: no layer


@pytest.mark.parametrize("kwargs, words", [
    (dict(version="2.0"), "version must be one of"),
    (dict(bypass="dense"), "bypass must be one of"),
    (dict(squeeze_ratio=0), "squeeze_ratio"),
    (dict(pct_3x3=1.0), "pct_3x3"),
    (dict(dropout=1.0), "dropout"),
    (dict(pooling="sum"), "pooling must be one of"),
    (dict(classes=0), "classes"),
    (dict(modules=0), "modules"),
])
def test_bad_hyper_parameters_raise(kwargs, words):
    with pytest.raises(ValueError, match=words):
        squeezenet(**kwargs)


def test_fire_module_rejects_zero_filters():
    with pytest.raises(ValueError, match="squeeze .filters. must be an integer >= 1"):
        fire_module(keras.Input((8, 8, 4)), 0, 4, 4, name="fire")


@pytest.mark.parametrize("kwargs", [dict(), dict(version="1.1"), dict(squeeze_ratio=0.75, pct_3x3=0.25),
                                    dict(version="1.1", squeeze_ratio=0.5, pct_3x3=0.875, input_size=227)])
def test_squeezenet_cost_equals_the_profile_of_the_built_model(kwargs):
    size = kwargs.pop("input_size", 224)
    cost = flops.profile(squeezenet(input_shape=(size, size, 3), **kwargs))
    assert squeezenet_cost(input_size=size, **kwargs) == (cost.params, cost.macs)
