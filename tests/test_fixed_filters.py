"""Fixed edge kernels and filter_image, checked against a NumPy correlation and a step edge."""

from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.fixed_filters import edge_kernel, filter_image


@pytest.mark.parametrize("size", [3, 11])
def test_edge_kernel_is_an_antisymmetric_x_derivative(size: int) -> None:
    kernel = edge_kernel(size)
    assert kernel.shape == (size, size, 3, 1) and kernel.dtype == np.float32
    plane = kernel[:, :, 0, 0]
    np.testing.assert_allclose(plane, -plane[:, ::-1], atol=1e-7)  # odd along x: flat regions give 0
    np.testing.assert_allclose(plane, plane[::-1, :], atol=1e-7)  # even along y
    assert np.abs(kernel).sum() == pytest.approx(1.0, rel=1e-5)
    assert np.allclose(kernel[:, :, 0], kernel[:, :, 2])  # the same on every channel


def test_filter_image_matches_numpy_and_finds_a_step_edge() -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    image[:, 8:] = 255  # dark left half, light right half: one vertical edge between columns 7 and 8
    kernel = edge_kernel(3)
    response = filter_image(image, kernel)
    assert response.shape == (16, 16)
    padded = np.pad(image.astype("float32") / 255.0, ((1, 1), (1, 1), (0, 0)))
    expected = np.array([[np.sum(padded[r:r + 3, c:c + 3] * kernel[..., 0]) for c in range(16)] for r in range(16)])
    np.testing.assert_allclose(response, expected, atol=1e-5)
    inside = np.abs(response[:, 1:-1]).max(axis=0) > 1e-6  # columns 1-14: away from the zero padding
    assert set(np.flatnonzero(inside) + 1) == {7, 8}  # a response only beside the edge, none on flat regions


def test_bad_inputs_say_what_to_pass() -> None:
    with pytest.raises(ValueError, match="size must be an integer >= 1"):
        edge_kernel(0)
    with pytest.raises(ValueError, match="edge_kernel"):
        filter_image(np.zeros((8, 8, 3), np.uint8), edge_kernel(3, channels=1))
