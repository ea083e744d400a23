"""Plain-text tables for notebook output: one formatter, so no cell hand-aligns f-strings.

A table is a header and rows of cells. Numbers are formatted by a per-column format spec (``","`` for counts,
``".1%"`` for accuracies, ``".2f"``...), text is left-aligned and numbers right-aligned, and every column is as
wide as its widest cell. Results of training runs have their own table in
:func:`workshop_utils.training.results_table`, which uses this one.

Example::

    from workshop_utils.tables import text_table

    print(text_table(["model", "params", "val."], [["ResNet-20", 272_474, 0.903], ["plain-20", 270_410, 0.808]],
                     formats={"params": ",", "val.": ".1%"}))
    # model       params   val.
    # ---------  -------  -----
    # ResNet-20  272,474  90.3%
    # plain-20   270,410  80.8%
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any


def _cell(value: Any, spec: str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if spec is not None:
        return format(value, spec)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:.4g}"
    return str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]], formats: Mapping[str, str] | None = None,
               footnote: str | None = None) -> str:
    """``rows`` under ``header`` as aligned plain text, one line a row, with a rule under the header.

    Args:
        header: the column titles.
        rows: one sequence of cells a row, as long as ``header``; ``None`` prints as "-".
        formats: format specs by column title (``{"params": ","}``); a column without one prints ints with
            thousands separators, other numbers with 4 significant digits, text as it is.
        footnote: a line printed under the table (what a ``*`` means, the source of quoted figures).
    """
    formats = dict(formats or {})
    unknown = set(formats) - set(header)
    if unknown:
        raise ValueError(f"formats names columns that are not in the header: {sorted(unknown)}; "
                         f"the header is {list(header)}.")
    cells: list[list[str]] = []
    numeric = [True] * len(header)
    for index, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {index} has {len(row)} cells, the header {len(header)}: give one cell a column "
                             f"(None for an empty one).")
        cells.append([_cell(value, formats.get(title)) for title, value in zip(header, row)])
        for column, value in enumerate(row):
            if isinstance(value, str) or isinstance(value, bool):
                numeric[column] = False
    widths = [max([len(title)] + [len(row[column]) for row in cells]) for column, title in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if numeric[column] else value.ljust(width)
                         for column, (value, width) in enumerate(zip(values, widths))).rstrip()

    lines = [line(list(header)), "  ".join("-" * width for width in widths)] + [line(row) for row in cells]
    if footnote:
        lines.append(footnote)
    return "\n".join(lines)
