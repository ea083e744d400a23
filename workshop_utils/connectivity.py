"""Channel connectivity of conv layers: which input channels each output channel reads.

A conv layer mixes space (the k×k window) and channels. This module looks only at the channels: a standard conv
connects every output channel to every input channel, a depthwise conv connects output channel ``c`` to input
channel ``c`` alone, a pointwise (1×1) conv is standard again, and a grouped conv with ``g`` groups is
block-diagonal. Stacking layers composes the matrices (a boolean matrix product), which is how notebook 04 shows
that depthwise + pointwise reaches every channel again, and how notebook 05 shows that stacked grouped convs never
do until a channel shuffle (a permutation matrix, :func:`shuffle_permutation`) is put between them.

Matrices are ``bool`` arrays of shape ``(out_channels, in_channels)``: row ``o`` marks the inputs that output
``o`` reads, the same orientation as a weight matrix ``W`` in ``y = W x``.

Example::

    from workshop_utils.connectivity import conv_connectivity, reachability, plot_connectivity
    dw, pw = conv_connectivity(8, 8, "depthwise"), conv_connectivity(8, 16, "pointwise")
    plot_connectivity({"depthwise": dw, "pointwise": pw, "both": reachability(dw, pw)})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workshop_utils._validate import choice, positive_int

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KINDS: tuple[str, ...] = ("standard", "depthwise", "pointwise", "grouped")


def conv_connectivity(in_channels: int, out_channels: int, kind: str = "standard", groups: int = 1) -> np.ndarray:
    """Which input channels each output channel of one conv layer reads, as a bool ``(out, in)`` matrix.

    Args:
        in_channels: channels going in.
        out_channels: channels coming out. For ``"depthwise"`` it must be a multiple of ``in_channels`` (the
            multiple is Keras' ``depth_multiplier``; output ``o`` reads input ``o // depth_multiplier``, the order
            ``DepthwiseConv2D`` uses).
        kind: ``"standard"`` (every output reads every input; a k×k ``Conv2D``), ``"pointwise"`` (the same channel
            pattern, for a 1×1 ``Conv2D``), ``"depthwise"`` (one input per output) or ``"grouped"``
            (``Conv2D(groups=groups)``: block-diagonal).
        groups: the number of groups, for ``kind="grouped"`` only; both channel counts must divide by it.

    Example::

        conv_connectivity(6, 6, "grouped", groups=3).sum(axis=1)   # array([2, 2, 2, 2, 2, 2]): 2 inputs each
    """
    in_channels = positive_int("in_channels", in_channels)
    out_channels = positive_int("out_channels", out_channels)
    groups = positive_int("groups", groups)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}.")
    if groups != 1 and kind != "grouped":
        raise ValueError(f"groups={groups} only applies to kind='grouped'; a {kind} conv has no groups argument.")
    if kind in ("standard", "pointwise"):
        return np.ones((out_channels, in_channels), dtype=bool)
    if kind == "depthwise":
        if out_channels % in_channels:
            raise ValueError(
                f"a depthwise conv has out_channels = in_channels × depth_multiplier; {out_channels} is not a "
                f"multiple of in_channels={in_channels}. Use out_channels={in_channels} (depth_multiplier=1)."
            )
        multiplier = out_channels // in_channels
        return np.arange(out_channels)[:, None] // multiplier == np.arange(in_channels)[None, :]
    for what, count in (("in_channels", in_channels), ("out_channels", out_channels)):
        if count % groups:
            raise ValueError(
                f"{what}={count} is not divisible by groups={groups}: Keras' Conv2D(groups=g) needs both channel "
                f"counts to be multiples of g. Choose groups from the common divisors of {in_channels} and "
                f"{out_channels}."
            )
    out_group = np.arange(out_channels) // (out_channels // groups)
    in_group = np.arange(in_channels) // (in_channels // groups)
    return out_group[:, None] == in_group[None, :]


def shuffle_permutation(channels: int, groups: int) -> np.ndarray:
    """The channel shuffle of ShuffleNet as a bool permutation matrix ``(channels, channels)``.

    Reshape the channels to ``(groups, channels // groups)``, transpose, flatten: output channel ``o`` is input
    channel ``perm[o]``. Usable as a layer in :func:`reachability`.

    Example::

        shuffle_permutation(6, 2).argmax(axis=1)   # array([0, 3, 1, 4, 2, 5])
    """
    channels = positive_int("channels", channels)
    groups = positive_int("groups", groups)
    if channels % groups:
        raise ValueError(f"channels={channels} is not divisible by groups={groups}; a channel shuffle needs both.")
    order = np.arange(channels).reshape(groups, channels // groups).T.reshape(-1)
    matrix = np.zeros((channels, channels), dtype=bool)
    matrix[np.arange(channels), order] = True
    return matrix


def _as_matrix(index: int, matrix: object) -> np.ndarray:
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise ValueError(f"layer {index} is not a 2-D (out, in) connectivity matrix: its shape is {array.shape}.")
    return array != 0


def reachability(*matrices: np.ndarray) -> np.ndarray:
    """Which network inputs each final output channel depends on, through a stack of layers (first layer first).

    Each argument is an ``(out, in)`` matrix from :func:`conv_connectivity`, :func:`shuffle_permutation` or any
    0/1 or bool array (a permutation matrix is a layer like any other). The result is the boolean product
    ``M_n … M_2 M_1``, shape ``(out of the last, in of the first)``.

    Example::

        dw, pw = conv_connectivity(4, 4, "depthwise"), conv_connectivity(4, 8, "pointwise")
        reachability(dw, pw).all()   # True: depthwise + pointwise reads every input channel again
    """
    if not matrices:
        raise ValueError("reachability needs at least one connectivity matrix (first layer first).")
    result = _as_matrix(0, matrices[0])
    for index, matrix in enumerate(matrices[1:], start=1):
        layer = _as_matrix(index, matrix)
        if layer.shape[1] != result.shape[0]:
            raise ValueError(
                f"layer {index} reads {layer.shape[1]} channels but layer {index - 1} gives {result.shape[0]}: "
                f"each matrix is (out, in), and the layers go first to last."
            )
        # An integer product counts the paths; any path at all means "reachable".
        result = (layer.astype(np.int64) @ result.astype(np.int64)) > 0
    return result


def plot_connectivity(panels: Mapping[str, np.ndarray], cols: int | None = None, cell: float = 0.22) -> Figure:
    """Draw connectivity matrices side by side: a filled square where an output channel reads an input channel.

    Args:
        panels: ``{title: (out, in) matrix}``, e.g. from :func:`conv_connectivity` or :func:`reachability`.
        cols: panels per row (default: all in one row up to 4).
        cell: size of one matrix cell in inches (panels of different sizes keep the same cell size).

    Example::

        plot_connectivity({"standard": conv_connectivity(6, 6), "depthwise": conv_connectivity(6, 6, "depthwise")})
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("plot_connectivity needs a non-empty mapping {title: (out, in) matrix}.")
    matrices = {str(title): _as_matrix(index, m) for index, (title, m) in enumerate(panels.items())}
    count = len(matrices)
    cols = min(count, 4) if cols is None else positive_int("cols", cols)
    rows = -(-count // cols)
    widest = max(m.shape[1] for m in matrices.values())
    tallest = max(m.shape[0] for m in matrices.values())
    width = max(2.4, widest * cell + 0.9)
    height = max(2.0, tallest * cell + 1.0)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    colours = ListedColormap(["#f4f4f4", "#1f77b4"])
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for ax, (title, matrix) in zip(axes.flat, matrices.items()):
        out_channels, in_channels = matrix.shape
        ax.imshow(matrix, cmap=colours, vmin=0, vmax=1, aspect="equal", interpolation="nearest")
        # Thin white grid lines so each (output, input) pair reads as its own cell.
        ax.set_xticks(np.arange(-0.5, in_channels, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, out_channels, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
        ax.tick_params(which="minor", length=0)
        ax.set_xticks(_ticks(in_channels))
        ax.set_yticks(_ticks(out_channels))
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel")
        ax.set_title(f"{title}\n{int(matrix.sum()):,} of {matrix.size:,} pairs", fontsize=10)
    fig.tight_layout()
    return fig


def _ticks(count: int) -> Sequence[int]:
    step = max(1, -(-count // 8))
    return list(range(0, count, step))


def stacked_groups(channels: int, groups: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Reachability of ``depth`` stacked grouped convs (``channels`` in and out), without and with a shuffle.

    Returns ``(plain, shuffled)``: the ``(out, in)`` matrices of the stack as it is, and with a channel shuffle
    between every two grouped convs (ShuffleNet's fix). With ``groups`` groups of ``n`` channels, one shuffle
    lets every output read ``min(n, groups)`` groups.

    Example::

        plain, shuffled = stacked_groups(12, 3, depth=2)
        plain.sum(axis=1)[0], shuffled.sum(axis=1)[0]   # 4, 12
    """
    depth = positive_int("depth", depth)
    grouped = conv_connectivity(channels, channels, "grouped", groups=groups)
    shuffle = shuffle_permutation(channels, groups)
    plain = reachability(*[grouped] * depth)
    shuffled = reachability(grouped, *[m for _ in range(depth - 1) for m in (shuffle, grouped)])
    return plain, shuffled


def plot_stacked_groups(groups: int = 3, depth: int = 2, channels: int = 12) -> Figure:
    """:func:`plot_connectivity` of :func:`stacked_groups`: the stack without and with a shuffle, side by side.

    Example::

        plot_stacked_groups(groups=4, depth=3)
    """
    plain, shuffled = stacked_groups(channels, groups, depth)
    return plot_connectivity({f"{depth} grouped convs, g={groups}": plain, "with a shuffle between them": shuffled})


def stacked_groups_widget(channels: int = 12, groups: int = 3, depth: int = 2, max_depth: int = 4) -> Any:
    """A groups dropdown (the divisors of ``channels``) and a depth slider that redraw :func:`plot_stacked_groups`.

    Needs ``ipywidgets`` and a live kernel; in a static view show it with
    ``display.show_widget(widget, plot_stacked_groups(groups, depth, channels))``.

    Example::

        stacked_groups_widget(channels=12)   # in a notebook cell
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    channels = positive_int("channels", channels)
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    group_menu = widgets.Dropdown(options=divisors, value=choice("groups", groups, divisors), description="groups")
    max_depth = positive_int("max_depth", max_depth)
    depth_slider = widgets.IntSlider(value=positive_int("depth", depth), min=1, max=max_depth, description="depth")

    def show(groups: int, depth: int) -> None:
        figure = plot_stacked_groups(groups, depth, channels)
        plt.show()
        plt.close(figure)  # shown already; without a notebook backend it would pile up

    panel = widgets.interactive_output(show, {"groups": group_menu, "depth": depth_slider})
    return widgets.VBox([widgets.HBox([group_menu, depth_slider]), panel])
