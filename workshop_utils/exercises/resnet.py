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

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

#: (input height/width, input channels, filters, stride): kept shape, stride 2 + doubled channels, channels only.
CASES: tuple[tuple[int, int, int, int], ...] = ((8, 16, 16, 1), (8, 16, 32, 2), (7, 8, 16, 1), (9, 12, 12, 2))

_SHAPE_WORDS = ("shape", "incompatible", "broadcast")


def _explain_build_error(error: Exception, channels: int, filters: int, stride: int, case: str) -> Hint:
    """A hint for an error raised while building the block: a shape mismatch at the addition, most often."""
    at_add = any(word in str(error).lower() for word in _SHAPE_WORDS)
    if at_add and (stride != 1 or channels != filters):
        return Hint(f"Building the block for {case} fails at the addition: the shortcut and the residual "
                    "branch have different shapes. When the stride or the channels change, project the "
                    "shortcut: Conv2D(filters, 1, strides=stride, use_bias=False) + BN.", mistake="missing_projection")
    if at_add:
        return Hint(f"Building the block for {case} fails at the addition: the residual branch's "
                    f"shape differs from the input's ({error}). Use padding='same' on both 3x3 convs.", mistake="shape")
    return Hint(f"Building the block for {case} raised {type(error).__name__}: {error}", mistake="structure")


def _roles(output: kit.Op, channels: int, filters: int, stride: int, case: str) -> dict[str, kit.Op]:
    """Read the block's graph back from its output; raise :class:`Hint` on the first mistake; return its layers by
    role (``"1_conv"``, ``"1_bn"``, ``"2_conv"``, ``"2_bn"``, with a projection ``"0_conv"``, ``"0_bn"``)."""
    tail = kit.chain(output)
    kinds = kit.labels(tail)
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
    chains = [kit.chain(parent) for parent in add.parents]
    residual_index = max(range(2), key=lambda i: sum(k.startswith("conv3x3") for k in kit.labels(chains[i])))
    residual, shortcut = chains[residual_index], chains[1 - residual_index]
    residual_kinds, shortcut_kinds = kit.labels(residual), kit.labels(shortcut)
    if residual_kinds[0] == "relu":
        raise Hint("The residual branch ends with a ReLU before the addition. In the original block the second "
                   "BN's output is added as is, and the ReLU comes after the addition (a ReLU before the add "
                   "makes F(x) >= 0: the block can only ever increase its input).", mistake="relu_placement",
                   case=case)
    if residual_kinds[0].startswith("conv"):
        raise Hint("The second conv's output is added before its BN: apply BN to the conv output first, then add "
                   "the shortcut (and the ReLU after the addition).", mistake="add_before_bn", case=case)
    if any(op in residual[:-1] for op in shortcut) or any(
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
    projection = [op for op in shortcut if op.label == "conv1x1"]
    if not changes_shape and projection:
        raise Hint("The shape is kept here (stride 1, same channels), so the design's shortcut is the identity: "
                   "project only when the stride or the channels change (option B).", mistake="projection_always",
                   case=case)
    if changes_shape and not projection:
        raise Hint("The stride or the channels change, so the shortcut needs a projection: "
                   "Conv2D(filters, 1, strides=stride, use_bias=False) + BN on the input.",
                   mistake="missing_projection", case=case)
    if projection and shortcut_kinds != ["bn", "conv1x1", "input"]:
        mistake = "projection_without_bn" if shortcut_kinds == ["conv1x1", "input"] else "structure"
        raise Hint(f"The projection shortcut should be a 1x1 conv followed by BN; found {' <- '.join(shortcut_kinds)}.",
                   mistake=mistake, case=case)
    first_conv, second_conv = residual[4].layer, residual[1].layer
    if tuple(first_conv.strides) != (stride, stride):
        mistake = "stride_placement" if tuple(second_conv.strides) == (stride, stride) else "shape"
        raise Hint(f"The stride belongs on the first 3x3 conv (strides={stride}); the second conv has stride 1.",
                   mistake=mistake, case=case)
    roles = {"1_conv": residual[4], "1_bn": residual[3], "2_conv": residual[1], "2_bn": residual[0]}
    if projection:
        roles.update({"0_conv": shortcut[1], "0_bn": shortcut[0]})
    return roles


def _diagnose(model: Any, channels: int, filters: int, stride: int, case: str) -> dict[str, Any]:
    """The block's layers by role, or the :class:`Hint` for the first mistake in its graph."""
    graph = kit.read_graph(model)
    if any(op.activation == "relu" for op in graph.ops):
        raise Hint("A conv has activation='relu', so the ReLU comes before its BN. Keep the convs linear "
                   "(no activation) and put the ReLU after BN.", mistake="relu_placement", case=case)
    roles = _roles(graph.output, channels, filters, stride, case)
    for role, op in roles.items():
        if role.endswith("conv") and op.layer.use_bias:
            raise Hint(f"The conv has a bias; BN right after it makes the bias redundant: use_bias=False. Layer "
                       f"{op.name} holds weights of shapes {[w.shape for w in op.layer.get_weights()]}.",
                       mistake="bias_before_bn", case=case)
    return {role: op.layer for role, op in roles.items()}


def _compare_values(model: Any, roles: dict[str, Any], height: int, channels: int, filters: int, stride: int,
                    seed: int) -> None:
    """Copy the attendee's weights into the reference block and compare outputs in inference and training mode."""
    import keras

    from workshop_utils.architectures.resnet import basic_block

    inputs = keras.Input((height, height, channels))
    reference = keras.Model(inputs, basic_block(inputs, filters, stride, name="reference"))
    rng = np.random.default_rng(seed)
    kit.randomise_batch_norm([layer for role, layer in roles.items() if role.endswith("bn")], rng)
    kit.copy_weights(roles, _diagnose(reference, channels, filters, stride, "(the reference)"))
    images = rng.normal(size=(2, height, height, channels)).astype("float32")
    for training in (False, True):
        want, got = kit.outputs(reference, images, training), kit.outputs(model, images, training)
        if not kit.close(got, want):
            raise Hint(f"Your block has the right layers but computes different values than the reference "
                       f"(max difference {np.max(np.abs(got - want)):.3g}, training={training}); check "
                       "padding='same' on both 3x3 convs and that the stride is on the first one.",
                       mistake="values")


@kit.checker("residual_block")
def check_residual_block(residual_block: Callable[..., Any], seed: int = 0) -> str:
    """Check ``residual_block(x, filters, stride=1)`` on the shapes in :data:`CASES`; name the mistake found.

    Example::

        check_residual_block(residual_block)     # Passed: ... / Not yet: ...
    """
    for height, channels, filters, stride in CASES:
        case = f"(input {height}x{height}x{channels}, filters={filters}, stride={stride})"
        model = kit.build(residual_block, (height, height, channels), filters, stride, case=case,
                          returns="the block's output tensor",
                          explain=functools.partial(_explain_build_error, channels=channels, filters=filters,
                                                stride=stride, case=case))
        expected_shape = (None, -(-height // stride), -(-height // stride), filters)
        if tuple(model.outputs[0].shape) != expected_shape:
            raise Hint(f"For {case} the output shape is {tuple(model.outputs[0].shape)}, expected "
                       f"{expected_shape}: padding='same' on the 3x3 convs, stride on the first.",
                       mistake="shape", case=case)
        roles = _diagnose(model, channels, filters, stride, case)
        _compare_values(model, roles, height, channels, filters, stride, seed)
    return (f"your block matches the reference basic block (identity and projection shortcuts) on "
            f"{len(CASES)} shapes, in inference and training mode.")
