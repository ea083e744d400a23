"""Checker for notebook 07's exercise: the basic residual block of ResNet (He et al. 2015, figure 2 and 5 left).

The attendee writes ``residual_block(x, filters, stride=1)``: 3x3 conv (stride) - BN - ReLU - 3x3 conv - BN, plus a
shortcut that is the input itself when the shape is kept and a strided 1x1 conv + BN (option B) when the stride
or the channels change; add, then ReLU. The check builds the block on a few shapes, reads its graph (which
tensor each layer reads) to name the usual mistakes, and finally copies the attendee's weights into the reference
:func:`workshop_utils.architectures.resnet.basic_block` and compares outputs.

Mistakes it names (``CheckResult.mistake``):

* ``missing_projection`` -- no (or a wrongly strided) projection when the stride or the channels change;
* ``add_before_bn`` -- the shortcut is added to the conv output and BN comes after the addition;
* ``relu_placement`` -- a ReLU on the residual branch before the addition, no ReLU after it, a ReLU between a
  conv and its BN (``Conv2D(activation="relu")``), or no ReLU between the two convs;
* ``wrong_shortcut_tensor`` -- the shortcut reads something other than the block's input (often ``x`` after it
  was reassigned by the first conv);
* ``projection_always`` -- a projection where the shape is kept (the design: identity there);
* ``projection_without_bn`` -- a 1x1 projection without its BN;
* ``stride_placement`` -- the stride on the second 3x3 conv instead of the first;
* ``structure`` / ``shape`` / ``values`` -- anything else, with what was found.

Example::

    from workshop_utils.exercises.resnet import check_residual_block
    check_residual_block(residual_block)      # "Passed: ..." or a hint
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from workshop_utils.exercises import CheckResult, Hint, run_check

#: (input height/width, input channels, filters, stride): kept shape, stride 2 + doubled channels, channels only.
CASES: tuple[tuple[int, int, int, int], ...] = ((8, 16, 16, 1), (8, 16, 32, 2), (7, 8, 16, 1), (9, 12, 12, 2))


@dataclass
class _Op:
    """One operation of the attendee's block graph: what it is and which operations it reads."""

    operation: Any
    kind: str
    parents: list[_Op]


def _kind(operation: Any) -> str:
    name = type(operation).__name__
    if name == "InputLayer":
        return "input"
    if isinstance(operation, keras.layers.Conv2D):
        size = tuple(operation.kernel_size)
        kind = "conv1x1" if size == (1, 1) else "conv3x3" if size == (3, 3) else f"conv{size[0]}x{size[1]}"
        activation = getattr(operation.activation, "__name__", "linear")
        return kind + ("+relu" if activation == "relu" else "")
    if isinstance(operation, keras.layers.BatchNormalization):
        return "bn"
    if isinstance(operation, keras.layers.ReLU) or name.lower() == "relu":
        return "relu"
    if isinstance(operation, keras.layers.Activation):
        return "relu" if getattr(operation.activation, "__name__", "") == "relu" else "activation"
    if name == "Add":  # layers.Add and keras.ops.add / `a + b` alike
        return "add"
    return name.lower()


def _graph(model: keras.Model) -> _Op:
    """The block's operations as a tree of :class:`_Op`, from the output back to the input."""
    memo: dict[int, _Op] = {}

    def visit(tensor: Any) -> _Op:
        operation = tensor._keras_history.operation
        if id(operation) in memo:
            return memo[id(operation)]
        node = operation._inbound_nodes[tensor._keras_history.node_index]
        op = _Op(operation, _kind(operation), [])
        memo[id(operation)] = op
        op.parents = [visit(parent) for parent in node.input_tensors]
        return op

    return visit(model.outputs[0])


def _chain(op: _Op) -> list[_Op]:
    """Follow single-input operations back from ``op``; the last entry is the input, an add, or a fork."""
    chain = [op]
    while len(chain[-1].parents) == 1:
        chain.append(chain[-1].parents[0])
    return chain


def _kinds(chain: list[_Op]) -> list[str]:
    return [op.kind for op in chain]


def _build(block: Callable[..., Any], height: int, channels: int, filters: int, stride: int) -> keras.Model:
    inputs = keras.Input((height, height, channels), name="block_input")
    outputs = block(inputs, filters, stride)
    if not isinstance(outputs, keras.KerasTensor):
        raise Hint(f"residual_block returned {type(outputs).__name__}; return the block's output tensor.",
                   mistake="structure")
    return keras.Model(inputs, outputs)


def _diagnose(model: keras.Model, channels: int, filters: int, stride: int) -> dict[str, _Op]:
    """Read the graph; raise :class:`Hint` on the first mistake; return the layers by role for the value check."""
    case = f"(input {model.inputs[0].shape[1]}x{model.inputs[0].shape[2]}x{channels}, filters={filters}, " \
           f"stride={stride})"
    output = _graph(model)
    if any(op.kind.endswith("+relu") for op in _walk(output)):
        raise Hint("A conv has activation='relu', so the ReLU comes before its BN. Keep the convs linear "
                   "(no activation) and put the ReLU after BN.", mistake="relu_placement", case=case)
    tail = _chain(output)
    kinds = _kinds(tail)
    if tail[-1].kind != "add":
        raise Hint(f"No addition found on the way from the output back ({' <- '.join(kinds)}): add the shortcut "
                   "with layers.Add()([residual, shortcut]) (or `residual + shortcut`).", mistake="structure",
                   case=case)
    after_add = kinds[:-1]
    if "bn" in after_add:
        raise Hint("BN comes after the addition: the design adds the shortcut to the *output of the second BN*, "
                   "then applies ReLU (conv-BN-ReLU-conv-BN, add, ReLU).", mistake="add_before_bn", case=case)
    if after_add != ["relu"]:
        raise Hint(f"After the addition there should be exactly one ReLU; found {after_add or 'nothing'}. The "
                   "block's output is ReLU(F(x) + shortcut).", mistake="relu_placement", case=case)
    add = tail[-1]
    if len(add.parents) != 2:
        raise Hint(f"The addition has {len(add.parents)} inputs; it adds two: the residual branch and the "
                   "shortcut.", mistake="structure", case=case)
    chains = [_chain(parent) for parent in add.parents]
    residual_index = max(range(2), key=lambda i: sum(k.startswith("conv3x3") for k in _kinds(chains[i])))
    residual, shortcut = chains[residual_index], chains[1 - residual_index]
    residual_kinds, shortcut_kinds = _kinds(residual), _kinds(shortcut)
    if residual_kinds[0] == "relu":
        raise Hint("The residual branch ends with a ReLU before the addition. In the original block the second "
                   "BN's output is added as is, and the ReLU comes after the addition (a ReLU before the add "
                   "makes F(x) >= 0: the block can only ever increase its input).", mistake="relu_placement",
                   case=case)
    if residual_kinds[0].startswith("conv"):
        raise Hint("The second conv's output is added before its BN: apply BN to the conv output first, then add "
                   "the shortcut (and the ReLU after the addition).", mistake="add_before_bn", case=case)
    residual_ops = {id(op) for op in residual[:-1]}
    if any(id(op) in residual_ops for op in shortcut) or any(
            kind in ("conv3x3", "relu", "add") for kind in shortcut_kinds):
        raise Hint(f"The shortcut does not read the block's input: it reads {' <- '.join(shortcut_kinds)}. Keep a "
                   "reference to the input (`shortcut = x`) *before* `x` is reassigned by the first conv, and add "
                   "that (through the 1x1 projection when the shape changes).", mistake="wrong_shortcut_tensor",
                   case=case)
    if residual_kinds[-1] != "input" or shortcut_kinds[-1] != "input":
        raise Hint(f"Both branches should start at the block's input; found residual {' <- '.join(residual_kinds)} "
                   f"and shortcut {' <- '.join(shortcut_kinds)}.", mistake="structure", case=case)
    expected = ["bn", "conv3x3", "relu", "bn", "conv3x3", "input"]
    if residual_kinds != expected:
        missing_relu = residual_kinds == ["bn", "conv3x3", "bn", "conv3x3", "input"]
        raise Hint(("No ReLU between the first BN and the second conv. " if missing_relu else "")
                   + "The residual branch should read conv3x3 -> BN -> ReLU -> conv3x3 -> BN; found (from the add "
                   f"back to the input) {' <- '.join(residual_kinds)}.",
                   mistake="relu_placement" if missing_relu else "structure", case=case)
    changes_shape = stride != 1 or channels != filters
    projection = [op for op in shortcut if op.kind == "conv1x1"]
    if not changes_shape and projection:
        raise Hint("The shape is kept here (stride 1, same channels), so the design's shortcut is the identity: "
                   "project only when the stride or the channels change (option B).", mistake="projection_always",
                   case=case)
    if changes_shape and not projection:
        raise Hint("The stride or the channels change, so the shortcut needs a projection: "
                   "Conv2D(filters, 1, strides=stride, use_bias=False) + BN on the input.",
                   mistake="missing_projection", case=case)
    if projection and _kinds(shortcut) != ["bn", "conv1x1", "input"]:
        mistake = "projection_without_bn" if _kinds(shortcut) == ["conv1x1", "input"] else "structure"
        raise Hint(f"The projection shortcut should be a 1x1 conv followed by BN; found {' <- '.join(_kinds(shortcut))}.",
                   mistake=mistake, case=case)
    first_conv, second_conv = residual[4].operation, residual[1].operation
    if tuple(first_conv.strides) != (stride, stride):
        mistake = "stride_placement" if tuple(second_conv.strides) == (stride, stride) else "shape"
        raise Hint(f"The stride belongs on the first 3x3 conv (strides={stride}); the second conv has stride 1.",
                   mistake=mistake, case=case)
    roles = {"1_conv": residual[4], "1_bn": residual[3], "2_conv": residual[1], "2_bn": residual[0]}
    if projection:
        roles.update({"0_conv": shortcut[1], "0_bn": shortcut[0]})
    return roles


def _walk(op: _Op) -> list[_Op]:
    seen: dict[int, _Op] = {}
    stack = [op]
    while stack:
        current = stack.pop()
        if id(current) not in seen:
            seen[id(current)] = current
            stack.extend(current.parents)
    return list(seen.values())


def _compare_values(model: keras.Model, roles: dict[str, _Op], height: int, channels: int, filters: int,
                    stride: int, seed: int) -> None:
    """Copy the attendee's weights into the reference block and compare outputs in inference and training mode."""
    from workshop_utils.architectures.resnet import basic_block

    inputs = keras.Input((height, height, channels))
    reference = keras.Model(inputs, basic_block(inputs, filters, stride, name="reference"))
    rng = np.random.default_rng(seed)
    for role, op in roles.items():
        layer = reference.get_layer(f"reference_{role}")
        if role.endswith("bn"):  # non-trivial BN statistics, so a BN in the wrong place shows in the values
            weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") if i in (0, 3)
                       else rng.normal(0, 0.3, w.shape).astype("float32") for i, w in enumerate(op.operation.get_weights())]
            op.operation.set_weights(weights)
        own = op.operation.get_weights()
        if [w.shape for w in own] != [w.shape for w in layer.get_weights()]:
            bias = role.endswith("conv") and len(own) == 2
            raise Hint(("The conv has a bias; BN right after it makes the bias redundant: use_bias=False. "
                        if bias else "") + f"Layer {op.operation.name} holds weights of shapes "
                       f"{[w.shape for w in own]}, the reference {[w.shape for w in layer.get_weights()]}.",
                       mistake="bias_before_bn" if bias else "structure")
        layer.set_weights(own)
        if role.endswith("bn"):
            layer.epsilon = op.operation.epsilon  # any epsilon is fine: compare like with like
    images = rng.normal(size=(2, height, height, channels)).astype("float32")
    for training in (False, True):
        expected = keras.ops.convert_to_numpy(reference(images, training=training))
        got = keras.ops.convert_to_numpy(model(images, training=training))
        if not np.allclose(got, expected, atol=1e-4, rtol=1e-4):
            raise Hint(f"Your block has the right layers but computes different values than the reference "
                       f"(max difference {np.max(np.abs(got - expected)):.3g}, training={training}); check "
                       "padding='same' on both 3x3 convs and that the stride is on the first one.",
                       mistake="values")


def check_residual_block(residual_block: Callable[..., Any], seed: int = 0) -> CheckResult:
    """Check ``residual_block(x, filters, stride=1)`` on the shapes in :data:`CASES`; name the mistake found.

    Example::

        check_residual_block(residual_block)     # Passed: ... / Not yet: ...
    """

    def checks() -> str:
        for height, channels, filters, stride in CASES:
            case = f"(input {height}x{height}x{channels}, filters={filters}, stride={stride})"
            try:
                model = _build(residual_block, height, channels, filters, stride)
            except (Hint, NotImplementedError):
                raise
            except Exception as error:  # a shape mismatch at the addition, most often
                changes = stride != 1 or channels != filters
                if changes and any(word in str(error).lower() for word in ("shape", "incompatible", "broadcast")):
                    raise Hint(f"Building the block for {case} fails at the addition: the shortcut and the residual "
                               "branch have different shapes. When the stride or the channels change, project the "
                               "shortcut: Conv2D(filters, 1, strides=stride, use_bias=False) + BN.",
                               mistake="missing_projection", case=case) from None
                if any(word in str(error).lower() for word in ("shape", "incompatible", "broadcast")):
                    raise Hint(f"Building the block for {case} fails at the addition: the residual branch's "
                               f"shape differs from the input's ({error}). Use padding='same' on both 3x3 convs.",
                               mistake="shape", case=case) from None
                raise Hint(f"Building the block for {case} raised {type(error).__name__}: {error}",
                           mistake="structure", case=case) from None
            expected_shape = (None, -(-height // stride), -(-height // stride), filters)
            if tuple(model.outputs[0].shape) != expected_shape:
                raise Hint(f"For {case} the output shape is {tuple(model.outputs[0].shape)}, expected "
                           f"{expected_shape}: padding='same' on the 3x3 convs, stride on the first.",
                           mistake="shape", case=case)
            roles = _diagnose(model, channels, filters, stride)
            _compare_values(model, roles, height, channels, filters, stride, seed)
        return (f"your block matches the reference basic block (identity and projection shortcuts) on "
                f"{len(CASES)} shapes, in inference and training mode.")

    return run_check(checks)
