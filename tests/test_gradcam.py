"""Grad-CAM equals its formula on a net small enough to differentiate by hand, on the active backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils.gradcam import grad_cam, plot_grad_cam, split_at


def _linear_net() -> keras.Model:
    """maps = the image's two channels (a 1x1 identity conv); scores = GAP then a known Dense; softmax."""
    inputs = keras.Input((6, 6, 2), name="image")
    maps = keras.layers.Conv2D(2, 1, use_bias=False, name="maps")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(maps)
    scores = keras.layers.Dense(3, name="scores")(pooled)
    outputs = keras.layers.Activation("softmax", name="predictions")(scores)
    model = keras.Model(inputs, outputs)
    model.get_layer("maps").set_weights([np.eye(2, dtype="float32")[None, None]])
    model.get_layer("scores").set_weights([np.array([[1.0, -1.0, 0.0], [-0.5, 2.0, 0.0]], "float32"),
                                           np.zeros(3, "float32")])
    return model


def test_maps_equal_the_formula_relu_of_weighted_channels():
    rng = np.random.default_rng(0)
    images = rng.random((2, 6, 6, 2)).astype("float32")
    cam = grad_cam(_linear_net(), images, "maps", classes=[0, 1])
    # dy_c/dA_k = w_kc / 36 everywhere, so the map is ReLU(sum_k w_kc A_k) up to the positive 1/36, scaled to max 1.
    weights = np.array([[1.0, -1.0, 0.0], [-0.5, 2.0, 0.0]])
    for index, c in enumerate([0, 1]):
        expected = np.maximum(images[index] @ weights[:, c], 0.0)
        assert np.allclose(cam.heatmaps[index], expected / expected.max(), atol=1e-5)
    assert cam.heatmaps.shape == (2, 6, 6) and list(cam.classes) == [0, 1]


def test_the_predicted_class_is_explained_by_default_and_a_bright_spot_is_found():
    images = np.zeros((1, 6, 6, 2), "float32")
    images[0, 4, 1, 0] = 1.0                       # channel 0 votes for class 0 (weight +1)
    cam = grad_cam(_linear_net(), images, "maps")
    assert cam.predicted[0] == cam.classes[0] == 0 and 0.33 < cam.probabilities[0] < 1
    assert np.unravel_index(np.argmax(cam.heatmaps[0]), (6, 6)) == (4, 1)
    assert cam.heatmaps[0].sum() == pytest.approx(1.0)    # only that position raises the score
    figure = plot_grad_cam(images[..., :1], cam, [0], ["a", "b", "c"])
    assert "Grad-CAM at maps" in figure._suptitle.get_text()


def test_a_layer_that_a_path_skips_cannot_be_cut_at():
    inputs = keras.Input((4, 4, 2))
    branch = keras.layers.Conv2D(2, 1, name="branch")(inputs)
    merged = keras.layers.Add(name="add")([inputs, branch])
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(merged)))
    with pytest.raises(ValueError, match="every path"):
        split_at(model, "branch")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        split_at(model, "nope")
    features, head = split_at(model, "add")
    assert head.input_shape == (None, 4, 4, 2) and features.output_shape == (None, 4, 4, 2)


def test_bad_classes_are_refused():
    with pytest.raises(ValueError, match="one index"):
        grad_cam(_linear_net(), np.zeros((2, 6, 6, 2), "float32"), "maps", classes=[0, 5])
