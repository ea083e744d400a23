"""Grad-CAM (Selvaraju et al., ICCV 2017, arXiv:1610.02391): which pixels a trained net's class score depends on.

Take a layer's feature maps ``A`` (channels ``k``) and a class score ``y_c`` (before the softmax). Each channel is
weighted by how much the score rises with it, ``alpha_k = mean over positions of dy_c / dA_k``, and the map is
``ReLU(sum_k alpha_k A_k)``: positions whose features push the score up. It is as sharp as the layer is fine, so
pick the finest layer that every path to the score passes through.

The gradient comes from :func:`workshop_utils.gradient_flow.gradients`, the library's one backend switch, so this
runs on TensorFlow, JAX and PyTorch alike. The model is cut at the layer into two Keras models (features, then the
rest), which works for any layer whose output every path to the scores crosses.

Example::

    maps = grad_cam(model, images, "conv3_block1_out")   # maps.heatmaps: (images, 16, 16), each scaled to [0, 1]
    plot_grad_cam(images, maps, labels, class_names)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops


@dataclass(frozen=True)
class GradCam:
    """Grad-CAM maps for a batch of images.

    Attributes:
        heatmaps: ``(images, height, width)`` at the layer's resolution, each scaled so its maximum is 1 (an
            all-zero map stays zero: no position raised the score).
        classes: the class each map explains (the predicted one unless given).
        predicted: the model's predicted class per image.
        probabilities: the model's probability of ``classes`` per image.
        layer: the layer the maps were taken at.
    """

    heatmaps: np.ndarray
    classes: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    layer: str


def split_at(model: keras.Model, layer_name: str, scores_layer: str | None = None) -> tuple[keras.Model, keras.Model]:
    """``(features, head)``: the model cut after ``layer_name``; ``head(features(x))`` gives the class scores.

    The scores are the output of ``scores_layer``; by default the input of the model's last layer when that is a
    softmax ``Activation`` (the logits), else the model's output.

    Example::

        features, head = split_at(model, "conv3_block1_out")
    """
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise ValueError(f"{model.name} has no layer {layer_name!r}; its layers: "
                         f"{', '.join(layer.name for layer in model.layers)}.") from None
    if scores_layer is not None:
        scores = model.get_layer(scores_layer).output
    elif isinstance(model.layers[-1], keras.layers.Activation):
        scores = model.layers[-1].input
    else:
        scores = model.output
    features = keras.Model(model.input, layer.output, name=f"{model.name}_to_{layer_name}")
    try:
        head = keras.Model(layer.output, scores, name=f"{model.name}_from_{layer_name}")
    except ValueError as error:
        raise ValueError(f"cannot cut {model.name} at {layer_name!r}: some path to the scores skips it. Pick a "
                         f"layer every path crosses (a block's output). Keras said: {error}") from None
    return features, head


def grad_cam(model: keras.Model, images: np.ndarray, layer_name: str, classes: Sequence[int] | None = None,
             scores_layer: str | None = None) -> GradCam:
    """Grad-CAM maps of ``images`` at ``layer_name``, for ``classes`` (default: each image's predicted class).

    Args:
        model: a trained functional Keras model.
        images: a batch as the model takes it (floats, already scaled).
        layer_name: the feature maps to explain; every path from it to the scores must cross it.
        classes: one class index per image; ``None`` explains the predicted class.
        scores_layer: the layer that gives the class scores before the softmax (see :func:`split_at`).

    Example::

        cam = grad_cam(model, x_test[:8], "conv3_block1_out")
    """
    from workshop_utils.gradient_flow import gradients

    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (images, height, width, channels), got shape {images.shape}.")
    features, head = split_at(model, layer_name, scores_layer)
    maps = features(images, training=False)
    scores = ops.convert_to_numpy(head(maps, training=False))
    predicted = np.argmax(scores, axis=-1)
    chosen = predicted if classes is None else np.asarray(classes, dtype=int)
    if chosen.shape != predicted.shape or chosen.min() < 0 or chosen.max() >= scores.shape[-1]:
        raise ValueError(f"classes needs one index in [0, {scores.shape[-1]}) per image ({len(images)}), got "
                         f"{list(np.asarray(classes))}.")
    one_hot = ops.convert_to_tensor(np.eye(scores.shape[-1], dtype="float32")[chosen])

    def chosen_scores(arguments: list[Any]) -> Any:   # the sum over images: each image's score depends on its maps only
        return ops.sum(head(arguments[0], training=False) * one_hot)

    (grads,) = gradients(chosen_scores, [maps])
    grads, maps = ops.convert_to_numpy(grads), ops.convert_to_numpy(maps)
    weights = grads.mean(axis=(1, 2))                                   # alpha_k per image: (images, channels)
    heatmaps = np.maximum(np.einsum("nhwk,nk->nhw", maps, weights), 0.0)
    peaks = heatmaps.max(axis=(1, 2), keepdims=True)
    heatmaps = np.divide(heatmaps, peaks, out=np.zeros_like(heatmaps), where=peaks > 0)
    probabilities = ops.convert_to_numpy(ops.softmax(ops.convert_to_tensor(scores), axis=-1))
    return GradCam(heatmaps, chosen, predicted, probabilities[np.arange(len(chosen)), chosen], layer_name)


def plot_grad_cam(images: np.ndarray, cam: GradCam, labels: Sequence[int], class_names: Sequence[str],
                  titles: Sequence[str] | None = None, cols: int = 4):  # -> Figure
    """Each image with its Grad-CAM map over it (bilinear to the image's size); above it the true class, the class
    explained (the prediction unless chosen) and its probability, and ``titles`` if given.

    Example::

        plot_grad_cam(x_test[:8], grad_cam(model, x_test[:8], "conv3_block1_out"), y_test[:8], names)
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if len(images) != len(cam.heatmaps) or len(labels) != len(images):
        raise ValueError(f"{len(images)} images, {len(cam.heatmaps)} maps and {len(labels)} labels: give one each.")
    rows = -(-len(images) // cols)
    figure, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.7 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        height, width = image.shape[:2]
        axis.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        axis.imshow(cam.heatmaps[index], cmap="jet", alpha=0.45, interpolation="bilinear", vmin=0.0, vmax=1.0,
                    extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        explained = class_names[cam.classes[index]]
        mark = "" if cam.classes[index] == labels[index] else " (wrong)"
        prefix = f"{titles[index]}\n" if titles is not None else ""
        axis.set_title(f"{prefix}true {class_names[labels[index]]}, said {explained} "
                       f"{cam.probabilities[index]:.0%}{mark}", fontsize=8)
    figure.suptitle(f"Grad-CAM at {cam.layer}: red = where the class score rises with the features", fontsize=10)
    figure.tight_layout()
    return figure
