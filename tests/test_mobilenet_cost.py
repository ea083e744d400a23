"""MobileNet's costs by alpha and resolution: the paper's tables 6 and 7, the per-layer figure and the widget."""

from __future__ import annotations

import keras
import matplotlib
import pytest

from workshop_utils import mobilenet_cost

matplotlib.use("Agg")


def test_model_cost_equals_keras_and_is_cached() -> None:
    cost = mobilenet_cost.model_cost(1.0, 224)
    assert cost.params == keras.applications.MobileNet(weights=None).count_params() == 4_253_864
    assert mobilenet_cost.model_cost(1.0, 224) is cost
    smaller = mobilenet_cost.model_cost(1.0, 160)
    assert smaller.params == cost.params and smaller.macs < cost.macs  # resolution: MACs fall, parameters do not


def test_paper_table_lists_both_tables_and_counts_the_matches() -> None:
    lines = mobilenet_cost.paper_table().splitlines()
    assert len(lines) == 2 + 8 + 1  # header, rule, 4 widths + 4 resolutions, the summary
    assert lines[2].split()[:4] == ["1.0", "MobileNet-224", "568.7", "569"]
    assert lines[-1].endswith("of 7 models: 6 with the classifier, 4 without it")  # 1.0 MobileNet-224 twice


def test_plot_shows_the_pointwise_share() -> None:
    figure = mobilenet_cost.plot_mobilenet_cost(1.0, 224)
    assert len(figure.axes) == 2
    title = figure._suptitle.get_text()
    assert "4.25M parameters" in title
    assert "568.7M MACs" in title
    assert "1x1 convs 94.9% of the MACs" in title  # the paper: 94.86%
    bars = figure.axes[0].patches
    assert len(bars) == 1 + 13 * 2 + 1  # conv1, 13 depthwise/pointwise pairs, the classifier
    with pytest.raises(ValueError):
        mobilenet_cost.plot_mobilenet_cost(0.0, 224)


def test_widget_redraws_for_each_slider(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = []
    real = mobilenet_cost.plot_mobilenet_cost
    def recording(alpha: float, size: int) -> object:
        drawn.append((alpha, size))
        return real(alpha, size)

    monkeypatch.setattr(mobilenet_cost, "plot_mobilenet_cost", recording)
    widget = mobilenet_cost.mobilenet_cost_widget()
    alpha_slider, size_slider = widget.children[0].children
    assert (alpha_slider.value, size_slider.value) == (1.0, 224)
    alpha_slider.value = 0.5
    size_slider.value = 160
    assert drawn[-2:] == [(0.5, 224), (0.5, 160)]
    with pytest.raises(ValueError, match="alpha must be one of"):
        mobilenet_cost.mobilenet_cost_widget(alpha=0.3)
