"""FPN: pyramid shapes, nearest upsampling on the top-down path, shape checks, the demo classifiers and data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import multiscale_shapes
from workshop_utils.architectures import fpn


def test_resnet18_pyramid_has_four_levels_of_256_channels():
    backbone = fpn.resnet_backbone(18)
    shapes = [tuple(p.shape[1:]) for p in fpn.top_down_pyramid(backbone.outputs)]
    assert shapes == [(56, 56, 256), (28, 28, 256), (14, 14, 256), (7, 7, 256)]
    assert [tuple(c.shape[1:]) for c in backbone.outputs] == [(56, 56, 64), (28, 28, 128), (14, 14, 256),
                                                             (7, 7, 512)]


def test_top_down_pathway_parameters_and_nearest_upsampling():
    inputs = [keras.Input((8, 8, 4)), keras.Input((4, 4, 8))]
    p2, p3 = fpn.top_down_pyramid(inputs, channels=2, name="t")
    model = keras.Model(inputs, [p2, p3])
    # laterals: (4*2+2) + (8*2+2); smoothing: 2 x (3*3*2*2+2)
    assert model.count_params() == 10 + 18 + 2 * 38
    up = model.get_layer("t_up3")
    assert up.interpolation == "nearest" and up.size == (2, 2)


def test_pyramid_rejects_maps_that_do_not_halve():
    with pytest.raises(ValueError, match="half the size"):
        fpn.top_down_pyramid([keras.Input((8, 8, 4)), keras.Input((8, 8, 4))])
    with pytest.raises(ValueError, match="at least two"):
        fpn.top_down_pyramid([keras.Input((8, 8, 4))])


def test_demo_classifiers_share_backbone_and_head_shapes():
    pyramid = fpn.pyramid_classifier()
    single = fpn.single_level_classifier()
    assert pyramid.output_shape == single.output_shape == (None, 4)
    # The head's layers are created once and applied to every level.
    assert len([layer for layer in pyramid.layers if layer.name == "head_conv"]) == 1
    x = np.zeros((2, 64, 64, 3), dtype="float32")
    assert np.allclose(np.asarray(pyramid(x)).sum(axis=-1), 1.0, atol=1e-5)


def test_multiscale_data_is_balanced_and_reproducible():
    data, test_small = multiscale_shapes.load_multiscale_shapes(train_size=64, test_size=32, seed=5)
    again, _ = multiscale_shapes.load_multiscale_shapes(train_size=64, test_size=32, seed=5)
    assert np.array_equal(data.x_train, again.x_train)
    assert data.x_train.shape == (64, 64, 64, 3) and data.x_train.dtype == np.uint8
    assert np.bincount(data.y_train).tolist() == [16, 16, 16, 16]
    assert test_small.sum() == 16


def test_small_and_large_objects_differ_in_area():
    rng = np.random.default_rng(0)
    background_only = []
    for small in (True, False):
        image = multiscale_shapes.draw_image(rng, label=0, small=small)
        bright = (image.min(axis=-1) > 0.5 * 255).sum()   # object pixels are brighter than the background
        background_only.append(bright)
    assert background_only[0] < 100 < background_only[1]


def test_unknown_shape_is_rejected():
    with pytest.raises(ValueError, match="shape must be one of"):
        multiscale_shapes._mask("hexagon", 8, 64, 0, 0)
