"""DenseNet reference implementation: Keras' counts exactly, channel growth, compression, names, bad arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils.architectures import densenet as dn


@pytest.mark.parametrize("name, keras_model", [
    ("densenet121", keras.applications.DenseNet121),
    ("densenet169", keras.applications.DenseNet169),
    ("densenet201", keras.applications.DenseNet201),
])
def test_parameter_counts_equal_keras_applications(name: str, keras_model) -> None:
    ours = getattr(dn, name)()
    theirs = keras_model(weights=None)
    assert ours.count_params() == theirs.count_params()
    # Same layers by name and kernel shape, not only the same total.
    def kernels(model):
        return {lay.name: tuple(lay.kernel.shape) for lay in model.layers if isinstance(lay, keras.layers.Conv2D)}

    ours_kernels, theirs_kernels = kernels(ours), kernels(theirs)
    renamed = {n.replace("_1x1_conv", "_1_conv").replace("_3x3_conv", "_2_conv"): k for n, k in ours_kernels.items()}
    assert renamed == theirs_kernels


def test_densenet121_count_is_the_documented_one() -> None:
    assert dn.densenet121().count_params() == 8_062_504


def test_dense_block_grows_channels_by_k_per_layer() -> None:
    inputs = keras.Input((8, 8, 24))
    outputs = dn.dense_block(inputs, 5, 12, name="b")
    model = keras.Model(inputs, outputs)
    assert tuple(outputs.shape[1:]) == (8, 8, 24 + 5 * 12)
    reads = [int(layer.kernel.shape[2]) for layer in model.layers if layer.name.endswith("_1x1_conv")]
    assert reads == dn.block_channels(24, 5, 12) == [24, 36, 48, 60, 72]
    assert all(int(layer.kernel.shape[3]) == 48 for layer in model.layers if layer.name.endswith("_1x1_conv"))


def test_dense_block_keeps_every_earlier_feature_map_unchanged() -> None:
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, dn.dense_block(inputs, 3, 2, name="b"))
    images = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype("float32")
    out = np.asarray(model(images, training=False))
    np.testing.assert_allclose(out[..., :3], images, rtol=0, atol=0)  # concatenation copies x0 through


def test_without_bottleneck_the_3x3_conv_reads_the_whole_concatenation() -> None:
    inputs = keras.Input((8, 8, 16))
    model = keras.Model(inputs, dn.dense_block(inputs, 3, 8, bottleneck=False, name="b"))
    kernels = [tuple(layer.kernel.shape) for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert kernels == [(3, 3, 16, 8), (3, 3, 24, 8), (3, 3, 32, 8)]


@pytest.mark.parametrize("channels, theta, expected", [(256, 0.5, 128), (45, 0.5, 22), (100, 1.0, 100), (50, 0.25, 12)])
def test_transition_keeps_floor_theta_times_channels_and_halves_the_size(channels: int, theta: float,
                                                                         expected: int) -> None:
    inputs = keras.Input((8, 8, channels))
    assert tuple(dn.transition(inputs, theta).shape[1:]) == (4, 4, expected)


def test_composite_is_bn_relu_conv_without_bias() -> None:
    inputs = keras.Input((8, 8, 4))
    model = keras.Model(inputs, dn.composite(inputs, 6, 3, name="h"))
    assert [type(layer).__name__ for layer in model.layers[1:]] == ["BatchNormalization", "Activation", "Conv2D"]
    assert not model.get_layer("h_conv").use_bias


def test_growth_rate_and_compression_change_the_count_as_expected() -> None:
    base = dn.densenet((2, 2), growth_rate=8, compression=0.5, input_shape=(32, 32, 3), classes=10)
    wider = dn.densenet((2, 2), growth_rate=16, compression=0.5, input_shape=(32, 32, 3), classes=10)
    uncompressed = dn.densenet((2, 2), growth_rate=8, compression=1.0, input_shape=(32, 32, 3), classes=10)
    assert wider.count_params() > base.count_params()
    assert uncompressed.count_params() > base.count_params()
    # stem 2k = 16 -> block 16 + 2*8 = 32 -> transition keeps 16 (theta 0.5) or 32 (theta 1) -> block adds 16.
    assert base.get_layer("bn").input.shape[-1] == 32
    assert uncompressed.get_layer("bn").input.shape[-1] == 48


def small_densenet(**options):
    """Notebook 08's small DenseNet-BC: blocks of 2, 4, 6 layers, k = 16, the CIFAR stem."""
    return dn.densenet((2, 4, 6), growth_rate=16, stem="cifar", name="small_densenet", **options)


def test_small_densenet_has_the_small_resnets_parameter_budget_and_trains_a_step() -> None:
    from workshop_utils.architectures.resnet import resnet

    model = small_densenet()
    resnet14 = resnet(14, stem="cifar")
    assert model.input.shape[1:] == (32, 32, 3) and model.output.shape[-1] == 10
    assert (model.count_params(), resnet14.count_params()) == (180_426, 176_378)  # notebook 08 prints both
    assert abs(model.count_params() / resnet14.count_params() - 1) < 0.1
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    loss = model.train_on_batch(x, np.arange(4))
    assert np.isfinite(loss)


def test_layer_names_follow_keras_applications() -> None:
    """Layer for layer, in order, Keras' names, except that the dense layer's two convs are named by their kernel
    (``_1x1_`` / ``_3x3_``, where Keras numbers them ``_0_`` BN-ReLU, ``_1_`` conv-BN-ReLU, ``_2_`` conv) and the
    input and padding layers, which Keras leaves auto-named."""
    keras_names = {"_1x1_bn": "_0_bn", "_1x1_relu": "_0_relu", "_1x1_conv": "_1_conv", "_3x3_bn": "_1_bn",
                   "_3x3_relu": "_1_relu", "_3x3_conv": "_2_conv"}

    def as_keras(name: str) -> str:
        for ours, theirs in keras_names.items():
            name = name.replace(ours, theirs)
        return name

    ours = [(as_keras(layer.name), type(layer).__name__) for layer in dn.densenet121().layers]
    theirs = [(layer.name, type(layer).__name__) for layer in keras.applications.DenseNet121(weights=None).layers]
    assert len(ours) == len(theirs) == 429
    def auto_named(name: str) -> bool:   # input_layer, zero_padding2d, ... with a session counter appended
        return name.startswith(("input_layer", "zero_padding2d"))

    assert [o for o, t in zip(ours, theirs) if not auto_named(t[0])] == [t for t in theirs if not auto_named(t[0])]
    assert [o[0] for o, t in zip(ours, theirs) if auto_named(t[0])] == ["image", "conv1_pad", "pool1_pad"]


@pytest.mark.parametrize("kwargs, message", [
    ({"blocks": ()}, "at least one dense block"),
    ({"blocks": (6, 0)}, "integer >= 1"),
    ({"growth_rate": 0}, "growth_rate"),
    ({"compression": 0.0}, "compression"),
    ({"compression": 1.5}, "compression"),
    ({"classes": 0}, "classes"),
    ({"input_shape": (16, 16, 3)}, ">= 32"),
    ({"stem": "tiny"}, "stem must be one of"),
    ({"pooling": "avg"}, "include_top=False"),
])
def test_bad_hyper_parameters_raise_value_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dn.densenet(**kwargs)


def test_cifar_stem_refuses_an_input_too_small_for_its_transitions() -> None:
    with pytest.raises(ValueError, match="too small"):
        dn.densenet((1, 1, 1), stem="cifar", input_shape=(2, 2, 3))
    assert dn.densenet((1, 1, 1), growth_rate=4, stem="cifar", input_shape=(4, 4, 3)).output_shape == (None, 10)


def test_cifar_stem_is_one_conv_and_the_top_options_follow_keras_applications() -> None:
    model = small_densenet()
    assert [type(layer).__name__ for layer in model.layers[1:3]] == ["Conv2D", "BatchNormalization"]
    assert model.get_layer("conv1_conv").kernel.shape == (3, 3, 3, 32)   # 2k filters, straight into conv2_block1
    assert small_densenet(include_top=False).output_shape == (None, 8, 8, 48 + 6 * 16)   # 32 -> 64 -> 32 -> 96 -> 48
    assert small_densenet(include_top=False, pooling="max").output_shape == (None, 144)
    assert dn.densenet121(include_top=False, pooling="avg").output_shape == (None, 1024)
    logits = small_densenet(classifier_activation=None)
    assert logits.get_layer("predictions").activation.__name__ == "linear"


def test_quoted_errors_are_labelled_and_ordered() -> None:
    top1 = [dn.QUOTED_IMAGENET_ERRORS[name][0] for name in ("densenet121", "densenet169", "densenet201")]
    assert top1 == sorted(top1, reverse=True)  # deeper is better in the paper's table 3


def tiny_stack(connectivity: str, num_layers: int = 4) -> keras.Model:
    x = inputs = keras.Input((6, 6, 4), name="x0")
    for index in range(1, num_layers + 1):
        f = keras.layers.Conv2D(4, 3, padding="same", name=f"f{index}")(x)
        if connectivity == "ResNet":
            x = keras.layers.Add()([x, f])
        elif connectivity == "DenseNet":
            x = keras.layers.Concatenate()([x, f])
        else:
            x = f
    return keras.Model(inputs, x)


def test_feature_map_reads_tells_the_three_connectivities_apart() -> None:
    names = ["f1", "f2", "f3", "f4"]
    standard = dn.feature_map_reads(tiny_stack("standard"), names)
    resnet = dn.feature_map_reads(tiny_stack("ResNet"), names)
    dense = dn.feature_map_reads(tiny_stack("DenseNet"), names)
    np.testing.assert_array_equal(standard, np.eye(4, dtype=int) * dn.READ_SEPARATELY)
    assert (dense == np.tril(np.ones((4, 4), dtype=int))).all()  # L(L+1)/2 = 10 direct connections
    assert int((dense == dn.READ_SEPARATELY).sum()) == 10
    assert resnet[0, 0] == dn.READ_SEPARATELY and (resnet[1:][np.tril_indices(3)] == dn.READ_IN_A_SUM).all()
    assert dn.plot_feature_map_reads({"DenseNet": dense}).axes


def test_feature_map_reads_on_the_real_dense_block() -> None:
    inputs = keras.Input((8, 8, 16), name="x0")
    model = keras.Model(inputs, dn.dense_block(inputs, 4, 8, name="b"))
    reads = dn.feature_map_reads(model, [f"b_block{i}_3x3_conv" for i in range(1, 5)])
    assert (reads == np.tril(np.ones((4, 4), dtype=int))).all()


def _bottleneck_pair(seed: int = 0):
    """A RecomputedBottleneck and the plain Concatenate -> BN -> ReLU -> Conv1x1 with the same random weights."""
    from keras import layers

    from workshop_utils.architectures.densenet import BN_EPSILON, RecomputedBottleneck

    rng = np.random.default_rng(seed)
    pieces = [keras.Input((5, 5, 3)), keras.Input((5, 5, 2))]
    recomputed = RecomputedBottleneck(4, epsilon=BN_EPSILON)
    fused = keras.Model(pieces, recomputed(pieces))
    x = layers.Concatenate()(pieces)
    norm = layers.BatchNormalization(epsilon=BN_EPSILON)
    conv = layers.Conv2D(4, 1, use_bias=False)
    plain = keras.Model(pieces, conv(layers.ReLU()(norm(x))))
    gamma, beta = rng.normal(size=5).astype("float32"), rng.normal(size=5).astype("float32")
    mean, variance = rng.normal(size=5).astype("float32"), rng.uniform(0.5, 2, size=5).astype("float32")
    kernel = rng.normal(size=(1, 1, 5, 4)).astype("float32")
    for variable, value in ((recomputed.gamma, gamma), (recomputed.beta, beta), (recomputed.moving_mean, mean),
                            (recomputed.moving_variance, variance), (recomputed.conv.kernel, kernel)):
        variable.assign(value)
    norm.set_weights([gamma, beta, mean, variance])
    conv.set_weights([kernel])
    inputs = [rng.normal(size=(4, 5, 5, 3)).astype("float32"), rng.normal(size=(4, 5, 5, 2)).astype("float32")]
    return fused, plain, recomputed, inputs


def test_recomputed_bottleneck_computes_concat_bn_relu_conv():
    fused, plain, recomputed, inputs = _bottleneck_pair()
    for training in (False, True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(fused(inputs, training=training)),
                                   keras.ops.convert_to_numpy(plain(inputs, training=training)), rtol=1e-4, atol=1e-4)
    assert fused.count_params() == plain.count_params()


def test_recomputed_bottleneck_updates_moving_statistics_once_per_step():
    fused, plain, recomputed, inputs = _bottleneck_pair(1)
    before = keras.ops.convert_to_numpy(recomputed.moving_mean).copy()
    batch_mean = np.concatenate([p.mean(axis=(0, 1, 2)) for p in inputs])
    fused(inputs, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(recomputed.moving_mean),
                               0.99 * before + 0.01 * batch_mean, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="list of feature maps"):
        from workshop_utils.architectures.densenet import RecomputedBottleneck

        RecomputedBottleneck(4).build((None, 5, 5, 3))


def test_memory_efficient_densenet_is_the_same_network():
    import warnings

    from workshop_utils import flops
    from workshop_utils.architectures.densenet import densenet121

    plain, efficient = small_densenet(), small_densenet(memory_efficient=True)
    assert plain.count_params() == efficient.count_params() == 180_426
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the counter has a rule for RecomputedBottleneck
        assert flops.profile(efficient).macs == flops.profile(plain).macs
    assert densenet121(memory_efficient=True).count_params() == 8_062_504
    rng = np.random.default_rng(0)
    images, labels = rng.random((8, 32, 32, 3), dtype=np.float32), np.arange(8) % 10
    losses = []
    for memory_efficient in (False, True):
        keras.utils.set_random_seed(0)
        model = small_densenet(memory_efficient=memory_efficient)
        model.compile("sgd", "sparse_categorical_crossentropy")
        losses.append([float(model.train_on_batch(images, labels)) for _ in range(2)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-3)   # same init, same steps (recomputation rounds)
    with pytest.raises(ValueError, match="bottleneck=True"):
        small_densenet(bottleneck=False, memory_efficient=True)
