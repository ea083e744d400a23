"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
CVPR 2018, arXiv:1801.04381): where MobileNet v1's depthwise separable block went next.

Written like ``keras.applications.mobilenet_v2``, on the template of :mod:`workshop_utils.architectures.mobilenet`:
one block function and one model function whose arguments are the paper's hyper-parameters.

* **The inverted residual block** (:func:`inverted_residual_block`, the paper's figure 3b and table 1): a 1x1 conv
  *expands* the block's input ``t`` times (BN, ReLU6); v1's depthwise separable block follows -- a 3x3 depthwise
  conv (BN, ReLU6), then a 1x1 conv that *projects* back down to a narrow width -- but with **no ReLU after the
  projection** (the *linear bottleneck*: section 3.2 shows a ReLU on a narrow layer destroys information); when the
  stride is 1 and the widths agree, the narrow input is added to the narrow output (the shortcut joins the
  bottlenecks, the inverse of a ResNet bottleneck, whose shortcut joins the wide ends).
* **The network** (table 2): a 3x3/2 conv with 32 filters, 17 blocks in seven groups ``(t, c, n, s)``
  (:data:`MOBILENET_V2_BLOCKS`), a 1x1 conv to 1280 channels, global average pooling and a 1000-way classifier.
  Widths are multiplied by ``alpha`` and rounded to a multiple of 8 (:func:`make_divisible`, Keras' rule); the
  last conv keeps 1280 channels for ``alpha <= 1``.

Layer names are Keras' (``Conv1``, ``expanded_conv_depthwise``, ``block_3_expand_BN``, ``block_4_add``,
``Conv_1``, ``predictions``), so weights copy across by name. At ``alpha=1`` and 224x224 the model has exactly the
3,538,984 parameters of ``keras.applications.MobileNetV2(weights=None)`` and 300.8M multiply-adds (the paper's
table 4: 3.4M and 300M; the convs and the classifier alone hold 3,470,760 weights, so 3.4M is 2% low).
Strided depthwise convs use ``padding="same"``, which on even sizes pads one pixel bottom/right, as Keras'
explicit ``ZeroPadding2D`` does.

MobileNetV3 (Howard et al. 2019, arXiv:1905.02244) keeps this block and adds a squeeze-and-excitation branch in
some blocks and the hard-swish activation ``x * ReLU6(x + 3) / 6``; it is not built here
(``keras.applications.MobileNetV3Small`` / ``Large`` are).

Example::

    from workshop_utils.architectures.mobilenet_v2 import mobilenet_v2
    mobilenet_v2().count_params()          # 3,538,984 == keras.applications.MobileNetV2(weights=None)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from workshop_utils._validate import positive_int

__all__ = [
    "MOBILENET_V2_BLOCKS",
    "PAPER_MACS",
    "PAPER_PARAMS",
    "inverted_residual_block",
    "make_divisible",
    "mobilenet_v2",
]

#: The paper's table 2: (expansion t, output channels c, repeats n, stride s of the first repeat) per group.
MOBILENET_V2_BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)

#: Quoted, Sandler et al. 2018, table 4 (MobileNetV2 1.0 at 224x224): multiply-adds and parameters.
PAPER_MACS = 300_000_000
PAPER_PARAMS = 3_400_000

_BN = dict(epsilon=1e-3, momentum=0.999)  # Keras' MobileNetV2 batch norm settings


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``), never more than 10% down.

    Keras' and the reference implementation's rule for the channel counts at width ``alpha``.

    Example::

        make_divisible(32 * 0.35)   # 16
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def inverted_residual_block(
    x: Any, filters: int, strides: int = 1, expansion: int = 6, block_id: int = 1, relu6: bool = True
) -> Any:
    """MobileNetV2's block: 1x1 expand (BN, ReLU6) -> 3x3 depthwise (BN, ReLU6) -> 1x1 project (BN, no ReLU) [+ x].

    The last two steps are v1's depthwise separable block without its final ReLU: the linear bottleneck. The input
    is added back when ``strides == 1`` and it has ``filters`` channels. With ``expansion == 1`` there is no
    expansion conv (the first block); ``block_id`` 0 gets Keras' names ``expanded_conv_*``.

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        filters: output channels (the projection's filters).
        strides: 1, or 2 to halve height and width (on the depthwise conv).
        expansion: the expansion factor t (the paper uses 6; 1 in the first block).
        block_id: names the layers ``block_{id}_expand``, ``block_{id}_depthwise_BN``, ``block_{id}_add``...
        relu6: ReLU6 as in the paper and Keras (``False``: plain ReLU).

    Example::

        y = inverted_residual_block(x, 24, strides=2, block_id=1)   # 112x112x16 -> 56x56x24 (96 inside)
    """
    positive_int("filters", filters)
    positive_int("expansion", expansion)
    if strides not in (1, 2) or isinstance(strides, bool):
        raise ValueError(f"strides must be 1 or 2, got {strides!r}.")
    prefix = "expanded_conv_" if block_id == 0 else f"block_{block_id}_"
    in_channels = x.shape[-1]
    relu_max = 6.0 if relu6 else None
    y = x
    if expansion > 1:
        y = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand")(y)
        y = layers.BatchNormalization(**_BN, name=f"{prefix}expand_BN")(y)
        y = layers.ReLU(relu_max, name=f"{prefix}expand_relu")(y)
    y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"{prefix}depthwise")(y)
    y = layers.BatchNormalization(**_BN, name=f"{prefix}depthwise_BN")(y)
    y = layers.ReLU(relu_max, name=f"{prefix}depthwise_relu")(y)
    y = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(y)
    y = layers.BatchNormalization(**_BN, name=f"{prefix}project_BN")(y)  # linear: no ReLU on the bottleneck
    if strides == 1 and in_channels == filters:
        return layers.Add(name=f"{prefix}add")([x, y])
    return y


def mobilenet_v2(
    alpha: float = 1.0,
    input_size: int = 224,
    classes: int = 1000,
    include_top: bool = True,
    *,
    blocks: Sequence[tuple[int, int, int, int]] = MOBILENET_V2_BLOCKS,
    channels: int = 3,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """MobileNetV2 at width ``alpha`` for ``input_size`` x ``input_size`` images (the paper's table 2).

    Args:
        alpha: width multiplier (the paper's 0.35 to 1.4); widths are rounded to multiples of 8.
        input_size: input height and width (at least 32: five stride-2 layers).
        classes: classifier outputs.
        include_top: the global average pooling and the classifier.
        blocks: ``(t, c, n, s)`` per group of blocks; default the paper's table 2.
        channels: input channels.
        classifier_activation: activation of the classifier (``None`` for logits).
        name: model name; default ``mobilenetv2_{alpha}_{size}`` as Keras.

    Example::

        mobilenet_v2(alpha=0.35, input_size=96)   # the smallest of the paper's figure 5
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha (the width multiplier) must be > 0, e.g. 1.0, 0.75 or 0.35; got {alpha!r}.")
    size = positive_int("input_size", input_size)
    if size < 32:
        raise ValueError(f"input_size must be at least 32 pixels (five stride-2 layers), got {size}.")
    if not blocks:
        raise ValueError("blocks needs at least one (t, c, n, s) group, e.g. MOBILENET_V2_BLOCKS.")
    positive_int("classes", classes)
    inputs = keras.Input((size, size, positive_int("channels", channels)), name="input_layer")
    x = layers.Conv2D(make_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = layers.ReLU(6.0, name="Conv1_relu")(layers.BatchNormalization(**_BN, name="bn_Conv1")(x))
    block_id = 0
    for expansion, filters, repeats, strides in blocks:
        for repeat in range(positive_int("repeats", repeats)):
            x = inverted_residual_block(x, make_divisible(int(filters * alpha)), strides if repeat == 0 else 1,
                                        expansion, block_id=block_id)
            block_id += 1
    last = make_divisible(1280 * alpha) if alpha > 1.0 else 1280  # the last conv is not thinned (section 5.1)
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(layers.BatchNormalization(**_BN, name="Conv_1_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=name or f"mobilenetv2_{alpha:0.2f}_{size}")
