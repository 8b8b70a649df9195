"""Neural operating points on the theory: overlays for the binary and Gaussian sources.

Reads only the synthetic run directories
(:func:`rdpc_neural.kinds.synthetic_results.synthetic_runs_table`, whose values are in bits) and
draws them in the unit of each source (:data:`figures.theory.DEFAULT_UNITS`: the Gaussian in
nats, as in the theory figure and the paper, the binary source in bits; ``unit="bits"`` or
``"nats"`` draws both in one unit):

* ``overlay_gaussian`` / ``overlay_binary``: the theory contour maps R(D, C) and R(P, C)
  (drawn by :func:`figures.theory.draw_contour`) with the RDC runs (lambda_p = 0) on the
  first and the RPC runs (lambda_d = 0) on the second, each placed at its measured
  constraint values averaged over the block's positions and filled with its measured rate
  on the map's colour scale; marker shape = block length. A point is above the map there
  when it is brighter than the background.  Runs that land on the same spot are counted in
  the legend ("6 runs at 4 distinct points").
* ``synthetic_rate_vs_bound``: measured rate against the run's per-letter bound (all
  families), with the diagonal, the rate's 95% interval (vertical) and the span between the
  bound at the measured values and at the interval ends (horizontal); colour = block length.
* ``synthetic_gaps``: gap to the bound against block length, per family, with the best
  non-degenerate point per block length joined (degenerate: zero-rate collapse or lossless,
  :func:`rdpc_neural.kinds.synthetic_results.is_degenerate`).

Every point must lie on or above its bound (``above_bound``); the figures print the count of
points below it (0 unless something is wrong).  Markers are not clipped at the axes' edges
(points at D = 0 or at a lossless C show whole), legends sit outside the data.
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
from .theory import (
    GAUSSIAN_LEVELS_BITS,
    GAUSSIAN_LEVELS_NATS,
    PAPER_GAUSSIAN,
    UNIT_BASES,
    RatePanel,
    binary_panels,
    color_limit,
    draw_contour,
    resolve_units,
)

__all__ = [
    "gaussian_overlay_panels",
    "in_unit",
    "overlay_figure",
    "rate_vs_bound_figure",
    "gaps_figure",
    "overlay_figures",
]

Row = dict[str, Any]

#: The information columns of a synthetic runs table (all in bits there).
_BITS_COLUMNS = ("rate_bits", "rate_ci_bits", "C_bits", "C_ci_bits", "bound_bits",
                 "bound_lo_bits", "gap_bits")  # fmt: skip
_MARKERS = {1: "o", 2: "v", 4: "s", 8: "^", 16: "D", 32: "P"}
_FAMILY_MARKERS = {"rdc": "o", "rpc": "s", "rdpc": "D"}
_FAMILY_COLORS = {"rdc": "tab:blue", "rpc": "tab:orange", "rdpc": "tab:green"}


def gaussian_overlay_panels(
    source: GaussianSource = PAPER_GAUSSIAN, *, grid: int = 201, p_max: float = 0.1,
    unit: str = "nats",
) -> dict[str, RatePanel]:  # fmt: skip
    """R(D, C) and R(P, C) (W2^2 perception) maps of `source` around its runs; R, C in `unit`."""
    base = UNIT_BASES[unit]
    h_sx = source.label_noise_entropy(base=base)
    h_s = source.label_entropy(base=base)
    margin = 0.1 * math.log(2.0, base)  # 0.1 bit on either side of the feasible C range
    c = np.linspace(max(h_sx - 1.5 * margin, 0.0), h_s + margin, grid)
    d = np.linspace(0.0, 1.05 * source.var_x, grid)
    p = np.linspace(0.0, p_max, grid)
    cc, dd = np.meshgrid(c, d)
    cc2, pp = np.meshgrid(c, p)
    c_label = rf"classification $C \geq h(S|\hat X)$ [{unit}]"
    sq = "[units of $X^2$]"
    title = r"Gaussian ($\sigma_X^2=1$, $\sigma_S^2=0.5$, $\rho=0.9$)"
    infeasible = r"infeasible: $C < h(S|X)$"
    levels = GAUSSIAN_LEVELS_NATS if unit == "nats" else GAUSSIAN_LEVELS_BITS
    return {
        "rdc": RatePanel(f"gaussian_rdc_{unit}", f"RDC, {title}", c, d,
                         np.asarray(source.rdc(dd, cc, base=base)), c_label,
                         f"distortion $D$ (MSE) {sq}", unit, levels, infeasible),
        "rpc": RatePanel(f"gaussian_rpc_{unit}", f"RPC, {title}", c, p,
                         np.asarray(source.rpc(pp, cc2, perception="w2", base=base)), c_label,
                         rf"perception $P \geq W_2^2(p_X, p_{{\hat X}})$ {sq}", unit,
                         levels, infeasible),
    }  # fmt: skip


def in_unit(rows: Sequence[Row], unit: str) -> list[Row]:
    """Copies of synthetic-table rows with the information columns converted from bits.

    The keys keep their ``_bits`` names (the rows' schema); the values are in `unit`.
    """
    factor = math.log(2.0, UNIT_BASES[unit])
    out = []
    for r in rows:
        r2 = dict(r)
        for k in _BITS_COLUMNS:
            if isinstance(r2.get(k), int | float):
                r2[k] = float(r2[k]) * factor
        out.append(r2)
    return out


def _distinct_points(xs: Sequence[float], ys: Sequence[float], span: tuple[float, float]) -> int:
    """Points that a reader can tell apart: closer than 1 % of the axes count as one."""
    cells = {(round(x / (0.01 * span[0])), round(y / (0.01 * span[1])))
             for x, y in zip(xs, ys, strict=True)}  # fmt: skip
    return len(cells)


def _finished(rows: Sequence[Row], **fixed: Any) -> list[Row]:
    return [r for r in rows if r.get("status") == "finished" and r.get("rate_bits") is not None
            and all(r.get(k) == v for k, v in fixed.items())]  # fmt: skip


def _points_on_map(ax: Any, panel: RatePanel, rows: Sequence[Row], y_key: str) -> list[Any]:
    """Scatter the runs; return neutral legend handles (one per block length)."""
    from matplotlib.lines import Line2D

    vmax = color_limit(panel)
    handles = []
    span = (float(panel.x[-1] - panel.x[0]), float(panel.y[-1] - panel.y[0]))
    for n in sorted({int(r["block_length"]) for r in rows}):
        rr = [r for r in rows if int(r["block_length"]) == n]
        marker = _MARKERS.get(n, "o")
        xs, ys = [r["C_bits"] for r in rr], [r[y_key] for r in rr]
        ax.scatter(xs, ys, c=[min(r["rate_bits"], vmax) for r in rr], cmap="viridis", vmin=0.0,
                   vmax=vmax, marker=marker, s=22, edgecolors="white", linewidths=0.6,
                   zorder=5, clip_on=False)  # fmt: skip
        shown = _distinct_points(xs, ys, span)
        where = "" if shown == len(rr) else f" at {shown} distinct point{'s' * (shown > 1)}"
        handles.append(Line2D([], [], ls="", marker=marker, ms=4.5, mfc="0.6", mec="white",
                              mew=0.6, label=f"n = {n}: {len(rr)} runs{where}"))  # fmt: skip
    # A little room around the map, so that points on its edges (D = 0, lossless) show.
    dx = 0.015 * span[0]
    dy = 0.02 * span[1]
    ax.set_xlim(panel.x[0] - dx, panel.x[-1] + dx)
    ax.set_ylim(panel.y[0] - dy, panel.y[-1] + dy)
    return handles


def _below_count(rows: Sequence[Row]) -> int:
    return sum(1 for r in rows if not r.get("above_bound"))


_SOURCE_NAMES = {"gaussian": "Gaussian", "binary": "binary"}


def overlay_figure(panels: dict[str, RatePanel], rows: Sequence[Row], source: str) -> Any:
    """Two contour maps (RDC, RPC) with the `source`'s RDC and RPC runs overlaid.

    `rows` must be in the panels' unit (see :func:`in_unit`).  Each map's legend sits below
    it, outside the data.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 3.3), layout="constrained")
    for ax, fam, y_key in ((axes[0], "rdc", "D"), (axes[1], "rpc", "P")):
        panel = panels[fam]
        draw_contour(ax, panel)
        pts = _finished(rows, source=source, family=fam)
        handles = _points_on_map(ax, panel, pts, y_key)
        if pts:
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                      fontsize=6, frameon=False, ncol=min(len(handles), 2),
                      title=f"{fam.upper()} runs: {len(pts)}, {_below_count(pts)} below their "
                      "bound", title_fontsize=6)  # fmt: skip
    name = _SOURCE_NAMES.get(source, source)
    fig.suptitle(f"Neural codecs on the {name} source at their measured "
                 f"constraints, filled with their measured rate in {panels['rdc'].unit} "
                 "(same colour scale)", fontsize=7)  # fmt: skip
    return fig


def _block_colors(ns: Sequence[int]) -> dict[int, Any]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("plasma")
    ordered = sorted(set(ns))
    k = max(len(ordered) - 1, 1)
    return {n: cmap(0.1 + 0.7 * i / k) for i, n in enumerate(ordered)}


def rate_vs_bound_figure(rows: Sequence[Row], units: dict[str, str] | None = None) -> Any:
    """Measured rate vs per-letter bound, one panel per source; must stay above the diagonal.

    `rows` are in bits (the runs' unit); each source's panel is drawn in ``units[source]``
    (default :data:`figures.theory.DEFAULT_UNITS`).
    """
    import matplotlib.pyplot as plt

    rows = [r for r in _finished(rows) if r.get("bound_bits") is not None
            and math.isfinite(r["bound_bits"])]  # fmt: skip
    sources = [s for s in ("binary", "gaussian") if any(r["source"] == s for r in rows)]
    fig, axes = plt.subplots(1, max(len(sources), 1), figsize=(TEXT_WIDTH_IN, 3.0),
                             layout="constrained", squeeze=False)  # fmt: skip
    colors = _block_colors([int(r["block_length"]) for r in rows])
    units = units or resolve_units(None)
    for ax, src in zip(axes[0], sources, strict=False):
        unit = units[src]
        rr = in_unit([r for r in rows if r["source"] == src], unit)
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
                            capsize=0, lw=0, label=f"n = {n}, {fam.upper()}",
                            clip_on=False)  # fmt: skip
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(rf"per-letter bound $\frac{{1}}{{n}}\sum_i R(D_i, P_i, C_i)$ [{unit}/symbol]")
        ax.set_ylabel(f"entropy-coded rate [{unit}/symbol]")
        shown = _distinct_points([r["bound_bits"] for r in rr], [r["rate_bits"] for r in rr],
                                 (hi, hi))  # fmt: skip
        at = "" if shown == len(rr) else f" ({shown} distinct points)"
        runs = f"{len(rr)} run" + ("s" if len(rr) != 1 else "")
        ax.set_title(f"{src.capitalize()}: {runs}{at}, {_below_count(rr)} below bound")
        ax.grid(alpha=0.25, lw=0.4)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=5.5, frameon=False,
                  ncol=1)  # fmt: skip
    return fig


def gaps_figure(
    rows: Sequence[Row], *, target: float | None = 0.3, units: dict[str, str] | None = None
) -> Any:
    """Gap to the bound vs block length, per source (in ``units[source]``) and family.

    `target` is in bits (a gap goal for the Gaussian RDC codecs at n = 16), drawn in the
    Gaussian panel's unit.
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    units = units or resolve_units(None)
    rows = [r for r in _finished(rows) if r.get("gap_bits") is not None]
    sources = [s for s in ("binary", "gaussian") if any(r["source"] == s for r in rows)]
    fig, axes = plt.subplots(1, max(len(sources), 1), figsize=(TEXT_WIDTH_IN, 2.5),
                             layout="constrained", squeeze=False)  # fmt: skip
    ns = sorted({int(r["block_length"]) for r in rows})
    pos = {n: i for i, n in enumerate(ns)}
    offsets = {"rdc": -0.18, "rpc": 0.0, "rdpc": 0.18}
    for ax, src in zip(axes[0], sources, strict=False):
        unit = units[src]
        src_rows = in_unit([r for r in rows if r["source"] == src], unit)
        for fam, color in _FAMILY_COLORS.items():
            pts = [r for r in src_rows if r["family"] == fam]
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
            level = target * math.log(2.0, UNIT_BASES[unit])
            ax.axhline(level, color="0.4", lw=0.6, ls=":")
            # x in axes units, so the label starts inside the axes whatever the data span.
            ax.text(0.02, level, f"target {level:.3g} {unit} (RDC, n = 16)", ha="left",
                    va="bottom", fontsize=6, color="0.35", clip_on=True,
                    transform=blended_transform_factory(ax.transAxes, ax.transData))  # fmt: skip
        ax.axhline(0.0, color="0.2", lw=0.6)
        ax.set_xticks(range(len(ns)), [str(n) for n in ns])
        ax.set_xlim(-0.5, len(ns) - 0.5)
        ax.set_xlabel("block length n")
        ax.set_ylabel(f"rate - bound [{unit}/symbol]")
        ax.set_title(f"{src} source")
        ax.grid(alpha=0.25, lw=0.4, axis="y")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, frameon=False)
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
    unit: str | None = None,
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
    unit : {None, "paper", "bits", "nats"}
        Unit of rates and C (see :func:`figures.theory.resolve_units`): by default the
        Gaussian in nats and the binary source in bits, as in the theory figures.
    """
    from rdpc_neural.kinds.synthetic_results import synthetic_runs_table

    if int(grid) != grid or grid < 5:
        raise ValueError(f"`grid` must be an integer >= 5; got {grid!r}.")
    rows = [r for r in synthetic_runs_table(runs_root, preset) if r["status"] == "finished"]
    if not rows:
        return []
    units = resolve_units(unit)
    written: list[Path] = []
    with paper_style():
        g_rows = in_unit([r for r in rows if r["source"] == "gaussian"], units["gaussian"])
        if g_rows:
            p_vals = [r["P"] for r in g_rows if r["family"] == "rpc" and r.get("P") is not None]
            p_max = max([0.05, *(1.25 * v for v in p_vals)])
            panels = gaussian_overlay_panels(grid=grid, p_max=p_max, unit=units["gaussian"])
            written += save_figure(overlay_figure(panels, g_rows, "gaussian"), out_dir,
                                   "overlay_gaussian", formats)  # fmt: skip
        b_rows = in_unit([r for r in rows if r["source"] == "binary"], units["binary"])
        if b_rows:
            panels = binary_panels(grid, unit=units["binary"])
            written += save_figure(overlay_figure(panels, b_rows, "binary"),
                                   out_dir, "overlay_binary", formats)  # fmt: skip
        written += save_figure(rate_vs_bound_figure(rows, units), out_dir,
                               "synthetic_rate_vs_bound", formats)  # fmt: skip
        written += save_figure(gaps_figure(rows, units=units), out_dir, "synthetic_gaps",
                               formats)  # fmt: skip
    return written
