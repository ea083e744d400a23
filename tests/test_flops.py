"""MAC counts checked by hand arithmetic, by TensorFlow's own profiler, and by the MobileNet paper's tables."""

from __future__ import annotations

import warnings

import keras
import pytest
from keras import layers

from workshop_utils import flops
from workshop_utils.flops import (
    TF_MAC_OP_TYPES,
    Comparison,
    LayerCost,
    Profile,
    UncountedLayerWarning,
    compare,
    format_count,
    profile,
    tf_profiler_flops,
)


def one_layer(input_shape: tuple, layer: layers.Layer) -> keras.Model:
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer(inputs))


def macs_of(input_shape: tuple, layer: layers.Layer) -> int:
    model = one_layer(input_shape, layer)
    cost = profile(model)
    assert cost.params == model.count_params()
    assert cost.macs == sum(row.macs for row in cost.layers)
    return cost.macs


# --------------------------------------------------------------------------------------------------------------
# format_count
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count, text",
    [
        (138_357_544, "138.4M"),
        (569_000_000, "569.0M"),
        (12_345, "12.3K"),
        (1.2e9, "1.20G"),
        (999, "999"),
        (0, "0"),
        (999_960, "1.0M"),  # rounds up into the next unit, not "1000.0K"
        (3.5e12, "3.50T"),
        (-12_345, "-12.3K"),
    ],
)
def test_format_count(count: float, text: str) -> None:
    assert format_count(count) == text


def test_format_count_refuses_non_numbers() -> None:
    with pytest.raises(TypeError, match="str"):
        format_count("12")
    with pytest.raises(ValueError, match="finite"):
        format_count(float("nan"))


# --------------------------------------------------------------------------------------------------------------
# Every counted layer type, by hand
# --------------------------------------------------------------------------------------------------------------


def test_conv2d_inception_example() -> None:
    # The GoogLeNet lecture example: 5x5 conv, 32 filters, on 28x28x192, "same" padding.
    model = one_layer((28, 28, 192), layers.Conv2D(32, 5, padding="same", activation="relu"))
    cost = profile(model)
    assert cost.macs == 28 * 28 * 5 * 5 * 192 * 32
    assert cost.flops == 2 * 28 * 28 * 5 * 5 * 192 * 32
    assert cost.elementwise_ops == 28 * 28 * 32 * 2  # bias add + ReLU, reported apart
    assert cost.params == model.count_params() == 5 * 5 * 192 * 32 + 32


@pytest.mark.parametrize(
    "input_shape, layer, expected",
    [
        # strides 2, valid: (32 - 3) // 2 + 1 = 15
        ((32, 32, 3), layers.Conv2D(16, 3, strides=2), 15 * 15 * 3 * 3 * 3 * 16),
        # strides 2, same: 32 / 2 = 16
        ((32, 32, 3), layers.Conv2D(16, 3, strides=2, padding="same"), 16 * 16 * 3 * 3 * 3 * 16),
        # dilation 2, valid: effective kernel 5, 16 - 5 + 1 = 12
        ((16, 16, 4), layers.Conv2D(8, 3, dilation_rate=2), 12 * 12 * 3 * 3 * 4 * 8),
        # groups 4: each filter sees 8 / 4 = 2 input channels
        ((10, 10, 8), layers.Conv2D(16, 3, padding="same", groups=4), 10 * 10 * 3 * 3 * (8 // 4) * 16),
        # non-square kernel and strides
        ((20, 12, 3), layers.Conv2D(5, (3, 1), strides=(2, 1)), 9 * 12 * 3 * 1 * 3 * 5),
        # Conv1D, dilation 2, groups 3, same
        ((20, 3), layers.Conv1D(6, 5, padding="same", dilation_rate=2, groups=3), 20 * 5 * (3 // 3) * 6),
        # Conv1D strides 3, valid: (20 - 4) // 3 + 1 = 6
        ((20, 5), layers.Conv1D(7, 4, strides=3), 6 * 4 * 5 * 7),
        # Conv3D, strides 2, groups 2: (9 - 3) // 2 + 1 = 4
        ((9, 9, 9, 4), layers.Conv3D(4, 3, strides=2, groups=2), 4 * 4 * 4 * 3 * 3 * 3 * (4 // 2) * 4),
        # DepthwiseConv2D, depth multiplier 2, strides 2, same: 10x10x3 -> 5x5x6
        ((10, 10, 3), layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2), 5 * 5 * 6 * 3 * 3),
        # DepthwiseConv1D, dilation 2: 20 - (5 - 1) * 2 = 12
        ((20, 4), layers.DepthwiseConv1D(5, dilation_rate=2), 12 * 4 * 5),
        # SeparableConv2D: depthwise 5x5x(3*2) taps of 3x3, then 1x1 from 6 to 8 channels
        (
            (10, 10, 3),
            layers.SeparableConv2D(8, 3, strides=2, padding="same", depth_multiplier=2),
            5 * 5 * 3 * 2 * 3 * 3 + 5 * 5 * 3 * 2 * 8,
        ),
        # SeparableConv1D, depth multiplier 3: 10 - 3 + 1 = 8 positions
        ((10, 2), layers.SeparableConv1D(4, 3, depth_multiplier=3), 8 * 2 * 3 * 3 + 8 * 2 * 3 * 4),
        # Conv2DTranspose: every input value meets every kernel tap: 5*5 positions x 4 in x 3*3 x 6 out
        ((5, 5, 4), layers.Conv2DTranspose(6, 3, strides=2, padding="same"), 5 * 5 * 4 * 3 * 3 * 6),
        ((5, 5, 4), layers.Conv2DTranspose(6, 3, strides=2, padding="valid"), 5 * 5 * 4 * 3 * 3 * 6),
        ((7, 2), layers.Conv1DTranspose(3, 4, strides=2), 7 * 2 * 4 * 3),
        ((3, 3, 3, 4), layers.Conv3DTranspose(2, 2, strides=2), 3 * 3 * 3 * 4 * 2 * 2 * 2 * 2),
        # Dense on a vector, and once per position on a (H, W, C) input
        ((12,), layers.Dense(10), 12 * 10),
        ((6, 6, 5), layers.Dense(7), 6 * 6 * 5 * 7),
        # EinsumDense: product of all index sizes (batch counts 1): b=5, c=6, d=3, e=4
        ((5, 6), layers.EinsumDense("abc,cde->abde", output_shape=(None, 3, 4), bias_axes="de"), 5 * 6 * 3 * 4),
        ((5, 6), layers.EinsumDense("...c,cd->...d", output_shape=(9,)), 5 * 6 * 9),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, layers.Layer) else None,
)
def test_macs_by_hand(input_shape: tuple, layer: layers.Layer, expected: int) -> None:
    assert macs_of(input_shape, layer) == expected


def test_elementwise_ops_are_reported_apart_from_macs() -> None:
    inputs = keras.Input((8, 8, 2))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)  # bias + relu: 2 per output
    x = layers.BatchNormalization(name="bn")(x)  # 2 per element
    a = layers.MaxPooling2D(2, name="pool")(x)  # 2x2 window per output
    b = layers.AveragePooling2D(2, name="avg")(x)
    s = layers.Add(name="add")([a, b])  # 1 per output
    c = layers.Concatenate(name="cat")([a, s])  # 1 copy per output
    outputs = layers.GlobalAveragePooling2D(name="gap")(c)  # 1 per input element
    cost = profile(keras.Model(inputs, outputs))
    assert cost.macs == 8 * 8 * 3 * 3 * 2 * 4
    expected = {
        "conv": 2 * 8 * 8 * 4,
        "bn": 2 * 8 * 8 * 4,
        "pool": 4 * 4 * 4 * 2 * 2,
        "avg": 4 * 4 * 4 * 2 * 2,
        "add": 4 * 4 * 4,
        "cat": 4 * 4 * 8,
        "gap": 4 * 4 * 8,
    }
    assert {name: cost.layer(name).elementwise_ops for name in expected} == expected
    assert cost.elementwise_ops == sum(expected.values())
    assert all(cost.layer(name).macs == 0 for name in expected if name != "conv")


# --------------------------------------------------------------------------------------------------------------
# Nesting, sharing, model kinds
# --------------------------------------------------------------------------------------------------------------


class ResidualBlock(layers.Layer):
    """A custom layer that owns sublayers."""

    def __init__(self, filters: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv_a = layers.Conv2D(filters, 3, padding="same", name="conv_a")
        self.norm = layers.BatchNormalization(name="norm")
        self.conv_b = layers.Conv2D(filters, 1, name="conv_b")

    def call(self, x):
        return self.conv_b(keras.ops.relu(self.norm(self.conv_a(x)))) + x


def test_nested_functional_sequential_and_custom_layer() -> None:
    # A Functional backbone built for any image size, used at 32x32 inside another model.
    inner_inputs = keras.Input((None, None, 3))
    inner = keras.Model(inner_inputs, layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inner_inputs),
                        name="backbone")  # fmt: skip
    head = keras.Sequential([layers.GlobalAveragePooling2D(name="gap"), layers.Dense(5, name="logits")], name="head")
    inputs = keras.Input((32, 32, 3))
    x = inner(inputs)
    x = ResidualBlock(8, name="block")(x)
    model = keras.Model(inputs, head(x))
    cost = profile(model)

    stem, block_a, block_b, logits = 16 * 16 * 3 * 3 * 3 * 8, 16 * 16 * 3 * 3 * 8 * 8, 16 * 16 * 8 * 8, 8 * 5
    assert cost.macs == stem + block_a + block_b + logits
    assert cost.params == model.count_params()
    names = [row.name for row in cost.layers]
    assert names == ["backbone/stem", "block/conv_a", "block/norm", "block/conv_b", "head/gap", "head/logits"]
    assert cost.layer("backbone/stem").output_shape == (16, 16, 8)  # the graph said (None, None, 8)
    assert cost.layer("conv_a") is cost.layer("block/conv_a")  # a unique inner name is enough
    assert sum(row.params for row in cost.layers) == model.count_params()


def test_subclassed_model_is_built_from_input_shape() -> None:
    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__(name="net")
            self.block = ResidualBlock(4, name="block")
            self.flatten = layers.Flatten(name="flatten")
            self.classifier = layers.Dense(3, name="classifier")

        def call(self, x):
            return self.classifier(self.flatten(self.block(x)))

    net = Net()
    with pytest.raises(ValueError, match=r"input_shape=\(H, W, C\)"):
        profile(net)
    cost = profile(net, input_shape=(8, 8, 4))
    assert net.built and cost.params == net.count_params()
    assert cost.macs == 8 * 8 * 3 * 3 * 4 * 4 + 8 * 8 * 4 * 4 + 8 * 8 * 4 * 3
    assert cost.layer("classifier").output_shape == (3,)
    assert profile(net).macs == cost.macs  # once built, its build shape is used


def test_shared_layer_counts_every_call_and_its_weights_once() -> None:
    shared = layers.Dense(5, name="shared")
    left, right = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([left, right], layers.Add(name="add")([shared(left), shared(right)]))
    cost = profile(model)
    assert cost.layer("shared").macs == 2 * 3 * 5
    assert cost.layer("shared").params == 3 * 5 + 5 == cost.params
    assert cost.input_shape == ((3,), (3,))


def test_unbuilt_sequential_is_built_with_input_shape() -> None:
    model = keras.Sequential([layers.Conv2D(4, 3, name="conv"), layers.Flatten(), layers.Dense(3, name="dense")])
    with pytest.raises(ValueError, match=r"not built.*input_shape=\(H, W, C\)"):
        profile(model)
    cost = profile(model, input_shape=(8, 8, 3))
    assert model.built and cost.params == model.count_params()
    assert cost.macs == 6 * 6 * 3 * 3 * 3 * 4 + (6 * 6 * 4) * 3


def test_input_shape_overrides_unknown_dimensions() -> None:
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, layers.Conv2D(4, 3, name="conv")(inputs))
    with pytest.raises(ValueError, match=r"unknown dimensions.*input_shape=\(H, W, C\)"):
        profile(model)
    assert profile(model, input_shape=(10, 12, 3)).macs == 8 * 10 * 3 * 3 * 3 * 4
    with pytest.raises(ValueError, match="batch dimension"):
        profile(model, input_shape=(1, 10, 12, 3))
    # A Flatten + Dense head only works at the size it was built for: refuse, do not miscount.
    dense_head = keras.Sequential([keras.Input((8, 8, 3)), layers.Flatten(), layers.Dense(2, name="head")])
    with pytest.raises(ValueError, match=r"'head' \(Dense\).*48 input features.*expects 192"):
        profile(dense_head, input_shape=(4, 4, 3))


def test_keras_ops_nodes_in_a_functional_graph() -> None:
    images, weights = keras.Input((4, 4, 3)), keras.Input((48, 5))
    x = layers.Conv2D(3, 1, name="conv")(images) + images  # an ops.Add node
    x = keras.ops.reshape(keras.ops.relu(x), (-1, 1, 48))
    model = keras.Model([images, weights], keras.ops.matmul(x, weights))
    cost = profile(model)
    assert cost.macs == 4 * 4 * 3 * 3 + 1 * 48 * 5
    assert cost.macs_by_type()["ops.Matmul"] == 48 * 5
    assert cost.elementwise_ops == 4 * 4 * 3 + (4 * 4 * 3) * 2  # conv bias, add, relu


def test_time_distributed_and_attention() -> None:
    model = one_layer((5, 8, 8, 3), layers.TimeDistributed(layers.Conv2D(4, 3)))
    assert profile(model).macs == 5 * 6 * 6 * 3 * 3 * 3 * 4
    inputs = keras.Input((10, 16))
    model = keras.Model(inputs, layers.MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(inputs, inputs))
    cost = profile(model)
    projections = 3 * 10 * 16 * 2 * 8 + 10 * 2 * 8 * 16  # q, k, v in; output out
    attention = 2 * 10 * 10 * (8 + 8)  # heads * Tq * Tk * (key_dim + value_dim)
    assert cost.macs == projections + attention
    assert cost.layer("mha/attention").macs == attention
    assert cost.params == model.count_params()


# --------------------------------------------------------------------------------------------------------------
# Bad input and unknown layers
# --------------------------------------------------------------------------------------------------------------


class LearnedScale(layers.Layer):
    def build(self, input_shape) -> None:
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale


def test_unknown_layer_with_weights_warns() -> None:
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, LearnedScale(name="gain")(layers.Conv2D(2, 1)(inputs)))
    with pytest.warns(UncountedLayerWarning, match=r"'gain' \(LearnedScale\)"):
        cost = profile(model)
    assert cost.layer("gain").macs == 0 and cost.layer("gain").params == 2
    assert cost.params == model.count_params()


def test_weightless_layers_do_not_warn() -> None:
    inputs = keras.Input((4, 4, 2))
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.Dropout(0.5)(layers.Flatten()(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        assert profile(keras.Model(inputs, layers.Dense(2)(x))).macs == 6 * 6 * 2 * 2


@pytest.mark.parametrize("not_a_model", ["resnet50", layers.Dense(3), None])
def test_type_error_for_non_models(not_a_model) -> None:
    with pytest.raises(TypeError, match=rf"expects a keras\.Model.*got .*{type(not_a_model).__name__}"):
        profile(not_a_model)


def test_bad_input_shape() -> None:
    model = one_layer((4, 4, 2), layers.Conv2D(2, 1))
    with pytest.raises(TypeError, match=r"e\.g\. \(224, 224, 3\)"):
        profile(model, input_shape=224)
    with pytest.raises(ValueError, match="positive ints"):
        profile(model, input_shape=(4, -4, 2))


# --------------------------------------------------------------------------------------------------------------
# The result objects
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_cnn() -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.Conv2D(16, 3, dilation_rate=2, padding="same", name="dilated")(x)
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    y = layers.SeparableConv2D(16, 3, padding="same", name="sep")(y)
    x = layers.Add(name="add")([x, y])
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="up")(x)
    x = layers.Dense(12, name="pixel_dense")(x)  # once per position of a 16x16 map
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def test_profile_table_lookup_and_types(small_cnn: keras.Model) -> None:
    cost = profile(small_cnn)
    assert isinstance(cost, Profile) and all(isinstance(row, LayerCost) for row in cost.layers)
    assert cost.flops == 2 * cost.macs
    assert sum(row.share for row in cost.layers) == pytest.approx(1.0)
    by_type = cost.macs_by_type()
    assert sum(by_type.values()) == cost.macs
    assert list(by_type.values()) == sorted(by_type.values(), reverse=True)
    assert by_type["Dense"] == 16 * 16 * 8 * 12 + 12 * 10

    text = cost.to_text()
    assert all(row.name in text for row in cost.layers)
    assert f"{cost.macs:,}" in text and "2 x MACs" in text
    top = cost.to_text(top=2).splitlines()
    biggest = sorted(cost.layers, key=lambda row: row.macs, reverse=True)[:2]
    assert [line.split()[0] for line in top[3:5]] == [row.name for row in biggest]
    assert cost.layers[-1].name not in cost.to_text(top=1)
    html = cost._repr_html_()
    assert html.count("<tr>") == len(cost.layers) + 1 and f"{cost.macs:,}" in html

    with pytest.raises(KeyError, match="dilated"):
        cost.layer("dilate")


def test_compare_ratios(small_cnn: keras.Model) -> None:
    half = keras.applications.MobileNet(weights=None, alpha=0.25, input_shape=(128, 128, 3))
    result = compare({"small": small_cnn, "mobilenet": profile(half)})
    assert isinstance(result, Comparison)
    rows = result.rows
    assert [row["name"] for row in rows] == ["small", "mobilenet"]
    assert rows[0]["ratio"] == 1.0
    assert rows[1]["ratio"] == pytest.approx(profile(half).macs / profile(small_cnn).macs)
    assert rows[1]["flops"] == 2 * rows[1]["macs"]
    assert "mobilenet" in result.to_text() and "mobilenet" in result._repr_html_()
    assert [row["name"] for row in compare([small_cnn]).rows] == ["small_cnn"]


# --------------------------------------------------------------------------------------------------------------
# TensorFlow's own profiler on the same frozen graph
# --------------------------------------------------------------------------------------------------------------


def tf_mac_flops(model: keras.Model) -> int:
    return sum(v for k, v in tf_profiler_flops(model).items() if k in TF_MAC_OP_TYPES)


def test_equals_tensorflow_profiler_2d(small_cnn: keras.Model) -> None:
    # (No grouped conv here: Keras runs it inside an XLA function the TF profiler cannot see.)
    assert tf_mac_flops(small_cnn) == 2 * profile(small_cnn).macs


def test_equals_tensorflow_profiler_1d_3d() -> None:
    inputs = keras.Input((24, 4))
    x = layers.Conv1D(8, 3, strides=2, padding="same")(inputs)
    x = layers.DepthwiseConv1D(3, depth_multiplier=2)(x)
    x = layers.SeparableConv1D(6, 3, padding="same")(x)
    x = layers.Conv1DTranspose(4, 3, strides=2, padding="same")(x)
    model = keras.Model(inputs, layers.Dense(3)(x))
    assert tf_mac_flops(model) == 2 * profile(model).macs
    model = one_layer((6, 6, 6, 2), layers.Conv3D(4, 3, strides=(1, 2, 1)))
    assert tf_mac_flops(model) == 2 * profile(model).macs == 2 * 4 * 2 * 4 * 3 * 3 * 3 * 2 * 4


# --------------------------------------------------------------------------------------------------------------
# The papers and keras.applications
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alpha, resolution, paper_million_mult_adds",
    [(1.0, 224, 569), (0.75, 224, 325), (0.5, 224, 149), (0.25, 224, 41), (1.0, 192, 418), (1.0, 160, 290),
     (1.0, 128, 186)],
)  # fmt: skip
def test_mobilenet_paper_tables_6_and_7(alpha: float, resolution: int, paper_million_mult_adds: int) -> None:
    model = keras.applications.MobileNet(weights=None, alpha=alpha, input_shape=(resolution, resolution, 3))
    cost = profile(model)
    assert cost.macs / 1e6 == pytest.approx(paper_million_mult_adds, rel=0.01)
    assert cost.params == model.count_params()


def test_vgg16_and_resnet50_params_and_macs(keras_vgg16: keras.Model) -> None:
    # Speed against TensorFlow's profiler is measured in benchmarks/bench_flops.py, not asserted here.
    resnet50 = keras.applications.ResNet50(weights=None)
    for model, expected_macs in [(keras_vgg16, 15.47e9), (resnet50, 3.86e9)]:
        cost = profile(model)
        assert cost.params == model.count_params()
        assert cost.macs == pytest.approx(expected_macs, rel=0.01)  # the commonly quoted 15.5G / 3.9G mult-adds


# --------------------------------------------------------------------------------------------------------------
# No silent zeros: unknown weightless layers and ops warn; register_cost declares a cost
# --------------------------------------------------------------------------------------------------------------


class SelfSimilarity(layers.Layer):
    """A weightless custom layer that does its own matrix product: (N, C) @ (C, N) per image."""

    def call(self, x):
        return keras.ops.matmul(x, keras.ops.transpose(x, (0, 2, 1)))


def similarity_cost(layer, input_shapes, output_shapes) -> int:
    (n, c), = input_shapes
    return n * n * c


def test_lambda_and_bilinear_upsampling_warn() -> None:
    inputs = keras.Input((4, 4, 3))
    x = layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = layers.UpSampling2D(interpolation="bilinear", name="bilinear")(x)
    with pytest.warns(UncountedLayerWarning) as caught:
        cost = profile(keras.Model(inputs, layers.UpSampling2D(name="nearest")(x)))
    texts = [str(w.message) for w in caught]
    assert any("'double' (Lambda)" in t and "register_cost(Lambda, fn)" in t for t in texts)
    assert any("'bilinear' (UpSampling2D)" in t for t in texts)
    assert not any("'nearest'" in t for t in texts)  # nearest upsampling is a copy: on the zero-cost list
    assert cost.macs == 0


def test_custom_weightless_matmul_layer_warns_until_registered() -> None:
    inputs = keras.Input((6, 4))
    model = keras.Model(inputs, SelfSimilarity(name="similarity")(inputs))
    with pytest.warns(UncountedLayerWarning, match=r"'similarity' \(SelfSimilarity\)"):
        assert profile(model).macs == 0
    flops.register_cost(SelfSimilarity, similarity_cost)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UncountedLayerWarning)
            assert profile(model).layer("similarity").macs == 6 * 6 * 4

        class ScaledSimilarity(SelfSimilarity):  # a subclass is covered by its base's registration
            pass

        sub = keras.Model(inputs, ScaledSimilarity(name="scaled")(inputs))
        with warnings.catch_warnings():
            warnings.simplefilter("error", UncountedLayerWarning)
            assert profile(sub).macs == 6 * 6 * 4
    finally:
        flops.unregister_cost(SelfSimilarity)
    with pytest.warns(UncountedLayerWarning):
        profile(model)


def test_register_cost_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"layer class.*not an instance"):
        flops.register_cost(SelfSimilarity(), similarity_cost)
    with pytest.raises(TypeError, match=r"keras\.layers\.Layer subclass"):
        flops.register_cost(int, similarity_cost)
    with pytest.raises(TypeError, match=r"fn\(layer, input_shapes, output_shapes\) -> int"):
        flops.register_cost(SelfSimilarity, 0)
    flops.register_cost(SelfSimilarity, lambda layer, ins, outs: 1.5)
    try:
        inputs = keras.Input((6, 4))
        with pytest.raises(TypeError, match=r"returned 1\.5.*int >= 0"):
            profile(keras.Model(inputs, SelfSimilarity()(inputs)))
    finally:
        flops.unregister_cost(SelfSimilarity)


def test_graph_products_einsum_dot_tensordot_count_macs() -> None:
    a, b = keras.Input((5, 8)), keras.Input((8, 3))
    model = keras.Model(
        [a, b],
        [keras.ops.einsum("bij,bjk->bik", a, b), keras.ops.tensordot(a, keras.ops.ones((8, 2)), axes=1),
         layers.Dot(axes=(2, 1), name="dot")([a, b])],
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        cost = profile(model)
    assert cost.macs_by_type()["ops.Einsum"] == 5 * 3 * 8
    assert cost.macs_by_type()["ops.Tensordot"] == 5 * 2 * 8
    assert cost.layer("dot").macs == 5 * 3 * 8


def test_unknown_graph_op_warns() -> None:
    inputs = keras.Input((4, 4))
    with pytest.warns(UncountedLayerWarning, match=r"op .*\(Cumsum\)"):
        profile(keras.Model(inputs, keras.ops.cumsum(inputs, axis=1)))


def test_concatenate_joins_several_outputs_and_a_nested_model_called_twice() -> None:
    inner_in = keras.Input((8, 8, 4))
    inner = keras.Model(inner_in, layers.Conv2D(4, 3, padding="same", name="conv")(inner_in), name="inner")
    inputs = keras.Input((8, 8, 4))
    first = inner(inputs)
    second = inner(first)  # the same nested model called twice: its conv counts twice, its weights once
    joined = keras.ops.concatenate([first, second], axis=-1)
    logits = layers.Dense(3, name="logits")(layers.GlobalAveragePooling2D(name="gap")(joined))
    model = keras.Model(inputs, [joined, logits])  # two outputs
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        cost = profile(model)
    conv = 8 * 8 * 3 * 3 * 4 * 4
    assert cost.layer("inner/conv").macs == 2 * conv
    assert cost.layer("inner/conv").params == 3 * 3 * 4 * 4 + 4
    assert cost.macs == 2 * conv + 8 * 3
    assert cost.params == model.count_params()
    assert cost.macs_by_type()["ops.Concatenate"] == 0
    concat = [row for row in cost.layers if row.layer_type == "ops.Concatenate"]
    assert len(concat) == 1 and concat[0].elementwise_ops == 8 * 8 * 8  # a copy of every output element


def test_the_warning_points_at_the_callers_line() -> None:
    inputs = keras.Input((4,))
    with pytest.warns(UncountedLayerWarning) as caught:
        profile(keras.Model(inputs, layers.Lambda(lambda t: t + 1.0, name="plus_one")(inputs)))
    assert caught[0].filename == __file__  # the notebook cell, not a line inside workshop_utils.flops


def test_registered_cost_replaces_the_tracing_of_a_layer_with_sublayers() -> None:
    inputs = keras.Input((6, 6, 4))
    model = keras.Model(inputs, ResidualBlock(4, name="block")(inputs))
    traced = profile(model)
    assert [row.name for row in traced.layers] == ["block/conv_a", "block/norm", "block/conv_b"]
    flops.register_cost(ResidualBlock, lambda layer, ins, outs: 1234)
    try:
        declared = profile(model)
    finally:
        flops.unregister_cost(ResidualBlock)
    assert [(row.name, row.macs) for row in declared.layers] == [("block", 1234)]
    assert declared.params == traced.params == model.count_params()  # its weights are still all counted


# --------------------------------------------------------------------------------------------------------------
# keras.applications: every family counted, none with a warning
# --------------------------------------------------------------------------------------------------------------

# The smallest model of each keras.applications family (module -> builder), at the smallest input its family
# accepts where that is cheap: the test builds all 15 (weights=None: nothing is downloaded).
SMALLEST_APPLICATIONS = {
    "convnext": lambda a: a.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3)),
    "densenet": lambda a: a.DenseNet121(weights=None, input_shape=(32, 32, 3)),
    "efficientnet": lambda a: a.EfficientNetB0(weights=None, input_shape=(32, 32, 3)),
    "efficientnet_v2": lambda a: a.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3)),
    "inception_resnet_v2": lambda a: a.InceptionResNetV2(weights=None, input_shape=(75, 75, 3)),
    "inception_v3": lambda a: a.InceptionV3(weights=None, input_shape=(75, 75, 3)),
    "mobilenet": lambda a: a.MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3)),
    "mobilenet_v2": lambda a: a.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3)),
    "mobilenet_v3": lambda a: a.MobileNetV3Small(weights=None, alpha=0.75, input_shape=(32, 32, 3)),
    "nasnet": lambda a: a.NASNetMobile(weights=None, input_shape=(32, 32, 3)),
    "resnet": lambda a: a.ResNet50(weights=None, input_shape=(32, 32, 3)),
    "resnet_v2": lambda a: a.ResNet50V2(weights=None, input_shape=(32, 32, 3)),
    "vgg16": lambda a: a.VGG16(weights=None, input_shape=(32, 32, 3)),
    "vgg19": lambda a: a.VGG19(weights=None, input_shape=(32, 32, 3)),
    "xception": lambda a: a.Xception(weights=None, input_shape=(71, 71, 3)),
}


def test_the_list_covers_every_keras_applications_family() -> None:
    import inspect

    modules = {name for name, value in vars(keras.applications).items()
               if inspect.ismodule(value) and name not in ("imagenet_utils", "resnet50")}  # resnet50: resnet's alias
    assert modules == set(SMALLEST_APPLICATIONS), (
        f"keras.applications families not in SMALLEST_APPLICATIONS: {sorted(modules - set(SMALLEST_APPLICATIONS))}")


@pytest.mark.parametrize("family", sorted(SMALLEST_APPLICATIONS))
def test_smallest_model_of_every_keras_applications_family_is_counted_without_a_warning(family: str) -> None:
    model = SMALLEST_APPLICATIONS[family](keras.applications)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)  # a layer without a cost rule fails the test
        cost = profile(model)
    assert cost.params == model.count_params()
    assert cost.macs == sum(row.macs for row in cost.layers) > 0


def test_application_custom_layers_have_their_elementwise_cost() -> None:
    from keras.src.applications.convnext import LayerScale, StochasticDepth
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    inputs = keras.Input((4, 4, 8))
    scaled = LayerScale(1e-6, 8, name="layer_scale")(inputs)
    dropped = StochasticDepth(0.1, name="stochastic_depth")(scaled)
    outputs = CustomScaleLayer(0.17, name="custom_scale")([inputs, dropped])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        cost = profile(keras.Model(inputs, outputs))
    elements = 4 * 4 * 8
    assert [(row.name, row.macs, row.elementwise_ops) for row in cost.layers] == [
        ("layer_scale", 0, elements), ("stochastic_depth", 0, 0), ("custom_scale", 0, 2 * elements)]
    assert cost.params == 8  # LayerScale's gamma


def test_a_users_layer_named_like_an_application_layer_still_warns() -> None:
    class LayerScale(layers.Layer):  # not keras.applications' own: its cost is unknown
        def build(self, input_shape):
            self.gamma = self.add_weight(shape=(input_shape[-1],))

        def call(self, x):
            return x * self.gamma

    with pytest.warns(UncountedLayerWarning, match="LayerScale"):
        profile(one_layer((4, 4, 8), LayerScale()))


# --------------------------------------------------------------------------------------------------------------
# The rules own the library layers' costs: models never import the counter
# --------------------------------------------------------------------------------------------------------------


def test_importing_the_architectures_does_not_import_the_counter() -> None:
    """A model definition must not load the cost counter (the rules know the layers, not the reverse)."""
    import pkgutil
    import subprocess
    import sys

    import workshop_utils.architectures as architectures

    modules = [f"workshop_utils.architectures.{info.name}" for info in pkgutil.iter_modules(architectures.__path__)]
    modules += ["workshop_utils.grouped_conv", "workshop_utils.neural_ode", "workshop_utils.cross_group"]
    assert "workshop_utils.architectures.resnet" in modules and len(modules) >= 14
    script = (f"import sys\nfor name in {modules!r}:\n    __import__(name)\n"
              "print(sorted(m for m in sys.modules if m.startswith('workshop_utils.flops')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_library_layer_costs_name_real_layer_classes() -> None:
    import importlib

    for path in flops.LIBRARY_LAYER_COSTS:
        module, _, name = path.rpartition(".")
        assert issubclass(getattr(importlib.import_module(module), name), keras.layers.Layer), path


def test_library_layers_are_counted_without_warnings_and_with_their_rules() -> None:
    from workshop_utils.architectures.resnet import IdentityPadShortcut
    from workshop_utils.architectures.shufflenet import ChannelShuffle
    from workshop_utils.grouped_conv import ChannelSplit

    inputs = keras.Input((8, 8, 6))
    shuffled = ChannelShuffle(3, name="shuffle")(inputs)
    padded = IdentityPadShortcut(12, stride=2, name="pad")(shuffled)
    pieces = ChannelSplit(2, name="split")(padded)
    model = keras.Model(inputs, layers.Concatenate(name="join")(list(pieces)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        cost = profile(model)
    assert [cost.layer(name).macs for name in ("shuffle", "pad", "split")] == [0, 0, 0]

    class Subclassed(IdentityPadShortcut):  # the rule is found through the class's bases
        pass

    padded = Subclassed(12, stride=2, name="sub")(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedLayerWarning)
        assert profile(keras.Model(inputs, padded)).macs == 0
    flops.register_cost(Subclassed, lambda layer, ins, outs: 7)   # a user's registration comes first
    try:
        assert profile(keras.Model(inputs, padded)).layer("sub").macs == 7
    finally:
        flops.unregister_cost(Subclassed)
