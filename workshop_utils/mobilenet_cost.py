"""Where MobileNet's multiply-adds live: the width multiplier alpha and the resolution, counted layer by layer.

MobileNet v1 (Howard et al. 2017) has two knobs: the width multiplier ``alpha`` thins every layer (costs fall by
about alpha^2) and the input resolution (``rho x 224``) shrinks every feature map (MACs fall by rho^2, parameters
do not move). This module counts the reference :func:`workshop_utils.architectures.mobilenet.mobilenet` with
:func:`workshop_utils.flops.profile` and shows it three ways:

* :func:`paper_table` -- the counts beside the paper's tables 6 and 7 (quoted), with and without the classifier;
* :func:`plot_mobilenet_cost` -- every conv layer's MACs and parameters as bars, coloured by kind;
* :func:`mobilenet_cost_widget` -- alpha and resolution sliders that redraw that figure.

Example::

    from workshop_utils import mobilenet_cost
    print(mobilenet_cost.paper_table())
    mobilenet_cost.plot_mobilenet_cost(alpha=0.5, size=160)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from workshop_utils._validate import choice
from workshop_utils.tables import text_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from workshop_utils.flops import Profile

__all__ = [
    "ALPHAS",
    "PAPER_TABLE_6",
    "PAPER_TABLE_7",
    "SIZES",
    "model_cost",
    "mobilenet_cost_widget",
    "paper_table",
    "plot_mobilenet_cost",
]

#: Quoted from Howard et al. 2017, table 6: width multiplier alpha -> (million mult-adds, million parameters) at 224.
PAPER_TABLE_6: dict[float, tuple[int, float]] = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
#: Quoted from Howard et al. 2017, table 7: input size -> (million mult-adds, million parameters) at alpha = 1.
PAPER_TABLE_7: dict[int, tuple[int, float]] = {224: (569, 4.2), 192: (418, 4.2), 160: (290, 4.2), 128: (186, 4.2)}
#: The widths and input sizes the widget offers (Keras' MobileNet accepts these alphas; 96 is below the paper's).
ALPHAS: tuple[float, ...] = (0.25, 0.35, 0.5, 0.75, 1.0)
SIZES: tuple[int, ...] = (96, 128, 160, 192, 224)

_KIND_COLOURS = {"Conv2D": "C2", "DepthwiseConv2D": "C1", "pointwise": "C0", "classifier": "C3"}
_KIND_LABELS = ("full 3x3 conv", "depthwise 3x3", "pointwise 1x1", "classifier")


@functools.cache
def model_cost(alpha: float = 1.0, size: int = 224) -> Profile:
    """:func:`workshop_utils.flops.profile` of the reference MobileNet at width ``alpha`` and ``size x size`` input.

    Cached: the widget and the tables ask for the same few models again.

    Example::

        model_cost(1.0, 224).macs   # 568,740,352
    """
    from workshop_utils import flops
    from workshop_utils.architectures.mobilenet import mobilenet

    return flops.profile(mobilenet(alpha, input_size=size))


def paper_table() -> str:
    """The counted MACs and parameters of the models in the paper's tables 6 and 7, beside the quoted figures.

    "no head" leaves out the classifier (the 1x1 conv ``conv_preds``); the last line says how many MAC figures
    equal the paper's after rounding, with the classifier and without it (of 7 models: 1.0 MobileNet-224 is in
    both tables).

    Example::

        print(paper_table())
    """
    models = [(f"{alpha} MobileNet-224", alpha, 224, quoted) for alpha, quoted in PAPER_TABLE_6.items()]
    models += [(f"1.0 MobileNet-{size}", 1.0, size, quoted) for size, quoted in PAPER_TABLE_7.items()]
    rows, matches = [], {}  # matches by model: 1.0 MobileNet-224 stands in both tables but is one model
    for label, alpha, size, (paper_macs, paper_params) in models:
        cost = model_cost(alpha, size)
        head = cost.layer("conv_preds")
        macs, params = cost.macs / 1e6, cost.params / 1e6
        rows.append([label, macs, paper_macs, macs - head.macs / 1e6, params, paper_params, params - head.params / 1e6])
        matches[label] = (round(macs) == paper_macs, round(macs - head.macs / 1e6) == paper_macs)
    with_head, without_head = (sum(match[i] for match in matches.values()) for i in (0, 1))
    table = text_table(["", "M MACs", "paper", "MACs no head", "M params", "paper params", "params no head"], rows,
                       formats={"M MACs": ".1f", "MACs no head": ".1f", "M params": ".2f", "params no head": ".2f"})
    return (f"{table}\nMAC figures equal to the paper's after rounding, of {len(matches)} models: {with_head} with the "
            f"classifier, {without_head} without it")


def plot_mobilenet_cost(alpha: float = 1.0, size: int = 224) -> Figure:
    """Bars of every conv layer's MACs and parameters at width ``alpha`` and input ``size``, coloured by kind.

    The title gives the totals and the share of the MACs in the pointwise (1x1) convs (the paper's table 2:
    94.86% at alpha = 1, quoted).

    Example::

        plot_mobilenet_cost(0.25, 224)   # the 1x1 share drops to about 82%
    """
    import matplotlib.pyplot as plt

    cost = model_cost(alpha, size)   # architectures.mobilenet checks alpha and size
    rows = [r for r in cost.layers if r.params and r.layer_type in ("Conv2D", "DepthwiseConv2D")]
    kinds = ["classifier" if r.name == "conv_preds" else "pointwise" if "_pw_" in r.name else r.layer_type
             for r in rows]
    pointwise_share = sum(r.macs for r, kind in zip(rows, kinds) if kind == "pointwise") / cost.macs
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.1))
    for axis, what in zip(axes, ("macs", "params")):
        axis.bar(range(len(rows)), [getattr(r, what) / 1e6 for r in rows], color=[_KIND_COLOURS[k] for k in kinds])
        axis.set(xlabel="layer (conv1, then depthwise / pointwise pairs, classifier last)",
                 ylabel=f"million {'MACs' if what == 'macs' else 'parameters'}")
        axis.grid(alpha=0.3, axis="y")
    axes[0].legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in _KIND_COLOURS.values()],
                   labels=list(_KIND_LABELS), fontsize=8)
    figure.suptitle(f"alpha={alpha}, {size}x{size}: {cost.params / 1e6:.2f}M parameters, {cost.macs / 1e6:.1f}M MACs; "
                    f"1x1 convs {pointwise_share:.1%} of the MACs", fontsize=10)
    figure.tight_layout()
    return figure


def mobilenet_cost_widget(alpha: float = 1.0, size: int = 224) -> Any:
    """Sliders for alpha and the input size (rho x 224) that redraw :func:`plot_mobilenet_cost`.

    Needs ``ipywidgets`` and a live kernel; in a static view show it with
    ``display.show_widget(widget, plot_mobilenet_cost(alpha, size))``.

    Example::

        mobilenet_cost_widget()   # in a notebook cell
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    alpha_slider = widgets.SelectionSlider(options=list(ALPHAS), value=choice("alpha", alpha, ALPHAS),
                                           description="α (width)")
    size_slider = widgets.SelectionSlider(options=[(f"{s} (ρ={s / 224:.2f})", s) for s in SIZES],
                                          value=choice("size", size, SIZES), description="input")

    def show(alpha: float, size: int) -> None:
        figure = plot_mobilenet_cost(alpha, size)
        plt.show()
        plt.close(figure)  # shown already; without a notebook backend it would pile up

    panel = widgets.interactive_output(show, {"alpha": alpha_slider, "size": size_slider})
    return widgets.VBox([widgets.HBox([alpha_slider, size_slider]), panel])
