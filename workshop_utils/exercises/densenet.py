"""Checkers for notebook 08's exercise: DenseNet's dense block (with bottleneck) and transition layer.

The attendee writes::

    def dense_block(x, num_layers, growth_rate):   # each layer: BN-ReLU-Conv1x1(4k), BN-ReLU-Conv3x3(k), concat
        ...
    def transition(x, compression):                 # BN-ReLU-Conv1x1(floor(theta * channels)), AvgPool 2x2
        ...

(``num_layers`` rather than ``layers``, so that the argument does not hide ``keras.layers`` in the function.)
The checkers build the attendee's function on small inputs, read its graph (which tensor each layer reads) to name
the usual mistakes, then copy the attendee's weights (batch norms with random statistics) into the reference
(:func:`workshop_utils.architectures.densenet.dense_block` and ``transition``) and compare outputs on random images.

Mistakes named (``CheckResult.mistake``):

* ``add_instead_of_concat`` -- ``Add``/``+`` where DenseNet concatenates;
* ``only_last`` -- a layer reads only the last output (or only the block input) instead of everything so far;
* ``concat_axis`` -- concatenated on an axis other than the channels (-1);
* ``missing_bottleneck`` -- the 3x3 conv reads the whole concatenation, no 1x1 conv to 4k before it;
* ``bottleneck_width`` -- the 1x1 conv has a width other than 4k;
* ``compression_on_k`` -- the transition's width does not follow the input's channels (theta times k, or a
  constant), instead of ``floor(theta * x.shape[-1])``;
* ``compression_rounding`` / ``no_compression`` -- rounded up / to nearest, or theta not applied;
* ``composite_order`` -- not BN -> ReLU -> Conv before every conv (the pre-activation composite function);
* ``pooling`` -- not a 2x2 average pooling with stride 2 after the transition's conv;
* ``concat_order`` -- ``[new, x]`` instead of ``[x, new]``;
* ``structure`` / ``shape`` / ``values`` -- anything else, with what was found.

Example::

    from workshop_utils.exercises.densenet import check_dense_block, check_transition
    check_dense_block(dense_block)        # "Passed: ..." or a hint
    check_transition(transition, growth_rate=12)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

#: Dense block cases (height, input channels k0, layers, growth rate k). The first has k0 == k so that a block
#: that adds instead of concatenating still builds and can be named; the others have k0 != k.
BLOCK_CASES: tuple[tuple[int, int, int, int], ...] = ((6, 8, 3, 8), (8, 24, 3, 12), (5, 20, 2, 6))
#: Transition cases (height, input channels, compression): theta * channels is not a whole number in each.
TRANSITION_CASES: tuple[tuple[int, int, float], ...] = ((8, 45, 0.5), (6, 61, 0.5), (4, 50, 0.25))

_BLOCK_RECIPE = ("each layer: BN -> ReLU -> Conv2D(4k, 1) -> BN -> ReLU -> Conv2D(k, 3, padding='same'), then "
                 "x = layers.Concatenate()([x, new])")


def _explain_build_error(error: Exception, input_shape: tuple[int, int, int]) -> Hint:
    message = str(error)
    lowered = message.lower()
    if "concatenat" in lowered and ("axis" in lowered or "shape" in lowered):
        return Hint(f"The concatenation failed on input {input_shape}: join along the channel axis, "
                    "layers.Concatenate(axis=-1) (the default; axis 1 and 2 are height and width). "
                    f"Keras said: {message[:200]}",
                    mistake="concat_axis")
    if "incompatible shapes" in lowered or "broadcast" in lowered or "add" in lowered.split():
        return Hint("Adding the new features to x fails: x has k0 + l*k channels and the new features k. "
                    "DenseNet concatenates them: x = layers.Concatenate()([x, new]).", mistake="add_instead_of_concat")
    return Hint(f"Your function raised {type(error).__name__} on input {input_shape}: {message[:300]}",
                mistake="structure")


def _build(function: Callable[..., Any], input_shape: tuple[int, int, int], *args: Any, case: Any) -> Any:
    return kit.build(function, input_shape, *args, explain=lambda error: _explain_build_error(error, input_shape),
                     case=case)


def _check_composite(graph: kit.Graph, case: Any) -> None:
    """Every conv must read ReLU(BN(...)) (the paper's composite function H, pre-activation order)."""
    for conv in graph.of_kind("conv"):
        before = kit.chain(conv)[1:3]
        if [op.kind for op in before] != ["relu", "bn"] or conv.activation:
            found = " <- ".join(op.label for op in [conv, *before])
            raise Hint(f"Every conv is the last step of the composite function H = BN -> ReLU -> Conv "
                       f"(pre-activation, no activation on the conv itself). Reading back from "
                       f"{conv.name} the graph has {found}.", mistake="composite_order", case=case)


def _compare(model: Any, graph: kit.Graph, reference: Any, case: Any, rng: np.random.Generator, hint: str) -> None:
    """Copy the attendee's convs and batch norms (random statistics) into ``reference`` in order; compare outputs."""
    kit.randomise_batch_norm(graph.layers("bn"), rng)
    theirs = kit.read_graph(reference)
    kit.copy_weights(graph.layers("conv", "bn"), theirs.layers("conv", "bn"))
    images = rng.normal(size=(2, *model.input.shape[1:])).astype("float32")
    if not kit.close(kit.outputs(model, images), kit.outputs(reference, images)):
        raise Hint(hint, mistake="values", case=case)


# -------------------------------------------------------------------------------------------------------------
# Dense block


def _diagnose_block(graph: kit.Graph, output_shape: tuple[int, ...], case: tuple[int, int, int, int]) -> None:
    height, channels, num_layers, growth = case
    kinds = graph.kinds()
    if "add" in kinds and "concat" not in kinds:
        raise Hint("Your block adds the new features to x (Add or +), as a ResNet does. DenseNet concatenates "
                   "them, so every later layer sees each earlier layer's features separately: "
                   "x = layers.Concatenate()([x, new]).", mistake="add_instead_of_concat", case=case)
    if "add" in kinds:
        raise Hint("Your block both adds and concatenates; a dense block has no addition. " + _BLOCK_RECIPE + ".",
                   mistake="add_instead_of_concat", case=case)
    if "concat" not in kinds:
        raise Hint("Your block never concatenates: " + _BLOCK_RECIPE + ".", mistake="structure", case=case)
    concats = graph.of_kind("concat")
    concat_axes = {int(getattr(op.layer, "axis", -1)) % 4 for op in concats}
    if output_shape[:2] != (height, height) or concat_axes - {3}:
        raise Hint(f"Your block's output is {output_shape} for a {height}x{height}x{channels} input: the "
                   "concatenation must be on the channel axis, layers.Concatenate(axis=-1) (axis 1 and 2 are "
                   "height and width; a dense block keeps the resolution).", mistake="concat_axis", case=case)
    kernels = [op.kernel for op in graph.of_kind("conv")]
    expected_inputs = [channels + index * growth for index in range(num_layers)]
    one_by_one = [k for k in kernels if k[:2] == (1, 1)]
    three_by_three = [k for k in kernels if k[:2] == (3, 3)]
    if not one_by_one and three_by_three:
        raise Hint(f"Missing bottleneck: your 3x3 convs read {[k[2] for k in three_by_three]} channels, the whole "
                   f"concatenation. Put BN -> ReLU -> Conv2D(4 * growth_rate, 1) before each 3x3 conv: it caps "
                   f"the 3x3 conv's input at 4k = {4 * growth} channels however long the block gets (DenseNet-B).",
                   mistake="missing_bottleneck", case=case)
    reads = [k[2] for k in one_by_one]
    if output_shape[-1] in (channels + growth, 2 * growth) and num_layers > 1:
        raise Hint(f"Your block returns {output_shape[-1]} channels: only the last layer's output is concatenated. "
                   f"With k0 = {channels} and k = {growth}, {num_layers} layers give k0 + {num_layers}k = "
                   f"{channels + num_layers * growth}, and layer i reads k0 + i*k channels ({expected_inputs}). "
                   "Update the running tensor inside the loop: x = layers.Concatenate()([x, new]).",
                   mistake="only_last", case=case)
    if len(one_by_one) != num_layers or len(three_by_three) != num_layers:
        raise Hint(f"For {num_layers} layers the block needs {num_layers} 1x1 and {num_layers} 3x3 convs; yours has "
                   f"{len(one_by_one)} and {len(three_by_three)}. Loop `for _ in range(num_layers)`: "
                   + _BLOCK_RECIPE + ".", mistake="structure", case=case)
    if reads != expected_inputs or output_shape[-1] != channels + num_layers * growth:
        raise Hint(f"Layer i must read everything so far, k0 + i*k channels: {expected_inputs} here (k0 = "
                   f"{channels}, k = {growth}); your layers read {reads} and the block returns {output_shape[-1]} "
                   f"channels instead of {channels + num_layers * growth}. Concatenate each new output onto the "
                   "running tensor and feed that to the next layer: x = layers.Concatenate()([x, new]).",
                   mistake="only_last", case=case)
    widths = {k[3] for k in one_by_one}
    if widths != {4 * growth}:
        raise Hint(f"The bottleneck 1x1 conv should have 4 * growth_rate = {4 * growth} filters; yours has "
                   f"{sorted(widths)}.", mistake="bottleneck_width", case=case)
    if any(k[2:] != (4 * growth, growth) for k in three_by_three):
        raise Hint(f"Each 3x3 conv turns the bottleneck's {4 * growth} channels into growth_rate = {growth} new "
                   f"feature maps; yours have kernels {three_by_three}.", mistake="structure", case=case)
    _check_composite(graph, case)
    if any(op.parents[0].kind == "conv" and op.parents[-1].kind != "conv" for op in concats):
        raise Hint("Your block concatenates [new, x]; the paper and Keras keep the order [x0, x1, ..., "
                   "x_l-1]: layers.Concatenate()([x, new]). (The order does not change what the network "
                   "can learn, but it changes which channel is which.)", mistake="concat_order", case=case)


@kit.checker("dense_block")
def check_dense_block(dense_block: Callable[..., Any], seed: int = 0) -> str:
    """Check an attendee's ``dense_block(x, num_layers, growth_rate)``; returns a :class:`CheckResult`.

    Builds it on :data:`BLOCK_CASES`, names the first mistake found in its graph, then compares its outputs with
    the reference block's (same weights) on random images.

    Example::

        check_dense_block(dense_block)
    """
    import keras

    from workshop_utils.architectures.densenet import dense_block as reference_block

    rng = np.random.default_rng(seed)
    for case in BLOCK_CASES:
        height, channels, num_layers, growth = case
        model = _build(dense_block, (height, height, channels), num_layers, growth, case=case)
        graph = kit.read_graph(model)
        _diagnose_block(graph, tuple(model.output.shape[1:]), case)
        inputs = keras.Input((height, height, channels))
        reference = keras.Model(inputs, reference_block(inputs, num_layers, growth, name="reference"))
        _compare(model, graph, reference, case, rng,
                 "The structure is right but the numbers differ from the reference: check that each 1x1 conv "
                 "reads the concatenation, each 3x3 conv has padding='same' and no activation, and no conv has a "
                 "bias (use_bias=False).")
    height, channels, num_layers, growth = BLOCK_CASES[1]
    return (f"on {len(BLOCK_CASES)} inputs your dense block grows the channels as k0 + l*k (e.g. {channels} -> "
            f"{', '.join(str(channels + i * growth) for i in range(1, num_layers + 1))} with k = {growth}), "
            "every layer has its 1x1 bottleneck to 4k, and the outputs equal the reference block's.")


# -------------------------------------------------------------------------------------------------------------
# Transition


def _check_width(width: int, case: tuple[int, int, float], growth_rate: int | None) -> None:
    height, channels, compression = case
    expected = int(channels * compression)
    if width == channels:
        raise Hint(f"Your transition keeps all {channels} channels: apply the compression, "
                   f"filters = int(compression * x.shape[-1]) ({expected} here).", mistake="no_compression",
                   case=case)
    if width in (int(np.ceil(channels * compression)), round(channels * compression)) and width != expected:
        raise Hint(f"{compression} x {channels} = {channels * compression}: keep int() of it, {expected} "
                   f"channels (rounded down, as keras.applications does); yours keeps {width}.",
                   mistake="compression_rounding", case=case)
    if width != expected:
        raise Hint(f"For {channels} input channels and compression {compression} the transition should "
                   f"keep int({compression} * {channels}) = {expected} channels; yours has {width}.",
                   mistake="compression_on_k" if growth_rate and width == int(compression * growth_rate)
                   else "structure", case=case)


def _check_transition_layers(graph: kit.Graph, output_shape: tuple[int, ...], case: tuple[int, int, float]) -> None:
    height = case[0]
    convs = graph.of_kind("conv")
    if len(convs) != 1 or convs[0].kernel[:2] != (1, 1) or tuple(convs[0].layer.strides) != (1, 1):
        found = [(c.kernel[:2], tuple(c.layer.strides)) for c in convs]
        raise Hint(f"A transition has one 1x1 conv with stride 1 (the pooling halves the size); yours has "
                   f"convs (kernel, strides) {found}.", mistake="structure", case=case)
    pools = [op for op in graph.ops if "pool" in op.kind]
    if graph.of_kind("maxpool"):
        raise Hint("Use average pooling, layers.AveragePooling2D(2, strides=2): the transition averages "
                   "the compressed maps (max pooling is a different function).", mistake="pooling", case=case)
    pool_first = bool(pools) and graph.ops.index(pools[0]) < graph.ops.index(convs[0])
    if output_shape[:2] != (height // 2, height // 2) or len(pools) != 1 or pool_first:
        where = "the pooling comes before the conv" if pool_first else "check the pooling"
        raise Hint(f"After the 1x1 conv comes 2x2 average pooling with stride 2: {height}x{height} -> "
                   f"{height // 2}x{height // 2}. Yours gives {output_shape[:2]} ({where}).",
                   mistake="pooling", case=case)
    _check_composite(graph, case)


@kit.checker("transition")
def check_transition(transition: Callable[..., Any], growth_rate: int | None = None, seed: int = 0) -> str:
    """Check an attendee's ``transition(x, compression)``; returns a :class:`CheckResult`.

    Args:
        transition: the attendee's function.
        growth_rate: the notebook's k, if any: a transition that keeps ``theta * k`` channels is named precisely.
        seed: seed of the random test images.

    Example::

        check_transition(transition, growth_rate=12)
    """
    import keras

    from workshop_utils.architectures.densenet import transition as reference_transition

    rng = np.random.default_rng(seed)
    models = [_build(transition, (height, height, channels), compression, case=(height, channels, compression))
              for height, channels, compression in TRANSITION_CASES]
    widths = [int(model.output.shape[-1]) for model in models]
    if widths[0] == widths[1]:
        # Same compression, different input channels, same output width: not computed from x's channels.
        detail = ""
        if growth_rate and widths[0] == int(TRANSITION_CASES[0][2] * growth_rate):
            detail = f" (theta * k = {TRANSITION_CASES[0][2]} * {growth_rate} = {widths[0]})"
        raise Hint(f"Your transition keeps {widths[0]} channels whether {TRANSITION_CASES[0][1]} or "
                   f"{TRANSITION_CASES[1][1]} come in{detail}. Compression applies to the channel count of x, "
                   "everything the dense block concatenated: filters = int(compression * x.shape[-1]).",
                   mistake="compression_on_k")
    for model, case, width in zip(models, TRANSITION_CASES, widths):
        height, channels, compression = case
        _check_width(width, case, growth_rate)
        graph = kit.read_graph(model)
        _check_transition_layers(graph, tuple(model.output.shape[1:]), case)
        inputs = keras.Input((height, height, channels))
        reference = keras.Model(inputs, reference_transition(inputs, compression, name="reference"))
        _compare(model, graph, reference, case, rng,
                 "The structure is right but the numbers differ from the reference: BN -> ReLU -> "
                 "Conv2D(filters, 1, use_bias=False) -> AveragePooling2D(2, strides=2).")
    height, channels, compression = TRANSITION_CASES[0]
    return (f"your transition keeps int(theta * channels) channels ({channels} -> {int(channels * compression)} "
            f"at theta = {compression}), halves the resolution with 2x2 average pooling, and its outputs equal "
            "the reference on 3 inputs.")
