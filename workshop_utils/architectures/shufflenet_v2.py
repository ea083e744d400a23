"""ShuffleNet V2 (Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture
Design", ECCV 2018, arXiv:1807.11164): the unit its four guidelines lead to, and the network of its table 5.

Written like ``keras.applications``, on the template of :mod:`workshop_utils.architectures.mobilenet`: one unit
function and one model function whose arguments are the paper's hyper-parameters. The guidelines (section 2,
timed in notebook 05 with :func:`workshop_utils.architectures.shufflenet.guideline_models`) and what the unit
(figure 3c, d) does about each:

* **G1** equal channel widths minimise memory access: every 1x1 conv in the unit keeps its width (no bottleneck);
* **G2** many groups cost time: the 1x1 convs are plain, not grouped (V1's group convs are gone);
* **G3** fragmentation costs time: one branch of three convs, not V1's many small ones;
* **G4** element-wise ops are not free: no ``Add`` (a concatenation instead), and the ReLU only on one branch.

**The unit** (:func:`shufflenet_v2_unit`). Stride 1: a *channel split* cuts the input in two halves; one half
passes untouched, the other goes through 1x1 conv (BN, ReLU) -> 3x3 depthwise conv (BN) -> 1x1 conv (BN, ReLU);
the halves are *concatenated* and *channel-shuffled* (two groups), so the next unit's split takes channels from
both. Stride 2: no split; both branches read the whole input (the left one a 3x3/2 depthwise conv (BN) then a 1x1
conv (BN, ReLU)), so the concatenation doubles the channels.

**The network** (table 5): conv1 3x3/2 with 24 filters, max pool 3x3/2, stages 2-4 of 4, 8 and 4 units (the first
of each with stride 2), conv5 1x1 (1024 channels at 0.5x-1.5x), global average pooling, FC. At 1x the stages
have 116, 232 and 464 channels: **quoted 146M FLOPs** (multiply-adds, as in ShuffleNet v1: one multiply-add is
one "FLOP" there) **and 2.3M parameters** (:data:`TABLE_5`). The paper's parameters are the trained weights:
batch norm's moving means and variances, which Keras counts in ``count_params()``, are not among them.

Example::

    from workshop_utils.architectures.shufflenet_v2 import shufflenet_v2
    model = shufflenet_v2(1.0)             # 224x224, ~146M multiply-adds
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from workshop_utils.architectures.shufflenet import ChannelShuffle
from workshop_utils.grouped_conv import ChannelSplit

__all__ = ["STAGE_CHANNELS", "STAGE_REPEATS", "TABLE_5", "shufflenet_v2", "shufflenet_v2_unit"]

#: Table 5: output channels of stages 2, 3, 4 and of conv5, per width multiplier.
STAGE_CHANNELS: dict[float, tuple[int, int, int, int]] = {
    0.5: (48, 96, 192, 1024),
    1.0: (116, 232, 464, 1024),
    1.5: (176, 352, 704, 1024),
    2.0: (244, 488, 976, 2048),
}
#: Units per stage (table 5).
STAGE_REPEATS: tuple[int, int, int] = (4, 8, 4)
#: Quoted, Ma et al. 2018, table 5 (224x224, 1000 classes): width -> (multiply-adds, parameters).
TABLE_5: dict[float, tuple[int, int]] = {
    0.5: (41_000_000, 1_400_000),
    1.0: (146_000_000, 2_300_000),
    1.5: (299_000_000, 3_500_000),
    2.0: (591_000_000, 7_400_000),
}


def _conv_bn(x: Any, filters: int, name: str, relu: bool = True) -> Any:
    x = layers.Conv2D(filters, 1, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _depthwise_bn(x: Any, strides: int, name: str) -> Any:
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)  # no ReLU after the depthwise conv


def shufflenet_v2_unit(x: Any, out_channels: int, strides: int = 1, name: str = "unit") -> Any:
    """One ShuffleNet V2 unit: split (stride 1), one branch of 1x1 -> 3x3 depthwise -> 1x1, concat, shuffle.

    Args:
        x: a 4-D channels-last tensor. With ``strides=1`` it must have ``out_channels`` channels.
        out_channels: the unit's output channels (even: each branch gives half).
        strides: 1 (channel split, one half untouched) or 2 (both branches read all of ``x``; size halves).
        name: prefix of the layer names (``{name}_split``, ``{name}_conv1``, ``{name}_dwconv``, ``{name}_concat``...).

    Example::

        y = shufflenet_v2_unit(x, 232, strides=2, name="stage3_unit1")   # 28x28x116 -> 14x14x232
    """
    if strides not in (1, 2) or isinstance(strides, bool):
        raise ValueError(f"strides must be 1 or 2, got {strides!r}.")
    if not isinstance(out_channels, int) or out_channels < 2 or out_channels % 2:
        raise ValueError(f"out_channels must be an even integer >= 2 (two branches of half), got {out_channels!r}.")
    half = out_channels // 2
    if strides == 1:
        if x.shape[-1] != out_channels:
            raise ValueError(
                f"a stride-1 unit keeps its width: the input has {x.shape[-1]} channels, out_channels is "
                f"{out_channels}; use strides=2 to change the width."
            )
        left, right = ChannelSplit(2, name=f"{name}_split")(x)  # G1: two halves of equal width
    else:
        left = _depthwise_bn(x, 2, f"{name}_left_dwconv")
        left = _conv_bn(left, half, f"{name}_left_conv")
        right = x
    right = _conv_bn(right, half, f"{name}_conv1")  # G2: plain 1x1 convs, no groups
    right = _depthwise_bn(right, strides, f"{name}_dwconv")
    right = _conv_bn(right, half, f"{name}_conv2")
    x = layers.Concatenate(name=f"{name}_concat")([left, right])  # G4: a concat, not an add
    return ChannelShuffle(2, name=f"{name}_shuffle")(x)


def shufflenet_v2(
    width: float = 1.0,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    *,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """ShuffleNet V2 at width multiplier ``width`` (0.5, 1.0, 1.5 or 2.0: the paper's table 5).

    Example::

        shufflenet_v2(0.5, input_shape=(32, 32, 3), classes=10)
    """
    if width not in STAGE_CHANNELS:
        raise ValueError(f"width must be one of the paper's {sorted(STAGE_CHANNELS)} (table 5), got {width!r}.")
    if len(input_shape) != 3 or min(input_shape[:2]) < 32:
        raise ValueError(f"input_shape must be (height, width, channels) with sides >= 32, got {input_shape!r}.")
    *stages, last = STAGE_CHANNELS[width]
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(24, 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.ReLU(name="conv1_relu")(layers.BatchNormalization(name="conv1_bn")(x))
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, (channels, units) in enumerate(zip(stages, STAGE_REPEATS), start=2):
        for unit in range(1, units + 1):
            x = shufflenet_v2_unit(x, channels, strides=2 if unit == 1 else 1, name=f"stage{stage}_unit{unit}")
    x = _conv_bn(x, last, "conv5")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"shufflenet_v2_{width}x")
