"""Connectivity matrices match what Keras' layers actually connect, compose through layers, and refuse bad input."""

from __future__ import annotations

import keras
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from workshop_utils import connectivity
from workshop_utils.connectivity import (
    conv_connectivity,
    plot_connectivity,
    plot_stacked_groups,
    reachability,
    shuffle_permutation,
    stacked_groups,
    stacked_groups_widget,
)


def _keras_connectivity(layer: keras.layers.Layer, in_channels: int) -> np.ndarray:
    """Which inputs each output of a built Keras layer depends on, found by perturbing one input channel at a time."""
    base = np.zeros((1, 5, 5, in_channels), dtype="float32")
    reference = keras.ops.convert_to_numpy(layer(base))
    columns = []
    for channel in range(in_channels):
        probe = base.copy()
        probe[..., channel] = 1.0
        changed = np.abs(keras.ops.convert_to_numpy(layer(probe)) - reference).sum(axis=(0, 1, 2)) > 0
        columns.append(changed)
    return np.stack(columns, axis=1)


@pytest.mark.parametrize(
    ("layer", "in_channels", "kind", "out_channels", "groups"),
    [
        (keras.layers.Conv2D(6, 3, padding="same", kernel_initializer="ones"), 4, "standard", 6, 1),
        (keras.layers.Conv2D(6, 1, kernel_initializer="ones"), 4, "pointwise", 6, 1),
        (keras.layers.DepthwiseConv2D(3, padding="same", depthwise_initializer="ones"), 4, "depthwise", 4, 1),
        (keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, depthwise_initializer="ones"), 3,
         "depthwise", 6, 1),
        (keras.layers.Conv2D(6, 1, groups=3, kernel_initializer="ones"), 6, "grouped", 6, 3),
    ],
)
def test_matrices_match_keras_layers(layer, in_channels, kind, out_channels, groups) -> None:
    expected = conv_connectivity(in_channels, out_channels, kind, groups=groups)
    assert expected.dtype == bool and expected.shape == (out_channels, in_channels)
    np.testing.assert_array_equal(_keras_connectivity(layer, in_channels), expected)


def test_grouped_is_block_diagonal_and_groups_one_is_standard() -> None:
    grouped = conv_connectivity(6, 4, "grouped", groups=2)
    assert grouped.sum() == 2 * (3 * 2)
    assert grouped[0, :3].all() and not grouped[0, 3:].any()
    np.testing.assert_array_equal(conv_connectivity(5, 7, "grouped", groups=1), conv_connectivity(5, 7))


def test_depthwise_then_pointwise_reaches_every_channel() -> None:
    dw, pw = conv_connectivity(4, 4, "depthwise"), conv_connectivity(4, 8, "pointwise")
    assert reachability(dw).sum() == 4
    assert reachability(dw, pw).shape == (8, 4) and reachability(dw, pw).all()
    assert reachability(dw, dw).sum() == 4  # stacking depthwise convs never mixes channels


def test_shuffle_lets_stacked_group_convs_mix() -> None:
    grouped = conv_connectivity(6, 6, "grouped", groups=3)
    without = reachability(grouped, grouped)
    assert without.sum() == 6 * 2  # each output still sees only its own group's 2 inputs
    shuffle = shuffle_permutation(6, 3)
    np.testing.assert_array_equal(shuffle.argmax(axis=1), [0, 2, 4, 1, 3, 5])
    assert shuffle.sum(axis=0).tolist() == [1] * 6 and shuffle.sum(axis=1).tolist() == [1] * 6
    # 2 channels per group can carry only 2 of the 3 groups onwards: one shuffle is not always enough ...
    assert reachability(grouped, shuffle, grouped).sum(axis=1).tolist() == [4] * 6
    # ... with 3 channels per group and 3 groups, it is: every output reads every input.
    grouped9 = conv_connectivity(9, 9, "grouped", groups=3)
    assert reachability(grouped9, grouped9).sum() == 9 * 3
    assert reachability(grouped9, shuffle_permutation(9, 3), grouped9).all()


def test_shuffle_matches_reshape_transpose() -> None:
    channels = np.arange(12)
    shuffled = channels.reshape(3, 4).T.reshape(-1)
    np.testing.assert_array_equal(shuffle_permutation(12, 3).astype(int) @ channels, shuffled)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((6, 4, "grouped"), {"groups": 4}, "not divisible by groups=4"),
        ((4, 6, "depthwise"), {}, "not a multiple of in_channels=4"),
        ((4, 4, "dilated"), {}, "kind must be one of"),
        ((4, 4, "standard"), {"groups": 2}, "only applies to kind='grouped'"),
        ((0, 4), {}, "in_channels must be an integer >= 1"),
        ((4, 2.5), {}, "out_channels must be an integer >= 1"),
    ],
)
def test_bad_input_raises_clear_errors(args, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        conv_connectivity(*args, **kwargs)


def test_reachability_refuses_mismatched_layers() -> None:
    with pytest.raises(ValueError, match="layer 1 reads 4 channels but layer 0 gives 6"):
        reachability(conv_connectivity(3, 6), conv_connectivity(4, 2))
    with pytest.raises(ValueError, match="at least one"):
        reachability()
    with pytest.raises(ValueError, match="not divisible"):
        shuffle_permutation(7, 2)


def test_plot_draws_one_panel_per_matrix_with_labels() -> None:
    fig = plot_connectivity({"standard": conv_connectivity(4, 6), "depthwise": conv_connectivity(4, 4, "depthwise"),
                             "both": reachability(conv_connectivity(4, 4, "depthwise"), conv_connectivity(4, 6))})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert visible[1].get_title().startswith("depthwise") and "4 of 16 pairs" in visible[1].get_title()
    assert all(ax.get_xlabel() == "input channel" and ax.get_ylabel() == "output channel" for ax in visible)
    fig_two_rows = plot_connectivity({str(i): np.eye(3) for i in range(3)}, cols=2)
    assert sum(ax.get_visible() for ax in fig_two_rows.axes) == 3
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_connectivity({})


@pytest.mark.parametrize(
    ("groups", "depth", "plain", "shuffled"), [(3, 2, 4, 12), (4, 2, 3, 9), (4, 3, 3, 12), (1, 1, 12, 12)]
)
def test_stacked_groups_count_what_each_output_reads(groups, depth, plain, shuffled) -> None:
    without, with_shuffle = stacked_groups(12, groups, depth)
    assert set(without.sum(axis=1).tolist()) == {plain}
    assert set(with_shuffle.sum(axis=1).tolist()) == {shuffled}


def test_stacked_groups_figure_and_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    figure = plot_stacked_groups(groups=3, depth=2)
    assert [axis.get_title().splitlines()[0] for axis in figure.axes] == ["2 grouped convs, g=3",
                                                                          "with a shuffle between them"]
    drawn = []

    def recording(*args: int) -> object:
        drawn.append(args)
        return figure

    monkeypatch.setattr(connectivity, "plot_stacked_groups", recording)
    widget = stacked_groups_widget(channels=12)
    group_menu, depth_slider = widget.children[0].children
    assert list(group_menu.options) == [1, 2, 3, 4, 6, 12] and (group_menu.value, depth_slider.value) == (3, 2)
    group_menu.value = 4
    depth_slider.value = 3
    assert drawn[-2:] == [(4, 2, 12), (4, 3, 12)]
    with pytest.raises(ValueError, match="groups must be one of"):
        stacked_groups_widget(channels=12, groups=5)
