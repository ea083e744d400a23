"""The checkers' shared plumbing: preamble, build-or-hint, graph reading, weight copy, output comparison."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from keras import layers

from workshop_utils.exercises import FAIL_PREFIX, PASS_PREFIX, Hint
from workshop_utils.exercises._toolkit import (
    build,
    chain,
    checker,
    close,
    copy_weights,
    labels,
    op_kind,
    outputs,
    randomise_batch_norm,
    read_graph,
    shapes_in,
)


@checker("my_block", not_written="write my_block first.")
def check_my_block(my_block, seed: int = 0) -> str:
    if my_block(seed) != seed + 1:
        raise Hint("add one.", mistake="off_by_one")
    return "it adds one."


def test_checker_refuses_a_non_function_and_runs_the_body_under_run_check() -> None:
    with pytest.raises(TypeError, match=r"check_my_block needs your function, e\.g\. check_my_block\(my_block\)"):
        check_my_block("my_block")
    assert check_my_block(lambda n: n + 1).message == PASS_PREFIX + "it adds one."
    wrong = check_my_block(lambda n: n, seed=3)
    assert (wrong.passed, wrong.mistake, wrong.message) == (False, "off_by_one", FAIL_PREFIX + "add one.")

    def stub(n):
        raise NotImplementedError

    assert check_my_block(stub).message == FAIL_PREFIX + "write my_block first."
    assert str(inspect.signature(check_my_block)).endswith("-> 'CheckResult'")


def test_build_turns_every_failure_into_a_hint() -> None:
    model = build(lambda x, f: layers.Conv2D(f, 3)(x), (8, 8, 3), 4)
    assert tuple(model.output.shape) == (None, 6, 6, 4)
    with pytest.raises(Hint) as raised:
        build(lambda x, f: None, (8, 8, 3), 4, returns="the block's output", case="c")
    assert (raised.value.mistake, raised.value.case) == ("not_a_tensor", "c")
    assert raised.value.message == "Return the block's output; your function returned NoneType."
    with pytest.raises(Hint) as raised:
        build(lambda x: layers.Add()([x, layers.Conv2D(2, 1)(x)]), (8, 8, 3), call="my_block(x)")
    assert raised.value.mistake == "error" and raised.value.message.startswith("my_block(x) raised ValueError")
    with pytest.raises(Hint, match="not computed from the input"):
        build(lambda x: keras.Input((8, 8, 3)), (8, 8, 3))
    with pytest.raises(NotImplementedError):
        build(lambda x: (_ for _ in ()).throw(NotImplementedError), (8, 8, 3))


def test_shapes_in_reads_the_shapes_of_a_keras_error() -> None:
    message = "Received: input_shape=[(None, 8, 8, 3), (None, 6, 6, 4)] and (2, 3)"
    assert shapes_in(message) == [(None, 8, 8, 3), (None, 6, 6, 4)]


def test_read_graph_orders_ops_names_kinds_and_follows_ops_add() -> None:
    inputs = keras.Input((8, 8, 4))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(layers.DepthwiseConv2D(3, padding="same")(x)))
    y = layers.Activation("sigmoid")(x) + inputs  # keras.ops add, not a layer
    graph = read_graph(keras.Model(inputs, layers.Concatenate()([y, layers.MaxPooling2D(1)(y)])))
    assert labels(graph.ops) == ["input", "conv3x3+relu", "depthwise3x3", "bn", "relu", "sigmoid", "add", "maxpool",
                                 "concat"]
    assert graph.output.kind == "concat" and [p.kind for p in graph.output.parents] == ["add", "maxpool"]
    add = graph.of_kind("add")[0]
    assert [p.kind for p in add.parents] == ["sigmoid", "input"]
    assert labels(chain(add.parents[0])) == ["sigmoid", "relu", "bn", "depthwise3x3", "conv3x3+relu", "input"]
    assert [c.kind for c in graph.children(add)] == ["maxpool", "concat"]
    assert graph.of_kind("conv")[0].kernel == (3, 3, 4, 4)
    assert op_kind(layers.ReLU(negative_slope=0.1)) == "leaky_relu" and op_kind(layers.ReLU(6.0)) == "relu"
    assert op_kind(layers.Activation("relu6")) == "relu" and op_kind(layers.AveragePooling2D(2)) == "avgpool"


def test_copy_weights_by_role_fills_a_missing_bias_copies_epsilon_and_refuses_misfits() -> None:
    def net(bias: bool, epsilon: float) -> keras.Model:
        inputs = keras.Input((5, 5, 3))
        x = layers.Conv2D(4, 3, use_bias=bias, name="conv")(inputs)
        return keras.Model(inputs, layers.BatchNormalization(epsilon=epsilon, name="bn")(x))

    mine, reference = net(False, 1e-3), net(True, 1e-5)
    rng = np.random.default_rng(0)
    randomise_batch_norm([mine.get_layer("bn")], rng)
    copy_weights({"c": mine.get_layer("conv"), "b": mine.get_layer("bn")},
                 {"c": reference.get_layer("conv"), "b": reference.get_layer("bn")})
    assert not reference.get_layer("conv").get_weights()[1].any() and reference.get_layer("bn").epsilon == 1e-3
    images = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    assert close(outputs(mine, images), outputs(reference, images))
    assert not close(outputs(mine, images), outputs(net(False, 1e-3), images))
    wider = layers.Conv2D(5, 3)
    wider.build((None, 5, 5, 3))
    with pytest.raises(Hint, match="holds weights of shapes"):
        copy_weights([mine.get_layer("conv")], [wider])


def test_close_is_relative_to_the_largest_value_and_checks_shapes() -> None:
    want = np.array([1000.0, 0.0])
    assert close(want + 0.05, want) and not close(want + 0.2, want)
    assert not close(np.zeros(3), np.zeros(2))
