"""The day's model zoo: entries build, counts match Keras where Keras has the model, quoted figures are sane."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from workshop_utils import model_zoo


def test_every_entry_is_quoted_with_a_source_and_a_notebook():
    names = [entry.name for entry in model_zoo.DAY_MODELS]
    assert len(names) == len(set(names)) == 13
    for entry in model_zoo.DAY_MODELS:
        assert entry.source and entry.notebook[:2].isdigit()
        assert entry.quoted_top1 is None or 0.5 < entry.quoted_top1 < 0.85


def test_unknown_name_lists_the_choices():
    with pytest.raises(KeyError, match="ResNet-50"):
        model_zoo.entry("ResNet-51")


@pytest.mark.parametrize("name,params", [("MobileNet 0.5", 1_342_536), ("SqueezeNet 1.0", 1_248_424),
                                         ("ShuffleNet 1x (g=3)", None)])
def test_small_entries_build_at_224(name, params):
    model = model_zoo.entry(name).build()
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    if params is not None:
        assert model.count_params() == params
    keras.backend.clear_session()


def test_measure_and_format_one_model():
    rows = model_zoo.measure_models([model_zoo.entry("MobileNet 0.5")], batch_size=2, repeats=1, warmup=0)
    (row,) = rows
    assert row.params == 1_342_536 and row.macs > 100e6
    assert row.latency_ms_batch1 > 0 and row.images_per_second > 0
    text = model_zoo.format_rows(rows, ceiling_gflops=100.0)
    assert "MobileNet 0.5" in text and "63.7%" in text
    bigger = model_zoo.ZooRow("twice", "dense conv", row.params, 2 * row.macs, 2 * row.latency_ms_batch1,
                              2 * row.latency_ms_batch, 2, None)
    assert bigger.gflops_per_second == pytest.approx(row.gflops_per_second)
    figure = model_zoo.plot_macs_vs_latency([row, bigger], ceiling_gflops=100.0)
    assert len(figure.axes) == 2


def test_bad_measurement_arguments():
    with pytest.raises(ValueError, match="repeats"):
        model_zoo.measure_models([], repeats=0)
    with pytest.raises(ValueError, match="no rows"):
        model_zoo.plot_macs_vs_latency([])


def test_every_quoted_top1_names_its_protocol_and_its_resolution():
    for item in model_zoo.DAY_MODELS + model_zoo.NEXT_MODELS:
        assert item.protocol in model_zoo.PROTOCOLS
    assert {e.name for e in model_zoo.DAY_MODELS if e.protocol == "10-crop"} == {"AlexNet", "ResNet-18", "ResNet-50"}
    with pytest.raises(ValueError, match="protocol"):
        model_zoo.ZooEntry("x", "09_extras", lambda: None, None, "s", "k", "5-crop")


@pytest.mark.parametrize("name,params,gmacs", [("Xception", 22_910_480, 8.36), ("Inception-v3", 23_851_784, 5.71)])
def test_299_entries_are_counted_at_the_resolution_of_their_top1(name, params, gmacs):
    from workshop_utils import flops

    item = model_zoo.entry(name)
    model = item.build()
    assert item.input_size == 299 and model.input_shape == (None, 299, 299, 3)
    cost = flops.profile(model)
    assert cost.params == params and round(cost.macs / 1e9, 2) == gmacs
    keras.backend.clear_session()


@pytest.mark.parametrize("name,application,gmacs", [("EfficientNet-B0", "EfficientNetB0", 0.39),
                                                    ("ConvNeXt-T", "ConvNeXtTiny", 4.46)])
def test_next_models_equal_keras_applications_and_the_papers_cost(name, application, gmacs):
    import warnings

    from workshop_utils import flops

    item = model_zoo.entry(name)
    model = item.build()
    assert model.count_params() == getattr(keras.applications, application)(weights=None).count_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the counter's LayerScale rule is tested in tests/test_flops.py
        cost = flops.profile(model)
    assert round(cost.macs / 1e9, 2) == gmacs
    assert abs(cost.macs / 1e9 - item.quoted_gmacs) / item.quoted_gmacs < 0.02    # the paper's, to 2%
    keras.backend.clear_session()


def _row(name: str, gmacs: float, ms: float, kind: str = "dense conv") -> model_zoo.ZooRow:
    return model_zoo.ZooRow(name, kind, 1_000_000, int(gmacs * 1e9), ms, 4 * ms, 4, 0.7, "1-crop")


def test_the_fit_line_recovers_a_power_law_and_predicts_from_it():
    rows = [_row(f"m{i}", g, 20.0 * g**0.5) for i, g in enumerate((0.1, 0.4, 1.6, 6.4))]
    slope, intercept = model_zoo.latency_fit(rows)
    assert slope == pytest.approx(0.5) and intercept == pytest.approx(np.log(20.0))
    assert model_zoo.predicted_latency_ms((slope, intercept), 4e9) == pytest.approx(40.0)
    with pytest.raises(ValueError, match="two measured"):
        model_zoo.latency_fit(rows[:1])


def test_format_rows_is_one_aligned_table_with_the_ceiling_share():
    lines = model_zoo.format_rows([_row("small", 0.5, 10.0), _row("big", 4.0, 50.0)], ceiling_gflops=2.0).splitlines()
    assert lines[0].split()[:4] == ["architecture", "input", "params", "G"]
    assert lines[2].index("1-crop") == lines[3].index("1-crop") == lines[0].index("protocol")   # aligned
    # small: 2 x 0.5 G MACs x (1000 x 4 / 40 ms = 100 images/s) = 100 GFLOP/s = 5000% of a 2 GFLOP/s ceiling
    assert "5000%" in lines[2] and "70.0%" in lines[2] and "1-crop" in lines[2]


def test_efficientnet_scaled_follows_the_compound_coefficients():
    b0 = model_zoo.efficientnet_scaled(0)
    assert b0.count_params() == 5_330_571 and b0.input_shape == (None, 224, 224, 3)
    phi2 = model_zoo.efficientnet_scaled(2)
    assert phi2.input_shape == (None, 296, 296, 3)           # 224 x 1.15^2 = 296.2
    # widths x 1.21 (rounded to multiples of 8): the head conv 1280 -> 1552 channels
    assert phi2.get_layer("top_conv").filters == 1552
    with pytest.raises(ValueError, match="phi"):
        model_zoo.efficientnet_scaled(-1)
    keras.backend.clear_session()


def test_compound_scaling_counts_times_and_plots_on_the_day_chart():
    (point,) = model_zoo.compound_scaling((0,), repeats=1, warmup=0)
    assert (point.resolution, point.params) == (224, 5_330_571) and round(point.macs / 1e9, 2) == 0.39
    assert point.latency_ms_batch1 > 0 and point.depth == point.width == 1.0
    rows = [_row("a", 0.1, 5.0), _row("b", 1.0, 20.0, "depthwise")]
    figure = model_zoo.plot_compound_scaling(rows, [point], phi=0)
    assert "phi = 0" in figure.axes[0].get_title() and "the fit predicts" in figure.axes[0].get_title()
    with pytest.raises(ValueError, match="phi=1"):
        model_zoo.plot_compound_scaling(rows, [point], phi=1)


def test_fewest_macs_keeps_the_cheapest_in_their_order():
    entries = [model_zoo.entry(n) for n in ("AlexNet", "VGG-16", "MobileNet 0.5", "SqueezeNet 1.0")]
    counts = {"AlexNet": 714e6, "VGG-16": 15.5e9, "MobileNet 0.5": 149e6, "SqueezeNet 1.0": 861e6}
    assert [e.name for e in model_zoo.fewest_macs(entries, counts, 2)] == ["AlexNet", "MobileNet 0.5"]
    assert model_zoo.fewest_macs(entries, counts, None) == entries
    with pytest.raises(ValueError, match="no count for VGG-16"):
        model_zoo.fewest_macs(entries, {k: v for k, v in counts.items() if k != "VGG-16"}, 2)


def test_compound_scaling_widget_redraws_on_the_slider():
    rows = [_row("a", 0.1, 5.0), _row("b", 1.0, 20.0, "depthwise")]
    points = [model_zoo.ScaledPoint(phi, 1.2**phi, 1.1**phi, 224, 5_000_000, int(0.4e9 * 2**phi), 30.0 * 2**phi)
              for phi in (0.0, 1.0, 2.0)]
    box = model_zoo.compound_scaling_widget(rows, points, phi=1)
    slider, picture = box.children
    assert slider.value == 1.0 and picture.value[:4] == b"\x89PNG"
    before = picture.value
    slider.value = 2.0
    assert picture.value != before
    with pytest.raises(ValueError, match="start at a phi"):
        model_zoo.compound_scaling_widget(rows, points, phi=0.5)
