"""Checker for notebook 03's exercise: an Inception module with 1x1 bottlenecks.

The attendee writes::

    def inception_module(x, filters_1x1, filters_3x3_reduce, filters_3x3,
                         filters_5x5_reduce, filters_5x5, filters_pool_proj, name="inception"):
        ...  # four branches, concatenated on the channel axis
        return outputs

and :func:`check_inception_module` verifies it three ways:

1. GoogLeNet's Inception (3a) configuration (input 28x28x192; 1x1 64; 3x3 reduce 96 -> 128; 5x5 reduce 16 -> 32;
   pool proj 32): output shape 28x28x256, the convolution kernels, parameters and MACs against the reference
   (:func:`workshop_utils.inception_cost.inception_module`).
2. A fresh random small configuration, so that a module with hard-coded widths fails.
3. Numbers: the attendee's weights are copied into the reference module and both run on the same random input;
   the outputs must agree (branch order, ReLUs, max pooling).
4. What the rest of notebook 03 relies on: called with ``name="inception_3a"``, every layer of the module is named
   ``inception_3a_...`` (the appendix groups GoogLeNet's costs by that prefix) and each convolution has the
   reference's name and parameters (``inception_3a_1x1``, ``_3x3_reduce``, ``_3x3``, ``_5x5_reduce``, ``_5x5``,
   ``_pool_proj``: the GoogLeNet section compares its layers with the reference copy's); no batch normalization
   (GoogLeNet v1 has none; the small net of section 5 adds it after each module).

A failure gives one hint, with a ``mistake`` key, that points at the likely mistake: no bottleneck, a pool branch
without projection, the wrong concatenation axis, ``'valid'`` padding (or MaxPooling2D's default stride), branches
in the wrong order. Then: the ``name`` argument ignored, other layer names, batch normalization inside the module,
convolutions without biases.

Example::

    from workshop_utils.exercises.inception import check_inception_module
    check_inception_module(inception_module)   # shows "Passed: ..." or "Not yet: <hint>"
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from workshop_utils.exercises import CheckResult, Hint
from workshop_utils.exercises import _toolkit as kit
from workshop_utils.inception_cost import BRANCHES, GOOGLENET_3A, GOOGLENET_3A_INPUT, InceptionWidths

__all__ = ["CheckResult", "check_inception_module"]

_SIZE_HINT = (
    "every branch must keep the {h}x{w} input size: padding='same' on every Conv2D and on the MaxPooling2D, "
    "and strides=1 on the MaxPooling2D (its default stride is its pool size, 3)."
)






def _explain_error(error: Exception, input_shape: tuple[int, int, int]) -> Hint:
    """A hint for an exception raised while building the attendee's module."""
    height, width, _ = input_shape
    message = str(error)
    shapes = kit.shapes_in(message)
    if len(shapes) >= 2:
        sizes = {s[1:3] for s in shapes}
        listed = ", ".join(str(s) for s in shapes)
        if len(sizes) > 1:
            return Hint(f"The branches come out at different sizes ({listed}): "
                        + _SIZE_HINT.format(h=height, w=width), mistake="padding")
        return Hint(f"The branches agree in height and width but cannot be concatenated ({listed}): concatenate "
                    "along the channel axis, layers.Concatenate(axis=-1) (the last axis; axis 0 is the batch).",
                    mistake="concat_axis")
    if "concatenat" in message.lower():
        return Hint("Concatenation failed: join the four branch outputs with layers.Concatenate(axis=-1)([...]), "
                    f"the channel axis. Keras said: {message[:300]}", mistake="concat_axis")
    return Hint(f"Your function raised {type(error).__name__}: {message[:400]}", mistake="error")


_NOT_WRITTEN = ("not written yet: replace `raise NotImplementedError` with the four branches (1x1; 1x1 reduce then "
                "3x3; 1x1 reduce then 5x5; 3x3 max pool then 1x1 projection) and return their concatenation.")


def _kernel_shapes(model: Any) -> list[tuple[int, ...]]:
    return sorted(op.kernel for op in kit.read_graph(model).of_kind("conv"))


def _conv_macs(model: Any) -> int:
    """Multiply-accumulates of the model per image, from :func:`workshop_utils.flops.profile` (the one MAC
    counter: it counts grouped convolutions right, and ``keras.ops.concatenate`` joins as well as the layer)."""
    from workshop_utils.flops import profile

    return profile(model).macs


def _expected_kernels(widths: InceptionWidths, channels: int) -> list[tuple[int, ...]]:
    w = widths
    return sorted([
        (1, 1, channels, w.filters_1x1),
        (1, 1, channels, w.filters_3x3_reduce), (3, 3, w.filters_3x3_reduce, w.filters_3x3),
        (1, 1, channels, w.filters_5x5_reduce), (5, 5, w.filters_5x5_reduce, w.filters_5x5),
        (1, 1, channels, w.filters_pool_proj),
    ])


def _build(function: Callable[..., Any], widths: InceptionWidths, input_shape: tuple[int, int, int]) -> Any:
    """The attendee's module as a Keras model, or a Hint saying what is wrong with its structure."""
    height, width, channels = input_shape
    model = kit.build(function, input_shape, *widths.as_tuple(), returns="the concatenated tensor (a KerasTensor)",
                      explain=lambda error: _explain_error(error, input_shape))
    shape = tuple(model.output.shape)
    if len(shape) != 4:
        raise Hint(f"The output should be (batch, height, width, channels); yours has shape {shape}.",
                   mistake="bad_rank")
    kernels = _kernel_shapes(model)
    for size in (3, 5):
        if any(k[:3] == (size, size, channels) for k in kernels):
            raise Hint(
                f"Missing bottleneck: your {size}x{size} convolution reads all {channels} input channels. Put a 1x1 "
                f"convolution with filters_{size}x{size}_reduce filters before it: that is what cuts the 5x5 "
                "branch of 3a from 120M to 12M MACs."
            , mistake="no_bottleneck")
    if shape[1:3] != (height, width):
        raise Hint(f"Output is {shape[1]}x{shape[2]} but the input is {height}x{width}: "
                    + _SIZE_HINT.format(h=height, w=width), mistake="padding")
    expected_channels = widths.output_channels
    if shape[3] == widths.filters_1x1 + widths.filters_3x3 + widths.filters_5x5 + channels:
        raise Hint(
            f"The pool branch has no projection: it passes all {channels} pooled channels on, so the output has "
            f"{shape[3]} channels instead of {expected_channels}. Add a 1x1 convolution with filters_pool_proj "
            "filters after the max pooling."
        , mistake="no_pool_projection")
    expected = _expected_kernels(widths, channels)
    if kernels != expected and widths != GOOGLENET_3A and kernels == _expected_kernels(GOOGLENET_3A, channels):
        raise Hint(f"Your function ignores its width arguments: called with {widths.as_tuple()} it still builds "
                    f"the 3a widths {GOOGLENET_3A.as_tuple()}. Use filters_1x1, filters_3x3_reduce, ... in the layers.",
                    mistake="ignores_widths")
    if kernels != expected:
        missing = [k for k in expected if k not in kernels]
        extra = [k for k in kernels if k not in expected]
        raise Hint(
            "The convolutions do not match the module's: kernels (height, width, in, out) missing "
            f"{missing or 'none'}, unexpected {extra or 'none'}. Check which argument sets each layer's filters "
            "(e.g. filters_3x3_reduce for the 1x1 before the 3x3)."
        , mistake="wrong_kernels")
    if shape[3] != expected_channels:
        raise Hint(f"The output has {shape[3]} channels; the four branches give {widths.filters_1x1} + "
                    f"{widths.filters_3x3} + {widths.filters_5x5} + {widths.filters_pool_proj} = "
                    f"{expected_channels}. Concatenate exactly the four branch outputs.", mistake="wrong_channels")
    return model


def _reference(widths: InceptionWidths, input_shape: tuple[int, int, int], name: str = "reference") -> Any:
    import keras

    from workshop_utils.architectures.inception import inception_module

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, inception_module(inputs, *widths.as_tuple(), name=name))


def _compare_numbers(model: Any, widths: InceptionWidths, input_shape: tuple[int, int, int],
                     rng: np.random.Generator) -> None:
    """Copy the attendee's conv weights into the reference module and compare the outputs; Hint on mismatch."""
    reference = _reference(widths, input_shape)
    by_kernel = {op.kernel: op.layer for op in kit.read_graph(reference).of_kind("conv")}  # distinct: one per layer
    kit.copy_weights({op.kernel: op.layer for op in kit.read_graph(model).of_kind("conv")}, by_kernel)
    images = rng.normal(size=(2, *input_shape)).astype("float32")
    expected, got = kit.outputs(reference, images), kit.outputs(model, images)
    # A batch norm inside (named at step 4) scales by 1/sqrt(1 + eps) at initialisation: allow 1%.
    close = functools.partial(kit.close, tolerance=1e-2)
    if close(got, expected):
        return
    sizes = [widths.filters_1x1, widths.filters_3x3, widths.filters_5x5, widths.filters_pool_proj]
    bounds = np.cumsum([0, *sizes])
    reference_parts = {b: expected[..., bounds[i]:bounds[i + 1]] for i, b in enumerate(BRANCHES)}
    # Which reference branch does each stretch of the attendee's output hold?
    order, start = [], 0
    remaining = dict(reference_parts)
    while start < got.shape[-1]:
        match = next((b for b, part in remaining.items()
                      if close(got[..., start:start + part.shape[-1]], part)), None)
        if match is None:
            break
        order.append(match)
        start += remaining.pop(match).shape[-1]
    if len(order) == len(BRANCHES):
        raise Hint(f"The branches are concatenated in the order {', '.join(order)}; GoogLeNet's order (and the "
                    f"checker's) is {', '.join(BRANCHES)}.", mistake="branch_order")
    wrong = [b for i, b in enumerate(BRANCHES) if not close(got[..., bounds[i]:bounds[i + 1]], reference_parts[b])]
    advice = {
        "1x1": "a 1x1 convolution followed by ReLU",
        "3x3": "1x1 reduce + ReLU, then 3x3 (padding='same') + ReLU",
        "5x5": "1x1 reduce + ReLU, then 5x5 (padding='same') + ReLU",
        "pool": "MaxPooling2D(3, strides=1, padding='same') (max, not average), then a 1x1 projection + ReLU",
    }
    details = "; ".join(f"{b}: {advice[b]}" for b in wrong)
    raise Hint(f"The shapes are right but the numbers differ from the reference in the {', '.join(wrong)} "
                f"branch(es). Expected {details}. (Every convolution is followed by a ReLU.)",
               mistake="wrong_numbers_" + "_".join(wrong))


def _check_names(function: Callable[..., Any]) -> None:
    """Step 4: the names (and biases) the GoogLeNet section and the appendix rely on, on module 3a."""
    import keras

    name = "inception_3a"
    inputs = keras.Input(GOOGLENET_3A_INPUT)
    try:
        model = keras.Model(inputs, function(inputs, *GOOGLENET_3A.as_tuple(), name=name))
    except Exception as error:
        raise Hint(f"inception_module(x, 64, 96, 128, 16, 32, 32, name='inception_3a') raised "
                   f"{type(error).__name__}: {str(error)[:300]}. Keep the `name` argument: GoogLeNet names its "
                   "modules with it.", mistake="interface") from None
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
        raise Hint("Your module has BatchNormalization layers. GoogLeNet (Inception v1) has none, and the GoogLeNet "
                   "section compares its layers and parameters with the paper's network: take them out (section 5's "
                   "small net adds batch norm after each module itself).", mistake="batch_norm")
    reference = _reference(GOOGLENET_3A, GOOGLENET_3A_INPUT, name=name)
    expected = {op.kernel: (op.name, op.layer.count_params()) for op in kit.read_graph(reference).of_kind("conv")}
    suffixes = ", ".join(f"f\"{{name}}{n[len(name):]}\"" for n, _ in sorted(expected.values()))
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Conv2D):
            want_name, want_params = expected[tuple(int(d) for d in layer.kernel.shape)]
            shape = "x".join(str(int(d)) for d in layer.kernel.shape)
            if layer.name != want_name:
                raise Hint(f"With name='{name}' your conv with kernel {shape} is named '{layer.name}'; the GoogLeNet "
                           f"section expects '{want_name}' (it compares layer names and parameters with the "
                           f"reference copy). Name the convs {suffixes}.", mistake="names")
            if layer.count_params() != want_params:
                raise Hint(f"{layer.name} has {layer.count_params():,} parameters, the reference {want_params:,}: "
                           "keep each convolution's bias (use_bias=True, the default; GoogLeNet v1 has no batch "
                           "norm to replace it).", mistake="no_bias")
        elif not layer.name.startswith(f"{name}_"):
            raise Hint(f"With name='{name}' your {type(layer).__name__} is named '{layer.name}'. Start every layer's "
                       f"name with f\"{{name}}_\" (e.g. f\"{{name}}_pool\", f\"{{name}}_concat\"): the appendix adds "
                       "up each module's cost by that prefix.", mistake="names")


@kit.checker("inception_module", not_written=_NOT_WRITTEN)
def check_inception_module(function: Callable[..., Any], seed: int | None = None, verbose: bool = False) -> str:
    """Check an attendee's ``inception_module(x, filters_1x1, ..., filters_pool_proj)``; the result shows
    "Passed: ..." or a hint.

    Args:
        function: the attendee's function; called as ``function(x, 64, 96, 128, 16, 32, 32)`` on a
            ``keras.Input((28, 28, 192))`` and on a random small configuration.
        seed: seed for the random configuration and inputs (``None``: fresh each call).
        verbose: ignored (kept so that older notebook cells still run); the result displays itself.

    Returns:
        A :class:`CheckResult`; ``passed`` is False with a hint and a ``mistake`` key for the first mistake found.

    Example::

        check_inception_module(inception_module)
    """
    from workshop_utils.inception_cost import module_cost

    rng = np.random.default_rng(seed)
    model = _build(function, GOOGLENET_3A, GOOGLENET_3A_INPUT)
    macs, params = _conv_macs(model), model.count_params()
    reference = module_cost(GOOGLENET_3A, GOOGLENET_3A_INPUT)
    if macs != reference.macs:
        raise Hint(f"Your module costs {macs:,} MACs per image; the 3a module costs {reference.macs:,}. "
                   "Check strides (all 1) and kernel sizes.", mistake="macs")
    kernel_weights = sum(int(np.prod(k)) for k in _kernel_shapes(model))
    extra = params - kernel_weights
    bias = reference.params - kernel_weights
    # Random small configuration: distinct 1x1 widths, so each kernel shape names one layer.
    # The input channels differ from the reduce widths too, so a missing bottleneck cannot pass unseen.
    height = int(rng.integers(6, 11))
    channels, *one_by_one = (int(v) for v in rng.choice(np.arange(3, 14), size=5, replace=False))
    small_input = (height, height, channels)
    small = InceptionWidths(one_by_one[0], one_by_one[1], int(rng.integers(2, 13)),
                            one_by_one[2], int(rng.integers(2, 13)), one_by_one[3])
    small_model = _build(function, small, small_input)
    _compare_numbers(small_model, small, small_input, rng)
    _check_names(function)
    normalisation = ("" if extra == bias else
                     f" (yours has {params:,}: the same {kernel_weights:,} kernel weights plus {extra:,} "
                     "bias/normalization parameters)")
    return (
        f"Inception (3a) on 28x28x192 gives {tuple(model.output.shape[1:])}, {reference.params:,} "
        f"parameters{normalisation} and {macs:,} MACs, as the reference; on a random "
        f"{small_input[0]}x{small_input[1]}x{small_input[2]} input with widths {small.as_tuple()} your "
        "outputs equal the reference module's; with name='inception_3a' its layers have GoogLeNet's names."
    )
