"""SqueezeNet (Iandola et al. 2016, arXiv:1602.07360): the fire module, and one factory for v1.0, v1.1 and 32x32 images.

Written like ``keras.applications``: one block function, :func:`fire_module`, composed by :func:`squeezenet`,
whose arguments are the paper's hyper-parameters. Section 5.1 of the paper describes the fire widths with five
numbers: module ``i`` (0 for fire2 ... 7 for fire9) has ``e_i = base_e + incr_e * floor(i / freq)`` expand
filters, a share ``pct_3x3`` of them 3x3, and ``s_i = squeeze_ratio * e_i`` squeeze filters. The defaults
(128, 128, 2, 0.5, 0.125) give the paper's table 1 exactly: 1,248,424 parameters for v1.0.

* Like the paper (and its Caffe release), no batch normalisation: every conv has a bias and a ReLU, conv10 too.
* ``version="1.1"`` is the authors' v1.1 (github.com/DeepScale/SqueezeNet): a 3x3/64 conv1 instead of 7x7/96,
  and the max pools moved earlier (after conv1, fire3, fire5), for 2.4x less computation at the same accuracy.
* ``stem=`` replaces conv1 and the pools' size (the table :data:`STEMS`); :data:`SMALL_SQUEEZENET` is v1.1's layout
  for 32x32 images (a 3x3 conv1 at stride 1, 2x2 pools, half the widths, batch norm): 190,026 parameters.
* ``bypass="simple"`` adds the identity around fire3, 5, 7, 9 (where input and output widths match);
  ``"complex"`` also adds a 1x1 conv on the shortcut of fire2, 4, 6, 8 (the paper's figure 2 and table 6).
* Keras pools floor their output size (Caffe rounds up), so at 224x224 the maps are 109, 54, 26, 12 pixels wide
  where the paper's table 1 (really a 227x227 input in Caffe) lists 111, 55, 27, 13. Parameters do not depend on it.

Every layer has a name built from its block (``conv1``, ``fire2_squeeze1x1``, ``pool3``, ``conv10``), so summaries
and cost tables read like the paper's table 1.

Example::

    from workshop_utils.architectures.squeezenet import SMALL_SQUEEZENET, squeezenet
    squeezenet().count_params()                  # 1,248,424 (v1.0); squeezenet(version="1.1"): 1,235,496
    squeezenet(input_shape=(32, 32, 3), classes=10, **SMALL_SQUEEZENET).count_params()   # 190,026 (notebook 06)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import keras
from keras import layers

from workshop_utils._validate import choice, fraction, positive_int


class Stem(NamedTuple):
    """conv1 and the max pools: what sets the resolution. Every pool has stride 2.

    Example::

        Stem(filters=64, kernel_size=3, strides=1, padding="same", pool_size=2)   # for 32x32 images
    """

    filters: int
    kernel_size: int
    strides: int
    padding: str
    pool_size: int


#: Parameter counts of :func:`squeezenet` with its defaults (1000 classes, no bypass), per version.
PARAMS = {"1.0": 1_248_424, "1.1": 1_235_496}
VERSIONS = ("1.0", "1.1")
BYPASSES = (None, "simple", "complex")
POOLINGS = (None, "avg", "max")

#: conv1 and the pool size per version (the paper's table 1; the v1.1 release).
STEMS: dict[str, Stem] = {"1.0": Stem(96, 7, 2, "valid", 3), "1.1": Stem(64, 3, 2, "valid", 3)}
#: For 32x32 images: conv1 at stride 1 keeps the map, 2x2 pools halve it: 32 -> 16 -> 8 -> 4 pixels with v1.1's pools.
STEM_32X32 = Stem(64, 3, 1, "same", 2)
#: Where each version puts its max pools: after conv1 and after these fire modules.
POOL_AFTER: dict[str, tuple[int, ...]] = {"1.0": (4, 8), "1.1": (3, 5)}

#: The small SqueezeNet notebook 06 trains: v1.1's layout for 32x32 images at half the widths (base_e = incr_e =
#: 64), batch norm after every conv (not in the paper: it lets the net learn from scratch within a minute), and a
#: conv10 without ReLU (logits into the softmax train faster at this size). Give it the input shape and classes:
#: ``squeezenet(input_shape=(32, 32, 3), classes=10, **SMALL_SQUEEZENET)`` has 190,026 parameters.
SMALL_SQUEEZENET: dict[str, Any] = {
    "version": "1.1", "stem": STEM_32X32, "base_e": 64, "incr_e": 64, "dropout": 0.2, "batch_norm": True,
    "conv10_relu": False, "name": "small_squeezenet"}


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
        positive_int(f"{name}: {argument} (filters)", value)
    squeezed = conv_relu(x, squeeze, 1, f"{name}_squeeze1x1", batch_norm)
    expanded_1x1 = conv_relu(squeezed, expand_1x1, 1, f"{name}_expand1x1", batch_norm)
    expanded_3x3 = conv_relu(squeezed, expand_3x3, 3, f"{name}_expand3x3", batch_norm)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([expanded_1x1, expanded_3x3])


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
    fraction("squeeze_ratio (the paper sweeps 0.125 to 1.0)", squeeze_ratio, low_open=True)
    fraction("pct_3x3 (both expand convs must exist; the paper: 0.01 to 0.99)", pct_3x3, low_open=True,
             high_open=True)
    base_e = positive_int("base_e", base_e, minimum=2)
    incr_e = positive_int("incr_e", incr_e, minimum=0)
    freq, modules = positive_int("freq", freq), positive_int("modules", modules)
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
    include_top: bool = True,
    *,
    squeeze_ratio: float = 0.125,
    pct_3x3: float = 0.5,
    base_e: int = 128,
    incr_e: int = 128,
    freq: int = 2,
    modules: int = 8,
    bypass: str | None = None,
    stem: Stem | None = None,
    batch_norm: bool = False,
    dropout: float = 0.5,
    conv10_relu: bool = True,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """SqueezeNet: conv1, fire modules, then dropout, a 1x1 conv10 to the classes and global average pooling.

    Args:
        version: ``"1.0"`` (the paper's table 1) or ``"1.1"`` (cheaper conv1, earlier pooling): the stem and
            where the pools go (after conv1 and after fire4, fire8 / fire3, fire5).
        input_shape: height, width, channels (at least 64x64 for v1.0's stem and three pools).
        classes: number of output classes (conv10's filters).
        include_top: dropout, conv10, global average pooling and the activation (as Keras).
        squeeze_ratio, pct_3x3, base_e, incr_e, freq: the paper's metaparameters (section 5), see
            :func:`fire_widths`; ``modules``: how many fire modules (fire2 ... fire9 in the paper).
        bypass: ``None``, ``"simple"`` or ``"complex"`` (section 6).
        stem: conv1 and the pool size (:class:`Stem`); default the version's (:data:`STEMS`);
            :data:`STEM_32X32` for 32x32 images.
        batch_norm: batch norm after every conv but conv10 (not in the paper; see :func:`fire_module`).
        dropout: rate after the last fire module (0.5 in the paper; 0: no dropout layer).
        conv10_relu: the paper's ReLU on conv10 (``False``: logits into the classifier activation).
        pooling: without the top: ``None`` (feature map), ``"avg"`` or ``"max"``.
        classifier_activation: the activation after pooling (``None`` for logits).
        name: model name; default ``squeezenet_v1_0`` etc.

    Example::

        model = squeezenet(version="1.1", bypass="simple")
        small = squeezenet(input_shape=(32, 32, 3), classes=10, **SMALL_SQUEEZENET)   # 190,026 parameters
    """
    choice("version", version, VERSIONS)
    choice("bypass", bypass, BYPASSES)
    choice("pooling", pooling, POOLINGS)
    positive_int("classes", classes)
    fraction("dropout", dropout, high_open=True)
    conv1 = STEMS[version] if stem is None else Stem(*stem)
    widths = fire_widths(squeeze_ratio, pct_3x3, base_e, incr_e, freq, modules)
    inputs = keras.Input(input_shape, name="image")
    x = conv_relu(inputs, conv1.filters, conv1.kernel_size, "conv1", batch_norm, conv1.strides, conv1.padding)
    x = layers.MaxPooling2D(conv1.pool_size, strides=2, name="pool1")(x)
    for index, (squeeze, expand_1x1, expand_3x3) in enumerate(widths, start=2):
        block = f"fire{index}"
        fire = fire_module(x, squeeze, expand_1x1, expand_3x3, name=block, batch_norm=batch_norm)
        x = _bypass(x, fire, bypass, block)
        if index in POOL_AFTER[version]:
            x = layers.MaxPooling2D(conv1.pool_size, strides=2, name=f"pool{index}")(x)
    if include_top:
        if dropout:
            x = layers.Dropout(dropout, name=f"drop{len(widths) + 1}")(x)
        x = layers.Conv2D(classes, 1, activation="relu" if conv10_relu else None, name="conv10")(x)
        x = layers.GlobalAveragePooling2D(name="pool10")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    default_name = f"squeezenet_v{version.replace('.', '_')}" + (f"_{bypass}_bypass" if bypass else "")
    return keras.Model(inputs, x, name=name or default_name)


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
    choice("version", version, VERSIONS)
    filters, kernel, strides, _, pool = STEMS[version]
    size = (input_size - kernel) // strides + 1  # conv1, no padding
    params, macs = kernel * kernel * 3 * filters + filters, size * size * kernel * kernel * 3 * filters
    size, channels = (size - pool) // 2 + 1, filters  # pool1
    for index, (squeeze, expand_1x1, expand_3x3) in enumerate(
            fire_widths(squeeze_ratio, pct_3x3, base_e, incr_e, freq), start=2):
        params += (channels * squeeze + squeeze) + (squeeze * expand_1x1 + expand_1x1)
        params += 9 * squeeze * expand_3x3 + expand_3x3
        macs += size * size * (channels * squeeze + squeeze * expand_1x1 + 9 * squeeze * expand_3x3)
        channels = expand_1x1 + expand_3x3
        if index in POOL_AFTER[version]:
            size = (size - pool) // 2 + 1
    return params + channels * classes + classes, macs + size * size * channels * classes
