"""Feature Pyramid Networks (Lin, Dollár, Girshick, He, Hariharan & Belongie, CVPR 2017, arXiv:1612.03144).

A bottom-up ResNet gives feature maps C2..C5 at strides 4, 8, 16, 32: fine but semantically weak at the bottom,
coarse but strong at the top. The **top-down** pathway starts from C5 and, level by level, **up**samples the
coarser map by 2 with nearest neighbour, adds a 1x1 **lateral** projection of the bottom-up map of the same size,
and smooths the sum with a 3x3 conv: P2..P5 all have ``channels`` channels and the semantics of the top.
(The deck says "nearest neighbour to downscale": the pathway *up*samples.)

* :func:`top_down_pyramid` -- the pyramid on any list of bottom-up maps (finest first).
* :func:`resnet_backbone` -- C2..C5 of an ImageNet ResNet from :mod:`workshop_utils.architectures.resnet`.
* :func:`small_backbone` -- four stages of notebook 07's basic block for 64x64 images (the demo).
* :func:`pyramid_classifier` / :func:`single_level_classifier` -- one shared head over P2..P5 versus the same
  head on the top level only, for the multi-scale demo.

Example::

    backbone = resnet_backbone(18)
    pyramid = top_down_pyramid(backbone.outputs, channels=256)   # P2..P5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from workshop_utils.architectures.resnet import RESNET_DEPTHS, basic_block, resnet


def top_down_pyramid(features: Sequence[Any], channels: int = 256, name: str = "fpn",
                     first_level: int = 2) -> list[Any]:
    """The FPN top-down pathway with lateral connections; returns [P2, ..., P5] (finest first).

    Args:
        features: bottom-up maps, finest first (C2, C3, C4, C5), each half the size of the one before.
        channels: channels of every pyramid level (256 in the paper).
        name: prefix of the layer names (``fpn_lateral3``, ``fpn_up4``, ``fpn_p2``).
        first_level: the level of ``features[0]`` (2 for C2; 3 when the pyramid starts at C3), for the names.

    Example::

        p2, p3, p4, p5 = top_down_pyramid([c2, c3, c4, c5])
    """
    if len(features) < 2:
        raise ValueError(f"a pyramid needs at least two bottom-up maps, finest first; got {len(features)}.")
    for finer, coarser in zip(features, features[1:]):
        if finer.shape[1] is not None and coarser.shape[1] is not None and finer.shape[1] != 2 * coarser.shape[1]:
            raise ValueError(f"each bottom-up map must be half the size of the previous one (finest first); got "
                             f"{tuple(finer.shape[1:3])} then {tuple(coarser.shape[1:3])}.")
    levels = range(first_level, first_level + len(features))
    laterals = [layers.Conv2D(channels, 1, name=f"{name}_lateral{level}")(feature)
                for level, feature in zip(levels, features)]
    merged = [laterals[-1]]
    for level, lateral in zip(reversed(levels[:-1]), reversed(laterals[:-1])):
        upsampled = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up{level + 1}")(merged[0])
        merged.insert(0, layers.Add(name=f"{name}_merge{level}")([lateral, upsampled]))
    # The 3x3 smoothing reduces the aliasing of nearest-neighbour upsampling (paper, section 3).
    return [layers.Conv2D(channels, 3, padding="same", name=f"{name}_p{level}")(m) for level, m in zip(levels, merged)]


def resnet_backbone(depth: int = 18, input_shape: tuple[int, int, int] = (224, 224, 3)) -> keras.Model:
    """An ImageNet ResNet without its head, with the last block of each stage as outputs C2..C5.

    Example::

        [tuple(o.shape[1:]) for o in resnet_backbone(18).outputs]  # 56x56x64 ... 7x7x512
    """
    if depth not in RESNET_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(RESNET_DEPTHS)}; got {depth!r}.")
    network = resnet(depth, input_shape=input_shape, include_top=False)
    blocks = RESNET_DEPTHS[depth][1]
    outputs = [network.get_layer(f"conv{stage}_block{count}_out").output for stage, count in zip(range(2, 6), blocks)]
    return keras.Model(network.input, outputs, name=f"resnet{depth}_c2_c5")


def small_backbone(input_shape: tuple[int, int, int] = (64, 64, 3),
                   widths: Sequence[int] = (16, 32, 64, 128)) -> keras.Model:
    """Four stages of one basic block each (stride 2 each), outputs C2..C5 at strides 2, 4, 8, 16.

    Example::

        small_backbone().output_shape   # [(None, 32, 32, 16), ..., (None, 4, 4, 128)]
    """
    if len(widths) != 4:
        raise ValueError(f"widths needs four stage widths (C2..C5), got {tuple(widths)}.")
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    x = layers.BatchNormalization(momentum=0.9, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    outputs = []
    for stage, filters in enumerate(widths, start=2):
        x = basic_block(x, filters, stride=2, name=f"conv{stage}_block1")
        outputs.append(x)
    return keras.Model(inputs, outputs, name="small_backbone")


def _shared_head(channels: int, classes: int) -> list[layers.Layer]:
    """One head, created once and applied to every level: 3x3 conv + ReLU, global max pool, class scores."""
    return [layers.Conv2D(channels, 3, padding="same", activation="relu", name="head_conv"),
            layers.GlobalMaxPooling2D(name="head_pool"),
            layers.Dense(classes, name="head_scores")]


def _apply(head: list[layers.Layer], x: Any) -> Any:
    for layer in head:
        x = layer(x)
    return x


def pyramid_classifier(input_shape: tuple[int, int, int] = (64, 64, 3), classes: int = 4,
                       channels: int = 32) -> keras.Model:
    """Backbone, top-down pyramid on C3..C5 (strides 4-16), one shared head on every level; the best level wins.

    C2 (stride 2) is left out, as FPN's detectors leave out C1: a head at half resolution would cost more than
    the whole backbone, and a 6-pixel object already spans a few cells at stride 4.

    Example::

        pyramid_classifier().count_params()
    """
    backbone = small_backbone(input_shape)
    pyramid = top_down_pyramid(backbone.outputs[1:], channels=channels, first_level=3)
    head = _shared_head(channels, classes)
    scores = layers.Maximum(name="best_level")([_apply(head, level) for level in pyramid])
    outputs = layers.Activation("softmax", name="predictions")(scores)
    return keras.Model(backbone.input, outputs, name="fpn_classifier")


def single_level_classifier(input_shape: tuple[int, int, int] = (64, 64, 3), classes: int = 4,
                            channels: int = 32) -> keras.Model:
    """The same backbone and head on the top level only (C5 through a 1x1 lateral): no pyramid.

    Example::

        single_level_classifier().count_params()
    """
    backbone = small_backbone(input_shape)
    top = layers.Conv2D(channels, 1, name="fpn_lateral5")(backbone.outputs[-1])
    scores = _apply(_shared_head(channels, classes), top)
    outputs = layers.Activation("softmax", name="predictions")(scores)
    return keras.Model(backbone.input, outputs, name="top_level_classifier")
