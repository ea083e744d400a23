"""The day's model zoo: entries build, counts match Keras where Keras has the model, quoted figures are sane."""

from __future__ import annotations

import pytest

import keras

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


def test_matmul_and_conv_ceilings_are_positive():
    assert model_zoo.matmul_ceiling_gflops(size=128, repeats=2) > 0
    assert model_zoo.conv_ceiling_gflops(batch=1, size=8, channels=16, repeats=2) > 0


def test_compute_ceiling_is_the_better_of_matmul_and_conv(monkeypatch):
    monkeypatch.setattr(model_zoo, "matmul_ceiling_gflops", lambda repeats: 200.0)
    monkeypatch.setattr(model_zoo, "conv_ceiling_gflops", lambda repeats: 225.0)
    assert model_zoo.compute_ceiling_gflops() == 225.0
    monkeypatch.setattr(model_zoo, "conv_ceiling_gflops", lambda repeats: 150.0)
    assert model_zoo.compute_ceiling_gflops() == 200.0


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
