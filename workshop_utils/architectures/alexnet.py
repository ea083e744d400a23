"""AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012), one tower or the paper's two GPU towers.

The reference copy of the network notebook 02 builds live, written like ``keras.applications``: two block functions
(:func:`conv_block`, :func:`dense_block`) composed by :func:`alexnet`, whose arguments are the paper's
hyper-parameters. Layers are named as in the paper (``conv1`` ... ``conv5``, ``fc6``, ``fc7``).

* Input 227x227: the paper says 224, but its 55x55 conv1 output needs (227 - 11) / 4 + 1 = 55 with no padding.
* ``groups=2`` is the paper's two-GPU split: conv2, conv4 and conv5 only read their own tower's half of the
  channels, which is ``Conv2D(groups=2)``; conv3 and the FC layers read both towers.
* Local response normalisation is left out (it has no weights; VGG's authors found it does not help).
* ``batch_norm=True`` puts Conv (no bias) + BatchNormalization + ReLU in every conv layer, as later
  AlexNet-BN re-implementations do; notebook 02 trains a small variant that way.

Example::

    from workshop_utils.architectures.alexnet import alexnet
    alexnet().count_params()          # 62,378,344 (one tower); alexnet(groups=2): 60,965,224
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

#: Parameter counts of the ImageNet-size networks built by :func:`alexnet` with its defaults, per ``groups``.
PARAMS = {1: 62_378_344, 2: 60_965_224}


def conv_block(
    x: Any,
    filters: int,
    kernel_size: int,
    strides: int = 1,
    padding: str = "same",
    groups: int = 1,
    batch_norm: bool = False,
    name: str | None = None,
) -> Any:
    """Conv + ReLU; with ``batch_norm``, Conv (no bias: BN's shift replaces it) + BatchNormalization + ReLU.

    Example::

        x = conv_block(x, 256, 5, groups=2, name="conv2")
    """
    if not batch_norm:
        return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, groups=groups,
                             activation="relu", name=name)(x)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=False,
                      name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn" if name else None)(x)
    return layers.ReLU(name=f"{name}_relu" if name else None)(x)


def dense_block(x: Any, units: int, dropout: float, name: str) -> Any:
    """Dense + ReLU, then Dropout when ``dropout`` > 0 (AlexNet's fc6 and fc7 use 0.5).

    Example::

        x = dense_block(x, 4096, 0.5, name="fc6")
    """
    x = layers.Dense(units, activation="relu", name=name)(x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x


def alexnet(
    input_shape: tuple[int, int, int] = (227, 227, 3),
    classes: int = 1000,
    filters: Sequence[int] = (96, 256, 384, 384, 256),
    kernel_sizes: Sequence[int] = (11, 5, 3, 3, 3),
    first_stride: int = 4,
    first_padding: str = "valid",
    fc_units: int = 4096,
    dropout: float = 0.5,
    groups: int = 1,
    batch_norm: bool = False,
    name: str = "alexnet",
) -> keras.Model:
    """AlexNet: 5 convs, 3 overlapping 3x3/2 max pools, 3 fully connected layers (8 weight layers).

    Args:
        input_shape: height, width, channels; 227x227x3 gives the paper's 55x55 conv1 output.
        classes: size of the softmax output.
        filters, kernel_sizes: per conv layer (five each); the paper's 96-256-384-384-256 and 11-5-3-3-3.
        first_stride, first_padding: conv1's stride and padding (4, "valid" in the paper); conv2-5 use "same".
        fc_units, dropout: width of fc6 and fc7 and their dropout rate.
        groups: 1 for one tower, 2 for the paper's two GPUs (conv2, conv4, conv5 grouped).
        batch_norm: BatchNormalization after every conv (not in the paper).

    Example::

        model = alexnet(groups=2, name="alexnet_two_towers")   # 60,965,224 parameters
    """
    if len(filters) != 5 or len(kernel_sizes) != 5:
        raise ValueError(f"AlexNet has 5 conv layers: give 5 filters and 5 kernel sizes, got {filters}, "
                         f"{kernel_sizes}.")
    if groups not in (1, 2):
        raise ValueError(f"groups must be 1 (one tower) or 2 (the paper's two GPUs), got {groups}.")
    if first_padding not in ("valid", "same"):
        raise ValueError(f"first_padding must be 'valid' or 'same', got {first_padding!r}.")
    inputs = keras.Input(input_shape, name="image")
    x = conv_block(inputs, filters[0], kernel_sizes[0], first_stride, first_padding, batch_norm=batch_norm,
                   name="conv1")
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = conv_block(x, filters[1], kernel_sizes[1], groups=groups, batch_norm=batch_norm, name="conv2")
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = conv_block(x, filters[2], kernel_sizes[2], batch_norm=batch_norm, name="conv3")  # reads both towers
    x = conv_block(x, filters[3], kernel_sizes[3], groups=groups, batch_norm=batch_norm, name="conv4")
    x = conv_block(x, filters[4], kernel_sizes[4], groups=groups, batch_norm=batch_norm, name="conv5")
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = dense_block(x, fc_units, dropout, "fc6")
    x = dense_block(x, fc_units, dropout, "fc7")
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
