"""Per-layer gradient norms equal the analytic gradient on a model small enough to differentiate by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils.gradient_flow import kernel_gradient_norms, loss_gradients


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
