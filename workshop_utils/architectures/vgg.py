"""VGG (Simonyan & Zisserman, "Very deep convolutional networks for large-scale image recognition", ICLR 2015,
arXiv:1409.1556): the reference copy of its block, in the style of ``keras.applications.vgg16``.

:func:`vgg_block` is the one copy of the block in the repository: notebook 02's exercise checker
(:mod:`workshop_utils.exercises.vgg`) compares the attendee's block with it, and :func:`vgg16` composes it into
configuration D, whose parameter count equals ``keras.applications.VGG16(weights=None)``'s, 138,357,544.

Example::

    from workshop_utils.architectures.vgg import vgg16
    vgg16().count_params()   # 138,357,544
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["VGG16_BLOCKS", "VGG16_PARAMS", "vgg16", "vgg_block"]

#: Configuration D (VGG-16) of table 1 of the paper: ``(filters, convs)`` of its five blocks.
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))

#: ``keras.applications.VGG16(weights=None).count_params()`` at 224x224x3 with 1000 classes.
VGG16_PARAMS = 138_357_544


def vgg_block(x: Any, filters: int, convs: int, name: str | None = None) -> Any:
    """VGG's block: ``convs`` x (3x3 conv, 'same' padding, ReLU), then a 2x2 max pool with stride 2.

    ``name`` (e.g. ``"block1"``) names the layers ``block1_conv1 ... block1_pool`` as ``keras.applications`` does.

    Example::

        y = vgg_block(keras.Input((32, 32, 3)), filters=16, convs=2)   # (None, 16, 16, 16)
    """
    from keras import layers

    for value, what in ((filters, "filters"), (convs, "convs")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"vgg_block: {what} must be a positive int, got {value!r}.")
    for index in range(1, convs + 1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                          name=f"{name}_conv{index}" if name else None)(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool" if name else None)(x)


def vgg16(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    blocks: Sequence[tuple[int, int]] = VGG16_BLOCKS,
    block: Any = vgg_block,
    name: str = "vgg16",
) -> Any:
    """VGG-16 (configuration D): five blocks, Flatten, fc1 4096, fc2 4096, predictions ``classes``.

    Laid out as ``keras.applications.VGG16`` is (no dropout layers: they hold no parameters). ``block`` builds
    each block as ``block(x, filters, convs, name=...)``-compatible ``block(x, filters, convs)``, so a checker can
    build the network from an attendee's block.

    Example::

        vgg16(input_shape=(32, 32, 3), classes=10).output_shape   # (None, 10)
    """
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index, (filters, convs) in enumerate(blocks, start=1):
        x = block(x, filters, convs, name=f"block{index}") if block is vgg_block else block(x, filters, convs)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
