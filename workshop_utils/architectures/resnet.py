"""ResNet (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, arXiv:1512.03385) and ResNeXt.

The reference copy of the networks notebook 07 builds live, written like ``keras.applications.resnet``: block
functions (:func:`basic_block`, :func:`bottleneck_block`) composed by :func:`resnet` (the ImageNet models of the
paper's table 1, :data:`RESNET_DEPTHS`) and :func:`small_resnet` (the CIFAR-style nets of the paper's section 4.2,
sized for the workshop's 32x32 data). Layer names follow ``keras.applications``: ``conv2_block1_1_conv``,
``conv2_block1_0_conv`` (the projection shortcut), ``conv2_block1_add``, ``conv2_block1_out``.

Shortcuts (the paper's section 3.3 and table 3):

* ``"projection"`` -- option B: identity when the shape is kept, a strided 1x1 conv + BN when it changes.
* ``"identity_pad"`` -- option A: identity; when the shape changes, subsample by the stride and append zero
  channels (:class:`IdentityPadShortcut`, no parameters).
* ``"all_projection"`` -- option C: a 1x1 conv + BN on every block.
* ``"none"`` -- no shortcut: the *plain* twin of the same network (section 4.1's plain nets).

Two ResNet details that matter for counts:

* ``keras.applications.ResNet50`` keeps a bias in every conv, though the BN right after makes it redundant; the
  paper, the original Caffe deploy file (``bias_term: false`` on every residual-branch and shortcut conv) and
  torchvision have none. ``use_bias=True`` reproduces Keras'
  model exactly (25,636,712 parameters); the default ``use_bias=False`` is the paper's network.
* The original ResNet (and Keras' v1) strides in the first 1x1 of a bottleneck; torchvision's "v1.5" strides in the
  3x3 (same parameters, more multiply-adds). ``stride_on`` picks.

Squeeze-and-excitation (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507): ``se_ratio``
on a block or on :func:`resnet` recalibrates the residual branch's channels (:func:`squeeze_excitation`) before the
addition; ``resnet(50, se_ratio=16)`` is SE-ResNet-50 (28,088,024 trainable parameters; the paper: 28.09M).

Example::

    from workshop_utils.architectures.resnet import resnet, small_resnet
    resnet(50, use_bias=True).count_params()          # 25,636,712 == keras.applications.ResNet50(weights=None)
    small_resnet(blocks_per_stage=(3, 3, 3))         # ResNet-20 for 32x32 images
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

#: ImageNet ResNets of the paper's table 1: depth -> (block kind, blocks per stage conv2_x ... conv5_x).
RESNET_DEPTHS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}

#: Shortcut kinds a block accepts (see the module docstring).
SHORTCUTS: tuple[str, ...] = ("projection", "identity_pad", "all_projection", "none")
BLOCKS: tuple[str, ...] = ("basic", "bottleneck")
STRIDE_ON: tuple[str, ...] = ("1x1", "3x3")

#: ``keras.applications.resnet`` uses this BN epsilon; kept so weights could be copied across.
BN_EPSILON = 1.001e-5


def _check_choice(what: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}.")


def _check_positive(what: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}.")


@keras.saving.register_keras_serializable(package="workshop_utils")
class IdentityPadShortcut(layers.Layer):
    """Option A shortcut: keep every ``stride``-th pixel and append zero channels up to ``filters``. No weights.

    The paper's CIFAR nets (section 4.2) use it, so a ResNet has exactly as many parameters as its plain twin.

    Example::

        shortcut = IdentityPadShortcut(32, stride=2)(x)   # (16, 16, 16) -> (8, 8, 32)
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_positive("filters", filters)
        _check_positive("stride", stride)
        self.filters = filters
        self.stride = stride

    def call(self, inputs: Any) -> Any:
        x = inputs[:, :: self.stride, :: self.stride, :] if self.stride > 1 else inputs
        extra = self.filters - x.shape[-1]
        if extra < 0:
            raise ValueError(f"IdentityPadShortcut cannot shrink {x.shape[-1]} channels to {self.filters}.")
        if extra == 0:
            return x
        # Half the new channels before, half after, as in the paper's Torch code (pad both sides).
        before = extra // 2
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [before, extra - before]])

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch, height, width, _ = input_shape
        def shrink(size: int | None) -> int | None:
            return None if size is None else -(-size // self.stride)
        return (batch, shrink(height), shrink(width), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


def _register_costs() -> None:
    """Tell the cost counter that :class:`IdentityPadShortcut` does no multiply-adds (it only moves data)."""
    from workshop_utils import flops

    register = getattr(flops, "register_cost", None)
    if register is not None:
        register(IdentityPadShortcut, lambda layer, input_shapes, output_shapes: 0)


_register_costs()


def _conv_bn(
    x: Any, filters: int, kernel_size: int, stride: int, use_bias: bool, name: str, groups: int = 1,
) -> Any:
    """Conv ('same' padding) followed by BN, named ``{name}_conv`` / ``{name}_bn`` as in keras.applications.

    A grouped conv (ResNeXt) is built in the split -> per-group Conv2D -> concat form of
    :mod:`workshop_utils.grouped_conv`: the same function and cost as ``Conv2D(groups=g)``, but it trains at
    nearly ``groups=1`` speed on TensorFlow's CPU kernels.
    """
    if groups > 1:
        from workshop_utils.grouped_conv import grouped_conv2d

        x = grouped_conv2d(x, filters, kernel_size, groups, strides=stride, use_bias=use_bias, name=f"{name}_conv")
    else:
        x = layers.Conv2D(filters, kernel_size, strides=stride, padding="same", use_bias=use_bias,
                          name=f"{name}_conv")(x)
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)


def squeeze_excitation(x: Any, ratio: int = 16, name: str = "se") -> Any:
    """Squeeze-and-excitation (Hu et al. 2018, figure 3): scale each channel of ``x`` by a learned gate in (0, 1).

    Squeeze: global average pool to one value per channel. Excite: a dense layer to ``channels // ratio`` with ReLU,
    a dense layer back to ``channels`` with a sigmoid. Scale: multiply ``x`` channel-wise by the gates. Adds
    ``2 * C * C / ratio + C / ratio + C`` parameters (the two dense layers with biases).

    Args:
        x: input tensor (batch, height, width, channels).
        ratio: the reduction ratio r (16 in the paper); must leave at least one hidden unit.
        name: prefix of the layer names (``{name}_se_squeeze`` ... ``{name}_se_scale``).

    Example::

        y = squeeze_excitation(y, ratio=16, name="conv2_block1")   # same shape, channels re-weighted
    """
    channels = int(x.shape[-1])
    _check_positive("ratio", ratio)
    if channels // ratio < 1:
        raise ValueError(f"ratio={ratio} leaves no hidden unit for {channels} channels; use a ratio <= {channels}.")
    gates = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    gates = layers.Dense(channels // ratio, activation="relu", name=f"{name}_se_reduce")(gates)
    gates = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(gates)
    return layers.Multiply(name=f"{name}_se_scale")([x, gates])


def _shortcut(x: Any, filters: int, stride: int, shortcut: str, use_bias: bool, name: str) -> Any | None:
    """The shortcut branch of a block (``None`` for a plain block). Option B projects only on a shape change."""
    _check_choice("shortcut", shortcut, SHORTCUTS)
    if shortcut == "none":
        return None
    changes_shape = stride != 1 or x.shape[-1] != filters
    if shortcut == "all_projection" or (shortcut == "projection" and changes_shape):
        return _conv_bn(x, filters, 1, stride, use_bias, name=f"{name}_0")
    if shortcut == "identity_pad" and changes_shape:
        return IdentityPadShortcut(filters, stride, name=f"{name}_0_pad")(x)
    return x


def basic_block(
    x: Any,
    filters: int,
    stride: int = 1,
    shortcut: str = "projection",
    use_bias: bool = False,
    name: str = "block",
    se_ratio: int | None = None,
) -> Any:
    """The basic residual block (figure 5, left): 3x3 conv-BN-ReLU, 3x3 conv-BN, add the shortcut, ReLU.

    Args:
        x: input tensor (batch, height, width, channels).
        filters: output channels of both convs.
        stride: stride of the first conv (2 starts a new stage).
        shortcut: one of :data:`SHORTCUTS` (option B ``"projection"`` by default; ``"none"`` = plain block).
        use_bias: conv biases (redundant before BN; ``False`` as in the paper).
        name: prefix of the layer names (``conv2_block1``).
        se_ratio: squeeze-and-excitation on the residual branch before the add, with this reduction ratio
            (:func:`squeeze_excitation`); ``None``: none.

    Example::

        x = basic_block(x, 128, stride=2, name="conv3_block1")   # 56x56x64 -> 28x28x128, projection shortcut
    """
    _check_positive("filters", filters)
    _check_positive("stride", stride)
    residual = _shortcut(x, filters, stride, shortcut, use_bias, name)
    x = _conv_bn(x, filters, 3, stride, use_bias, name=f"{name}_1")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = _conv_bn(x, filters, 3, 1, use_bias, name=f"{name}_2")
    if se_ratio is not None:
        x = squeeze_excitation(x, se_ratio, name=name)
    if residual is not None:
        x = layers.Add(name=f"{name}_add")([residual, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def bottleneck_block(
    x: Any,
    filters: int,
    stride: int = 1,
    expansion: int = 4,
    groups: int = 1,
    shortcut: str = "projection",
    stride_on: str = "1x1",
    use_bias: bool = False,
    name: str = "block",
    se_ratio: int | None = None,
) -> Any:
    """The bottleneck block (figure 5, right): 1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand, add, ReLU.

    Output channels are ``filters * expansion``. With ``groups > 1`` this is ResNeXt's block in form (c) (Xie et
    al. 2017, figure 3): ``filters`` is then the total width of the grouped 3x3 (32 groups x 4 = 128 for 32x4d,
    with ``expansion=2``).

    Args:
        x: input tensor.
        filters: width of the 1x1 reduce and the 3x3 conv.
        stride: stride of the block (2 starts a new stage), applied on ``stride_on``.
        expansion: output channels / ``filters`` (4 in ResNet, 2 in ResNeXt's 32x4d).
        groups: groups of the 3x3 conv (ResNeXt's cardinality); must divide ``filters``.
        shortcut: one of :data:`SHORTCUTS`.
        stride_on: ``"1x1"`` (the paper, keras.applications) or ``"3x3"`` (torchvision's v1.5, ResNeXt).
        use_bias: conv biases (``True`` reproduces keras.applications.ResNet50).
        name: prefix of the layer names.
        se_ratio: squeeze-and-excitation on the residual branch before the add (SE-ResNet: 16); ``None``: none.

    Example::

        x = bottleneck_block(x, 64, name="conv2_block1")    # 56x56x64 -> 56x56x256
    """
    _check_positive("filters", filters)
    _check_positive("stride", stride)
    _check_positive("expansion", expansion)
    _check_positive("groups", groups)
    _check_choice("stride_on", stride_on, STRIDE_ON)
    if filters % groups:
        raise ValueError(f"groups={groups} must divide filters={filters} (each group gets filters/groups channels).")
    residual = _shortcut(x, filters * expansion, stride, shortcut, use_bias, name)
    stride_1x1, stride_3x3 = (stride, 1) if stride_on == "1x1" else (1, stride)
    x = _conv_bn(x, filters, 1, stride_1x1, use_bias, name=f"{name}_1")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = _conv_bn(x, filters, 3, stride_3x3, use_bias, name=f"{name}_2", groups=groups)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = _conv_bn(x, filters * expansion, 1, 1, use_bias, name=f"{name}_3")
    if se_ratio is not None:
        x = squeeze_excitation(x, se_ratio, name=name)
    if residual is not None:
        x = layers.Add(name=f"{name}_add")([residual, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _stage(x: Any, block: str, filters: int, blocks: int, stride: int, stage: int, **block_args: Any) -> Any:
    """One stage ``conv{stage}_x``: the first block changes the shape, the rest keep it."""
    block_fn = basic_block if block == "basic" else bottleneck_block
    for index in range(1, blocks + 1):
        x = block_fn(x, filters, stride=stride if index == 1 else 1, name=f"conv{stage}_block{index}", **block_args)
    return x


def resnet(
    depth: int | None = 50,
    blocks: Sequence[int] | None = None,
    block: str | None = None,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    include_top: bool = True,
    shortcut: str = "projection",
    stride_on: str = "1x1",
    use_bias: bool = False,
    groups: int = 1,
    width_per_group: int | None = None,
    name: str | None = None,
    se_ratio: int | None = None,
) -> keras.Model:
    """An ImageNet ResNet of the paper's table 1: 7x7/2 stem, 3x3/2 max pool, four stages, global average pool.

    Args:
        depth: 18, 34, 50, 101 or 152 (:data:`RESNET_DEPTHS`); ``None`` when ``blocks`` and ``block`` are given.
        blocks: blocks per stage (conv2_x ... conv5_x), overriding ``depth``'s.
        block: ``"basic"`` or ``"bottleneck"``, overriding ``depth``'s.
        input_shape: height, width, channels.
        classes: softmax outputs (with ``include_top``).
        include_top: add the pool + dense classifier; without it the model ends at conv5_x's feature map.
        shortcut: one of :data:`SHORTCUTS` (option B by default, as in the paper's ImageNet models).
        stride_on: bottleneck stride on the ``"1x1"`` (paper, Keras) or ``"3x3"`` (torchvision v1.5).
        use_bias: conv biases; ``True`` with depth 50 equals ``keras.applications.ResNet50(weights=None)``.
        groups: cardinality of the bottleneck 3x3 (ResNeXt; 1 = ResNet).
        width_per_group: ResNeXt's bottleneck width ``d``: the stage-1 3x3 has ``groups * d`` channels (doubling
            per stage) and the block expands by 2 (the paper's 32x4d: ``groups=32, width_per_group=4``).
        name: model name (default ``resnet{depth}``; ``se_resnet{depth}`` with ``se_ratio``).
        se_ratio: squeeze-and-excitation in every block with this reduction ratio (Hu et al. 2018: 16);
            ``None`` (default): the plain ResNet.

    Example::

        resnet(50, use_bias=True).count_params()    # 25,636,712, as keras.applications.ResNet50(weights=None)
    """
    if blocks is None or block is None:
        if depth not in RESNET_DEPTHS:
            raise ValueError(f"depth must be one of {sorted(RESNET_DEPTHS)}, or pass blocks= and block=; got {depth!r}.")
        default_block, default_blocks = RESNET_DEPTHS[depth]
        block = block or default_block
        blocks = blocks or default_blocks
    _check_choice("block", block, BLOCKS)
    if len(blocks) != 4 or any(not isinstance(b, int) or b < 1 for b in blocks):
        raise ValueError(f"blocks needs four positive block counts (conv2_x ... conv5_x), got {tuple(blocks)}.")
    _check_positive("classes", classes)
    _check_positive("groups", groups)
    if groups > 1 and block != "bottleneck":
        raise ValueError("groups > 1 (ResNeXt) needs block='bottleneck'.")
    if depth is None:
        per_block = 2 if block == "basic" else 3
        depth = 2 + per_block * sum(blocks)

    block_args: dict[str, Any] = {"shortcut": shortcut, "use_bias": use_bias, "se_ratio": se_ratio}
    widths = [64, 128, 256, 512]
    if block == "bottleneck":
        block_args.update(groups=groups, stride_on=stride_on)
        if width_per_group is not None:
            _check_positive("width_per_group", width_per_group)
            widths = [groups * width_per_group * 2**i for i in range(4)]
            block_args["expansion"] = 2

    inputs = keras.Input(input_shape, name="image")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, count) in enumerate(zip(widths, blocks), start=2):
        x = _stage(x, block, filters, count, stride=1 if stage == 2 else 2, stage=stage, **block_args)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name or f"{'se_' if se_ratio is not None else ''}resnet{depth}")


def resnext(
    depth: int = 50,
    cardinality: int = 32,
    width_per_group: int = 4,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    include_top: bool = True,
    name: str | None = None,
) -> keras.Model:
    """ResNeXt (Xie et al. 2017, table 1): ResNet-50/101's layout with grouped 3x3 bottlenecks, stride on the 3x3.

    Example::

        resnext(50, cardinality=32, width_per_group=4)    # ResNeXt-50 (32x4d), ~25.0M parameters
    """
    if depth not in (50, 101, 152):
        raise ValueError(f"ResNeXt depth must be one of 50, 101, 152; got {depth!r}.")
    return resnet(depth, input_shape=input_shape, classes=classes, include_top=include_top, stride_on="3x3",
                  groups=cardinality, width_per_group=width_per_group,
                  name=name or f"resnext{depth}_{cardinality}x{width_per_group}d")


def small_resnet(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    stage_widths: Sequence[int] = (16, 32, 64),
    blocks_per_stage: Sequence[int] = (2, 2, 2),
    shortcut: str = "projection",
    block: str = "basic",
    name: str | None = None,
) -> keras.Model:
    """A CIFAR-style ResNet (section 4.2) for the workshop's 32x32 data: 3x3 stem, stages of blocks, pool, dense.

    Depth (weighted layers) is ``2 + 2 * sum(blocks_per_stage)`` with basic blocks: ``(3, 3, 3)`` is ResNet-20,
    ``(9, 9, 9)`` ResNet-56. ``shortcut="none"`` gives the plain twin; ``"identity_pad"`` is the paper's option A
    (then the ResNet and its plain twin have the same parameters).

    Args:
        input_shape: height, width, channels.
        classes: softmax outputs.
        stage_widths: filters of each stage; every stage after the first halves the resolution.
        blocks_per_stage: residual blocks in each stage.
        shortcut: one of :data:`SHORTCUTS`.
        block: ``"basic"`` or ``"bottleneck"`` (expansion 4).
        name: model name (default ``resnet{depth}`` or ``plain{depth}``).

    Example::

        model = small_resnet()        # ResNet-14 for 32x32x3, 10 classes, ~0.18M parameters
    """
    if len(stage_widths) != len(blocks_per_stage) or not stage_widths:
        raise ValueError(f"stage_widths and blocks_per_stage need one entry per stage, got {tuple(stage_widths)} "
                         f"and {tuple(blocks_per_stage)}.")
    for width in stage_widths:
        _check_positive("each stage width", width)
    for count in blocks_per_stage:
        _check_positive("each stage's block count", count)
    _check_choice("block", block, BLOCKS)
    _check_choice("shortcut", shortcut, SHORTCUTS)
    _check_positive("classes", classes)
    per_block = 2 if block == "basic" else 3
    depth = 2 + per_block * sum(blocks_per_stage)
    if name is None:
        name = f"{'plain' if shortcut == 'none' else 'resnet'}{depth}"

    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(stage_widths[0], 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for index, (filters, count) in enumerate(zip(stage_widths, blocks_per_stage)):
        x = _stage(x, block, filters, count, stride=1 if index == 0 else 2, stage=index + 2, shortcut=shortcut)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


# --- "Identity Mappings in Deep Residual Networks" (He et al. 2016, arXiv:1603.05027): the variants it compares ---

#: Figure 2's shortcut variants (all with the original post-activation residual branch, ReLU after the add).
SHORTCUT_VARIANTS: tuple[str, ...] = (
    "original", "constant_scaling", "exclusive_gating", "shortcut_only_gating", "conv_shortcut", "dropout_shortcut",
)
#: Figure 4's activation orders: (a) original ... (e) full pre-activation.
ACTIVATION_VARIANTS: tuple[str, ...] = (
    "original", "bn_after_addition", "relu_before_addition", "relu_only_preactivation", "full_preactivation",
)
VARIANTS: tuple[str, ...] = SHORTCUT_VARIANTS + ACTIVATION_VARIANTS[1:]


def _conv(x: Any, filters: int, stride: int, name: str) -> Any:
    return layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)


def _relu(x: Any, name: str) -> Any:
    return layers.Activation("relu", name=f"{name}_relu")(x)


def residual_unit(
    x: Any,
    filters: int,
    stride: int = 1,
    variant: str = "original",
    gate_bias: float = -6.0,
    scale: float = 0.5,
    name: str = "unit",
) -> Any:
    """One basic residual unit in one of the Identity Mappings paper's variants (:data:`VARIANTS`).

    Shortcut variants (figure 2; ``x`` the shortcut, ``F`` the residual branch conv-BN-ReLU-conv-BN):

    * ``original`` ReLU(x + F); ``constant_scaling`` ReLU(scale*x + scale*F) (the paper's 0.5/0.5 row);
    * ``exclusive_gating`` ReLU((1-g)*x + g*F) and ``shortcut_only_gating`` ReLU((1-g)*x + F), with
      g = sigmoid(1x1 conv(x)), gate bias initialised to ``gate_bias`` (the paper's best: -6);
    * ``conv_shortcut`` ReLU(1x1 conv(x) + F); ``dropout_shortcut`` ReLU(dropout_0.5(x) + F).

    Activation variants (figure 4): ``bn_after_addition`` ReLU(BN(x + conv-BN-ReLU-conv));
    ``relu_before_addition`` x + ReLU(F); ``relu_only_preactivation`` x + BN(conv(ReLU(BN(conv(ReLU(x))))));
    ``full_preactivation`` x + conv(ReLU(BN(conv(ReLU(BN(x)))))).

    Where the shape changes, the shortcut is a 1x1 projection (with BN in the post-activation variants), and the
    gates, scaling and dropout apply to it as to an identity.

    Example::

        x = residual_unit(x, 16, variant="full_preactivation", name="conv2_block1")
    """
    _check_choice("variant", variant, VARIANTS)
    _check_positive("filters", filters)
    _check_positive("stride", stride)
    changes_shape = stride != 1 or x.shape[-1] != filters
    preactivation = variant in ("relu_only_preactivation", "full_preactivation")

    # The pre-activation units activate the input once, for both branches when a projection reads it.
    branch_input = x
    if variant == "full_preactivation":
        branch_input = _relu(_bn(x, f"{name}_preact"), f"{name}_preact")
    elif variant == "relu_only_preactivation":
        branch_input = _relu(x, f"{name}_preact")
    shortcut = x
    if changes_shape or variant == "conv_shortcut":
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(
            branch_input if preactivation else x)
        if not preactivation and variant != "conv_shortcut":
            shortcut = _bn(shortcut, f"{name}_0")

    if variant == "full_preactivation":
        y = _conv(branch_input, filters, stride, f"{name}_1")
        y = _conv(_relu(_bn(y, f"{name}_2_pre"), f"{name}_2_pre"), filters, 1, f"{name}_2")
    else:
        y = _relu(_bn(_conv(branch_input, filters, stride, f"{name}_1"), f"{name}_1"), f"{name}_1")
        y = _conv(y, filters, 1, f"{name}_2")
        if variant != "bn_after_addition":
            y = _bn(y, f"{name}_2")
        if variant == "relu_before_addition":
            y = _relu(y, f"{name}_2")

    if variant == "constant_scaling":
        shortcut, y = shortcut * scale, y * scale
    elif variant in ("exclusive_gating", "shortcut_only_gating"):
        gate = layers.Conv2D(filters, 1, strides=stride, activation="sigmoid",
                             bias_initializer=keras.initializers.Constant(gate_bias), name=f"{name}_gate")(x)
        shortcut = (1.0 - gate) * shortcut
        if variant == "exclusive_gating":
            y = gate * y
    elif variant == "dropout_shortcut":
        shortcut = layers.Dropout(0.5, name=f"{name}_0_dropout")(shortcut)

    x = layers.Add(name=f"{name}_add")([shortcut, y])
    if variant == "bn_after_addition":
        x = _bn(x, f"{name}_out")
    if variant in ("relu_before_addition", "relu_only_preactivation", "full_preactivation"):
        return x
    return _relu(x, f"{name}_out")


def variant_resnet(
    variant: str = "original",
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    stage_widths: Sequence[int] = (16, 32, 64),
    blocks_per_stage: Sequence[int] = (3, 3, 3),
    name: str | None = None,
    **unit_args: Any,
) -> keras.Model:
    """A CIFAR-style ResNet (ResNet-20 by default) built from :func:`residual_unit` in one variant.

    The pre-activation variants end with BN + ReLU before the pooling, as in the paper's pre-activation nets.

    Example::

        variant_resnet("full_preactivation").count_params()
    """
    _check_choice("variant", variant, VARIANTS)
    if len(stage_widths) != len(blocks_per_stage) or not stage_widths:
        raise ValueError("stage_widths and blocks_per_stage need one entry per stage.")
    depth = 2 + 2 * sum(blocks_per_stage)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(stage_widths[0], 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    if variant != "full_preactivation":  # full pre-activation units start with their own BN-ReLU
        x = _relu(_bn(x, "conv1"), "conv1")
    for index, (filters, count) in enumerate(zip(stage_widths, blocks_per_stage)):
        for block in range(1, count + 1):
            stride = 2 if index > 0 and block == 1 else 1
            x = residual_unit(x, filters, stride, variant, name=f"conv{index + 2}_block{block}", **unit_args)
    if variant in ("relu_only_preactivation", "full_preactivation"):
        x = _relu(_bn(x, "post"), "post")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}_{variant}")
