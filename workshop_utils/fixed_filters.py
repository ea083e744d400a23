"""Hand-made kernels run through a real Keras ``Conv2D``: what a kernel's size picks up in a photograph.

:func:`edge_kernel` builds a vertical-edge detector of any size (a Gaussian along y times its derivative along
x), and :func:`filter_image` applies one fixed kernel to one image with 'same' padding, so the response has the
image's height and width. Notebook 02 compares a 3x3 and an 11x11 edge filter with them.

Example::

    from workshop_utils.data import sample_photo
    from workshop_utils.fixed_filters import edge_kernel, filter_image

    response = filter_image(sample_photo(size=64), edge_kernel(11))   # (64, 64): one value per pixel
"""

from __future__ import annotations

import numpy as np

from workshop_utils._validate import positive_int

__all__ = ["edge_kernel", "filter_image"]


def edge_kernel(size: int, channels: int = 3) -> np.ndarray:
    """A ``size x size`` vertical-edge detector as ``Conv2D`` weights ``(size, size, channels, 1)``, float32.

    A Gaussian along y (sigma = size / 6) times its derivative along x, the same on every channel; the absolute
    weights sum to 1, so kernels of every size give responses of the same scale.

    Example::

        edge_kernel(3).shape   # (3, 3, 3, 1)
    """
    size = positive_int("size", size)
    channels = positive_int("channels", channels)
    offsets = np.arange(size) - (size - 1) / 2
    gaussian = np.exp(-(offsets**2) / (2 * (size / 6) ** 2))
    kernel = np.outer(gaussian, -offsets * gaussian)
    kernel /= np.abs(kernel).sum() * channels
    return np.repeat(kernel[:, :, None, None], channels, axis=2).astype("float32")


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """One ``Conv2D`` with the fixed ``kernel`` on ``image`` (uint8, ``(H, W, C)``), 'same' padding: ``(H, W)``.

    The image is scaled to [0, 1] first; ``kernel`` has the ``Conv2D`` weight layout ``(k, k, C, 1)``.

    Example::

        filter_image(sample_photo(size=64), edge_kernel(3)).shape   # (64, 64)
    """
    import keras  # local: keep `import workshop_utils` fast

    image, kernel = np.asarray(image), np.asarray(kernel, dtype="float32")
    if image.ndim != 3 or kernel.ndim != 4 or kernel.shape[2] != image.shape[2] or kernel.shape[3] != 1:
        raise ValueError(f"filter_image needs an (H, W, C) image and a (k, k, C, 1) kernel, got image "
                         f"{image.shape} and kernel {kernel.shape}; edge_kernel(size, channels=C) makes one.")
    conv = keras.layers.Conv2D(1, kernel.shape[:2], padding="same", use_bias=False)
    conv.build((None, *image.shape))
    conv.set_weights([kernel])
    return keras.ops.convert_to_numpy(conv(image[None].astype("float32") / 255.0))[0, :, :, 0]
