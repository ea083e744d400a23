"""TensorFlow's own profiler as the reference :func:`workshop_utils.flops.profile` is tested against.

Example::

    flops = tf_profiler_flops(model); sum(v for k, v in flops.items() if k in TF_MAC_OP_TYPES)
"""

from __future__ import annotations

from typing import Any

from workshop_utils import _keras_internals as internals
from workshop_utils.flops.walker import prepare

__all__ = ["TF_MAC_OP_TYPES", "tf_profiler_flops"]

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


def tf_profiler_flops(model: Any, input_shape: tuple | None = None) -> dict[str, int]:
    """FLOPs per TensorFlow op type from TensorFlow's own profiler, on the frozen graph of ``model`` (batch 1).

    The reference :func:`profile` is tested against: ``sum(v for k, v in result.items() if k in
    TF_MAC_OP_TYPES) == 2 * profile(model).macs``. It takes seconds (30 s for VGG-16), not milliseconds.
    TensorFlow backend only. Grouped convolutions run inside an XLA function the profiler cannot see.

    Example::

        flops = tf_profiler_flops(model); sum(v for k, v in flops.items() if k in TF_MAC_OP_TYPES)
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"tf_profiler_flops needs the TensorFlow backend; Keras uses {keras.backend.backend()!r}.")
    import tensorflow as tf  # only now: on JAX or PyTorch TensorFlow may not be installed at all
    graph, shapes, _ = prepare(model, input_shape)
    if len(shapes) != 1:
        raise ValueError("tf_profiler_flops supports single-input models only.")
    dtype = graph.inputs[0].dtype if hasattr(graph, "inputs") else "float32"
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec((1,) + shapes[0], dtype))
    frozen = internals.freeze_tf_function(concrete)
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

