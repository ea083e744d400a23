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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import keras

FLOAT_BITS = 32
_COMPRESSIBLE = (keras.layers.Conv2D, keras.layers.Dense)  # DepthwiseConv2D and SeparableConv2D subclass Conv


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
    if clusters < 1:
        raise ValueError(f"clusters must be >= 1, got {clusters}.")
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
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}.")
    magnitudes = np.abs(np.asarray(weights)).ravel()
    mask = np.ones(magnitudes.shape, dtype=bool)
    pruned = int(round(sparsity * magnitudes.size))
    if pruned:
        mask[np.argsort(magnitudes, kind="stable")[:pruned]] = False
    return mask


def pack_bits(indices: np.ndarray, bits: int) -> np.ndarray:
    """The indices written as ``bits``-bit unsigned integers, back to back, as bytes (the last one padded).

    Example::

        pack_bits(np.array([1, 2, 3]), 2)    # 6 bits -> 1 byte
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}.")
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
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16 (the paper uses 5 to 8), got {bits}.")
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
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16 (the paper uses 5 to 8), got {bits}.")
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

