"""The output-size formula agrees with Keras; the geometry, figures and explorer show what the formula says."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from workshop_utils import conv_arithmetic as ca
from workshop_utils.conv_arithmetic import ConvGeometry


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((32, 5), 28),  # LeNet C1
        ((224, 11, 4, 2), 55),  # AlexNet conv1
        ((224, 7, 2, 3), 112),  # ResNet conv1
        ((7, 3, 2, "same"), 4),
        ((6, 3, 2, "same"), 3),
        ((5, 3, 1, "full"), 7),
        ((7, 3, 1, "valid", 2), 3),
        ((6, 3, 2, 1), 3),
    ],
)
def test_formula_on_known_layers(args: tuple, expected: int) -> None:
    assert ca.conv_output_size(*args) == expected


def test_same_padding_puts_the_odd_zero_after() -> None:
    assert ca.padding_amounts(6, 3, 2, "same") == (0, 1)
    assert ca.padding_amounts(7, 2, 1, "same") == (0, 1)
    assert ca.padding_amounts(7, 3, 1, "same") == (1, 1)
    assert ca.padding_amounts(6, 1, 4, "same") == (0, 0)  # never negative


def test_formula_matches_keras_on_every_accepted_default_case() -> None:
    rows = ca.compare_with_keras()
    checked = [row for row in rows if row["keras"] is not None]
    assert len(checked) >= 300
    assert all(row["keras"] == row["formula"] for row in checked)
    refused = [row for row in rows if row["keras"] is None]
    assert refused and all(row["stride"] > 1 and row["dilation"] > 1 for row in refused)
    summary = ca.summarize_comparison(rows)
    assert f"matches {len(checked)}" in summary and "differs on 0" in summary


@pytest.mark.parametrize(("n", "k", "s", "padding", "d"), [(9, 3, 2, "same", 1), (8, 5, 3, "valid", 1),
                                                            (7, 3, 1, "same", 2), (6, 2, 2, 1, 1)])
def test_formula_matches_a_real_conv2d_layer(n: int, k: int, s: int, padding: object, d: int) -> None:
    x = np.zeros((1, n, n, 1), "float32")
    layer_padding = padding
    if isinstance(padding, int):
        x = keras.layers.ZeroPadding2D(padding)(x)
        layer_padding = "valid"
    outputs = keras.layers.Conv2D(1, k, strides=s, padding=layer_padding, dilation_rate=d)(x)
    assert outputs.shape[1] == outputs.shape[2] == ca.conv_output_size(n, k, s, padding, d)


def test_summary_reports_a_mismatch() -> None:
    rows = [{"input": 5, "kernel": 3, "stride": 1, "padding": "valid", "dilation": 1, "formula": 3,
             "keras": 4, "note": ""}]
    assert "differs on 1" in ca.summarize_comparison(rows)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: ca.conv_output_size(3, 5), ValueError),
        (lambda: ca.conv_output_size(5, 3, padding="half"), ValueError),
        (lambda: ca.conv_output_size(5, 3, stride=0), ValueError),
        (lambda: ca.conv_output_size(5, 3, padding=-1), ValueError),
        # workshop_utils._validate: a wrong type is bad input like any other, so a ValueError that says what to pass
        (lambda: ca.conv_output_size(5.0, 3), ValueError),
        (lambda: ca.conv_output_size(5, 3, dilation=True), ValueError),
        (lambda: ConvGeometry(3, 3, dilation=2), ValueError),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error) -> None:
    with pytest.raises(error):
        call()


def test_geometry_windows_and_fit() -> None:
    geometry = ConvGeometry(5, 3, stride=2)
    assert geometry.output_size == 2 and geometry.steps == 4 and geometry.fits_evenly
    assert geometry.window_starts() == [0, 2]
    assert geometry.window_cells(3)[0] == (2, 2) and len(geometry.window_cells(3)) == 9
    assert geometry.warning() == ""

    uneven = ConvGeometry(6, 3, stride=2, padding=1)
    assert (uneven.pad_before, uneven.pad_after, uneven.padded_size) == (1, 1, 8)
    assert uneven.skipped == 1 and not uneven.fits_evenly
    assert "does not fit evenly" in uneven.warning() and "1 row" in uneven.warning()
    assert uneven.is_padding(0, 3) and not uneven.is_padding(1, 1) and uneven.is_padding(7, 7)

    dilated = ConvGeometry(7, 3, dilation=2)
    assert dilated.effective_kernel == 5
    assert dilated.window_cells(0) == [(r, c) for r in (0, 2, 4) for c in (0, 2, 4)]
    with pytest.raises(ValueError, match="step"):
        dilated.window_cells(dilated.steps)


def test_every_window_stays_inside_the_padded_input() -> None:
    for n, k, s, p, d in ca.DEFAULT_CASES:
        geometry = ConvGeometry(n, k, s, p, d)
        last = geometry.window_cells(geometry.steps - 1)
        assert max(max(cell) for cell in last) == geometry.padded_size - 1 - geometry.skipped


def test_static_figures_draw_grids_and_flag_uneven_configurations() -> None:
    fig = ca.draw_conv_arithmetic(ConvGeometry(6, 3, stride=2, padding=1), step=4)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) >= 64 + 9  # 8x8 padded input cells + 3x3 output cells (+ window outline)
    assert "not even" in ax.get_title()
    assert "step 5 of 9" in [text.get_text() for text in ax.texts]
    even = ca.draw_conv_arithmetic(ConvGeometry(5, 3))
    assert "not even" not in even.axes[0].get_title()

    steps = ca.draw_conv_steps(ConvGeometry(5, 3, stride=2))
    assert len(steps.axes) == 4  # the first three and the last of 4 steps, deduplicated
    gallery = ca.draw_conv_gallery([ConvGeometry(5, 3), ConvGeometry(5, 3, padding="same"), ConvGeometry(7, 3, 2)])
    assert len(gallery.axes) == 4  # 2x2 grid, one left empty
    with pytest.raises(TypeError):
        ca.draw_conv_arithmetic((5, 3))
    with pytest.raises(ValueError):
        ca.draw_conv_gallery([])


def test_explorer_follows_its_sliders() -> None:
    explorer = ca.conv_arithmetic_explorer(input_size=5, kernel_size=3)
    assert explorer.geometry() == ConvGeometry(5, 3)
    assert explorer.step.max == 8 and "fits evenly" in explorer.message.value

    explorer.controls["input_size"].value = 6
    explorer.controls["stride"].value = 2
    explorer.controls["padding"].value = 1
    assert explorer.geometry() == ConvGeometry(6, 3, stride=2, padding=1)
    assert explorer.step.max == explorer.play.max == 8
    assert "does not fit evenly" in explorer.message.value

    explorer.step.value = 8
    explorer.controls["stride"].value = 4  # fewer steps: the step slider is pulled back into range
    assert explorer.step.value == explorer.step.max == 3

    explorer.controls["padding"].value = "valid"
    explorer.controls["input_size"].value = 2  # 3x3 kernel on a 2x2 input: impossible, said in red
    assert explorer.geometry() is None
    assert "kernel spans" in explorer.message.value
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()
