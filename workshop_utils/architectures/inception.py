"""The Inception module (Szegedy et al., "Going deeper with convolutions", CVPR 2015, arXiv:1409.4842, figure 2):
the reference copy that notebook 03's cost tables (:mod:`workshop_utils.inception_cost`) and exercise checker
(:mod:`workshop_utils.exercises.inception`) build and compare against.

With ``bottleneck=True`` it is figure 2(b), the module GoogLeNet uses (1x1 reductions before the 3x3 and 5x5
convolutions, a 1x1 projection after the pooling); ``bottleneck=False`` is the naive figure 2(a). Layer names are
those of :mod:`workshop_utils.architectures.googlenet` (``{name}_3x3_reduce``, ``{name}_pool_proj``, ...).

Example::

    from workshop_utils.architectures.inception import inception_module
    y = inception_module(keras.Input((28, 28, 192)), 64, 96, 128, 16, 32, 32, name="inception_3a")
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["inception_module"]


def inception_module(
    x: Any,
    filters_1x1: int,
    filters_3x3_reduce: int,
    filters_3x3: int,
    filters_5x5_reduce: int,
    filters_5x5: int,
    filters_pool_proj: int,
    bottleneck: bool = True,
    name: str = "inception",
) -> Any:
    """GoogLeNet's Inception module: four branches concatenated on the channel axis, in the paper's order.

    1x1; 1x1 reduce -> 3x3; 1x1 reduce -> 5x5; 3x3 max pool (stride 1) -> 1x1 projection. Every convolution uses
    ``padding="same"`` and a ReLU, as in the paper (no batch norm: GoogLeNet predates it). With
    ``bottleneck=False`` it is the paper's naive module: no 1x1 reduce before the 3x3 and 5x5 convolutions and no
    projection after the pooling (``filters_*_reduce`` and ``filters_pool_proj`` are then ignored).

    Layers are named ``{name}_1x1``, ``{name}_3x3_reduce``, ``{name}_3x3``, ``{name}_5x5_reduce``, ``{name}_5x5``,
    ``{name}_pool``, ``{name}_pool_proj`` and ``{name}_concat``.

    Raises:
        ValueError: a width is not a positive int.

    Example::

        y = inception_module(keras.Input((28, 28, 192)), 64, 96, 128, 16, 32, 32, name="inception_3a")
    """
    from keras import layers

    widths = {
        "filters_1x1": filters_1x1, "filters_3x3_reduce": filters_3x3_reduce, "filters_3x3": filters_3x3,
        "filters_5x5_reduce": filters_5x5_reduce, "filters_5x5": filters_5x5, "filters_pool_proj": filters_pool_proj,
    }  # fmt: skip
    for what, value in widths.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{what} must be a positive int (a number of filters), got {value!r}.")

    def conv(tensor: Any, filters: int, size: int, suffix: str) -> Any:
        return layers.Conv2D(filters, size, padding="same", activation="relu", name=f"{name}{suffix}")(tensor)

    branch_1x1 = conv(x, filters_1x1, 1, "_1x1")
    branch_3x3 = conv(x, filters_3x3_reduce, 1, "_3x3_reduce") if bottleneck else x
    branch_3x3 = conv(branch_3x3, filters_3x3, 3, "_3x3")
    branch_5x5 = conv(x, filters_5x5_reduce, 1, "_5x5_reduce") if bottleneck else x
    branch_5x5 = conv(branch_5x5, filters_5x5, 5, "_5x5")
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if bottleneck:
        branch_pool = conv(branch_pool, filters_pool_proj, 1, "_pool_proj")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([branch_1x1, branch_3x3, branch_5x5, branch_pool])
