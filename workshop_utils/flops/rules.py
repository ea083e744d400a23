"""What each layer and ``keras.ops`` operation costs: the per-layer rules, the zero-cost lists, the costs of the
library's own layers (:data:`LIBRARY_LAYER_COSTS`), and :func:`register_cost` for layers the rules do not know.

The rules take shapes (batch dimension included) and return ``(MACs, elementwise ops)`` for one call; the walker
(:mod:`workshop_utils.flops.walker`) supplies the shapes. See :mod:`workshop_utils.flops` for what is counted.
The rules know the library's layers by name, so a model definition never imports the counter.

Example::

    flops.register_cost(MyShuffle, lambda layer, input_shapes, output_shapes: 0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "APPLICATION_LAYER_OPS",
    "LIBRARY_LAYER_COSTS",
    "ZERO_COST_LAYERS",
    "ZERO_COST_OPS",
    "CostFunction",
    "UncountedLayerWarning",
    "register_cost",
    "unregister_cost",
]


class UncountedLayerWarning(UserWarning):
    """:func:`profile` does not know a layer's (or op's) cost and counted it as 0 MACs; see :func:`register_cost`."""


#: Layer classes (names in ``keras.layers``) that really cost nothing at inference: they move, copy, pad or drop
#: values, or are switched off outside training. Nearest-neighbour ``UpSampling`` is here too (a copy); other
#: interpolations are not.
ZERO_COST_LAYERS: tuple[str, ...] = (
    "InputLayer", "Identity", "Reshape", "Permute", "Flatten", "RepeatVector",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout", "GaussianDropout",
    "GaussianNoise", "ActivityRegularization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
)  # fmt: skip

#: ``keras.ops`` operations (class names, lower case) that cost nothing when they appear as Functional graph nodes:
#: they reshape, transpose, slice, pad or convert.
ZERO_COST_OPS: frozenset[str] = frozenset(
    "reshape transpose expanddims squeeze pad slice getitem take split identity stopgradient cast broadcastto "
    "repeat tile moveaxis swapaxes ravel flip roll".split()
)

#: ``fn(layer, input_shapes, output_shapes) -> MACs`` for a layer class, declared with :func:`register_cost`.
CostFunction = Callable[[Any, list, list], int]
_REGISTERED_COSTS: dict[type, CostFunction] = {}


def register_cost(layer_type: type, fn: CostFunction) -> None:
    """Declare the MACs of a layer class (and its subclasses) that :func:`profile` does not know.

    ``fn(layer, input_shapes, output_shapes)`` gets the layer and the shapes of its input and output tensors for
    one call, **without the batch dimension** (lists of tuples, one per tensor), and returns the multiply-
    accumulates per image as an ``int`` (0 for a layer that only moves values). A registered cost replaces the
    built-in rule and silences :class:`UncountedLayerWarning`; registering again replaces the function.
    ``keras.ops`` operation classes can be registered the same way.

    Example::

        flops.register_cost(MyShuffle, lambda layer, input_shapes, output_shapes: 0)
    """
    import keras

    if not isinstance(layer_type, type):
        raise TypeError(
            f"register_cost expects a layer class such as ChannelShuffle (the class, not an instance), got "
            f"{type(layer_type).__name__}: {layer_type!r}."
        )
    if not issubclass(layer_type, keras.Operation):
        raise TypeError(
            f"register_cost expects a keras.layers.Layer subclass (or a keras.ops operation class), got "
            f"{layer_type.__qualname__}."
        )
    if not callable(fn):
        raise TypeError(
            "register_cost expects a function fn(layer, input_shapes, output_shapes) -> int MACs, e.g. "
            f"lambda layer, input_shapes, output_shapes: 0; got {type(fn).__name__}: {fn!r}."
        )
    _REGISTERED_COSTS[layer_type] = fn


def unregister_cost(layer_type: type) -> None:
    """Forget a cost declared with :func:`register_cost` (no error if there was none).

    Example::

        flops.unregister_cost(MyShuffle)
    """
    _REGISTERED_COSTS.pop(layer_type, None)


def _zero_cost(layer: Any, input_shapes: list, output_shapes: list) -> int:
    """Layers that only move values (select, pad, permute channels): no multiply-adds."""
    return 0


def _recomputed_bottleneck_macs(layer: Any, input_shapes: list, output_shapes: list) -> int:
    """DenseNet's ``RecomputedBottleneck``: its 1x1 conv over all the pieces' channels (BN, ReLU: no MACs)."""
    height, width = output_shapes[0][0], output_shapes[0][1]
    return int(height * width * sum(int(shape[-1]) for shape in input_shapes) * layer.filters)


def _solver_macs(layer: Any, input_shapes: list, output_shapes: list) -> int:
    """``ODEBlock`` / ``ResidualStack``: evaluations x the MACs of one G (norms and adds are not MACs)."""
    height, width, _ = input_shapes[0][-3:]
    function = layer.functions[0] if hasattr(layer, "functions") else layer.function
    return layer.evaluations * function.macs_per_evaluation(int(height), int(width))


#: The costs of ``workshop_utils``' own layers, by ``module.ClassName`` (matched on a layer's class and its bases,
#: so the model modules need not import the counter): channel shuffles, splits and option-A shortcuts only move
#: values; the recomputed DenseNet bottleneck and the neural-ODE solvers hide their convs inside ``call()``.
LIBRARY_LAYER_COSTS: dict[str, CostFunction] = {
    "workshop_utils.architectures.resnet.IdentityPadShortcut": _zero_cost,
    "workshop_utils.architectures.shufflenet.ChannelShuffle": _zero_cost,
    "workshop_utils.grouped_conv.ChannelSplit": _zero_cost,
    "workshop_utils.cross_group.ScatterToGroups": _zero_cost,
    "workshop_utils.cross_group.NoisyShares": _zero_cost,
    "workshop_utils.architectures.densenet.RecomputedBottleneck": _recomputed_bottleneck_macs,
    "workshop_utils.neural_ode.ODEBlock": _solver_macs,
    "workshop_utils.neural_ode.ResidualStack": _solver_macs,
}


def _registered_cost(layer: Any) -> CostFunction | None:
    """The cost function registered (or, for the library's layers, known) for ``layer``'s class or its nearest
    base class that has one."""
    for cls in type(layer).__mro__:
        if cls in _REGISTERED_COSTS:
            return _REGISTERED_COSTS[cls]
        known = LIBRARY_LAYER_COSTS.get(f"{cls.__module__}.{cls.__qualname__}")
        if known is not None:
            return known
    return None


def _call_registered(fn: CostFunction, layer: Any, in_shapes: list[tuple], out_shapes: list[tuple]) -> int:
    ins = [tuple(s)[1:] for s in in_shapes]
    outs = [tuple(s)[1:] for s in out_shapes]
    macs = fn(layer, ins, outs)
    if isinstance(macs, bool) or not isinstance(macs, numbers.Integral) or macs < 0:
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(
            f"the cost function {name} registered for {type(layer).__name__} returned {macs!r}; it must return "
            "the MACs per image as an int >= 0."
        )
    return int(macs)


# --------------------------------------------------------------------------------------------------------------
# Per-layer cost rules
# --------------------------------------------------------------------------------------------------------------


def _size(shape: Iterable[Any]) -> int:
    dims = list(shape)
    if any(d is None for d in dims):
        raise ValueError(f"shape {tuple(dims)} is not fully defined; pass input_shape=(H, W, C) with every dimension")
    return math.prod(int(d) for d in dims)


def _split_channels(shape: tuple, data_format: str | None) -> tuple[tuple, int]:
    """(spatial dims, channels) of a shape without its batch dimension."""
    if data_format == "channels_first":
        return shape[1:], shape[0]
    return shape[:-1], shape[-1]


def _activation_ops(layer: Any, out_elements: int) -> int:
    activation = getattr(layer, "activation", None)
    if activation is None or getattr(activation, "__name__", "") == "linear":
        return 0
    return out_elements


def _bias_ops(layer: Any, out_elements: int) -> int:
    return out_elements if getattr(layer, "use_bias", False) else 0


def _einsum_cost(layer: Any, in_shape: tuple) -> tuple[int, int]:
    """(MACs, output elements) of ``EinsumDense``: MACs are the product of the sizes of all the indices of input
    and kernel (the batch index counts 1); the output shape comes from the equation, since Keras' shape
    inference can leave dimensions unknown."""
    left, output_spec = layer.equation.split("->")
    input_spec, kernel_spec = left.split(",")
    kernel_shape = tuple(int(d) for d in layer.kernel.shape)
    sizes: dict[str, int] = {}
    dims = list(in_shape)
    dims[0] = 1  # the batch dimension
    n_ellipsis = 0
    if "..." in input_spec:
        before, after = input_spec.split("...")
        n_ellipsis = len(dims) - len(before) - len(after)
        letters = list(before) + [f"...{i}" for i in range(n_ellipsis)] + list(after)
    else:
        letters = list(input_spec)
    for letter, dim in zip(letters, dims):
        if dim is None:
            raise ValueError(f"shape {in_shape} is not fully defined; pass input_shape=(H, W, C) with every dimension")
        sizes[letter] = int(dim)
    for letter, dim in zip(kernel_spec.replace("...", ""), kernel_shape):
        sizes[letter] = dim
    out_letters = [f"...{i}" for i in range(n_ellipsis)] if "..." in output_spec else []
    out_letters += list(output_spec.replace("...", ""))
    return math.prod(sizes.values()), math.prod(sizes[letter] for letter in out_letters)


def _check_features(layer: Any, given: int, expected: int) -> None:
    if given != expected:
        raise ValueError(
            f"it receives {given} input features but its kernel expects {expected} (was the model built for "
            "another input shape? a model with Flatten + Dense only works at the input shape it was built for)"
        )


def _leaf_cost(layer: Any, in_shapes: list[tuple], out_shapes: list[tuple]) -> tuple[int, int] | None:
    """(macs, elementwise_ops) for a known layer, or None if the layer's cost is not known.

    Shapes include the batch dimension (ignored).
    """
    import keras

    L = keras.layers
    ins = [tuple(s)[1:] for s in in_shapes]
    outs = [tuple(s)[1:] for s in out_shapes]
    data_format = getattr(layer, "data_format", None)

    if isinstance(layer, L.EinsumDense):
        macs, out_size = _einsum_cost(layer, tuple(in_shapes[0]))
        bias = out_size if getattr(layer, "bias", None) is not None else 0
        return macs, bias + _activation_ops(layer, out_size)
    out_elements = sum(_size(s) for s in outs) if outs else 0

    def rest() -> int:
        return _bias_ops(layer, out_elements) + _activation_ops(layer, out_elements)

    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        (out_spatial, _), (_, in_ch) = _split_channels(outs[0], data_format), _split_channels(ins[0], data_format)
        positions, mid = _size(out_spatial), int(in_ch) * layer.depth_multiplier
        macs = positions * mid * math.prod(layer.kernel_size) + positions * mid * layer.filters
        return macs, rest()
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        out_spatial, out_ch = _split_channels(outs[0], data_format)
        return _size(out_spatial) * int(out_ch) * math.prod(layer.kernel_size), rest()
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        in_spatial, in_ch = _split_channels(ins[0], data_format)
        groups = getattr(layer, "groups", 1) or 1
        macs = _size(in_spatial) * int(in_ch) * math.prod(layer.kernel_size) * layer.filters // groups
        return macs, rest()
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        out_spatial, out_ch = _split_channels(outs[0], data_format)
        _, in_ch = _split_channels(ins[0], data_format)
        _check_features(layer, int(in_ch), int(layer.kernel.shape[-2]) * layer.groups)
        macs = _size(out_spatial) * int(out_ch) * math.prod(layer.kernel_size) * (int(in_ch) // layer.groups)
        return macs, rest()
    if isinstance(layer, L.Dense):
        _check_features(layer, int(ins[0][-1]), int(layer.kernel.shape[0]))
        return _size(ins[0]) * layer.units, rest()

    # No MACs, elementwise only.
    if isinstance(layer, L.BatchNormalization):
        return 0, 2 * out_elements
    if isinstance(layer, (L.LayerNormalization, L.GroupNormalization, L.UnitNormalization)):
        return 0, 4 * out_elements
    if isinstance(layer, (L.Rescaling, L.Normalization)):
        return 0, 2 * out_elements
    if isinstance(layer, (L.Activation, L.ReLU, L.LeakyReLU, L.PReLU, L.ELU, L.Softmax)):
        return 0, out_elements
    pooling = (
        L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D, L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D,
    )  # fmt: skip
    if isinstance(layer, pooling):
        return 0, out_elements * math.prod(layer.pool_size)
    global_pooling = (
        L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
        L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
    )  # fmt: skip
    if isinstance(layer, global_pooling):
        return 0, _size(ins[0])
    if isinstance(layer, L.Concatenate):
        return 0, out_elements
    if isinstance(layer, (L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum)):
        return 0, max(len(ins) - 1, 0) * out_elements
    if isinstance(layer, L.Embedding):
        return 0, 0  # a table lookup
    if isinstance(layer, L.Dot):
        axes = layer.axes if isinstance(layer.axes, (list, tuple)) else (layer.axes, layer.axes)
        contracted = int(tuple(in_shapes[0])[axes[0]])  # axes count the batch dimension, as in keras.layers.Dot
        return out_elements * contracted, (3 * _size(ins[0]) + 3 * _size(ins[1]) if layer.normalize else 0)
    if isinstance(layer, L.UpSampling2D) and getattr(layer, "interpolation", "nearest") != "nearest":
        return None  # bilinear and friends compute weighted sums: not free, and not counted here
    if type(layer).__name__ in ZERO_COST_LAYERS or _is_zero_cost_layer(layer):
        return 0, 0
    per_element = _application_layer_ops(layer)
    if per_element is not None:
        return 0, per_element * out_elements
    return None


#: The custom layers that ``keras.applications`` models are built with (class name -> elementwise ops per output
#: element; none does a multiply-accumulate): ConvNeXt's ``LayerScale`` (``x * gamma``, one multiply),
#: ``StochasticDepth`` (the identity at inference) and Inception-ResNet-v2's ``CustomScaleLayer``
#: (``x + scale * residual``, a multiply and an add). Matched only in Keras' own ``applications`` modules, so a
#: user's layer of the same name is not mistaken for one.
APPLICATION_LAYER_OPS: dict[str, int] = {"LayerScale": 1, "StochasticDepth": 0, "CustomScaleLayer": 2}


def _application_layer_ops(layer: Any) -> int | None:
    """Elementwise ops per output element of a ``keras.applications`` custom layer, else None."""
    cls = type(layer)
    if cls.__module__.startswith("keras.") and ".applications." in cls.__module__:
        return APPLICATION_LAYER_OPS.get(cls.__name__)
    return None


def _is_zero_cost_layer(layer: Any) -> bool:
    """Whether ``layer`` is (a subclass of) one of :data:`ZERO_COST_LAYERS`."""
    import keras

    zero = tuple(getattr(keras.layers, name) for name in ZERO_COST_LAYERS if hasattr(keras.layers, name))
    return isinstance(layer, zero)




#: ``keras.ops`` operations (class names, lower case) counted as 1 elementwise op per output element when they
#: appear as nodes of a Functional graph.
_ELEMENTWISE_OPS = frozenset(
    "add subtract multiply divide truedivide maximum minimum negative square sqrt exp log abs "
    "relu relu6 sigmoid hardsigmoid silu swish hardswish hardsilu gelu elu selu leakyrelu softplus softsign "
    "tanh softmax logsoftmax".split()
)


#: ``keras.ops`` reductions, counted as 1 elementwise op per input element (like global pooling).
_REDUCTION_OPS = frozenset("mean sum max min prod std var logsumexp".split())


def _tensordot_contracted(x_shape: tuple, axes: Any) -> int:
    """Size of the dimensions of the first factor that ``ops.tensordot(x, y, axes)`` sums over."""
    if isinstance(axes, numbers.Integral):
        dims = x_shape[len(x_shape) - int(axes):] if axes else ()
    else:
        first = axes[0]
        dims = tuple(x_shape[a] for a in (first if isinstance(first, (list, tuple)) else [first]))
    return _size(dims)


def _einsum_contracted(subscripts: str, operands: list) -> int:
    """Size of the indices ``ops.einsum`` sums over (those not in the output); the batch dimension counts 1."""
    spec = subscripts.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    if "->" not in spec:  # implicit output: the indices that appear once, sorted
        letters = [c for c in inputs if c.isalpha()]
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    sizes: dict[str, int] = {}
    for term, x in zip(terms, operands):
        shape = tuple(x.shape)
        before, dots, after = term.partition("...")
        named = list(zip(before, shape[: len(before)]))
        if after:
            named += list(zip(after, shape[len(shape) - len(after):]))
        for letter, dim in named:
            sizes[letter] = max(sizes.get(letter, 1), 1 if dim is None else int(dim))
    return math.prod(size for letter, size in sizes.items() if letter not in output)


