"""Tables of result rows: aligned plain text for the terminal, CSV for files."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["format_cell", "format_table", "format_csv"]


def format_cell(value: Any, missing: str = "", digits: int = 4) -> str:
    """`missing` for missing values, `digits` significant digits for floats, ``str``
    otherwise."""
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *,
                 digits: int = 4) -> str:  # fmt: skip
    """Right-aligned columns with a header line (no trailing newline); floats with `digits`
    significant digits.

    >>> print(format_table([{"a": 1, "b": 0.123456}], ["a", "b"]))
    a       b
    1  0.1235
    """
    cells = [[format_cell(r.get(c), digits=digits) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def format_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text with a header; missing values are empty cells, floats in full precision."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if r.get(c) is None else r.get(c) for c in columns] for r in rows])
    return buf.getvalue()
