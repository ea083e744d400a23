"""The cost arithmetic of an Inception module, counted on real Keras layers.

GoogLeNet's Inception module runs four branches on the same input and concatenates them along the channel axis:

* ``1x1``: a 1x1 convolution;
* ``3x3``: a 1x1 "reduce" convolution (the bottleneck), then a 3x3 convolution;
* ``5x5``: a 1x1 "reduce" convolution, then a 5x5 convolution;
* ``pool``: 3x3 max pooling (stride 1), then a 1x1 "pool projection" convolution.

The *naive* module of the paper (Szegedy et al. 2014, figure 2a) has no 1x1 reduce and no pool projection: the 3x3
and 5x5 convolutions read every input channel and the pooled input is concatenated as it is. This module builds
both variants as Keras models at a given input size and counts parameters and multiply-accumulates (MACs) per
branch with :func:`workshop_utils.flops.profile`; an ipywidget shows them live while the widths change, and
:func:`cost_table` / :func:`plot_module_costs` give the same numbers as text and as a figure.

Example::

    naive, bottleneck = compare_modules(GOOGLENET_3A, (28, 28, 192))
    print(cost_table([naive, bottleneck]))
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

    from workshop_utils.flops import Profile

from workshop_utils._validate import positive_int
from workshop_utils.architectures.inception import inception_module

BRANCHES: tuple[str, ...] = ("1x1", "3x3", "5x5", "pool")
"""The four branches, in the order the module concatenates them (the paper's order)."""

# Layer-name suffix -> branch. The module names its layers f"{name}{suffix}", so per-branch sums need no guessing.
_BRANCH_OF_SUFFIX: dict[str, str] = {
    "_1x1": "1x1",
    "_3x3_reduce": "3x3",
    "_3x3": "3x3",
    "_5x5_reduce": "5x5",
    "_5x5": "5x5",
    "_pool": "pool",
    "_pool_proj": "pool",
}


@dataclass(frozen=True)
class InceptionWidths:
    """The six widths of an Inception module, named as the columns of GoogLeNet's table 1.

    Attributes:
        filters_1x1: "#1x1", filters of the 1x1 branch.
        filters_3x3_reduce: "#3x3 reduce", filters of the 1x1 bottleneck before the 3x3 convolution.
        filters_3x3: "#3x3", filters of the 3x3 convolution.
        filters_5x5_reduce: "#5x5 reduce", filters of the 1x1 bottleneck before the 5x5 convolution.
        filters_5x5: "#5x5", filters of the 5x5 convolution.
        filters_pool_proj: "pool proj", filters of the 1x1 convolution after the 3x3 max pooling.

    Example::

        InceptionWidths(64, 96, 128, 16, 32, 32).output_channels   # 256
    """

    filters_1x1: int
    filters_3x3_reduce: int
    filters_3x3: int
    filters_5x5_reduce: int
    filters_5x5: int
    filters_pool_proj: int

    def __post_init__(self) -> None:
        for item in fields(self):
            positive_int(f"{item.name} (a number of filters)", getattr(self, item.name))

    @property
    def output_channels(self) -> int:
        """Channels of the bottleneck module's output: 1x1 + 3x3 + 5x5 + pool projection."""
        return self.filters_1x1 + self.filters_3x3 + self.filters_5x5 + self.filters_pool_proj

    def as_tuple(self) -> tuple[int, ...]:
        """The widths in table-1 order, ready to unpack into ``inception_module(x, *widths.as_tuple())``."""
        return tuple(getattr(self, item.name) for item in fields(self))


GOOGLENET_3A = InceptionWidths(64, 96, 128, 16, 32, 32)
"""Inception (3a) of GoogLeNet (table 1 of the paper): input 28x28x192, output 28x28x256."""

GOOGLENET_3A_INPUT: tuple[int, int, int] = (28, 28, 192)
"""The input of Inception (3a): the deck's 28x28x192."""


def _check_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels) of positive ints, got {input_shape!r}.")
    height, width, channels = (positive_int(f"input_shape {input_shape!r}: {what}", size)
                               for what, size in zip(("height", "width", "channels"), shape))
    return height, width, channels


def module_model(
    widths: InceptionWidths = GOOGLENET_3A,
    input_shape: Sequence[int] = GOOGLENET_3A_INPUT,
    bottleneck: bool = True,
    name: str = "inception",
) -> keras.Model:
    """One Inception module as a Keras model reading ``input_shape`` (height, width, channels).

    Example::

        module_model(GOOGLENET_3A, (28, 28, 192), bottleneck=False).output.shape   # (None, 28, 28, 416)
    """
    import keras

    if not isinstance(widths, InceptionWidths):
        raise TypeError(f"widths must be an InceptionWidths, got {type(widths).__name__}.")
    inputs = keras.Input(_check_input_shape(input_shape), name=f"{name}_input")
    outputs = inception_module(inputs, *widths.as_tuple(), bottleneck=bottleneck, name=name)
    variant = "bottleneck" if bottleneck else "naive"
    return keras.Model(inputs, outputs, name=f"{name}_{variant}")


@dataclass(frozen=True)
class BranchCost:
    """Parameters and MACs of one branch (all its layers), per image.

    Example::

        BranchCost("5x5", 12_848, 12_443_648, ("inception_5x5_reduce", "inception_5x5"))
    """

    branch: str
    params: int
    macs: int
    layers: tuple[str, ...]


@dataclass(frozen=True)
class ModuleCost:
    """What one Inception module costs, branch by branch, from :func:`workshop_utils.flops.profile`.

    Attributes:
        variant: ``"naive"`` or ``"bottleneck"``.
        widths: the widths it was built with.
        input_shape: (height, width, channels).
        output_shape: (height, width, channels) of the concatenated output.
        branches: one :class:`BranchCost` per branch, in :data:`BRANCHES` order.
        layer_costs: the full per-layer :class:`~workshop_utils.flops.Profile` (called ``profile`` before; renamed
            so it cannot be confused with ``flops.profile`` or the run profile).

    Example::

        module_cost(GOOGLENET_3A).branch("5x5").macs   # 12,443,648
    """

    variant: str
    widths: InceptionWidths
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    branches: tuple[BranchCost, ...]
    layer_costs: Profile

    @property
    def params(self) -> int:
        """Parameters of the whole module (weights and biases)."""
        return self.layer_costs.params

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole module per image (bias adds, ReLU and pooling not included)."""
        return self.layer_costs.macs

    def branch(self, branch: str) -> BranchCost:
        """The cost of one branch: ``"1x1"``, ``"3x3"``, ``"5x5"`` or ``"pool"``.

        Example::

            module_cost(GOOGLENET_3A, bottleneck=False).branch("3x3").macs   # 173,408,256
        """
        for item in self.branches:
            if item.branch == branch:
                return item
        raise ValueError(f"branch must be one of {', '.join(BRANCHES)}; got {branch!r}.")

    def layer_macs(self, suffix: str) -> int:
        """MACs of one layer, named by its suffix: ``"_5x5_reduce"``, ``"_5x5"``, ...

        Example::

            module_cost(GOOGLENET_3A).layer_macs("_5x5_reduce")   # 2,408,448
        """
        if suffix not in _BRANCH_OF_SUFFIX:
            raise ValueError(f"suffix must be one of {', '.join(_BRANCH_OF_SUFFIX)}; got {suffix!r}.")
        for row in self.layer_costs.layers:
            if row.name.endswith(suffix) and _suffix_of(row.name) == suffix:
                return row.macs
        raise ValueError(f"the {self.variant} module has no layer ending in {suffix!r}.")


def _suffix_of(layer_name: str) -> str | None:
    """The longest known suffix of a layer name (``_3x3_reduce`` before ``_3x3``)."""
    matches = [suffix for suffix in _BRANCH_OF_SUFFIX if layer_name.endswith(suffix)]
    return max(matches, key=len) if matches else None


def module_cost(
    widths: InceptionWidths = GOOGLENET_3A,
    input_shape: Sequence[int] = GOOGLENET_3A_INPUT,
    bottleneck: bool = True,
) -> ModuleCost:
    """Build the module (real Keras layers) and count its parameters and MACs per branch.

    Example::

        module_cost(GOOGLENET_3A, (28, 28, 192)).macs   # 128,049,152
    """
    from workshop_utils.flops import profile

    model = module_model(widths, input_shape, bottleneck)
    cost = profile(model)
    per_branch: dict[str, list[Any]] = {branch: [] for branch in BRANCHES}
    for row in cost.layers:
        suffix = _suffix_of(row.name)
        if suffix is not None:
            per_branch[_BRANCH_OF_SUFFIX[suffix]].append(row)
    branches = tuple(
        BranchCost(branch, sum(r.params for r in rows), sum(r.macs for r in rows), tuple(r.name for r in rows))
        for branch, rows in per_branch.items()
    )
    height, width, channels = (int(d) for d in model.output.shape[1:])
    return ModuleCost(
        variant="bottleneck" if bottleneck else "naive",
        widths=widths,
        input_shape=_check_input_shape(input_shape),
        output_shape=(height, width, channels),
        branches=branches,
        layer_costs=cost,
    )


def compare_modules(
    widths: InceptionWidths = GOOGLENET_3A, input_shape: Sequence[int] = GOOGLENET_3A_INPUT
) -> tuple[ModuleCost, ModuleCost]:
    """(naive, bottleneck) costs of the module with these widths at this input size.

    Example::

        naive, bottleneck = compare_modules()
        naive.macs / bottleneck.macs   # ~2.4 for Inception (3a)
    """
    return module_cost(widths, input_shape, bottleneck=False), module_cost(widths, input_shape, bottleneck=True)


def _table_rows(costs: Sequence[ModuleCost]) -> tuple[list[str], list[list[str]]]:
    header = ["branch"]
    for cost in costs:
        header += [f"{cost.variant} params", f"{cost.variant} MACs"]
    rows = []
    for branch in BRANCHES:
        row = [branch]
        for cost in costs:
            item = cost.branch(branch)
            row += [f"{item.params:,}", f"{item.macs:,}"]
        rows.append(row)
    total = ["total"]
    for cost in costs:
        total += [f"{cost.params:,}", f"{cost.macs:,}"]
    rows.append(total)
    channels = ["output"]
    for cost in costs:
        height, width, depth = cost.output_shape
        channels += [f"{height}x{width}x{depth}", ""]
    rows.append(channels)
    return header, rows


def cost_table(costs: Sequence[ModuleCost]) -> str:
    """Per-branch parameters and MACs of one or more modules, side by side, as fixed-width text.

    With two modules, a last line gives the first's total MACs divided by the second's.

    Example::

        print(cost_table(compare_modules()))
    """
    costs = list(costs)
    if not costs or not all(isinstance(cost, ModuleCost) for cost in costs):
        raise TypeError("cost_table needs a list of ModuleCost, e.g. cost_table(compare_modules()).")
    header, rows = _table_rows(costs)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
        for r in [header, *rows]
    ]
    height, width, channels = costs[0].input_shape
    lines.insert(0, f"Inception module on a {height}x{width}x{channels} input, per image (MACs exclude bias adds)")
    lines.insert(2, "-" * len(lines[1]))
    if len(costs) == 2 and costs[1].macs:
        ratio = costs[0].macs / costs[1].macs
        lines.append(f"{costs[0].variant} / {costs[1].variant}: {ratio:.2f}x the MACs, "
                     f"{costs[0].params / costs[1].params:.2f}x the parameters")
    return "\n".join(lines)


def plot_module_costs(costs: Sequence[ModuleCost]) -> Figure:
    """Stacked horizontal bars: each module's MACs (millions) split by branch, parameters in the labels.

    Example::

        plot_module_costs(compare_modules())
    """
    import matplotlib.pyplot as plt

    costs = list(costs)
    if not costs or not all(isinstance(cost, ModuleCost) for cost in costs):
        raise TypeError("plot_module_costs needs a list of ModuleCost, e.g. plot_module_costs(compare_modules()).")
    fig, ax = plt.subplots(figsize=(7.5, 0.7 * len(costs) + 1.6), layout="constrained")
    labels = [f"{cost.variant}\n{cost.params / 1e3:,.0f}K params" for cost in costs]
    left = [0.0] * len(costs)
    for index, branch in enumerate(BRANCHES):
        values = [cost.branch(branch).macs / 1e6 for cost in costs]
        bars = ax.barh(labels, values, left=left, color=f"C{index}", label=f"{branch} branch")
        for bar, value in zip(bars, values, strict=True):
            if value >= 0.06 * max(cost.macs / 1e6 for cost in costs):
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, f"{value:.1f}M",
                        ha="center", va="center", fontsize=8, color="white")
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, cost in enumerate(costs):
        ax.text(left[y], y, f"  {cost.macs / 1e6:.1f}M", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left) * 1.15)
    ax.set_xlabel("million multiply-accumulates per image")
    height, width, channels = costs[0].input_shape
    ax.set_title(f"Inception module on {height}x{width}x{channels}: MACs per branch", fontsize=10)
    fig.legend(fontsize=8, ncol=4, loc="outside lower center")
    ax.grid(alpha=0.3, axis="x")
    return fig


def cost_html(costs: Sequence[ModuleCost]) -> str:
    """The :func:`cost_table` numbers as an HTML table with a bar per branch (what the widget shows).

    Example::

        IPython.display.HTML(cost_html(compare_modules()))
    """
    costs = list(costs)
    if not costs or not all(isinstance(cost, ModuleCost) for cost in costs):
        raise TypeError("cost_html needs a list of ModuleCost, e.g. cost_html(compare_modules()).")
    header, rows = _table_rows(costs)
    peak = max(cost.branch(b).macs for cost in costs for b in BRANCHES) or 1
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    cell = "padding:1px 8px;text-align:{align}"

    def bar(macs: int, colour: str) -> str:
        width = round(120 * macs / peak)
        return f'<div style="width:{width}px;height:9px;background:{colour}"></div>' if width else ""

    head = [f"<th style='{cell.format(align='left')}'>{html.escape(header[0])}</th>"]
    for index in range(len(costs)):
        head += [f"<th style='{cell.format(align='right')}'>{html.escape(h)}</th>"
                 for h in header[1 + 2 * index: 3 + 2 * index]]
        head.append("<th></th>")
    body = []
    for index, row in enumerate(rows):
        cells = [f"<td style='{cell.format(align='left')}'>{html.escape(row[0])}</td>"]
        for column, cost in enumerate(costs):
            cells += [f"<td style='{cell.format(align='right')}'>{html.escape(text)}</td>"
                      for text in row[1 + 2 * column: 3 + 2 * column]]
            drawn = bar(cost.branch(BRANCHES[index]).macs, colours[index]) if index < len(BRANCHES) else ""
            cells.append(f"<td style='{cell.format(align='left')};width:124px'>{drawn}</td>")
        weight = " style='font-weight:bold'" if row[0] == "total" else ""
        body.append(f"<tr{weight}>{''.join(cells)}</tr>")
    summary = ""
    if len(costs) == 2 and costs[1].macs:
        summary = (f"<p><b>{costs[0].variant} / {costs[1].variant}: {costs[0].macs / costs[1].macs:.2f}x the MACs, "
                   f"{costs[0].params / costs[1].params:.2f}x the parameters</b></p>")
    return (f"<table style='border-collapse:collapse'><thead><tr>{''.join(head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{summary}")


def inception_cost_widget(
    widths: InceptionWidths = GOOGLENET_3A, input_shape: Sequence[int] = GOOGLENET_3A_INPUT
) -> Any:
    """Sliders for the six widths (and the input channels); shows naive vs bottleneck params and MACs live.

    Every change rebuilds both modules as Keras layers and profiles them (a few milliseconds). In a static view
    (nbval, the slides) widgets do not render: show :func:`cost_table` or :func:`plot_module_costs` beside it.

    Example::

        inception_cost_widget()   # in a notebook cell
    """
    import ipywidgets as widgets

    height, width, channels = _check_input_shape(input_shape)

    def slider(value: int, description: str, maximum: int) -> Any:
        return widgets.IntSlider(value=value, min=1, max=maximum, step=1, description=description,
                                 continuous_update=False, style={"description_width": "110px"},
                                 layout=widgets.Layout(width="420px"))

    controls = {
        "channels": slider(channels, "input channels", 1024),
        "filters_1x1": slider(widths.filters_1x1, "#1x1", 512),
        "filters_3x3_reduce": slider(widths.filters_3x3_reduce, "#3x3 reduce", 512),
        "filters_3x3": slider(widths.filters_3x3, "#3x3", 512),
        "filters_5x5_reduce": slider(widths.filters_5x5_reduce, "#5x5 reduce", 256),
        "filters_5x5": slider(widths.filters_5x5, "#5x5", 256),
        "filters_pool_proj": slider(widths.filters_pool_proj, "pool proj", 256),
    }
    output = widgets.HTML()

    def refresh(_: Any = None) -> None:
        values = {key: control.value for key, control in controls.items()}
        chosen = InceptionWidths(**{key: value for key, value in values.items() if key != "channels"})
        costs = compare_modules(chosen, (height, width, values["channels"]))
        output.value = (f"<p>Input {height}x{width}x{values['channels']}; per image, MACs exclude bias adds.</p>"
                        + cost_html(costs))

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return widgets.HBox([widgets.VBox(list(controls.values())), output])
