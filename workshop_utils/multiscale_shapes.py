"""A generated multi-scale task for the FPN demo: one shape per image, drawn either tiny or large.

Four classes (square, disk, triangle, plus) on a noisy background, 64x64 colour images. Half the objects are
**small** (6-9 px across) and half **large** (28-44 px), so a network that looks only at its coarsest feature map
(stride 16: a small object covers half a cell) has to work harder on the small ones than a feature pyramid, whose
fine levels keep them several cells wide. Nothing is downloaded: every image is drawn from (seed, index).

Example::

    from workshop_utils.multiscale_shapes import load_multiscale_shapes
    data, test_is_small = load_multiscale_shapes(train_size=4000, test_size=1000)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from workshop_utils.data import Dataset

CLASS_NAMES: tuple[str, ...] = ("square", "disk", "triangle", "plus")
SMALL_SIZES: tuple[int, int] = (6, 9)
LARGE_SIZES: tuple[int, int] = (28, 44)


@lru_cache(maxsize=4)
def _pixel_grid(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of every pixel (cached: the generator draws thousands of masks)."""
    return np.mgrid[0:image_size, 0:image_size]


def _mask(shape: str, size: int, image_size: int, top: int, left: int) -> np.ndarray:
    """Boolean mask of one filled shape whose bounding box is size x size at (top, left)."""
    rows, cols = _pixel_grid(image_size)
    y = (rows - top + 0.5) / size  # 0..1 inside the bounding box
    x = (cols - left + 0.5) / size
    inside = (y >= 0) & (y <= 1) & (x >= 0) & (x <= 1)
    if shape == "square":
        return inside
    if shape == "disk":
        return (y - 0.5) ** 2 + (x - 0.5) ** 2 <= 0.25
    if shape == "triangle":  # apex at the top, base at the bottom
        return inside & (np.abs(x - 0.5) <= 0.5 * y)
    if shape == "plus":
        bar = 0.34
        return inside & ((np.abs(x - 0.5) <= bar / 2) | (np.abs(y - 0.5) <= bar / 2))
    raise ValueError(f"shape must be one of {CLASS_NAMES}, got {shape!r}.")


def draw_image(rng: np.random.Generator, label: int, small: bool, image_size: int = 64) -> np.ndarray:
    """One uint8 image (image_size, image_size, 3) with shape ``CLASS_NAMES[label]``, small or large."""
    low, high = SMALL_SIZES if small else LARGE_SIZES
    size = int(rng.integers(low, high + 1))
    top, left = (int(v) for v in rng.integers(0, image_size - size + 1, size=2))
    background = rng.uniform(0.0, 0.35, size=3)
    image = background + rng.normal(scale=0.06, size=(image_size, image_size, 3))
    colour = rng.uniform(0.55, 1.0, size=3)
    image[_mask(CLASS_NAMES[label], size, image_size, top, left)] = colour
    return (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def make_split(count: int, seed: int, image_size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` images with balanced classes and sizes: (images uint8, labels int64, is_small bool).

    Example::

        images, labels, is_small = make_split(100, seed=0)
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}.")
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(CLASS_NAMES)
    is_small = (np.arange(count) // len(CLASS_NAMES)) % 2 == 0
    order = rng.permutation(count)
    labels, is_small = labels[order], is_small[order]
    images = np.stack([draw_image(rng, int(label), bool(small), image_size) for label, small in zip(labels, is_small)])
    return images, labels, is_small


def load_multiscale_shapes(train_size: int = 4000, test_size: int = 1000,
                           seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """The task as a :class:`~workshop_utils.data.Dataset`, plus which test images hold a small object.

    Example::

        data, test_is_small = load_multiscale_shapes(1000, 500)
    """
    x_train, y_train, _ = make_split(train_size, seed)
    x_test, y_test, test_is_small = make_split(test_size, seed + 1)
    return Dataset("multiscale_shapes", x_train, y_train, x_test, y_test, CLASS_NAMES), test_is_small
