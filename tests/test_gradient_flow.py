"""Per-layer gradient norms equal the analytic gradient on a model small enough to differentiate by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils.gradient_flow import (
    cifar_depths,
    depth_sweep,
    input_to_output_ratio,
    kernel_gradient_norms,
    loss_gradients,
    plot_depth_sweep,
    plot_shortcut_scaling,
)


def softmax_regression() -> keras.Model:
    inputs = keras.Input((3,))
    dense = keras.layers.Dense(2, activation="softmax", kernel_initializer="zeros", name="dense")
    return keras.Model(inputs, dense(inputs))


def test_dense_gradient_equals_cross_entropy_formula():
    x = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]], dtype="float32")
    y = np.array([0, 1])
    probabilities = np.full((2, 2), 0.5)          # zero weights: uniform softmax
    expected = x.T @ (probabilities - np.eye(2)[y]) / len(x)
    kernel_grad = loss_gradients(softmax_regression(), x, y)[0]
    np.testing.assert_allclose(kernel_grad, expected, rtol=1e-5, atol=1e-6)
    norms = kernel_gradient_norms(softmax_regression(), x, y, layer_types=(keras.layers.Dense,))
    assert norms[0][0] == "dense"
    assert norms[0][1] == pytest.approx(float(np.linalg.norm(expected)), rel=1e-5)


def test_no_matching_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="no layer of type"):
        kernel_gradient_norms(softmax_regression(), np.zeros((1, 3), "float32"), np.zeros(1, int))


def test_cifar_depths_are_6n_plus_2():
    assert cifar_depths(56) == [8, 14, 20, 26, 32, 38, 44, 50, 56]
    assert cifar_depths(20) == [8, 14, 20]
    with pytest.raises(ValueError, match="at least 8"):
        cifar_depths(7)


def test_depth_sweep_measures_plain_and_residual_twins():
    rng = np.random.default_rng(0)
    images, labels = rng.random((8, 8, 8, 3), dtype=np.float32), rng.integers(0, 10, 8)
    sweep = depth_sweep([8, 14], images, labels)
    assert sorted(sweep) == [8, 14]
    for depth, pair in sweep.items():
        assert sorted(pair) == [f"plain{depth}", f"resnet{depth}"]
        for rows in pair.values():
            assert len(rows) == depth - 1                 # every conv but the dense head, no projection
            assert all(norm > 0 for _, norm in rows)
    # seeded: the same net gives the same norms
    again = depth_sweep([8], images, labels)
    assert again[8]["plain8"] == sweep[8]["plain8"]
    figure = plot_depth_sweep(sweep, 14)
    assert len(figure.axes) == 2 and len(figure.axes[1].lines) >= 4
    with pytest.raises(ValueError, match="not in the sweep"):
        plot_depth_sweep(sweep, 20)


def test_depth_sweep_rejects_depths_that_are_not_6n_plus_2():
    images = np.zeros((2, 8, 8, 3), "float32")
    with pytest.raises(ValueError, match="6n \\+ 2"):
        depth_sweep([10], images, np.zeros(2, int))
    with pytest.raises(ValueError, match="batch"):
        depth_sweep([8], np.zeros((8, 8, 3), "float32"), np.zeros(2, int))


def test_input_to_output_ratio():
    assert input_to_output_ratio([("a", 4.0), ("b", 1.0), ("c", 2.0)]) == 2.0
    with pytest.raises(ValueError):
        input_to_output_ratio([])


def test_shortcut_scaling_draws_lambda_to_the_blocks_crossed():
    figure = plot_shortcut_scaling(0.5, 9)
    thick = [line for line in figure.axes[0].lines if line.get_linewidth() > 2][0]
    np.testing.assert_allclose(thick.get_ydata(), 0.5 ** (9 - np.arange(10)))
    assert thick.get_ydata()[0] == pytest.approx(0.5**9)
    assert "0.00195" in figure.axes[0].get_title()
    for bad_scale, bad_blocks in ((0.0, 9), (-1.0, 9), (0.5, 0), (0.5, 2.5)):
        with pytest.raises(ValueError):
            plot_shortcut_scaling(bad_scale, bad_blocks)


def test_gradients_of_a_function_of_tensors_on_this_backend():
    from workshop_utils.gradient_flow import gradients

    x = keras.ops.convert_to_tensor(np.array([1.0, -2.0, 3.0], "float32"))
    w = keras.ops.convert_to_tensor(np.array([0.5, 0.5, 2.0], "float32"))
    grad_x, grad_w = gradients(lambda args: keras.ops.sum(args[0] ** 2 * args[1]), [x, w])
    assert np.allclose(keras.ops.convert_to_numpy(grad_x), [1.0, -2.0, 12.0])     # 2 x w
    assert np.allclose(keras.ops.convert_to_numpy(grad_w), [1.0, 4.0, 9.0])       # x^2
