"""One look for every rdpc figure: paper-column sizes, 8 pt fonts, PNG + PDF, atomic saves.

Use :func:`paper_style` as a context manager around figure construction and
:func:`save_figure` to write it.  Sizes are in inches: a two-column paper's column is
about 3.4 in wide, its text block about 7 in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402

from rdpc_common.atomic import atomic_write  # noqa: E402

__all__ = [
    "COLUMN_WIDTH_IN",
    "TEXT_WIDTH_IN",
    "FORMATS",
    "CMAP",
    "paper_style",
    "save_figure",
]

COLUMN_WIDTH_IN = 3.4
TEXT_WIDTH_IN = 7.0
FORMATS = ("png", "pdf")
CMAP = "viridis"

_RC: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 9,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "axes.grid": False,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF, accepted by publishers
    "ps.fonttype": 42,
    "image.cmap": CMAP,
    "mathtext.fontset": "dejavusans",
}


@contextmanager
def paper_style() -> Iterator[None]:
    """Apply the rdpc figure style inside a ``with`` block."""
    with plt.rc_context(_RC):  # type: ignore[arg-type]
        yield


def save_figure(
    fig: Any, out_dir: str | os.PathLike[str], name: str, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write `fig` as ``out_dir/name.<fmt>`` for each format, atomically; close it.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    bad = [f for f in formats if f not in ("png", "pdf", "svg")]
    if bad:
        raise ValueError(f"`formats` must be among 'png', 'pdf', 'svg'; got {bad[0]!r}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        target = out / f"{name}.{fmt}"
        metadata = {"Creator": "rdpc figures"} if fmt == "pdf" else None

        def save(tmp: str, fmt: str = fmt, metadata: dict[str, str] | None = metadata) -> None:
            fig.savefig(tmp, format=fmt, metadata=metadata)

        atomic_write(target, save)
        paths.append(target)
    plt.close(fig)
    return paths
