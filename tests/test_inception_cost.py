"""Inception-module cost arithmetic: real Keras layers counted per branch, checked against hand formulas."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from workshop_utils.flops import profile  # noqa: E402
from workshop_utils.inception_cost import (  # noqa: E402
    BRANCHES,
    GOOGLENET_3A,
    InceptionWidths,
    ModuleCost,
    compare_modules,
    cost_html,
    cost_table,
    inception_cost_widget,
    module_cost,
    module_model,
    plot_module_costs,
)

H = W = 28
C = 192


def conv_macs(size: int, channels_in: int, filters: int, positions: int = H * W) -> int:
    return positions * size * size * channels_in * filters


def conv_params(size: int, channels_in: int, filters: int) -> int:
    return size * size * channels_in * filters + filters


@pytest.fixture(scope="module")
def costs() -> tuple[ModuleCost, ModuleCost]:
    return compare_modules(GOOGLENET_3A, (H, W, C))


def test_naive_module_reproduces_the_deck_arithmetic(costs: tuple[ModuleCost, ModuleCost]) -> None:
    naive, _ = costs
    assert naive.layer_macs("_5x5") == conv_macs(5, C, 32) == 120_422_400  # deck: ~120M
    assert naive.layer_macs("_3x3") == conv_macs(3, C, 128) == 173_408_256  # deck: ~170M
    assert naive.layer_macs("_1x1") == conv_macs(1, C, 64) == 9_633_792  # deck: ~10M
    assert naive.macs == 303_464_448  # deck: ~300M (the pool branch has no MACs)
    assert naive.output_shape == (H, W, 64 + 128 + 32 + C)


def test_bottleneck_module_reproduces_the_deck_arithmetic(costs: tuple[ModuleCost, ModuleCost]) -> None:
    _, bottleneck = costs
    assert bottleneck.layer_macs("_5x5_reduce") == conv_macs(1, C, 16) == 2_408_448  # deck: ~2.4M
    assert bottleneck.layer_macs("_5x5") == conv_macs(5, 16, 32) == 10_035_200  # deck: ~10M
    assert bottleneck.branch("5x5").macs == 12_443_648  # deck: ~12.4M
    assert bottleneck.output_shape == (H, W, 256) and GOOGLENET_3A.output_channels == 256


def test_branches_add_up_to_the_profile_of_the_whole_module(costs: tuple[ModuleCost, ModuleCost]) -> None:
    for cost in costs:
        whole = profile(module_model(cost.widths, cost.input_shape, bottleneck=cost.variant == "bottleneck"))
        assert [b.branch for b in cost.branches] == list(BRANCHES)
        assert sum(b.macs for b in cost.branches) == cost.macs == whole.macs
        assert sum(b.params for b in cost.branches) == cost.params == whole.params


def test_branch_parameters_match_hand_counts(costs: tuple[ModuleCost, ModuleCost]) -> None:
    naive, bottleneck = costs
    assert naive.branch("3x3").params == conv_params(3, C, 128)
    assert naive.branch("pool").params == 0 and naive.branch("pool").macs == 0
    assert bottleneck.branch("3x3").params == conv_params(1, C, 96) + conv_params(3, 96, 128)
    assert bottleneck.branch("pool").params == conv_params(1, C, 32)
    assert bottleneck.params == 163_696  # 163,328 kernel weights + 368 biases
    assert bottleneck.branch("5x5").layers == ("inception_5x5_reduce", "inception_5x5")


def test_other_input_sizes_scale_the_macs_with_the_positions() -> None:
    widths = InceptionWidths(8, 4, 8, 2, 4, 4)
    small = module_cost(widths, (7, 5, 10))
    assert small.layer_macs("_3x3") == conv_macs(3, 4, 8, positions=35)
    assert small.output_shape == (7, 5, 24)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "64"])
def test_bad_widths_raise_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match=r"filters_5x5 \(a number of filters\) must be an integer >= 1"):
        InceptionWidths(64, 96, 128, 16, bad, 32)  # type: ignore[arg-type]


def test_bad_inputs_are_refused(costs: tuple[ModuleCost, ModuleCost]) -> None:
    with pytest.raises(ValueError, match="height, width, channels"):
        module_cost(GOOGLENET_3A, (28, 192))
    with pytest.raises(TypeError, match="InceptionWidths"):
        module_model((64, 96, 128, 16, 32, 32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="branch must be one of"):
        costs[0].branch("7x7")
    with pytest.raises(ValueError, match="suffix must be one of"):
        costs[0].layer_macs("_7x7")
    with pytest.raises(ValueError, match="no layer ending"):
        costs[0].layer_macs("_5x5_reduce")  # the naive module has no bottleneck
    with pytest.raises(TypeError, match="list of ModuleCost"):
        cost_table([])
    with pytest.raises(TypeError, match="list of ModuleCost"):
        cost_html([costs[0].layer_costs])  # type: ignore[list-item]


def test_text_table_and_html_show_exact_counts_and_the_ratio(costs: tuple[ModuleCost, ModuleCost]) -> None:
    text = cost_table(costs)
    assert "120,422,400" in text and "12,443,648" in text and "303,464,448" in text and "128,049,152" in text
    assert "28x28x416" in text and "28x28x256" in text
    assert f"{303_464_448 / 128_049_152:.2f}x the MACs" in text
    page = cost_html(costs)
    assert "<table" in page and "173,408,256" in page


def test_figure_has_one_bar_per_module_and_branch(costs: tuple[ModuleCost, ModuleCost]) -> None:
    figure = plot_module_costs(costs)
    assert isinstance(figure, Figure)
    axis = figure.axes[0]
    assert len(axis.patches) == len(costs) * len(BRANCHES)
    widths = sorted(round(patch.get_width(), 3) for patch in axis.patches)
    assert round(120_422_400 / 1e6, 3) in widths
    assert "million multiply-accumulates" in axis.get_xlabel()


def test_widget_recomputes_when_a_slider_moves() -> None:
    import ipywidgets

    widget = inception_cost_widget()
    sliders = {s.description: s for s in widget.children[0].children}
    display = widget.children[1]
    assert isinstance(display, ipywidgets.HTML) and "120,422,400" in display.value
    sliders["#5x5"].value = 64
    assert f"{conv_macs(5, C, 64):,}" in display.value  # naive 5x5 branch, recounted
    sliders["input channels"].value = 256
    assert f"{conv_macs(5, 256, 64):,}" in display.value and "Input 28x28x256" in display.value


def test_reference_module_is_googlenets_module() -> None:
    import keras

    from workshop_utils.architectures import googlenet
    from workshop_utils.architectures.inception import inception_module as reference

    def build(module):
        inputs = keras.Input((28, 28, 192))
        return keras.Model(inputs, module(inputs, 64, 96, 128, 16, 32, 32, name="inception_3a"))

    ours, theirs = build(reference), build(googlenet.inception_module)
    assert [(layer.name, layer.count_params()) for layer in ours.layers[1:]] == [
        (layer.name, layer.count_params()) for layer in theirs.layers[1:]
    ]
    assert ours.count_params() == 163_696
    with pytest.raises(ValueError, match="filters_5x5 must be a positive int"):
        reference(keras.Input((8, 8, 4)), 1, 1, 1, 1, 0, 1)
