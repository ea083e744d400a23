"""Checker for notebook 06's exercise: SqueezeNet's fire module.

The attendee writes::

    def fire_module(x, squeeze, expand_1x1, expand_3x3, name):
        ...  # 1x1 squeeze conv + ReLU, then 1x1 and 3x3 expand convs (+ ReLU) on the squeeze output, concatenated
        return outputs

and :func:`check_fire_module` builds it on two configurations with distinct widths (so a kernel's input channels
say which tensor it reads), compares its layers with the reference
(:func:`workshop_utils.architectures.squeezenet.fire_module`), then copies its weights into the reference and runs
both on the same random input. One hint names the first mistake found:

* ``expand_chained`` -- an expand conv reads the other expand conv's output instead of the squeeze output;
* ``expand_reads_input`` -- an expand conv reads the module's input, skipping the squeeze;
* ``concat_axis`` -- concatenated on an axis other than the channels;
* ``concat_order`` -- the 3x3 output before the 1x1 output;
* ``missing_relu`` -- a conv without its ReLU (says which);
* ``padding_3x3`` -- the 3x3 expand conv with ``"valid"`` padding (its output is 2 pixels smaller);
* ``wrong_widths`` / ``kernel_size`` / ``not_a_tensor`` -- the rest.

Example::

    from workshop_utils.exercises.squeezenet import check_fire_module
    check_fire_module(fire_module)    # "Passed: ..." or "Not yet: <hint>"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

import keras
from keras import layers

from workshop_utils.exercises import CheckResult, Hint, run_check

__all__ = ["CheckResult", "check_fire_module"]

#: (input height, width, channels, squeeze, expand_1x1, expand_3x3): all widths distinct, so kernels identify inputs.
CASES = ((8, 8, 12, 5, 7, 9), (6, 10, 20, 6, 11, 13))
_SHAPE = re.compile(r"\((?:None|\d+)(?:, (?:None|\d+))+\)")


def _reference(x: Any, squeeze: int, expand_1x1: int, expand_3x3: int, relu: tuple[bool, bool, bool] = (True,) * 3,
               three_first: bool = False) -> Any:
    """The fire module with switches for the mistakes the numeric comparison can tell apart."""
    act = ["relu" if on else None for on in relu]
    squeezed = layers.Conv2D(squeeze, 1, activation=act[0], name="ref_squeeze1x1")(x)
    branch_1x1 = layers.Conv2D(expand_1x1, 1, activation=act[1], name="ref_expand1x1")(squeezed)
    branch_3x3 = layers.Conv2D(expand_3x3, 3, padding="same", activation=act[2], name="ref_expand3x3")(squeezed)
    parts = [branch_3x3, branch_1x1] if three_first else [branch_1x1, branch_3x3]
    return layers.Concatenate(axis=-1)(parts)


def _build_error_hint(error: Exception, case: tuple[int, ...]) -> Hint:
    height, width = case[0], case[1]
    message = str(error)
    shapes = [tuple(None if p == "None" else int(p) for p in m[1:-1].split(", ")) for m in _SHAPE.findall(message)]
    shapes = [s for s in shapes if len(s) == 4]
    if "oncatenate" in message and len(shapes) >= 2:
        sizes = {s[1:3] for s in shapes}
        listed = ", ".join(str(s) for s in shapes)
        if len(sizes) > 1:
            return Hint(f"The two expand outputs have different sizes ({listed}): give the 3x3 expand conv "
                        f"padding='same' so it keeps the {height}x{width} size of the 1x1 branch.",
                        mistake="padding_3x3", case=case)
        return Hint(f"The expand outputs agree in height and width but cannot be joined ({listed}): concatenate "
                    "on the channel axis, layers.Concatenate(axis=-1).", mistake="concat_axis", case=case)
    return Hint(f"Building the module raised {type(error).__name__}: {message[:300]}", mistake="error", case=case)


def _convs(model: keras.Model) -> list[layers.Conv2D]:
    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def _check_case(fire_module: Callable[..., Any], case: tuple[int, ...], rng: np.random.Generator) -> None:
    height, width, channels, squeeze, expand_1x1, expand_3x3 = case
    inputs = keras.Input((height, width, channels))
    try:
        outputs = fire_module(inputs, squeeze, expand_1x1, expand_3x3, name=f"fire_{channels}")
    except NotImplementedError:
        raise
    except Exception as error:  # a shape error from Keras: explain it in the exercise's terms
        raise _build_error_hint(error, case) from None
    if not isinstance(outputs, keras.KerasTensor):
        raise Hint(f"fire_module returned {type(outputs).__name__}; return the output tensor of the concatenation.",
                   mistake="not_a_tensor", case=case)
    model = keras.Model(inputs, outputs)
    convs = _convs(model)
    if len(convs) != 3:
        raise Hint(f"Found {len(convs)} Conv2D layers; the fire module has three: the 1x1 squeeze, then the 1x1 and "
                   "the 3x3 expand convs.", mistake="wrong_widths", case=case)
    by_filters = {conv.filters: conv for conv in convs}
    if set(by_filters) != {squeeze, expand_1x1, expand_3x3}:
        raise Hint(f"The convs have {sorted(c.filters for c in convs)} filters; for squeeze={squeeze}, "
                   f"expand_1x1={expand_1x1}, expand_3x3={expand_3x3} they need exactly those numbers.",
                   mistake="wrong_widths", case=case)
    squeeze_conv, conv_1x1, conv_3x3 = by_filters[squeeze], by_filters[expand_1x1], by_filters[expand_3x3]
    if tuple(squeeze_conv.kernel_size) != (1, 1) or tuple(conv_1x1.kernel_size) != (1, 1):
        raise Hint("The squeeze conv and the expand_1x1 conv are 1x1 convs (kernel_size=1).", mistake="kernel_size",
                   case=case)
    if tuple(conv_3x3.kernel_size) != (3, 3):
        raise Hint(f"The expand_3x3 conv has kernel size {conv_3x3.kernel_size}; it is a 3x3 conv (kernel_size=3).",
                   mistake="kernel_size", case=case)
    for conv, label in ((conv_1x1, "expand_1x1"), (conv_3x3, "expand_3x3")):
        reads = conv.kernel.shape[2]
        other = expand_3x3 if conv is conv_1x1 else expand_1x1
        if reads == other:
            raise Hint(f"The {label} conv reads the other expand conv's output ({other} channels): both expand convs "
                       "read the squeeze output, side by side.", mistake="expand_chained", case=case)
        if reads == channels:
            raise Hint(f"The {label} conv reads the module's input ({channels} channels), skipping the squeeze: both "
                       "expand convs read the squeeze output.", mistake="expand_reads_input", case=case)
    if squeeze_conv.kernel.shape[2] != channels:
        raise Hint("The squeeze conv must read the module's input x.", mistake="wrong_widths", case=case)
    if str(conv_3x3.padding).lower() != "same":
        raise Hint("The 3x3 expand conv needs padding='same' to keep the input size like the 1x1 branch.",
                   mistake="padding_3x3", case=case)
    expected_shape = (None, height, width, expand_1x1 + expand_3x3)
    if tuple(outputs.shape) != expected_shape:
        if outputs.shape[-1] != expand_1x1 + expand_3x3:
            raise Hint(f"The output has shape {tuple(outputs.shape)}, expected {expected_shape}: concatenate on the "
                       "channel axis, layers.Concatenate(axis=-1).", mistake="concat_axis", case=case)
        raise Hint(f"The output has shape {tuple(outputs.shape)}, expected {expected_shape}.", mistake="wrong_widths",
                   case=case)
    if model.count_params() != sum(conv.count_params() for conv in convs):
        raise Hint("The module has weights outside its three convs (e.g. batch norm): the paper's fire module has "
                   "none; leave them out here.", mistake="extra_weights", case=case)

    # Numbers: the attendee's weights in the reference and in variants with one mistake each.
    images = rng.normal(size=(2, height, width, channels)).astype("float32")
    got = keras.ops.convert_to_numpy(model(images))  # np.asarray fails on torch tensors
    weights = [squeeze_conv.get_weights(), conv_1x1.get_weights(), conv_3x3.get_weights()]

    def run_variant(**switches: Any) -> np.ndarray:
        variant_inputs = keras.Input((height, width, channels))
        variant = keras.Model(variant_inputs, _reference(variant_inputs, squeeze, expand_1x1, expand_3x3, **switches))
        for conv_name, values in zip(("ref_squeeze1x1", "ref_expand1x1", "ref_expand3x3"), weights):
            variant.get_layer(conv_name).set_weights(values)
        return keras.ops.convert_to_numpy(variant(images))

    if np.allclose(got, run_variant(), atol=1e-5):
        return
    if np.allclose(got, run_variant(three_first=True), atol=1e-5):
        raise Hint("The channels come out in the wrong order: concatenate [expand_1x1 output, expand_3x3 output], the "
                   "1x1 branch first (as the paper and torchvision do).", mistake="concat_order", case=case)
    labels = ("squeeze", "expand_1x1", "expand_3x3")
    for pattern in ((False, True, True), (True, False, True), (True, True, False), (False, False, False),
                    (True, False, False), (False, True, False), (False, False, True)):
        for three_first in (False, True):
            if np.allclose(got, run_variant(relu=pattern, three_first=three_first), atol=1e-5):
                missing = ", ".join(label for label, on in zip(labels, pattern) if not on)
                raise Hint(f"No ReLU after: {missing}. Every conv of the fire module has activation='relu'.",
                           mistake="missing_relu", case=case)
    raise Hint("Right layers and shapes, but different numbers from the reference: check the ReLUs and which tensor "
               "each conv reads.", mistake="numbers", case=case)


def check_fire_module(fire_module: Callable[..., Any]) -> CheckResult:
    """Check the attendee's ``fire_module(x, squeeze, expand_1x1, expand_3x3, name)``; returns a :class:`CheckResult`.

    Example::

        check_fire_module(fire_module)
    """
    rng = np.random.default_rng(6)

    def checks() -> str:
        for case in CASES:
            _check_case(fire_module, case, rng)
        return (f"your fire module matches the reference on {len(CASES)} configurations: layers, shapes and "
                "outputs (squeeze 1x1 + ReLU, expand 1x1 and 3x3 + ReLU on the squeeze output, 1x1 first).")

    return run_check(checks)
