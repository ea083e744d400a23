"""Gradient flow through depth: per-layer gradient norms of a Keras model, on any backend.

Notebook 07 plots ``||dL/dW||`` of every conv kernel over depth, for a plain net and its residual twin, at
initialisation and after a few training steps. Keras 3 has no backend-neutral ``grad``; :func:`loss_gradients` is
the one small switch over TensorFlow (``GradientTape``), JAX (``jax.grad`` of ``stateless_call``) and PyTorch
(``backward``).

Example::

    norms = kernel_gradient_norms(model, images, labels)   # [("conv1_conv", 0.41), ("conv2_block1_1_conv", ...)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np


def loss_gradients(model: keras.Model, images: Any, labels: Any, training: bool = True) -> list[np.ndarray]:
    """Gradients of the mean sparse cross-entropy w.r.t. ``model.trainable_variables``, as NumPy arrays.

    ``training=True`` runs BN on the batch statistics, as during training (on TensorFlow and PyTorch this also
    nudges BN's moving averages, which the gradient does not depend on).

    Example::

        grads = loss_gradients(model, x[:64], y[:64])     # one array per trainable variable
    """
    backend = keras.backend.backend()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    images = keras.ops.convert_to_tensor(np.asarray(images, dtype="float32"))
    labels = keras.ops.convert_to_tensor(np.asarray(labels))
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=training))
        grads = tape.gradient(loss, model.trainable_variables)
    elif backend == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(trainable: list[Any]) -> Any:
            predictions, _ = model.stateless_call(trainable, non_trainable, images, training=training)
            return loss_fn(labels, predictions)

        grads = jax.grad(loss_of)([v.value for v in model.trainable_variables])
    elif backend == "torch":
        for variable in model.trainable_variables:
            variable.value.grad = None
        loss = loss_fn(labels, model(images, training=training))
        loss.backward()
        grads = [variable.value.grad for variable in model.trainable_variables]
    else:
        raise NotImplementedError(f"loss_gradients supports the tensorflow, jax and torch backends, not {backend!r}.")
    return [keras.ops.convert_to_numpy(g) for g in grads]


def kernel_gradient_norms(
    model: keras.Model, images: Any, labels: Any, layer_types: Sequence[type] = (keras.layers.Conv2D,),
) -> list[tuple[str, float]]:
    """``(layer name, L2 norm of dL/d kernel)`` for every layer of ``layer_types``, in the model's layer order.

    Shortcut projections (1x1 convs named ``*_0_conv``) are left out, so the list follows the main path's depth.

    Example::

        depth_profile = [norm for _, norm in kernel_gradient_norms(model, x[:128], y[:128])]
    """
    grads = loss_gradients(model, images, labels)
    by_id = {id(v): g for v, g in zip(model.trainable_variables, grads)}
    norms = []
    for layer in model.layers:
        if not isinstance(layer, tuple(layer_types)) or layer.name.endswith("_0_conv"):
            continue
        kernel = layer.kernel
        norms.append((layer.name, float(np.linalg.norm(by_id[id(kernel)]))))
    if not norms:
        raise ValueError(f"{model.name} has no layer of type {[t.__name__ for t in layer_types]} to measure.")
    return norms
