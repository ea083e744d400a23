"""Deep Compression's weight sharing (Han et al. 2015, arXiv:1510.00149) in NumPy: prune, k-means, pack, ship.

Each conv/dense kernel is replaced by a **codebook** of ``2**bits`` float32 centroids (k-means on that layer's
weights, linear initialisation as the paper recommends) and one ``bits``-wide **index** per weight. Optional
magnitude pruning first zeroes the smallest weights of each kernel; the kept weights are then clustered, and
which ones are kept is stored as a 1-bit-per-weight mask. Biases (under 1% of a SqueezeNet's parameters) stay
float32, as in the paper.

Why NumPy: Keras 3.15's ``model.quantize("int8")`` quantizes Dense, EinsumDense and Embedding layers only and leaves
Conv2D in float32 (measured), and it is a uniform int8 grid, not a learned codebook.

The size is given twice: computed from the bits (:meth:`CompressedModel.packed_bits`) and measured as a real file
(:meth:`CompressedModel.save`, an uncompressed ``.npz`` of packed bytes; ``entropy_coded=True`` zips it, standing in
for the paper's Huffman stage).

Example::

    packed = compress_model(model, bits=6, sparsity=0.5)
    packed.apply(clone)                      # the shared weights, back into a model of the same architecture
    print(packed.save("squeezenet_6bit.npz"), "bytes on disk")
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from workshop_utils._validate import fraction, positive_int

FLOAT_BITS = 32
MAX_BITS = 16
_COMPRESSIBLE = (keras.layers.Conv2D, keras.layers.Dense)  # DepthwiseConv2D and SeparableConv2D subclass Conv


def _check_bits(bits: int) -> int:
    bits = positive_int("bits", bits)
    if bits > MAX_BITS:
        raise ValueError(f"bits must be in 1..{MAX_BITS} (the paper uses 5 to 8), got {bits}.")
    return bits


def kmeans_1d(values: np.ndarray, clusters: int, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """k-means on a 1-D array: ``(codebook, indices)`` with ``codebook[indices]`` the nearest centroid of each value.

    Centroids start spaced linearly between the minimum and maximum (Deep Compression's section 3.2 finds this
    keeps the rare large weights that matter most). In one dimension the nearest centroid is found by
    ``searchsorted`` on the midpoints between sorted centroids, so each iteration is O(n log k).

    Example::

        codebook, indices = kmeans_1d(np.random.randn(1000), clusters=16)
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("kmeans_1d needs at least one value.")
    clusters = positive_int("clusters", clusters)
    codebook = np.linspace(values.min(), values.max(), clusters)
    indices = np.zeros(values.size, dtype=np.int64)
    for _ in range(iterations):
        indices = np.searchsorted((codebook[1:] + codebook[:-1]) / 2, values)
        counts = np.bincount(indices, minlength=clusters)
        sums = np.bincount(indices, weights=values, minlength=clusters)
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), codebook)  # an empty cluster keeps its place
        if np.allclose(updated, codebook, rtol=0, atol=1e-12):
            break
        codebook = np.sort(updated)
    indices = np.searchsorted((codebook[1:] + codebook[:-1]) / 2, values)
    return codebook.astype(np.float32), indices


def magnitude_mask(weights: np.ndarray, sparsity: float) -> np.ndarray:
    """Boolean mask (flat) keeping all but the ``round(sparsity * n)`` weights of smallest magnitude.

    Exactly that many are pruned, ties broken by position, so the count (and every size computed from it) depends
    only on the number of weights, not on their values.

    Example::

        mask = magnitude_mask(kernel, 0.5)   # half True
    """
    sparsity = fraction("sparsity", sparsity, high_open=True)
    magnitudes = np.abs(np.asarray(weights)).ravel()
    mask = np.ones(magnitudes.shape, dtype=bool)
    pruned = round(sparsity * magnitudes.size)
    if pruned:
        mask[np.argsort(magnitudes, kind="stable")[:pruned]] = False
    return mask


def pack_bits(indices: np.ndarray, bits: int) -> np.ndarray:
    """The indices written as ``bits``-bit unsigned integers, back to back, as bytes (the last one padded).

    Example::

        pack_bits(np.array([1, 2, 3]), 2)    # 6 bits -> 1 byte
    """
    bits = _check_bits(bits)
    indices = np.asarray(indices, dtype=np.int64).ravel()
    if indices.size and (indices.min() < 0 or indices.max() >= 2**bits):
        raise ValueError(f"indices must be in 0..{2**bits - 1} to fit {bits} bits.")
    shifts = np.arange(bits - 1, -1, -1)
    return np.packbits(((indices[:, None] >> shifts) & 1).astype(np.uint8).ravel())


def unpack_bits(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``count`` integers of ``bits`` bits each.

    Example::

        unpack_bits(pack_bits(np.array([1, 2, 3]), 2), 2, 3)   # array([1, 2, 3])
    """
    flat = np.unpackbits(np.asarray(packed, dtype=np.uint8))[: count * bits].reshape(count, bits)
    return flat.astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1))


@dataclass
class LayerCode:
    """One kernel, shared: ``codebook[indices]`` fills the kept positions (``mask``), zeros the rest.

    Example::

        code.decode().shape == code.shape
    """

    name: str
    shape: tuple[int, ...]
    bits: int
    codebook: np.ndarray
    indices: np.ndarray
    mask: np.ndarray | None = None  # None: no pruning, every weight has an index

    @property
    def size(self) -> int:
        """Number of weights in the kernel. Example: ``code.size``"""
        return int(np.prod(self.shape))

    def decode(self) -> np.ndarray:
        """The kernel as float32. Example: ``layer.kernel.assign(code.decode())``"""
        flat = np.zeros(self.size, dtype=np.float32)
        if self.mask is None:
            flat[:] = self.codebook[self.indices]
        else:
            flat[self.mask] = self.codebook[self.indices]
        return flat.reshape(self.shape)

    def packed_bits(self) -> int:
        """Bits to store it: one index per kept weight, the float32 codebook, the 1-bit mask if pruned.

        Example::

            code.packed_bits() / 8    # bytes
        """
        mask_bits = self.size if self.mask is not None else 0
        return self.indices.size * self.bits + self.codebook.size * FLOAT_BITS + mask_bits


@dataclass
class CompressedModel:
    """Every compressible kernel as a :class:`LayerCode`, every other weight kept float32 by variable path.

    Example::

        packed = compress_model(model, bits=8); print(packed.packed_bytes(), packed.save("m.npz"))
    """

    bits: int
    sparsity: float
    codes: dict[str, LayerCode]
    float_weights: dict[str, np.ndarray] = field(default_factory=dict)

    def packed_bits(self) -> int:
        """Bits of everything a deployment needs: the codes plus the float32 weights left alone.

        Example::

            packed.packed_bits()
        """
        return sum(code.packed_bits() for code in self.codes.values()) + sum(
            int(array.size) * FLOAT_BITS for array in self.float_weights.values())

    def packed_bytes(self) -> int:
        """:meth:`packed_bits` rounded up to whole bytes. Example: ``packed.packed_bytes() / 1e6  # MB``"""
        return -(-self.packed_bits() // 8)

    def shared_weights(self) -> int:
        """How many weights were shared (clustered), pruned ones included. Example: ``packed.shared_weights()``"""
        return sum(code.size for code in self.codes.values())

    def apply(self, model: keras.Model) -> keras.Model:
        """Write the shared kernels (and the float weights) into ``model``, which must have the same layers.

        Example::

            clone = keras.models.clone_model(model); packed.apply(clone)
        """
        layers_by_name = {layer.name: layer for layer in model.layers}
        for name, code in self.codes.items():
            if name not in layers_by_name:
                raise ValueError(f"{model.name} has no layer {name!r}: apply the codes to the same architecture.")
            layers_by_name[name].kernel.assign(code.decode())
        variables = {variable.path: variable for variable in model.weights}
        for path, array in self.float_weights.items():
            if path in variables:
                variables[path].assign(array)
        return model

    def save(self, path: str | Path, entropy_coded: bool = False) -> int:
        """Write the packed model to ``path`` (``.npz``) and return its size on disk in bytes.

        Uncompressed ``np.savez`` of the packed index bytes, codebooks, masks and float weights, plus a JSON header
        (names, shapes, bits); ``entropy_coded=True`` deflates it (``np.savez_compressed``), standing in for the
        Huffman coding stage of Deep Compression.

        Example::

            packed.save("squeezenet_8bit.npz")   # e.g. 161,342
        """
        arrays: dict[str, np.ndarray] = {}
        header: dict[str, Any] = {"bits": self.bits, "sparsity": self.sparsity, "layers": {}, "floats": []}
        for index, (name, code) in enumerate(self.codes.items()):
            header["layers"][name] = {"shape": list(code.shape), "count": int(code.indices.size), "id": index}
            arrays[f"codes{index}"] = pack_bits(code.indices, code.bits)
            arrays[f"codebook{index}"] = code.codebook.astype(np.float32)
            if code.mask is not None:
                arrays[f"mask{index}"] = np.packbits(code.mask)
        for index, (variable_path, array) in enumerate(self.float_weights.items()):
            header["floats"].append(variable_path)
            arrays[f"float{index}"] = np.asarray(array, dtype=np.float32)
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        path = Path(path)
        with open(path, "wb") as handle:  # a file handle: np.savez would append ".npz" to a path without it
            (np.savez_compressed if entropy_coded else np.savez)(handle, **arrays)
        return os.path.getsize(path)


def load_compressed(path: str | Path) -> CompressedModel:
    """Read a file written by :meth:`CompressedModel.save`.

    Example::

        load_compressed("squeezenet_8bit.npz").apply(model)
    """
    with np.load(path) as archive:
        header = json.loads(bytes(archive["header"]).decode())
        bits = int(header["bits"])
        codes = {}
        for name, info in header["layers"].items():
            index, count, shape = info["id"], info["count"], tuple(info["shape"])
            mask_key = f"mask{index}"
            mask = (np.unpackbits(archive[mask_key])[: int(np.prod(shape))].astype(bool)
                    if mask_key in archive.files else None)
            codes[name] = LayerCode(name, shape, bits, archive[f"codebook{index}"],
                                    unpack_bits(archive[f"codes{index}"], bits, count), mask)
        floats = {variable_path: archive[f"float{index}"] for index, variable_path in enumerate(header["floats"])}
    return CompressedModel(bits, float(header["sparsity"]), codes, floats)


def compress_layer(name: str, kernel: np.ndarray, bits: int, sparsity: float = 0.0) -> LayerCode:
    """Prune (optional) then share one kernel's weights with a ``2**bits``-entry k-means codebook.

    Example::

        code = compress_layer("conv1", kernel, bits=8)
    """
    bits = _check_bits(bits)
    kernel = np.asarray(kernel, dtype=np.float32)
    mask = magnitude_mask(kernel, sparsity) if sparsity > 0 else None
    kept = kernel.ravel() if mask is None else kernel.ravel()[mask]
    if kept.size == 0:
        raise ValueError(f"{name}: sparsity {sparsity} prunes every weight; use a smaller sparsity.")
    codebook, indices = kmeans_1d(kept, min(2**bits, kept.size))
    return LayerCode(name, tuple(kernel.shape), bits, codebook, indices, mask)


def compress_model(model: keras.Model, bits: int = 8, sparsity: float = 0.0) -> CompressedModel:
    """Deep Compression's first two stages on every Conv2D/Dense kernel of ``model``; other weights stay float32.

    Args:
        model: a trained Keras model (its weights are read, not changed).
        bits: index width; each layer gets ``2**bits`` shared weights.
        sparsity: share of each kernel's smallest-magnitude weights pruned to zero first (0: no pruning).

    Example::

        packed = compress_model(model, bits=6, sparsity=0.5)
    """
    codes: dict[str, LayerCode] = {}
    kernel_paths = set()
    for layer in model.layers:
        if isinstance(layer, _COMPRESSIBLE):
            codes[layer.name] = compress_layer(layer.name, keras.ops.convert_to_numpy(layer.kernel), bits, sparsity)
            kernel_paths.add(layer.kernel.path)
    if not codes:
        raise ValueError(f"{model.name} has no Conv2D or Dense layer to compress.")
    floats = {variable.path: keras.ops.convert_to_numpy(variable) for variable in model.weights
              if variable.path not in kernel_paths}
    return CompressedModel(bits, sparsity, codes, floats)


def packed_size(model: keras.Model, bits: int, sparsity: float = 0.0) -> int:
    """Bytes :func:`compress_model` would pack ``model`` into, counted without clustering (sizes only).

    The size depends on the weights only through the pruning mask's count, so it is quick for large models:
    indices for the kept weights, a full ``2**bits`` float32 codebook per kernel (fewer if a kernel has fewer
    kept weights), a 1-bit mask per weight when pruned, and every other weight at float32.

    Example::

        packed_size(squeezenet(), bits=6, sparsity=0.5) / 2**20   # MiB
    """
    bits = _check_bits(bits)
    total = 0
    kernel_paths = set()
    for layer in model.layers:
        if isinstance(layer, _COMPRESSIBLE):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            kept = int(magnitude_mask(kernel, sparsity).sum()) if sparsity > 0 else kernel.size
            total += kept * bits + min(2**bits, kept) * FLOAT_BITS + (kernel.size if sparsity > 0 else 0)
            kernel_paths.add(layer.kernel.path)
    total += sum(int(np.prod(v.shape)) for v in model.weights if v.path not in kernel_paths) * FLOAT_BITS
    return -(-total // 8)


def float32_bits(model: keras.Model) -> int:
    """Bits of all the model's weights at float32: the paper's "32 bit" model size.

    Example::

        float32_bits(model) / 8 / 1e6   # MB
    """
    return sum(int(np.prod(variable.shape)) for variable in model.weights) * FLOAT_BITS


def save_float32(model: keras.Model, path: str | Path) -> int:
    """Write every weight as float32 into an uncompressed ``.npz`` (same container as :meth:`CompressedModel.save`)
    and return its size on disk in bytes.

    Example::

        save_float32(model, "squeezenet_fp32.npz")
    """
    arrays = {f"w{index}": keras.ops.convert_to_numpy(variable).astype(np.float32)
              for index, variable in enumerate(model.weights)}
    path = Path(path)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return os.path.getsize(path)


class TiedCentroids(keras.callbacks.Callback):
    """Fine-tunes the centroids: after every training batch each kernel is re-tied to its cluster means.

    The indices (and the pruning mask) stay fixed. One optimizer step moves each weight by its own gradient; the
    mean of a cluster then moves by the mean gradient of its members: the paper's centroid update (figure 3),
    which sums the gradients per cluster, up to a per-cluster step size. Pruned weights are held at zero.
    At the end of training the codebooks of ``compressed`` hold the tuned centroids.

    Example::

        compressed.apply(model); model.fit(x, y, epochs=1, callbacks=[TiedCentroids(compressed)])
    """

    def __init__(self, compressed: CompressedModel) -> None:
        super().__init__()
        self.compressed = compressed

    def _retie(self) -> None:
        layers_by_name = {layer.name: layer for layer in self.model.layers}
        for name, code in self.compressed.codes.items():
            kernel = keras.ops.convert_to_numpy(layers_by_name[name].kernel).ravel()
            kept = kernel if code.mask is None else kernel[code.mask]
            counts = np.bincount(code.indices, minlength=code.codebook.size)
            sums = np.bincount(code.indices, weights=kept, minlength=code.codebook.size)
            code.codebook = np.where(counts > 0, sums / np.maximum(counts, 1), code.codebook).astype(np.float32)
            layers_by_name[name].kernel.assign(code.decode())

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:  # JAX: fit holds the weights in its own state between steps; write them back first,
            sync()            # which also makes the next step read the re-tied kernels
        self._retie()



# --------------------------------------------------------------------------------------------------------------
# Bits x sparsity: every setting compressed once, so a widget only has to draw.


@dataclass
class SharingGrid:
    """Size and accuracy without retraining of one model at every (bits, sparsity) setting.

    Attributes:
        bits, sparsities: the settings, rows and columns of the grids.
        packed_bytes: ``[len(bits), len(sparsities)]``: bytes computed from the bits
            (:meth:`CompressedModel.packed_bytes`).
        accuracy: the same shape: top-1 accuracy on the evaluation images with the shared weights, no retraining.
        float32_bytes, float32_accuracy: the uncompressed model, for reference.
        images: how many evaluation images (the same fixed images for every setting).
        seconds: wall time to compress and evaluate the whole grid.

    Example::

        grid.at(6, 0.5)     # (bytes, accuracy)
    """

    bits: tuple[int, ...]
    sparsities: tuple[float, ...]
    packed_bytes: np.ndarray
    accuracy: np.ndarray
    float32_bytes: int
    float32_accuracy: float
    images: int
    seconds: float

    def at(self, bits: int, sparsity: float) -> tuple[int, float]:
        """(bytes, accuracy) of one setting of the grid. Example: ``grid.at(8, 0.0)``"""
        row, column = self._index(bits, sparsity)
        return int(self.packed_bytes[row, column]), float(self.accuracy[row, column])

    def _index(self, bits: int, sparsity: float) -> tuple[int, int]:
        if bits not in self.bits:
            raise ValueError(f"bits={bits!r} is not in the grid; use one of {self.bits}.")
        matches = [i for i, value in enumerate(self.sparsities) if abs(value - sparsity) < 1e-9]
        if not matches:
            raise ValueError(f"sparsity={sparsity!r} is not in the grid; use one of {self.sparsities}.")
        return self.bits.index(bits), matches[0]

    def table(self) -> str:
        """The grid as text: one row per bit width, one column per pruned fraction, "accuracy (KB)" in each cell.

        Example::

            print(grid.table())
        """
        from workshop_utils.tables import text_table

        header = ["bits"] + [f"{sparsity:.0%} pruned" for sparsity in self.sparsities]
        rows = [[bits] + [f"{self.accuracy[row, column]:.1%} ({self.packed_bytes[row, column] / 1000:.1f} KB)"
                          for column in range(len(self.sparsities))] for row, bits in enumerate(self.bits)]
        return text_table(header, rows, formats={"bits": "d"},
                          footnote=f"float32: {self.float32_accuracy:.1%} ({self.float32_bytes / 1000:.1f} KB); "
                                   f"accuracy without retraining on {self.images:,} test images")


def _top1(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    predictions = model.predict(images, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == np.asarray(labels)))


def sharing_grid(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 8),
    sparsities: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75),
) -> SharingGrid:
    """Compress ``model`` at every (bits, sparsity) setting and measure each one's accuracy, without retraining.

    Each setting is :func:`compress_model` (k-means per kernel, magnitude pruning first), applied to one clone of
    the model, which is then evaluated on ``images`` (predict, batch 256, top-1 against ``labels``): the same
    numbers as a table built setting by setting. ``model`` itself is not changed. Cost: one compression and one
    pass over the images per setting (about a second each for notebook 06's small SqueezeNet on 2,000 images).

    Example::

        grid = sharing_grid(model, x_test, y_test, bits=(4, 6, 8), sparsities=(0.0, 0.5))
    """
    bits = tuple(_check_bits(value) for value in bits)
    sparsities = tuple(fraction("every sparsity", value, high_open=True) for value in sparsities)
    if not bits or not sparsities:
        raise ValueError("bits and sparsities need at least one value each, e.g. bits=(4, 6, 8), sparsities=(0.0,).")
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images, and at least one; got {len(images)} and {len(labels)}.")
    started = time.perf_counter()
    copy = keras.models.clone_model(model)  # every setting overwrites all of its weights (kernels and floats)
    sizes = np.zeros((len(bits), len(sparsities)), dtype=np.int64)
    accuracy = np.zeros((len(bits), len(sparsities)))
    for row, width in enumerate(bits):
        for column, sparsity in enumerate(sparsities):
            packed = compress_model(model, bits=width, sparsity=sparsity)
            sizes[row, column] = packed.packed_bytes()
            accuracy[row, column] = _top1(packed.apply(copy), images, labels)
    return SharingGrid(bits, sparsities, sizes, accuracy, -(-float32_bits(model) // 8), _top1(model, images, labels),
                       len(images), time.perf_counter() - started)


def plot_sharing(grid: SharingGrid, bits: int, sparsity: float) -> Any:
    """Two panels: the accuracy grid (setting outlined) and accuracy against bytes for every setting.

    Example::

        figure = plot_sharing(grid, bits=6, sparsity=0.0)
    """
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    row, column = grid._index(bits, sparsity)
    size, accuracy = grid.at(bits, sparsity)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1, 1.3]})
    left.imshow(grid.accuracy, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid.accuracy):
        left.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color="white" if value < 0.6 else "black")
    left.add_patch(plt.Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    left.set(xticks=range(len(grid.sparsities)), xticklabels=[f"{s:.0%}" for s in grid.sparsities],
             yticks=range(len(grid.bits)), yticklabels=grid.bits, xlabel="pruned", ylabel="bits per shared weight",
             title="accuracy, no retraining")
    for j, value in enumerate(grid.sparsities):
        right.plot(grid.packed_bytes[:, j] / 1000, grid.accuracy[:, j], "o-", markersize=4, label=f"{value:.0%} pruned")
    right.plot(grid.float32_bytes / 1000, grid.float32_accuracy, "ks", label="float32")
    right.plot(size / 1000, accuracy, "r*", markersize=16, label=f"{bits} bits, {sparsity:.0%} pruned")
    right.set(xscale="log", xlabel="KB (computed from the bits; log scale)", ylabel="accuracy", ylim=(0, 1),
              title=f"{bits} bits, {sparsity:.0%} pruned: {size:,} B ({grid.float32_bytes / size:.1f}x fewer than "
                    f"float32), {accuracy:.1%} (float32 {grid.float32_accuracy:.1%})")
    right.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    right.xaxis.set_minor_formatter(ticker.NullFormatter())
    right.set_xticks([tick for tick in (25, 50, 100, 200, 400, 800, 1600)
                      if grid.packed_bytes.min() / 2000 <= tick <= grid.float32_bytes / 500])
    right.title.set_fontsize(9)
    right.legend(fontsize=7, loc="lower right")
    right.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def sharing_widget(grid: SharingGrid, bits: int | None = None, sparsity: float | None = None) -> Any:
    """Two sliders, bits per shared weight and pruned fraction, redrawing :func:`plot_sharing` from ``grid``.

    Nothing is compressed on a redraw (the grid holds every setting), so it only draws: well under a second.
    Starts at ``bits`` and ``sparsity`` (default: the grid's largest bit width, no pruning). Show it with
    :func:`workshop_utils.display.show_widget` and ``plot_sharing(grid, ...)`` of the same setting.

    Example::

        show_widget(sharing_widget(grid, 6, 0.0), plot_sharing(grid, 6, 0.0))
    """
    import ipywidgets as widgets

    from workshop_utils.display import figure_png

    bits = max(grid.bits) if bits is None else bits
    sparsity = min(grid.sparsities) if sparsity is None else sparsity
    grid._index(bits, sparsity)
    bits_slider = widgets.SelectionSlider(options=list(grid.bits), value=bits, description="bits",
                                          continuous_update=False)
    sparsity_slider = widgets.SelectionSlider(options=[(f"{s:.0%}", s) for s in grid.sparsities],
                                              value=grid.sparsities[grid._index(bits, sparsity)[1]],
                                              description="pruned", continuous_update=False)
    picture = widgets.Image(format="png")

    def redraw(change: Any = None) -> None:
        picture.value = figure_png(plot_sharing(grid, bits_slider.value, sparsity_slider.value))

    for slider in (bits_slider, sparsity_slider):
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([bits_slider, sparsity_slider]), picture])
