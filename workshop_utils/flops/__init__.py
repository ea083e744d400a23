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
  The custom layers of ``keras.applications`` (:data:`APPLICATION_LAYER_OPS`): ConvNeXt's LayerScale 1,
  StochasticDepth 0 (the identity at inference), Inception-ResNet-v2's CustomScaleLayer 2. With them, the
  smallest model of every ``keras.applications`` family is counted with no warning (``tests/test_flops.py``).

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
  are seen: a ``keras.ops`` expression there is not counted (symbolic tracing does not expose it). If such a layer
  does matrix products of its own, declare its whole cost with :func:`register_cost` (which replaces the tracing).
* ``layers.Dot`` and the graph ops ``ops.dot``, ``ops.tensordot`` and ``ops.einsum``: output elements x the
  size of the contracted dimensions.

**No silent zeros.** Only the layers and ops in :data:`ZERO_COST_LAYERS` / :data:`ZERO_COST_OPS` (reshape,
transpose/permute, flatten, padding/cropping, dropout and noise, identity, nearest upsampling, slicing) cost
nothing by design. Any other layer or op whose cost is unknown -- a ``Lambda``, bilinear ``UpSampling2D``, an LSTM,
a custom layer doing its own ``ops.matmul`` -- is counted as 0 MACs **with a warning**
(:class:`UncountedLayerWarning`) naming it. Declare its cost with :func:`register_cost` and the warning goes away::

    flops.register_cost(MyShuffle, lambda layer, input_shapes, output_shapes: 0)

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

from collections.abc import Mapping, Sequence
from typing import Any

from workshop_utils.flops.report import Comparison, LayerCost, Profile, format_count
from workshop_utils.flops.rules import (
    APPLICATION_LAYER_OPS,
    LIBRARY_LAYER_COSTS,
    ZERO_COST_LAYERS,
    ZERO_COST_OPS,
    CostFunction,
    UncountedLayerWarning,
    register_cost,
    unregister_cost,
)
from workshop_utils.flops.tf_profiler import TF_MAC_OP_TYPES, tf_profiler_flops
from workshop_utils.flops.walker import _Row, prepare, walk_model

__all__ = [
    "LayerCost",
    "Profile",
    "Comparison",
    "CostFunction",
    "UncountedLayerWarning",
    "TF_MAC_OP_TYPES",
    "APPLICATION_LAYER_OPS",
    "LIBRARY_LAYER_COSTS",
    "ZERO_COST_LAYERS",
    "ZERO_COST_OPS",
    "register_cost",
    "unregister_cost",
    "profile",
    "compare",
    "format_count",
    "tf_profiler_flops",
]


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
    graph, shapes, inputs = prepare(model, input_shape)
    raw = walk_model(model, graph, inputs)

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


