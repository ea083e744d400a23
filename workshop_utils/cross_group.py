"""A task where information must cross channel groups: notebook 05's test of ShuffleNet's channel shuffle.

The channel shuffle (Zhang et al. 2018) lets the groups of a grouped convolution read each other's features. It can
only matter where a group alone does not see enough. On shapes10 as it is, every group of a small ShuffleNet reads
the same picture (an ungrouped stem mixes the three colours into every channel), so removing the shuffle costs
little. Here the input is cut into ``groups`` channel groups first, by a layer with no weights and no
multiply-adds, in one of two ways:

* ``task="shares"`` (:class:`NoisyShares`, the default): group ``k`` holds the image plus its own fixed noise
  pattern ``sigma * z_k``; the patterns sum to zero over the groups, so the groups' mean is the clean image. One
  group alone sees the shape under heavy noise; combined, the noise cancels exactly.
* ``task="pixels"`` (:class:`ScatterToGroups`): every pixel goes to one group by a fixed random assignment
  (:func:`pixel_groups`); a group sees a sparse 1/8 of the pixels, zeros elsewhere. Tried first: each group's
  sparse view still carries the class, and the classifier pools the groups' evidence, so the shuffle showed no
  clear gain (notebook 05's notes give the measurements).

:func:`cross_group_shufflenet` is a small ShuffleNet v1 on that input whose stem is grouped too, and whose every 1x1
conv is grouped (stage 2's first one included), so no layer with weights reads two groups. With ``shuffle=True``
the channels are shuffled after the stem and after each unit's first 1x1 conv (the paper's place); without it the
groups meet only where a stride-2 unit concatenates its pooled input in front of the branch (the channel blocks
shift against the groups) and in the classifier, after global pooling.

Example::

    model = cross_group_shufflenet((16, 16, 3), 10, shuffle=True)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from workshop_utils._validate import positive_int

#: The number of channel groups the task is cut into (the paper's largest g, where the shuffle mattered most).
GROUPS = 8
#: Seed of the fixed pixel-to-group assignment and of the noise patterns.
ASSIGNMENT_SEED = 0
#: Standard deviation of each group's noise (images scaled to [0, 1]; shapes10's shape-background contrast is
#: 0.22-0.48).
SIGMA = 0.5


def pixel_groups(height: int, width: int, groups: int = GROUPS, seed: int = ASSIGNMENT_SEED) -> np.ndarray:
    """The group (0..groups-1) of every pixel: a fixed random assignment, each group ``height * width / groups``
    pixels (as equal as the size allows).

    Example::

        pixel_groups(16, 16).shape, np.bincount(pixel_groups(16, 16).ravel())   # (16, 16), 32 pixels per group
    """
    positive_int("pixel_groups: groups", groups)
    labels = np.arange(height * width) % groups
    return np.random.default_rng(seed).permutation(labels).reshape(height, width)


def noise_patterns(height: int, width: int, channels: int, groups: int = GROUPS, sigma: float = SIGMA,
                   seed: int = ASSIGNMENT_SEED) -> np.ndarray:
    """Fixed Gaussian noise, (height, width, groups * channels), group k in channels ``k*C .. k*C + C - 1``, with
    zero mean over the groups at every pixel and channel (so the groups' mean of image + noise is the image).

    Example::

        noise_patterns(16, 16, 3).reshape(16, 16, 8, 3).mean(axis=2)   # ~0 everywhere
    """
    positive_int("noise_patterns: groups", groups)
    noise = np.random.default_rng((seed, 1)).normal(size=(height, width, groups, channels))
    noise -= noise.mean(axis=2, keepdims=True)
    return (sigma * noise).reshape(height, width, groups * channels).astype("float32")


def scatter_images(images: np.ndarray, groups: int = GROUPS, seed: int = ASSIGNMENT_SEED) -> np.ndarray:
    """NumPy twin of :class:`ScatterToGroups`: (N, H, W, C) -> (N, H, W, groups * C), group k in channels
    ``k*C .. k*C + C - 1`` (the contiguous blocks a grouped conv splits), zero where a pixel is not group k's.

    Example::

        scatter_images(dataset.x_test[:4]).shape   # (4, 16, 16, 24) for 16x16 RGB images
    """
    assignment = pixel_groups(images.shape[1], images.shape[2], groups, seed)
    masks = [(assignment == k)[None, :, :, None] for k in range(groups)]
    return np.concatenate([images * mask.astype(images.dtype) for mask in masks], axis=-1)


class _GroupInput(layers.Layer):
    """Base of the two task layers: (H, W, C) -> (H, W, groups * C), no weights, 0 multiply-adds."""

    def __init__(self, groups: int = GROUPS, seed: int = ASSIGNMENT_SEED, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        positive_int(f"{type(self).__name__}: groups", groups)
        self.groups, self.seed = groups, seed
        self._pattern: np.ndarray | None = None

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 4 or None in tuple(input_shape[1:]):
            raise ValueError(f"{type(self).__name__} needs (batch, height, width, channels) of known size, got "
                             f"{input_shape}.")
        self._pattern = self.pattern(*(int(d) for d in input_shape[1:]))

    def pattern(self, height: int, width: int, channels: int) -> np.ndarray:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], input_shape[-1] * self.groups)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "seed": self.seed}


@keras.saving.register_keras_serializable(package="workshop_utils")
class ScatterToGroups(_GroupInput):
    """Give each pixel to one of ``groups`` channel groups (fixed random assignment): (H, W, C) -> (H, W, groups*C).

    Group ``k`` is channels ``k*C .. k*C + C - 1``: the pixels :func:`pixel_groups` assigns to ``k`` keep their
    values there, every other pixel is 0. No weights; it only moves values (the cost rules count 0 multiply-adds).

    Example::

        x = ScatterToGroups(8)(inputs)     # (batch, 16, 16, 3) -> (batch, 16, 16, 24)
    """

    def pattern(self, height: int, width: int, channels: int) -> np.ndarray:
        assignment = pixel_groups(height, width, self.groups, self.seed)
        mask = np.stack([assignment == k for k in range(self.groups)], axis=-1)       # (H, W, groups)
        return np.repeat(mask, channels, axis=-1).astype("float32")                  # (H, W, groups * C)

    def call(self, inputs: Any) -> Any:
        tiled = ops.tile(inputs, (1, 1, 1, self.groups))                              # group k: a copy of x
        return tiled * ops.cast(ops.convert_to_tensor(self._pattern), tiled.dtype)


@keras.saving.register_keras_serializable(package="workshop_utils")
class NoisyShares(_GroupInput):
    """Split an image into ``groups`` noisy copies whose mean is the image: (H, W, C) -> (H, W, groups * C).

    Group ``k`` (channels ``k*C .. k*C + C - 1``) holds ``x + sigma * z_k``, with the fixed patterns of
    :func:`noise_patterns` (zero mean over the groups). No weights (the cost rules count 0 multiply-adds).

    Example::

        x = NoisyShares(8, sigma=0.5)(inputs)     # (batch, 16, 16, 3) -> (batch, 16, 16, 24)
    """

    def __init__(self, groups: int = GROUPS, sigma: float = SIGMA, seed: int = ASSIGNMENT_SEED, **kwargs: Any) -> None:
        super().__init__(groups, seed, **kwargs)
        self.sigma = float(sigma)

    def pattern(self, height: int, width: int, channels: int) -> np.ndarray:
        return noise_patterns(height, width, channels, self.groups, self.sigma, self.seed)

    def call(self, inputs: Any) -> Any:
        tiled = ops.tile(inputs, (1, 1, 1, self.groups))
        return tiled + ops.cast(ops.convert_to_tensor(self._pattern), tiled.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sigma": self.sigma}



def cross_group_shufflenet(input_shape: tuple[int, int, int], classes: int, shuffle: bool = True,
                           task: str = "shares", groups: int = GROUPS, sigma: float = SIGMA, stem_filters: int = 64,
                           channels: tuple[int, int, int] = (128, 256, 512),
                           stage_repeats: tuple[int, int, int] = (1, 1, 1), name: str | None = None) -> keras.Model:
    """ShuffleNet v1 on the grouped input: the task layer (``"input_groups"``: :class:`NoisyShares` or
    :class:`ScatterToGroups`), a grouped 3x3 stem, ShuffleNet units whose 1x1 convs are all grouped, global pooling,
    softmax. ``shuffle=True`` shuffles after the stem and in every unit; ``False`` nowhere. Grouped convs are built
    in the split form (fast to train on TensorFlow's CPU kernels; the same function as ``Conv2D(groups=g)``).

    Example::

        cross_group_shufflenet((16, 16, 3), 10, shuffle=False).count_params()
    """
    from workshop_utils.architectures.shufflenet import ChannelShuffle, shufflenet_unit
    from workshop_utils.grouped_conv import grouped_conv2d

    if task not in ("shares", "pixels"):
        raise ValueError(f"task must be 'shares' or 'pixels', got {task!r}.")
    inputs = keras.Input(input_shape, name="image")
    split = (NoisyShares(groups, sigma, name="input_groups") if task == "shares"
             else ScatterToGroups(groups, name="input_groups"))
    x = grouped_conv2d(split(inputs), stem_filters, 3, groups, name="conv1")
    x = layers.ReLU(name="conv1_relu")(layers.BatchNormalization(name="conv1_bn")(x))
    if shuffle:
        x = ChannelShuffle(groups, name="conv1_shuffle")(x)
    for stage, (width, repeats) in enumerate(zip(channels, stage_repeats), start=2):
        for unit in range(1, repeats + 1):
            x = shufflenet_unit(x, width, groups, strides=2 if unit == 1 else 1, group_first_conv=True,
                                shuffle=shuffle, group_conv="split", name=f"stage{stage}_unit{unit}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or ("with_shuffle" if shuffle else "without_shuffle"))
