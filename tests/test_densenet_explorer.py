"""Notebook 08's DenseNet explorer: the channels it draws are k0 + l*k per block, its numbers the model's own."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from workshop_utils import flops
from workshop_utils.architectures.densenet import block_channels, densenet
from workshop_utils.densenet_explorer import plot_small_densenet, reads_per_layer


def test_reads_follow_k0_plus_l_k_and_reset_at_each_transition() -> None:
    model = densenet((3, 3, 3), growth_rate=12, compression=0.5, stem="cifar")
    reads = reads_per_layer(model)
    assert [block for block, _ in reads] == ["conv2"] * 3 + ["conv3"] * 3 + ["conv4"] * 3
    first = [channels for _, channels in reads[:3]]
    assert first == block_channels(24, 3, 12)[:3] == [24, 36, 48]      # 2k stem, then +k per layer
    assert reads[3][1] == int(0.5 * (24 + 3 * 12))                       # the transition keeps theta * 60


def test_reads_refuse_a_model_without_bottlenecks() -> None:
    with pytest.raises(ValueError, match="bottleneck"):
        reads_per_layer(densenet((2, 2), growth_rate=8, bottleneck=False, stem="cifar"))


def test_figure_titles_carry_the_models_own_counts() -> None:
    figure = plot_small_densenet(growth_rate=8, layers_per_block=2, compression=0.5)
    try:
        left, right = figure.axes
        cost = flops.profile(densenet((2, 2, 2), 8, 0.5, stem="cifar"))
        assert right.get_title() == f"{cost.params / 1e3:,.0f}K parameters, {cost.macs / 1e6:,.0f}M MACs"
        assert len(left.patches) == 6 and "k = 8" in left.get_title()
        assert [label.get_text() for label in right.get_yticklabels()] == ["activations", "act., shared", "weights"]
    finally:
        plt.close(figure)
