"""The results of :func:`workshop_utils.flops.profile`: per-layer rows, the model's totals, side-by-side comparisons,
and their text and HTML tables.

Example::

    cost = flops.profile(model); print(cost.to_text(top=10)); flops.format_count(cost.macs)
"""

from __future__ import annotations

import difflib
import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Comparison", "LayerCost", "Profile", "format_count"]

# --------------------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------------------

_UNITS: tuple[tuple[float, str, int], ...] = ((1e3, "K", 1), (1e6, "M", 1), (1e9, "G", 2), (1e12, "T", 2))


def format_count(n: int | float) -> str:
    """A count in short form: one decimal for K and M, two for G and T.

    Example::

        format_count(138_357_544)   # "138.4M";  format_count(1.2e9) -> "1.20G";  format_count(12_345) -> "12.3K"
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"format_count expects a number such as 138357544, got {type(n).__name__}: {n!r}.")
    if not math.isfinite(n):
        raise ValueError(f"format_count expects a finite number, got {n!r}.")
    sign = "-" if n < 0 else ""
    value = abs(float(n))
    if round(value) < 1000:
        return f"{sign}{round(value)}"
    unit = max(i for i, (scale, _, _) in enumerate(_UNITS) if value >= scale or i == 0)
    while True:
        scale, suffix, digits = _UNITS[unit]
        text = f"{value / scale:.{digits}f}"
        if float(text) < 1000 or unit == len(_UNITS) - 1:
            return f"{sign}{text}{suffix}"
        unit += 1


def _commas(n: int) -> str:
    return f"{n:,}"


def _shape_text(shape: tuple) -> str:
    if shape and all(isinstance(s, tuple) for s in shape):
        return ", ".join(_shape_text(s) for s in shape)
    dims = ["?" if d is None else str(d) for d in shape]
    return "(" + (dims[0] + "," if len(dims) == 1 else ", ".join(dims)) + ")"


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerCost:
    """The cost of one layer (all its calls) for one image.

    Attributes:
        name: the layer's name; ``outer/inner`` for a layer inside a nested model or layer.
        layer_type: the layer's class name, e.g. ``"Conv2D"``.
        output_shape: output shape without the batch dimension (a tuple of shapes for several outputs).
        params: the layer's own weights (a layer shared by two nested models is listed in both).
        macs: multiply-accumulates of its convolutions / matrix products.
        share: ``macs`` as a fraction (0..1) of the model's total MACs.
        elementwise_ops: approximate bias / normalization / activation / pooling / merge ops, not in ``macs``.

    Example::

        profile(model).layer("conv1").macs
    """

    name: str
    layer_type: str
    output_shape: tuple
    params: int
    macs: int
    share: float
    elementwise_ops: int

    @property
    def flops(self) -> int:
        """FLOPs = 2 x multiply-accumulates."""
        return 2 * self.macs


_COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs", "Share", "Elementwise")


def _layer_cells(row: LayerCost) -> list[str]:
    return [
        row.name,
        row.layer_type,
        _shape_text(row.output_shape),
        _commas(row.params),
        _commas(row.macs),
        f"{100 * row.share:.1f}%",
        _commas(row.elementwise_ops),
    ]


def _fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(header))
    return [line(header), rule] + [line(r) for r in rows] + [rule]


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], caption: str) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        align = ' style="text-align:right"' if i in right else ' style="text-align:left"'
        return f"<{tag}{align}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (
        f"<table><caption style=\"text-align:left\">{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


@dataclass(frozen=True)
class Profile:
    """Parameters and per-image cost of a model; build one with :func:`profile`.

    ``macs`` counts multiply-accumulates; **FLOPs = 2 x multiply-accumulates** (:attr:`flops`).
    ``params`` equals ``model.count_params()``. ``elementwise_ops`` (bias, BN, activations, pooling, merges) is
    approximate and never part of ``macs``.

    Example::

        cost = profile(model); print(cost.to_text(top=10)); cost.macs_by_type()
    """

    model_name: str
    input_shape: tuple
    params: int
    macs: int
    elementwise_ops: int
    layers: tuple[LayerCost, ...] = field(repr=False)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x multiply-accumulates (one multiply and one add each)."""
        return 2 * self.macs

    def layer(self, name: str) -> LayerCost:
        """The row of the layer called ``name`` (``outer/inner`` path, or the inner name when unique).

        Example::

            profile(model).layer("conv_dw_1").macs
        """
        for row in self.layers:
            if row.name == name:
                return row
        tails = [row for row in self.layers if row.name.rsplit("/", 1)[-1] == name]
        if len(tails) == 1:
            return tails[0]
        names = [row.name for row in self.layers]
        if len(tails) > 1:
            raise KeyError(
                f"{name!r} names {len(tails)} nested layers in {self.model_name!r}; "
                f"use the full path: {', '.join(row.name for row in tails)}."
            )
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        inner = difflib.get_close_matches(name, [n.rsplit("/", 1)[-1] for n in names], n=5)
        close += [n for n in inner if n not in close]
        if close:
            hint = f" Close names: {', '.join(close)}."
        else:
            hint = f" It has {len(names)} layers, e.g. {', '.join(names[:5])}."
        raise KeyError(f"No layer named {name!r} in {self.model_name!r}.{hint}")

    def macs_by_type(self) -> dict[str, int]:
        """Total MACs per layer class, largest first.

        Example::

            profile(mobilenet).macs_by_type()   # {"Conv2D": ..., "DepthwiseConv2D": ...}
        """
        totals: dict[str, int] = {}
        for row in self.layers:
            totals[row.layer_type] = totals.get(row.layer_type, 0) + row.macs
        return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))

    def _selected(self, top: int | None) -> list[LayerCost]:
        if top is None:
            return list(self.layers)
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive int or None, got {top!r}.")
        return sorted(self.layers, key=lambda row: row.macs, reverse=True)[:top]

    def _totals(self) -> list[str]:
        return [
            f"Params:          {_commas(self.params)} ({format_count(self.params)})",
            f"MACs:            {_commas(self.macs)} ({format_count(self.macs)}) multiply-accumulates per image",
            f"FLOPs:           {_commas(self.flops)} ({format_count(self.flops)}) = 2 x MACs",
            f"Elementwise ops: {_commas(self.elementwise_ops)} ({format_count(self.elementwise_ops)}) "
            "bias/BN/activation/pooling/merge, approximate, not in MACs",
        ]

    def _title(self, top: int | None, shown: int) -> str:
        which = f", the {shown} of {len(self.layers)} layers with most MACs" if top is not None else ""
        return f"{self.model_name}: input {_shape_text(self.input_shape)}, per image{which}"

    def to_text(self, top: int | None = None) -> str:
        """A fixed-width table of the layers (all, in model order; or the ``top`` by MACs) and the totals.

        Example::

            print(profile(model).to_text(top=10))
        """
        rows = self._selected(top)
        lines = [self._title(top, len(rows))]
        lines += _fixed_width(_COLUMNS, [_layer_cells(r) for r in rows], right={3, 4, 5, 6})
        return "\n".join(lines + self._totals())

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The :meth:`to_text` table as HTML, for notebooks."""
        rows = self._selected(None)
        table = _html_table(_COLUMNS, [_layer_cells(r) for r in rows], {3, 4, 5, 6}, html.escape(self._title(None, 0)))
        totals = "<br>".join(html.escape(line) for line in self._totals())
        return f"<div>{table}<p style=\"font-family:monospace\">{totals}</p></div>"


@dataclass(frozen=True)
class Comparison:
    """Models side by side; ``ratio`` is each row's MACs divided by the first row's. Build with :func:`compare`.

    Example::

        compare({"224": mobilenet_224, "128": mobilenet_128}).rows[1]["ratio"]   # ~0.33
    """

    profiles: tuple[Profile, ...]
    names: tuple[str, ...]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per model: ``name``, ``params``, ``macs``, ``flops``, ``ratio`` (MACs / first model's MACs)."""
        base = self.profiles[0].macs if self.profiles else 0
        return [
            {
                "name": name,
                "params": p.params,
                "macs": p.macs,
                "flops": p.flops,
                "ratio": (p.macs / base) if base else float("nan"),
            }
            for name, p in zip(self.names, self.profiles)
        ]

    def _cells(self) -> list[list[str]]:
        return [
            [
                r["name"],
                _commas(r["params"]),
                format_count(r["params"]),
                _commas(r["macs"]),
                format_count(r["macs"]),
                format_count(r["flops"]),
                f"{r['ratio']:.3f}x",
            ]
            for r in self.rows
        ]

    _HEADER = ("Model", "Params", "", "MACs", "", "FLOPs", "MACs vs first")

    def to_text(self) -> str:
        """A fixed-width table, one model a line.

        Example::

            print(compare([vgg, resnet]).to_text())
        """
        lines = _fixed_width(self._HEADER, self._cells(), right={1, 2, 3, 4, 5, 6})
        return "\n".join(lines + ["FLOPs = 2 x MACs (multiply-accumulates), per image."])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The :meth:`to_text` table as HTML, for notebooks."""
        return _html_table(
            self._HEADER, self._cells(), {1, 2, 3, 4, 5, 6}, "FLOPs = 2 x MACs (multiply-accumulates), per image"
        )


