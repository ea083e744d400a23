"""The private Keras APIs the workshop relies on, gathered in workshop_utils._keras_internals: if a Keras upgrade
renames one, these tests fail here first, with the name of the function to fix."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from workshop_utils import _keras_internals as internals


@pytest.fixture(scope="module")
def residual() -> keras.Model:
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    return keras.Model(inputs, layers.Dense(2, name="head")(keras.ops.relu(x + inputs)), name="residual")


def test_graph_nodes_include_ops_nodes_in_dependency_order(residual: keras.Model) -> None:
    names = [type(node.operation).__name__ for node in internals.graph_nodes(residual)]
    assert names == ["Conv2D", "Add", "Relu", "Dense"]  # model.layers has only Conv2D and Dense (and the input)
    assert [type(layer).__name__ for layer in residual.layers] == ["InputLayer", "Conv2D", "Dense"]


def test_node_arguments_refill_the_call_with_new_tensors(residual: keras.Model) -> None:
    conv_node = next(internals.graph_nodes(residual))
    replacement = keras.KerasTensor((None, 16, 16, 3))
    args, kwargs = internals.node_arguments(conv_node, {id(residual.inputs[0]): replacement})
    assert args[0] is replacement and kwargs == {}


def test_functional_sequential_and_inputs_structure(residual: keras.Model) -> None:
    assert isinstance(residual, internals.functional_class())
    sequential = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert isinstance(internals.sequential_graph(sequential), internals.functional_class())
    assert internals.sequential_graph(keras.Sequential([layers.Dense(2)])) is None  # not built yet
    assert internals.inputs_structure(residual) is not None


class Block(layers.Layer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.inner = layers.Dense(3, name="inner")
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")

    def call(self, x):
        return self.inner(x) * self.scale


def test_sublayers_own_variables_and_recorded_calls() -> None:
    block = Block(name="block")
    block(keras.ops.zeros((1, 4)))
    assert [sub.name for sub in internals.direct_sublayers(block)] == ["inner"]
    assert [v.name for v in internals.own_variables(block)] == ["scale"]
    seen: list[str] = []

    def record(layer, args, kwargs, call):
        seen.append(layer.name)
        return call()

    with internals.recording_layer_calls(record):
        out = internals.symbolic_call(block.call, keras.KerasTensor((None, 4)))
    assert seen == ["inner"] and tuple(out.shape) == (None, 3)
    assert layers.Layer.__call__ is not None and "recording_call" not in layers.Layer.__call__.__name__


def test_build_shapes_attention_and_inbound_nodes(residual: keras.Model) -> None:
    dense = layers.Dense(2)
    dense.build((None, 4))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = keras.Input((5, 8))
    mha(x, x)
    assert [type(p).__name__ for p in internals.attention_projections(mha)] == ["EinsumDense"] * 3
    assert len(internals.inbound_nodes(residual.get_layer("conv"))) == 1

    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.head = layers.Dense(2)

        def call(self, x):
            return self.head(x)

    net = Net()
    net(keras.ops.zeros((1, 7)))
    assert [tuple(shape) for shape in internals.build_input_shapes(net)] == [(1, 7)]


def test_source_layer_of_a_tensor(residual: keras.Model) -> None:
    conv = residual.get_layer("conv")
    assert internals.source_layer(conv.output) is conv
    assert internals.source_layer(keras.ops.zeros((1,))) is None  # a concrete tensor has no graph history


def test_efficientnet_factory_builds_b0_with_unit_coefficients() -> None:
    model = internals.efficientnet_factory()(1.0, 1.0, 224, weights=None, input_shape=(224, 224, 3))
    assert model.count_params() == keras.applications.EfficientNetB0(weights=None).count_params() == 5_330_571
