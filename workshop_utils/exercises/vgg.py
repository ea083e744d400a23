"""Checker for notebook 02's exercise: VGG's building block.

The attendee writes::

    def vgg_block(x, filters, convs, name=None, batch_norm=False):
        ...  # `convs` 3x3 convolutions with `filters` filters, 'same' padding, ReLU; then one 2x2 max pool
        return x

(the rest of notebook 02 calls it with ``name=f"block{i}"`` and, for its experiment, ``batch_norm=True``), and
:func:`check_vgg_block` verifies it four ways:

1. Structure, on a fresh random small configuration (input size, channels, filters, conv count): the number of
   convolutions, their 3x3 kernels, stride 1, ``'same'`` padding and biases; one 2x2 max pooling per block.
2. Numbers: the attendee's weights are copied into the reference block and both run on the same random input;
   the outputs must agree (ReLU after every conv, max not average pooling).
3. VGG-16 at ImageNet size built from the attendee's block (224x224x3, five blocks of 2, 2, 3, 3, 3 convs with
   64..512 filters, then the fully connected head 4096-4096-1000): the block output shapes and the parameter
   count must equal ``keras.applications.VGG16(weights=None)``'s, 138,357,544.
4. What the rest of the notebook relies on: the ``name`` and ``batch_norm`` keywords; with ``name=f"block{i}"``
   the convs and pools are named as in Keras' VGG-16 (``block1_conv1`` ... ``block5_pool``); with
   ``batch_norm=True`` each conv is Conv2D without bias -> BatchNormalization -> ReLU (numbers compared with the
   reference, random batch-norm statistics copied in).

A failure gives one hint, with a ``mistake`` key, for the first likely mistake found: the stub not written,
missing pooling, pooling after every conv, ``'valid'`` padding, biases turned off, a wrong or missing activation
(read from the graph: the conv's own activation or the layer after it), average pooling, a wrong kernel size, the
conv count or filters ignored, the keywords missing, other layer names, a wrong batch-norm block.

Example::

    from workshop_utils.exercises.vgg import check_vgg_block
    check_vgg_block(vgg_block)   # shows "Passed: ..." or "Not yet: <hint>"
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workshop_utils.architectures.vgg import VGG16_BLOCKS, VGG16_PARAMS, vgg16, vgg_block
from workshop_utils.exercises import CheckResult, Hint
from workshop_utils.exercises import _toolkit as kit

__all__ = [
    "KERAS_VGG16_PARAMS",
    "VGG16_BLOCKS",
    "CheckResult",
    "VGGReference",
    "build_vgg16",
    "check_vgg_block",
    "keras_vgg16_reference",
    "reference_from_model",
    "reference_vgg_block",
]


VGG16_INPUT: tuple[int, int, int] = (224, 224, 3)

KERAS_VGG16_PARAMS = VGG16_PARAMS
"""``keras.applications.VGG16(weights=None).count_params()``, 138,357,544 (the checker builds Keras' model and
compares with that; this constant is what the tests check the build against)."""




@dataclass(frozen=True)
class VGGReference:
    """What the checker compares with: Keras' own VGG-16.

    Attributes:
        params: its parameter count (138,357,544).
        block_shapes: output shape (height, width, channels) of each block's pooling layer.
        output_shape: the classifier's output shape, ``(1000,)``.
        layer_names: names of its Conv2D and MaxPooling2D layers in order (``block1_conv1`` ... ``block5_pool``).

    Example::

        keras_vgg16_reference().params   # 138357544
    """

    params: int
    block_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    layer_names: tuple[str, ...] = ()




reference_vgg_block = vgg_block
"""The reference block, :func:`workshop_utils.architectures.vgg.vgg_block` (the one copy in the repository)."""


def build_vgg16(
    vgg_block: Callable[..., Any], input_shape: tuple[int, int, int] = VGG16_INPUT, classes: int = 1000
) -> tuple[Any, list[Any]]:
    """VGG-16 (:func:`workshop_utils.architectures.vgg.vgg16`) built from a block function ``vgg_block(x, filters,
    convs)``; returns the model and the five block outputs (KerasTensors).

    Example::

        model, blocks = build_vgg16(reference_vgg_block)   # model.count_params() == 138,357,544
    """
    block_outputs: list[Any] = []

    def recorded_block(x: Any, filters: int, convs: int) -> Any:
        block_outputs.append(vgg_block(x, filters, convs))
        return block_outputs[-1]

    model = vgg16(input_shape, classes, block=recorded_block, name="vgg16_from_your_block")
    return model, block_outputs


def reference_from_model(model: Any) -> VGGReference:
    """The numbers the checker compares with, read from a built ``keras.applications.VGG16`` model.

    Example::

        reference_from_model(keras.applications.VGG16(weights=None)).params   # 138357544
    """
    shapes = tuple(tuple(int(d) for d in model.get_layer(f"block{i}_pool").output.shape[1:]) for i in range(1, 6))
    names = tuple(layer.name for layer in kit.read_graph(model).layers("conv", "maxpool"))
    return VGGReference(int(model.count_params()), shapes, tuple(int(d) for d in model.output.shape[1:]), names)


@functools.lru_cache(maxsize=1)
def keras_vgg16_reference() -> VGGReference:
    """Build ``keras.applications.VGG16(weights=None)`` once per session and keep only its numbers.

    Example::

        keras_vgg16_reference().block_shapes[-1]   # (7, 7, 512)
    """
    import keras

    model = keras.applications.VGG16(weights=None)
    reference = reference_from_model(model)
    del model
    return reference


# --------------------------------------------------------------------------------------------------------------
# Step 1: structure on a small random configuration
# --------------------------------------------------------------------------------------------------------------


_NOT_WRITTEN = ("Not written yet: replace `raise NotImplementedError` with a loop of `convs` Conv2D layers (3x3, "
                "padding='same', activation='relu') followed by one MaxPooling2D(2, strides=2), and return the pooled "
                "tensor.")


def _build(function: Callable[..., Any], size: int, channels: int, filters: int, convs: int) -> Any:
    return kit.build(function, (size, size, channels), filters, convs, call="Your vgg_block",
                     returns="the block's output tensor (the result of the last layer call)")


def _check_structure(model: Any, size: int, filters: int, convs: int) -> None:
    output_shape = tuple(model.output.shape[1:])
    graph = kit.read_graph(model)
    convolutions = graph.layers("conv")
    pools = graph.layers("maxpool", "avgpool")
    config = f"vgg_block(x, filters={filters}, convs={convs}) on a {size}x{size} input"
    if len(convolutions) != convs:
        chained = (" Each conv must read the previous one's output: assign it, `x = layers.Conv2D(...)(x)` (a layer "
                   "whose result is not used is not part of the block).") if len(convolutions) < convs else ""
        raise Hint(f"{config} has {len(convolutions)} Conv2D layer(s) on its path; a block has exactly `convs` of "
                    f"them: create them in a loop, `for _ in range(convs): x = layers.Conv2D(...)(x)`.{chained}",
                    mistake="conv_count")
    if graph.of_kind("bn"):
        raise Hint("Your block has BatchNormalization. The VGG of the paper and of keras.applications has none "
                    "(VGG-16-BN came later), and its parameters would not match Keras' VGG-16: remove it, and keep "
                    "the convs' biases.", mistake="batch_norm")
    for conv in convolutions:
        if tuple(conv.kernel_size) != (3, 3):
            raise Hint(f"{conv.name} has a {conv.kernel_size[0]}x{conv.kernel_size[1]} kernel; VGG uses 3x3 "
                        "kernels only (two of them see as far as one 5x5, with fewer weights).", mistake="kernel_size")
        if tuple(conv.strides) != (1, 1) or tuple(conv.dilation_rate) != (1, 1):
            raise Hint(f"{conv.name} has strides {conv.strides} / dilation {conv.dilation_rate}; VGG's convs use "
                        "stride 1 and no dilation: only the pooling layer halves the size.", mistake="stride")
        if conv.filters != filters:
            raise Hint(f"{conv.name} has {conv.filters} filters but the block was asked for {filters}: pass "
                        "`filters` to every Conv2D.", mistake="filters")
        if conv.padding != "same":
            raise Hint(f"{conv.name} uses padding='{conv.padding}': each 3x3 conv then trims a pixel on every side "
                        f"and the block comes out {output_shape[0]}x{output_shape[1]} instead of "
                        f"{size // 2}x{size // 2}. Use padding='same' so only the pooling changes the size.",
                        mistake="padding")
        if not conv.use_bias:
            raise Hint(f"{conv.name} has no bias (use_bias=False). VGG has no batch normalization, so each conv "
                        "keeps its bias: leave use_bias at its default, True. (Without them VGG-16 has 4,224 "
                        "parameters fewer than Keras' 138,357,544.)", mistake="no_bias")
    if not pools:
        raise Hint(f"No pooling: {config} comes out {output_shape[0]}x{output_shape[1]}, but a VGG block halves "
                    "the size. End the block with one layers.MaxPooling2D(2, strides=2) after the last conv.",
                    mistake="no_pooling")
    if len(pools) > 1:
        raise Hint(f"{len(pools)} pooling layers in one block ({config} comes out {output_shape[0]}x"
                    f"{output_shape[1]}, not {size // 2}x{size // 2}): pool once per block, after the last conv, "
                    "not after every conv.", mistake="pool_per_conv")
    pool = pools[0]
    if type(pool).__name__ == "AveragePooling2D":
        raise Hint("The block uses AveragePooling2D; VGG uses max pooling: layers.MaxPooling2D(2, strides=2).",
                   mistake="average_pooling")
    if tuple(pool.pool_size) != (2, 2) or tuple(pool.strides) != (2, 2):
        raise Hint(f"{pool.name} has pool_size {pool.pool_size} and strides {pool.strides}; VGG pools 2x2 with "
                    "stride 2 (each block halves height and width).", mistake="pool_size")
    if output_shape != (size // 2, size // 2, filters):
        raise Hint(f"{config} should give ({size // 2}, {size // 2}, {filters}); yours gives {output_shape}.",
                   mistake="output_shape")


# --------------------------------------------------------------------------------------------------------------
# Step 2: numbers against the reference, with the same weights
# --------------------------------------------------------------------------------------------------------------


_WRONG_ACTIVATION = {"sigmoid": "a sigmoid", "tanh": "tanh"}


def _check_activations(model: Any) -> None:
    """The activation after each conv (its own, or the ReLU/Activation layer reading it) must be a ReLU."""
    graph = kit.read_graph(model)
    after = []
    for conv in graph.of_kind("conv"):
        following = [op.kind for op in graph.children(conv)
                     if op.kind == "relu" or type(op.layer).__name__ == "Activation"]
        after.append(conv.activation or (following[0] if following else ""))
    if not any(after):
        raise Hint("The convs have no activation: VGG follows every conv with a ReLU, Conv2D(..., activation='relu'). "
                   "Without it the stacked 3x3 convs collapse into one linear filter and the extra depth buys "
                   "nothing.", mistake="no_activation")
    if len(after) > 1 and after[-1] == "relu" and not any(after[:-1]):
        raise Hint("Only the last conv has a ReLU; VGG puts one after every conv (activation='relu' on each Conv2D): "
                   "three stacked 3x3 convs give three non-linearities where one 7x7 gives one.",
                   mistake="relu_on_last_only")
    wrong = next((name for name in after if name not in ("", "relu")), None)
    if wrong:
        raise Hint(f"The convs use {_WRONG_ACTIVATION.get(wrong, wrong)}; VGG uses ReLU after every conv "
                   "(activation='relu').", mistake="wrong_activation")


def _compare_numbers(model: Any, size: int, channels: int, filters: int, convs: int, rng: np.random.Generator) -> None:
    import keras

    _check_activations(model)
    inputs = keras.Input((size, size, channels))
    reference = keras.Model(inputs, vgg_block(inputs, filters, convs))
    kit.copy_weights(kit.read_graph(model).layers("conv"), kit.read_graph(reference).layers("conv"))
    images = rng.normal(size=(2, size, size, channels)).astype("float32")
    if not kit.close(kit.outputs(model, images), kit.outputs(reference, images)):
        raise Hint("The shapes are right but the numbers differ from the reference block with the same weights. "
                   "Each conv is Conv2D(filters, 3, padding='same', activation='relu'), applied one after the other "
                   "(each reads the previous one's output), then one MaxPooling2D(2, strides=2).",
                   mistake="wrong_numbers")


# --------------------------------------------------------------------------------------------------------------
# Step 3: VGG-16 at ImageNet size against Keras' own
# --------------------------------------------------------------------------------------------------------------


def _check_vgg16(function: Callable[..., Any], reference: VGGReference) -> int:
    try:
        model, blocks = build_vgg16(function)
    except Exception as error:
        raise Hint(f"Building VGG-16 from your block failed: {type(error).__name__}: {str(error)[:300]}",
                   mistake="vgg16_error") from None
    shapes = tuple(tuple(int(d) for d in block.shape[1:]) for block in blocks)
    params = int(model.count_params())
    del model
    if shapes != reference.block_shapes:
        raise Hint(f"In VGG-16 your blocks output {shapes}; Keras' VGG-16 blocks output {reference.block_shapes}.",
                   mistake="vgg16_shapes")
    if params != reference.params:
        raise Hint(f"VGG-16 built from your block has {params:,} parameters; keras.applications.VGG16 has "
                    f"{reference.params:,} ({params - reference.params:+,}).", mistake="vgg16_params")
    return params


# --------------------------------------------------------------------------------------------------------------
# Step 4: what the rest of notebook 02 relies on: `name` and `batch_norm`
# --------------------------------------------------------------------------------------------------------------

_INTERFACE = ("The rest of the notebook calls vgg_block(x, filters, convs, name=f\"block{i}\", batch_norm=...): "
              "declare it as def vgg_block(x, filters, convs, name=None, batch_norm=False).")


def _check_interface(function: Callable[..., Any]) -> None:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin or C function: nothing to read, the calls below will tell
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    missing = [keyword for keyword in ("name", "batch_norm") if keyword not in parameters]
    if missing:
        raise Hint(f"Your block works, but it has no {' and no '.join(f'`{m}`' for m in missing)} argument. "
                   + _INTERFACE, mistake="interface")


def _check_names(function: Callable[..., Any], reference: VGGReference) -> None:
    import keras

    inputs = keras.Input(VGG16_INPUT)
    x = inputs
    for index, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
        try:
            x = function(x, filters, convs, name=f"block{index}")
        except Exception as error:
            raise Hint(f"vgg_block(x, {filters}, {convs}, name='block{index}') raised {type(error).__name__}: "
                       f"{str(error)[:300]}. " + _INTERFACE, mistake="interface") from None
    names = tuple(layer.name for layer in kit.read_graph(keras.Model(inputs, x)).layers("conv", "maxpool"))
    if names != reference.layer_names:
        wrong = next(((got, want) for got, want in zip(names, reference.layer_names) if got != want),
                     (names[len(reference.layer_names):] or "(none)", "(none)"))
        raise Hint(f"With name='block1' ... 'block5' your layers are named {', '.join(names[:3])}, ...; Keras' VGG-16 "
                   f"names them {', '.join(reference.layer_names[:3])}, ... (first difference: {wrong[0]!r} where "
                   f"{wrong[1]!r} is expected). Name each conv f\"{{name}}_conv{{i}}\" (i from 1) and the pool "
                   f"f\"{{name}}_pool\": the receptive-field table later in the notebook lists these names.",
                   mistake="names")


def _check_batch_norm(function: Callable[..., Any], size: int, channels: int, filters: int, convs: int,
                      rng: np.random.Generator) -> None:
    import keras
    from keras import layers

    from workshop_utils.architectures.alexnet import conv_block

    inputs = keras.Input((size, size, channels))
    try:
        block_output = function(inputs, filters, convs, batch_norm=True)
    except Exception as error:
        raise Hint(f"vgg_block(x, {filters}, {convs}, batch_norm=True) raised {type(error).__name__}: "
                   f"{str(error)[:300]}", mistake="batch_norm_error") from None
    model = keras.Model(inputs, block_output)
    graph = kit.read_graph(model)
    convolutions, norms = graph.layers("conv"), graph.layers("bn")
    how = ("with batch_norm=True each conv is Conv2D(filters, 3, padding='same', use_bias=False), then "
           "BatchNormalization(), then the ReLU; one MaxPooling2D(2, strides=2) ends the block")
    if len(convolutions) != convs or len(norms) != convs:
        raise Hint(f"vgg_block(x, {filters}, {convs}, batch_norm=True) has {len(convolutions)} Conv2D and "
                   f"{len(norms)} BatchNormalization layers; {how} ({convs} of each).", mistake="batch_norm_layers")
    for conv in convolutions:
        if conv.use_bias:
            raise Hint(f"With batch_norm=True, {conv.name} keeps its bias: batch norm subtracts the mean right "
                       f"after it, so the bias does nothing. Use use_bias=False: {how}.", mistake="batch_norm_bias")
    kit.randomise_batch_norm(norms, rng)  # so that BN before and after the ReLU give different numbers
    x = reference_input = keras.Input((size, size, channels))
    for _ in range(convs):
        x = conv_block(x, filters, 3, batch_norm=True)
    reference = keras.Model(reference_input, layers.MaxPooling2D(2, strides=2)(x))
    kit.copy_weights(graph.layers("conv", "bn"), kit.read_graph(reference).layers("conv", "bn"))
    images = rng.normal(size=(2, size, size, channels)).astype("float32")
    if not kit.close(kit.outputs(model, images), kit.outputs(reference, images)):
        raise Hint(f"With batch_norm=True the layers are there but the numbers differ from the reference: the order "
                   f"is conv -> batch norm -> ReLU (no activation on the Conv2D itself); {how}.",
                   mistake="batch_norm_order")


@kit.checker("vgg_block", not_written=_NOT_WRITTEN)
def check_vgg_block(function: Callable[..., Any], seed: int | None = None, verbose: bool = False) -> str:
    """Check an attendee's ``vgg_block(x, filters, convs, name=None, batch_norm=False)``; the :class:`CheckResult`
    shows "Passed: ..." or a hint.

    Args:
        function: the attendee's function, called as ``function(x, filters, convs)`` on a ``keras.Input``, then
            with ``name=`` and ``batch_norm=True`` (what the rest of notebook 02 passes).
        seed: seed for the random small configuration and inputs (``None``: fresh each call).
        verbose: ignored (kept so that older notebook cells still run); the result displays itself.

    Returns:
        A :class:`CheckResult`; ``passed`` is False with a hint and a ``mistake`` key for the first mistake found.
        Passing builds VGG-16 at 224x224 from the block and Keras' VGG-16 once per session (about 10 s on a
        laptop CPU).

    Example::

        check_vgg_block(vgg_block)
    """
    rng = np.random.default_rng(seed)
    size = 8 * int(rng.integers(2, 4))                # 16 or 24: even after pooling, distinct from 'valid' sizes
    channels = int(rng.integers(2, 6))
    filters = int(rng.integers(3, 9))
    convs = int(rng.integers(2, 4))                   # 2 or 3: a block with a hard-coded count fails one of them
    model = _build(function, size, channels, filters, convs)
    _check_structure(model, size, filters, convs)
    _compare_numbers(model, size, channels, filters, convs, rng)
    other = 5 - convs                                 # the other conv count, so a hard-coded one is caught
    _check_structure(_build(function, size, channels, filters + 1, other), size, filters + 1, other)
    reference = keras_vgg16_reference()
    params = _check_vgg16(function, reference)
    _check_interface(function)
    _check_names(function, reference)
    _check_batch_norm(function, size, channels, filters, convs, rng)
    return (
        f"on a random {size}x{size}x{channels} input with filters={filters}, convs={convs} your block "
        f"equals the reference (same weights, same outputs; with batch_norm=True too); VGG-16 built from it "
        f"has {params:,} parameters and Keras' layer names, exactly keras.applications.VGG16(weights=None)'s."
    )
