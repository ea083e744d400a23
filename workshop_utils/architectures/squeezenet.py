"""SqueezeNet (Iandola et al. 2016, arXiv:1602.07360): the fire module, v1.0, v1.1 and a small CIFAR-size variant.

Written like ``keras.applications``: one block function, :func:`fire_module`, composed by :func:`squeezenet`,
whose arguments are the paper's hyper-parameters. Section 5.1 of the paper describes the fire widths with five
numbers: module ``i`` (0 for fire2 ... 7 for fire9) has ``e_i = base_e + incr_e * floor(i / freq)`` expand
filters, a share ``pct_3x3`` of them 3x3, and ``s_i = squeeze_ratio * e_i`` squeeze filters. The defaults
(128, 128, 2, 0.5, 0.125) give the paper's table 1 exactly: 1,248,424 parameters for v1.0.

* Like the paper (and its Caffe release), no batch normalisation: every conv has a bias and a ReLU, conv10 too.
* ``version="1.1"`` is the authors' v1.1 (github.com/DeepScale/SqueezeNet): a 3x3/64 conv1 instead of 7x7/96,
  and the max pools moved earlier (after conv1, fire3, fire5), for 2.4x less computation at the same accuracy.
* ``bypass="simple"`` adds the identity around fire3, 5, 7, 9 (where input and output widths match);
  ``"complex"`` also adds a 1x1 conv on the shortcut of fire2, 4, 6, 8 (the paper's figure 2 and table 6).
* Keras pools floor their output size (Caffe rounds up), so at 224x224 the maps are 109, 54, 26, 12 pixels wide
  where the paper's table 1 (really a 227x227 input in Caffe) lists 111, 55, 27, 13. Parameters do not depend on it.

Example::

    from workshop_utils.architectures.squeezenet import squeezenet
    squeezenet().count_params()                  # 1,248,424 (v1.0); squeezenet(version="1.1"): 1,235,496
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers

#: Parameter counts of :func:`squeezenet` with its defaults (1000 classes, no bypass), per version.
PARAMS = {"1.0": 1_248_424, "1.1": 1_235_496}
VERSIONS = ("1.0", "1.1")
BYPASSES = (None, "simple", "complex")

#: Where each version puts its 3x3/2 max pools: after conv1 and after these fire modules.
_POOL_AFTER = {"1.0": (4, 8), "1.1": (3, 5)}
_CONV1 = {"1.0": (96, 7), "1.1": (64, 3)}  # filters, kernel size; both stride 2, no padding


def fire_module(
    x: Any, squeeze: int, expand_1x1: int, expand_3x3: int, name: str, batch_norm: bool = False
) -> Any:
    """The fire module: a 1x1 squeeze conv, then 1x1 and 3x3 expand convs side by side, concatenated.

    Both expand convs read the squeeze output; the 3x3 uses ``"same"`` padding so the two outputs have the same
    size; every conv has a ReLU; the output has ``expand_1x1 + expand_3x3`` channels, 1x1 first. The paper has
    no batch normalisation; ``batch_norm=True`` adds it after each conv (our small nets need it to learn in a
    minute).

    Example::

        x = fire_module(x, squeeze=16, expand_1x1=64, expand_3x3=64, name="fire2")   # -> 128 channels
    """
    for argument, value in (("squeeze", squeeze), ("expand_1x1", expand_1x1), ("expand_3x3", expand_3x3)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: {argument} must be a positive number of filters, got {value!r}.")
    squeezed = conv_relu(x, squeeze, 1, f"{name}_squeeze1x1", batch_norm)
    expanded_1x1 = conv_relu(squeezed, expand_1x1, 1, f"{name}_expand1x1", batch_norm)
    expanded_3x3 = conv_relu(squeezed, expand_3x3, 3, f"{name}_expand3x3", batch_norm)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([expanded_1x1, expanded_3x3])


def conv_relu(x: Any, filters: int, kernel_size: int, name: str, batch_norm: bool = False, strides: int = 1,
              padding: str = "same") -> Any:
    """Conv + ReLU (the paper); with ``batch_norm``, Conv (no bias) + BatchNormalization + ReLU.

    Example::

        x = conv_relu(x, 64, 3, name="conv1", strides=2, padding="valid")
    """
    if not batch_norm:
        return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, activation="relu",
                             name=name)(x)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)  # 0.9: warm statistics after ~80 steps
    return layers.ReLU(name=f"{name}_relu")(x)


def fire_widths(
    squeeze_ratio: float = 0.125,
    pct_3x3: float = 0.5,
    base_e: int = 128,
    incr_e: int = 128,
    freq: int = 2,
    modules: int = 8,
) -> list[tuple[int, int, int]]:
    """(squeeze, expand_1x1, expand_3x3) for fire2 ... fire9 from the paper's section 5.1 metaparameters.

    Each width is rounded to the nearest integer and kept at least 1.

    Example::

        fire_widths()[0]          # (16, 64, 64): fire2 of SqueezeNet v1.0
    """
    if not 0 < squeeze_ratio <= 1:
        raise ValueError(f"squeeze_ratio must be in (0, 1] (the paper sweeps 0.125 to 1.0), got {squeeze_ratio}.")
    if not 0 < pct_3x3 < 1:
        raise ValueError(f"pct_3x3 must be in (0, 1) so both expand convs exist (paper: 0.01 to 0.99), got {pct_3x3}.")
    if base_e < 2 or incr_e < 0 or freq < 1 or modules < 1:
        raise ValueError(f"need base_e >= 2, incr_e >= 0, freq >= 1, modules >= 1; got {base_e}, {incr_e}, "
                         f"{freq}, {modules}.")
    widths = []
    for i in range(modules):
        expand = base_e + incr_e * math.floor(i / freq)
        expand_3x3 = min(max(1, round(expand * pct_3x3)), expand - 1)
        widths.append((max(1, round(squeeze_ratio * expand)), expand - expand_3x3, expand_3x3))
    return widths


def _bypass(x: Any, y: Any, kind: str | None, name: str) -> Any:
    """Adds the shortcut around one fire module: identity where widths match, a 1x1 conv for "complex"."""
    if kind is None:
        return y
    if x.shape[-1] == y.shape[-1]:
        return layers.Add(name=f"{name}_bypass")([x, y])
    if kind == "complex":
        shortcut = layers.Conv2D(y.shape[-1], 1, name=f"{name}_bypass_conv")(x)
        return layers.Add(name=f"{name}_bypass")([shortcut, y])
    return y  # simple bypass: only where the widths match


def squeezenet(
    version: str = "1.0",
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    squeeze_ratio: float = 0.125,
    pct_3x3: float = 0.5,
    base_e: int = 128,
    incr_e: int = 128,
    freq: int = 2,
    bypass: str | None = None,
    dropout: float = 0.5,
    name: str | None = None,
) -> keras.Model:
    """SqueezeNet v1.0 or v1.1: conv1, eight fire modules, dropout, a 1x1 conv10 to the classes, global average pool.

    Args:
        version: ``"1.0"`` (the paper's table 1) or ``"1.1"`` (cheaper conv1, earlier pooling).
        input_shape: height, width, channels (at least 64x64 for v1.0's three pools).
        classes: number of output classes (conv10's filters).
        squeeze_ratio, pct_3x3, base_e, incr_e, freq: the paper's metaparameters (section 5), see
            :func:`fire_widths`.
        bypass: ``None``, ``"simple"`` or ``"complex"`` (section 6).
        dropout: rate after fire9 (0.5 in the paper).

    Example::

        model = squeezenet(version="1.1", bypass="simple")
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}.")
    if bypass not in BYPASSES:
        raise ValueError(f"bypass must be one of {BYPASSES}, got {bypass!r}.")
    if classes < 1 or not 0 <= dropout < 1:
        raise ValueError(f"classes must be >= 1 and dropout in [0, 1), got {classes} and {dropout}.")
    conv1_filters, conv1_size = _CONV1[version]
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(conv1_filters, conv1_size, strides=2, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    widths = fire_widths(squeeze_ratio, pct_3x3, base_e, incr_e, freq)
    for index, (squeeze, expand_1x1, expand_3x3) in enumerate(widths, start=2):
        block = f"fire{index}"
        x = _bypass(x, fire_module(x, squeeze, expand_1x1, expand_3x3, name=block), bypass, block)
        if index in _POOL_AFTER[version]:
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    x = layers.Dropout(dropout, name="drop9")(x)
    x = layers.Conv2D(classes, 1, activation="relu", name="conv10")(x)
    x = layers.GlobalAveragePooling2D(name="pool10")(x)
    outputs = layers.Softmax(name="predictions")(x)
    default_name = f"squeezenet_v{version.replace('.', '_')}" + (f"_{bypass}_bypass" if bypass else "")
    return keras.Model(inputs, outputs, name=name or default_name)


def small_squeezenet(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    squeeze_ratio: float = 0.125,
    pct_3x3: float = 0.5,
    base_e: int = 64,
    incr_e: int = 64,
    freq: int = 2,
    bypass: str | None = None,
    dropout: float = 0.2,
    batch_norm: bool = True,
    name: str = "small_squeezenet",
) -> keras.Model:
    """SqueezeNet v1.1's layout for 32x32 images: 3x3 conv1 at stride 1, pools after conv1, fire3, fire5.

    The same eight fire modules and metaparameters as :func:`squeezenet`, with narrower defaults
    (base_e=incr_e=64: 190,026 parameters with batch norm, for 10 classes) so that it trains within the
    workshop's one-minute budget; 32 -> 16 -> 8 -> 4 pixels. Batch normalisation after
    every conv (not in the paper) lets it learn from scratch within that minute.

    Example::

        model = small_squeezenet(squeeze_ratio=0.25, bypass="simple")
    """
    if bypass not in BYPASSES:
        raise ValueError(f"bypass must be one of {BYPASSES}, got {bypass!r}.")
    inputs = keras.Input(input_shape, name="image")
    x = conv_relu(inputs, base_e, 3, "conv1", batch_norm)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    for index, (squeeze, expand_1x1, expand_3x3) in enumerate(
            fire_widths(squeeze_ratio, pct_3x3, base_e, incr_e, freq), start=2):
        block = f"fire{index}"
        fire = fire_module(x, squeeze, expand_1x1, expand_3x3, name=block, batch_norm=batch_norm)
        x = _bypass(x, fire, bypass, block)
        if index in _POOL_AFTER["1.1"]:
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = layers.Dropout(dropout, name="drop9")(x)
    x = layers.Conv2D(classes, 1, name="conv10")(x)  # no ReLU: logits into the softmax train faster at this size
    x = layers.GlobalAveragePooling2D(name="pool10")(x)
    outputs = layers.Softmax(name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def squeezenet_cost(
    version: str = "1.0",
    input_size: int = 224,
    classes: int = 1000,
    squeeze_ratio: float = 0.125,
    pct_3x3: float = 0.5,
    base_e: int = 128,
    incr_e: int = 128,
    freq: int = 2,
) -> tuple[int, int]:
    """(parameters, MACs per image) of :func:`squeezenet` without bypass, by arithmetic on its layer shapes.

    No model is built, so a sweep over SR and pct3x3 costs microseconds (building and profiling one SqueezeNet
    takes seconds, on JAX tens of seconds). ``tests/test_architectures_squeezenet.py`` checks it against
    :func:`workshop_utils.flops.profile` of the built models.

    Example::

        squeezenet_cost(squeeze_ratio=0.75)     # (4841704, ...)
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}.")
    filters, kernel = _CONV1[version]
    size = (input_size - kernel) // 2 + 1  # conv1, stride 2, no padding
    params, macs = kernel * kernel * 3 * filters + filters, size * size * kernel * kernel * 3 * filters
    size, channels = (size - 3) // 2 + 1, filters  # pool1
    for index, (squeeze, expand_1x1, expand_3x3) in enumerate(
            fire_widths(squeeze_ratio, pct_3x3, base_e, incr_e, freq), start=2):
        params += (channels * squeeze + squeeze) + (squeeze * expand_1x1 + expand_1x1)
        params += 9 * squeeze * expand_3x3 + expand_3x3
        macs += size * size * (channels * squeeze + squeeze * expand_1x1 + 9 * squeeze * expand_3x3)
        channels = expand_1x1 + expand_3x3
        if index in _POOL_AFTER[version]:
            size = (size - 3) // 2 + 1
    return params + channels * classes + classes, macs + size * size * channels * classes
