"""Notebook 08's DenseNet explorer: what growth rate, layers per block and compression do to a small DenseNet-BC.

One figure for a three-block DenseNet-BC on 32x32 images (the paper's CIFAR layout, ``densenet(stem="cifar")``):
on the left the channels each dense layer reads (``k0 + l * k``, reset by every transition), on the right the
activation memory a training step keeps per image, naive and with shared concatenation storage, against the
weights. The notebook's sliders redraw it.

Example::

    figure = plot_small_densenet(growth_rate=12, layers_per_block=6, compression=0.5)
"""

from __future__ import annotations

from typing import Any

BLOCK_COLOURS = {"conv2": "C0", "conv3": "C1", "conv4": "C2"}  # the three blocks, at 32, 16 and 8 px


def reads_per_layer(model: Any) -> list[tuple[str, int]]:
    """``(block, input channels)`` of every dense layer's 1x1 bottleneck conv, in model order.

    A dense layer of block ``conv2`` is named ``conv2_block{l}_1x1_conv`` by
    :func:`workshop_utils.architectures.densenet.dense_block`; its kernel's input depth is what the layer reads.

    Example::

        reads_per_layer(densenet((2, 2, 2), growth_rate=12, stem="cifar"))[:2]   # [('conv2', 24), ('conv2', 36)]
    """
    reads = [(layer.name.split("_")[0], int(layer.kernel.shape[2])) for layer in model.layers
             if layer.name.endswith("_1x1_conv")]
    if not reads:
        raise ValueError(f"{model.name} has no dense layer with a 1x1 bottleneck (layers named *_1x1_conv): "
                         "build it with densenet(..., bottleneck=True).")
    return reads


def plot_small_densenet(growth_rate: int = 12, layers_per_block: int = 6, compression: float = 0.5):  # -> Figure
    """Channels read per dense layer (left) and parameters, MACs and kept activation memory (right) of
    ``densenet((layers_per_block,) * 3, growth_rate, compression, stem="cifar")`` on 32x32 images.

    Example::

        plot_small_densenet(growth_rate=24)     # twice the default k: about 4x the 3x3 convs' cost
    """
    import matplotlib.pyplot as plt

    from workshop_utils import flops, memory
    from workshop_utils.architectures.densenet import densenet

    model = densenet((layers_per_block,) * 3, growth_rate, compression, stem="cifar")
    cost = flops.profile(model)
    naive, shared = memory.activation_memory(model), memory.activation_memory(model, shared_concatenation=True)
    reads = reads_per_layer(model)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.3), gridspec_kw={"width_ratios": [2, 1]})
    left.bar(range(1, len(reads) + 1), [channels for _, channels in reads],
             color=[BLOCK_COLOURS.get(block, "C7") for block, _ in reads])
    left.set(xlabel="dense layer (colour: block at 32, 16, 8 px)", ylabel="channels it reads",
             title=f"k = {growth_rate}, {layers_per_block} layers per block, theta = {compression}")
    values = [naive.bytes_per_image / 1e6, shared.bytes_per_image / 1e6, naive.weight_bytes / 1e6]
    right.barh(["activations", "act., shared", "weights"], values, color=["C3", "C2", "C7"])
    right.set(xlabel="MB (activations per image)",
              title=f"{cost.params / 1e3:,.0f}K parameters, {cost.macs / 1e6:,.0f}M MACs")
    figure.tight_layout()
    return figure
