"""Gradient flow through depth: per-layer gradient norms of a Keras model, on any backend.

Notebook 07 plots ``||dL/dW||`` of every conv kernel over depth, for a plain net and its residual twin, at
initialisation and after a few training steps. Keras 3 has no backend-neutral ``grad``; :func:`gradients` is the
one small switch over TensorFlow (``GradientTape``), JAX (``jax.grad``) and PyTorch (``backward``), used by
:func:`loss_gradients` here and by :mod:`workshop_utils.gradcam`.

Two knobs of notebook 07 live here too: :func:`depth_sweep` and :func:`plot_depth_sweep` (gradient norm against
depth at initialisation, plain against residual, for a depth slider), and :func:`plot_shortcut_scaling` (what a
constant scale lambda on every shortcut does to the gradient the shortcuts carry: lambda to the power of the blocks
it crosses).

Example::

    norms = kernel_gradient_norms(model, images, labels)   # [("conv1_conv", 0.41), ("conv2_block1_1_conv", ...)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np


def gradients(fn: Callable[[list[Any]], Any], arguments: Sequence[Any]) -> list[Any]:
    """Gradients of the scalar ``fn(arguments)`` with respect to each of ``arguments``: the one backend switch.

    TensorFlow records ``fn`` on a ``GradientTape``; JAX takes ``jax.grad(fn)``; PyTorch runs ``backward`` from
    the value. ``arguments`` are backend tensors or the values of Keras variables (``variable.value``); on
    TensorFlow and PyTorch ``fn`` may read the variables themselves instead of its argument, on JAX it must use
    its argument (``jax.grad`` differentiates the function, not a recording). Returns backend tensors.

    Example::

        (grad,) = gradients(lambda args: keras.ops.sum(args[0] ** 2), [keras.ops.ones((3,))])   # 2, 2, 2
    """
    backend = keras.backend.backend()
    arguments = list(arguments)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(arguments)
            value = fn(arguments)
        return list(tape.gradient(value, arguments))
    if backend == "jax":
        import jax

        return list(jax.grad(fn)(arguments))
    if backend == "torch":
        leaves = [a if a.is_leaf and a.requires_grad else a.detach().requires_grad_(True) for a in arguments]
        for leaf in leaves:
            leaf.grad = None
        fn(leaves).backward()
        return [leaf.grad for leaf in leaves]
    raise NotImplementedError(f"gradients supports the tensorflow, jax and torch backends, not {backend!r}.")


def loss_gradients(model: keras.Model, images: Any, labels: Any, training: bool = True) -> list[np.ndarray]:
    """Gradients of the mean sparse cross-entropy w.r.t. ``model.trainable_variables``, as NumPy arrays.

    ``training=True`` runs BN on the batch statistics, as during training (on TensorFlow and PyTorch this also
    nudges BN's moving averages, which the gradient does not depend on).

    Example::

        grads = loss_gradients(model, x[:64], y[:64])     # one array per trainable variable
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    images = keras.ops.convert_to_tensor(np.asarray(images, dtype="float32"))
    labels = keras.ops.convert_to_tensor(np.asarray(labels))
    if keras.backend.backend() == "jax":   # jax.grad needs a pure function of the weights
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(trainable: list[Any]) -> Any:
            predictions, _ = model.stateless_call(trainable, non_trainable, images, training=training)
            return loss_fn(labels, predictions)
    else:                                  # TensorFlow and PyTorch differentiate through the variables themselves
        def loss_of(trainable: list[Any]) -> Any:
            return loss_fn(labels, model(images, training=training))

    grads = gradients(loss_of, [v.value for v in model.trainable_variables])
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


def cifar_depths(max_depth: int = 56) -> list[int]:
    """The depths 6n + 2 of the paper's CIFAR nets (three stages of n basic blocks), up to ``max_depth``.

    Example::

        cifar_depths(56)     # [8, 14, 20, 26, 32, 38, 44, 50, 56]
    """
    if max_depth < 8:
        raise ValueError(f"max_depth must be at least 8 (n = 1 block per stage), got {max_depth}.")
    return [6 * n + 2 for n in range(1, (max_depth - 2) // 6 + 1)]


def depth_sweep(
    depths: Sequence[int], images: Any, labels: Any, classes: int = 10, seed: int = 0,
) -> dict[int, dict[str, list[tuple[str, float]]]]:
    """Per-layer ``||dL/dW||`` at initialisation of a plain CIFAR net and its residual twin, at each depth.

    Both nets are ``resnet(depth, stem="cifar")`` (:func:`workshop_utils.architectures.resnet.resnet`: 16-32-64
    filters, ``n`` basic blocks per stage, depth ``6n + 2``), built right after
    ``keras.utils.set_random_seed(seed)``: ``"none"`` (plain) and ``"identity_pad"`` (the paper's option A, same
    parameters), as notebook 07's section 1 builds them. One gradient per net on ``images`` (scaled to [0, 1]) and
    ``labels``.

    Returns:
        ``{depth: {"plain{depth}": rows, "resnet{depth}": rows}}``, rows as :func:`kernel_gradient_norms` gives.

    Example::

        sweep = depth_sweep([8, 20], images[:32], labels[:32])
    """
    from workshop_utils.architectures.resnet import resnet

    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (batch, height, width, channels), got shape {images.shape}.")
    sweep: dict[int, dict[str, list[tuple[str, float]]]] = {}
    for depth in depths:
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, ...), got {depth}.")
        pair = {}
        for kind, shortcut in (("plain", "none"), ("resnet", "identity_pad")):
            keras.utils.set_random_seed(seed)
            model = resnet(depth, stem="cifar", input_shape=images.shape[1:], classes=classes, shortcut=shortcut)
            pair[f"{kind}{depth}"] = kernel_gradient_norms(model, images, labels)
            del model
        sweep[depth] = pair
    return sweep


def input_to_output_ratio(rows: Sequence[tuple[str, float]]) -> float:
    """First conv's gradient norm over the last conv's: above 1, the gradient grows towards the input.

    Example::

        input_to_output_ratio([("conv1", 4.0), ("conv2", 2.0)])    # 2.0
    """
    if not rows:
        raise ValueError("no gradient norms given.")
    return rows[0][1] / rows[-1][1]


def plot_depth_sweep(sweep: dict[int, dict[str, list[tuple[str, float]]]], depth: int):  # -> Figure
    """Two panels: the per-layer gradient norms at ``depth`` (plain dashed, residual solid), and the first/last
    conv ratio against the network's depth for every depth in ``sweep``, ``depth`` marked.

    Example::

        plot_depth_sweep(depth_sweep([8, 20], images, labels), 20)
    """
    import matplotlib.pyplot as plt

    if depth not in sweep:
        raise ValueError(f"depth {depth} is not in the sweep; measured: {sorted(sweep)}.")
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    for name, rows in sweep[depth].items():
        plain = name.startswith("plain")
        left.semilogy(np.arange(1, len(rows) + 1), [norm for _, norm in rows], "--" if plain else "-",
                      color="C3" if plain else "C0", marker=".", label=name)
    left.set(xlabel="conv layer (1 = next to the input)", ylabel="||dL/dW|| (log)",
             title=f"Depth {depth} at initialisation")
    left.legend(fontsize=9)
    depths = sorted(sweep)
    for kind, style, colour in (("plain", "--", "C3"), ("resnet", "-", "C0")):
        ratios = [input_to_output_ratio(sweep[d][f"{kind}{d}"]) for d in depths]
        right.semilogy(depths, ratios, style, color=colour, marker="o", label=kind)
        right.semilogy([depth], [input_to_output_ratio(sweep[depth][f"{kind}{depth}"])], "o", color=colour,
                       markersize=11, markerfacecolor="none")
    right.axhline(1.0, color="grey", linewidth=0.8)
    right.set(xlabel="network depth (weighted layers)", ylabel="first conv / last conv (log)",
              title="Gradient growth towards the input")
    right.legend(fontsize=9)
    figure.tight_layout()
    return figure


def plot_shortcut_scaling(scale: float, blocks: int):  # -> Figure
    """The gradient the shortcuts alone carry from the output back to block ``l``: ``scale ** (blocks - l)``.

    With ``x_{l+1} = scale * x_l + F(x_l)`` (Identity Mappings, section 3.1, constant scaling), the term of
    ``dL/dx_l`` that skips every residual branch is ``dL/dx_L`` times ``scale`` once per block crossed. Drawn for
    ``scale`` (thick) against 0.5, 0.9, 1 and 1.1 (thin), over ``blocks`` blocks (9 in ResNet-20, 54 in the
    paper's ResNet-110).

    Example::

        plot_shortcut_scaling(0.5, 54)     # the paper's 0.5/0.5 row on ResNet-110: 0.5 ** 54 ~ 5.6e-17
    """
    import matplotlib.pyplot as plt

    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}.")
    if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
        raise ValueError(f"blocks must be a positive integer, got {blocks!r}.")
    block_index = np.arange(blocks + 1)
    figure, axis = plt.subplots(figsize=(9, 3.4))
    for reference in (0.5, 0.9, 1.0, 1.1):
        if not np.isclose(reference, scale):
            axis.semilogy(block_index, reference ** (blocks - block_index), color="grey", linewidth=0.8)
            axis.annotate(f"{reference:g}", (0, reference**blocks), textcoords="offset points", xytext=(-18, -3),
                          fontsize=8, color="grey")
    gain = scale ** (blocks - block_index)
    axis.semilogy(block_index, gain, color="C3" if scale < 1 else "C0", linewidth=2.5, label=f"lambda = {scale:g}")
    axis.set(xlabel="block l (0 = the first block's input, right = the output)",
             ylabel="shortcut gradient factor (log)",
             title=f"lambda^L on the shortcut path: {scale:g}^{blocks} = {scale ** blocks:.3g} at the first block")
    axis.legend(fontsize=9, loc="lower right")
    figure.tight_layout()
    return figure
