"""Figures the notebooks share: training curves, image grids, filters and feature maps, model comparisons,
per-layer cost, and an architecture drawing that works without graphviz.

Every function returns the matplotlib ``Figure`` (so tests and notebooks can inspect or save it) and labels its
axes with units.

Example::

    fig = plot_history(result)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

if TYPE_CHECKING:
    import keras

    from workshop_utils.flops import Profile

_METRIC_LABELS = {
    "loss": "loss (cross-entropy, nats)",
    "accuracy": "accuracy (fraction correct)",
}


def _history_dict(run: Any) -> dict[str, list[float]]:
    """Accept a TrainResult, a keras History or a plain dict of metric lists."""
    if hasattr(run, "history") and isinstance(run.history, Mapping):
        return dict(run.history)
    if isinstance(run, Mapping):
        return dict(run)
    raise TypeError(
        f"expected a TrainResult, a keras History or a dict of metric lists, got {type(run).__name__}."
    )


def plot_history(runs: Any, metrics: Sequence[str] = ("loss", "accuracy")) -> Figure:
    """Training (solid) and validation (dashed) curves per epoch, one panel per metric.

    The dashed curves are Keras' ``val_*`` logs: with :func:`workshop_utils.training.train_classifier` they come
    from the validation split held out of the training images, never from the test split.

    Args:
        runs: one run (TrainResult, keras History, dict) or a mapping ``{label: run}`` to overlay several.
        metrics: metric names as Keras logs them.

    Example::

        plot_history({"VGG-style": vgg_result, "AlexNet-style": alex_result})
    """
    if isinstance(runs, Mapping) and runs and all(not isinstance(v, (list, tuple)) for v in runs.values()):
        labelled = {str(k): _history_dict(v) for k, v in runs.items()}
    else:
        labelled = {"": _history_dict(runs)}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for index, (label, history) in enumerate(labelled.items()):
            colour = f"C{index}"
            prefix = f"{label} " if label else ""
            for key, style, what in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                values = history.get(key)
                if values:
                    epochs = np.arange(1, len(values) + 1)
                    ax.plot(epochs, values, style, color=colour, marker="o", ms=3, label=f"{prefix}{what}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(_METRIC_LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_images(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    predictions: Sequence[int] | np.ndarray | None = None,
    cols: int = 10,
    size: float = 1.3,
) -> Figure:
    """A grid of images with their class names; with ``predictions``, wrong ones are titled in red.

    Example::

        show_images(data.x_train[:20], data.y_train[:20], data.class_names)
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images shaped (N, H, W) or (N, H, W, C), got {images.shape}.")
    count = len(images)
    rows = max(1, math.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * (size + 0.25)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        image = images[index]
        ax.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 or image.shape[-1] == 1 else None)
        if labels is None:
            continue
        name = class_names[labels[index]] if class_names is not None else str(labels[index])
        colour = "black"
        if predictions is not None:
            guess = class_names[predictions[index]] if class_names is not None else str(predictions[index])
            colour = "black" if predictions[index] == labels[index] else "red"
            name = name if colour == "black" else f"{guess}\n(is {name})"
        ax.set_title(name, fontsize=8, color=colour)
    fig.tight_layout()
    return fig


def _layer(model: keras.Model, layer_name: str) -> Any:
    try:
        return model.get_layer(layer_name)
    except ValueError:
        names = [layer.name for layer in model.layers]
        raise ValueError(f"{model.name} has no layer {layer_name!r}; its layers are: {', '.join(names)}") from None


def plot_filters(model: keras.Model, layer_name: str, max_filters: int = 32, cols: int = 8) -> Figure:
    """The kernels of a convolution layer, one small image per filter.

    A ``Conv2D`` reading 3 channels is drawn in colour (each kernel rescaled to 0..1); deeper ``Conv2D`` layers
    show each kernel's mean over input channels, blue negative and red positive. A ``DepthwiseConv2D`` (and the
    depthwise half of a ``SeparableConv2D``) has one 2-D filter per input channel (times ``depth_multiplier``),
    which never mixes channels: each is drawn on its own, titled with its channel, never averaged.

    Example::

        plot_filters(model, "conv1"); plot_filters(mobilenet, "conv_dw_1")
    """
    import keras

    layer = _layer(model, layer_name)
    depthwise = isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D))
    weights = layer.get_weights()
    kernel = np.asarray(weights[0]) if weights else None
    if kernel is None or kernel.ndim != 4:
        raise ValueError(f"layer {layer_name!r} has no 2-D convolution kernel to draw.")
    if depthwise:
        # (kh, kw, in_channels, depth_multiplier) -> one filter per (channel, multiplier), channel-major
        height, width, channels, multiplier = kernel.shape
        filters = kernel.reshape(height, width, channels * multiplier)
        titles = [f"ch {i // multiplier}" + (f".{i % multiplier}" if multiplier > 1 else "")
                  for i in range(channels * multiplier)]
    else:
        filters = kernel
        titles = []
    total = filters.shape[-1]
    count = min(max_filters, total)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * (1.05 if depthwise else 0.9) + 0.4),
                             squeeze=False)
    colour = not depthwise and kernel.shape[2] == 3
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        values = filters[..., index]
        if colour:
            low, high = values.min(), values.max()
            ax.imshow((values - low) / (high - low + 1e-12))
        else:
            image = values if depthwise else values.mean(axis=-1)
            limit = np.abs(image).max() + 1e-12
            ax.imshow(image, cmap="bwr", vmin=-limit, vmax=limit)
        if titles:
            ax.set_title(titles[index], fontsize=7)
    size = f"{kernel.shape[0]}x{kernel.shape[1]}"
    what = "depthwise filters, one per input channel" if depthwise else "filters"
    fig.suptitle(f"{layer_name}: {count} of {total} {what} ({size} pixels each)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_feature_maps(
    model: keras.Model, layer_name: str, image: np.ndarray, max_maps: int = 16, cols: int = 8
) -> Figure:
    """The activations of one layer for one image (uint8 images are scaled to 0..1, as in training).

    Example::

        plot_feature_maps(model, "conv1", data.x_test[0])
    """
    import keras

    layer = _layer(model, layer_name)
    try:
        probe = keras.Model(model.input, layer.output)
    except (AttributeError, ValueError):
        # A subclassed model has no graph to cut at a layer: its layers' outputs are not symbolic tensors.
        raise ValueError(
            f"plot_feature_maps needs a Functional or Sequential model (built with keras.Input) to read "
            f"{layer_name!r}'s output, and {model.name} is a {type(model).__name__} without that graph. Rebuild it "
            "functionally (inputs = keras.Input(shape); x = ...; keras.Model(inputs, x)), or pass a model that "
            "ends at the layer, e.g. keras.Sequential([keras.Input(shape), *model.layers[:k]])."
        ) from None
    batch = np.asarray(image)[None]
    batch = batch.astype("float32") / 255.0 if batch.dtype == np.uint8 else batch.astype("float32")
    import keras  # local: keep `import workshop_utils.plots` light

    maps = keras.ops.convert_to_numpy(probe(batch))[0]  # np.asarray fails on torch tensors that track gradients
    if maps.ndim != 3:
        raise ValueError(f"layer {layer_name!r} outputs shape {maps.shape}, not (height, width, channels).")
    count = min(max_maps, maps.shape[-1])
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1 + 0.4), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(maps[..., index], cmap="viridis")
    fig.suptitle(
        f"{layer_name}: {count} of {maps.shape[-1]} feature maps, {maps.shape[0]}x{maps.shape[1]} pixels",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _row(item: Any) -> dict[str, Any]:
    if hasattr(item, "as_row"):
        return item.as_row()
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"expected a TrainResult or a dict with name/params/macs/accuracy, got {type(item).__name__}.")


def plot_model_comparison(results: Sequence[Any]) -> Figure:
    """Bubble chart: MACs (x; log scale when they span over 10x) vs test accuracy (y); area ~ parameters.

    Args:
        results: TrainResults or dicts with ``name``, ``params``, ``macs``, ``accuracy``.

    Example::

        plot_model_comparison([lenet_result, vgg_result])
    """
    rows = [_row(item) for item in results]
    missing = [key for key in ("name", "params", "macs", "accuracy") if any(key not in row for row in rows)]
    if not rows or missing:
        raise ValueError(f"each result needs name, params, macs and accuracy; missing: {missing or 'all'}.")
    params = np.array([row["params"] for row in rows], dtype=float)
    macs = np.array([row["macs"] for row in rows], dtype=float) / 1e6
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    areas = 2000 * params / params.max()
    for index, row in enumerate(rows):
        ax.scatter(macs[index], row["accuracy"] * 100, s=max(areas[index], 30), alpha=0.5, color=f"C{index}",
                   clip_on=False)
        ax.annotate(
            f"{row['name']}\n{row['params'] / 1e6:.2f}M params",
            (macs[index], row["accuracy"] * 100), ha="center", va="center", fontsize=8, annotation_clip=False,
        )
    # A log axis only helps when costs span an order of magnitude; for close models it shows one odd tick.
    spread = macs.max() / max(macs.min(), 1e-12)
    if spread > 10:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    scale = " (log scale)" if spread > 10 else ""
    ax.margins(x=0.25, y=0.2)  # room for the bubbles and their labels
    ax.set_xlabel(f"cost per image (million multiply-accumulates{scale})")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy vs cost (bubble area ~ parameters)")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def plot_layer_macs(cost: Profile, top: int | None = None) -> Figure:
    """Horizontal bar chart of each layer's MACs (millions), in model order, layers with zero MACs left out.

    Example::

        plot_layer_macs(profile(model), top=20)
    """
    rows = [row for row in cost.layers if row.macs > 0]
    if top is not None:
        keep = {row.name for row in sorted(rows, key=lambda r: r.macs, reverse=True)[:top]}
        rows = [row for row in rows if row.name in keep]
    if not rows:
        raise ValueError(f"{cost.model_name} has no layer with multiply-accumulates to plot.")
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.2))
    ax.barh([row.name for row in rows], [row.macs / 1e6 for row in rows], color="C0")
    ax.invert_yaxis()
    ax.set_xlabel("million multiply-accumulates per image")
    ax.set_title(f"{cost.model_name}: {cost.macs / 1e6:,.1f}M MACs in total")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_layer_norms(norms: Mapping[str, Sequence[tuple[str, float]]], title: str,
                     ylabel: str = "||dL/dW|| (log)") -> Figure:
    """One curve a model of a per-layer value against depth, log scale: e.g. gradient norms over the conv layers.

    Models whose name starts with ``plain`` are dashed, the others solid; consecutive pairs share a colour
    (``plain20``, ``resnet20``, ``plain56``, ``resnet56``: one colour a depth).

    Args:
        norms: ``{model name: [(layer name, value), ...]}`` in depth order, as
            :func:`workshop_utils.gradient_flow.kernel_gradient_norms` returns them.
        title: the figure's title.
        ylabel: the y axis' label.

    Example::

        plot_layer_norms({"plain20": kernel_gradient_norms(plain, x, y)}, "Per-layer gradient norm at init")
    """
    if not norms or any(not rows for rows in norms.values()):
        raise ValueError("norms needs at least one model with at least one (layer, value) row; "
                         "pass {name: kernel_gradient_norms(model, images, labels)}.")
    fig, ax = plt.subplots(figsize=(9, 3.3))
    for index, (name, rows) in enumerate(norms.items()):
        depth = np.arange(1, len(rows) + 1)
        ax.semilogy(depth, [value for _, value in rows], "--" if name.startswith("plain") else "-",
                    color=f"C{index // 2}", marker=".", label=name)
    ax.set(xlabel="conv layer (1 = next to the input)", ylabel=ylabel, title=title)
    ax.legend(ncol=2, fontsize=8)
    return fig


def plot_bars(categories: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str, title: str,
              value_format: str | None = None, figsize: tuple[float, float] = (8.0, 2.6)) -> Figure:
    """Bars of one or more series over the same categories (grouped side by side when there are several).

    Args:
        categories: the x tick labels (stages, layers...).
        series: ``{label: values}``, one value a category; with one series there is no legend.
        ylabel: the y axis' label, with its unit.
        title: the figure's title.
        value_format: a format string (``"{:.2f}"``) to write each bar's value on it; ``None`` writes none.
        figsize: the figure's size in inches.

    Example::

        plot_bars(["conv2", "conv3"], {"ResNet-50": [0.67, 0.95]}, "G multiply-adds", "MACs per stage", "{:.2f}")
    """
    if not series or any(len(values) != len(categories) for values in series.values()):
        raise ValueError(f"series needs at least one {{label: values}} entry with one value for each of the "
                         f"{len(categories)} categories.")
    fig, ax = plt.subplots(figsize=figsize)
    width = 0.8 / len(series)
    positions = np.arange(len(categories))
    for index, (label, values) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        bars = ax.bar(positions + offset, list(values), width=width, label=label, color=f"C{index}")
        if value_format is not None:
            ax.bar_label(bars, fmt=value_format, fontsize=8)
    ax.set(xticks=positions, xticklabels=list(categories), ylabel=ylabel, title=title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return fig


def architecture_text(model: keras.Model) -> str:
    """A text drawing of the model: one line per layer with its type, output shape and the layers it reads.

    Example::

        print(architecture_text(model))
    """
    from workshop_utils import _keras_internals as internals

    lines = [f"{model.name}"]
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape[1:])
        except (AttributeError, ValueError):
            shape = "?"
        sources = []
        for node in internals.inbound_nodes(layer):
            for tensor in getattr(node, "input_tensors", []):
                source = internals.source_layer(tensor)
                if source is not None:
                    sources.append(source.name)
        reads = f"  <- {', '.join(dict.fromkeys(sources))}" if sources else ""
        lines.append(f"  {layer.name:<28} {type(layer).__name__:<22} {str(shape):<18}{reads}")
    return "\n".join(lines)


def show_architecture(model: keras.Model, **plot_model_args: Any) -> Any:
    """``keras.utils.plot_model`` when graphviz and pydot are installed, else :func:`architecture_text`.

    Returns what Jupyter displays: an image, or the text wrapped so it prints as is.

    Example::

        show_architecture(model)
    """
    import keras

    args = {"show_shapes": True, "dpi": 60, **plot_model_args}
    try:
        return keras.utils.plot_model(model, **args)
    except (ImportError, OSError, FileNotFoundError):
        # pip installs have no graphviz binary; conda brings it. The text form carries the same graph.
        return _Text(architecture_text(model))


class _Text(str):
    """A str that Jupyter shows as plain text (not its repr with quotes and \\n)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))
