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
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from rdpc_common.atomic import atomic_write  # noqa: E402

__all__ = [
    "COLUMN_WIDTH_IN",
    "TEXT_WIDTH_IN",
    "FORMATS",
    "CMAP",
    "paper_style",
    "save_figure",
    "mark_contour_labels",
    "declutter",
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

    Contour labels that would collide are dropped first (:func:`declutter`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    bad = [f for f in formats if f not in ("png", "pdf", "svg")]
    if bad:
        raise ValueError(f"`formats` must be among 'png', 'pdf', 'svg'; got {bad[0]!r}.")
    declutter(fig)
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


_CONTOUR_LABEL = "rdpc-contour-label"


def mark_contour_labels(texts: Sequence[Any]) -> None:
    """Mark contour labels (from ``ax.clabel(..., inline=False)``) for :func:`declutter`.

    They get a dark translucent box, so that a label reads on its white line without
    cutting a gap into it (a dropped label then leaves an unbroken line).
    """
    for t in texts:
        t.set_gid(_CONTOUR_LABEL)
        t.set_bbox({"boxstyle": "round,pad=0.12", "fc": "0.15", "alpha": 0.55, "ec": "none"})


def declutter(fig: Any) -> int:
    """Hide contour labels that overlap another label, a marker, a text or a legend.

    Runs the final layout first (``draw_without_rendering``), so the overlaps are those of
    the saved file.  Labels outside their axes are hidden too.  Returns how many it hid.
    """
    labelled = [ax for ax in fig.axes if any(t.get_gid() == _CONTOUR_LABEL for t in ax.texts)]
    if not labelled:
        return 0
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    hidden = 0
    for ax in labelled:
        obstacles = _obstacles(ax, renderer)
        frame = ax.get_window_extent(renderer)
        kept: list[Bbox] = []
        for t in (t for t in ax.texts if t.get_gid() == _CONTOUR_LABEL):
            box = t.get_window_extent(renderer).expanded(1.1, 1.2)
            inside = (
                frame.x0 <= box.x0
                and box.x1 <= frame.x1
                and frame.y0 <= box.y0
                and (box.y1 <= frame.y1)
            )
            if not inside or any(box.overlaps(o) for o in (*obstacles, *kept)):
                t.set_visible(False)
                hidden += 1
            else:
                kept.append(box)
    return hidden


def _obstacles(ax: Any, renderer: Any) -> list[Bbox]:
    """Display-space boxes of what a contour label must not cover."""
    boxes = []
    scale = ax.figure.dpi / 72.0
    for coll in ax.collections:
        if not isinstance(coll, PathCollection):
            continue
        offsets = np.asarray(coll.get_offsets())
        if not len(offsets):
            continue
        points = coll.get_offset_transform().transform(offsets)
        sizes = coll.get_sizes()
        for k, (x, y) in enumerate(points):
            r = 0.5 * float(sizes[k % len(sizes)] if len(sizes) else 20.0) ** 0.5 * scale + 1.0
            boxes.append(Bbox.from_extents(x - r, y - r, x + r, y + r))
    for t in ax.texts:
        if t.get_gid() != _CONTOUR_LABEL and t.get_visible() and t.get_text():
            boxes.append(t.get_window_extent(renderer))
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(legend.get_window_extent(renderer))
    return boxes
