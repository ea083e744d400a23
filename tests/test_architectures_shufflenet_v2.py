"""ShuffleNet V2: the unit (split, one branch, concat, shuffle) and the 1x network against the paper's table 5."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from keras import ops

from workshop_utils import flops
from workshop_utils.architectures.shufflenet import shuffle_order
from workshop_utils.architectures.shufflenet_v2 import STAGE_CHANNELS, TABLE_5, shufflenet_v2, shufflenet_v2_unit


def trainable(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_1x_is_counted_within_one_percent_of_table_5() -> None:
    model = shufflenet_v2(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", flops.UncountedLayerWarning)  # the split and the shuffle cost 0, declared
        cost = flops.profile(model)
    quoted_macs, quoted_params = TABLE_5[1.0]
    assert cost.macs == 144_907_992 and cost.macs == pytest.approx(quoted_macs, rel=0.01)  # quoted 146M
    assert trainable(model) == 2_278_604  # torchvision's shufflenet_v2_x1_0 has the same 2,278,604
    assert trainable(model) == pytest.approx(quoted_params, rel=0.01)  # quoted 2.3M
    assert cost.params == model.count_params() == 2_294_784  # + batch norm's moving statistics
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("width", [0.5, 1.5, 2.0])
def test_other_widths_within_three_percent_of_table_5(width: float) -> None:
    model = shufflenet_v2(width)
    quoted_macs, quoted_params = TABLE_5[width]
    assert flops.profile(model).macs == pytest.approx(quoted_macs, rel=0.03)
    assert trainable(model) == pytest.approx(quoted_params, rel=0.03)


def test_stride_1_unit_passes_one_half_through_and_shuffles() -> None:
    inputs = keras.Input((4, 4, 8))
    unit = keras.Model(inputs, shufflenet_v2_unit(inputs, 8, strides=1, name="u"))
    kinds = [type(layer).__name__ for layer in unit.layers[1:]]
    assert kinds.count("Conv2D") == 2 and kinds.count("DepthwiseConv2D") == 1 and kinds.count("ReLU") == 2
    assert "Add" not in kinds and all(layer.groups == 1 for layer in unit.layers if type(layer).__name__ == "Conv2D")
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32")
    y = ops.convert_to_numpy(unit(x))
    passed = y[..., np.argsort(shuffle_order(8, 2))][..., :4]  # undo the shuffle: the first half is the left branch
    np.testing.assert_array_equal(passed, x[..., :4])  # the untouched half of the split


def test_stride_2_unit_reads_all_channels_in_both_branches_and_doubles_them() -> None:
    inputs = keras.Input((8, 8, 24))
    unit = keras.Model(inputs, shufflenet_v2_unit(inputs, 116, strides=2, name="s2"))
    assert unit.output_shape == (None, 4, 4, 116)
    assert unit.get_layer("s2_left_dwconv").strides == (2, 2) and unit.get_layer("s2_dwconv").strides == (2, 2)
    assert unit.get_layer("s2_conv1").kernel.shape == (1, 1, 24, 58)


def test_stage_widths_follow_table_5() -> None:
    model = shufflenet_v2(0.5, input_shape=(64, 64, 3), classes=10)
    widths = [model.get_layer(f"stage{s}_unit1_concat").output.shape[-1] for s in (2, 3, 4)]
    assert widths == list(STAGE_CHANNELS[0.5][:3]) and model.output_shape == (None, 10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: shufflenet_v2(0.75), "one of the paper's"),
        (lambda: shufflenet_v2(1.0, input_shape=(16, 16, 3)), "sides >= 32"),
        (lambda: shufflenet_v2_unit(keras.Input((4, 4, 8)), 16, strides=1), "keeps its width"),
        (lambda: shufflenet_v2_unit(keras.Input((4, 4, 8)), 9, strides=2), "even integer"),
        (lambda: shufflenet_v2_unit(keras.Input((4, 4, 8)), 8, strides=3), "strides must be 1 or 2"),
    ],
)
def test_bad_arguments_raise(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
