"""Activation memory from shapes (hand-counted on small graphs) and the measuring subprocess."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from workshop_utils import memory


def conv_bn_relu_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(inputs)  # keeps the image: 192
    x = layers.BatchNormalization(name="bn")(x)  # keeps the conv output: 256
    x = layers.ReLU(name="relu")(x)  # keeps its own output: 256 (the BN output is not kept)
    x = layers.GlobalAveragePooling2D(name="gap")(x)  # keeps nothing
    outputs = layers.Dense(2, name="dense")(x)  # keeps the pooled vector: 4
    return keras.Model(inputs, outputs, name="tiny")


def test_counts_what_the_backward_pass_needs_once_each() -> None:
    estimate = memory.activation_memory(conv_bn_relu_model(), batch_size=3)
    kept = {t.layer: t.elements for t in estimate.tensors}
    assert kept == {"image": 192, "conv": 256, "relu": 256, "gap": 4}
    assert estimate.elements_per_image == 708
    assert estimate.bytes_per_image == 708 * 4
    assert estimate.total_bytes == 708 * 4 * 3
    assert estimate.weight_bytes == estimate.parameters * 4


def test_concatenation_and_addition_keep_nothing_themselves() -> None:
    inputs = keras.Input((4, 4, 2), name="image")
    a = layers.Conv2D(2, 1, name="a")(inputs)
    b = layers.Conv2D(2, 1, name="b")(inputs)
    joined = layers.Concatenate(name="cat")([a, b])
    summed = layers.Add(name="sum")([a, b])
    model = keras.Model(inputs, [layers.Conv2D(1, 1, name="c")(joined), layers.Conv2D(1, 1, name="d")(summed)])
    kept = {t.layer for t in memory.activation_memory(model).tensors}
    assert kept == {"image", "cat", "sum"}  # a and b are read only by cat/sum, whose gradients need nothing


def dense_stack(num_layers: int) -> keras.Model:
    from workshop_utils.architectures.densenet import dense_block

    inputs = keras.Input((8, 8, 16), name="image")
    return keras.Model(inputs, dense_block(inputs, num_layers, 8, name="block"), name=f"dense{num_layers}")


def test_dense_block_memory_grows_quadratically_and_shared_storage_makes_it_linear() -> None:
    def concat_elements(model: keras.Model, shared: bool) -> int:
        estimate = memory.activation_memory(model, shared_concatenation=shared)
        return estimate.bytes_by_kind().get("Concatenate", 0) // 4

    positions = 8 * 8
    # Naive: every concatenation but the last is read by the next layer's BN: sum of (16 + 8 l) for l = 1..L-1.
    for num_layers in (2, 4, 8):
        expected = sum(16 + 8 * index for index in range(1, num_layers)) * positions
        assert concat_elements(dense_stack(num_layers), shared=False) == expected
        assert concat_elements(dense_stack(num_layers), shared=True) == 0  # one buffer, counted by the block input
    naive = [memory.activation_memory(dense_stack(n)).bytes_per_image for n in (4, 8, 16)]
    shared = [memory.activation_memory(dense_stack(n), shared_concatenation=True).bytes_per_image for n in (4, 8, 16)]
    assert naive[2] - naive[1] > 2 * (naive[1] - naive[0]) * 0.9  # quadratic: differences grow
    assert shared[2] - shared[1] == pytest.approx(2 * (shared[1] - shared[0]), rel=0.01)  # linear
    assert all(s < n for s, n in zip(shared, naive))


def test_bytes_follow_the_compute_dtype() -> None:
    estimate = memory.activation_memory(conv_bn_relu_model(), bytes_per_element=2)
    assert estimate.bytes_per_image == 708 * 2


def test_bytes_matching_sums_a_prefix() -> None:
    estimate = memory.activation_memory(conv_bn_relu_model())
    assert estimate.bytes_matching("conv") == 256 * 4
    assert estimate.bytes_matching("nothing") == 0


def test_format_bytes() -> None:
    assert memory.format_bytes(999) == "999 B"
    assert memory.format_bytes(3_500_000) == "3.5 MB"
    assert memory.format_bytes(2.25e9) == "2.2 GB"


def test_bad_arguments_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        memory.activation_memory(conv_bn_relu_model(), batch_size=0)
    with pytest.raises(TypeError, match="functional"):
        memory.activation_memory(layers.Dense(3))
    with pytest.raises(ValueError, match="two different"):
        memory.training_memory_per_image(conv_bn_relu_model(), batch_sizes=(8, 8))
    inputs = keras.Input((None, None, 3))
    unknown = keras.Model(inputs, layers.Conv2D(2, 1)(inputs))
    with pytest.raises(ValueError, match="fixed input shape"):
        memory.activation_memory(unknown)


def test_measuring_subprocess_reports_a_peak_that_grows_with_the_batch() -> None:
    model = conv_bn_relu_model()
    inputs = keras.Input((64, 64, 3))
    x = layers.Conv2D(32, 3, padding="same", name="wide")(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(x)))
    slope = memory.training_memory_per_image(model, batch_sizes=(8, 128), steps=1, timeout=300)
    assert slope.small.backend == keras.backend.backend()
    assert slope.large.peak_bytes > slope.large.before_bytes
    estimate = memory.activation_memory(model).bytes_per_image  # 64*64*(3 + 32 + 32) floats, ~1.1 MB
    # The measured slope includes gradients and temporaries: same order of magnitude as the estimate.
    assert 0.3 * estimate < slope.bytes_per_image < 10 * estimate


def test_measurement_failure_is_reported_with_the_subprocess_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # A layer module the measuring process cannot import: it exits 1, and its last lines name the missing module.
    monkeypatch.setattr(memory, "_layer_modules", lambda model: ["workshop_utils.no_such_layers"])
    with pytest.raises(memory.MemoryMeasurementError, match="(?s)exit code 1.*No module named 'workshop_utils.no_such"):
        memory.measure_training_peak(conv_bn_relu_model(), batch_size=2)


def test_the_worker_resets_the_host_high_water_mark() -> None:
    """The measuring process starts with its parent's high-water mark; after a reset it reads its own memory."""
    from workshop_utils import _memory_worker

    block = b"\x01" * 300_000_000  # written, so 300 MB resident; freed (one mmap, so returned to the system)
    del block
    high = _memory_worker.host_peak()
    if not _memory_worker.reset_host_peak():
        pytest.skip("this system cannot reset the high-water mark (Linux >= 4.0 only)")
    assert high is not None and _memory_worker.host_peak() < high - 200_000_000


def test_a_sequential_model_is_read_through_its_graph() -> None:
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3, padding="same"), layers.ReLU()])
    estimate = memory.activation_memory(model)
    assert estimate.elements_per_image == 8 * 8 * 3 + 8 * 8 * 4


def test_custom_layers_are_imported_in_the_measuring_subprocess() -> None:
    """A model with the library's own registered layer (RecomputedBottleneck) rebuilds and trains in the subprocess."""
    from workshop_utils.architectures.densenet import densenet

    model = densenet((2, 2), growth_rate=4, stem="cifar", input_shape=(16, 16, 3), memory_efficient=True)
    assert memory._layer_modules(model) == ["workshop_utils.architectures.densenet"]
    assert memory._layer_modules(conv_bn_relu_model()) == []
    peak = memory.measure_training_peak(model, batch_size=4, steps=1, timeout=300)
    assert peak.peak_bytes > 0 and peak.backend == keras.backend.backend()
