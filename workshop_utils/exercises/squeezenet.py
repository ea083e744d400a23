"""Checker for notebook 06's exercise: SqueezeNet's fire module.

The attendee writes::

    def fire_module(x, squeeze, expand_1x1, expand_3x3, name):
        ...  # 1x1 squeeze conv + ReLU, then 1x1 and 3x3 expand convs (+ ReLU) on the squeeze output, concatenated
        return outputs

and :func:`check_fire_module` builds it on two configurations with distinct widths (so a kernel's input channels
say which tensor it reads), reads its graph (which conv reads what, which has its ReLU, the concatenation's order),
then copies its weights into the reference (:func:`workshop_utils.architectures.squeezenet.fire_module`) and runs
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

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

__all__ = ["check_fire_module"]

#: (input height, width, channels, squeeze, expand_1x1, expand_3x3): all widths distinct, so kernels identify inputs.
CASES = ((8, 8, 12, 5, 7, 9), (6, 10, 20, 6, 11, 13))
_ROLES = ("squeeze", "expand_1x1", "expand_3x3")


def _build_error_hint(error: Exception, case: tuple[int, ...]) -> Hint:
    height, width = case[0], case[1]
    message = str(error)
    shapes = kit.shapes_in(message)
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


def _convs_by_role(graph: kit.Graph, widths: tuple[int, int, int], case: Any) -> dict[str, kit.Op]:
    """The three convs by role (their filters tell them apart), or the Hint for the wrong convs."""
    squeeze, expand_1x1, expand_3x3 = widths
    convs = graph.of_kind("conv")
    if len(convs) != 3:
        raise Hint(f"Found {len(convs)} Conv2D layers; the fire module has three: the 1x1 squeeze, then the 1x1 and "
                   "the 3x3 expand convs.", mistake="wrong_widths", case=case)
    by_filters = {op.kernel[-1]: op for op in convs}
    if set(by_filters) != set(widths):
        raise Hint(f"The convs have {sorted(op.kernel[-1] for op in convs)} filters; for squeeze={squeeze}, "
                   f"expand_1x1={expand_1x1}, expand_3x3={expand_3x3} they need exactly those numbers.",
                   mistake="wrong_widths", case=case)
    return {role: by_filters[width] for role, width in zip(_ROLES, widths)}


def _check_structure(model: Any, graph: kit.Graph, convs: dict[str, kit.Op], case: tuple[int, ...]) -> None:
    height, width, channels, squeeze, expand_1x1, expand_3x3 = case
    if convs["squeeze"].kernel[:2] != (1, 1) or convs["expand_1x1"].kernel[:2] != (1, 1):
        raise Hint("The squeeze conv and the expand_1x1 conv are 1x1 convs (kernel_size=1).", mistake="kernel_size",
                   case=case)
    if convs["expand_3x3"].kernel[:2] != (3, 3):
        raise Hint(f"The expand_3x3 conv has kernel size {convs['expand_3x3'].kernel[:2]}; it is a 3x3 conv "
                   "(kernel_size=3).", mistake="kernel_size", case=case)
    for label, other in (("expand_1x1", expand_3x3), ("expand_3x3", expand_1x1)):
        reads = convs[label].kernel[2]
        if reads == other:
            raise Hint(f"The {label} conv reads the other expand conv's output ({other} channels): both expand convs "
                       "read the squeeze output, side by side.", mistake="expand_chained", case=case)
        if reads == channels:
            raise Hint(f"The {label} conv reads the module's input ({channels} channels), skipping the squeeze: both "
                       "expand convs read the squeeze output.", mistake="expand_reads_input", case=case)
    if convs["squeeze"].kernel[2] != channels:
        raise Hint("The squeeze conv must read the module's input x.", mistake="wrong_widths", case=case)
    if str(convs["expand_3x3"].layer.padding).lower() != "same":
        raise Hint("The 3x3 expand conv needs padding='same' to keep the input size like the 1x1 branch.",
                   mistake="padding_3x3", case=case)
    expected_shape = (None, height, width, expand_1x1 + expand_3x3)
    if tuple(model.output.shape) != expected_shape:
        if model.output.shape[-1] != expand_1x1 + expand_3x3:
            raise Hint(f"The output has shape {tuple(model.output.shape)}, expected {expected_shape}: concatenate on "
                       "the channel axis, layers.Concatenate(axis=-1).", mistake="concat_axis", case=case)
        raise Hint(f"The output has shape {tuple(model.output.shape)}, expected {expected_shape}.",
                   mistake="wrong_widths", case=case)
    if model.count_params() != sum(op.layer.count_params() for op in convs.values()):
        raise Hint("The module has weights outside its three convs (e.g. batch norm): the paper's fire module has "
                   "none; leave them out here.", mistake="extra_weights", case=case)
    missing = [role for role, op in convs.items()
               if op.activation != "relu" and [child.kind for child in graph.children(op)] != ["relu"]]
    if missing:
        raise Hint(f"No ReLU after: {', '.join(missing)}. Every conv of the fire module has activation='relu'.",
                   mistake="missing_relu", case=case)
    first = graph.output.parents[0] if graph.output.kind == "concat" else graph.output
    if next((op for op in kit.chain(first) if op.kind == "conv"), None) is convs["expand_3x3"]:
        raise Hint("The channels come out in the wrong order: concatenate [expand_1x1 output, expand_3x3 output], the "
                   "1x1 branch first (as the paper and torchvision do).", mistake="concat_order", case=case)


def _compare_numbers(model: Any, convs: dict[str, kit.Op], case: tuple[int, ...], rng: np.random.Generator) -> None:
    """The attendee's weights in the reference fire module: the outputs must agree."""
    import keras

    from workshop_utils.architectures.squeezenet import fire_module

    height, width, channels, *widths = case
    inputs = keras.Input((height, width, channels))
    reference = keras.Model(inputs, fire_module(inputs, *widths, name="reference"))
    theirs = _convs_by_role(kit.read_graph(reference), tuple(widths), case)
    kit.copy_weights({role: op.layer for role, op in convs.items()}, {role: op.layer for role, op in theirs.items()})
    images = rng.normal(size=(2, height, width, channels)).astype("float32")
    if not kit.close(kit.outputs(model, images), kit.outputs(reference, images)):
        raise Hint("Right layers and shapes, but different numbers from the reference: check the ReLUs and which "
                   "tensor each conv reads.", mistake="numbers", case=case)


@kit.checker("fire_module")
def check_fire_module(fire_module: Callable[..., Any]) -> str:
    """Check the attendee's ``fire_module(x, squeeze, expand_1x1, expand_3x3, name)``; returns a :class:`CheckResult`.

    Example::

        check_fire_module(fire_module)
    """
    rng = np.random.default_rng(6)
    for case in CASES:
        height, width, channels, *widths = case
        model = kit.build(fire_module, (height, width, channels), *widths, name=f"fire_{channels}", case=case,
                          returns="the output tensor of the concatenation",
                          explain=functools.partial(_build_error_hint, case=case))
        graph = kit.read_graph(model)
        convs = _convs_by_role(graph, tuple(widths), case)
        _check_structure(model, graph, convs, case)
        _compare_numbers(model, convs, case, rng)
    return (f"your fire module matches the reference on {len(CASES)} configurations: layers, shapes and "
            "outputs (squeeze 1x1 + ReLU, expand 1x1 and 3x3 + ReLU on the squeeze output, 1x1 first).")
