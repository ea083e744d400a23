"""Every architecture of the day in one place: counted, timed on this machine, beside its paper's ImageNet top-1.

The closing chart of notebook 09 (the deck's "State-of-the-art: # of parameters, # of FLOPs") and
``benchmarks/bench_latency.py`` both read :data:`DAY_MODELS`. Each entry builds its network with random weights
(nothing is downloaded): from the workshop's reference implementations in :mod:`workshop_utils.architectures`, or
from ``keras.applications`` where Keras has the model (the counts are the same; notebooks 04, 07 and 08 assert it).
Each is built at the resolution of its quoted top-1: 224x224, except AlexNet (227x227, its layer arithmetic) and
Inception-v3 and Xception (299x299, as their papers evaluate them).

ResNet-50 here is ``keras.applications.ResNet50``: 25,636,712 parameters, 26,560 more than notebooks 07 and 08
count for ``resnet(50)``, because Keras keeps a (redundant) bias in every conv before a BN; the paper's network has
none. The multiply-adds are the same to the printed digit.

Top-1 figures are **quoted** from each paper (single model), not measured here: the models are untrained. The
papers test differently: ``protocol`` says how (``"10-crop"``: the mean over 10 crops, which reads 1-2 points
higher than ``"1-crop"``, a single centre crop; ``"dense"``: VGG's fully-convolutional evaluation at one scale).
GoogLeNet's paper reports top-5 only. :data:`NEXT_MODELS` holds two nets that came after the day's, for notebook
09's appendix, and :func:`compound_scaling` puts EfficientNet-B0 scaled by phi on the same chart
(:func:`compound_scaling_widget`).
The machine's compute ceiling, which the table compares achieved GFLOP/s with, is in
:mod:`workshop_utils.compute_ceiling`.

Example::

    from workshop_utils.model_zoo import DAY_MODELS, measure_models
    rows = measure_models(DAY_MODELS[:3], repeats=3)
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from workshop_utils._validate import positive_int


@dataclass(frozen=True)
class ZooEntry:
    """One architecture of the day.

    Attributes:
        name: display name.
        notebook: the notebook that teaches it.
        build: builds the ImageNet-size network (random weights).
        quoted_top1: ImageNet top-1 accuracy **quoted** from ``source`` (``None`` where the paper gives none).
        source: paper, table and protocol of the quoted figure.
        kind: what dominates its layers, for the chart's colours ("dense conv", "depthwise", "grouped", ...).
        protocol: how the paper tested the quoted top-1: ``"1-crop"``, ``"10-crop"`` or ``"dense"`` (see above).
        input_size: the side of the square input it is built, counted and timed at.
        quoted_gmacs: the paper's multiply-adds per image in G (its "FLOPs"), where printed beside the count.

    Example::

        entry = ZooEntry("ResNet-50", "07_resnet", build, 0.7715, "He et al. 2016, table 3", "dense conv", "10-crop")
    """

    name: str
    notebook: str
    build: Callable[[], keras.Model]
    quoted_top1: float | None
    source: str
    kind: str
    protocol: str = "1-crop"
    input_size: int = 224
    quoted_gmacs: float | None = None

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"{self.name}: protocol must be one of {PROTOCOLS}, got {self.protocol!r}.")


#: How a paper tested its quoted top-1 (see the module docstring).
PROTOCOLS: tuple[str, ...] = ("1-crop", "10-crop", "dense")


def _alexnet() -> keras.Model:
    from workshop_utils.architectures.alexnet import alexnet

    return alexnet()


def _googlenet() -> keras.Model:
    from workshop_utils.architectures.googlenet import googlenet

    return googlenet(auxiliary_classifiers=False)


def _mobilenet(alpha: float) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        from workshop_utils.architectures.mobilenet import mobilenet

        return mobilenet(alpha=alpha, input_size=224)

    return build


def _shufflenet() -> keras.Model:
    from workshop_utils.architectures.shufflenet import shufflenet_v1

    return shufflenet_v1(groups=3)


def _squeezenet() -> keras.Model:
    from workshop_utils.architectures.squeezenet import squeezenet

    return squeezenet("1.0")


def _resnet(depth: int) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        from workshop_utils.architectures.resnet import resnet

        return resnet(depth)

    return build


def _resnext50() -> keras.Model:
    from workshop_utils.architectures.resnet import resnext

    return resnext(50, cardinality=32, width_per_group=4)


def _keras_application(name: str, size: int = 224) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        return getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))

    return build


#: The day's architectures, in the order of the day. Quoted top-1 = 100% - the paper's top-1 error.
DAY_MODELS: tuple[ZooEntry, ...] = (
    ZooEntry("AlexNet", "02_kernel_size_alexnet_vgg", _alexnet, 0.593,
             "Krizhevsky et al. 2012, table 2: 1 CNN, 40.7% top-1 error (ILSVRC-2012 val; the average over 10 "
             "patches, the corners and centre and their flips)", "dense conv + big FC", "10-crop", 227),
    ZooEntry("VGG-16", "02_kernel_size_alexnet_vgg", _keras_application("VGG16"), 0.744,
             "Simonyan & Zisserman 2015, table 3: config D, 25.6% top-1 error (single test scale, dense "
             "evaluation)", "dense conv + big FC", "dense"),
    ZooEntry("GoogLeNet", "03_inception_1x1_conv", _googlenet, None,
             "Szegedy et al. 2015 report top-5 only (6.67% error, ensemble)", "branches", "1-crop"),
    ZooEntry("Inception-v3", "03_inception_1x1_conv", _keras_application("InceptionV3", 299), 0.788,
             "Szegedy et al. 2016, table 3: 21.2% top-1 error, single crop at 299x299", "branches", "1-crop", 299),
    ZooEntry("MobileNet 1.0", "04_depthwise_mobilenet", _mobilenet(1.0), 0.706,
             "Howard et al. 2017, table 6: 1.0 MobileNet-224 (centre crop)", "depthwise", "1-crop"),
    ZooEntry("MobileNet 0.5", "04_depthwise_mobilenet", _mobilenet(0.5), 0.637,
             "Howard et al. 2017, table 6: 0.5 MobileNet-224 (centre crop)", "depthwise", "1-crop"),
    ZooEntry("Xception", "04_depthwise_mobilenet", _keras_application("Xception", 299), 0.790,
             "Chollet 2017, table 1: single crop at 299x299", "depthwise", "1-crop", 299),
    ZooEntry("ShuffleNet 1x (g=3)", "05_shufflenet", _shufflenet, 0.674,
             "Zhang et al. 2018, table 2: ShuffleNet 1x, g=3, 32.6% top-1 error (centre crop)",
             "grouped + depthwise", "1-crop"),
    ZooEntry("SqueezeNet 1.0", "06_squeezenet", _squeezenet, 0.575,
             "Iandola et al. 2016, table 2: 57.5% top-1 (single crop, against Caffe's AlexNet at 57.2%)",
             "1x1 + branches", "1-crop"),
    ZooEntry("ResNet-18", "07_resnet", _resnet(18), 0.7212,
             "He et al. 2016, table 2: 27.88% top-1 error (10-crop)", "dense conv", "10-crop"),
    ZooEntry("ResNet-50", "07_resnet", _keras_application("ResNet50"), 0.7715,
             "He et al. 2016, table 3: 22.85% top-1 error (10-crop)", "dense conv", "10-crop"),
    ZooEntry("ResNeXt-50 (32x4d)", "07_resnet", _resnext50, 0.778,
             "Xie et al. 2017, table 3: 22.2% top-1 error (single crop)", "grouped", "1-crop"),
    ZooEntry("DenseNet-121", "08_densenet", _keras_application("DenseNet121"), 0.7498,
             "Huang et al. 2017, table 3: 25.02% top-1 error (single crop; 10-crop 23.61%, which notebook 08 "
             "quotes)", "dense conv + concat", "1-crop"),
)

#: What came next (notebook 09's appendix), counted and timed like the day's: both are in keras.applications.
NEXT_MODELS: tuple[ZooEntry, ...] = (
    ZooEntry("EfficientNet-B0", "09_extras", _keras_application("EfficientNetB0"), 0.771,
             "Tan & Le 2019, table 2: 77.1% top-1, 5.3M parameters, 0.39B FLOPs (multiply-adds), 224x224",
             "depthwise", "1-crop", 224, 0.39),
    ZooEntry("ConvNeXt-T", "09_extras", _keras_application("ConvNeXtTiny"), 0.821,
             "Liu et al. 2022, table 1 (ImageNet-1K): 82.1% top-1, 28M parameters, 4.5G FLOPs (multiply-adds), "
             "224x224", "depthwise", "1-crop", 224, 4.5),
)


def entry(name: str) -> ZooEntry:
    """The entry called ``name`` (as in :data:`DAY_MODELS`); a clear error lists the names otherwise.

    Example::

        entry("ResNet-50").build().count_params()
    """
    for item in DAY_MODELS + NEXT_MODELS:
        if item.name == name:
            return item
    raise KeyError(f"no architecture called {name!r}; choose one of: "
                   f"{', '.join(e.name for e in DAY_MODELS + NEXT_MODELS)}.")


def fewest_macs(entries: Sequence[ZooEntry], counts: Mapping[str, Any], limit: int | None) -> list[ZooEntry]:
    """The ``limit`` entries with the fewest counted MACs, in their own order; all of them if ``limit`` is None.

    ``counts`` maps each name to its MACs or to its ``flops.profile`` (anything with ``.macs``). A run profile's
    ``latency_models`` is the limit: a short run times only the cheapest architectures.

    Example::

        fewest_macs(DAY_MODELS, counts, run.latency_models)
    """
    if limit is None:
        return list(entries)
    limit = positive_int("limit", limit)
    missing = [item.name for item in entries if item.name not in counts]
    if missing:
        raise ValueError(f"no count for {', '.join(missing)}: profile every entry first (flops.profile).")
    cheapest = set(sorted((getattr(counts[item.name], "macs", counts[item.name]), item.name)
                          for item in entries)[:limit])
    return [item for item in entries if (getattr(counts[item.name], "macs", counts[item.name]), item.name) in cheapest]


@dataclass(frozen=True)
class ZooRow:
    """Counted and measured figures for one architecture (latency: median of the repeats)."""

    name: str
    kind: str
    params: int
    macs: int
    latency_ms_batch1: float
    latency_ms_batch: float
    batch_size: int
    quoted_top1: float | None
    protocol: str = ""
    input_size: int = 224

    @property
    def images_per_second(self) -> float:
        """Throughput at the large batch."""
        return 1000.0 * self.batch_size / self.latency_ms_batch

    @property
    def gflops_per_second(self) -> float:
        """Achieved forward GFLOP/s at the large batch (2 FLOPs per multiply-add)."""
        return 2 * self.macs * self.images_per_second / 1e9

    @property
    def ms_per_mmac(self) -> float:
        """Milliseconds per million multiply-adds at batch 1: how far latency is from being 'just MACs'."""
        return self.latency_ms_batch1 / (self.macs / 1e6)


def measure_models(entries: Sequence[ZooEntry] = DAY_MODELS, batch_size: int = 32, repeats: int = 5,
                   warmup: int = 1, progress: Callable[[str], None] | None = None) -> list[ZooRow]:
    """Build, count and time each architecture (at its ``input_size``); the model is freed before the next is built.

    Args:
        entries: which architectures (default: all of :data:`DAY_MODELS`).
        batch_size: the large batch for throughput (batch 1 is always timed too).
        repeats: timed calls per batch size (the median is kept).
        warmup: untimed calls first (tracing, allocation).
        progress: called with a line per model, e.g. ``print``.

    Example::

        rows = measure_models([entry("ResNet-18")], repeats=2)
    """
    batch_size, repeats = positive_int("batch_size", batch_size), positive_int("repeats", repeats)
    warmup = positive_int("warmup", warmup, minimum=0)
    rows = []
    for item in entries:
        cost, size, (single, batched) = _count_and_time(item.build, (1, batch_size), repeats, warmup)
        rows.append(ZooRow(item.name, item.kind, cost.params, cost.macs, single.ms_per_batch,
                           batched.ms_per_batch, batch_size, item.quoted_top1, item.protocol, size))
        if progress is not None:
            progress(f"{item.name}: {cost.params:,} params, {cost.macs / 1e9:.2f} G MACs, "
                     f"{single.ms_per_batch:.1f} ms at batch 1, {rows[-1].images_per_second:.1f} images/s")
    return rows


def _count_and_time(build: Callable[[], keras.Model], batch_sizes: Sequence[int], repeats: int,
                    warmup: int) -> tuple[Any, int, list[Any]]:
    """Build a model, profile it, time it at each batch size, free it: ``(profile, input side, latencies)``."""
    from workshop_utils import flops
    from workshop_utils.latency import measure_latency

    model = build()
    cost = flops.profile(model)
    latencies = [measure_latency(model, batch_size=size, repeats=repeats, warmup=warmup) for size in batch_sizes]
    side = int(model.input_shape[1])
    del model
    keras.backend.clear_session()
    gc.collect()
    return cost, side, latencies


def format_rows(rows: Sequence[ZooRow], ceiling_gflops: float | None = None) -> str:
    """The chart's table as plain text, optionally with achieved GFLOP/s as a share of the compute ceiling.

    Example::

        print(format_rows(rows, compute_ceiling.compute_ceiling_gflops()))
    """
    from workshop_utils.tables import text_table

    header = ["architecture", "input", "params", "G MACs", "ms @1", "ms @N", "img/s", "GFLOP/s", "% ceil.",
              "top-1 (quoted)", "protocol"]
    table = [[row.name, row.input_size, row.params, row.macs / 1e9, row.latency_ms_batch1, row.latency_ms_batch,
              row.images_per_second, row.gflops_per_second,
              row.gflops_per_second / ceiling_gflops if ceiling_gflops else None, row.quoted_top1,
              row.protocol if row.quoted_top1 is not None else None] for row in rows]
    formats = {"G MACs": ".2f", "ms @1": ".1f", "ms @N": ".1f", "img/s": ",.1f", "GFLOP/s": ".1f", "% ceil.": ".0%",
               "top-1 (quoted)": ".1%"}
    return text_table(header, table, formats)


def latency_fit(rows: Sequence[ZooRow]) -> tuple[float, float]:
    """``(slope, intercept)`` of the least-squares line log(ms at batch 1) = slope x log(G MACs) + intercept.

    The chart's dashed line: where the MACs alone would put a model's latency on this machine.

    Example::

        slope, intercept = latency_fit(rows)       # slope 1: latency proportional to MACs
    """
    if len(rows) < 2:
        raise ValueError(f"a line needs at least two measured models, got {len(rows)}: measure_models more.")
    macs = np.array([row.macs / 1e9 for row in rows])
    latency = np.array([row.latency_ms_batch1 for row in rows])
    slope, intercept = np.polyfit(np.log(macs), np.log(latency), 1)
    return float(slope), float(intercept)


def predicted_latency_ms(fit: tuple[float, float], macs: float) -> float:
    """Latency at batch 1 that :func:`latency_fit`'s line predicts for ``macs`` multiply-adds per image.

    Example::

        predicted_latency_ms(latency_fit(rows), 1.0e9)
    """
    slope, intercept = fit
    return float(np.exp(intercept) * (macs / 1e9) ** slope)


def _draw_macs_vs_latency(axis, rows: Sequence[ZooRow], colours: dict[str, Any], span: tuple[float, float]) -> None:
    """The chart's left panel on ``axis``: one point a model, the fit line over ``span`` (G MACs)."""
    for row in rows:
        axis.scatter(row.macs / 1e9, row.latency_ms_batch1, s=50, color=colours[row.kind])
        axis.annotate(row.name, (row.macs / 1e9, row.latency_ms_batch1), textcoords="offset points", xytext=(4, 3),
                      fontsize=8)
    fit = latency_fit(rows)
    grid = np.geomspace(*span, 50)
    axis.plot(grid, [predicted_latency_ms(fit, g * 1e9) for g in grid], color="grey", linestyle="--", linewidth=1,
              label="fit: latency ~ MACs")
    axis.set(xscale="log", yscale="log", xlabel="G multiply-adds per image (counted)",
             ylabel="latency at batch 1 (ms, measured)", title="MACs vs measured latency")
    for kind in colours:
        axis.scatter([], [], color=colours[kind], label=kind)
    axis.legend(fontsize=7, loc="upper left")


def _kind_colours(rows: Sequence[ZooRow]) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    return {kind: plt.cm.tab10(index % 10) for index, kind in enumerate(sorted({row.kind for row in rows}))}


def plot_macs_vs_latency(rows: Sequence[ZooRow], ceiling_gflops: float | None = None):  # -> Figure
    """Two panels: latency at batch 1 against MACs (log-log), and achieved GFLOP/s per architecture.

    Points above the trend line are slower than their MACs say: that is the day's "MACs are not speed".

    Example::

        plot_macs_vs_latency(rows, ceiling_gflops=300.0)
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("no rows to plot: measure some models first (measure_models).")
    colours = _kind_colours(rows)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    macs = [row.macs / 1e9 for row in rows]
    _draw_macs_vs_latency(left, rows, colours, (min(macs), max(macs)))
    order = np.argsort([row.gflops_per_second for row in rows])
    names = [rows[i].name for i in order]
    right.barh(names, [rows[i].gflops_per_second for i in order], color=[colours[rows[i].kind] for i in order])
    if ceiling_gflops:
        right.axvline(ceiling_gflops, color="black", linestyle=":",
                      label=f"ceiling {ceiling_gflops:.0f} (best of matmul, 3x3 conv)")
        right.legend(fontsize=7, loc="lower right")
    right.set(xlabel=f"achieved GFLOP/s at batch {rows[0].batch_size}", title="How much of the machine each uses")
    right.tick_params(axis="y", labelsize=8)
    figure.tight_layout()
    return figure


# --- Compound scaling (EfficientNet, Tan & Le 2019) ---------------------------------------------------------------

#: Tan & Le 2019, equation 3: depth alpha^phi, width beta^phi, resolution gamma^phi, found by a grid search on B0
#: under alpha x beta^2 x gamma^2 ~ 2, so each step of phi about doubles the multiply-adds.
COMPOUND_COEFFICIENTS: tuple[float, float, float] = (1.2, 1.1, 1.15)


@dataclass(frozen=True)
class ScaledPoint:
    """EfficientNet-B0 scaled by ``phi``: its multipliers, counted cost and measured latency at batch 1."""

    phi: float
    depth: float
    width: float
    resolution: int
    params: int
    macs: int
    latency_ms_batch1: float


def efficientnet_scaled(phi: float) -> keras.Model:
    """EfficientNet-B0 compound-scaled by ``phi``: depth x 1.2^phi, width x 1.1^phi, input 224 x 1.15^phi (rounded).

    Built by ``keras.applications``' own EfficientNet function (random weights), which rounds the widths to
    multiples of 8 and the block repeats up, as the paper's B1-B7 are built; ``phi = 0`` is B0 itself. (Keras'
    B1-B7 use the paper's published coefficients, which do not follow 1.2/1.1/1.15 exactly.)

    Example::

        efficientnet_scaled(1.0).input_shape     # (None, 258, 258, 3)
    """
    from workshop_utils import _keras_internals

    if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not 0 <= phi <= 6:
        raise ValueError(f"phi must be a number in [0, 6] (B0 to about B6's cost), got {phi!r}.")
    alpha, beta, gamma = COMPOUND_COEFFICIENTS
    size = int(round(224 * gamma**phi))
    return _keras_internals.efficientnet_factory()(beta**phi, alpha**phi, size, weights=None,
                                                   input_shape=(size, size, 3),
                                                   name=f"efficientnet_phi{phi:g}".replace(".", "_"))


def compound_scaling(phis: Sequence[float] = (0, 1, 2, 3), repeats: int = 3, warmup: int = 1,
                     progress: Callable[[str], None] | None = None) -> list[ScaledPoint]:
    """Build, count and time (batch 1) :func:`efficientnet_scaled` at each ``phi``; each model is freed after.

    Example::

        points = compound_scaling((0, 1), repeats=1)
    """
    alpha, beta, gamma = COMPOUND_COEFFICIENTS
    points = []
    for phi in phis:
        cost, side, (latency,) = _count_and_time(functools.partial(efficientnet_scaled, phi), (1,), repeats, warmup)
        points.append(ScaledPoint(float(phi), alpha**phi, beta**phi, side, cost.params, cost.macs,
                                  latency.ms_per_batch))
        if progress is not None:
            progress(f"phi {phi:g}: {side} px, {cost.params:,} params, {cost.macs / 1e9:.2f} G MACs, "
                     f"{latency.ms_per_batch:.1f} ms at batch 1")
    return points


def plot_compound_scaling(rows: Sequence[ZooRow], points: Sequence[ScaledPoint], phi: float):  # -> Figure
    """The day's MACs-vs-latency chart with EfficientNet-B0 scaled by each ``phi`` of ``points``; ``phi`` marked.

    The marked point's title gives its multipliers, its counted MACs, its measured latency and the latency the
    day's fit line predicts from its MACs alone.

    Example::

        plot_compound_scaling(rows + next_rows, compound_scaling(), phi=2)
    """
    import matplotlib.pyplot as plt

    chosen = [point for point in points if np.isclose(point.phi, phi)]
    if not rows or not chosen:
        raise ValueError(f"need measured rows and a point at phi={phi}; points at phi "
                         f"{[point.phi for point in points]}.")
    (point,) = chosen
    colours = _kind_colours(rows)
    figure, axis = plt.subplots(figsize=(8, 4.6))
    macs = [row.macs / 1e9 for row in rows] + [p.macs / 1e9 for p in points]
    _draw_macs_vs_latency(axis, rows, colours, (min(macs), max(macs)))
    axis.plot([p.macs / 1e9 for p in points], [p.latency_ms_batch1 for p in points], "-o", color="C3",
              markersize=4, linewidth=1,
              label="EfficientNet-B0 scaled, phi = " + ", ".join(f"{p.phi:g}" for p in points))
    predicted = predicted_latency_ms(latency_fit(rows), point.macs)
    axis.scatter([point.macs / 1e9], [point.latency_ms_batch1], s=220, marker="*", color="C3", zorder=3)
    axis.scatter([point.macs / 1e9], [predicted], s=80, marker="o", facecolors="none", edgecolors="C3", zorder=3,
                 label="the fit's prediction for the marked MACs")
    axis.legend(fontsize=7, loc="upper left")
    axis.set_title(f"phi = {point.phi:g}: depth x{point.depth:.2f}, width x{point.width:.2f}, "
                   f"{point.resolution}x{point.resolution}: {point.params / 1e6:.1f}M params, "
                   f"{point.macs / 1e9:.2f} G MACs\nmeasured {point.latency_ms_batch1:.0f} ms at batch 1; "
                   f"the fit predicts {predicted:.0f} ms from the MACs", fontsize=9)
    figure.tight_layout()
    return figure


def compound_scaling_widget(rows: Sequence[ZooRow], points: Sequence[ScaledPoint], phi: float = 1.0) -> Any:
    """A phi slider redrawing :func:`plot_compound_scaling` from ``points`` (built, counted and timed before).

    Nothing is built on a redraw, so it only draws: well under a second. Show it with
    :func:`workshop_utils.display.show_widget` and ``plot_compound_scaling(rows, points, phi)``.

    Example::

        show_widget(compound_scaling_widget(rows, points), plot_compound_scaling(rows, points, 1.0))
    """
    import ipywidgets as widgets

    from workshop_utils.display import figure_png

    start = [p.phi for p in points if np.isclose(p.phi, phi)]
    if not start:
        raise ValueError(f"start at a phi of the points: {[p.phi for p in points]}; got {phi}.")
    slider = widgets.SelectionSlider(options=[(f"{p.phi:g}", p.phi) for p in points], value=start[0],
                                     description="phi", continuous_update=False)
    picture = widgets.Image(format="png")

    def redraw(change: Any = None) -> None:
        picture.value = figure_png(plot_compound_scaling(rows, points, slider.value))

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, picture])

