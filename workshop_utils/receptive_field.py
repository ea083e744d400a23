"""Receptive fields: how far each layer of a network sees, the arithmetic behind "3x3 vs 11x11".

:func:`receptive_fields` gives the receptive field, jump and start of every layer of a Keras model, or of a list
of ``(kernel, stride, dilation)`` specs. For each layer (per axis, height then width):

- **receptive field** ``r``: how many input pixels one output value depends on (along one axis);
- **jump** ``j``: how many input pixels apart two neighbouring output values are (the product of the strides);
- **start**: where the centre of the first output value's window lies, in input pixels, with the first input
  pixel's centre at 0.5 (so the image spans 0..width). A negative start means the window hangs over the
  zero padding.

With an effective kernel ``k' = dilation * (kernel - 1) + 1`` and ``p`` the padding added before the first
pixel, one layer maps ``(r, j, start)`` to
``(r + (k' - 1) * j,  j * stride,  start + ((k' - 1) / 2 - p) * j)``
(Dumoulin & Visin 2016, "A guide to convolution arithmetic"; Araujo et al. 2019, "Computing receptive fields
of convolutional neural networks", Distill). ``padding="same"`` pads as TensorFlow/Keras do: ``max((out - 1) *
stride + k' - n, 0)`` pixels in all, the smaller half before. :func:`format_fields` and
:func:`plot_receptive_fields` show the result; what stacking small kernels costs against one big kernel is
:mod:`workshop_utils.kernel_stacking`'s job.

Example::

    from workshop_utils.receptive_field import receptive_fields, format_fields
    print(format_fields(receptive_fields(keras.applications.VGG16(weights=None))))  # ... block5_pool 212
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

__all__ = ["FieldRow", "LayerSpec", "format_fields", "plot_receptive_fields", "receptive_fields"]

Pair = tuple[int, int]


@dataclass(frozen=True)
class LayerSpec:
    """One sliding-window layer described by numbers: what :func:`receptive_fields` needs to know about it.

    Attributes:
        kernel: window size (an int, or ``(height, width)``).
        stride: step between windows.
        dilation: gap between kernel taps (1 = a plain kernel).
        padding: ``"valid"`` (none), ``"same"`` (TensorFlow's rule) or an int of pixels added before the first
            pixel (and after the last).
        name: a label for tables; empty gives ``layer<i>``.
        layer_type: a label for tables, e.g. ``"Conv2D"``.

    Example::

        LayerSpec(11, stride=4, padding="valid", name="conv1")
    """

    kernel: int | Pair
    stride: int | Pair = 1
    dilation: int | Pair = 1
    padding: str | int = "same"
    name: str = ""
    layer_type: str = "Conv2D"


@dataclass(frozen=True)
class FieldRow:
    """The receptive field of one layer's outputs, per axis ``(height, width)``.

    Attributes:
        name: the layer's name.
        layer_type: its class name (``"Conv2D"``, ``"MaxPooling2D"``, ...).
        kernel, stride, dilation: the layer's window (``(1, 1)`` for layers without one).
        output_size: the output's spatial size, ``None`` where unknown (a spec list without ``input_size``, or a
            model with a flexible input size); ``(1, 1)`` after global pooling.
        receptive_field: input pixels one output value depends on.
        jump: input pixels between neighbouring outputs.
        start: centre of the first output's window, in input pixels (first pixel's centre at 0.5).

    Example::

        row = receptive_fields(model)[-1]; row.receptive_field  # (212, 212) for VGG-16's block5_pool
    """

    name: str
    layer_type: str
    kernel: Pair
    stride: Pair
    dilation: Pair
    output_size: Pair | None
    receptive_field: Pair
    jump: Pair
    start: tuple[float, float]

    @property
    def side(self) -> int:
        """The receptive field's larger side, e.g. ``212``: a one-number summary for square layers."""
        return max(self.receptive_field)


SpecLike = LayerSpec | Sequence[Any]


# --------------------------------------------------------------------------------------------------------------
# The arithmetic
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """State of one spatial axis while walking the layers."""

    field: int
    jump: int
    start: float
    size: int | None


def _pair(value: Any, what: str, minimum: int = 1) -> Pair:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int or a pair of ints, got {value!r}.")
    if isinstance(value, numbers.Integral):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{what} must be an int or a pair of ints (height, width), got {value!r}.")
    if min(pair) < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}.")
    return pair


def _window(axis: _Axis, kernel: int, stride: int, dilation: int, padding: str | int) -> _Axis:
    """Apply one sliding window (conv or pool) to one axis."""
    effective = dilation * (kernel - 1) + 1
    n = axis.size
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            before = 0
            out = None if n is None else (n - effective) // stride + 1
        elif mode == "same":
            out = None if n is None else -(-n // stride)
            # TensorFlow pads max((out - 1) * s + k' - n, 0) in all, the smaller half first. Without a known size
            # we assume n is a multiple of the stride, which gives k' - s.
            total = max(effective - stride, 0) if n is None else max((out - 1) * stride + effective - n, 0)
            before = total // 2
        else:
            raise ValueError(f"padding must be 'valid', 'same' or an int, got {padding!r}.")
    else:
        before = int(padding)
        if before < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}.")
        out = None if n is None else (n + 2 * before - effective) // stride + 1
    if out is not None and out < 1:
        raise ValueError(
            f"a {kernel}x{kernel} window (dilation {dilation}) does not fit a {n}-pixel input with padding "
            f"{padding!r}: use padding='same' or a larger input."
        )
    return _Axis(
        field=axis.field + (effective - 1) * axis.jump,
        jump=axis.jump * stride,
        start=axis.start + ((effective - 1) / 2 - before) * axis.jump,
        size=out,
    )


def _whole(axis: _Axis) -> _Axis:
    """Global pooling: one output that sees every position of its input."""
    if axis.size is None:
        raise ValueError(
            "the receptive field of a global pooling layer needs the input size; build the model with a fixed "
            "input shape."
        )
    return _Axis(
        field=axis.field + (axis.size - 1) * axis.jump,
        jump=axis.jump * axis.size,
        start=axis.start + (axis.size - 1) / 2 * axis.jump,
        size=1,
    )


def _row(name: str, kind: str, axes: tuple[_Axis, _Axis], kernel: Pair, stride: Pair, dilation: Pair) -> FieldRow:
    size = None if axes[0].size is None or axes[1].size is None else (axes[0].size, axes[1].size)
    return FieldRow(
        name=name, layer_type=kind, kernel=kernel, stride=stride, dilation=dilation, output_size=size,
        receptive_field=(axes[0].field, axes[1].field), jump=(axes[0].jump, axes[1].jump),
        start=(axes[0].start, axes[1].start),
    )


def _as_spec(item: SpecLike, index: int) -> LayerSpec:
    if isinstance(item, LayerSpec):
        return item
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 4:
        kernel, *rest = item
        stride = rest[0] if len(rest) > 0 else 1
        dilation = rest[1] if len(rest) > 1 else 1
        padding = rest[2] if len(rest) > 2 else "same"
        return LayerSpec(kernel, stride, dilation, padding, name=f"layer{index}")
    raise TypeError(
        f"layer {index}: expected a LayerSpec or a tuple (kernel, stride, dilation[, padding]), got {item!r}."
    )


def _spec_fields(specs: Sequence[SpecLike], input_size: int | Pair | None) -> list[FieldRow]:
    size = None if input_size is None else _pair(input_size, "input_size")
    axes = tuple(_Axis(1, 1, 0.5, None if size is None else size[i]) for i in range(2))
    rows = []
    for index, item in enumerate(specs, start=1):
        spec = _as_spec(item, index)
        kernel = _pair(spec.kernel, f"layer {index} kernel")
        stride = _pair(spec.stride, f"layer {index} stride")
        dilation = _pair(spec.dilation, f"layer {index} dilation")
        axes = tuple(_window(axes[i], kernel[i], stride[i], dilation[i], spec.padding) for i in range(2))
        rows.append(_row(spec.name or f"layer{index}", spec.layer_type, axes, kernel, stride, dilation))
    return rows


# Layers that slide a window over the input; everything else is either pointwise (passes the field through),
# global (sees the whole input), or refused.
_WINDOW_TYPES = (
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
)
_GLOBAL_TYPES = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")
_REFUSED_TYPES = ("Conv2DTranspose", "UpSampling2D", "Conv1D", "Conv3D", "Reshape", "Resizing")


def _layer_window(layer: Any) -> tuple[Pair, Pair, Pair, str | int]:
    def as_pair(value: Any, what: str) -> Pair:
        return _pair(tuple(value) if isinstance(value, (tuple, list)) else value, f"{layer.name} {what}")

    kernel = as_pair(getattr(layer, "kernel_size", None) or layer.pool_size, "kernel")
    stride = as_pair(getattr(layer, "strides", None) or kernel, "stride")
    dilation = as_pair(getattr(layer, "dilation_rate", 1), "dilation")
    return kernel, stride, dilation, layer.padding


def _model_fields(model: keras.Model, all_layers: bool) -> list[FieldRow]:
    import keras

    from workshop_utils import _keras_internals as internals
    from workshop_utils.flops.rules import _ELEMENTWISE_OPS

    model = internals.sequential_graph(model) or model
    inputs = list(model.inputs)
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ValueError(
            f"{model.name}: receptive_fields needs a model with one image input (batch, height, width, channels); "
            f"its inputs are {[tuple(t.shape) for t in inputs]}."
        )
    height, width = inputs[0].shape[1], inputs[0].shape[2]
    states: dict[int, tuple[_Axis, _Axis] | None] = {
        id(inputs[0]): (_Axis(1, 1, 0.5, height), _Axis(1, 1, 0.5, width))
    }
    rows: list[FieldRow] = []
    # The same walk as flops: graph nodes, not model.layers, which leaves out keras.ops nodes (x + shortcut,
    # ops.relu) and so would silently drop every layer after the first one.
    for node in internals.graph_nodes(model):
        layer = node.operation
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            raise ValueError(f"{layer.name}: channels_first layers are not supported; use channels_last.")
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):
            raise ValueError(
                f"{layer.name} is a nested model; receptive_fields walks one flat model. Pass the inner model "
                "itself, or rebuild it flat."
            )
        if not isinstance(layer, keras.layers.Layer):  # a keras.ops node
            if kind.lower() not in _ELEMENTWISE_OPS | {"concatenate", "cast"}:  # per-pixel ops pass the field
                raise ValueError(
                    f"{layer.name} (ops.{kind}): receptive_fields follows layers and elementwise keras.ops "
                    "(x + shortcut, ops.relu, ops.concatenate); use a layer for anything else."
                )
            kind = f"ops.{kind}"
        sources = [states.get(id(t), "absent") for t in node.input_tensors]
        if not sources or any(s == "absent" for s in sources):
            continue  # a branch that does not start at the image input (e.g. a constant)
        spatial = [s for s in sources if s is not None]
        if not spatial:  # after Flatten / global pooling: nothing spatial left, field already whole
            new, row = None, None
        else:
            if len({(a.jump, b.jump) for a, b in spatial}) > 1:
                raise ValueError(f"{layer.name} merges feature maps with different strides (jumps).")
            axes = max(spatial, key=lambda s: (s[0].field, s[1].field))
            ranks = {len(tensor.shape) for tensor in node.outputs}
            new, row = _layer_step(layer, kind, axes, ranks, all_layers)
        if row is not None:
            rows.append(row)
        for tensor in node.outputs:
            states[id(tensor)] = new
    return rows


def _layer_step(
    layer: Any, kind: str, axes: tuple[_Axis, _Axis], output_ranks: set[int], all_layers: bool
) -> tuple[tuple[_Axis, _Axis] | None, FieldRow | None]:
    """The state after ``layer`` and the row to report (None: not reported)."""
    one = (1, 1)
    if kind in _REFUSED_TYPES:
        raise ValueError(
            f"{layer.name} ({kind}): receptive_fields handles 2-D convolutions, pooling, padding and cropping; "
            f"upsampling, transposed and non-2-D layers are not supported."
        )
    if kind in _WINDOW_TYPES:
        kernel, stride, dilation, padding = _layer_window(layer)
        new = tuple(_window(axes[i], kernel[i], stride[i], dilation[i], padding) for i in range(2))
        return new, _row(layer.name, kind, new, kernel, stride, dilation)
    if kind == "Flatten":
        # Flattening moves values, it combines none: each element keeps its source's field. The Dense layer after
        # it combines all of them (its field is the whole input): from here on nothing spatial is left to follow.
        return None, None
    if kind in _GLOBAL_TYPES:
        new = (_whole(axes[0]), _whole(axes[1]))
        row = _row(layer.name, kind, new, one, one, one)
        return (new if getattr(layer, "keepdims", False) else None), row
    if kind in ("ZeroPadding2D", "Cropping2D"):
        (top, bottom), (left, right) = layer.padding if kind == "ZeroPadding2D" else layer.cropping
        sign = 1 if kind == "ZeroPadding2D" else -1
        new = tuple(
            _Axis(a.field, a.jump, a.start - sign * before * a.jump,
                  None if a.size is None else a.size + sign * (before + after))
            for a, (before, after) in zip(axes, ((top, bottom), (left, right)))
        )
        return new, _row(layer.name, kind, new, one, one, one)
    if output_ranks != {4}:
        # e.g. a Dense or Reshape on a spatial map that changes its rank: we cannot follow space any further
        raise ValueError(f"{layer.name} ({kind}) changes the feature map's rank; receptive_fields cannot follow it.")
    # pointwise or per-pixel layers (BatchNormalization, Activation, Add, Concatenate, Dense on the channels, ...)
    return axes, (_row(layer.name, kind, axes, one, one, one) if all_layers else None)


def receptive_fields(
    model_or_specs: keras.Model | Iterable[SpecLike],
    input_size: int | Pair | None = None,
    all_layers: bool = False,
) -> list[FieldRow]:
    """Receptive field, jump and start of every layer of a model, or of a list of layer specs.

    Args:
        model_or_specs: a Functional or Sequential ``keras.Model`` with one image input (channels last), or a
            list of :class:`LayerSpec` / tuples ``(kernel, stride, dilation[, padding])`` with padding
            ``"same"`` unless given.
        input_size: input height and width for a spec list (an int for square inputs); with it the rows carry
            output sizes and ``"same"`` padding is exact. A model's own input shape is used for models.
        all_layers: also list layers that leave the field unchanged (activations, batch norm, merges).

    Returns:
        One :class:`FieldRow` per sliding-window, padding, cropping or global-pooling layer, in model order (with
        ``all_layers``, per layer). ``Flatten`` and the layers after it are not listed: flattening combines no
        values, and the ``Dense`` layer after it sees every input pixel.

    Raises:
        TypeError: not a model or a list of specs.
        ValueError: unsupported layers (upsampling, transposed convs, nested models), or a window larger than
            its input.

    Example::

        receptive_fields([(3, 1, 1)] * 3)[-1].receptive_field   # (7, 7): three 3x3 convs see 7x7 pixels
    """
    try:
        import keras
    except ImportError:  # a spec list needs no Keras
        keras = None
    if keras is not None and isinstance(model_or_specs, keras.Model):
        if input_size is not None:
            raise ValueError("input_size is for spec lists; a model's input shape is read from the model.")
        if not model_or_specs.built or not getattr(model_or_specs, "inputs", None):
            raise ValueError(
                "receptive_fields needs a Functional or Sequential model with a known input; "
                "build it with keras.Input(shape=...) first."
            )
        return _model_fields(model_or_specs, all_layers)
    if isinstance(model_or_specs, (str, bytes)) or not isinstance(model_or_specs, Iterable):
        raise TypeError(
            "receptive_fields expects a keras.Model or a list of (kernel, stride, dilation) tuples, got "
            f"{type(model_or_specs).__name__}."
        )
    specs = list(model_or_specs)
    if not specs:
        raise ValueError("the list of layer specs is empty.")
    return _spec_fields(specs, input_size)


def _fmt_pair(pair: tuple[Any, Any] | None, fmt: str = "{}") -> str:
    if pair is None:
        return "?"
    if pair[0] == pair[1]:
        return fmt.format(pair[0])
    return f"{fmt.format(pair[0])}x{fmt.format(pair[1])}"


def format_fields(rows: Sequence[FieldRow], title: str | None = None) -> str:
    """A fixed-width table of :func:`receptive_fields` rows (one number where height and width agree).

    Example::

        print(format_fields(receptive_fields(model), title="VGG-16"))
    """
    if not rows:
        raise ValueError("no rows to format: receptive_fields returned nothing for this model.")
    header = ("layer", "type", "kernel", "stride", "output", "receptive field", "jump", "start")
    body = [
        (
            row.name, row.layer_type, _fmt_pair(row.kernel), _fmt_pair(row.stride),
            _fmt_pair(row.output_size), _fmt_pair(row.receptive_field), _fmt_pair(row.jump),
            _fmt_pair(row.start, "{:g}"),
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    right = set(range(2, len(header)))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines = ([title] if title else []) + [line(header), "-" * len(line(header))] + [line(r) for r in body]
    return "\n".join(lines)


def plot_receptive_fields(models: dict[str, Sequence[FieldRow]], log: bool = False) -> Figure:
    """Receptive field (pixels, height axis) after each layer, one line per model, layers named on the x axis.

    Args:
        models: ``{label: rows}`` from :func:`receptive_fields`.
        log: a log scale for the field (useful when one model sees far more than another).

    Example::

        plot_receptive_fields({"VGG-16": receptive_fields(vgg16), "AlexNet": receptive_fields(alexnet)})
    """
    import matplotlib.pyplot as plt

    if not models or any(not rows for rows in models.values()):
        raise ValueError("give at least one model with at least one row: {label: receptive_fields(model)}.")
    longest = max(len(rows) for rows in models.values())
    fig, ax = plt.subplots(figsize=(min(2.5 + 0.42 * longest, 12), 4.2))
    for index, (label, rows) in enumerate(models.items()):
        depth = list(range(1, len(rows) + 1))
        fields = [row.receptive_field[0] for row in rows]
        ax.plot(depth, fields, marker="o", ms=4, color=f"C{index}", label=label)
        last = rows[-1]
        ax.annotate(f"{last.receptive_field[0]} px", (depth[-1], fields[-1]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8, color=f"C{index}")
        pools = [i + 1 for i, row in enumerate(rows) if "Pool" in row.layer_type]
        ax.scatter(pools, [fields[i - 1] for i in pools], marker="s", s=36, facecolors="none",
                   edgecolors=f"C{index}")
    if len(models) == 1:
        rows = next(iter(models.values()))
        ax.set_xticks(range(1, len(rows) + 1), [row.name for row in rows], rotation=60, ha="right", fontsize=7)
        ax.set_xlabel("layer (squares: pooling)")
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer index from the input (squares: pooling layers)")
    ax.set_xlim(0.5, longest + 1.5)  # room for the last label
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("receptive field (input pixels, one side)")
    ax.set_title("How far one output value sees, layer by layer")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
