"""MNIST figures in the paper's form, drawn from run directories.

* Fig. 9(a): accuracy vs MSE per rate (RDC; lambda_p = 0 runs).
* Fig. 9(b): accuracy vs W1 per rate (RPC; lambda_d = 0 runs).
* Fig. 10: RDC given P (lambda_d = 1; one curve per lambda_p, accuracy vs MSE).
* Fig. 11: RPC given D (lambda_d = 1; accuracy vs W1).
* Universal vs end-to-end: the penalty of a frozen encoder.

Rows come from :func:`rdpc_neural.kinds.image_results.runs_table` (torch-free), i.e. only from the
files in the run directories.  The paper's approximate read-off ranges (Wang, Wu, Ma,
Zhang, IEEE JSAC 2025, arXiv:2405.04144, Figs. 9(a), 9(b), 10(a); values in
``docs/references.md``) are drawn as shaded bands, each labelled with its rate.  Our W1 is
the exact empirical W1 between test images and reconstructions (Euclidean distance between
images with pixels in [0, 1]); the paper's W1 axis is a critic estimate on another scale, so
only the accuracy part of its Fig. 9(b) band is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .style import COLUMN_WIDTH_IN, FORMATS, TEXT_WIDTH_IN, paper_style, save_figure

__all__ = [
    "PAPER_FIG9A_BANDS",
    "PAPER_FIG9B_ACC_BAND",
    "PAPER_FIG10_BAND",
    "fig9a",
    "fig9b",
    "fig10",
    "fig11",
    "universal_figure",
    "mnist_figures",
    "pareto_frontier",
    "MSE_LABEL",
    "W1_LABEL",
]

Row = dict[str, Any]

# Read off the paper's Figs. 9(a), 9(b), 10(a) (approximate): rate -> (mse range, acc range).
PAPER_FIG9A_BANDS: dict[float, tuple[tuple[float, float], tuple[float, float] | None]] = {
    10.0: ((0.0325, 0.036), (0.95, 0.982)),
    8.0: ((0.037, 0.0405), None),
    6.0: ((0.042, 0.046), (0.87, 0.983)),
    4.75: ((0.046, 0.053), (0.80, 0.977)),
}
PAPER_FIG9B_ACC_BAND = (0.975, 0.985)  # R >= 6, over the paper's critic-W1 range 0-1
PAPER_FIG10_BAND = ((0.047, 0.075), (0.61, 0.955))  # Fig. 10(a): mse range, acc range


def _rate_key(rate: float) -> float:
    return round(float(rate), 2)  # 4.7548875 bits (d=3, L=3) is the paper's "R = 4.75"


def _rate_colors(rates: Sequence[float]) -> dict[float, Any]:
    """One colour per rate, fixed by the union with the paper's rates (same colour everywhere)."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    ordered = sorted({_rate_key(r) for r in rates} | set(PAPER_FIG9A_BANDS))
    n = max(len(ordered) - 1, 1)
    return {r: cmap(0.1 + 0.75 * i / n) for i, r in enumerate(ordered)}


def _finished(rows: Sequence[Row], **fixed: float) -> list[Row]:
    out = []
    for r in rows:
        if r.get("status") != "finished" or r.get("mse") is None:
            continue
        if all(abs(float(r[k]) - v) < 1e-12 for k, v in fixed.items()):
            out.append(r)
    return out


def _label_rate(rate: float) -> str:
    return f"R = {_rate_key(rate):g} bits"


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Upper-left Pareto frontier (lowest x for each attained y): best accuracy at a cost."""
    best: list[tuple[float, float]] = []
    for x, y in sorted(points):
        if not best or y > best[-1][1]:
            best.append((x, y))
    return best


def _scatter_by_rate(ax: Any, rows: Sequence[Row], x_key: str, *, frontier: bool) -> None:
    colors = _rate_colors([float(r["rate_bits"]) for r in rows])
    for rate, color in sorted(colors.items(), reverse=True):
        rr = [r for r in rows if _rate_key(r["rate_bits"]) == rate]
        pts = [(float(r[x_key]), float(r["acc"])) for r in rr if r.get(x_key) is not None]
        if not pts:
            continue
        ax.scatter(*zip(*pts, strict=True), s=9, color=color, alpha=0.75, lw=0,
                   label=_label_rate(rate), clip_on=False)  # fmt: skip
        held = [(float(r[x_key]), float(r["acc_heldout"])) for r in rr
                if r.get(x_key) is not None and r.get("acc_heldout") is not None]  # fmt: skip
        if held:
            ax.scatter(*zip(*held, strict=True), s=9, facecolors="none", edgecolors=color,
                       lw=0.5, alpha=0.6, clip_on=False)  # fmt: skip
        if frontier and len(pts) > 1:
            fx, fy = zip(*pareto_frontier(pts), strict=True)
            ax.plot(fx, fy, color=color, lw=0.9)


def _finish_axes(ax: Any, xlabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy acc [fraction of the test set]")
    ax.set_title(title)
    ax.grid(alpha=0.25, lw=0.4)


def _note_markers(ax: Any, extra: str = "") -> None:
    """A one-line key above the axes (inside, the points would hide it)."""
    note = ax.text(0.0, 1.01, f"filled: training classifier, hollow: held-out{extra}",
                   transform=ax.transAxes, ha="left", va="bottom", fontsize=5.5,
                   color="0.35")  # fmt: skip
    note.set_in_layout(False)  # the title's empty second line holds it


MSE_LABEL = "distortion mse [per pixel, pixels in [0, 1]]"
W1_LABEL = "perception w1 [exact empirical W1, L2 between images, pixels in [0, 1]]"


def fig9a(rows: Sequence[Row], *, title: str = "RDC, Fig. 9(a) grid\n") -> Any:
    """Accuracy vs MSE per rate for the lambda_p = 0 runs, with the paper's bands.

    Every band is labelled with its rate on the plot and in the legend (below the axes,
    off the data), whether or not runs at that rate exist.
    """
    import matplotlib.pyplot as plt
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = _finished(rows, lambda_p=0.0)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.3), layout="constrained")
    colors = _rate_colors([float(r["rate_bits"]) for r in rows])
    for rate, ((m0, m1), acc) in PAPER_FIG9A_BANDS.items():
        color = colors[rate]
        if acc is None:  # the paper gives no accuracy range at this rate: a full-height band
            ax.axvspan(m0, m1, color=color, alpha=0.15, lw=0)
        else:
            ax.fill_between([m0, m1], acc[0], acc[1], color=color, alpha=0.2, lw=0)
        ax.text(0.5 * (m0 + m1), 0.985, f"{rate:g}", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=6, color="0.25")  # fmt: skip
    _scatter_by_rate(ax, rows, "mse", frontier=True)
    _finish_axes(ax, MSE_LABEL, title)
    with_runs = {_rate_key(r["rate_bits"]) for r in rows}
    handles: list[Any] = []
    labels = []
    for rate in sorted(set(PAPER_FIG9A_BANDS) | with_runs, reverse=True):
        band = Patch(color=colors[rate], alpha=0.3, lw=0)
        dot = Line2D([], [], ls="", marker="o", ms=3.5, color=colors[rate])
        parts = (["runs"] if rate in with_runs else []) + (
            ["paper"] if rate in PAPER_FIG9A_BANDS else []
        )
        handles.append((band, dot) if rate in with_runs else band)
        labels.append(f"{_label_rate(rate)}: {' + '.join(parts)}")
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False,
               handler_map={tuple: HandlerTuple(ndivide=None)}, fontsize=6)  # fmt: skip
    _note_markers(ax, "; shaded: paper, rate (bits) on top")
    return fig


def fig9b(rows: Sequence[Row], *, title: str = "RPC, Fig. 9(b) grid\n") -> Any:
    """Accuracy vs exact W1 per rate for the lambda_d = 0 runs."""
    import matplotlib.pyplot as plt

    rows = _finished(rows, lambda_d=0.0)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.1), layout="constrained")
    ax.axhspan(*PAPER_FIG9B_ACC_BAND, color="0.5", alpha=0.12, lw=0)
    ax.text(0.99, PAPER_FIG9B_ACC_BAND[1], "paper's accuracy range, R ≥ 6 bits", ha="right",
            va="bottom", fontsize=5.5, color="0.35",
            transform=ax.get_yaxis_transform())  # fmt: skip
    _scatter_by_rate(ax, rows, "w1", frontier=True)
    _finish_axes(ax, W1_LABEL, title)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2,
               frameon=False, fontsize=6)  # legend off the data  # fmt: skip
    _note_markers(ax)
    return fig


def _by_lambda_p(ax: Any, rows: Sequence[Row], x_key: str) -> None:
    import matplotlib.pyplot as plt

    lps = sorted({float(r["lambda_p"]) for r in rows})
    cmap = plt.get_cmap("plasma")
    for i, lp in enumerate(lps):
        rr = sorted((r for r in rows if float(r["lambda_p"]) == lp),
                    key=lambda r: float(r["lambda_c"]))  # fmt: skip
        pts = [(float(r[x_key]), float(r["acc"])) for r in rr if r.get(x_key) is not None]
        if pts:
            color = cmap(0.85 * i / max(len(lps) - 1, 1))
            ax.plot(*zip(*pts, strict=True), "o-", ms=2.5, lw=0.7, color=color,
                    label=f"λp = {lp:g}", clip_on=False)  # fmt: skip


def _per_rate_panels(rows: Sequence[Row], x_key: str, xlabel: str, suptitle: str,
                     band: bool) -> Any:  # fmt: skip
    import matplotlib.pyplot as plt

    rows = _finished(rows, lambda_d=1.0)
    rates = sorted({_rate_key(r["rate_bits"]) for r in rows}, reverse=True) or [10.0]
    fig, axes = plt.subplots(1, len(rates), figsize=(TEXT_WIDTH_IN, 2.4), layout="constrained",
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, rate in zip(axes[0], rates, strict=True):
        if band:
            (m0, m1), (a0, a1) = PAPER_FIG10_BAND
            ax.fill_between([m0, m1], a0, a1, color="0.5", alpha=0.12, lw=0)
        _by_lambda_p(ax, [r for r in rows if _rate_key(r["rate_bits"]) == rate], x_key)
        ax.set_title(_label_rate(rate))
        ax.grid(alpha=0.25, lw=0.4)
    axes[0][0].set_ylabel("accuracy acc [fraction of the test set]")
    handles, labels = axes[0][-1].get_legend_handles_labels()
    if handles:  # right of the panels, off the data
        fig.legend(handles, labels, loc="outside right upper", frameon=False, fontsize=6)
    fig.supxlabel(xlabel, fontsize=8)  # one label for the row: per panel they would collide
    fig.suptitle(suptitle)
    return fig


def fig10(rows: Sequence[Row]) -> Any:
    """RDC given P: accuracy vs MSE, one curve per lambda_p (lambda_c varies along it)."""
    return _per_rate_panels(rows, "mse", MSE_LABEL, "RDC given P (Fig. 10 grid, λd = 1); "
                            "shaded: paper's Fig. 10(a) range", band=True)  # fmt: skip


def fig11(rows: Sequence[Row]) -> Any:
    """RPC given D: accuracy vs exact W1, one curve per lambda_p."""
    return _per_rate_panels(rows, "w1", W1_LABEL,
                            "RPC given D (Fig. 11 grid, λd = 1)", band=False)  # fmt: skip


def universal_figure(table: Sequence[Row]) -> Any:
    """Frozen-encoder (universal) vs end-to-end: MSE and accuracy of paired runs.

    Colour: rate; marker: the frozen encoder (the lambdas it was trained with, ``encoder``
    column of :func:`rdpc_neural.kinds.image_results.universal_penalty_table`).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 2.8), layout="constrained")
    colors = _rate_colors([float(r["rate_bits"]) for r in table])
    encoders = sorted({str(r.get("encoder", "")) for r in table})
    markers = dict(zip(encoders, "o^sDv", strict=False))
    for key, ax in (("mse", axes[0]), ("acc", axes[1])):
        values = []
        for rate, color in sorted(colors.items(), reverse=True):
            for enc in encoders:
                rr = [
                    r
                    for r in table
                    if _rate_key(r["rate_bits"]) == rate and str(r.get("encoder", "")) == enc
                ]
                if not rr:
                    continue
                x = [float(r[f"{key}_e2e"]) for r in rr]
                y = [float(r[f"{key}_universal"]) for r in rr]
                values += x + y
                ax.scatter(
                    x, y, s=10, color=color, marker=markers.get(enc, "o"), lw=0, clip_on=False
                )
        if values:
            lo, hi = min(values), max(values)
            pad = 0.05 * (hi - lo or 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.4", lw=0.6, ls="--")
        unit = " [per pixel]" if key == "mse" else " [fraction]"
        ax.set_xlabel(f"end-to-end {key}{unit}")
        ax.set_ylabel(f"universal (frozen encoder) {key}{unit}")
        ax.grid(alpha=0.25, lw=0.4)
    axes[0].set_title("distortion (above the diagonal: penalty)")
    axes[1].set_title("accuracy (below the diagonal: penalty)")
    handles = [Line2D([], [], lw=0, marker="o", color=c, label=_label_rate(rate))
               for rate, c in sorted(colors.items())]  # fmt: skip
    for enc in encoders:
        label = f"encoder λ = {enc}" if enc else "frozen encoder"
        handles.append(Line2D([], [], lw=0, marker=markers[enc], color="0.3", label=label))
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 4),
               frameon=False, fontsize=6)  # fmt: skip
    return fig


def mnist_figures(
    runs_root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    prefix: str = "cpu",
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw every MNIST figure whose runs exist under `runs_root`; return the files.

    Parameters
    ----------
    runs_root : path
        Folder holding ``<preset>/<hash>/`` run directories.
    out_dir : path
        Output folder.
    prefix : {"cpu", "paper"}
        Which presets to read: ``<prefix>-fig9a``, ``-fig9b``, ``-fig10``,
        ``-fig9a-universal``.
    formats : sequence of {"png", "pdf", "svg"}
        File formats.
    """
    from rdpc_neural.kinds.image_results import runs_table, universal_penalty_table

    if prefix not in ("cpu", "paper"):
        raise ValueError(f"`prefix` must be 'cpu' or 'paper'; got {prefix!r}.")
    written: list[Path] = []
    drawers = (("fig9a", fig9a, "fig9a"), ("fig9b", fig9b, "fig9b"), ("fig10", fig10, "fig10"),
               ("fig10", fig11, "fig11"))  # fmt: skip
    with paper_style():
        for preset_suffix, draw, name in drawers:
            rows = runs_table(runs_root, f"{prefix}-{preset_suffix}")
            if any(r.get("status") == "finished" for r in rows):
                written += save_figure(draw(rows), out_dir, f"mnist_{prefix}_{name}", formats)
        table = universal_penalty_table(runs_root)
        if table:
            written += save_figure(universal_figure(table), out_dir,
                                   f"mnist_{prefix}_universal", formats)  # fmt: skip
    return written
