"""Stacked small kernels against one big kernel: costs checked against Keras layers; the table, figure and widget."""

from __future__ import annotations

import keras
import matplotlib
import pytest
from keras import layers

from workshop_utils.kernel_stacking import (
    plot_stacking,
    stacked_kernels,
    stacking_table,
    stacking_widget,
)
from workshop_utils.receptive_field import receptive_fields

matplotlib.use("Agg")


def test_three_3x3_against_one_7x7() -> None:
    cost = stacked_kernels(3, kernel=3, channels=256, size=56)
    assert cost.receptive_field == 7
    assert cost.params == 27 * 256**2 and cost.single_params == 49 * 256**2
    assert cost.macs == cost.params * 56 * 56 and cost.single_macs == cost.single_params * 56 * 56
    assert cost.nonlinearities == 3
    assert cost.saving == pytest.approx(1 - 27 / 49)
    with_bias = stacked_kernels(3, kernel=3, channels=256, size=56, bias=True)
    assert with_bias.params == cost.params + 3 * 256 and with_bias.single_params == cost.single_params + 256


def test_stack_costs_match_keras_layers() -> None:
    inputs = keras.Input((14, 14, 8))
    x = inputs
    for _ in range(2):
        x = layers.Conv2D(8, 5, padding="same")(x)
    stack = keras.Model(inputs, x)
    assert stack.count_params() == stacked_kernels(2, kernel=5, channels=8, bias=True).params
    single = keras.Model(inputs, layers.Conv2D(8, 9, padding="same")(inputs))
    assert single.count_params() == stacked_kernels(2, kernel=5, channels=8, bias=True).single_params


def test_one_by_one_kernels_see_nothing_more() -> None:
    cost = stacked_kernels(4, kernel=1, channels=16)
    assert cost.receptive_field == 1 and cost.saving < 0  # four 1x1 cost 4x one 1x1
    assert "costs" in cost.to_text()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_stacked_kernels_rejects_bad_counts(bad: object) -> None:
    with pytest.raises(ValueError):
        stacked_kernels(bad)  # type: ignore[arg-type]


def test_stacking_table_lists_every_layer_count() -> None:
    table = stacking_table(kernel=3, max_layers=4, channels=64, size=28)
    lines = table.splitlines()
    assert len(lines) == 3 + 4
    assert "7x7" in lines[5] and "45%" in lines[5] and "3 vs 1" in lines[5]




def test_stack_field_matches_the_receptive_field_walk() -> None:
    for layers_count, kernel in ((3, 3), (2, 5), (4, 1)):
        walked = receptive_fields([(kernel, 1, 1)] * layers_count)[-1].receptive_field
        assert walked == (stacked_kernels(layers_count, kernel).receptive_field,) * 2


def test_plot_stacking_draws_stack_and_single_kernel() -> None:
    stacking = plot_stacking(kernel=3, max_layers=5, highlight=3)
    assert len(stacking.axes[0].lines) == 2 and "receptive field" in stacking.axes[0].get_xlabel()


def test_widget_updates_its_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    box = stacking_widget(max_layers=5, channels=64, size=56)
    controls = box.children[0].children
    layer_slider, channel_slider, size_slider = controls
    kernel_buttons = box.children[1]
    assert (layer_slider.value, kernel_buttons.value, channel_slider.value, size_slider.value) == (3, 3, 64, 56)
    capsys.readouterr()
    layer_slider.value = 4
    kernel_buttons.value = 5
    shown = capsys.readouterr().out
    assert "receptive field    : 17x17" in shown  # 4 x (5 - 1) + 1
    assert f"{4 * 25 * 64 * 64:,}" in shown
    with pytest.raises(ValueError):
        stacking_widget(kernels=())
