"""Deep Compression's weight sharing: k-means, pruning, bit packing, file sizes, apply back, centroid fine-tune."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import compression


def tiny_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(16, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, name="dense")(x)
    return keras.Model(inputs, outputs)


def test_kmeans_recovers_clusters_and_is_nearest():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(-1, 0.01, 500), rng.normal(2, 0.01, 500)])
    codebook, indices = compression.kmeans_1d(values, 2)
    assert np.allclose(sorted(codebook), [-1, 2], atol=0.01)
    many = rng.normal(size=3000)
    codebook, indices = compression.kmeans_1d(many, 16)
    distances = np.abs(many[:, None] - codebook[None, :])
    assert np.array_equal(indices, np.argmin(distances, axis=1))
    with pytest.raises(ValueError):
        compression.kmeans_1d(np.array([]), 4)


def test_pack_unpack_roundtrip_and_size():
    rng = np.random.default_rng(1)
    for bits in (1, 3, 6, 8, 11):
        indices = rng.integers(0, 2**bits, size=1001)
        packed = compression.pack_bits(indices, bits)
        assert packed.nbytes == -(-1001 * bits // 8)
        assert np.array_equal(compression.unpack_bits(packed, bits, 1001), indices)
    with pytest.raises(ValueError, match="fit 2 bits"):
        compression.pack_bits(np.array([4]), 2)


def test_magnitude_mask_keeps_largest():
    weights = np.arange(-50, 50, dtype="float32")
    mask = compression.magnitude_mask(weights, 0.5)
    assert mask.sum() == 50
    assert compression.magnitude_mask(np.zeros(10), 0.3).sum() == 7  # ties: the count is still exact
    assert np.abs(weights[mask]).min() >= np.abs(weights[~mask]).max()
    with pytest.raises(ValueError):
        compression.magnitude_mask(weights, 1.0)


def test_compress_apply_save_load(tmp_path):
    model = tiny_model()
    images = np.random.default_rng(2).random((4, 8, 8, 3)).astype("float32")
    packed = compression.compress_model(model, bits=4)
    assert set(packed.codes) == {"conv", "dense"}
    assert all(np.unique(code.indices).size <= 16 for code in packed.codes.values())
    weights = 3 * 3 * 3 * 16 + 16 * 4
    floats = 16 + 4
    assert packed.packed_bits() == weights * 4 + 2 * 16 * 32 + floats * 32
    size = packed.save(tmp_path / "m4.npz")
    assert size == (tmp_path / "m4.npz").stat().st_size
    assert packed.packed_bytes() < size < compression.save_float32(model, tmp_path / "fp32.npz")
    clone = keras.models.clone_model(model)
    packed.apply(clone)
    conv = clone.get_layer("conv").kernel.numpy()
    assert np.unique(conv).size <= 16
    reloaded = keras.models.clone_model(model)
    compression.load_compressed(tmp_path / "m4.npz").apply(reloaded)
    assert np.array_equal(np.asarray(clone(images)), np.asarray(reloaded(images)))
    # more bits, closer to the original
    error = {}
    for bits in (2, 8):
        copy = keras.models.clone_model(model)
        compression.compress_model(model, bits=bits).apply(copy)
        error[bits] = float(np.max(np.abs(np.asarray(copy(images)) - np.asarray(model(images)))))
    assert error[8] < error[2]


def test_pruning_zeroes_and_shrinks(tmp_path):
    model = tiny_model()
    dense = compression.compress_model(model, bits=6)
    pruned = compression.compress_model(model, bits=6, sparsity=0.75)
    clone = keras.models.clone_model(model)
    pruned.apply(clone)
    kernel = clone.get_layer("conv").kernel.numpy()
    assert 0.7 <= np.mean(kernel == 0) <= 0.8
    assert pruned.packed_bits() < dense.packed_bits()
    for name, packed in (("p", pruned), ("d", dense)):  # file = packed bits + ~300 B of zip/npy headers an array
        overhead = packed.save(tmp_path / f"{name}.npz") - packed.packed_bytes()
        assert 0 < overhead < 400 * (3 * len(packed.codes) + len(packed.float_weights) + 1)
    back = compression.load_compressed(tmp_path / "p.npz")
    assert np.array_equal(back.codes["conv"].decode(), pruned.codes["conv"].decode())
    with pytest.raises(ValueError, match="sparsity"):
        compression.compress_model(model, bits=6, sparsity=1.0)


def test_tied_centroids_keep_weights_shared_while_training():
    model = tiny_model()
    packed = compression.compress_model(model, bits=3, sparsity=0.5)
    packed.apply(model)
    before = packed.codes["conv"].codebook.copy()
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(3)
    model.fit(rng.random((32, 8, 8, 3)).astype("float32"), rng.integers(0, 4, 32), batch_size=8, verbose=0,
              callbacks=[compression.TiedCentroids(packed)])
    kernel = model.get_layer("conv").kernel.numpy()
    assert np.unique(kernel[kernel != 0]).size <= 8
    assert np.array_equal(kernel, packed.codes["conv"].decode())
    assert not np.allclose(before, packed.codes["conv"].codebook)  # the centroids moved


def test_packed_size_counts_without_clustering():
    model = tiny_model()
    for bits, sparsity in ((8, 0.0), (4, 0.0), (6, 0.5), (3, 0.9)):
        assert compression.packed_size(model, bits, sparsity) == \
            compression.compress_model(model, bits, sparsity).packed_bytes()


def test_model_without_conv_or_dense_is_refused():
    inputs = keras.Input((4,))
    with pytest.raises(ValueError, match="no Conv2D or Dense"):
        compression.compress_model(keras.Model(inputs, keras.layers.ReLU()(inputs)))


def test_sharing_grid_equals_compressing_each_setting_and_leaves_the_model_alone():
    model = tiny_model()
    before = [w.copy() for w in model.get_weights()]
    rng = np.random.default_rng(4)
    images, labels = rng.random((64, 8, 8, 3)).astype("float32"), rng.integers(0, 4, 64)
    grid = compression.sharing_grid(model, images, labels, bits=(1, 4), sparsities=(0.0, 0.5))
    assert grid.packed_bytes.shape == grid.accuracy.shape == (2, 2) and grid.images == 64
    for bits in (1, 4):
        for sparsity in (0.0, 0.5):
            packed = compression.compress_model(model, bits, sparsity)
            copy = packed.apply(keras.models.clone_model(model))
            expected = np.mean(np.argmax(copy.predict(images, verbose=0), axis=-1) == labels)
            assert grid.at(bits, sparsity) == (packed.packed_bytes(), pytest.approx(expected))
    assert grid.float32_bytes == compression.float32_bits(model) // 8
    assert grid.float32_accuracy == pytest.approx(np.mean(np.argmax(model.predict(images, verbose=0), -1) == labels))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert grid.packed_bytes[1, 1] < grid.packed_bytes[1, 0] and grid.packed_bytes[0, 0] < grid.packed_bytes[1, 0]
    table = grid.table()
    assert "50% pruned" in table and f"{grid.accuracy[1, 0]:.1%}" in table
    with pytest.raises(ValueError, match="not in the grid"):
        grid.at(3, 0.0)
    with pytest.raises(ValueError, match="bits must be an integer"):
        compression.sharing_grid(model, images, labels, bits=(0,))
    with pytest.raises(ValueError, match="as many labels"):
        compression.sharing_grid(model, images, labels[:10])


def test_sharing_widget_redraws_from_the_grid_without_compressing(monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    model = tiny_model()
    rng = np.random.default_rng(5)
    grid = compression.sharing_grid(model, rng.random((16, 8, 8, 3)).astype("float32"), rng.integers(0, 4, 16),
                                    bits=(2, 4), sparsities=(0.0, 0.5))
    figure = compression.plot_sharing(grid, 2, 0.5)
    assert "2 bits, 50% pruned" in figure.axes[1].get_title()
    widget = compression.sharing_widget(grid, 4, 0.0)
    bits_slider, sparsity_slider = widget.children[0].children
    picture = widget.children[1]
    first = picture.value
    monkeypatch.setattr(compression, "compress_model", lambda *a, **k: pytest.fail("a redraw must not compress"))
    bits_slider.value = 2
    assert picture.value and picture.value != first
    sparsity_slider.value = 0.5
    with pytest.raises(ValueError, match="not in the grid"):
        compression.sharing_widget(grid, 3, 0.0)
