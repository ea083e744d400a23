"""DenseNet (Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional Networks", CVPR 2017,
arXiv:1608.06993), the reference copy of the network notebook 08 builds live.

Written like ``keras/src/applications/densenet.py``: block functions composed by one model function whose
arguments are the paper's hyper-parameters (``blocks``, ``growth_rate`` k, ``compression`` theta, ``bottleneck``):

* :func:`composite` -- the paper's composite function H: batch norm, ReLU, convolution (pre-activation order).
* :func:`bottleneck_layer` -- one layer's new features: 1x1 conv to 4k channels, then 3x3 conv to k (the "B" of
  DenseNet-BC); with ``bottleneck=False`` a single 3x3 conv to k.
* :func:`dense_block` -- each layer reads the concatenation of everything before it in the block, so the channel
  count grows k0, k0 + k, k0 + 2k, ...
* :func:`transition` -- between blocks: a 1x1 conv that keeps ``floor(theta * channels)`` channels (the "C"),
  then 2x2 average pooling.
* :func:`densenet` -- the network, with the ImageNet stem (``stem="imagenet"``: :func:`densenet121`,
  :func:`densenet169`, :func:`densenet201` at 224x224, whose parameter counts equal
  ``keras.applications.DenseNet121/169/201(weights=None)``) or the paper's CIFAR stem for 32x32 data
  (``stem="cifar"``: one 3x3 conv; ``densenet((2, 4, 6), growth_rate=16, stem="cifar")`` is notebook 08's small
  DenseNet).

Memory-efficient DenseNets (Pleiss et al. 2017, arXiv:1707.06990): with ``memory_efficient=True`` each dense
layer's concatenation, batch norm, ReLU and 1x1 conv become one :class:`RecomputedBottleneck`, whose forward pass
``keras.remat`` recomputes during the backward pass (gradient checkpointing: ``tf.recompute_grad`` on TensorFlow,
``jax.checkpoint`` on JAX, ``torch.utils.checkpoint`` on PyTorch). Training then keeps each layer's k new maps once
instead of a fresh concatenation per layer. The network and its parameter count are the same.

Layer names follow ``keras.applications`` (``conv2_block1_concat``, ``pool2_conv``), so per-layer cost tables line
up with Keras' model: ``conv3_block4_1x1_conv`` is the bottleneck conv of layer 4 in dense block 2.

Example::

    from workshop_utils.architectures.densenet import densenet121
    densenet121().count_params()     # 8,062,504, as keras.applications.DenseNet121(weights=None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from workshop_utils._validate import choice, fraction, positive_int
from workshop_utils.architectures._top import check_top, classifier_top

#: Layers per dense block of the ImageNet DenseNets (the paper's table 1; growth rate 32, compression 0.5).
DENSENET_BLOCKS: dict[str, tuple[int, ...]] = {
    "densenet121": (6, 12, 24, 16),
    "densenet169": (6, 12, 32, 32),
    "densenet201": (6, 12, 48, 32),
}

#: ImageNet validation errors in percent, **quoted** from Huang et al. 2017 (arXiv:1608.06993), table 3:
#: (single-crop top-1, single-crop top-5, 10-crop top-1, 10-crop top-5).
QUOTED_IMAGENET_ERRORS: dict[str, tuple[float, float, float, float]] = {
    "densenet121": (25.02, 7.71, 23.61, 6.66),
    "densenet169": (23.80, 6.85, 22.08, 5.92),
    "densenet201": (22.58, 6.34, 21.46, 5.54),
}

# keras.applications uses this epsilon; keeping it makes the models interchangeable (it has no parameters).
BN_EPSILON = 1.001e-5
BOTTLENECK_WIDTH = 4  # the bottleneck conv has 4k filters (section 3, "Bottleneck layers")

#: The paper's two stems, with their defaults: input shape, classes, smallest input side.
STEMS: dict[str, dict[str, Any]] = {
    "imagenet": {"input_shape": (224, 224, 3), "classes": 1000, "min_size": 32},
    "cifar": {"input_shape": (32, 32, 3), "classes": 10, "min_size": 1},
}


@keras.saving.register_keras_serializable(package="workshop_utils")
class RecomputedBottleneck(layers.Layer):
    """A dense layer's input half, Concatenate -> BatchNorm -> ReLU -> Conv1x1, recomputed in the backward pass.

    Takes the list of feature maps so far (block input and every earlier layer's k maps) and returns the 1x1
    conv's ``filters`` channels. The concatenation and the normalised, rectified copy of it exist only inside
    ``keras.remat``: the backward pass recomputes them from the pieces, which training keeps anyway. That is the
    memory-efficient DenseNet of Pleiss et al. 2017 (shared storage for the concatenation, BN-ReLU recomputed).

    The cost counter's rules (:mod:`workshop_utils.flops.rules`) count its 1x1 conv's multiply-adds.

    The batch statistics are taken outside the recomputed function (per channel, piece by piece, so without
    concatenating), and the moving averages are updated there, once per step: a recomputation must not touch
    the layer's state (under ``jax.checkpoint`` a state update would leak a tracer). The weights are a batch
    norm's (gamma, beta, moving mean and variance) and the conv's kernel, as in :func:`composite`.

    Example::

        new = RecomputedBottleneck(128, name="conv2_block1_1x1")([x0, x1, x2])   # (..., 128)
    """

    def __init__(self, filters: int, epsilon: float = 1e-3, momentum: float = 0.99, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = positive_int("filters", filters)
        self.epsilon, self.momentum = float(epsilon), float(momentum)
        self.conv = layers.Conv2D(self.filters, 1, use_bias=False, name="conv")

    def build(self, input_shapes: Sequence[tuple]) -> None:
        if not isinstance(input_shapes, (list, tuple)) or not input_shapes or not isinstance(input_shapes[0],
                                                                                             (list, tuple)):
            raise ValueError("RecomputedBottleneck takes a list of feature maps (the block input and each layer's "
                             f"new maps), got input shape {input_shapes}.")
        channels = sum(int(shape[-1]) for shape in input_shapes)
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=(channels,), initializer="zeros", name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=(channels,), initializer="ones", name="moving_variance",
                                               trainable=False)
        self.conv.build((*input_shapes[0][:-1], channels))

    def call(self, inputs: Sequence[Any], training: bool | None = None) -> Any:
        features = list(inputs)
        if training:
            means, variances = zip(*(ops.moments(f, axes=[0, 1, 2]) for f in features))
            mean, variance = ops.concatenate(means, axis=0), ops.concatenate(variances, axis=0)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance

        def forward(mean: Any, variance: Any, gamma: Any, beta: Any, kernel: Any, *pieces: Any) -> Any:
            x = ops.concatenate(list(pieces), axis=-1)
            x = (x - mean) * ops.rsqrt(variance + self.epsilon) * gamma + beta
            return ops.conv(ops.relu(x), kernel, padding="same")

        weights = [ops.convert_to_tensor(w) for w in (mean, variance, self.gamma, self.beta, self.conv.kernel)]
        return keras.remat(forward)(*weights, *features)   # variables as values: jax.checkpoint needs arrays

    def compute_output_shape(self, input_shapes: Sequence[tuple]) -> tuple:
        return (*input_shapes[0][:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "epsilon": self.epsilon, "momentum": self.momentum}


def composite(x: Any, filters: int, kernel_size: int, name: str) -> Any:
    """The composite function H of the paper: BatchNorm -> ReLU -> Conv ('same' padding, no bias).

    Pre-activation order (as in pre-activation ResNets): the conv sees normalised, rectified features, and its
    output goes straight into a concatenation, so no bias is needed (the next layer's batch norm re-centres).
    Layers are named ``{name}_bn``, ``{name}_relu``, ``{name}_conv``.

    Example::

        y = composite(x, 128, 1, name="conv2_block1_1x1")   # BN-ReLU-Conv1x1 to 128 channels
    """
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)


def bottleneck_layer(x: Any, growth_rate: int, bottleneck: bool = True, name: str = "dense") -> Any:
    """One dense layer's *new* feature maps (k = ``growth_rate`` channels), computed from everything in ``x``.

    With the bottleneck (DenseNet-B): BN-ReLU-Conv1x1 to 4k channels, then BN-ReLU-Conv3x3 to k. The 1x1 conv
    caps the 3x3 conv's input at 4k channels however many channels have piled up in the block.

    Example::

        new_features = bottleneck_layer(x, 32, name="conv2_block1")   # (..., 32)
    """
    positive_int("growth_rate", growth_rate)
    if bottleneck:
        x = composite(x, BOTTLENECK_WIDTH * growth_rate, 1, name=f"{name}_1x1")
    return composite(x, growth_rate, 3, name=f"{name}_3x3")


def dense_block(x: Any, num_layers: int, growth_rate: int, bottleneck: bool = True, name: str = "dense",
                memory_efficient: bool = False) -> Any:
    """A dense block: ``num_layers`` layers, each reading the concatenation of the block input and every earlier
    layer's output; returns ``k0 + num_layers * growth_rate`` channels at the input's resolution.

    (The argument is ``num_layers``, not ``layers``, so it does not hide ``keras.layers``.) With
    ``memory_efficient=True`` (needs the bottleneck) each layer's concatenation, BN, ReLU and 1x1 conv are one
    :class:`RecomputedBottleneck`, recomputed in the backward pass; the block concatenates once, at its end.

    Example::

        x = dense_block(x, 6, 32, name="conv2")   # 64 -> 64 + 6 * 32 = 256 channels
    """
    positive_int("num_layers", num_layers)
    if memory_efficient:
        if not bottleneck:
            raise ValueError("memory_efficient=True recomputes the bottleneck's input half: it needs bottleneck=True.")
        features = [x]
        for index in range(1, num_layers + 1):
            h = RecomputedBottleneck(BOTTLENECK_WIDTH * growth_rate, epsilon=BN_EPSILON,
                                     name=f"{name}_block{index}_1x1")(features)
            features.append(composite(h, growth_rate, 3, name=f"{name}_block{index}_3x3"))
        return layers.Concatenate(axis=-1, name=f"{name}_concat")(features)
    for index in range(1, num_layers + 1):
        new_features = bottleneck_layer(x, growth_rate, bottleneck, name=f"{name}_block{index}")
        x = layers.Concatenate(axis=-1, name=f"{name}_block{index}_concat")([x, new_features])
    return x


def transition(x: Any, compression: float = 0.5, name: str = "transition") -> Any:
    """Transition layer: BN-ReLU-Conv1x1 to ``floor(compression * channels)`` channels, then 2x2 average pool.

    ``compression`` (theta) applies to the channel count of ``x`` (everything the block produced), not to the
    growth rate; ``floor`` matches ``keras.applications``.

    Example::

        x = transition(x, 0.5, name="pool2")   # 56x56x256 -> 28x28x128
    """
    theta = fraction("compression (theta)", compression, low_open=True)
    channels = int(x.shape[-1])
    x = composite(x, max(1, int(channels * theta)), 1, name=name)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def stem_block(x: Any, stem: str = "imagenet", filters: int = 64) -> Any:
    """The layers before the first dense block, named as in keras.applications.

    ``"imagenet"``: 7x7/2 conv, BN, ReLU, 3x3/2 max pool (``conv1_*``, ``pool1``). ``"cifar"``: one 3x3 conv
    (``conv1_conv``), whose output goes straight into the first dense layer's BN-ReLU (section 3, "Implementation
    details").

    Example::

        x = stem_block(inputs, "cifar", 32)   # 32x32x3 -> 32x32x32
    """
    choice("stem", stem, tuple(STEMS))
    if stem == "cifar":
        return layers.Conv2D(filters, 3, padding="same", use_bias=False, name="conv1_conv")(x)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(filters, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1")(x)


def densenet(
    blocks: Sequence[int] = DENSENET_BLOCKS["densenet121"],
    growth_rate: int = 32,
    compression: float = 0.5,
    bottleneck: bool = True,
    *,
    stem: str = "imagenet",
    stem_filters: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
    classes: int | None = None,
    include_top: bool = True,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    memory_efficient: bool = False,
    name: str = "densenet",
) -> keras.Model:
    """A DenseNet(-BC): the ``stem`` (:func:`stem_block`), dense blocks with transitions between them, BN-ReLU,
    then the top.

    Args:
        blocks: layers per dense block, e.g. (6, 12, 24, 16) for DenseNet-121 (see :data:`DENSENET_BLOCKS`); each
            transition halves the resolution.
        growth_rate: k, the channels each layer adds (32 for the ImageNet models).
        compression: theta in (0, 1], the fraction of channels each transition keeps (0.5 for DenseNet-BC).
        bottleneck: put a 1x1 conv to 4k channels before each 3x3 conv (DenseNet-B).
        stem: ``"imagenet"`` (7x7/2 conv + 3x3/2 max pool; default input 224x224x3, 1000 classes) or ``"cifar"``
            (one 3x3 conv; default input 32x32x3, 10 classes).
        stem_filters: channels of the first conv; ``None`` means 2k, the paper's choice (64 for k = 32).
        input_shape: height, width, channels (default: the stem's).
        classes: classifier outputs (default: the stem's).
        include_top: global average pool + dense classifier; without it the final BN-ReLU's feature map.
        pooling: without the top: ``None`` (feature map), ``"avg"`` or ``"max"``.
        classifier_activation: the classifier's activation (``None`` for logits).
        memory_efficient: recompute each dense layer's concatenation-BN-ReLU-1x1 conv in the backward pass
            (:class:`RecomputedBottleneck`): the same network and parameters, less training memory.
        name: model name.

    Example::

        densenet((6, 12, 32, 32), name="densenet169").count_params()     # 14,307,880
        densenet((2, 4, 6), growth_rate=16, stem="cifar")                 # 180,426 parameters, for 32x32 images
    """
    choice("stem", stem, tuple(STEMS))
    blocks = tuple(blocks)
    if not blocks:
        raise ValueError("blocks needs at least one dense block, e.g. (6, 12, 24, 16) for DenseNet-121.")
    for count in blocks:
        positive_int("every entry of blocks", count)
    positive_int("growth_rate", growth_rate)
    fraction("compression (theta: 1 keeps every channel, 0.5 is DenseNet-BC)", compression, low_open=True)
    classes = check_top(include_top, pooling, STEMS[stem]["classes"] if classes is None else classes)
    input_shape = STEMS[stem]["input_shape"] if input_shape is None else tuple(input_shape)
    smallest = max(STEMS[stem]["min_size"], 2 ** (len(blocks) - 1))
    if len(input_shape) != 3 or min(input_shape[:2]) < smallest:
        raise ValueError(f"input_shape {input_shape} is too small: (height, width, channels) with height and width "
                         f">= {smallest} for the {stem} stem and {len(blocks)} blocks (each transition halves them).")
    stem_filters = 2 * growth_rate if stem_filters is None else positive_int("stem_filters", stem_filters)

    inputs = keras.Input(input_shape, name="image")
    x = stem_block(inputs, stem, stem_filters)
    for index, count in enumerate(blocks):
        x = dense_block(x, count, growth_rate, bottleneck, name=f"conv{index + 2}", memory_efficient=memory_efficient)
        if index < len(blocks) - 1:
            x = transition(x, compression, name=f"pool{index + 2}")
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = classifier_top(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name)


def densenet121(input_shape: tuple[int, int, int] = (224, 224, 3), classes: int = 1000, **options: Any) -> keras.Model:
    """DenseNet-121 (k = 32, theta = 0.5, blocks 6-12-24-16): 8,062,504 parameters at 1000 classes.

    ``options``: keyword arguments of :func:`densenet` (``include_top``, ``pooling``, ``classifier_activation``,
    ``memory_efficient``).

    Example::

        model = densenet121()
    """
    return densenet(DENSENET_BLOCKS["densenet121"], input_shape=input_shape, classes=classes, name="densenet121",
                    **options)


def densenet169(input_shape: tuple[int, int, int] = (224, 224, 3), classes: int = 1000, **options: Any) -> keras.Model:
    """DenseNet-169 (k = 32, theta = 0.5, blocks 6-12-32-32); ``options`` as :func:`densenet121`.

    Example::

        model = densenet169()
    """
    return densenet(DENSENET_BLOCKS["densenet169"], input_shape=input_shape, classes=classes, name="densenet169",
                    **options)


def densenet201(input_shape: tuple[int, int, int] = (224, 224, 3), classes: int = 1000, **options: Any) -> keras.Model:
    """DenseNet-201 (k = 32, theta = 0.5, blocks 6-12-48-32); ``options`` as :func:`densenet121`.

    Example::

        model = densenet201()
    """
    return densenet(DENSENET_BLOCKS["densenet201"], input_shape=input_shape, classes=classes, name="densenet201",
                    **options)


def block_channels(input_channels: int, num_layers: int, growth_rate: int) -> list[int]:
    """The channels each layer of a dense block reads: k0, k0 + k, ..., k0 + (L - 1) k (then k0 + L k leave).

    Example::

        block_channels(64, 6, 32)   # [64, 96, 128, 160, 192, 224]
    """
    positive_int("input_channels", input_channels)
    positive_int("num_layers", num_layers)
    positive_int("growth_rate", growth_rate)
    return [input_channels + index * growth_rate for index in range(num_layers)]


# --------------------------------------------------------------------------------------------------------------
# Which earlier feature maps each layer reads (the deck's three connectivity pictures, read from a real graph)

#: Codes of :func:`feature_map_reads`' matrix.
NOT_READ, READ_SEPARATELY, READ_IN_A_SUM = 0, 1, 2


def feature_map_reads(model: keras.Model, layer_names: Sequence[str]) -> Any:
    """For each named layer, which earlier feature maps reach its input, and how: read from the model's graph.

    The feature maps are the model input ``x0`` and the outputs of ``layer_names`` (``f1, f2, ...``). From each
    named layer's input the graph is walked back through everything that is not a named layer (concatenations,
    additions, BN, ReLU, pooling) until a feature map is reached. A map reached through an ``Add`` is marked
    :data:`READ_IN_A_SUM` (ResNet: the layer sees it only mixed into one sum), otherwise :data:`READ_SEPARATELY`
    (DenseNet: concatenated, each map on its own channels).

    Returns:
        An int array ``(len(layer_names), len(layer_names))``: row ``l`` is layer ``f(l+1)``; column 0 is ``x0``,
        column ``j`` is ``f(j)``.

    Example::

        reads = feature_map_reads(model, ["f1", "f2", "f3"])   # reads[2] -> what f3 reads among x0, f1, f2
    """
    import numpy as np

    from workshop_utils._keras_internals import inbound_nodes, source_layer

    def producing_node(tensor: Any) -> Any:
        operation = source_layer(tensor)
        return next(node for node in inbound_nodes(operation)
                    if any(output is tensor for output in node.output_tensors))

    names = list(layer_names)
    index = {name: position + 1 for position, name in enumerate(names)}
    reads = np.zeros((len(names), len(names)), dtype=int)
    input_operations = {id(source_layer(tensor)) for tensor in model.inputs}
    for row, name in enumerate(names):
        layer = model.get_layer(name)
        stack = [(tensor, False) for tensor in inbound_nodes(layer)[0].input_tensors]
        seen: set[tuple[int, bool]] = set()
        while stack:
            tensor, summed = stack.pop()
            operation = source_layer(tensor)
            if (id(tensor), summed) in seen:
                continue
            seen.add((id(tensor), summed))
            column = 0 if id(operation) in input_operations else index.get(operation.name)
            if column is not None:
                if column > row:
                    raise ValueError(f"{operation.name} comes after {name} in layer_names; list them in graph order.")
                code = READ_IN_A_SUM if summed else READ_SEPARATELY
                reads[row, column] = max(reads[row, column], code)
                continue
            through_sum = summed or type(operation).__name__ == "Add"
            stack.extend((parent, through_sum) for parent in producing_node(tensor).input_tensors)
    return reads


def plot_feature_map_reads(panels: dict[str, Any]) -> Any:
    """One panel per connectivity: rows are layers, columns the feature maps x0, f1, ... they read.

    Example::

        plot_feature_map_reads({"DenseNet": feature_map_reads(model, ["f1", "f2", "f3"])})
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    colors = ["#f4f4f4", "#1f5fa8", "#f0a030"]
    figure, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.4), squeeze=False)
    for axis, (title, reads) in zip(axes[0], panels.items()):
        reads = np.asarray(reads)
        size = reads.shape[0]
        axis.imshow(reads, cmap=ListedColormap(colors), vmin=0, vmax=2)
        axis.set_xticks(range(size), ["x0"] + [f"f{j}" for j in range(1, size)])
        axis.set_yticks(range(size), [f"layer {i}" for i in range(1, size + 1)])
        axis.set_xticks(np.arange(-0.5, size), minor=True)
        axis.set_yticks(np.arange(-0.5, size), minor=True)
        axis.grid(which="minor", color="white", linewidth=2)
        axis.tick_params(which="minor", length=0)
        separate, summed = int(np.sum(reads == READ_SEPARATELY)), int(np.sum(reads == READ_IN_A_SUM))
        detail = f"{separate} read separately" + (f", {summed} in a sum" if summed else "")
        axis.set_title(f"{title}\n{detail}", fontsize=10)
        axis.set_xlabel("earlier feature map")
    figure.legend(handles=[Patch(color=colors[1], label="read separately (own channels)"),
                           Patch(color=colors[2], label="read mixed into a sum")],
                  loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    return figure
