"""ShuffleNet v1 (Zhang, Zhou, Lin & Sun 2017, arXiv:1707.01083): channel shuffle, the unit, the network.

The reference copy of what notebook 05 builds live, written like ``keras.applications``: a :class:`ChannelShuffle`
layer (``keras.ops`` only, so it runs on every backend), the unit (:func:`shufflenet_unit`) and the network
(:func:`shufflenet_v1`), whose arguments are the paper's hyper-parameters (``groups``, the scale factor, the
stage repeats).

* **Channel shuffle** (section 3.1): "suppose a convolutional layer with g groups whose output has g x n
  channels; we first reshape the output channel dimension into (g, n), transposing and then flattening it back".
  Output channel ``k * g + i`` is input channel ``i * n + k``: the first output channels take channel 0 of
  every group in turn. (The inverse, reshaping into (n, g), is a different permutation unless g = n.)
* **The unit** (figure 2): 1x1 group conv -> BN -> ReLU -> channel shuffle -> 3x3 depthwise conv (stride 1 or 2)
  -> BN -> 1x1 group conv -> BN; then add the input (stride 1) or concatenate a 3x3/2 average-pooled input
  (stride 2), then ReLU. No ReLU after the depthwise conv (section 3.2). The bottleneck is 1/4 of the unit's
  output channels.
* **The network** (table 1): conv1 3x3/2 with 24 filters, max pool 3x3/2, stages 2-4 with 4, 8, 4 units (the first
  of each with stride 2), global pool, FC. "We do not apply group convolution on the first pointwise layer (of
  stage 2) because the number of input channels is relatively small" (section 3.3).
* **"FLOPs" are multiply-adds**: the paper's complexities (table 1: 143M, 140M, 137M, 133M, 137M for
  g = 1, 2, 3, 4, 8) count one multiply-add as one "FLOP" -- :attr:`workshop_utils.flops.Profile.macs` here.

``group_conv="split"`` builds every grouped 1x1 conv with :func:`workshop_utils.grouped_conv.grouped_conv2d`
(the same function and cost, trained ~5x faster by TensorFlow's CPU kernels than ``Conv2D(groups=g)``).

Example::

    from workshop_utils.architectures.shufflenet import shufflenet_v1
    model = shufflenet_v1(groups=3)        # 224x224, table 1's g = 3 column, ~137M multiply-adds
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from workshop_utils._validate import positive_int
from workshop_utils.grouped_conv import grouped_conv2d

__all__ = [
    "ChannelShuffle",
    "shuffle_order",
    "shufflenet_unit",
    "shufflenet_v1",
    "stage_channels",
    "GROUPS",
    "TABLE_1_CHANNELS",
    "TABLE_1_COMPLEXITY",
    "STAGE_REPEATS",
    "V2_GUIDELINES",
    "guideline_models",
]

#: Output channels of stages 2, 3, 4 at scale 1x, per number of groups (Zhang et al. 2017, table 1).
TABLE_1_CHANNELS: dict[int, tuple[int, int, int]] = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
#: Complexity per 224x224 image at 1x, quoted from table 1 (its "FLOPs" are multiply-adds).
TABLE_1_COMPLEXITY: dict[int, int] = {1: 143_000_000, 2: 140_000_000, 3: 137_000_000, 4: 133_000_000,
                                      8: 137_000_000}
#: The numbers of groups table 1 has a column for.
GROUPS: tuple[int, ...] = tuple(TABLE_1_CHANNELS)
#: Units per stage (stages 2, 3, 4), the first of each with stride 2 (table 1: 1 + 3, 1 + 7, 1 + 3).
STAGE_REPEATS: tuple[int, int, int] = (4, 8, 4)


def shuffle_order(channels: int, groups: int) -> list[int]:
    """The input channel each output channel of a channel shuffle takes, by the paper's definition.

    Output channel ``k * groups + i`` is input channel ``i * n + k`` (``n = channels // groups``): reshape the
    channels into (groups, n), transpose, flatten.

    Example::

        shuffle_order(12, 3)   # [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    """
    if channels % groups:
        raise ValueError(f"{channels} channels cannot be cut into {groups} equal groups; use a divisor of {channels}.")
    n = channels // groups
    return [i * n + k for k in range(n) for i in range(groups)]


@keras.saving.register_keras_serializable(package="workshop_utils")
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle on a channels-last tensor: reshape (g, n) -> transpose -> reshape.

    No weights, no multiply-adds (the cost rules, :mod:`workshop_utils.flops.rules`, count it as 0). Works for
    any batch size and image size, on every Keras backend. Its gradient is the inverse permutation.

    Example::

        y = ChannelShuffle(groups=3)(x)     # x: (batch, h, w, 12): y's channels are x's [0, 4, 8, 1, 5, 9, ...]
    """

    def __init__(self, groups: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = positive_int("ChannelShuffle: groups", groups)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"ChannelShuffle expects (batch, height, width, channels) inputs, got {input_shape}.")
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(
                f"ChannelShuffle: {channels} channels cannot be shuffled in {self.groups} groups; the channel count "
                f"must be known and a multiple of groups."
            )

    def call(self, inputs: Any) -> Any:
        shape = ops.shape(inputs)  # dynamic sizes: any batch and image size
        channels = inputs.shape[-1]
        x = ops.reshape(inputs, (-1, shape[1], shape[2], self.groups, channels // self.groups))
        x = ops.transpose(x, (0, 1, 2, 4, 3))  # (g, n) -> (n, g)
        return ops.reshape(x, (-1, shape[1], shape[2], channels))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups}


def _pointwise(x: Any, filters: int, groups: int, group_conv: str, name: str) -> Any:
    """A 1x1 conv with ``groups`` groups (no bias: BN follows), as ``Conv2D(groups=g)`` or the split form."""
    if group_conv == "split":
        return grouped_conv2d(x, filters, 1, groups, name=name)
    return layers.Conv2D(filters, 1, groups=groups, use_bias=False, name=name)(x)


def shufflenet_unit(
    x: Any,
    out_channels: int,
    groups: int,
    strides: int = 1,
    group_first_conv: bool = True,
    shuffle: bool = True,
    group_conv: str = "keras",
    bn_momentum: float = 0.99,
    name: str = "unit",
) -> Any:
    """One ShuffleNet unit (figure 2b for ``strides=1``, 2c for ``strides=2``).

    Args:
        x: the input tensor (channels-last).
        out_channels: channels of the unit's output. With stride 2 the branch makes ``out_channels - in``
            channels and the average-pooled input supplies the rest.
        groups: groups of both 1x1 convs (and of the shuffle).
        strides: 1 (residual add; needs ``out_channels`` equal to the input's) or 2 (concat; halves the size).
        group_first_conv: ``False`` for the first unit of stage 2, whose input has only 24 channels.
        shuffle: ``False`` builds the no-shuffle ablation (the paper's table 3).
        group_conv: ``"keras"`` (``Conv2D(groups=g)``) or ``"split"`` (per-group ``Conv2D`` + concat).
        bn_momentum: BatchNormalization's momentum (Keras' 0.99; 0.9 lets short runs' moving statistics catch up).
        name: block id; layers are ``{name}_gconv1``, ``{name}_shuffle``, ``{name}_dwconv``, ``{name}_gconv2``...

    Example::

        x = shufflenet_unit(x, 480, groups=3, strides=2, name="stage3_unit1")
    """
    in_channels = int(x.shape[-1])
    if strides not in (1, 2):
        raise ValueError(f"strides must be 1 or 2, got {strides!r}.")
    if group_conv not in ("keras", "split"):
        raise ValueError(f"group_conv must be 'keras' or 'split', got {group_conv!r}.")
    if strides == 1 and out_channels != in_channels:
        raise ValueError(f"{name}: a stride-1 unit adds its input, so out_channels must be {in_channels}, "
                         f"got {out_channels}.")
    branch_channels = out_channels - in_channels if strides == 2 else out_channels
    bottleneck = out_channels // 4
    first_groups = groups if group_first_conv else 1
    for what, count, divisor in (("input channels", in_channels, first_groups),
                                 ("bottleneck channels", bottleneck, groups),
                                 ("branch output channels", branch_channels, groups)):
        if branch_channels < 1 or count % divisor:
            raise ValueError(
                f"{name}: {what} = {count} is not a positive multiple of groups = {divisor}; "
                f"use table 1's widths {TABLE_1_CHANNELS.get(groups, '')} (times a scale) for groups={groups}."
            )

    shortcut = x
    x = _pointwise(x, bottleneck, first_groups, group_conv, name=f"{name}_gconv1")
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_gconv1_bn")(x)
    x = layers.ReLU(name=f"{name}_gconv1_relu")(x)
    if shuffle and groups > 1:
        x = ChannelShuffle(groups, name=f"{name}_shuffle")(x)
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
    # no ReLU after the depthwise conv (section 3.2)
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_dwconv_bn")(x)
    x = _pointwise(x, branch_channels, groups, group_conv, name=f"{name}_gconv2")
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_gconv2_bn")(x)
    if strides == 1:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
    else:
        shortcut = layers.AveragePooling2D(3, strides=2, padding="same", name=f"{name}_shortcut_pool")(shortcut)
        x = layers.Concatenate(name=f"{name}_concat")([shortcut, x])
    return layers.ReLU(name=f"{name}_relu")(x)


def stage_channels(groups: int, scale: float = 1.0) -> tuple[int, int, int]:
    """Output channels of stages 2-4 for ``groups`` at ``scale`` ("ShuffleNet s x": table 1's widths times s).

    Scaled widths are rounded to a multiple of ``4 * groups``, so that the bottleneck (1/4) splits into groups.

    Example::

        stage_channels(3, 0.5)    # (120, 240, 480): ShuffleNet 0.5x, g = 3
    """
    if groups not in TABLE_1_CHANNELS:
        raise ValueError(f"groups must be one of {GROUPS} (table 1's columns), got {groups!r}.")
    if not scale > 0:
        raise ValueError(f"scale must be positive (the paper uses 0.25, 0.5, 1, 1.5, 2), got {scale!r}.")
    step = 4 * groups
    return tuple(max(step, round(c * scale / step) * step) for c in TABLE_1_CHANNELS[groups])  # type: ignore[return-value]


def shufflenet_v1(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    groups: int = 3,
    scale: float = 1.0,
    stage_repeats: Sequence[int] = STAGE_REPEATS,
    channels: Sequence[int] | None = None,
    stem_filters: int = 24,
    stem_strides: int = 2,
    stem_pool: bool = True,
    shuffle: bool = True,
    group_conv: str = "keras",
    bn_momentum: float = 0.99,
    name: str | None = None,
) -> keras.Model:
    """ShuffleNet v1 (table 1): conv1, max pool, three stages of ShuffleNet units, global pool, FC.

    Args:
        input_shape: image size (the paper: 224x224x3).
        classes: outputs of the final softmax layer.
        groups: 1, 2, 3, 4 or 8 (table 1's columns).
        scale: the width multiplier "s" (table 2): table 1's stage widths times ``scale``.
        stage_repeats: units in stages 2, 3, 4 (the first of each has stride 2).
        channels: stage widths, instead of table 1's times ``scale`` (small nets for small images).
        stem_filters, stem_strides, stem_pool: conv1's filters (24) and stride (2), and the 3x3/2 max pool;
            a 32x32 image wants stride 1 and no pool.
        shuffle: ``False`` leaves out every channel shuffle (the paper's table 3 ablation).
        group_conv: ``"keras"`` (``Conv2D(groups=g)``) or ``"split"`` (fast to train on TensorFlow's CPU kernels).
        bn_momentum: BatchNormalization's momentum (0.99, Keras' default; 0.9 for runs of a few hundred steps).
        name: model name (default ``shufflenet_v1_g{groups}``).

    Example::

        shufflenet_v1(groups=8)                                  # 224x224, ~137M multiply-adds (quoted)
        shufflenet_v1((32, 32, 3), 10, groups=3, channels=(48, 96, 192), stage_repeats=(2, 2, 2),
                      stem_strides=1, stem_pool=False, group_conv="split")
    """
    if groups not in TABLE_1_CHANNELS:
        raise ValueError(f"groups must be one of {GROUPS} (table 1's columns), got {groups!r}.")
    if len(stage_repeats) != 3 or any(not isinstance(r, int) or r < 1 for r in stage_repeats):
        raise ValueError(f"stage_repeats needs three positive unit counts (stages 2, 3, 4), got {stage_repeats!r}.")
    widths = tuple(channels) if channels is not None else stage_channels(groups, scale)
    if len(widths) != 3:
        raise ValueError(f"channels needs three stage widths (stages 2, 3, 4), got {channels!r}.")
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}.")
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(stem_filters, 3, strides=stem_strides, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(momentum=bn_momentum, name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    if stem_pool:
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, (width, repeats) in enumerate(zip(widths, stage_repeats), start=2):
        for unit in range(1, repeats + 1):
            x = shufflenet_unit(
                x, width, groups, strides=2 if unit == 1 else 1,
                group_first_conv=not (stage == 2 and unit == 1),  # stage 2's first 1x1 conv reads only 24 channels
                shuffle=shuffle, group_conv=group_conv, bn_momentum=bn_momentum, name=f"stage{stage}_unit{unit}",
            )  # fmt: skip
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"shufflenet_v1_g{groups}")


#: ShuffleNet V2's four practical guidelines (Ma et al. 2018, arXiv:1807.11164, section 3), by number.
V2_GUIDELINES: dict[int, str] = {
    1: "equal channel widths minimise memory access",
    2: "many groups cost time",
    3: "fragmented branches cost time",
    4: "element-wise ops are not free",
}


def _conv1x1(x: Any, filters: int, name: str, groups: int = 1) -> Any:
    return layers.Conv2D(filters, 1, groups=groups, use_bias=False, name=name)(x)


def guideline_models(guideline: int, size: int = 28, channels: int = 128, blocks: int = 5) -> dict[str, keras.Model]:
    """Small networks that differ in one design choice at (nearly) equal multiply-adds, to time one V2 guideline.

    Modelled on ShuffleNet V2's section 3 experiments (``blocks`` repeated blocks on a ``size`` x ``size`` map):

    1. two 1x1 convs c1 -> c2 -> c1 with c1:c2 = 1:1, 1:2, 1:6, 1:12 and c1 * c2 = ``channels``**2;
    2. a 1x1 ``Conv2D(groups=g)``, g = 1, 2, 4, 8, widened to c = ``channels`` * sqrt(g) to keep the MACs;
    3. one 1x1 conv c -> c, or 2 or 4 parallel 1x1 convs c -> c/k, concatenated (the same MACs exactly);
    4. a ResNet bottleneck (1x1 c -> c/4, 3x3, 1x1 -> c) with or without its ReLUs and its shortcut add.

    Returns ``{variant: model}``, first the variant the guideline recommends. Time them with
    :func:`workshop_utils.latency.measure_latency`.

    Example::

        models = guideline_models(2, size=14)        # {"g=1": ..., "g=2": ..., "g=4": ..., "g=8": ...}
    """
    if guideline not in V2_GUIDELINES:
        raise ValueError(f"guideline must be one of {tuple(V2_GUIDELINES)}, got {guideline!r}.")
    if size < 1 or channels < 16 or blocks < 1:
        raise ValueError(f"need size >= 1, channels >= 16 and blocks >= 1, got {size}, {channels}, {blocks}.")

    def build(name: str, in_channels: int, block: Any) -> keras.Model:
        inputs = keras.Input((size, size, in_channels), name="features")
        x = inputs
        for index in range(1, blocks + 1):
            x = block(x, f"block{index}")
        return keras.Model(inputs, x, name=name)

    models: dict[str, keras.Model] = {}
    if guideline == 1:
        for ratio in (1, 2, 6, 12):
            c1, c2 = round(channels / ratio**0.5), round(channels * ratio**0.5)
            models[f"c1:c2 = 1:{ratio} ({c1}->{c2}->{c1})"] = build(
                f"g1_ratio{ratio}", c1,
                lambda x, n, c1=c1, c2=c2: _conv1x1(_conv1x1(x, c2, f"{n}_a"), c1, f"{n}_b"),
            )
    elif guideline == 2:
        for groups in (1, 2, 4, 8):
            width = max(groups, round(channels * groups**0.5 / groups) * groups)
            models[f"groups={groups} ({width} channels)"] = build(
                f"g2_groups{groups}", width, lambda x, n, w=width, g=groups: _conv1x1(x, w, n, groups=g),
            )
    elif guideline == 3:
        for fragments in (1, 2, 4):
            def block(x: Any, n: str, k: int = fragments) -> Any:
                parts = [_conv1x1(x, channels // k, f"{n}_branch{i}") for i in range(k)]
                return parts[0] if k == 1 else layers.Concatenate(name=f"{n}_concat")(parts)

            models[f"{fragments} parallel 1x1 conv{'s' if fragments > 1 else ''}"] = build(
                f"g3_fragments{fragments}", channels, block)
    else:
        for relu, shortcut in ((False, False), (True, False), (False, True), (True, True)):
            def block(x: Any, n: str, relu: bool = relu, shortcut: bool = shortcut) -> Any:
                y = x
                for index, (filters, kernel) in enumerate(((channels // 4, 1), (channels // 4, 3), (channels, 1))):
                    y = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{n}_conv{index}")(y)
                    if relu:
                        y = layers.ReLU(name=f"{n}_relu{index}")(y)
                return layers.Add(name=f"{n}_add")([x, y]) if shortcut else y

            label = " + ".join([*(["ReLU"] if relu else []), *(["shortcut"] if shortcut else [])]) or "neither"
            models[label] = build(f"g4_relu{int(relu)}_shortcut{int(shortcut)}", channels, block)
    return models
