"""Checker for notebook 04's exercise: MobileNet's depthwise separable block.

The attendee writes::

    def depthwise_separable_block(x, filters, strides):
        ...  # 3x3 depthwise conv (stride `strides`), BN, ReLU; 1x1 pointwise conv to `filters`, BN, ReLU
        return x

and :func:`check_depthwise_separable_block` builds it on fresh random small inputs, with stride 1 and stride 2,
and checks:

1. Structure: a ``DepthwiseConv2D`` (not a full ``Conv2D``) with a 3x3 kernel, then a 1x1 ``Conv2D`` with
   ``filters`` filters; no bias on either (batch norm follows); the stride on the depthwise conv only; each conv
   followed by ``BatchNormalization`` then a ReLU (``ReLU()``, ``ReLU(6.0)`` as Keras' MobileNet, or
   ``Activation("relu")``); output ``(size / strides, size / strides, filters)``.
2. Numbers: the attendee's weights (batch-norm statistics set to random values first) are copied into the
   reference block (:func:`workshop_utils.architectures.mobilenet.depthwise_separable_block`) and both run on the
   same input in inference mode; the outputs must agree.

Each failure names one mistake (the ``mistake`` key of the result): ``bias_before_bn``, ``missing_bn``,
``missing_relu``, ``relu_before_bn``, ``stride_on_pointwise``, ``wrong_stride``, ``full_conv``,
``missing_pointwise``, ``wrong_order``, ``wrong_kernel``, ``wrong_channels``, ``wrong_padding``,
``extra_layers``, ``not_a_tensor``, ``error``, ``numbers_differ``; ``not_written`` for the untouched stub.

Example::

    from workshop_utils.exercises.mobilenet import check_depthwise_separable_block
    check_depthwise_separable_block(depthwise_separable_block)   # "Passed: ..." or "Not yet: <hint>"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

__all__ = ["Case", "check_depthwise_separable_block"]

_SPEC = ("DepthwiseConv2D(3, strides=strides, padding='same', use_bias=False), BatchNormalization(), ReLU(), "
         "then Conv2D(filters, 1, use_bias=False), BatchNormalization(), ReLU()")


@dataclass(frozen=True)
class Case:
    """One configuration the block is built for.

    Example::

        Case(size=8, channels=3, filters=5, strides=2).expected_shape   # (4, 4, 5)
    """

    size: int
    channels: int
    filters: int
    strides: int

    @property
    def expected_shape(self) -> tuple[int, int, int]:
        """Output shape without the batch axis."""
        return (self.size // self.strides, self.size // self.strides, self.filters)

    def describe(self) -> str:
        """How the case was called, for hints."""
        return (f"depthwise_separable_block(x, filters={self.filters}, strides={self.strides}) on a "
                f"{self.size}x{self.size}x{self.channels} input")


def _tokens(model: Any) -> list[tuple[str, Any]]:
    """The block's layers in order as (kind, layer): dw, pw, conv, bn, relu, act:<name>, separable, other."""
    tokens: list[tuple[str, Any]] = []
    for op in kit.read_graph(model).ops[1:]:
        if op.kind == "zeropadding2d":
            continue  # Keras' MobileNet pads explicitly before a strided depthwise conv: allowed
        if op.kind == "conv":
            kind = "pw" if op.kernel[:2] == (1, 1) else "conv"
        else:
            kind = {"depthwise": "dw", "separable": "separable", "bn": "bn", "relu": "relu"}.get(op.kind, "other")
        tokens.append((kind, op.layer))
        if op.activation:
            tokens.append((f"act:{op.activation}", op.layer))
    return tokens


def _check_convs(tokens: list[tuple[str, Any]], case: Case) -> tuple[Any, Any]:
    kinds = [kind for kind, _ in tokens]
    if "separable" in kinds:
        raise Hint("You used SeparableConv2D: it is the depthwise and the pointwise conv in one layer, with no batch "
                   "norm or ReLU between them. MobileNet puts BN + ReLU after each: write the two convs as separate "
                   "layers, DepthwiseConv2D then Conv2D(filters, 1).", mistake="missing_bn", case=case)
    depthwise = [layer for kind, layer in tokens if kind == "dw"]
    full = [layer for kind, layer in tokens if kind == "conv"]
    pointwise = [layer for kind, layer in tokens if kind == "pw"]
    if not depthwise:
        if full:
            size = full[0].kernel_size
            raise Hint(f"{full[0].name} is a full {size[0]}x{size[1]} Conv2D: each of its filters reads every input "
                       f"channel ({size[0]}x{size[1]}x{case.channels} weights per filter). The depthwise step "
                       "filters each channel alone: layers.DepthwiseConv2D(3, ...), one 3x3 kernel per channel.",
                       mistake="full_conv", case=case)
        raise Hint(f"No DepthwiseConv2D in your block. It starts with layers.DepthwiseConv2D(3, strides=strides, "
                   f"padding='same', use_bias=False). Expected: {_SPEC}.", mistake="full_conv", case=case)
    if full:
        raise Hint(f"{full[0].name} is a full {full[0].kernel_size[0]}x{full[0].kernel_size[1]} Conv2D besides the "
                   "depthwise conv; the block has exactly one depthwise 3x3 and one pointwise 1x1 conv.",
                   mistake="full_conv", case=case)
    if len(depthwise) != 1 or len(pointwise) != 1:
        if not pointwise:
            raise Hint("No pointwise conv: after the depthwise conv (and its BN and ReLU) comes "
                       "layers.Conv2D(filters, 1, use_bias=False), which mixes the channels and sets their number.",
                       mistake="missing_pointwise", case=case)
        raise Hint(f"Your block has {len(depthwise)} depthwise and {len(pointwise)} pointwise conv(s); it needs one "
                   "of each.", mistake="wrong_channels" if len(pointwise) > 1 else "full_conv", case=case)
    dw, pw = depthwise[0], pointwise[0]
    if [kind for kind in kinds if kind in ("dw", "pw")] != ["dw", "pw"]:
        raise Hint("The pointwise 1x1 conv comes before the depthwise conv; MobileNet filters first (depthwise 3x3) "
                   "and combines second (pointwise 1x1).", mistake="wrong_order", case=case)
    if tuple(dw.kernel_size) != (3, 3):
        raise Hint(f"{dw.name} has a {dw.kernel_size[0]}x{dw.kernel_size[1]} kernel; MobileNet's depthwise convs are "
                   "3x3.", mistake="wrong_kernel", case=case)
    for layer, what in ((dw, "depthwise"), (pw, "pointwise")):
        if layer.use_bias:
            raise Hint(f"The {what} conv {layer.name} has a bias, but a BatchNormalization follows it: BN subtracts "
                       "the mean (removing any constant the bias adds) and adds its own shift (beta). The bias is "
                       f"wasted weights: use_bias=False.", mistake="bias_before_bn", case=case)
    if dw.depth_multiplier != 1:
        raise Hint(f"{dw.name} has depth_multiplier={dw.depth_multiplier}: it outputs {dw.depth_multiplier} channels "
                   "per input channel. MobileNet uses 1 (the default); the pointwise conv changes the channel count.",
                   mistake="wrong_channels", case=case)
    if pw.filters != case.filters:
        raise Hint(f"The pointwise conv {pw.name} has {pw.filters} filters but {case.describe()} asks for "
                   f"{case.filters}: Conv2D(filters, 1). The depthwise conv keeps the input's {case.channels} "
                   "channels; the pointwise conv sets the output's.", mistake="wrong_channels", case=case)
    if tuple(pw.strides) != (1, 1):
        raise Hint(f"The stride is on the pointwise conv {pw.name} (strides={pw.strides}). Put it on the depthwise "
                   "conv: DepthwiseConv2D(3, strides=strides, ...) filters and subsamples each channel; the 1x1 conv "
                   "with stride 2 would throw away 3 of every 4 positions the depthwise conv computed.",
                   mistake="stride_on_pointwise", case=case)
    if tuple(dw.strides) != (case.strides, case.strides):
        raise Hint(f"{case.describe()}: the depthwise conv {dw.name} has strides={dw.strides}; pass the block's "
                   "`strides` to it: DepthwiseConv2D(3, strides=strides, ...).", mistake="wrong_stride", case=case)
    return dw, pw


def _check_after(tokens: list[tuple[str, Any]], index: int, what: str, case: Case) -> None:
    following = [kind for kind, _ in tokens[index + 1:index + 3]]
    name = tokens[index][1].name
    if following and (following[0] == "relu" or following[0].startswith("act:")):
        if "bn" in following:
            raise Hint(f"The ReLU after the {what} conv {name} comes before its batch norm; MobileNet's order is "
                       "conv -> BatchNormalization -> ReLU (BN normalises the conv's output, the ReLU clips the "
                       "normalised values). Remove activation= from the conv if you set it.",
                       mistake="relu_before_bn", case=case)
        raise Hint(f"No batch norm after the {what} conv {name}: add layers.BatchNormalization() between it and "
                   "its ReLU.", mistake="missing_bn", case=case)
    if following[:1] != ["bn"]:
        raise Hint(f"No batch norm after the {what} conv {name}: follow it with layers.BatchNormalization(), then a "
                   "ReLU.", mistake="missing_bn", case=case)
    if following[1:2] != ["relu"]:
        extra = f" (found {following[1]})" if len(following) > 1 else ""
        raise Hint(f"No ReLU after the {what} conv's batch norm{extra}: add layers.ReLU() (or ReLU(6.0), as Keras' "
                   "MobileNet) after it. Without it two linear layers in a row collapse into one.",
                   mistake="missing_relu", case=case)


def _check_sequence(tokens: list[tuple[str, Any]], case: Case) -> None:
    kinds = [kind for kind, _ in tokens]
    _check_after(tokens, kinds.index("dw"), "depthwise", case)
    pw_index = kinds.index("pw")
    _check_after(tokens, pw_index, "pointwise", case)
    extra = [layer.name for _, layer in tokens[pw_index + 3:]] + [
        layer.name for kind, layer in tokens if kind == "other" or kind.startswith("act:")]
    if extra:
        raise Hint(f"Your block has layers beyond the six of MobileNet's block: {', '.join(extra)}. "
                   f"Expected: {_SPEC}.", mistake="extra_layers", case=case)


def _check_shape(model: Any, case: Case) -> None:
    got = tuple(int(d) for d in model.output.shape[1:])
    if got == case.expected_shape:
        return
    if got[:2] != case.expected_shape[:2]:
        raise Hint(f"{case.describe()} should give {case.expected_shape} but gives {got}: use padding='same' on the "
                   "depthwise conv so only the stride changes the size.", mistake="wrong_padding", case=case)
    raise Hint(f"{case.describe()} should give {case.expected_shape} but gives {got}.", mistake="wrong_channels",
               case=case)


def _compare_numbers(model: Any, case: Case, rng: np.random.Generator) -> None:
    import keras

    from workshop_utils.architectures.mobilenet import depthwise_separable_block as reference_block

    theirs = kit.read_graph(model)
    relu6 = any(getattr(op.layer, "max_value", None) == 6 or _activation(op.layer) == "relu6" for op in theirs.ops)
    inputs = keras.Input((case.size, case.size, case.channels))
    reference = keras.Model(inputs, reference_block(inputs, case.filters, case.strides, relu6=relu6))
    kit.randomise_batch_norm(theirs.layers("bn"), rng)
    weighted = ("depthwise", "conv", "bn")
    kit.copy_weights(theirs.layers(*weighted), kit.read_graph(reference).layers(*weighted))
    images = rng.normal(size=(2, case.size, case.size, case.channels)).astype("float32")
    if not kit.close(kit.outputs(model, images), kit.outputs(reference, images)):
        raise Hint("The layers look right but the numbers differ from the reference block with your weights. Each "
                   "layer must read the previous one's output (x = layer(x)); expected: " + _SPEC + ".",
                   mistake="numbers_differ", case=case)


def _activation(layer: Any) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "")


def _cases(rng: np.random.Generator) -> list[Case]:
    size = 4 * int(rng.integers(2, 4))          # 8 or 12: even, so stride 2 halves it exactly
    channels = int(rng.integers(3, 7))
    filters = channels + int(rng.integers(2, 6))  # differs from channels: a block that keeps them is caught
    return [Case(size, channels, filters, 1), Case(size, channels + 1, filters + 2, 2)]


@kit.checker("depthwise_separable_block")
def check_depthwise_separable_block(function: Callable[..., Any], seed: int | None = None) -> str:
    """Check an attendee's ``depthwise_separable_block(x, filters, strides)``; the :class:`CheckResult` names the
    first mistake.

    Args:
        function: the attendee's function, called as ``function(x, filters, strides)`` on a ``keras.Input``.
        seed: seed for the random configurations and inputs (``None``: fresh each call).

    Example::

        check_depthwise_separable_block(depthwise_separable_block)
    """
    rng = np.random.default_rng(seed)
    cases = _cases(rng)
    for case in cases:
        model = kit.build(function, (case.size, case.size, case.channels), case.filters, case.strides,
                          call=case.describe(), returns="the block's output tensor (the result of the last layer call)",
                          case=case)
        tokens = _tokens(model)
        _check_convs(tokens, case)
        _check_sequence(tokens, case)
        _check_shape(model, case)
        _compare_numbers(model, case, rng)
    params = int(model.count_params())
    return (f"depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU, no biases, stride on the depthwise "
            f"conv; outputs equal the reference for strides 1 and 2 (e.g. {cases[-1].describe()}: "
            f"{params:,} parameters, output {cases[-1].expected_shape}).")
