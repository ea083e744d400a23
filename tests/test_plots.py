"""Every plot returns a Figure with labelled axes, and refuses input it cannot draw."""

from __future__ import annotations

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from workshop_utils import plots
from workshop_utils.flops import profile


@pytest.fixture(scope="module")
def model() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(6, 3, name="conv1", activation="relu")(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x), name="tiny")


@pytest.fixture(autouse=True)
def close_figures():
    """Every test's figures are closed afterwards, so a long run does not pile up open figures."""
    yield
    plt.close("all")


def _labels(fig: Figure) -> list[str]:
    return [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]


def test_history_plot_overlays_runs_with_units() -> None:
    run = {"loss": [2.0, 1.5], "val_loss": [2.1, 1.7], "accuracy": [0.3, 0.5], "val_accuracy": [0.25, 0.4]}
    fig = plots.plot_history({"a": run, "b": run})
    assert len(fig.axes) == 2
    assert "epoch" in _labels(fig) and any("nats" in label for label in _labels(fig))
    assert len(fig.axes[0].lines) == 4  # 2 runs x (train, validation)
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["a train", "a validation", "b train", "b validation"]  # never "test": curves are validation


def test_history_plot_refuses_unknown_input() -> None:
    with pytest.raises(TypeError, match="TrainResult"):
        plots.plot_history(42)


def test_image_grid_marks_wrong_predictions_in_red() -> None:
    images = np.zeros((4, 8, 8, 3), np.uint8)
    fig = plots.show_images(images, [0, 1, 0, 1], ["cat", "dog"], predictions=[0, 0, 0, 1], cols=2)
    colours = [ax.title.get_color() for ax in fig.axes]
    assert colours.count("red") == 1
    with pytest.raises(ValueError, match="shaped"):
        plots.show_images(np.zeros((8, 8)))


def test_filters_and_feature_maps(model: keras.Model) -> None:
    fig = plots.plot_filters(model, "conv1")
    assert "6 of 6 filters (3x3" in fig._suptitle.get_text()
    fig = plots.plot_feature_maps(model, "conv1", np.zeros((16, 16, 3), np.uint8), max_maps=4)
    assert "4 of 6 feature maps, 14x14" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="conv1, conv2"):
        plots.plot_filters(model, "nope")
    with pytest.raises(ValueError, match="no 2-D convolution kernel"):
        plots.plot_filters(model, "gap")


class Subclassed(keras.Model):
    def __init__(self) -> None:
        super().__init__(name="sub")
        self.conv1 = keras.layers.Conv2D(2, 3, name="conv1")

    def call(self, x):
        return self.conv1(x)


def test_feature_maps_of_a_subclassed_model_say_what_to_pass() -> None:
    model = Subclassed()
    model(np.zeros((1, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r"Functional or Sequential.*keras\.Input.*keras\.Model\(inputs, x\)"):
        plots.plot_feature_maps(model, "conv1", np.zeros((8, 8, 3), np.uint8))


def test_depthwise_filters_are_drawn_per_channel_not_averaged() -> None:
    inputs = keras.Input((8, 8, 5))
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(inputs)
    model = keras.Model(inputs, keras.layers.SeparableConv2D(4, 3, name="sep")(x))
    fig = plots.plot_filters(model, "dw", cols=5)
    assert "10 of 10 depthwise filters, one per input channel (3x3" in fig._suptitle.get_text()
    kernel = model.get_layer("dw").get_weights()[0]  # (3, 3, 5, 2)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 10
    assert np.allclose(shown[3], kernel[:, :, 1, 1])  # channel 1, second multiplier: its own filter, not a mean
    assert [ax.get_title() for ax in fig.axes[:3]] == ["ch 0.0", "ch 0.1", "ch 1.0"]
    separable = plots.plot_filters(model, "sep", max_filters=4)
    assert "4 of 10 depthwise filters" in separable._suptitle.get_text()
    assert np.allclose(separable.axes[2].images[0].get_array(), model.get_layer("sep").get_weights()[0][:, :, 2, 0])


def test_model_comparison_bubbles(model: keras.Model) -> None:
    rows = [{"name": "a", "params": 1000, "macs": 1e6, "accuracy": 0.5},
            {"name": "b", "params": 4000, "macs": 5e6, "accuracy": 0.7}]
    fig = plots.plot_model_comparison(rows)
    assert "multiply-accumulates" in fig.axes[0].get_xlabel() and "%" in fig.axes[0].get_ylabel()
    sizes = [collection.get_sizes()[0] for collection in fig.axes[0].collections]
    assert sizes[1] > sizes[0]  # bubble area follows parameters
    assert fig.axes[0].get_xscale() == "linear"  # 5x apart: a log axis would show a single odd tick
    wide = plots.plot_model_comparison(rows + [{"name": "c", "params": 9000, "macs": 5e8, "accuracy": 0.8}])
    assert wide.axes[0].get_xscale() == "log" and "log scale" in wide.axes[0].get_xlabel()
    with pytest.raises(ValueError, match="accuracy"):
        plots.plot_model_comparison([{"name": "a", "params": 1, "macs": 1}])


def test_layer_macs_bars_match_profile(model: keras.Model) -> None:
    cost = profile(model)
    fig = plots.plot_layer_macs(cost)
    bars = fig.axes[0].patches
    nonzero = [row for row in cost.layers if row.macs > 0]
    assert len(bars) == len(nonzero)
    assert sorted(bar.get_width() for bar in bars) == pytest.approx(sorted(row.macs / 1e6 for row in nonzero))


def test_architecture_falls_back_to_text_without_graphviz(model: keras.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_graphviz(*args: object, **kwargs: object) -> None:
        raise ImportError("You must install pydot and graphviz")

    monkeypatch.setattr(keras.utils, "plot_model", no_graphviz)
    shown = plots.show_architecture(model)
    assert isinstance(shown, str)
    for name in ("conv1", "conv2", "gap", "head"):
        assert name in shown
    assert "<- conv1" in shown  # conv2 reads conv1


def test_layer_norms_dash_plain_nets_and_pair_colours() -> None:
    norms = {"plain8": [("c1", 4.0), ("c2", 1.0)], "resnet8": [("c1", 2.0), ("c2", 1.0)],
             "plain14": [("c1", 9.0), ("c2", 1.0), ("c3", 0.5)]}
    fig = plots.plot_layer_norms(norms, "at init")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == list(norms)
    assert [line.get_linestyle() for line in lines] == ["--", "-", "--"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert list(lines[2].get_ydata()) == [9.0, 1.0, 0.5] and fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_title() == "at init" and all(_labels(fig))
    with pytest.raises(ValueError, match="at least one"):
        plots.plot_layer_norms({"plain8": []}, "empty")


def test_bars_group_series_and_label_values() -> None:
    fig = plots.plot_bars(["conv2", "conv3"], {"a": [1.0, 2.0], "b": [3.0, 4.0]}, "MB", "two series", "{:.1f}")
    axis = fig.axes[0]
    heights = [patch.get_height() for patch in axis.patches]
    assert heights == [1.0, 2.0, 3.0, 4.0]
    assert [tick.get_text() for tick in axis.get_xticklabels()] == ["conv2", "conv3"]
    assert axis.get_legend() is not None and "1.0" in [text.get_text() for text in axis.texts]
    single = plots.plot_bars(["x"], {"only": [5.0]}, "MACs", "one series").axes[0]
    assert single.get_legend() is None and not single.texts
    with pytest.raises(ValueError, match="one value for each"):
        plots.plot_bars(["conv2", "conv3"], {"a": [1.0]}, "MB", "short")
