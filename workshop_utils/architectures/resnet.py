"""ResNet (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, arXiv:1512.03385) and ResNeXt.

The reference copy of the networks notebook 07 builds live, written like ``keras.applications.resnet``: block
functions (:func:`basic_block`, :func:`bottleneck_block`) composed by one factory, :func:`resnet`, whose ``stem``
picks the paper's two layouts:

* ``stem="imagenet"`` -- table 1's models (:data:`RESNET_DEPTHS`): a 7x7/2 conv and a 3x3/2 max pool, then four
  stages of 64, 128, 256, 512 filters; ``resnet(50)``.
* ``stem="cifar"`` -- section 4.2's CIFAR nets, sized for the workshop's 32x32 data: one 3x3 conv, then stages of
  16, 32, 64 filters, ``depth = 6n + 2`` with ``n`` basic blocks per stage; ``resnet(20, stem="cifar")``.

Layer names follow ``keras.applications``: ``conv1_conv``, ``conv2_block1_1_conv``, ``conv2_block1_0_conv`` (the
projection shortcut), ``conv2_block1_add``, ``conv2_block1_out``, ``avg_pool``, ``predictions``. The Identity
Mappings paper's unit orderings live in :mod:`workshop_utils.architectures.identity_mappings`.

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
  model exactly (25,636,712 parameters); the default ``use_bias=False`` is the paper's network, whose trainable
  parameters are torchvision's (:data:`TORCHVISION`).
* The original ResNet (and Keras' v1) strides in the first 1x1 of a bottleneck; torchvision's "v1.5" strides in the
  3x3 (same parameters, more multiply-adds). ``stride_on`` picks.

Squeeze-and-excitation (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507): ``se_ratio``
on a block or on :func:`resnet` recalibrates the residual branch's channels (:func:`squeeze_excitation`) before the
addition; ``resnet(50, se_ratio=16)`` is SE-ResNet-50 (28,088,024 trainable parameters; the paper: 28.09M).

Example::

    from workshop_utils.architectures.resnet import resnet
    resnet(50, use_bias=True).count_params()          # 25,636,712 == keras.applications.ResNet50(weights=None)
    resnet(20, stem="cifar")                          # ResNet-20 for 32x32 images, 10 classes
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from workshop_utils._validate import choice, positive_int
from workshop_utils.architectures._top import check_top, classifier_top

#: ImageNet ResNets of the paper's table 1: depth -> (block kind, blocks per stage conv2_x ... conv5_x).
RESNET_DEPTHS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}

#: Trainable parameters of torchvision's ResNet-18/34/50, **quoted** from its weights' metadata (``num_params``);
#: they leave out BN's moving statistics, which Keras' ``count_params()`` includes.
TORCHVISION: dict[int, int] = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032}

#: Shortcut kinds a block accepts (see the module docstring).
SHORTCUTS: tuple[str, ...] = ("projection", "identity_pad", "all_projection", "none")
BLOCKS: tuple[str, ...] = ("basic", "bottleneck")
STRIDE_ON: tuple[str, ...] = ("1x1", "3x3")

#: The two stems of the paper, with their defaults: input shape, classes, first stage width, default depth.
STEMS: dict[str, dict[str, Any]] = {
    "imagenet": {"input_shape": (224, 224, 3), "classes": 1000, "width": 64, "depth": 50},
    "cifar": {"input_shape": (32, 32, 3), "classes": 10, "width": 16, "depth": 20},
}
IMAGENET_STEM_FILTERS = 64  # the 7x7 conv's filters (ResNeXt keeps them though its stages are wider)

#: ``keras.applications.resnet`` uses this BN epsilon; kept so weights could be copied across.
BN_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="workshop_utils")
class IdentityPadShortcut(layers.Layer):
    """Option A shortcut: keep every ``stride``-th pixel and append zero channels up to ``filters``. No weights.

    The paper's CIFAR nets (section 4.2) use it, so a ResNet has exactly as many parameters as its plain twin.
    It costs no multiply-adds; the cost counter's rules (:mod:`workshop_utils.flops.rules`) know it.

    Example::

        shortcut = IdentityPadShortcut(32, stride=2)(x)   # (16, 16, 16) -> (8, 8, 32)
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = positive_int("filters", filters)
        self.stride = positive_int("stride", stride)

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
    positive_int("ratio", ratio)
    if channels // ratio < 1:
        raise ValueError(f"ratio={ratio} leaves no hidden unit for {channels} channels; use a ratio <= {channels}.")
    gates = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    gates = layers.Dense(channels // ratio, activation="relu", name=f"{name}_se_reduce")(gates)
    gates = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(gates)
    return layers.Multiply(name=f"{name}_se_scale")([x, gates])


def _shortcut(x: Any, filters: int, stride: int, shortcut: str, use_bias: bool, name: str) -> Any | None:
    """The shortcut branch of a block (``None`` for a plain block). Option B projects only on a shape change."""
    choice("shortcut", shortcut, SHORTCUTS)
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
    positive_int("filters", filters)
    positive_int("stride", stride)
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
    for what, value in (("filters", filters), ("stride", stride), ("expansion", expansion), ("groups", groups)):
        positive_int(what, value)
    choice("stride_on", stride_on, STRIDE_ON)
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


def stem_block(x: Any, stem: str = "imagenet", filters: int = IMAGENET_STEM_FILTERS, use_bias: bool = False) -> Any:
    """The layers before the first stage, named ``conv1_*`` (and ``pool1_*``) as in keras.applications.

    ``"imagenet"``: 7x7/2 conv, BN, ReLU, 3x3/2 max pool (a quarter of the resolution in each direction is left
    after these two layers). ``"cifar"``: 3x3 conv ('same', stride 1), BN, ReLU (full resolution).

    Example::

        x = stem_block(inputs, "cifar", 16)   # 32x32x3 -> 32x32x16
    """
    choice("stem", stem, tuple(STEMS))
    if stem == "cifar":
        x = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name="conv1_conv")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
        return layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(filters, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _layout(depth: int | None, blocks: Sequence[int] | None, block: str | None, stem: str) -> tuple[str, tuple]:
    """(block kind, blocks per stage) from ``depth`` (the stem's table) or from ``blocks`` and ``block``."""
    if blocks is not None:
        if depth is not None:
            raise ValueError(f"give depth (the paper's layout) or blocks (your own), not both; got depth={depth!r} "
                             f"and blocks={tuple(blocks)!r}.")
        blocks = tuple(positive_int("each entry of blocks", count) for count in blocks)
        if not blocks:
            raise ValueError("blocks needs at least one stage, e.g. (2, 2, 2).")
        return choice("block", "basic" if block is None else block, BLOCKS), blocks
    if block is not None:
        raise ValueError(f"block={block!r} goes with blocks=: a depth fixes the block kind (pass blocks= instead).")
    depth = STEMS[stem]["depth"] if depth is None else depth
    if stem == "imagenet":
        if depth not in RESNET_DEPTHS:
            raise ValueError(f"depth must be one of {sorted(RESNET_DEPTHS)} with the imagenet stem (table 1), or "
                             f"pass blocks= and block=; got {depth!r}.")
        return RESNET_DEPTHS[depth]
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"with the cifar stem depth must be 6n + 2 (8, 14, 20, 32, 44, 56, 110: n basic blocks "
                         f"per stage), or pass blocks=; got {depth!r}.")
    return "basic", ((depth - 2) // 6,) * 3


def resnet(
    depth: int | None = None,
    *,
    blocks: Sequence[int] | None = None,
    block: str | None = None,
    stem: str = "imagenet",
    widths: Sequence[int] | None = None,
    expansion: int | None = None,
    groups: int = 1,
    shortcut: str = "projection",
    stride_on: str = "1x1",
    use_bias: bool = False,
    se_ratio: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
    classes: int | None = None,
    include_top: bool = True,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """A ResNet: the ``stem`` (:func:`stem_block`), stages of residual blocks, then the top.

    Args:
        depth: weighted layers. With ``stem="imagenet"`` one of :data:`RESNET_DEPTHS` (default 50); with
            ``stem="cifar"`` ``6n + 2`` (default 20: three stages of ``n`` basic blocks). Not with ``blocks``.
        blocks: your own layout instead of ``depth``: blocks per stage (each stage after the first halves the
            resolution).
        block: with ``blocks``: ``"basic"`` (default) or ``"bottleneck"``.
        stem: ``"imagenet"`` (7x7/2 conv + max pool; default input 224x224x3, 1000 classes) or ``"cifar"``
            (3x3 conv; default input 32x32x3, 10 classes).
        widths: filters of each stage (a bottleneck's inner width); default ``64 * 2**i`` (imagenet) or
            ``16 * 2**i`` (cifar). The cifar stem has ``widths[0]`` filters, the imagenet stem 64.
        expansion: a bottleneck's output channels / its width (default 4; ResNeXt 2). Bottleneck only.
        groups: groups of the bottleneck's 3x3 conv (ResNeXt's cardinality; 1 = ResNet). Bottleneck only.
        shortcut: one of :data:`SHORTCUTS` (option B by default, as in the paper's ImageNet models).
        stride_on: a bottleneck's stride on the ``"1x1"`` (paper, Keras) or ``"3x3"`` (torchvision v1.5).
        use_bias: conv biases; ``True`` with depth 50 equals ``keras.applications.ResNet50(weights=None)``.
        se_ratio: squeeze-and-excitation in every block with this reduction ratio (Hu et al. 2018: 16).
        input_shape: height, width, channels (default: the stem's).
        classes: classifier outputs (default: the stem's).
        include_top: global average pool + dense classifier; without it the last stage's feature map.
        pooling: without the top: ``None`` (feature map), ``"avg"`` or ``"max"``.
        classifier_activation: the classifier's activation (``None`` for logits).
        name: model name; default ``resnet{depth}``, ``plain{depth}`` without shortcuts, ``se_`` in front with SE.

    Example::

        resnet(50, use_bias=True).count_params()    # 25,636,712, as keras.applications.ResNet50(weights=None)
        resnet(20, stem="cifar", shortcut="none")   # plain20, ResNet-20's plain twin
    """
    choice("stem", stem, tuple(STEMS))
    block, blocks = _layout(depth, blocks, block, stem)
    if widths is None:
        widths = tuple(STEMS[stem]["width"] * 2**index for index in range(len(blocks)))
    widths = tuple(positive_int("each stage width", width) for width in widths)
    if len(widths) != len(blocks):
        raise ValueError(f"widths and blocks need one entry per stage, got {widths} and {blocks}.")
    choice("shortcut", shortcut, SHORTCUTS)
    choice("stride_on", stride_on, STRIDE_ON)
    groups = positive_int("groups", groups)
    block_args: dict[str, Any] = {"shortcut": shortcut, "use_bias": use_bias, "se_ratio": se_ratio}
    if block == "bottleneck":
        block_args.update(groups=groups, stride_on=stride_on,
                          expansion=4 if expansion is None else positive_int("expansion", expansion))
    elif expansion is not None or groups != 1 or stride_on != "1x1":
        raise ValueError("expansion, groups (ResNeXt) and stride_on='3x3' are the bottleneck's: pass "
                         "block='bottleneck' with blocks=, or a depth of 50 or more.")
    if se_ratio is not None:
        positive_int("se_ratio", se_ratio)
    classes = check_top(include_top, pooling, STEMS[stem]["classes"] if classes is None else classes)
    depth = 2 + (2 if block == "basic" else 3) * sum(blocks)

    inputs = keras.Input(STEMS[stem]["input_shape"] if input_shape is None else input_shape, name="image")
    stem_filters = widths[0] if stem == "cifar" else IMAGENET_STEM_FILTERS
    x = stem_block(inputs, stem, stem_filters, use_bias)
    for index, (filters, count) in enumerate(zip(widths, blocks)):
        x = _stage(x, block, filters, count, stride=1 if index == 0 else 2, stage=index + 2, **block_args)
    x = classifier_top(x, include_top, pooling, classes, classifier_activation)
    kind = "plain" if shortcut == "none" else "resnet"
    return keras.Model(inputs, x, name=name or f"{'se_' if se_ratio is not None else ''}{kind}{depth}")


def resnext(
    depth: int = 50,
    cardinality: int = 32,
    width_per_group: int = 4,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    include_top: bool = True,
    *,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """ResNeXt (Xie et al. 2017, table 1): ResNet-50/101's layout with grouped 3x3 bottlenecks, stride on the 3x3.

    The bottleneck width ``d = width_per_group``: the first stage's 3x3 has ``cardinality * d`` channels (doubling
    per stage) and each block expands by 2 (the paper's 32x4d: ``cardinality=32, width_per_group=4``).

    Example::

        resnext(50, cardinality=32, width_per_group=4)    # ResNeXt-50 (32x4d), ~25.0M parameters
    """
    if depth not in (50, 101, 152):
        raise ValueError(f"ResNeXt depth must be one of 50, 101, 152; got {depth!r}.")
    positive_int("width_per_group", width_per_group)
    widths = tuple(positive_int("cardinality", cardinality) * width_per_group * 2**index for index in range(4))
    return resnet(depth, widths=widths, expansion=2, groups=cardinality, stride_on="3x3", input_shape=input_shape,
                  classes=classes, include_top=include_top, pooling=pooling,
                  classifier_activation=classifier_activation,
                  name=name or f"resnext{depth}_{cardinality}x{width_per_group}d")
