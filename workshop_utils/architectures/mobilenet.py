"""MobileNet v1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", 2017, arXiv:1704.04861), with its two shrinking hyper-parameters.

The reference copy of the network notebook 04 builds live, written like ``keras.applications.mobilenet``: a stem
(:func:`conv_bn_relu`), thirteen depthwise separable blocks (:func:`depthwise_separable_block`: a 3x3 depthwise
conv that filters each channel alone, then a 1x1 pointwise conv that mixes channels, each followed by batch norm
and ReLU), global average pooling and a 1x1-conv classifier, composed by :func:`mobilenet`:

* ``alpha`` -- the **width multiplier** (paper section 3.3): every layer has ``int(alpha * filters)`` channels,
  so MACs and parameters fall roughly as ``alpha**2``.
* ``rho`` / ``input_size`` -- the **resolution multiplier** (section 3.4): the input is ``rho * 224`` pixels a
  side, so MACs fall as ``rho**2`` and parameters do not change.

Layer names are Keras' (``conv1``, ``conv_dw_3``, ``conv_pw_3_bn``, ``conv_preds``), so cost tables read like
Keras' summary and weights copy across by name. At ``alpha=1`` and 224x224 the model has exactly the
4,253,864 parameters of ``keras.applications.MobileNet(weights=None)``. Two details follow Keras rather than the
paper's figure: ReLU6 (``min(max(x, 0), 6)``, as in the released TF-slim model; the paper draws ReLU; no weights
either way, ``relu6=False`` gives ReLU), and a 1x1 conv as classifier (the same weights as the paper's FC layer).
Strided depthwise convs use ``padding="same"``; on the even sizes MobileNet meets (224, 112, ..., 14) it pads one
pixel bottom/right, exactly what Keras' explicit ``ZeroPadding2D(((0, 1), (0, 1)))`` does, so the outputs are
the same too.

Example::

    from workshop_utils.architectures.mobilenet import mobilenet
    mobilenet(alpha=1.0).count_params()        # 4,253,864 == keras.applications.MobileNet(weights=None)
    mobilenet(alpha=0.5, rho=160 / 224)        # the paper's "0.5 MobileNet-160"
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from workshop_utils._validate import positive_int

#: MobileNet v1's body (the paper's table 1): (pointwise filters, stride of the depthwise conv) per block.
MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2), (128, 1),
    (256, 2), (256, 1),
    (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)

#: The widths and resolutions of the paper's tables 6 and 7.
PAPER_ALPHAS: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25)
PAPER_RESOLUTIONS: tuple[int, ...] = (224, 192, 160, 128)
BASE_RESOLUTION = 224
POOLINGS: tuple[Any, ...] = (None, "avg", "max")


def _stride(value: Any) -> int:
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if value not in (1, 2) or isinstance(value, bool):
        raise ValueError(f"strides must be 1 or 2 (MobileNet halves the resolution with stride 2), got {value!r}.")
    return int(value)


def _relu(relu6: bool, name: str) -> layers.Layer:
    return layers.ReLU(6.0 if relu6 else None, name=name)


def scaled_filters(filters: int, alpha: float) -> int:
    """Channels of a layer at width multiplier ``alpha``: ``int(alpha * filters)``, as Keras truncates.

    Example::

        scaled_filters(1024, 0.75)   # 768
    """
    channels = int(filters * alpha)
    if channels < 1:
        raise ValueError(f"alpha={alpha} leaves {filters} filters with {channels} channels; "
                         f"use alpha >= {1 / filters:g}.")
    return channels


def conv_bn_relu(
    x: Any, filters: int, kernel_size: int = 3, strides: int = 1, name: str = "conv1", relu6: bool = True
) -> Any:
    """Full convolution (no bias), batch norm, ReLU6: MobileNet's first layer.

    Example::

        x = conv_bn_relu(inputs, 32, strides=2)   # 224x224x3 -> 112x112x32
    """
    positive_int("filters", filters)
    x = layers.Conv2D(filters, kernel_size, strides=_stride(strides), padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return _relu(relu6, f"{name}_relu")(x)


def depthwise_separable_block(
    x: Any,
    filters: int,
    strides: int = 1,
    block_id: int | str | None = None,
    depth_multiplier: int = 1,
    relu6: bool = True,
) -> Any:
    """One depthwise separable block: 3x3 depthwise conv, BN, ReLU, then 1x1 pointwise conv, BN, ReLU.

    The stride (if any) is on the depthwise conv: it filters and subsamples each channel; the 1x1 conv then only
    mixes channels. Neither conv has a bias: the batch norm right after each adds its own shift.

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        filters: output channels (the pointwise conv's filters).
        strides: 1, or 2 to halve height and width.
        block_id: names the layers ``conv_dw_{id}``, ``conv_pw_{id}``, ... (Keras' names); ``None``: automatic.
        depth_multiplier: depthwise outputs per input channel (Keras' argument; the paper uses 1).
        relu6: ReLU6 as in Keras and TF-slim (``False``: plain ReLU as drawn in the paper).

    Example::

        y = depthwise_separable_block(x, 128, strides=2, block_id=2)   # 112x112x64 -> 56x56x128
    """
    positive_int("filters", filters)
    positive_int("depth_multiplier", depth_multiplier)
    strides = _stride(strides)

    def name(part: str, suffix: str = "") -> str | None:
        return None if block_id is None else f"conv_{part}_{block_id}{suffix}"

    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", depth_multiplier=depth_multiplier,
                               use_bias=False, name=name("dw"))(x)
    x = layers.BatchNormalization(name=name("dw", "_bn"))(x)
    x = _relu(relu6, name("dw", "_relu"))(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=name("pw"))(x)
    x = layers.BatchNormalization(name=name("pw", "_bn"))(x)
    return _relu(relu6, name("pw", "_relu"))(x)


def _input_size(input_size: int | Sequence[int] | None, rho: float | None) -> tuple[int, int]:
    if input_size is not None and rho is not None:
        raise ValueError(
            f"give either input_size or rho, not both (got input_size={input_size!r}, rho={rho!r}); "
            f"rho=r means input_size=round(r * {BASE_RESOLUTION})."
        )
    if rho is not None:
        if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not 0 < rho:
            raise ValueError(f"rho (the resolution multiplier) must be > 0, e.g. 160 / 224; got {rho!r}.")
        size = round(rho * BASE_RESOLUTION)
        return _checked_size(size), _checked_size(size)
    if input_size is None:
        return BASE_RESOLUTION, BASE_RESOLUTION
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        return _checked_size(input_size), _checked_size(input_size)
    sizes = tuple(input_size)
    if len(sizes) != 2:
        raise ValueError(f"input_size must be an int or (height, width), got {input_size!r}.")
    return _checked_size(sizes[0]), _checked_size(sizes[1])


def _checked_size(size: Any) -> int:
    size = positive_int("input_size", size)
    if size < 32:
        raise ValueError(f"input_size must be at least 32 pixels (five stride-2 layers), got {size}.")
    return size


def mobilenet(
    alpha: float = 1.0,
    input_size: int | Sequence[int] | None = None,
    rho: float | None = None,
    classes: int = 1000,
    include_top: bool = True,
    *,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    pooling: str | None = None,
    blocks: Sequence[tuple[int, int]] = MOBILENET_V1_BLOCKS,
    stem_filters: int = 32,
    stem_strides: int = 2,
    channels: int = 3,
    relu6: bool = True,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """MobileNet v1 with width multiplier ``alpha`` and resolution ``input_size`` (or multiplier ``rho``).

    Args:
        alpha: width multiplier (the paper's 1.0, 0.75, 0.5, 0.25; any value > 0 works).
        input_size: input height and width (int or pair); default 224.
        rho: resolution multiplier instead of ``input_size``: ``input_size = round(rho * 224)``.
        classes: classifier outputs.
        include_top: global average pooling, dropout and the 1x1-conv classifier (as Keras).
        depth_multiplier: depthwise outputs per channel (Keras' argument, not the paper's ``rho``).
        dropout: dropout rate before the classifier (Keras' default 0.001).
        pooling: without the top: ``None`` (feature map), ``"avg"`` or ``"max"``.
        blocks: ``(filters, stride)`` per depthwise separable block; default the paper's table 1.
        stem_filters, stem_strides: the first full conv (32 filters, stride 2 in the paper).
        channels: input channels.
        relu6: ReLU6 (Keras) or ReLU (paper's figure).
        classifier_activation: activation of the classifier (``None`` for logits).
        name: model name; default ``mobilenet_{alpha}_{size}`` as Keras.

    Example::

        mobilenet(alpha=0.25, input_size=32, classes=10, stem_strides=1)   # a MobileNet for 32x32 images
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha (the width multiplier) must be > 0, e.g. 1.0, 0.75, 0.5 or 0.25; got {alpha!r}.")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(map(repr, POOLINGS))}; got {pooling!r}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    if not blocks:
        raise ValueError("blocks needs at least one (filters, stride) pair, e.g. MOBILENET_V1_BLOCKS.")
    height, width = _input_size(input_size, rho)
    positive_int("classes", classes)
    inputs = keras.Input((height, width, positive_int("channels", channels)), name="input_layer")
    x = conv_bn_relu(inputs, scaled_filters(stem_filters, alpha), 3, stem_strides, name="conv1", relu6=relu6)
    for block_id, (filters, strides) in enumerate(blocks, start=1):
        x = depthwise_separable_block(x, scaled_filters(filters, alpha), strides, block_id=block_id,
                                      depth_multiplier=depth_multiplier, relu6=relu6)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name=name or f"mobilenet_{alpha:0.2f}_{height}")
