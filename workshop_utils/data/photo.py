"""A real photograph that works offline (Grace Hopper, shipped with matplotlib), for the filter demos.

Example::

    photo = sample_photo(gray=True, size=128)  # (128, 128) uint8
"""

from __future__ import annotations

import numbers

import numpy as np

# --------------------------------------------------------------------------------------------
# A real photograph, offline
# --------------------------------------------------------------------------------------------

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights for R, G, B used by ``sample_photo(gray=True)`` (as Pillow's "L" mode)."""


def sample_photo(gray: bool = False, size: int | None = None) -> np.ndarray:
    """A real photograph (Grace Hopper, 600x512, shipped with matplotlib) as a uint8 array.

    ``gray=False`` gives ``(H, W, 3)`` RGB; ``gray=True`` gives 2-D luma,
    ``round(0.299 R + 0.587 G + 0.114 B)`` (:data:`LUMA_WEIGHTS`). ``size`` centre-crops the
    largest square and resizes it to ``size x size`` (Pillow, Lanczos filter).

    Example: ``photo = sample_photo(gray=True, size=128)  # (128, 128) uint8``
    """
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"size must be a positive int or None, got {size!r}")
        if size < 1:
            raise ValueError(f"size must be a positive int or None, got {size}")
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as photo:
        photo = photo.convert("RGB")
        if size is not None:
            width, height = photo.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            photo = photo.crop((left, top, left + side, top + side))
            photo = photo.resize((int(size), int(size)), Image.Resampling.LANCZOS)
        rgb = np.asarray(photo, dtype=np.uint8).copy()
    if not gray:
        return rgb
    luma = rgb.astype(np.float32) @ np.array(LUMA_WEIGHTS, dtype=np.float32)
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
