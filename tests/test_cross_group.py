"""The cross-group task of notebook 05: the two ways to cut an image into channel groups, and the grouped-stem
ShuffleNet built for them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from workshop_utils import flops
from workshop_utils.cross_group import (
    GROUPS,
    NoisyShares,
    ScatterToGroups,
    cross_group_shufflenet,
    noise_patterns,
    pixel_groups,
    scatter_images,
)


def test_every_pixel_goes_to_exactly_one_group_and_groups_are_balanced() -> None:
    assignment = pixel_groups(16, 16)
    assert assignment.shape == (16, 16)
    assert np.bincount(assignment.ravel(), minlength=GROUPS).tolist() == [32] * GROUPS
    assert np.array_equal(assignment, pixel_groups(16, 16))  # fixed: the same every time
    images = np.random.default_rng(0).integers(1, 256, (3, 16, 16, 3)).astype(np.uint8)
    scattered = scatter_images(images)
    assert scattered.shape == (3, 16, 16, 3 * GROUPS)
    groups = scattered.reshape(3, 16, 16, GROUPS, 3)
    assert np.array_equal(groups.sum(axis=3, dtype=np.int64), images)  # each pixel kept once, in one group
    for k in range(GROUPS):
        assert np.all(groups[:, assignment != k, k] == 0)


def test_noisy_shares_average_back_to_the_image() -> None:
    noise = noise_patterns(16, 16, 3, sigma=0.5).reshape(16, 16, GROUPS, 3)
    assert np.abs(noise.mean(axis=2)).max() < 1e-6
    assert 0.4 < noise.std() < 0.5  # sigma * sqrt(7/8) after removing the mean over 8 groups
    images = np.random.default_rng(1).random((2, 16, 16, 3)).astype("float32")
    shares = ops.convert_to_numpy(NoisyShares(GROUPS, sigma=0.5)(images)).reshape(2, 16, 16, GROUPS, 3)
    assert np.abs(shares.mean(axis=3) - images).max() < 1e-5
    assert np.abs(shares[..., 0, :] - images).mean() > 0.3  # one group alone is far from the image


@pytest.mark.parametrize("layer", [ScatterToGroups(GROUPS), NoisyShares(GROUPS)])
def test_task_layers_cost_nothing(layer: keras.layers.Layer) -> None:
    inputs = keras.Input((16, 16, 3))
    cost = flops.profile(keras.Model(inputs, layer(inputs)))
    assert cost.macs == 0 and cost.params == 0


def test_scatter_layer_equals_the_numpy_twin() -> None:
    images = np.random.default_rng(1).random((2, 16, 16, 3)).astype("float32")
    assert np.array_equal(ops.convert_to_numpy(ScatterToGroups(GROUPS)(images)), scatter_images(images))


@pytest.mark.parametrize("task", ["shares", "pixels"])
def test_twins_differ_only_in_the_shuffle_and_no_weighted_layer_reads_two_groups(task: str) -> None:
    keras.utils.set_random_seed(0)
    with_shuffle = cross_group_shufflenet((16, 16, 3), 10, shuffle=True, task=task)
    keras.utils.set_random_seed(0)
    without = cross_group_shufflenet((16, 16, 3), 10, shuffle=False, task=task)
    assert with_shuffle.count_params() == without.count_params()
    assert flops.profile(with_shuffle).macs == flops.profile(without).macs
    assert not any("shuffle" in layer.name for layer in without.layers)
    assert sum("shuffle" in layer.name for layer in with_shuffle.layers) == 4  # after the stem, in 3 units
    plain_convs = [layer for layer in without.layers if isinstance(layer, keras.layers.Conv2D)
                   and not isinstance(layer, keras.layers.DepthwiseConv2D) and "_group" not in layer.name]
    assert plain_convs == []  # every Conv2D with weights is one group's conv (split form)


def test_without_shuffle_the_first_unit_keeps_groups_apart() -> None:
    keras.utils.set_random_seed(0)
    model = cross_group_shufflenet((16, 16, 3), 10, shuffle=False, task="pixels")
    branch = keras.Model(model.input, model.get_layer("stage2_unit1_gconv2_bn").output)
    base = ops.convert_to_numpy(branch(np.zeros((1, 16, 16, 3), "float32")))
    y, x = np.argwhere(pixel_groups(16, 16) == 0)[0]
    probe = np.zeros((1, 16, 16, 3), "float32")
    probe[0, y, x] = 1.0  # a pixel of group 0
    changed = np.abs(ops.convert_to_numpy(branch(probe)) - base).max(axis=(0, 1, 2)) > 0
    per_group = changed.reshape(GROUPS, -1).any(axis=1)
    assert per_group[0] and not per_group[1:].any()


def test_bad_task_is_refused() -> None:
    with pytest.raises(ValueError, match="task"):
        cross_group_shufflenet((16, 16, 3), 10, task="colours")
