"""The residual units compared in "Identity Mappings in Deep Residual Networks" (He, Zhang, Ren & Sun, ECCV 2016,
arXiv:1603.05027): one function per ordering, so each ordering reads as code.

Notation: ``x`` is the unit's input (the shortcut), ``F`` the post-activation residual branch
conv-BN-ReLU-conv-BN (3x3 convs, no biases), ``g = sigmoid(1x1 conv(x))`` a learned gate.

Figure 2, what the shortcut does (the branch is ``F``, a ReLU follows the addition):

* :func:`original_unit` -- ReLU(x + F(x)), the original ResNet (also figure 4a);
* :func:`constant_scaling_unit` -- ReLU(0.5 x + 0.5 F(x));
* :func:`exclusive_gating_unit` -- ReLU((1 - g) x + g F(x));
* :func:`shortcut_only_gating_unit` -- ReLU((1 - g) x + F(x));
* :func:`conv_shortcut_unit` -- ReLU(1x1 conv(x) + F(x));
* :func:`dropout_shortcut_unit` -- ReLU(dropout_0.5(x) + F(x)).

Figure 4, where batch norm and ReLU sit (the shortcut is the identity):

* :func:`bn_after_addition_unit` -- ReLU(BN(x + conv(ReLU(BN(conv(x))))));
* :func:`relu_before_addition_unit` -- x + ReLU(F(x));
* :func:`relu_only_preactivation_unit` -- x + BN(conv(ReLU(BN(conv(ReLU(x))))));
* :func:`full_preactivation_unit` -- x + conv(ReLU(BN(conv(ReLU(BN(x)))))), the unit the paper recommends.

Where the shape changes, the shortcut is a 1x1 projection (with BN in the post-activation units, reading the
activated input in the pre-activation ones), and the gates, scaling and dropout apply to it as to an identity.
:data:`UNITS` maps the variant names to the functions; :func:`variant_resnet` builds a CIFAR ResNet (ResNet-20 by
default) from one of them; :data:`PAPER_ERROR` quotes the paper's CIFAR-10 results.

Example::

    from workshop_utils.architectures.identity_mappings import VARIANTS, variant_resnet
    variant_resnet("full_preactivation").count_params()   # 273,658
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import layers

from workshop_utils._validate import choice, positive_int
from workshop_utils.architectures._top import check_top, classifier_top
from workshop_utils.architectures.resnet import BN_EPSILON, stem_block

#: Quoted: Identity Mappings (He et al. 2016), CIFAR-10 test error % of ResNet-110 (table 1: the shortcut
#: variants of figure 2; table 2: the activation orders of figure 4). "fail": the paper's dropout net did not train
#: to a useful error.
PAPER_ERROR: dict[str, str] = {
    "original": "6.61", "constant_scaling": "12.35 (0.5/0.5)", "exclusive_gating": "8.70 (b_g=-6)",
    "shortcut_only_gating": "6.91 (b_g=-6)", "conv_shortcut": "12.22", "dropout_shortcut": "fail",
    "bn_after_addition": "8.17", "relu_before_addition": "7.84", "relu_only_preactivation": "6.71",
    "full_preactivation": "6.37",
}


def _conv(x: Any, filters: int, stride: int, name: str) -> Any:
    return layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)


def _relu(x: Any, name: str) -> Any:
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _add(shortcut: Any, y: Any, name: str) -> Any:
    return layers.Add(name=f"{name}_add")([shortcut, y])


def _shortcut(x: Any, filters: int, stride: int, name: str, batch_norm: bool = True, always: bool = False) -> Any:
    """``x`` itself, or a 1x1 projection ``{name}_0_conv`` (+ BN) where the shape changes (or ``always``)."""
    positive_int("filters", filters)
    positive_int("stride", stride)
    if not always and stride == 1 and x.shape[-1] == filters:
        return x
    x = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(x)
    return _bn(x, f"{name}_0") if batch_norm else x


def _branch(x: Any, filters: int, stride: int, name: str, last_bn: bool = True) -> Any:
    """F, the post-activation residual branch: conv-BN-ReLU-conv(-BN)."""
    y = _relu(_bn(_conv(x, filters, stride, f"{name}_1"), f"{name}_1"), f"{name}_1")
    y = _conv(y, filters, 1, f"{name}_2")
    return _bn(y, f"{name}_2") if last_bn else y


def _gated_shortcut(x: Any, shortcut: Any, filters: int, stride: int, gate_bias: float, name: str) -> tuple[Any, Any]:
    """(g, (1 - g) * shortcut): g = sigmoid(1x1 conv(x)), its bias initialised to ``gate_bias`` (the paper's
    best: -6, so the gate starts nearly shut and the shortcut nearly open)."""
    gate = layers.Conv2D(filters, 1, strides=stride, activation="sigmoid",
                         bias_initializer=keras.initializers.Constant(gate_bias), name=f"{name}_gate")(x)
    complement = layers.Rescaling(-1.0, offset=1.0, name=f"{name}_gate_complement")(gate)
    return gate, layers.Multiply(name=f"{name}_0_gate")([complement, shortcut])


def original_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 2(a) and 4(a), the original unit: ReLU(x + BN(conv(ReLU(BN(conv(x)))))).

    Example::

        y = original_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name)
    return _relu(_add(shortcut, y, name), f"{name}_out")


def constant_scaling_unit(x: Any, filters: int, stride: int = 1, name: str = "unit", scale: float = 0.5) -> Any:
    """Figure 2(b), constant scaling: ReLU(scale * x + scale * F(x)) (the paper's 0.5/0.5 row).

    Example::

        y = constant_scaling_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name)
    shortcut = layers.Rescaling(scale, name=f"{name}_0_scale")(shortcut)
    y = layers.Rescaling(scale, name=f"{name}_2_scale")(y)
    return _relu(_add(shortcut, y, name), f"{name}_out")


def exclusive_gating_unit(x: Any, filters: int, stride: int = 1, name: str = "unit", gate_bias: float = -6.0) -> Any:
    """Figure 2(c), exclusive gating: ReLU((1 - g) * x + g * F(x)).

    Example::

        y = exclusive_gating_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name)
    gate, shortcut = _gated_shortcut(x, shortcut, filters, stride, gate_bias, name)
    y = layers.Multiply(name=f"{name}_2_gate")([gate, y])   # the same gate, g, scales the branch
    return _relu(_add(shortcut, y, name), f"{name}_out")


def shortcut_only_gating_unit(x: Any, filters: int, stride: int = 1, name: str = "unit",
                              gate_bias: float = -6.0) -> Any:
    """Figure 2(d), shortcut-only gating: ReLU((1 - g) * x + F(x)).

    Example::

        y = shortcut_only_gating_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name)
    _, shortcut = _gated_shortcut(x, shortcut, filters, stride, gate_bias, name)   # the branch passes ungated
    return _relu(_add(shortcut, y, name), f"{name}_out")


def conv_shortcut_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 2(e), 1x1 conv shortcut: ReLU(conv1x1(x) + F(x)), a projection on every unit (no BN on it).

    Example::

        y = conv_shortcut_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name, batch_norm=False, always=True)
    y = _branch(x, filters, stride, name)
    return _relu(_add(shortcut, y, name), f"{name}_out")


def dropout_shortcut_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 2(f), dropout shortcut: ReLU(dropout_0.5(x) + F(x)).

    Example::

        y = dropout_shortcut_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name)
    shortcut = layers.Dropout(0.5, name=f"{name}_0_dropout")(shortcut)
    return _relu(_add(shortcut, y, name), f"{name}_out")


def bn_after_addition_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 4(b), BN after addition: ReLU(BN(x + conv(ReLU(BN(conv(x)))))): the BN alters the shortcut signal.

    Example::

        y = bn_after_addition_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _branch(x, filters, stride, name, last_bn=False)
    return _relu(_bn(_add(shortcut, y, name), f"{name}_out"), f"{name}_out")


def relu_before_addition_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 4(c), ReLU before addition: x + ReLU(F(x)): the residual can only add, never subtract.

    Example::

        y = relu_before_addition_unit(x, 16, name="conv2_block1")
    """
    shortcut = _shortcut(x, filters, stride, name)
    y = _relu(_branch(x, filters, stride, name), f"{name}_2")
    return _add(shortcut, y, name)


def relu_only_preactivation_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 4(d), ReLU-only pre-activation: x + BN(conv(ReLU(BN(conv(ReLU(x)))))).

    Example::

        y = relu_only_preactivation_unit(x, 16, name="conv2_block1")
    """
    activated = _relu(x, f"{name}_preact")
    shortcut = _shortcut(activated, filters, stride, name, batch_norm=False)
    if shortcut is activated:  # the identity shortcut carries x itself, not its activation
        shortcut = x
    y = _branch(activated, filters, stride, name)
    return _add(shortcut, y, name)


def full_preactivation_unit(x: Any, filters: int, stride: int = 1, name: str = "unit") -> Any:
    """Figure 4(e), full pre-activation: x + conv(ReLU(BN(conv(ReLU(BN(x)))))): nothing touches the shortcut.

    Example::

        y = full_preactivation_unit(x, 16, name="conv2_block1")
    """
    activated = _relu(_bn(x, f"{name}_preact"), f"{name}_preact")
    shortcut = _shortcut(activated, filters, stride, name, batch_norm=False)
    if shortcut is activated:
        shortcut = x
    y = _conv(activated, filters, stride, f"{name}_1")
    y = _conv(_relu(_bn(y, f"{name}_2_pre"), f"{name}_2_pre"), filters, 1, f"{name}_2")
    return _add(shortcut, y, name)


#: Variant name -> unit function: figure 2's shortcut variants, then figure 4's activation orders.
UNITS: dict[str, Callable[..., Any]] = {
    "original": original_unit,
    "constant_scaling": constant_scaling_unit,
    "exclusive_gating": exclusive_gating_unit,
    "shortcut_only_gating": shortcut_only_gating_unit,
    "conv_shortcut": conv_shortcut_unit,
    "dropout_shortcut": dropout_shortcut_unit,
    "bn_after_addition": bn_after_addition_unit,
    "relu_before_addition": relu_before_addition_unit,
    "relu_only_preactivation": relu_only_preactivation_unit,
    "full_preactivation": full_preactivation_unit,
}
VARIANTS: tuple[str, ...] = tuple(UNITS)
SHORTCUT_VARIANTS: tuple[str, ...] = VARIANTS[:6]
ACTIVATION_VARIANTS: tuple[str, ...] = ("original", *VARIANTS[6:])
PREACTIVATION_VARIANTS: tuple[str, ...] = ("relu_only_preactivation", "full_preactivation")


def variant_resnet(
    variant: str = "original",
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    stage_widths: Sequence[int] = (16, 32, 64),
    blocks_per_stage: Sequence[int] = (3, 3, 3),
    name: str | None = None,
    *,
    include_top: bool = True,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    **unit_args: Any,
) -> keras.Model:
    """A CIFAR-style ResNet (ResNet-20 by default) whose units are all :data:`UNITS` ``[variant]``.

    The stem is the CIFAR 3x3 conv with BN-ReLU (only the conv for full pre-activation, whose first unit starts
    with its own BN-ReLU); the pre-activation nets end with BN-ReLU before the pooling, as in the paper.
    ``unit_args`` go to the unit (``scale=`` for constant scaling, ``gate_bias=`` for the gates).

    Example::

        variant_resnet("full_preactivation").count_params()   # 273,658
    """
    unit = UNITS[choice("variant", variant, VARIANTS)]
    accepted = set(inspect.signature(unit).parameters) - {"x", "filters", "stride", "name"}
    if set(unit_args) - accepted:
        raise ValueError(f"the {variant} unit takes {sorted(accepted) or 'no extra arguments'}; got "
                         f"{sorted(unit_args)}.")
    if len(stage_widths) != len(blocks_per_stage) or not stage_widths:
        raise ValueError(f"stage_widths and blocks_per_stage need one entry per stage, got {tuple(stage_widths)} "
                         f"and {tuple(blocks_per_stage)}.")
    classes = check_top(include_top, pooling, classes)
    depth = 2 + 2 * sum(positive_int("each stage's block count", count) for count in blocks_per_stage)
    inputs = keras.Input(input_shape, name="image")
    if variant == "full_preactivation":
        x = layers.Conv2D(stage_widths[0], 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    else:
        x = stem_block(inputs, "cifar", stage_widths[0])
    for index, (filters, count) in enumerate(zip(stage_widths, blocks_per_stage)):
        for block in range(1, count + 1):
            stride = 2 if index > 0 and block == 1 else 1
            x = unit(x, filters, stride, name=f"conv{index + 2}_block{block}", **unit_args)
    if variant in PREACTIVATION_VARIANTS:
        x = _relu(_bn(x, "post"), "post")
    x = classifier_top(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name or f"resnet{depth}_{variant}")
