"""Every private Keras (and TensorFlow) API the workshop code touches, in one place.

Keras 3 has no public API for walking a Functional graph node by node, for a layer's direct sublayers, or for
running a layer's ``call`` symbolically while watching which sublayers it calls. :mod:`workshop_utils.flops` and
:mod:`workshop_utils.receptive_field` need all three. They reach them through the small functions here, so a Keras
upgrade that renames an internal breaks this module, and its tests (``tests/test_keras_internals.py``), and
nothing else. Checked against Keras 3.15.1 (and 3.8, the floor in ``pyproject.toml``).

Example::

    from workshop_utils import _keras_internals as internals
    for node in internals.graph_nodes(model):
        print(node.operation.name)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "attention_projections",
    "build_input_shapes",
    "direct_sublayers",
    "efficientnet_factory",
    "freeze_tf_function",
    "functional_class",
    "graph_nodes",
    "inbound_nodes",
    "inputs_structure",
    "node_arguments",
    "own_variables",
    "recording_layer_calls",
    "sequential_graph",
    "source_layer",
    "symbolic_call",
]


def functional_class() -> type:
    """Keras' ``Functional`` model class (not exported: ``keras.Model(inputs, outputs)`` returns one).

    Example::

        isinstance(model, functional_class())
    """
    from keras.src.models.functional import Functional

    return Functional


def sequential_graph(model: Any) -> Any:
    """The Functional graph a built ``keras.Sequential`` keeps inside, or ``None`` before it is built.

    Example::

        graph = sequential_graph(keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)]))
    """
    return getattr(model, "_functional", None)


def graph_nodes(model: Any) -> Iterator[Any]:
    """The call nodes of a Functional model in dependency order (inputs first), input placeholders left out.

    Each node has ``.operation`` (a layer, a nested model, or a ``keras.ops`` operation such as the ``Add`` of
    ``x + shortcut``), ``.input_tensors`` and ``.outputs``. Unlike ``model.layers``, this includes ``keras.ops``
    nodes, so walking it never drops the layers after an ``ops.add``.

    Example::

        [node.operation.name for node in graph_nodes(model)]
    """
    by_depth = model._nodes_by_depth
    for depth in sorted(by_depth, reverse=True):
        for node in by_depth[depth]:
            if node.operation is not None and not node.is_input:
                yield node


def node_arguments(node: Any, tensors: dict[int, Any]) -> tuple[tuple, dict]:
    """The ``(args, kwargs)`` a node was called with, its symbolic inputs replaced by ``tensors[id(input)]``.

    Example::

        args, kwargs = node_arguments(node, {id(t): spec for t, spec in ...})
    """
    return node.arguments.fill_in(tensors)


def inputs_structure(model: Any) -> Any:
    """The nesting of a Functional model's inputs (a tensor, a list or a dict), to pack new inputs the same way.

    Example::

        keras.tree.pack_sequence_as(inputs_structure(model), specs)
    """
    return model._inputs_struct


def direct_sublayers(layer: Any) -> list[Any]:
    """The layers ``layer`` owns directly (attributes, lists), not their sublayers; ``[]`` for a plain layer.

    Example::

        [sub.name for sub in direct_sublayers(resnet_block)]
    """
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is None:
        return []
    return list(flatten(include_self=False, recursive=False))


def own_variables(layer: Any) -> list[Any]:
    """The variables ``layer`` created itself, not through its sublayers.

    Example::

        sum(math.prod(v.shape) for v in own_variables(layer))
    """
    own = list(getattr(layer, "_trainable_variables", []) or []) + list(
        getattr(layer, "_non_trainable_variables", []) or []
    )
    if not own and not direct_sublayers(layer):
        own = list(getattr(layer, "weights", []) or [])
    return own


def build_input_shapes(model: Any) -> list[Any]:
    """The input shapes (batch included) a subclassed model was built with, as recorded by Keras.

    Example::

        build_input_shapes(net)   # [(None, 32, 32, 3)]
    """
    return list((getattr(model, "_build_shapes_dict", None) or {}).values())


def symbolic_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on symbolic tensors (``keras.KerasTensor``) without data; returns the output specs.

    Example::

        symbolic_call(layer.call, keras.KerasTensor((None, 8, 8, 3)))
    """
    from keras.src import backend as keras_backend

    return keras_backend.compute_output_spec(fn, *args, **kwargs)


_CALL_LOCK = threading.RLock()


@contextlib.contextmanager
def recording_layer_calls(record: Callable[[Any, tuple, dict, Callable[[], Any]], Any]) -> Iterator[None]:
    """While active, every top-level ``Layer.__call__`` goes through ``record(layer, args, kwargs, call)``.

    ``call()`` runs the real call and returns its result; calls made inside it (a sublayer's sublayers) are not
    recorded. Keras has no hook for this, so ``keras.layers.Layer.__call__`` is replaced under a lock and restored
    afterwards: do not build models in another thread meanwhile.

    Example::

        with recording_layer_calls(lambda layer, args, kwargs, call: (seen.append(layer), call())[1]):
            symbolic_call(block.call, x)
    """
    import keras

    Layer = keras.layers.Layer
    original = Layer.__call__
    depth = [0]

    def recording_call(self_layer: Any, *call_args: Any, **call_kwargs: Any) -> Any:
        if depth[0] > 0:
            return original(self_layer, *call_args, **call_kwargs)

        def call() -> Any:
            depth[0] += 1
            try:
                return original(self_layer, *call_args, **call_kwargs)
            finally:
                depth[0] -= 1

        return record(self_layer, call_args, call_kwargs, call)

    with _CALL_LOCK:
        Layer.__call__ = recording_call
        try:
            yield
        finally:
            Layer.__call__ = original


def attention_projections(layer: Any) -> tuple[Any, Any, Any]:
    """The query, key and value projection layers (``EinsumDense``) of a ``MultiHeadAttention`` layer.

    Example::

        query, key, value = attention_projections(mha)
    """
    return layer._query_dense, layer._key_dense, layer._value_dense


def inbound_nodes(layer: Any) -> list[Any]:
    """The nodes where ``layer`` was called (one per call, in any model that uses it).

    Example::

        [tensor for node in inbound_nodes(layer) for tensor in node.input_tensors]
    """
    return list(getattr(layer, "_inbound_nodes", []) or [])


def source_layer(tensor: Any) -> Any:
    """The layer (or operation) that produced a symbolic tensor, or ``None`` for a graph input placeholder's source.

    Example::

        source_layer(model.get_layer("conv2").input).name   # "conv1"
    """
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history[0]


def freeze_tf_function(concrete_function: Any) -> Any:
    """A TensorFlow concrete function with its variables folded into constants (TensorFlow backend only).

    Example::

        frozen = freeze_tf_function(tf.function(model).get_concrete_function(spec))
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2(concrete_function)


def efficientnet_factory() -> Callable[..., Any]:
    """``keras.applications``' EfficientNet builder with free coefficients: ``(width_coefficient,
    depth_coefficient, default_size, ...)`` (only the fixed B0-B7 are exported).

    Example::

        efficientnet_factory()(1.1, 1.2, 258, weights=None, input_shape=(258, 258, 3))   # compound scaling, phi = 1
    """
    from keras.src.applications.efficientnet import EfficientNet

    return EfficientNet
