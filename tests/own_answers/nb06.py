"""Notebook 06: SqueezeNet's fire module."""

from keras import layers


def fire_module(x, squeeze, expand_1x1, expand_3x3, name):
    squeezed = layers.Conv2D(squeeze, (1, 1), name=f"{name}_squeeze1x1")(x)
    squeezed = layers.ReLU(name=f"{name}_squeeze1x1_relu")(squeezed)
    left = layers.Conv2D(expand_1x1, (1, 1), activation="relu", name=f"{name}_expand1x1")(squeezed)
    right = layers.Conv2D(expand_3x3, (3, 3), padding="same", activation="relu", name=f"{name}_expand3x3")(squeezed)
    return layers.Concatenate(name=f"{name}_concat")([left, right])
