"""Stacked small kernels against one big kernel: what "three 3x3 convs see as far as one 7x7" buys.

* :func:`stacked_kernels` -- ``n`` stacked ``k x k`` convolutions (stride 1) against the single kernel that sees
  as far: receptive field ``n * (k - 1) + 1``, weights ``n * k^2 * C^2`` against ``(n * (k - 1) + 1)^2 * C^2``,
  multiply-accumulates at a given feature-map size, and ``n`` non-linearities against one. Three 3x3 convs
  (27 C^2) see as far as one 7x7 (49 C^2).

* :func:`stacking_widget` -- sliders for the layer count, kernel size, channels and feature-map size that show
  those numbers live; :func:`stacking_table` and :func:`plot_stacking` are its static renderings (for slides,
  nbval and readers without a live kernel).

The receptive field of any model, layer by layer, is :mod:`workshop_utils.receptive_field`'s job.

Example::

    from workshop_utils.kernel_stacking import stacked_kernels
    print(stacked_kernels(3, kernel=3, channels=256).to_text())   # 27 C^2 weights against 49 C^2 for one 7x7
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workshop_utils._validate import positive_int

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["StackCost", "plot_stacking", "stacked_kernels", "stacking_table", "stacking_widget"]


@dataclass(frozen=True)
class StackCost:
    """``layers`` stacked ``kernel x kernel`` convolutions (stride 1, ``channels`` in and out) vs the one big
    kernel with the same receptive field.

    Attributes:
        layers, kernel, channels, size: the question asked (``size`` is the feature map's side, for MACs).
        bias: whether biases are counted in the parameters.
        receptive_field: ``layers * (kernel - 1) + 1``: the big kernel's side.
        params: weights of the stack, ``layers * kernel^2 * channels^2`` (+ ``layers * channels`` biases).
        single_params: weights of one ``receptive_field x receptive_field`` conv (+ ``channels`` biases).
        macs: multiply-accumulates of the stack on a ``size x size`` map ('same' padding).
        single_macs: the same for the single big kernel.
        nonlinearities: ReLUs in the stack (one per conv) vs 1 for the big kernel.

    Example::

        stacked_kernels(3, 3, 256).params / stacked_kernels(3, 3, 256).single_params   # 27/49 = 0.55
    """

    layers: int
    kernel: int
    channels: int
    size: int
    bias: bool
    receptive_field: int
    params: int
    single_params: int
    macs: int
    single_macs: int
    nonlinearities: int

    @property
    def saving(self) -> float:
        """Fraction of the big kernel's weights the stack saves (negative: the stack costs more)."""
        return 1.0 - self.params / self.single_params

    def to_text(self) -> str:
        """A few lines comparing the stack with the single kernel.

        Example::

            print(stacked_kernels(2, 3, 64).to_text())
        """
        n, k, c, r = self.layers, self.kernel, self.channels, self.receptive_field
        stack = f"{n} x conv {k}x{k}" if n > 1 else f"1 x conv {k}x{k}"
        bias = " (with biases)" if self.bias else ""
        lines = [
            f"{stack}, {c} -> {c} channels, on a {self.size}x{self.size} feature map",
            f"  receptive field    : {r}x{r}  (= {n} x ({k} - 1) + 1)",
            f"  {'':18} {'stack':>16} {'one ' + f'{r}x{r}' + ' conv':>16}",
            f"  {'weights' + bias:18} {self.params:>16,} {self.single_params:>16,}",
            f"  {'weights / C^2':18} {n * k * k:>16} {r * r:>16}",
            f"  {'MACs per image':18} {self.macs:>16,} {self.single_macs:>16,}",
            f"  {'non-linearities':18} {self.nonlinearities:>16} {1:>16}",
            f"  the stack saves {self.saving:.0%} of the weights and multiply-accumulates"
            if self.saving >= 0 else f"  the stack costs {-self.saving:.0%} more weights",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def stacked_kernels(layers: int, kernel: int = 3, channels: int = 64, size: int = 56, bias: bool = False) -> StackCost:
    """The cost of ``layers`` stacked ``kernel x kernel`` convs against one conv with the same receptive field.

    Both keep ``channels`` channels in and out, stride 1 and 'same' padding on a ``size x size`` map, so the
    multiply-accumulates are ``size^2`` times the weights (biases excluded).

    Example::

        stacked_kernels(3, kernel=3, channels=256).params   # 1,769,472 = 27 x 256^2, vs 3,211,264 for one 7x7
    """
    n = positive_int("layers", layers)
    k = positive_int("kernel", kernel)
    c = positive_int("channels", channels)
    s = positive_int("size", size)
    field = n * (k - 1) + 1
    weights, single_weights = n * k * k * c * c, field * field * c * c
    return StackCost(
        layers=n, kernel=k, channels=c, size=s, bias=bool(bias), receptive_field=field,
        params=weights + (n * c if bias else 0), single_params=single_weights + (c if bias else 0),
        macs=weights * s * s, single_macs=single_weights * s * s, nonlinearities=n,
    )


def stacking_table(kernel: int = 3, max_layers: int = 5, channels: int = 64, size: int = 56) -> str:
    """A table: 1..max_layers stacked ``kernel x kernel`` convs vs the one big kernel, in weights and MACs.

    The static rendering of :func:`stacking_widget`.

    Example::

        print(stacking_table(kernel=3, max_layers=5, channels=256))
    """
    max_layers = positive_int("max_layers", max_layers)
    header = ("stack", "field", "weights", "/C^2", "one big kernel", "/C^2", "saved", "MACs (stack)", "ReLUs")
    body = []
    for n in range(1, max_layers + 1):
        cost = stacked_kernels(n, kernel, channels, size)
        r = cost.receptive_field
        body.append((
            f"{n} x {kernel}x{kernel}", f"{r}x{r}", f"{cost.params:,}", f"{n * kernel * kernel}",
            f"{cost.single_params:,} ({r}x{r})", f"{r * r}", f"{cost.saving:.0%}", f"{cost.macs:,}", f"{n} vs 1",
        ))
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    title = f"{kernel}x{kernel} convs stacked, {channels} -> {channels} channels, {size}x{size} map, no biases"
    return "\n".join([title, line(header), "-" * len(line(header))] + [line(r) for r in body])


def plot_stacking(
    kernel: int = 3, max_layers: int = 5, channels: int = 64, highlight: int | None = None, ax: Any = None
) -> Figure:
    """Weights (in units of C^2) against receptive field: stacked ``kernel x kernel`` convs vs one big kernel.

    The stack grows linearly (``n k^2``), the single kernel quadratically (``(n (k-1) + 1)^2``). ``highlight``
    marks one layer count (the widget's choice).

    Example::

        plot_stacking(kernel=3, max_layers=6, highlight=3)
    """
    import matplotlib.pyplot as plt

    max_layers = positive_int("max_layers", max_layers)
    costs = [stacked_kernels(n, kernel, channels) for n in range(1, max_layers + 1)]
    fields = [c.receptive_field for c in costs]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.6))
    else:
        fig = ax.figure
    per_c2 = channels * channels
    ax.plot(fields, [c.params / per_c2 for c in costs], "o-", color="C0",
            label=f"stack of {kernel}x{kernel} convs (n x {kernel * kernel})")
    ax.plot(fields, [c.single_params / per_c2 for c in costs], "s--", color="C3",
            label="one big kernel (field^2)")
    for cost in costs:
        ax.annotate(f"{cost.layers}", (cost.receptive_field, cost.params / per_c2), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize=7, color="C0")
    if highlight is not None and 1 <= highlight <= max_layers:
        chosen = costs[highlight - 1]
        ax.scatter([chosen.receptive_field] * 2, [chosen.params / per_c2, chosen.single_params / per_c2],
                   s=140, facecolors="none", edgecolors="black", linewidths=1.5, zorder=3)
    ax.set_xlabel("receptive field (pixels, one side)")
    ax.set_ylabel("weights per C^2 (C = channels in = out)")
    ax.set_title(f"Same receptive field, fewer weights: {kernel}x{kernel} stacks (numbers: layers)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def stacking_widget(
    max_layers: int = 6, kernels: Sequence[int] = (1, 3, 5, 7, 11), channels: int = 64, size: int = 56
) -> Any:
    """Sliders for layer count, kernel size, channels and map size; shows receptive field, weights and MACs.

    ``channels`` and ``size`` start the sliders at the nearest of 16..512 channels and 7..224 pixels. Needs
    ``ipywidgets`` and a live kernel; :func:`stacking_table` and :func:`plot_stacking` show the same numbers
    statically.

    Example::

        stacking_widget()   # in a notebook cell
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    max_layers = positive_int("max_layers", max_layers)
    if not kernels or any(positive_int("kernel", k) != k for k in kernels):
        raise ValueError(f"kernels must be a non-empty list of positive ints, got {kernels!r}.")
    start_kernel = 3 if 3 in kernels else kernels[0]
    layer_slider = widgets.IntSlider(value=min(3, max_layers), min=1, max=max_layers, description="layers")
    kernel_buttons = widgets.ToggleButtons(options=[(f"{k}x{k}", k) for k in kernels], value=start_kernel,
                                           description="kernel")
    channel_options, size_options = (16, 32, 64, 128, 256, 512), (7, 14, 28, 56, 112, 224)

    def nearest(options: Sequence[int], value: int) -> int:
        return min(options, key=lambda option: abs(option - value))

    channel_slider = widgets.SelectionSlider(options=channel_options, description="channels",
                                             value=nearest(channel_options, positive_int("channels", channels)))
    size_slider = widgets.SelectionSlider(options=size_options, description="map size",
                                          value=nearest(size_options, positive_int("size", size)))

    def show(layers: int, kernel: int, channels: int, size: int) -> None:
        print(stacked_kernels(layers, kernel, channels, size).to_text())
        fig = plot_stacking(kernel=kernel, max_layers=max_layers, channels=channels, highlight=layers)
        fig.set_size_inches(5.5, 3.2)
        plt.show()
        plt.close(fig)  # shown already; without a notebook backend it would pile up

    output = widgets.interactive_output(
        show, {"layers": layer_slider, "kernel": kernel_buttons, "channels": channel_slider, "size": size_slider}
    )
    return widgets.VBox([widgets.HBox([layer_slider, channel_slider, size_slider]), kernel_buttons, output])
