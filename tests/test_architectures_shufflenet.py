"""ShuffleNet v1: the shuffle follows the paper's definition, the unit and network follow table 1 and figure 2."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from keras import layers

from workshop_utils import flops
from workshop_utils.architectures.shufflenet import (
    GROUPS,
    TABLE_1_CHANNELS,
    TABLE_1_COMPLEXITY,
    ChannelShuffle,
    shuffle_order,
    shufflenet_unit,
    shufflenet_v1,
    stage_channels,
)
from workshop_utils.connectivity import shuffle_permutation


def paper_shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    """Section 3.1, word for word: reshape the channel dimension into (g, n), transpose, flatten."""
    *lead, channels = x.shape
    n = channels // groups
    return x.reshape(*lead, groups, n).swapaxes(-1, -2).reshape(*lead, channels)


@pytest.mark.parametrize(("channels", "groups"), [(12, 3), (12, 4), (8, 2), (24, 8), (6, 6), (5, 1)])
def test_shuffle_matches_the_paper_definition(channels, groups):
    x = np.random.default_rng(channels * groups).normal(size=(2, 3, 5, channels)).astype("float32")
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(groups)(x)), paper_shuffle(x, groups))
    np.testing.assert_array_equal(paper_shuffle(np.arange(channels), groups), shuffle_order(channels, groups))


def test_shuffle_order_for_12_channels_3_groups_and_not_its_inverse():
    order = shuffle_order(12, 3)
    assert order == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert order != list(np.argsort(order))  # the inverse, [0, 3, 6, 9, 1, ...], is another permutation
    assert list(shuffle_permutation(12, 3).argmax(axis=1)) == order  # agrees with the connectivity module


def test_shuffle_in_a_model_takes_any_batch_and_image_size():
    inputs = keras.Input((None, None, 6))
    model = keras.Model(inputs, ChannelShuffle(2)(inputs))
    for shape in [(1, 4, 4, 6), (3, 7, 5, 6)]:
        x = np.random.default_rng(0).normal(size=shape).astype("float32")
        np.testing.assert_array_equal(model.predict(x, verbose=0), paper_shuffle(x, 2))


def test_shuffle_refuses_indivisible_channels_and_bad_groups():
    with pytest.raises(ValueError, match="10 channels cannot be shuffled in 4 groups"):
        ChannelShuffle(4)(keras.Input((4, 4, 10)))
    with pytest.raises(ValueError, match="groups must be an integer >= 1"):
        ChannelShuffle(0)


def test_shuffle_costs_nothing_and_does_not_warn():
    inputs = keras.Input((8, 8, 12))
    model = keras.Model(inputs, ChannelShuffle(3)(inputs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = flops.profile(model)
    assert cost.macs == 0 and cost.params == 0


def test_shuffle_serializes():
    layer = ChannelShuffle(4, name="s")
    assert ChannelShuffle.from_config(layer.get_config()).groups == 4


@pytest.mark.parametrize("groups", GROUPS)
def test_table_1_complexity_within_3_percent_of_the_quoted_figure(groups):
    cost = flops.profile(shufflenet_v1(groups=groups))
    assert abs(cost.macs / TABLE_1_COMPLEXITY[groups] - 1) < 0.03
    assert cost.layer("predictions").params == TABLE_1_CHANNELS[groups][2] * 1000 + 1000


def test_counts_of_the_g3_network():
    model = shufflenet_v1(groups=3)
    assert model.count_params() == 1_890_208
    assert flops.profile(model).macs == 137_460_672
    assert model.output_shape == (None, 1000)


def test_stage_2_first_pointwise_conv_is_not_grouped_but_the_rest_are():
    model = shufflenet_v1(groups=8)
    assert model.get_layer("stage2_unit1_gconv1").groups == 1
    assert model.get_layer("stage2_unit1_gconv2").groups == 8
    assert model.get_layer("stage2_unit2_gconv1").groups == 8
    assert model.get_layer("stage3_unit1_gconv1").groups == 8


def test_table_1_output_sizes_and_widths():
    model = shufflenet_v1(groups=3)
    assert model.get_layer("pool1").output.shape[1:] == (56, 56, 24)
    for stage, (size, width) in zip((2, 3, 4), [(28, 240), (14, 480), (7, 960)]):
        assert model.get_layer(f"stage{stage}_unit1_relu").output.shape[1:] == (size, size, width)
    units = [layer.name for layer in model.layers if layer.name.endswith("_relu") and "unit" in layer.name
             and "gconv" not in layer.name]
    assert len(units) == 16  # 4 + 8 + 4 units


def test_stride_2_unit_concatenates_the_pooled_input():
    inputs = keras.Input((28, 28, 240))
    model = keras.Model(inputs, shufflenet_unit(inputs, 480, 3, strides=2, name="u"))
    assert model.get_layer("u_gconv2").filters == 240 and model.output_shape == (None, 14, 14, 480)
    assert isinstance(model.get_layer("u_shortcut_pool"), layers.AveragePooling2D)
    # no ReLU right after the depthwise conv
    relus = [layer.name for layer in model.layers if isinstance(layer, layers.ReLU)]
    assert relus == ["u_gconv1_relu", "u_relu"]


def test_no_shuffle_ablation_has_no_shuffle_layers_and_the_same_cost():
    with_shuffle, without = shufflenet_v1(groups=4), shufflenet_v1(groups=4, shuffle=False)
    assert not any(isinstance(layer, ChannelShuffle) for layer in without.layers)
    assert sum(isinstance(layer, ChannelShuffle) for layer in with_shuffle.layers) == 16
    assert flops.profile(with_shuffle).macs == flops.profile(without).macs


def test_split_form_is_the_same_function_as_keras_groups():
    from workshop_utils.grouped_conv import copy_grouped_to_split, group_convs

    kwargs = dict(input_shape=(16, 16, 3), classes=5, groups=2, channels=(16, 32, 64), stage_repeats=(2, 1, 1),
                  stem_filters=8, stem_strides=1, stem_pool=False)
    grouped, split = shufflenet_v1(**kwargs), shufflenet_v1(group_conv="split", **kwargs)
    assert grouped.count_params() == split.count_params()
    split_names = {layer.name for layer in split.layers}
    for layer in grouped.layers:
        if isinstance(layer, layers.Conv2D) and layer.groups > 1:
            copy_grouped_to_split(layer, group_convs(split, layer.name))
        elif layer.weights and layer.name in split_names:
            split.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(split.predict(x, verbose=0), grouped.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_scale_factor_rounds_to_divisible_widths():
    assert stage_channels(3, 0.5) == (120, 240, 480)
    assert stage_channels(8, 0.25) == (96, 192, 384)
    for groups in GROUPS:
        for scale in (0.25, 0.5, 1.5, 2.0):
            assert all(width % (4 * groups) == 0 for width in stage_channels(groups, scale))


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [({"groups": 5}, "one of"), ({"scale": 0}, "positive"), ({"stage_repeats": (4, 8)}, "three"),
     ({"group_conv": "fast"}, "'keras' or 'split'"), ({"channels": (100, 200, 400)}, "multiple of groups")],
)
def test_bad_hyper_parameters_raise(kwargs, says):
    with pytest.raises(ValueError, match=says):
        shufflenet_v1(**({"input_shape": (32, 32, 3)} | kwargs))


@pytest.mark.parametrize("guideline", [1, 2, 3, 4])
def test_v2_guideline_models_differ_in_one_choice_at_equal_macs(guideline):
    from workshop_utils.architectures.shufflenet import guideline_models

    models = guideline_models(guideline, size=7, channels=32, blocks=2)
    macs = [flops.profile(model).macs for model in models.values()]
    assert len(models) >= 3
    tolerance = 0.0 if guideline in (3, 4) else 0.06  # G1, G2 round the widths to whole channels
    assert all(abs(m / macs[0] - 1) <= tolerance for m in macs), macs
    if guideline == 2:
        assert [layer.groups for model in models.values() for layer in model.layers[1:2]] == [1, 2, 4, 8]
    if guideline == 4:
        kinds = [{type(layer).__name__ for layer in model.layers} for model in models.values()]
        assert "ReLU" not in kinds[0] and "Add" not in kinds[0] and {"ReLU", "Add"} <= kinds[-1]


def test_v2_guideline_number_is_checked():
    from workshop_utils.architectures.shufflenet import guideline_models

    with pytest.raises(ValueError, match="one of"):
        guideline_models(5)


def test_bn_momentum_reaches_every_batch_norm():
    model = shufflenet_v1((32, 32, 3), 10, groups=4, channels=(96, 192, 384), stage_repeats=(1, 1, 1),
                          stem_strides=1, stem_pool=False, bn_momentum=0.9)
    momenta = {layer.momentum for layer in model.layers if isinstance(layer, layers.BatchNormalization)}
    assert momenta == {0.9}
    assert {layer.momentum for layer in shufflenet_v1(groups=1).layers
            if isinstance(layer, layers.BatchNormalization)} == {0.99}
