"""Walking a Keras 3 model to count it: one call of each layer (or ``keras.ops`` node) at a time, with shapes.

The walk follows the Functional graph node by node (:func:`workshop_utils._keras_internals.graph_nodes`, the same
walk :mod:`workshop_utils.receptive_field` uses), so ``keras.ops`` nodes such as ``x + shortcut`` are seen; nested
models are walked recursively, and custom layers or subclassed models are traced symbolically to find the
sublayers they call. Each call becomes a row from :mod:`workshop_utils.flops.rules`.

Example::

    graph, shapes, inputs = prepare(model, None); rows = Walker().walk_model(graph, model, inputs)
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from workshop_utils import _keras_internals as internals
from workshop_utils.flops.rules import (
    _ELEMENTWISE_OPS,
    _REDUCTION_OPS,
    ZERO_COST_OPS,
    CostFunction,
    UncountedLayerWarning,
    _call_registered,
    _einsum_contracted,
    _leaf_cost,
    _registered_cost,
    _size,
    _tensordot_contracted,
)

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
    return internals.own_variables(layer)


def _sublayers(layer: Any) -> list[Any]:
    return internals.direct_sublayers(layer)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this package (the notebook cell)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("workshop_utils.flops"):
        frame, level = frame.f_back, level + 1
    return level


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


class Walker:
    """Propagates symbolic tensors through a model and records one :class:`_Row` per layer call.

    Example::

        graph, shapes, inputs = prepare(model, None); rows = Walker().walk_model(model, graph, inputs)
    """

    def __init__(self) -> None:
        import keras

        self.keras = keras
        self.Functional = internals.functional_class()
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
            stacklevel=_caller_stacklevel(),
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
            graph = internals.sequential_graph(layer)
            if graph is not None:
                return self.expand_functional(graph, args, kwargs, path + "/")
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
        for node in internals.graph_nodes(model):
            if any(id(x) not in tensors for x in node.input_tensors):
                continue
            node_args, node_kwargs = internals.node_arguments(node, tensors)
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
        calls: list[list[Any]] = []

        def record(sublayer: Any, call_args: tuple, call_kwargs: dict, call: Any) -> Any:
            entry = [sublayer, self._to_specs(call_args), self._to_specs(call_kwargs), None]
            calls.append(entry)
            result = call()
            entry[3] = self._flat_tensors(self._to_specs(result))
            return result

        with internals.recording_layer_calls(record):
            outputs = internals.symbolic_call(layer.call, *args, **kwargs)
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
        query_dense, key_dense, value_dense = internals.attention_projections(layer)
        query = projected[id(query_dense)]  # (B, Tq..., heads, key_dim)
        key = projected[id(key_dense)]  # (B, Tk..., heads, key_dim)
        value = projected[id(value_dense)]  # (B, Tk..., heads, value_dim)
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


def prepare(model: Any, input_shape: Any) -> tuple[Any, list[tuple], Any]:
    """(the model to walk, input shapes without batch, inputs structure of KerasTensors); builds if needed.

    Example::

        graph, shapes, inputs = prepare(model, (32, 32, 3))
    """
    import keras
    from keras import tree

    Functional = internals.functional_class()

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"profile expects a keras.Model (Keras 3: Functional, Sequential or subclassed), got "
            f"{type(model).__module__}.{type(model).__qualname__}. Wrap a single layer in a model, e.g. "
            "keras.Sequential([keras.Input(shape), layer])."
        )
    shapes = None if input_shape is None else _normalize_input_shape(input_shape)
    graph = model
    if isinstance(model, keras.Sequential):
        if internals.sequential_graph(model) is None:
            if shapes is None:
                raise _unbuilt_error(model)
            if len(shapes) != 1:
                raise ValueError(f"A Sequential model has one input; got {len(shapes)} input shapes.")
            model.build((None,) + shapes[0])
        graph = internals.sequential_graph(model) or model
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
        return graph, shapes, tree.pack_sequence_as(internals.inputs_structure(graph), specs)
    # Subclassed model (or a Sequential whose layers could not form a graph).
    if shapes is None:
        candidates = internals.build_input_shapes(model)
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




def walk_model(model: Any, graph: Any, inputs: Any) -> list[_Row]:
    """Rows of every layer call of ``model`` (``graph`` and ``inputs`` from :func:`prepare`), in model order.

    Example::

        rows = walk_model(model, *prepare(model, None)[::2])
    """
    walker = Walker()
    if graph is model and not isinstance(model, walker.Functional):
        return walker.expand_traced(model, (inputs,), {}, "")[1]
    return walker.expand_functional(graph, (inputs,), {}, "")[1]


_Walker = Walker  # the name before the package split
