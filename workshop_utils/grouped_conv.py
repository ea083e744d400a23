"""Grouped convolution in its fast split -> one ``Conv2D`` per group -> concatenate form, and weight copies.

``keras.layers.Conv2D(filters, k, groups=g)`` and the split form compute the same function: the input channels
are cut into ``g`` contiguous groups, group ``i`` is convolved by its own ``filters / g`` filters, and the
``g`` results are concatenated in group order. Parameters and multiply-adds are the same too. They differ in speed:
TensorFlow's CPU kernels *train* ``Conv2D(groups=g)`` about 5x slower than ``groups=1``: measured in November 2026
on a 2-core x86-64 CPU (TensorFlow 2.21, Keras 3.15), a small net with three ``Conv2D(72, 1, groups=3)`` layers
trained at 341 images/s against 1,873 with ``groups=1`` (``benchmarks/bench_grouped_conv.py`` measures it on your
machine), while the split form ran at almost ``groups=1`` speed (1,649 images/s). The cause is in Keras'
TensorFlow backend: grouped convolutions are "broken on CPU without XLA" (``keras/src/backend/tensorflow/nn.py``),
so every grouped conv runs as its own XLA-compiled function, which this CPU runs slowly. A property of the kernels,
not of the idea -- which is ShuffleNet V2's point: multiply-adds are not speed.

* :func:`grouped_conv2d` builds the split form in a Functional model (layers ``{name}_split``,
  ``{name}_group0`` ... ``{name}_group{g-1}``, ``{name}_concat``; a plain ``Conv2D`` called ``name`` when
  ``groups == 1``).
* :func:`group_convs` finds the per-group ``Conv2D`` layers of one such block in a model.
* :func:`copy_grouped_to_split` and :func:`copy_split_to_grouped` copy weights between a ``Conv2D(groups=g)``
  and the per-group convs, in both directions, so a notebook can show the two are the same function.

Example::

    x = grouped_conv2d(inputs, 240, 1, groups=3, name="stage2_unit1_gconv1")   # 3 Conv2D(80, 1) side by side
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from workshop_utils._validate import positive_int

__all__ = [
    "ChannelSplit",
    "grouped_conv2d",
    "group_convs",
    "copy_grouped_to_split",
    "copy_split_to_grouped",
]


def _check_groups(channels: int, filters: int, groups: int, what: str) -> None:
    """Raise a ValueError saying what to change when ``groups`` does not divide the channels and filters."""
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{what}: groups must be a positive integer, got {groups!r}.")
    if channels % groups:
        raise ValueError(
            f"{what}: the input has {channels} channels, which {groups} groups cannot split evenly; "
            f"use a number of groups that divides {channels}, or change the previous layer's width."
        )
    if filters % groups:
        raise ValueError(
            f"{what}: {filters} filters cannot be shared evenly by {groups} groups; "
            f"use a multiple of {groups} filters (e.g. {groups * max(1, round(filters / groups))})."
        )


@keras.saving.register_keras_serializable(package="workshop_utils")
class ChannelSplit(layers.Layer):
    """Cut the last (channel) axis into ``groups`` equal, contiguous parts; returns a list of ``groups`` tensors.

    A reshaping layer: no weights and no multiply-adds.

    Example::

        parts = ChannelSplit(3)(x)          # x: (batch, h, w, 12) -> three (batch, h, w, 4) tensors
    """

    def __init__(self, groups: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = positive_int("ChannelSplit: groups", groups)

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[-1]
        if channels is not None and channels % self.groups:
            raise ValueError(
                f"ChannelSplit: {channels} channels cannot be split into {self.groups} equal groups; "
                f"use a number of groups that divides {channels}."
            )

    def call(self, inputs: Any) -> list[Any]:
        return ops.split(inputs, self.groups, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> list[tuple]:
        channels = input_shape[-1]
        part = None if channels is None else channels // self.groups
        return [tuple(input_shape[:-1]) + (part,) for _ in range(self.groups)]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups}


def grouped_conv2d(
    x: Any,
    filters: int,
    kernel_size: int | tuple[int, int],
    groups: int,
    strides: int | tuple[int, int] = 1,
    padding: str = "same",
    use_bias: bool = False,
    name: str | None = None,
) -> Any:
    """A grouped convolution built as split -> one ``Conv2D(filters // groups)`` per group -> concatenate.

    The same function, parameter count and multiply-adds as ``Conv2D(filters, kernel_size, groups=groups)``
    (channels-last), but trained at nearly ``groups=1`` speed on TensorFlow's CPU kernels.

    Args:
        x: a channels-last tensor (symbolic in a Functional model, or concrete).
        filters: output channels in total; a multiple of ``groups``.
        kernel_size, strides, padding, use_bias: as for ``Conv2D`` (``use_bias=False``: BN usually follows).
        groups: number of groups; must divide the input channels and ``filters``. ``1`` gives one plain ``Conv2D``.
        name: block name; the layers are ``{name}_split``, ``{name}_group{i}`` and ``{name}_concat``
            (or one ``Conv2D`` called ``name`` when ``groups == 1``).

    Raises:
        ValueError: when ``groups`` does not divide the input channels or ``filters``.

    Example::

        y = grouped_conv2d(x, 240, 1, groups=3, name="gconv")    # x has 240 channels -> 3 x Conv2D(80, 1)
    """
    channels = x.shape[-1]
    if channels is None:
        raise ValueError("grouped_conv2d: the input's channel count must be known (channels-last input).")
    _check_groups(int(channels), filters, groups, f"grouped_conv2d({name or 'unnamed'})")
    if groups == 1:
        return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    parts = ChannelSplit(groups, name=f"{name}_split" if name else None)(x)
    outputs = [
        layers.Conv2D(filters // groups, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                      name=f"{name}_group{i}" if name else None)(part)
        for i, part in enumerate(parts)
    ]  # fmt: skip
    return layers.Concatenate(axis=-1, name=f"{name}_concat" if name else None)(outputs)


def group_convs(model: keras.Model, name: str) -> list[layers.Conv2D]:
    """The per-group ``Conv2D`` layers (``{name}_group0``, ``{name}_group1``, ...) of one :func:`grouped_conv2d`.

    Raises:
        ValueError: when the model has no layer ``{name}_group0``.

    Example::

        convs = group_convs(model, "gconv")      # [gconv_group0, gconv_group1, gconv_group2]
    """
    names = {layer.name: layer for layer in model.layers}
    convs = []
    while f"{name}_group{len(convs)}" in names:
        convs.append(names[f"{name}_group{len(convs)}"])
    if not convs:
        close = sorted(n for n in names if n.endswith("_group0"))
        raise ValueError(
            f"group_convs: no layer {name + '_group0'!r} in {model.name!r}; grouped_conv2d blocks in it: "
            f"{[n[: -len('_group0')] for n in close] or 'none'}."
        )
    return convs


def _check_pair(grouped: layers.Conv2D, convs: Sequence[layers.Conv2D]) -> int:
    """Check that ``convs`` can hold ``grouped``'s weights; returns the filters per group."""
    if not grouped.built or not all(conv.built for conv in convs):
        raise ValueError("copy weights: build both models first (call them on an input, or build them from Input).")
    groups = grouped.groups
    if len(convs) != groups:
        raise ValueError(f"copy weights: {grouped.name!r} has groups={groups} but {len(convs)} per-group convs "
                         f"were given.")
    per_group = grouped.filters // groups
    kh, kw, in_per_group, _ = grouped.kernel.shape
    for conv in convs:
        if tuple(conv.kernel.shape) != (kh, kw, in_per_group, per_group):
            raise ValueError(
                f"copy weights: {conv.name!r} has kernel shape {tuple(conv.kernel.shape)}, expected "
                f"{(kh, kw, in_per_group, per_group)} to hold one group of {grouped.name!r}."
            )
        if (conv.bias is None) != (grouped.bias is None):
            raise ValueError(f"copy weights: {conv.name!r} and {grouped.name!r} disagree on use_bias.")
    return per_group


def copy_grouped_to_split(grouped: layers.Conv2D, convs: Sequence[layers.Conv2D]) -> None:
    """Copy a ``Conv2D(groups=g)``'s weights into the ``g`` per-group convs of the split form.

    Group ``i`` of the grouped kernel, shape ``(kh, kw, in/g, filters)``, is its output slice
    ``[..., i * filters/g : (i + 1) * filters/g]``; it reads input channels ``[i * in/g : (i + 1) * in/g]``.

    Example::

        copy_grouped_to_split(grouped_model.get_layer("gconv"), group_convs(split_model, "gconv"))
    """
    per_group = _check_pair(grouped, convs)
    kernel = ops.convert_to_numpy(grouped.kernel)
    bias = None if grouped.bias is None else ops.convert_to_numpy(grouped.bias)
    for i, conv in enumerate(convs):
        part = slice(i * per_group, (i + 1) * per_group)
        conv.kernel.assign(kernel[..., part])
        if bias is not None:
            conv.bias.assign(bias[part])


def copy_split_to_grouped(convs: Sequence[layers.Conv2D], grouped: layers.Conv2D) -> None:
    """Copy the ``g`` per-group convs of the split form into one ``Conv2D(groups=g)`` (the inverse copy).

    Example::

        copy_split_to_grouped(group_convs(split_model, "gconv"), grouped_model.get_layer("gconv"))
    """
    _check_pair(grouped, convs)
    grouped.kernel.assign(ops.concatenate([conv.kernel for conv in convs], axis=-1))
    if grouped.bias is not None:
        grouped.bias.assign(ops.concatenate([conv.bias for conv in convs], axis=-1))
