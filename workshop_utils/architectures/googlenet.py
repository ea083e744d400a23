"""GoogLeNet / Inception v1 (Szegedy et al., "Going deeper with convolutions", CVPR 2015, arXiv:1409.4842).

The reference copy of the network notebook 03 builds live, written like ``keras.applications``: block functions
(:func:`conv_block`, :func:`auxiliary_classifier`, and the Inception module of
:mod:`workshop_utils.architectures.inception`) composed by :func:`googlenet`, whose
``modules`` argument is the paper's table 1 (:data:`GOOGLENET_MODULES`). Layer names follow the paper's blocks
(``inception_4a_3x3_reduce``, ``aux1_fc``).

* With ``auxiliary_classifiers=True`` (training) the model has three outputs: [main, aux1 (after 4a), aux2 (after
  4d)]; train with ``loss_weights=[1, 0.3, 0.3]`` (section 5). :func:`inference_model` drops the heads, sharing
  the layers (no copy).
* Local response normalisation (no weights) is left out; every conv is 'same' padded with a ReLU.

Example::

    from workshop_utils.architectures.googlenet import googlenet, inference_model
    inference_model(googlenet()).count_params()     # 6,998,552
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

# One reference copy of the module in the repository (the checker and the cost tables build it too).
from workshop_utils.architectures.inception import inception_module

__all__ = [
    "GOOGLENET_MODULES", "auxiliary_classifier", "conv_block", "googlenet", "inception_module", "inference_model",
]

#: Table 1 of the paper, per module: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
GOOGLENET_MODULES: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}

#: Parameter counts at 224x224x3, 1000 classes: the inference model (main head) and the training model (+2 aux).
INFERENCE_PARAMS = 6_998_552
TRAINING_PARAMS = 13_378_280


def conv_block(x: Any, filters: int, kernel_size: int, strides: int = 1, name: str | None = None) -> Any:
    """Conv ('same' padding) + ReLU, GoogLeNet's only conv layer kind.

    Example::

        x = conv_block(x, 64, 7, strides=2, name="conv1_7x7")
    """
    return layers.Conv2D(filters, kernel_size, strides=strides, padding="same", activation="relu", name=name)(x)


def auxiliary_classifier(x: Any, classes: int, name: str) -> Any:
    """GoogLeNet's auxiliary head (section 5): avg pool 5x5/3, 1x1 conv 128, FC 1024, dropout 0.7, FC softmax.

    Example::

        aux1 = auxiliary_classifier(x, 1000, name="aux1")   # x: the output of module 4a
    """
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = conv_block(x, 128, 1, name=f"{name}_conv")
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return layers.Dense(classes, activation="softmax", name=f"{name}_predictions")(x)


def googlenet(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    modules: Mapping[str, Sequence[int]] = GOOGLENET_MODULES,
    auxiliary_classifiers: bool = True,
    dropout: float = 0.4,
    name: str = "googlenet",
) -> keras.Model:
    """GoogLeNet (table 1): stem, Inception modules 3a-5b with max pools before 4a and 5a, global average pool.

    Args:
        input_shape: height, width, channels (224x224x3 in the paper).
        classes: size of every softmax output.
        modules: the six widths of each module 3a ... 5b, in that order (table 1's columns).
        auxiliary_classifiers: add the two training heads after 4a and 4d (outputs [main, aux1, aux2]).
        dropout: before the final linear layer (0.4 in the paper).

    Example::

        training_model = googlenet()   # 3 outputs; inference_model(training_model) has 6,998,552 parameters
    """
    if list(modules) != list(GOOGLENET_MODULES):
        raise ValueError(f"modules needs the widths of {', '.join(GOOGLENET_MODULES)} in order, got {list(modules)}.")
    if any(len(widths) != 6 for widths in modules.values()):
        raise ValueError("each module needs six widths: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.")
    if classes < 1 or not 0 <= dropout < 1:
        raise ValueError(f"classes must be >= 1 and dropout in [0, 1), got {classes} and {dropout}.")
    inputs = keras.Input(input_shape, name="image")
    x = conv_block(inputs, 64, 7, strides=2, name="conv1_7x7")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = conv_block(x, 64, 1, name="conv2_3x3_reduce")
    x = conv_block(x, 192, 3, name="conv2_3x3")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    auxiliary = []
    for block, widths in modules.items():
        if block in ("4a", "5a"):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{int(block[0]) - 1}")(x)
        x = inception_module(x, *widths, name=f"inception_{block}")
        if auxiliary_classifiers and block in ("4a", "4d"):
            auxiliary.append(auxiliary_classifier(x, classes, name=f"aux{len(auxiliary) + 1}"))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, [outputs, *auxiliary] if auxiliary else outputs, name=name)


def inference_model(model: keras.Model, name: str = "googlenet_inference") -> keras.Model:
    """The main head of a :func:`googlenet` training model: same layers and weights, one output.

    Example::

        deployed = inference_model(googlenet())   # aux1/aux2 layers are not part of it
    """
    outputs = model.outputs
    return keras.Model(model.inputs, outputs[0], name=name) if len(outputs) > 1 else model
