"""Convolution arithmetic: how kernel size, stride, padding and dilation decide a convolution's output size.

* :func:`conv_output_size` -- the formula, for Keras' ``"valid"`` / ``"same"``, ``"full"`` or an explicit padding.
* :func:`keras_output_size` and :func:`compare_with_keras` -- the same number read off a real Keras layer.
* :class:`ConvGeometry` -- one configuration along one axis (square inputs and kernels): padding on each side,
  where every window starts, which input cells a window reads, whether the window fits evenly.
* :func:`draw_conv_arithmetic` / :func:`draw_conv_steps` / :func:`draw_conv_gallery` -- static figures (the
  rendering that nbval and the slides show), in the style of Dumoulin & Visin's *conv_arithmetic*.
* :func:`conv_arithmetic_explorer` -- an ipywidgets explorer: sliders for the five numbers, a play button that
  slides the window.

The formula, with ``k_eff = dilation * (kernel - 1) + 1`` and ``p_before + p_after`` the total padding::

    output = floor((input + p_before + p_after - k_eff) / stride) + 1

``"same"`` pads so that ``output = ceil(input / stride)``; like TensorFlow, the odd pixel goes after (bottom/right).

Example::

    conv_output_size(32, kernel_size=5)                          # 28
    conv_output_size(7, kernel_size=3, stride=2, padding="same")  # 4
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from workshop_utils._validate import positive_int

Padding = str | int
"""``"valid"`` (none), ``"same"`` (output = ceil(input / stride)), ``"full"`` (k_eff - 1 each side) or an int >= 0."""

PADDING_NAMES: tuple[str, ...] = ("valid", "same", "full")


def _check_padding(padding: object) -> Padding:
    if isinstance(padding, str):
        key = padding.strip().lower()
        if key not in PADDING_NAMES:
            raise ValueError(f"padding must be one of {PADDING_NAMES} or an int >= 0, got {padding!r}.")
        return key
    return positive_int("padding", padding, minimum=0)


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """How many input pixels a dilated kernel spans: ``dilation * (kernel_size - 1) + 1``.

    Example::

        effective_kernel_size(3, dilation=2)  # 5
    """
    kernel_size = positive_int("kernel_size", kernel_size)
    dilation = positive_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def padding_amounts(
    input_size: int, kernel_size: int, stride: int = 1, padding: Padding = "valid", dilation: int = 1
) -> tuple[int, int]:
    """Zeros added before (top/left) and after (bottom/right) the input along one axis.

    ``"same"`` follows TensorFlow: total ``max((ceil(n / s) - 1) * s + k_eff - n, 0)``, the odd one after.

    Example::

        padding_amounts(6, 3, stride=2, padding="same")  # (0, 1)
    """
    input_size = positive_int("input_size", input_size)
    stride = positive_int("stride", stride)
    padding = _check_padding(padding)
    k_eff = effective_kernel_size(kernel_size, dilation)
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k_eff - 1, k_eff - 1
    if padding == "same":
        total = max((math.ceil(input_size / stride) - 1) * stride + k_eff - input_size, 0)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def conv_output_size(
    input_size: int, kernel_size: int, stride: int = 1, padding: Padding = "valid", dilation: int = 1
) -> int:
    """Output length along one axis: ``floor((n + p_before + p_after - k_eff) / stride) + 1``.

    Raises ``ValueError`` when the (dilated) kernel is larger than the padded input.

    Example::

        conv_output_size(224, 11, stride=4, padding=2)  # 55, AlexNet's first layer
    """
    before, after = padding_amounts(input_size, kernel_size, stride, padding, dilation)
    k_eff = effective_kernel_size(kernel_size, dilation)
    padded = input_size + before + after
    if k_eff > padded:
        raise ValueError(
            f"the kernel spans {k_eff} pixels (kernel {kernel_size}, dilation {dilation}) but the padded input "
            f"is only {padded}: use a smaller kernel or dilation, or more padding."
        )
    return (padded - k_eff) // stride + 1


def keras_output_size(
    input_size: int, kernel_size: int, stride: int = 1, padding: Padding = "valid", dilation: int = 1
) -> int:
    """The output length Keras really produces: ``keras.ops.conv`` (what ``Conv2D`` calls) run on zeros.

    ``"full"`` and int paddings, which Keras lacks, are ``keras.ops.pad`` followed by a ``"valid"`` convolution.
    Keras refuses ``stride > 1`` together with ``dilation > 1``: its ``ValueError`` is passed on.

    Example::

        keras_output_size(7, 3, stride=2, padding="same")  # 4
    """
    import keras

    padding = _check_padding(padding)
    before, after = padding_amounts(input_size, kernel_size, stride, padding, dilation)
    inputs = keras.ops.zeros((1, input_size, input_size, 1))
    if padding not in ("valid", "same"):
        inputs = keras.ops.pad(inputs, ((0, 0), (before, after), (before, after), (0, 0)))
    kernel = keras.ops.zeros((kernel_size, kernel_size, 1, 1))
    outputs = keras.ops.conv(inputs, kernel, strides=stride, padding="same" if padding == "same" else "valid",
                             dilation_rate=dilation)
    return int(outputs.shape[1])


DEFAULT_CASES: tuple[tuple[int, int, int, Padding, int], ...] = tuple(
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product(
        (5, 6, 7, 8, 32), (1, 2, 3, 5), (1, 2, 3), ("valid", "same", "full", 1, 2), (1, 2)
    )
    if effective_kernel_size(k, d) <= n
)
"""(input, kernel, stride, padding, dilation) combinations :func:`compare_with_keras` checks by default (400)."""


def compare_with_keras(
    cases: Iterable[tuple[int, int, int, Padding, int]] = DEFAULT_CASES,
) -> list[dict[str, Any]]:
    """For each (input, kernel, stride, padding, dilation): the formula's output size and Keras'.

    Each row has those five keys plus ``formula``, ``keras`` (``None`` where Keras refuses the combination)
    and ``note`` (Keras' reason, else ``""``).

    Example::

        rows = compare_with_keras([(7, 3, 2, "same", 1)]); rows[0]["formula"] == rows[0]["keras"]  # True
    """
    rows = []
    for input_size, kernel_size, stride, padding, dilation in cases:
        row: dict[str, Any] = {
            "input": input_size, "kernel": kernel_size, "stride": stride, "padding": padding,
            "dilation": dilation, "formula": conv_output_size(input_size, kernel_size, stride, padding, dilation),
            "keras": None, "note": "",
        }
        try:
            row["keras"] = keras_output_size(input_size, kernel_size, stride, padding, dilation)
        except ValueError as error:
            row["note"] = str(error).split(".")[0]
        rows.append(row)
    return rows


def summarize_comparison(rows: Sequence[dict[str, Any]]) -> str:
    """A few lines: how many combinations agree, disagree, or were refused by Keras (and why).

    Example::

        print(summarize_comparison(compare_with_keras()))
    """
    checked = [row for row in rows if row["keras"] is not None]
    disagree = [row for row in checked if row["keras"] != row["formula"]]
    refused = [row for row in rows if row["keras"] is None]
    lines = [
        f"{len(rows)} combinations of input size, kernel, stride, padding and dilation;",
        f"Keras built {len(checked)}: the formula matches {len(checked) - len(disagree)}, differs on {len(disagree)}.",
    ]
    for row in disagree[:5]:
        lines.append(f"  differs: {row}")
    if refused:
        reasons = sorted({row["note"] for row in refused})
        lines.append(f"Keras refused {len(refused)}: " + "; ".join(reasons) + ".")
    return "\n".join(lines)


@dataclass(frozen=True)
class ConvGeometry:
    """One convolution configuration on a square input with a square kernel (the same along both axes).

    Attributes:
        input_size: input height = width, in pixels.
        kernel_size: kernel height = width.
        stride: step of the sliding window.
        padding: ``"valid"``, ``"same"``, ``"full"`` or zeros added on each side.
        dilation: spacing between kernel taps (1 = an ordinary kernel).

    Example::

        ConvGeometry(5, 3, stride=2, padding=1).output_size  # 3
    """

    input_size: int
    kernel_size: int
    stride: int = 1
    padding: Padding = "valid"
    dilation: int = 1

    def __post_init__(self) -> None:
        positive_int("input_size", self.input_size)
        positive_int("kernel_size", self.kernel_size)
        positive_int("stride", self.stride)
        positive_int("dilation", self.dilation)
        object.__setattr__(self, "padding", _check_padding(self.padding))
        conv_output_size(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation)

    @property
    def effective_kernel(self) -> int:
        """Pixels the dilated kernel spans."""
        return effective_kernel_size(self.kernel_size, self.dilation)

    @property
    def pad_before(self) -> int:
        """Zeros added at the top and at the left."""
        return padding_amounts(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation)[0]

    @property
    def pad_after(self) -> int:
        """Zeros added at the bottom and at the right."""
        return padding_amounts(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation)[1]

    @property
    def padded_size(self) -> int:
        """Input plus padding, along one axis."""
        return self.input_size + self.pad_before + self.pad_after

    @property
    def output_size(self) -> int:
        """Output height = width."""
        return conv_output_size(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation)

    @property
    def skipped(self) -> int:
        """Rows (and columns) at the bottom (right) of the padded input that no window reaches."""
        return (self.padded_size - self.effective_kernel) % self.stride

    @property
    def fits_evenly(self) -> bool:
        """Whether the last window ends exactly at the padded input's edge (nothing skipped)."""
        return self.skipped == 0

    @property
    def steps(self) -> int:
        """Number of window positions (= output pixels)."""
        return self.output_size**2

    def window_starts(self) -> list[int]:
        """Where each window starts along one axis, in padded coordinates.

        Example::

            ConvGeometry(5, 3, stride=2).window_starts()  # [0, 2]
        """
        return [index * self.stride for index in range(self.output_size)]

    def output_position(self, step: int) -> tuple[int, int]:
        """(row, column) of the output pixel computed at ``step`` (row by row)."""
        step = positive_int("step", step, minimum=0)
        if step >= self.steps:
            raise ValueError(f"step must be below {self.steps} (the number of output pixels), got {step}.")
        return divmod(step, self.output_size)

    def window_cells(self, step: int) -> list[tuple[int, int]]:
        """The padded-input cells (row, column) that the kernel's taps read at ``step``.

        Example::

            ConvGeometry(5, 2, dilation=2).window_cells(0)  # [(0, 0), (0, 2), (2, 0), (2, 2)]
        """
        out_row, out_col = self.output_position(step)
        top, left = out_row * self.stride, out_col * self.stride
        taps = range(0, self.effective_kernel, self.dilation)
        return [(top + dr, left + dc) for dr in taps for dc in taps]

    def is_padding(self, row: int, col: int) -> bool:
        """Whether padded-input cell (row, col) is a padding zero rather than an input pixel."""
        low, high = self.pad_before, self.pad_before + self.input_size
        return not (low <= row < high and low <= col < high)

    def label(self) -> str:
        """Short description, e.g. ``'5x5 input, 3x3 kernel, stride 2, padding 1 -> 3x3'``."""
        dilation = f", dilation {self.dilation}" if self.dilation > 1 else ""
        return (
            f"{self.input_size}x{self.input_size} input, {self.kernel_size}x{self.kernel_size} kernel, "
            f"stride {self.stride}, padding {self.padding}{dilation} -> {self.output_size}x{self.output_size}"
        )

    def warning(self) -> str:
        """Empty when the window fits evenly, else a sentence saying what is skipped."""
        if self.fits_evenly:
            return ""
        plural = "" if self.skipped == 1 else "s"
        return (
            f"The window does not fit evenly: the last {self.skipped} row{plural} and {self.skipped} "
            f"column{plural} of the padded input "
            f"are never read ((padded {self.padded_size} - span {self.effective_kernel}) mod stride "
            f"{self.stride} = {self.skipped})."
        )


_INPUT, _PAD, _SKIP = "#dbe9f6", "#f2f2f2", "#f4c7c3"
_TAP, _DONE, _NOW = "#1f77b4", "#c6dbef", "#08519c"
_GAP = 1.6  # cells between the input grid and the output grid


def _cells(ax: Axes, size: int, left: float, colour_of: Any) -> None:
    for row in range(size):
        for col in range(size):
            face, style = colour_of(row, col)
            ax.add_patch(Rectangle((left + col, row), 1, 1, facecolor=face, edgecolor="#555555",
                                   linestyle=style, lw=0.8))


def draw_conv_arithmetic(geometry: ConvGeometry, step: int = 0, ax: Axes | None = None) -> Figure:
    """Input grid (padding grey and dashed, never-read cells red) with the kernel's taps at ``step``, and the
    output grid (pixels computed before ``step`` light blue, the current one dark blue), at the same scale.

    Args:
        geometry: the configuration.
        step: which window position to show (0 .. ``geometry.steps - 1``, row by row).
        ax: axes to draw into; ``None`` makes a new figure.

    Example::

        draw_conv_arithmetic(ConvGeometry(5, 3, stride=2, padding=1), step=4)
    """
    if not isinstance(geometry, ConvGeometry):
        raise TypeError(f"expected a ConvGeometry, got {type(geometry).__name__}.")
    out_row, out_col = geometry.output_position(step)
    size, out_size = geometry.padded_size, geometry.output_size
    if ax is None:
        width = size + _GAP + out_size
        fig, ax = plt.subplots(figsize=(min(1.0 + 0.38 * width, 9), min(1.2 + 0.38 * size, 6)))
    fig = ax.figure
    taps = set(geometry.window_cells(step))
    reach = size - geometry.skipped

    def input_colour(row: int, col: int) -> tuple[str, str]:
        padding = geometry.is_padding(row, col)
        face = _SKIP if (row >= reach or col >= reach) else (_PAD if padding else _INPUT)
        return (_TAP if (row, col) in taps else face), ("--" if padding else "-")

    def output_colour(row: int, col: int) -> tuple[str, str]:
        index = row * out_size + col
        return (_NOW if index == step else (_DONE if index < step else "white")), "-"

    _cells(ax, size, 0, input_colour)
    span = geometry.effective_kernel
    ax.add_patch(Rectangle((out_col * geometry.stride, out_row * geometry.stride), span, span,
                           fill=False, edgecolor=_NOW, lw=2.2))
    left = size + _GAP
    _cells(ax, out_size, left, output_colour)
    ax.annotate("", xy=(left - 0.2, out_size / 2), xytext=(size + 0.2, out_size / 2),
                arrowprops={"arrowstyle": "->", "color": "#555555"})
    ax.text(size / 2, -0.3, f"input {geometry.input_size}x{geometry.input_size}, padding "
            f"({geometry.pad_before}, {geometry.pad_after})", ha="center", va="bottom", fontsize=8)
    ax.text(left + out_size / 2, -0.3, f"output {out_size}x{out_size}", ha="center", va="bottom", fontsize=8)
    ax.text(left + out_size / 2, out_size + 0.3, f"step {step + 1} of {geometry.steps}",
            ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.2, left + out_size + 0.2)
    ax.set_ylim(max(size, out_size + 1.2) + 0.2, -1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    title = geometry.label()
    if not geometry.fits_evenly:
        title += f"\nnot even: last {geometry.skipped} row(s) and column(s) never read (red)"
    ax.set_title(title, fontsize=8, color="black" if geometry.fits_evenly else "#b2182b")
    return fig


def draw_conv_steps(geometry: ConvGeometry, steps: Sequence[int] | None = None) -> Figure:
    """Several steps of the sliding window side by side (default: the first three and the last).

    Example::

        draw_conv_steps(ConvGeometry(5, 3, stride=2))
    """
    if steps is None:
        steps = sorted({*range(min(3, geometry.steps)), geometry.steps - 1})
    steps = list(steps)
    if not steps:
        raise ValueError("steps must name at least one window position.")
    width = geometry.padded_size + _GAP + geometry.output_size
    height = max(geometry.padded_size, geometry.output_size + 1.2) + 1.5
    fig, axes = plt.subplots(1, len(steps), figsize=(min(0.3 * width * len(steps), 14), 0.3 * height + 0.5),
                             squeeze=False)
    for ax, step in zip(axes[0], steps, strict=True):
        draw_conv_arithmetic(geometry, step, ax=ax)
        ax.set_title(f"step {step + 1}", fontsize=9)
    fig.suptitle(geometry.label(), fontsize=10)
    fig.tight_layout()
    return fig


def draw_conv_gallery(geometries: Sequence[ConvGeometry], step: int = 0, cols: int = 2) -> Figure:
    """Several configurations at one step each (the static rendering of the explorer for slides and nbval).

    Example::

        draw_conv_gallery([ConvGeometry(5, 3), ConvGeometry(5, 3, padding="same")])
    """
    if not geometries:
        raise ValueError("give at least one ConvGeometry.")
    cols = min(cols, len(geometries))
    rows = math.ceil(len(geometries) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, geometry in zip(axes.flat, geometries, strict=False):  # extra axes stay empty
        draw_conv_arithmetic(geometry, min(step, geometry.steps - 1), ax=ax)
    fig.tight_layout()
    return fig


class ConvArithmeticExplorer:
    """The widget built by :func:`conv_arithmetic_explorer`; Jupyter displays it like the widget itself.

    Attributes:
        controls: the five sliders/dropdown by :class:`ConvGeometry` field name.
        step: slider for the window position; ``play`` animates it.
        message: what the current configuration means (red when the window does not fit evenly).
        canvas: where the figure is drawn.
        widget: the whole layout (an ``ipywidgets.VBox``).
    """

    def __init__(self, geometry: ConvGeometry, max_input: int = 12) -> None:
        import ipywidgets as widgets

        style = {"description_width": "70px"}
        explicit = {geometry.padding} if isinstance(geometry.padding, int) else set()
        self.controls: dict[str, Any] = {
            "input_size": widgets.IntSlider(geometry.input_size, 1, max(max_input, geometry.input_size),
                                            description="input", style=style),
            "kernel_size": widgets.IntSlider(geometry.kernel_size, 1, 7, description="kernel", style=style),
            "stride": widgets.IntSlider(geometry.stride, 1, 4, description="stride", style=style),
            "padding": widgets.Dropdown(options=[*PADDING_NAMES, *sorted({0, 1, 2, 3} | explicit)],
                                        value=geometry.padding, description="padding", style=style),
            "dilation": widgets.IntSlider(geometry.dilation, 1, 3, description="dilation", style=style),
        }
        last = geometry.steps - 1
        self.step = widgets.IntSlider(0, 0, last, description="step", style=style)
        self.play = widgets.Play(value=0, min=0, max=last, interval=700, description="slide the window")
        widgets.jslink((self.play, "value"), (self.step, "value"))
        self.message = widgets.HTML()
        self.canvas = widgets.Output()
        for control in (*self.controls.values(), self.step):
            control.observe(self.redraw, names="value")
        names = list(self.controls)
        self.widget = widgets.VBox([
            widgets.HBox([
                widgets.VBox([self.controls[name] for name in names[:3]]),
                widgets.VBox([*(self.controls[name] for name in names[3:]), self.step]),
            ]),
            widgets.HBox([self.play, self.message]),
            self.canvas,
        ])
        self.redraw()

    def geometry(self) -> ConvGeometry | None:
        """The configuration the controls describe, or ``None`` (with a red message) if it is impossible."""
        values = {name: control.value for name, control in self.controls.items()}
        try:
            return ConvGeometry(**values)
        except ValueError as error:
            self.message.value = f"<span style='color:#b2182b'>{error}</span>"
            return None

    def redraw(self, change: Any = None) -> None:
        """Redraw the figure for the current controls (called on every change)."""
        from IPython.display import display

        geometry = self.geometry()
        self.canvas.clear_output(wait=True)
        if geometry is None:
            return
        last = geometry.steps - 1
        for widget in (self.step, self.play):
            if widget.value > last:
                widget.value = last  # re-enters redraw once; harmless
            widget.max = last
        warning = geometry.warning()
        self.message.value = (
            f"<span style='color:#b2182b'>{warning}</span>" if warning
            else f"<span>{geometry.label()}: the window fits evenly.</span>"
        )
        with self.canvas:
            fig = draw_conv_arithmetic(geometry, min(self.step.value, last))
            display(fig)
            plt.close(fig)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def conv_arithmetic_explorer(
    input_size: int = 5, kernel_size: int = 3, stride: int = 1, padding: Padding = "valid", dilation: int = 1,
    max_input: int = 12,
) -> ConvArithmeticExplorer:
    """Sliders for input size, kernel, stride, padding and dilation; a play button slides the window.

    The figure is redrawn on every change; configurations where the window does not fit evenly are flagged
    in red, and impossible ones (kernel larger than the padded input) say what to change.

    Example::

        conv_arithmetic_explorer(input_size=7, kernel_size=3, stride=2)  # shows the widget in Jupyter
    """
    return ConvArithmeticExplorer(ConvGeometry(input_size, kernel_size, stride, padding, dilation), max_input)
