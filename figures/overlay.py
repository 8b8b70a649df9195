"""Neural operating points on the theory: overlays for the binary and Gaussian sources.

Reads only the synthetic run directories
(:func:`rdpc_neural.kinds.synthetic_results.synthetic_runs_table`) and draws, in **bits** (the
rate unit of the runs):

* ``overlay_gaussian`` / ``overlay_binary``: the theory contour maps R(D, C) and R(P, C)
  (drawn by :func:`figures.theory._draw_contour`) with the RDC runs (lambda_p = 0) on the
  first and the RPC runs (lambda_d = 0) on the second, each placed at its measured
  constraint values averaged over the block's positions and filled with its measured rate
  on the map's colour scale; marker shape = block length. A point is above the map there
  when it is brighter than the background.
* ``synthetic_rate_vs_bound``: measured rate against the run's per-letter bound (all
  families), with the diagonal, the rate's 95% interval (vertical) and the span between the
  bound at the measured values and at the interval ends (horizontal); colour = block length.
* ``synthetic_gaps``: gap to the bound against block length, per family, with the best
  non-degenerate point per block length joined (degenerate: zero-rate collapse or lossless,
  :func:`rdpc_neural.kinds.synthetic_results.is_degenerate`).

Every point must lie on or above its bound (``above_bound``); the figures print the count of
points below it (0 unless something is wrong).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rdpc_theory import GaussianSource

from .style import FORMATS, TEXT_WIDTH_IN, paper_style, save_figure
from .theory import PAPER_GAUSSIAN, RatePanel, _draw_contour, _vmax, binary_panels

__all__ = [
    "GAUSSIAN_LEVELS_BITS",
    "gaussian_bits_panels",
    "overlay_figure",
    "rate_vs_bound_figure",
    "gaps_figure",
    "overlay_figures",
]

Row = dict[str, Any]

#: Contour levels of the Gaussian maps in bits.
GAUSSIAN_LEVELS_BITS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)
_MARKERS = {1: "o", 2: "v", 4: "s", 8: "^", 16: "D", 32: "P"}
_FAMILY_MARKERS = {"rdc": "o", "rpc": "s", "rdpc": "D"}
_FAMILY_COLORS = {"rdc": "tab:blue", "rpc": "tab:orange", "rdpc": "tab:green"}


def gaussian_bits_panels(
    source: GaussianSource = PAPER_GAUSSIAN, *, grid: int = 201, p_max: float = 0.1
) -> dict[str, RatePanel]:
    """R(D, C) and R(P, C) (W2^2 perception) maps of `source` in bits, C in bits."""
    h_sx = source.label_noise_entropy()
    h_s = source.label_entropy()
    c = np.linspace(max(h_sx - 0.15, 0.0), h_s + 0.1, grid)
    d = np.linspace(0.0, 1.05 * source.var_x, grid)
    p = np.linspace(0.0, p_max, grid)
    cc, dd = np.meshgrid(c, d)
    cc2, pp = np.meshgrid(c, p)
    c_label = r"classification $C \geq h(S|\hat X)$ [bits]"
    title = r"Gaussian ($\sigma_X^2=1$, $\sigma_S^2=0.5$, $\rho=0.9$)"
    infeasible = r"infeasible: $C < h(S|X)$"
    return {
        "rdc": RatePanel("gaussian_rdc_bits", f"RDC, {title}", c, d,
                         np.asarray(source.rdc(dd, cc)), c_label, r"distortion $D$ (MSE)",
                         "bits", GAUSSIAN_LEVELS_BITS, infeasible),
        "rpc": RatePanel("gaussian_rpc_bits", f"RPC, {title}", c, p,
                         np.asarray(source.rpc(pp, cc2, perception="w2")), c_label,
                         r"perception $P \geq W_2^2(p_X, p_{\hat X})$", "bits",
                         GAUSSIAN_LEVELS_BITS, infeasible),
    }  # fmt: skip


def _finished(rows: Sequence[Row], **fixed: Any) -> list[Row]:
    return [r for r in rows if r.get("status") == "finished" and r.get("rate_bits") is not None
            and all(r.get(k) == v for k, v in fixed.items())]  # fmt: skip


def _points_on_map(ax: Any, panel: RatePanel, rows: Sequence[Row], y_key: str) -> list[Any]:
    """Scatter the runs; return neutral legend handles (one per block length)."""
    from matplotlib.lines import Line2D

    vmax = _vmax(panel)
    handles = []
    for n in sorted({int(r["block_length"]) for r in rows}):
        rr = [r for r in rows if int(r["block_length"]) == n]
        marker = _MARKERS.get(n, "o")
        ax.scatter([r["C_bits"] for r in rr], [r[y_key] for r in rr],
                   c=[min(r["rate_bits"], vmax) for r in rr], cmap="viridis", vmin=0.0,
                   vmax=vmax, marker=marker, s=22, edgecolors="white", linewidths=0.6,
                   zorder=5)  # fmt: skip
        handles.append(Line2D([], [], ls="", marker=marker, ms=4.5, mfc="0.6", mec="white",
                              mew=0.6, label=f"n = {n}"))  # fmt: skip
    # A little room around the map, so that points on its edges (D = 0, lossless) show.
    dx = 0.015 * (panel.x[-1] - panel.x[0])
    dy = 0.02 * (panel.y[-1] - panel.y[0])
    ax.set_xlim(panel.x[0] - dx, panel.x[-1] + dx)
    ax.set_ylim(panel.y[0] - dy, panel.y[-1] + dy)
    return handles


def _below_count(rows: Sequence[Row]) -> int:
    return sum(1 for r in rows if not r.get("above_bound"))


_SOURCE_NAMES = {"gaussian": "Gaussian", "binary": "binary"}


def overlay_figure(panels: dict[str, RatePanel], rows: Sequence[Row], source: str) -> Any:
    """Two contour maps (RDC, RPC) with the `source`'s RDC and RPC runs overlaid."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 2.8), layout="constrained")
    for ax, fam, y_key in ((axes[0], "rdc", "D"), (axes[1], "rpc", "P")):
        panel = panels[fam]
        _draw_contour(ax, panel)
        pts = _finished(rows, source=source, family=fam)
        handles = _points_on_map(ax, panel, pts, y_key)
        if pts:
            ax.legend(handles=handles, loc="upper right", fontsize=6, frameon=True,
                      framealpha=0.85, title=f"{len(pts)} runs, {_below_count(pts)} below "
                      "bound", title_fontsize=6)  # fmt: skip
    name = _SOURCE_NAMES.get(source, source)
    fig.suptitle(f"Neural codecs on the {name} source at their measured "
                 "constraints, filled with their measured rate (same colour scale)",
                 fontsize=7)  # fmt: skip
    return fig


def _block_colors(ns: Sequence[int]) -> dict[int, Any]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("plasma")
    ordered = sorted(set(ns))
    k = max(len(ordered) - 1, 1)
    return {n: cmap(0.1 + 0.7 * i / k) for i, n in enumerate(ordered)}


def rate_vs_bound_figure(rows: Sequence[Row]) -> Any:
    """Measured rate vs per-letter bound, one panel per source; must stay above the diagonal."""
    import matplotlib.pyplot as plt

    rows = [r for r in _finished(rows) if r.get("bound_bits") is not None
            and math.isfinite(r["bound_bits"])]  # fmt: skip
    sources = [s for s in ("binary", "gaussian") if any(r["source"] == s for r in rows)]
    fig, axes = plt.subplots(1, max(len(sources), 1), figsize=(TEXT_WIDTH_IN, 3.0),
                             layout="constrained", squeeze=False)  # fmt: skip
    colors = _block_colors([int(r["block_length"]) for r in rows])
    for ax, src in zip(axes[0], sources, strict=False):
        rr = [r for r in rows if r["source"] == src]
        hi = max(max(r["rate_bits"] for r in rr), max(r["bound_bits"] for r in rr)) * 1.05
        ax.plot([0, hi], [0, hi], color="0.3", lw=0.7, ls="--", label="rate = bound")
        for n, color in colors.items():
            for fam, marker in _FAMILY_MARKERS.items():
                pts = [r for r in rr if int(r["block_length"]) == n and r["family"] == fam]
                if not pts:
                    continue
                x = np.array([r["bound_bits"] for r in pts])
                y = np.array([r["rate_bits"] for r in pts])
                xlo = np.array([r.get("bound_lo_bits") or b for r, b in zip(pts, x, strict=True)])
                ax.errorbar(x, y, yerr=[r["rate_ci_bits"] for r in pts],
                            xerr=[np.maximum(x - xlo, 0.0), np.zeros_like(x)], fmt=marker,
                            ms=3.2, color=color, mfc=color, mec="white", mew=0.3, elinewidth=0.6,
                            capsize=0, lw=0, label=f"n = {n}, {fam.upper()}")  # fmt: skip
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(r"per-letter bound $\frac{1}{n}\sum_i R(D_i, P_i, C_i)$ [bits/symbol]")
        ax.set_ylabel("measured rate (entropy-coded) [bits/symbol]")
        ax.set_title(
            f"{src.capitalize()} source: {len(rr)} runs, {_below_count(rr)} below their bound"
        )
        ax.grid(alpha=0.25, lw=0.4)
        ax.legend(loc="lower right", fontsize=5.5, frameon=False, ncol=1)
    return fig


def gaps_figure(rows: Sequence[Row], *, target: float | None = 0.3) -> Any:
    """Gap to the bound (bits/symbol) vs block length, per source and family."""
    import matplotlib.pyplot as plt

    rows = [r for r in _finished(rows) if r.get("gap_bits") is not None]
    sources = [s for s in ("binary", "gaussian") if any(r["source"] == s for r in rows)]
    fig, axes = plt.subplots(1, max(len(sources), 1), figsize=(TEXT_WIDTH_IN, 2.5),
                             layout="constrained", squeeze=False, sharey=True)  # fmt: skip
    ns = sorted({int(r["block_length"]) for r in rows})
    pos = {n: i for i, n in enumerate(ns)}
    offsets = {"rdc": -0.18, "rpc": 0.0, "rdpc": 0.18}
    for ax, src in zip(axes[0], sources, strict=False):
        for fam, color in _FAMILY_COLORS.items():
            pts = [r for r in rows if r["source"] == src and r["family"] == fam]
            if not pts:
                continue
            useful = [r for r in pts if not r.get("degenerate")]
            trivial = [r for r in pts if r.get("degenerate")]
            ax.scatter([pos[int(r["block_length"])] + offsets[fam] for r in useful],
                       [r["gap_bits"] for r in useful], s=8, color=color, alpha=0.45,
                       lw=0)  # fmt: skip
            ax.scatter([pos[int(r["block_length"])] + offsets[fam] for r in trivial],
                       [r["gap_bits"] for r in trivial], s=10, facecolors="none",
                       edgecolors="0.55", lw=0.5)  # fmt: skip
            best = []
            for n in ns:
                g = [r["gap_bits"] for r in useful if int(r["block_length"]) == n]
                if g:
                    best.append((pos[n] + offsets[fam], min(g)))
            if best:
                ax.plot(*zip(*best, strict=True), "-o", ms=3, lw=0.9, color=color,
                        label=f"{fam.upper()} (best per n)")  # fmt: skip
        if target is not None and src == "gaussian":
            ax.axhline(target, color="0.4", lw=0.6, ls=":")
            ax.text(-0.4, target, f"target {target:g} (RDC, n = 16)", ha="left",
                    va="bottom", fontsize=6, color="0.35")  # fmt: skip
        ax.axhline(0.0, color="0.2", lw=0.6)
        ax.set_xticks(range(len(ns)), [str(n) for n in ns])
        ax.set_xlabel("block length n")
        ax.set_title(f"{src} source")
        ax.grid(alpha=0.25, lw=0.4, axis="y")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=6, frameon=False)
    axes[0][0].set_ylabel("rate - bound [bits/symbol]")
    fig.text(0.5, -0.01, "filled: all non-degenerate runs (line: the best per n); hollow grey: "
             "degenerate runs (zero-rate collapse or lossless code)", ha="center", va="top",
             fontsize=6, color="0.35")  # fmt: skip
    return fig


def overlay_figures(
    runs_root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    preset: str | None = None,
    grid: int = 201,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw every overlay figure from the synthetic runs under `runs_root`; return the files.

    Parameters
    ----------
    runs_root : path
        Folder holding ``<preset>/<hash>/`` run directories.
    out_dir : path
        Output folder.
    preset : str, optional
        Only this preset folder (default: every synthetic run found).
    grid : int
        Points per axis of the theory maps (>= 5).
    formats : sequence of {"png", "pdf", "svg"}
        File formats.
    """
    from rdpc_neural.kinds.synthetic_results import synthetic_runs_table

    if int(grid) != grid or grid < 5:
        raise ValueError(f"`grid` must be an integer >= 5; got {grid!r}.")
    rows = [r for r in synthetic_runs_table(runs_root, preset) if r["status"] == "finished"]
    if not rows:
        return []
    written: list[Path] = []
    with paper_style():
        g_rows = [r for r in rows if r["source"] == "gaussian"]
        if g_rows:
            p_vals = [r["P"] for r in g_rows if r["family"] == "rpc" and r.get("P") is not None]
            p_max = max([0.05, *(1.25 * v for v in p_vals)])
            written += save_figure(
                overlay_figure(gaussian_bits_panels(grid=grid, p_max=p_max), g_rows, "gaussian"),
                out_dir, "overlay_gaussian", formats)  # fmt: skip
        b_rows = [r for r in rows if r["source"] == "binary"]
        if b_rows:
            written += save_figure(overlay_figure(binary_panels(grid), b_rows, "binary"),
                                   out_dir, "overlay_binary", formats)  # fmt: skip
        written += save_figure(rate_vs_bound_figure(rows), out_dir, "synthetic_rate_vs_bound",
                               formats)  # fmt: skip
        written += save_figure(gaps_figure(rows), out_dir, "synthetic_gaps", formats)
    return written
