"""Notebook 03: the Inception module, its branches joined with keras.ops.concatenate (no layer to name)."""

import keras
from keras import layers


def inception_module(x, filters_1x1, filters_3x3_reduce, filters_3x3, filters_5x5_reduce, filters_5x5,
                     filters_pool_proj, name="inception"):
    def conv(tensor, filters, size, suffix):
        layer = layers.Conv2D(filters, (size, size), padding="same", activation="relu", name=f"{name}_{suffix}")
        return layer(tensor)

    pooled = layers.MaxPooling2D(pool_size=3, strides=1, padding="same", name=f"{name}_pool")(x)
    branches = [
        conv(x, filters_1x1, 1, "1x1"),
        conv(conv(x, filters_3x3_reduce, 1, "3x3_reduce"), filters_3x3, 3, "3x3"),
        conv(conv(x, filters_5x5_reduce, 1, "5x5_reduce"), filters_5x5, 5, "5x5"),
        conv(pooled, filters_pool_proj, 1, "pool_proj"),
    ]
    return keras.ops.concatenate(branches, axis=-1)
