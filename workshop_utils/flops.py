"""Parameters, multiply-accumulates (MACs) and FLOPs of a Keras 3 model, layer by layer.

Vocabulary (papers mix these up):

* **MAC** -- one multiply-accumulate, ``acc += w * x``. The MobileNet and ResNet papers call these "mult-adds".
  :attr:`Profile.macs` counts only the multiply-accumulates of convolutions and matrix products.
* **FLOPs** -- floating-point operations. **FLOPs = 2 x multiply-accumulates** (one multiply plus one add), which is
  what TensorFlow's profiler reports for convolutions and matrix products. :attr:`Profile.flops` is ``2 * macs``.
* **Elementwise ops** -- bias adds, batch norm, activations, pooling, merges. They are cheap next to the MACs and
  their cost depends on the kernel that runs them, so they are reported apart (:attr:`Profile.elementwise_ops`),
  never mixed into ``macs``. The counts are approximate, by these rules (per output element unless noted):
  bias add 1; activation (standalone or a layer's ``activation=``) 1; BatchNormalization 2 (scale and shift, as
  folded at inference); LayerNormalization / GroupNormalization / UnitNormalization 4; Rescaling / Normalization
  2; pooling ``prod(pool_size)``; global pooling 1 per *input* element; Add / Subtract / Multiply / Average /
  Maximum / Minimum ``n_inputs - 1``; Concatenate 1 (a copy). Reshaping, padding, cropping and dropout: 0.

What is counted as MACs (everything per image: the batch dimension is excluded):

* ``Conv1D/2D/3D`` (any ``groups``, ``strides``, ``dilation_rate``, ``padding``):
  ``out_positions * filters * prod(kernel_size) * in_channels / groups``.
* ``DepthwiseConv1D/2D``: ``out_positions * in_channels * depth_multiplier * prod(kernel_size)``.
* ``SeparableConv1D/2D``: the depthwise part above plus the 1x1 part ``out_positions * in_channels *
  depth_multiplier * filters``.
* ``Conv1DTranspose/2D/3D``: ``in_positions * in_channels * prod(kernel_size) * filters`` (every input value
  meets every kernel tap once; TensorFlow's profiler agrees exactly for ``padding="same"``).
* ``Dense``: ``in_features * units`` once per position, so ``Dense`` on a ``(H, W, C)`` input costs
  ``H * W * C * units``. ``EinsumDense``: the product of the sizes of all the equation's indices.
* ``MultiHeadAttention``: its projections (``EinsumDense`` sublayers) plus the two attention products,
  ``heads * Tq * Tk * (key_dim + value_dim)``, reported as an extra row ``<layer>/attention``.
* Nested models and layers, recursively: a Functional or Sequential model used as a layer, and custom layers
  or subclassed models that own sublayers. Rows of nested layers get a **path-like name**, ``outer/inner``
  (``backbone/conv1_conv``); :meth:`Profile.layer` also accepts the bare inner name when it is unique.
  A layer called several times (a shared layer) gets one row with the cost of all its calls.
* ``keras.ops`` applied to symbolic tensors in a Functional model become graph nodes too: ``ops.matmul`` is
  counted as MACs; arithmetic and activations (``x + shortcut``, ``ops.relu``) as 1 elementwise op per output
  element; their rows have the type ``ops.<Name>``. Inside a custom layer's ``call()``, only the sublayers it calls
  are seen: a ``keras.ops`` expression there is not counted.

* ``layers.Dot`` and the graph ops ``ops.dot``, ``ops.tensordot`` and ``ops.einsum``: output elements x the
  size of the contracted dimensions.

**No silent zeros.** Only the layers and ops in :data:`ZERO_COST_LAYERS` / :data:`ZERO_COST_OPS` (reshape,
transpose/permute, flatten, padding/cropping, dropout and noise, identity, nearest upsampling, slicing) cost
nothing by design. Any other layer or op whose cost is unknown -- a ``Lambda``, bilinear ``UpSampling2D``, an LSTM,
a custom layer doing its own ``ops.matmul`` -- is counted as 0 MACs **with a warning**
(:class:`UncountedLayerWarning`) naming it. Declare its cost with :func:`register_cost` and the warning goes away::

    flops.register_cost(ChannelShuffle, lambda layer, input_shapes, output_shapes: 0)

Shapes come from the model's graph (Functional; a Sequential's inner Functional) and, where the graph has no
shapes or other ones, from Keras' shape inference (``compute_output_spec``); nothing is executed on data, so
:func:`profile` takes milliseconds. To count custom layers' sublayer calls, :func:`profile` briefly wraps
``keras.layers.Layer.__call__`` (under a lock, restored afterwards); do not build models in another thread
while it runs.

Example::

    from workshop_utils.flops import profile
    cost = profile(keras.applications.MobileNet(weights=None))
    print(cost.to_text(top=10))    # ~569M MACs, as in table 6 of the MobileNet paper
"""

from __future__ import annotations

import difflib
import html
import math
import numbers
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = [
    "LayerCost",
    "Profile",
    "Comparison",
    "UncountedLayerWarning",
    "TF_MAC_OP_TYPES",
    "ZERO_COST_LAYERS",
    "ZERO_COST_OPS",
    "register_cost",
    "unregister_cost",
    "profile",
    "compare",
    "format_count",
    "tf_profiler_flops",
]

#: TensorFlow op types whose profiler FLOPs are multiply-accumulates (2 FLOPs each) of convolutions and matrix
#: products; the profiler also counts BiasAdd, batch-norm and pooling ops, which :func:`profile` reports apart.
TF_MAC_OP_TYPES: frozenset[str] = frozenset(
    {
        "Conv2D",
        "Conv3D",
        "DepthwiseConv2dNative",
        "Conv2DBackpropInput",
        "MatMul",
        "BatchMatMul",
        "BatchMatMulV2",
        "BatchMatMulV3",
    }
)


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

        flops.register_cost(ChannelShuffle, lambda layer, input_shapes, output_shapes: 0)
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

        flops.unregister_cost(ChannelShuffle)
    """
    _REGISTERED_COSTS.pop(layer_type, None)


def _registered_cost(layer: Any) -> CostFunction | None:
    """The registered cost function of ``layer``'s class or its nearest registered base class."""
    for cls in type(layer).__mro__:
        if cls in _REGISTERED_COSTS:
            return _REGISTERED_COSTS[cls]
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
# Formatting
# --------------------------------------------------------------------------------------------------------------

_UNITS: tuple[tuple[float, str, int], ...] = ((1e3, "K", 1), (1e6, "M", 1), (1e9, "G", 2), (1e12, "T", 2))


def format_count(n: int | float) -> str:
    """A count in short form: one decimal for K and M, two for G and T.

    Example::

        format_count(138_357_544)   # "138.4M";  format_count(1.2e9) -> "1.20G";  format_count(12_345) -> "12.3K"
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"format_count expects a number such as 138357544, got {type(n).__name__}: {n!r}.")
    if not math.isfinite(n):
        raise ValueError(f"format_count expects a finite number, got {n!r}.")
    sign = "-" if n < 0 else ""
    value = abs(float(n))
    if round(value) < 1000:
        return f"{sign}{round(value)}"
    unit = max(i for i, (scale, _, _) in enumerate(_UNITS) if value >= scale or i == 0)
    while True:
        scale, suffix, digits = _UNITS[unit]
        text = f"{value / scale:.{digits}f}"
        if float(text) < 1000 or unit == len(_UNITS) - 1:
            return f"{sign}{text}{suffix}"
        unit += 1


def _commas(n: int) -> str:
    return f"{n:,}"


def _shape_text(shape: tuple) -> str:
    if shape and all(isinstance(s, tuple) for s in shape):
        return ", ".join(_shape_text(s) for s in shape)
    dims = ["?" if d is None else str(d) for d in shape]
    return "(" + (dims[0] + "," if len(dims) == 1 else ", ".join(dims)) + ")"


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerCost:
    """The cost of one layer (all its calls) for one image.

    Attributes:
        name: the layer's name; ``outer/inner`` for a layer inside a nested model or layer.
        layer_type: the layer's class name, e.g. ``"Conv2D"``.
        output_shape: output shape without the batch dimension (a tuple of shapes for several outputs).
        params: the layer's own weights (a layer shared by two nested models is listed in both).
        macs: multiply-accumulates of its convolutions / matrix products.
        share: ``macs`` as a fraction (0..1) of the model's total MACs.
        elementwise_ops: approximate bias / normalization / activation / pooling / merge ops, not in ``macs``.

    Example::

        profile(model).layer("conv1").macs
    """

    name: str
    layer_type: str
    output_shape: tuple
    params: int
    macs: int
    share: float
    elementwise_ops: int

    @property
    def flops(self) -> int:
        """FLOPs = 2 x multiply-accumulates."""
        return 2 * self.macs


_COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs", "Share", "Elementwise")


def _layer_cells(row: LayerCost) -> list[str]:
    return [
        row.name,
        row.layer_type,
        _shape_text(row.output_shape),
        _commas(row.params),
        _commas(row.macs),
        f"{100 * row.share:.1f}%",
        _commas(row.elementwise_ops),
    ]


def _fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(header))
    return [line(header), rule] + [line(r) for r in rows] + [rule]


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], caption: str) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        align = ' style="text-align:right"' if i in right else ' style="text-align:left"'
        return f"<{tag}{align}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (
        f"<table><caption style=\"text-align:left\">{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


@dataclass(frozen=True)
class Profile:
    """Parameters and per-image cost of a model; build one with :func:`profile`.

    ``macs`` counts multiply-accumulates; **FLOPs = 2 x multiply-accumulates** (:attr:`flops`).
    ``params`` equals ``model.count_params()``. ``elementwise_ops`` (bias, BN, activations, pooling, merges) is
    approximate and never part of ``macs``.

    Example::

        cost = profile(model); print(cost.to_text(top=10)); cost.macs_by_type()
    """

    model_name: str
    input_shape: tuple
    params: int
    macs: int
    elementwise_ops: int
    layers: tuple[LayerCost, ...] = field(repr=False)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x multiply-accumulates (one multiply and one add each)."""
        return 2 * self.macs

    def layer(self, name: str) -> LayerCost:
        """The row of the layer called ``name`` (``outer/inner`` path, or the inner name when unique).

        Example::

            profile(model).layer("conv_dw_1").macs
        """
        for row in self.layers:
            if row.name == name:
                return row
        tails = [row for row in self.layers if row.name.rsplit("/", 1)[-1] == name]
        if len(tails) == 1:
            return tails[0]
        names = [row.name for row in self.layers]
        if len(tails) > 1:
            raise KeyError(
                f"{name!r} names {len(tails)} nested layers in {self.model_name!r}; "
                f"use the full path: {', '.join(row.name for row in tails)}."
            )
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        inner = difflib.get_close_matches(name, [n.rsplit("/", 1)[-1] for n in names], n=5)
        close += [n for n in inner if n not in close]
        if close:
            hint = f" Close names: {', '.join(close)}."
        else:
            hint = f" It has {len(names)} layers, e.g. {', '.join(names[:5])}."
        raise KeyError(f"No layer named {name!r} in {self.model_name!r}.{hint}")

    def macs_by_type(self) -> dict[str, int]:
        """Total MACs per layer class, largest first.

        Example::

            profile(mobilenet).macs_by_type()   # {"Conv2D": ..., "DepthwiseConv2D": ...}
        """
        totals: dict[str, int] = {}
        for row in self.layers:
            totals[row.layer_type] = totals.get(row.layer_type, 0) + row.macs
        return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))

    def _selected(self, top: int | None) -> list[LayerCost]:
        if top is None:
            return list(self.layers)
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive int or None, got {top!r}.")
        return sorted(self.layers, key=lambda row: row.macs, reverse=True)[:top]

    def _totals(self) -> list[str]:
        return [
            f"Params:          {_commas(self.params)} ({format_count(self.params)})",
            f"MACs:            {_commas(self.macs)} ({format_count(self.macs)}) multiply-accumulates per image",
            f"FLOPs:           {_commas(self.flops)} ({format_count(self.flops)}) = 2 x MACs",
            f"Elementwise ops: {_commas(self.elementwise_ops)} ({format_count(self.elementwise_ops)}) "
            "bias/BN/activation/pooling/merge, approximate, not in MACs",
        ]

    def _title(self, top: int | None, shown: int) -> str:
        which = f", the {shown} of {len(self.layers)} layers with most MACs" if top is not None else ""
        return f"{self.model_name}: input {_shape_text(self.input_shape)}, per image{which}"

    def to_text(self, top: int | None = None) -> str:
        """A fixed-width table of the layers (all, in model order; or the ``top`` by MACs) and the totals.

        Example::

            print(profile(model).to_text(top=10))
        """
        rows = self._selected(top)
        lines = [self._title(top, len(rows))]
        lines += _fixed_width(_COLUMNS, [_layer_cells(r) for r in rows], right={3, 4, 5, 6})
        return "\n".join(lines + self._totals())

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The :meth:`to_text` table as HTML, for notebooks."""
        rows = self._selected(None)
        table = _html_table(_COLUMNS, [_layer_cells(r) for r in rows], {3, 4, 5, 6}, html.escape(self._title(None, 0)))
        totals = "<br>".join(html.escape(line) for line in self._totals())
        return f"<div>{table}<p style=\"font-family:monospace\">{totals}</p></div>"


@dataclass(frozen=True)
class Comparison:
    """Models side by side; ``ratio`` is each row's MACs divided by the first row's. Build with :func:`compare`.

    Example::

        compare({"224": mobilenet_224, "128": mobilenet_128}).rows[1]["ratio"]   # ~0.33
    """

    profiles: tuple[Profile, ...]
    names: tuple[str, ...]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per model: ``name``, ``params``, ``macs``, ``flops``, ``ratio`` (MACs / first model's MACs)."""
        base = self.profiles[0].macs if self.profiles else 0
        return [
            {
                "name": name,
                "params": p.params,
                "macs": p.macs,
                "flops": p.flops,
                "ratio": (p.macs / base) if base else float("nan"),
            }
            for name, p in zip(self.names, self.profiles)
        ]

    def _cells(self) -> list[list[str]]:
        return [
            [
                r["name"],
                _commas(r["params"]),
                format_count(r["params"]),
                _commas(r["macs"]),
                format_count(r["macs"]),
                format_count(r["flops"]),
                f"{r['ratio']:.3f}x",
            ]
            for r in self.rows
        ]

    _HEADER = ("Model", "Params", "", "MACs", "", "FLOPs", "MACs vs first")

    def to_text(self) -> str:
        """A fixed-width table, one model a line.

        Example::

            print(compare([vgg, resnet]).to_text())
        """
        lines = _fixed_width(self._HEADER, self._cells(), right={1, 2, 3, 4, 5, 6})
        return "\n".join(lines + ["FLOPs = 2 x MACs (multiply-accumulates), per image."])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The :meth:`to_text` table as HTML, for notebooks."""
        return _html_table(
            self._HEADER, self._cells(), {1, 2, 3, 4, 5, 6}, "FLOPs = 2 x MACs (multiply-accumulates), per image"
        )


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
    return None


def _is_zero_cost_layer(layer: Any) -> bool:
    """Whether ``layer`` is (a subclass of) one of :data:`ZERO_COST_LAYERS`."""
    import keras

    zero = tuple(getattr(keras.layers, name) for name in ZERO_COST_LAYERS if hasattr(keras.layers, name))
    return isinstance(layer, zero)


# --------------------------------------------------------------------------------------------------------------
# Walking a model
# --------------------------------------------------------------------------------------------------------------


def _leaf_type_known(layer: Any) -> bool:
    """Whether ``layer`` is one of the built-in types :func:`_leaf_cost` knows (or a subclass of one)."""
    import keras

    L = keras.layers
    known = (
        L.Conv1D, L.Conv2D, L.Conv3D, L.DepthwiseConv1D, L.DepthwiseConv2D, L.SeparableConv1D, L.SeparableConv2D,
        L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose, L.Dense, L.EinsumDense, L.BatchNormalization,
        L.LayerNormalization, L.GroupNormalization, L.UnitNormalization, L.Rescaling, L.Normalization, L.Embedding,
        L.Activation, L.ReLU, L.LeakyReLU, L.PReLU, L.ELU, L.Softmax,
    )  # fmt: skip
    return isinstance(layer, known)


def _own_variables(layer: Any) -> list[Any]:
    """Variables a layer owns itself (not through sublayers)."""
    own = list(getattr(layer, "_trainable_variables", []) or []) + list(
        getattr(layer, "_non_trainable_variables", []) or []
    )
    if not own and not _sublayers(layer):
        own = list(getattr(layer, "weights", []) or [])
    return own


def _sublayers(layer: Any) -> list[Any]:
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is None:
        return []
    return list(flatten(include_self=False, recursive=False))


def _variables_size(variables: Iterable[Any]) -> int:
    return sum(math.prod(int(d) for d in v.shape) for v in variables)


@dataclass
class _Row:
    name: str
    layer_type: str
    output_shape: tuple
    params: int
    macs: int
    elementwise_ops: int


_CALL_LOCK = threading.RLock()

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


class _Walker:
    """Propagates symbolic tensors through a model and records one :class:`_Row` per layer call."""

    def __init__(self) -> None:
        import keras

        self.keras = keras
        from keras.src.models.functional import Functional

        self.Functional = Functional
        self.warned: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------------------------
    def _spec(self, x: Any) -> Any:
        """A KerasTensor with the shape and dtype of a (symbolic) tensor; other values unchanged."""
        keras = self.keras
        if isinstance(x, keras.KerasTensor):
            return x
        if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (str, bytes)):
            try:
                shape = tuple(None if d is None else int(d) for d in x.shape)
                return keras.KerasTensor(shape, dtype=keras.backend.standardize_dtype(x.dtype))
            except (TypeError, ValueError):
                return x
        return x

    def _flat_tensors(self, structure: Any) -> list[Any]:
        from keras import tree

        return [x for x in tree.flatten(structure) if isinstance(x, self.keras.KerasTensor)]

    def _to_specs(self, structure: Any) -> Any:
        from keras import tree

        return tree.map_structure(self._spec, structure)

    @staticmethod
    def _shape(x: Any) -> tuple:
        return tuple(x.shape)

    def _warn(self, path: str, layer: Any, n_params: int, why: str) -> None:
        if path in self.warned:
            return
        self.warned.add(path)
        kind = "op" if not isinstance(layer, self.keras.layers.Layer) else "layer"
        owns = f"owns weights ({n_params:,} parameters) but " if n_params else ""
        cls = type(layer)
        warnings.warn(
            f"flops.profile: {kind} {path!r} ({cls.__name__}) {owns}{why}; it is counted as 0 MACs. If that is "
            f"wrong, declare its cost: flops.register_cost({cls.__name__}, fn) with "
            "fn(layer, input_shapes, output_shapes) -> MACs.",
            UncountedLayerWarning,
            stacklevel=4,
        )

    # -- dispatch -----------------------------------------------------------------------------------------------
    def walk(self, layer: Any, args: tuple, kwargs: dict, recorded: list | None, path: str) -> tuple[list, list]:
        """Cost of one call of ``layer``; returns (flat output KerasTensors, rows)."""
        keras = self.keras
        if isinstance(layer, keras.layers.InputLayer):
            return list(recorded or self._flat_tensors(args)), []
        if isinstance(layer, self.Functional):
            return self.expand_functional(layer, args, kwargs, path + "/")
        if isinstance(layer, keras.Sequential):
            if layer._functional is not None:
                return self.expand_functional(layer._functional, args, kwargs, path + "/")
            return self.expand_traced(layer, args, kwargs, path + "/")
        if isinstance(layer, keras.layers.MultiHeadAttention):
            return self.expand_attention(layer, args, kwargs, path)
        if isinstance(layer, keras.layers.TimeDistributed):
            return self.expand_time_distributed(layer, args, kwargs, recorded, path)
        registered = _registered_cost(layer)
        if registered is not None:
            return self.leaf(layer, args, kwargs, recorded, path, registered)
        if not isinstance(layer, keras.layers.Layer):  # keras.ops applied to KerasTensors: a graph node too
            return self.operation(layer, args, kwargs, recorded, path)
        if _leaf_type_known(layer) or not _sublayers(layer):
            return self.leaf(layer, args, kwargs, recorded, path)
        # A subclassed model or custom layer that owns sublayers: count what it calls.
        outputs, rows = self.expand_traced(layer, args, kwargs, path + "/")
        own = _own_variables(layer)
        if own:
            self._warn(path, layer, _variables_size(own), "only its sublayers are counted, not its own weights")
            out_shape = self._out([self._shape(x) for x in outputs])
            rows.insert(0, _Row(path, type(layer).__name__, out_shape, _variables_size(own), 0, 0))
        return outputs, rows

    def operation(self, op: Any, args: tuple, kwargs: dict, recorded: list | None, path: str) -> tuple[list, list]:
        """Cost of a ``keras.ops`` call recorded in a Functional graph (``x + shortcut``, ``ops.matmul``)."""
        if recorded is None:
            recorded = self._flat_tensors(self._to_specs(op.compute_output_spec(*args, **kwargs)))
        out_shapes = [self._shape(x) for x in recorded]
        kind = type(op).__name__
        macs = elementwise = 0
        try:
            out_size = _size(out_shapes[0][1:]) if out_shapes else 0
            if kind in ("Matmul", "Dot") and args and hasattr(args[0], "shape"):  # a factor may be a constant
                macs = out_size * (int(args[0].shape[-1]) if len(args[0].shape) else 1)
            elif kind == "Tensordot" and args and hasattr(args[0], "shape"):
                macs = out_size * _tensordot_contracted(tuple(args[0].shape), op.axes)
            elif kind == "Einsum":
                macs = out_size * _einsum_contracted(op.subscripts, [a for a in args if hasattr(a, "shape")])
            elif kind.lower() in _ELEMENTWISE_OPS:
                elementwise = sum(_size(shape[1:]) for shape in out_shapes)
            elif kind.lower() in ("concatenate", "stack"):
                elementwise = out_size  # a copy, like layers.Concatenate
            elif kind.lower() in _REDUCTION_OPS:
                elementwise = sum(_size(tuple(x.shape)[1:]) for x in self._flat_tensors((args, kwargs)))
            elif kind.lower() not in ZERO_COST_OPS:
                self._warn(path, op, 0, "has no cost rule in workshop_utils.flops")
        except ValueError as error:
            raise ValueError(f"flops.profile: cannot count {path!r} (ops.{kind}): {error}.") from None
        return recorded, [_Row(path, f"ops.{kind}", self._out(out_shapes), 0, macs, elementwise)]

    def leaf(
        self, layer: Any, args: tuple, kwargs: dict, recorded: list | None, path: str,
        registered: CostFunction | None = None,
    ) -> tuple[list, list]:  # fmt: skip
        """Cost of one call of a layer without sublayers, of a known type, or with a registered cost."""
        in_tensors = self._flat_tensors((args, kwargs))
        if recorded is None:
            recorded = self._flat_tensors(self._to_specs(layer.compute_output_spec(*args, **kwargs)))
        in_shapes = [self._shape(x) for x in in_tensors]
        out_shapes = [self._shape(x) for x in recorded]
        kind = type(layer).__name__ if isinstance(layer, self.keras.layers.Layer) else f"ops.{type(layer).__name__}"
        try:
            if registered is not None:
                cost: tuple[int, int] | None = (_call_registered(registered, layer, in_shapes, out_shapes), 0)
            else:
                cost = _leaf_cost(layer, in_shapes, out_shapes)
        except ValueError as error:
            raise ValueError(f"flops.profile: cannot count {path!r} ({kind}): {error}.") from None
        if cost is None:
            own = _own_variables(layer)
            self._warn(path, layer, _variables_size(own), "has no cost rule in workshop_utils.flops")
            cost = (0, 0)
        params = _variables_size(getattr(layer, "weights", []) or [])
        return recorded, [_Row(path, kind, self._out(out_shapes), params, cost[0], cost[1])]

    @staticmethod
    def _out(out_shapes: list[tuple]) -> tuple:
        shapes = [tuple(s)[1:] for s in out_shapes]
        return shapes[0] if len(shapes) == 1 else tuple(shapes)

    # -- containers ---------------------------------------------------------------------------------------------
    def expand_functional(self, model: Any, args: tuple, kwargs: dict, prefix: str) -> tuple[list, list]:
        """Walk a Functional graph node by node, reusing its recorded shapes where the inputs match."""
        inputs = args[0] if args else kwargs.get("inputs")
        given = self._flat_tensors(inputs)
        if len(given) != len(model.inputs):
            raise ValueError(f"{model.name!r} expects {len(model.inputs)} inputs, got {len(given)}.")
        tensors: dict[int, Any] = {id(ref): x for ref, x in zip(model.inputs, given)}
        order = {id(op): i for i, op in enumerate(model.operations)}
        scoped: list[tuple[int, int, list[_Row]]] = []
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if not node.operation or node.is_input:
                    continue
                if any(id(x) not in tensors for x in node.input_tensors):
                    continue
                node_args, node_kwargs = node.arguments.fill_in(tensors)
                same = all(tensors[id(x)].shape == x.shape for x in node.input_tensors)
                outputs, rows = self.walk(
                    node.operation, node_args, node_kwargs, list(node.outputs) if same else None,
                    prefix + node.operation.name,
                )  # fmt: skip
                for ref, out in zip(node.outputs, outputs):
                    tensors[id(ref)] = out
                scoped.append((order.get(id(node.operation), len(order)), len(scoped), rows))
        missing = [x for x in model.outputs if id(x) not in tensors]
        if missing:
            raise ValueError(f"flops.profile: outputs of {model.name!r} are not connected to its inputs.")
        rows = [row for _, _, block in sorted(scoped, key=lambda item: item[:2]) for row in block]
        return [tensors[id(x)] for x in model.outputs], rows

    def trace(self, layer: Any, args: tuple, kwargs: dict) -> tuple[list, list]:
        """Run ``layer.call`` symbolically; returns (flat outputs, [(sublayer, args, kwargs, outputs)])."""
        from keras.src import backend as keras_backend

        Layer = self.keras.layers.Layer
        calls: list[list[Any]] = []
        depth = [0]
        original = Layer.__call__
        walker = self

        def recording_call(self_layer: Any, *call_args: Any, **call_kwargs: Any) -> Any:
            if depth[0] > 0:
                return original(self_layer, *call_args, **call_kwargs)
            entry = [self_layer, walker._to_specs(call_args), walker._to_specs(call_kwargs), None]
            calls.append(entry)
            depth[0] += 1
            try:
                result = original(self_layer, *call_args, **call_kwargs)
            finally:
                depth[0] -= 1
            entry[3] = walker._flat_tensors(walker._to_specs(result))
            return result

        with _CALL_LOCK:
            Layer.__call__ = recording_call
            try:
                outputs = keras_backend.compute_output_spec(layer.call, *args, **kwargs)
            finally:
                Layer.__call__ = original
        return self._flat_tensors(self._to_specs(outputs)), calls

    def expand_traced(self, layer: Any, args: tuple, kwargs: dict, prefix: str) -> tuple[list, list]:
        """Cost of a subclassed model or custom layer that owns sublayers, from one symbolic call."""
        outputs, calls = self.trace(layer, args, kwargs)
        rows: list[_Row] = []
        for sublayer, sub_args, sub_kwargs, sub_outputs in calls:
            rows += self.walk(sublayer, sub_args, sub_kwargs, sub_outputs, prefix + sublayer.name)[1]
        return outputs, rows

    def expand_attention(self, layer: Any, args: tuple, kwargs: dict, path: str) -> tuple[list, list]:
        outputs, calls = self.trace(layer, args, kwargs)
        rows: list[_Row] = []
        projected: dict[int, tuple] = {}
        for sublayer, sub_args, sub_kwargs, sub_outputs in calls:
            rows += self.walk(sublayer, sub_args, sub_kwargs, sub_outputs, f"{path}/{sublayer.name}")[1]
            projected[id(sublayer)] = self._shape(sub_outputs[0])
        query = projected[id(layer._query_dense)]  # (B, Tq..., heads, key_dim)
        key = projected[id(layer._key_dense)]  # (B, Tk..., heads, key_dim)
        value = projected[id(layer._value_dense)]  # (B, Tk..., heads, value_dim)
        tq, tk = _size(query[1:-2]), _size(key[1:-2])
        heads, key_dim, value_dim = int(query[-2]), int(query[-1]), int(value[-1])
        macs = heads * tq * tk * (key_dim + value_dim)
        rows.append(_Row(f"{path}/attention", "MultiHeadAttention", (heads, tq, tk), 0, macs, heads * tq * tk))
        return outputs, rows

    def expand_time_distributed(
        self, layer: Any, args: tuple, kwargs: dict, recorded: list | None, path: str
    ) -> tuple[list, list]:
        keras = self.keras
        x = self._flat_tensors(args)[0]
        steps = x.shape[1]
        if steps is None:
            raise ValueError(f"flops.profile: {path!r} (TimeDistributed) needs a known number of time steps.")
        inner_input = keras.KerasTensor((None,) + tuple(x.shape[2:]), dtype=x.dtype)
        _, rows = self.walk(layer.layer, (inner_input,), {}, None, f"{path}/{layer.layer.name}")
        for row in rows:
            row.macs *= int(steps)
            row.elementwise_ops *= int(steps)
        if recorded is None:
            recorded = self._flat_tensors(layer.compute_output_spec(*args, **kwargs))
        return recorded, rows


# --------------------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------------------


def _normalize_input_shape(input_shape: Any) -> list[tuple]:
    def one(shape: Any) -> tuple:
        if not isinstance(shape, (tuple, list)) or not shape:
            raise TypeError(
                f"input_shape must be a tuple of ints without the batch dimension, e.g. (224, 224, 3); "
                f"got {shape!r}."
            )
        for dim in shape:
            if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim <= 0:
                raise ValueError(
                    f"input_shape must hold positive ints, without the batch dimension, e.g. (224, 224, 3); "
                    f"got {tuple(shape)!r}."
                )
        return tuple(int(d) for d in shape)

    several = isinstance(input_shape, (tuple, list)) and input_shape
    if several and all(isinstance(s, (tuple, list)) for s in input_shape):
        return [one(s) for s in input_shape]
    return [one(input_shape)]


def _unbuilt_error(model: Any) -> ValueError:
    return ValueError(
        f"Model {model.name!r} ({type(model).__name__}) is not built, so its input shape is unknown. "
        "Pass input_shape=(H, W, C) (without the batch dimension), e.g. profile(model, input_shape=(224, 224, 3)), "
        "or start the model with keras.Input(shape=(H, W, C))."
    )


def _prepare(model: Any, input_shape: Any) -> tuple[Any, list[tuple], Any]:
    """(the model to walk, input shapes without batch, inputs structure of KerasTensors); builds if needed."""
    import keras
    from keras import tree
    from keras.src.models.functional import Functional

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"profile expects a keras.Model (Keras 3: Functional, Sequential or subclassed), got "
            f"{type(model).__module__}.{type(model).__qualname__}. Wrap a single layer in a model, e.g. "
            "keras.Sequential([keras.Input(shape), layer])."
        )
    shapes = None if input_shape is None else _normalize_input_shape(input_shape)
    graph = model
    if isinstance(model, keras.Sequential):
        if model._functional is None:
            if shapes is None:
                raise _unbuilt_error(model)
            if len(shapes) != 1:
                raise ValueError(f"A Sequential model has one input; got {len(shapes)} input shapes.")
            model.build((None,) + shapes[0])
        graph = model._functional if model._functional is not None else model
    if isinstance(graph, Functional):
        graph_shapes = [tuple(x.shape[1:]) for x in graph.inputs]
        if shapes is None:
            if any(d is None for s in graph_shapes for d in s):
                raise ValueError(
                    f"Model {model.name!r} has inputs of shape {graph_shapes} with unknown dimensions. "
                    "Pass input_shape=(H, W, C) (without the batch dimension), e.g. input_shape=(224, 224, 3)."
                )
            shapes = graph_shapes
        if len(shapes) != len(graph_shapes) or any(len(a) != len(b) for a, b in zip(shapes, graph_shapes)):
            raise ValueError(
                f"input_shape {shapes if len(shapes) > 1 else shapes[0]} does not fit the model's inputs "
                f"{graph_shapes}; give one shape per input, without the batch dimension."
            )
        specs = [keras.KerasTensor((None,) + s, dtype=x.dtype) for s, x in zip(shapes, graph.inputs)]
        return graph, shapes, tree.pack_sequence_as(graph._inputs_struct, specs)
    # Subclassed model (or a Sequential whose layers could not form a graph).
    if shapes is None:
        recorded = getattr(model, "_build_shapes_dict", None) or {}
        candidates = list(recorded.values())
        if model.built and len(candidates) == 1 and isinstance(candidates[0], (tuple, list)):
            shapes = _normalize_input_shape(tuple(candidates[0])[1:])
        else:
            raise _unbuilt_error(model)
    dtype = getattr(model, "input_dtype", None) or "float32"
    specs = [keras.KerasTensor((None,) + s, dtype=dtype) for s in shapes]
    inputs = specs[0] if len(specs) == 1 else specs
    if not model.built:
        model(inputs)
    return model, shapes, inputs


def profile(model: Any, input_shape: tuple | list | None = None) -> Profile:
    """Parameters, MACs and elementwise ops of ``model`` for one image, layer by layer.

    Args:
        model: a built or unbuilt ``keras.Model`` (Functional, Sequential or subclassed).
        input_shape: input shape without the batch dimension, e.g. ``(224, 224, 3)`` (a list of shapes for a
            multi-input model). Needed when the model is not built or its inputs have unknown dimensions;
            an unbuilt model is built with it.

    Returns:
        A :class:`Profile`; ``.macs`` counts multiply-accumulates and ``.flops`` = 2 x ``.macs``.

    Raises:
        TypeError: ``model`` is not a Keras 3 model.
        ValueError: the input shape is unknown and ``input_shape`` was not given, or does not fit.

    Example::

        profile(keras.applications.ResNet50(weights=None)).macs   # ~3.87e9
    """
    graph, shapes, inputs = _prepare(model, input_shape)
    walker = _Walker()
    if graph is model and not isinstance(model, walker.Functional):
        _, raw = walker.expand_traced(model, (inputs,), {}, "")
    else:
        _, raw = walker.expand_functional(graph, (inputs,), {}, "")

    merged: dict[str, _Row] = {}
    for row in raw:
        if row.name in merged:  # a shared layer called again: add its cost, count its weights once
            merged[row.name].macs += row.macs
            merged[row.name].elementwise_ops += row.elementwise_ops
        else:
            merged[row.name] = _Row(**vars(row))
    total_macs = sum(row.macs for row in merged.values())
    layers = tuple(
        LayerCost(
            name=row.name,
            layer_type=row.layer_type,
            output_shape=row.output_shape,
            params=row.params,
            macs=int(row.macs),
            share=(row.macs / total_macs) if total_macs else 0.0,
            elementwise_ops=int(row.elementwise_ops),
        )
        for row in merged.values()
    )
    return Profile(
        model_name=model.name,
        input_shape=shapes[0] if len(shapes) == 1 else tuple(shapes),
        params=int(model.count_params()),
        macs=int(total_macs),
        elementwise_ops=int(sum(row.elementwise_ops for row in merged.values())),
        layers=layers,
    )


def compare(models: Mapping[str, Any] | Sequence[Any], input_shape: tuple | list | None = None) -> Comparison:
    """Profiles of several models side by side, with each model's MACs relative to the first.

    Args:
        models: a dict ``name -> keras.Model or Profile``, or a list of them (named by ``model.name`` /
            ``profile.model_name``).
        input_shape: passed to :func:`profile` for the models (not for ready-made profiles).

    Example::

        print(compare({"VGG16": vgg, "ResNet50": resnet}).to_text())
    """
    if isinstance(models, Mapping):
        items = list(models.items())
    elif isinstance(models, (list, tuple)):
        items = [(getattr(m, "model_name", None) or getattr(m, "name", None), m) for m in models]
    else:
        raise TypeError(
            f"compare expects a dict name -> model/Profile or a list of models/Profiles, got {type(models).__name__}."
        )
    if not items:
        raise ValueError("compare needs at least one model.")
    names, profiles = [], []
    for name, item in items:
        profiles.append(item if isinstance(item, Profile) else profile(item, input_shape))
        names.append(str(name if name is not None else profiles[-1].model_name))
    return Comparison(profiles=tuple(profiles), names=tuple(names))


def tf_profiler_flops(model: Any, input_shape: tuple | None = None) -> dict[str, int]:
    """FLOPs per TensorFlow op type from TensorFlow's own profiler, on the frozen graph of ``model`` (batch 1).

    The reference :func:`profile` is tested against: ``sum(v for k, v in result.items() if k in
    TF_MAC_OP_TYPES) == 2 * profile(model).macs``. It takes seconds (30 s for VGG-16), not milliseconds.
    TensorFlow backend only. Grouped convolutions run inside an XLA function the profiler cannot see.

    Example::

        flops = tf_profiler_flops(model); sum(v for k, v in flops.items() if k in TF_MAC_OP_TYPES)
    """
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"tf_profiler_flops needs the TensorFlow backend; Keras uses {keras.backend.backend()!r}.")
    graph, shapes, _ = _prepare(model, input_shape)
    if len(shapes) != 1:
        raise ValueError("tf_profiler_flops supports single-input models only.")
    dtype = graph.inputs[0].dtype if hasattr(graph, "inputs") else "float32"
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec((1,) + shapes[0], dtype))
    frozen = convert_variables_to_constants_v2(concrete)
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the profiler logs deprecation notices about its own v1 internals
    try:
        result = tf.compat.v1.profiler.profile(frozen.graph, cmd="op", options=options)
    finally:
        logger.setLevel(level)
    flops: dict[str, int] = {}
    stack = list(result.children)
    while stack:  # the "op" view nests op types one inside the other
        node = stack.pop()
        flops[node.name] = flops.get(node.name, 0) + int(node.float_ops)
        stack.extend(node.children)
    return flops
