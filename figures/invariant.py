"""Invariant compressors on the banana: quantization maps of VC vs VIC, and the measured points
over the numerical rate-distortion functions (from run directories).

Each panel shows the source density (grey contours of the exact banana density), the
decision cells of the trained encoder (colours; a cell is the set of inputs sharing one
code) and the reconstruction points (black dots, one per cell holding probability mass), with
the run's real coded rate in bits per sample in the title. VC's cells tile the banana;
VIC's are rings about the origin (only the radius is kept) and its reconstructions lie on
the ray of the canonical representatives.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .style import FORMATS, TEXT_WIDTH_IN, paper_style, save_figure

__all__ = ["EXTENT", "quantization_panels", "invariant_figures", "theory_panels"]

#: The window of the plane drawn (holds nearly all of the banana's mass; the arms reach far).
EXTENT = (-10.0, 12.0, -9.0, 12.0)
_MASS_SHOWN = 1e-4


def _draw_map(ax: Any, model: Any, title: str, grid: int) -> None:
    import matplotlib.pyplot as plt

    from rdpc_neural.banana import banana_log_density
    from rdpc_neural.kinds.invariant import quantization_map

    qmap = quantization_map(model, EXTENT, grid)
    cell = qmap["cell"]
    xs, ys = qmap["x"], qmap["y"]
    xx, yy = np.meshgrid(xs, ys)
    density = np.exp(banana_log_density(np.stack([xx, yy], -1)))
    # Colours by a fixed shuffle of the cell ids: neighbouring cells get different colours.
    shuffle = np.random.default_rng(0).permutation(cell.max() + 1)
    ax.imshow(shuffle[cell] % 20, origin="lower", extent=EXTENT, cmap=plt.get_cmap("tab20"),
              alpha=0.45, interpolation="nearest", aspect="equal")  # fmt: skip
    edges = (np.diff(cell, axis=0, prepend=cell[:1]) != 0) | (
        np.diff(cell, axis=1, prepend=cell[:, :1]) != 0
    )
    ax.contour(xs, ys, edges.astype(float), levels=[0.5], colors="0.25", linewidths=0.3)
    peak = density.max()
    ax.contour(xs, ys, density, levels=peak * np.array([0.01, 0.1, 0.4, 0.8]),
               colors="0.1", linewidths=0.6, linestyles="solid")  # fmt: skip
    if "points" in qmap:
        mass = np.bincount(cell.ravel(), weights=density.ravel(), minlength=len(qmap["codes"]))
        mass = mass / mass.sum()
        pts = qmap["points"][mass > _MASS_SHOWN]
        ax.plot(pts[:, 0], pts[:, 1], "o", ms=1.8, color="k")
    ax.plot([0], [0], "+", color="tab:red", ms=5)
    ax.set_xlim(EXTENT[:2])
    ax.set_ylim(EXTENT[2:])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)


def quantization_panels(
    runs: Sequence[tuple[str, Any, dict[str, Any]]],
    out_dir: str | os.PathLike[str],
    name: str,
    *,
    grid: int = 400,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """One figure with a quantization map per ``(label, model, final metrics)``, side by side."""
    import matplotlib.pyplot as plt

    with paper_style():
        fig, axes = plt.subplots(1, len(runs), figsize=(TEXT_WIDTH_IN * len(runs) / 3, 2.5),
                                 squeeze=False)  # fmt: skip
        for ax, (label, model, final) in zip(axes[0], runs, strict=True):
            title = (
                f"{label}: {final['coded_bits']:.2f} coded bits/sample\n"
                f"{final['cells']} cells, invariant MSE {final['invariant_mse']:.3f}"
            )
            _draw_map(ax, model, title, grid)
        fig.tight_layout()
        return save_figure(fig, out_dir, name, formats)


def invariant_figures(
    runs_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    preset: str | None = None,
    grid: int = 400,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """For every (invariance, beta) with a finished VC and VIC banana run: the VC vs VIC
    quantization maps, ``banana_maps_<invariance>_beta<beta>``. Returns the files written."""
    from rdpc_neural.core.runs import iter_runs
    from rdpc_neural.kinds.invariant import load_compressor

    found: dict[tuple[str, float], dict[str, Any]] = {}
    vc: dict[float, Any] = {}
    for rec in iter_runs(runs_dir, preset, "invariant"):
        if not rec.finished or rec.final is None or rec.config.source != "banana":
            continue
        c = rec.config
        entry = (rec.path, rec.final)
        if c.compressor == "vc":
            vc[c.beta] = entry
        found.setdefault((c.invariance, c.beta), {})[c.compressor] = entry
    paths: list[Path] = []
    for (invariance, beta), entries in sorted(found.items()):
        vc_entry = entries.get("vc", vc.get(beta))
        if "vic" not in entries or vc_entry is None:
            continue
        runs = []
        for label, (path, final) in (("VC", vc_entry), (f"VIC ({invariance})", entries["vic"])):
            _, model = load_compressor(path)
            runs.append((label, model, final))
        name = f"banana_maps_{invariance}_beta{beta:g}"
        paths += quantization_panels(runs, out_dir, name, grid=grid, formats=formats)
    return paths


def theory_panels(
    gaps: dict[str, Any],
    out_dir: str | os.PathLike[str],
    name: str = "banana_rd",
    *,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """VC points over the banana's R(D) and VIC points over the R(D) of the maximal
    invariant, from :func:`rdpc_neural.kinds.invariant_results.theory_gaps`; gaps in bits."""
    import matplotlib.pyplot as plt

    curves = gaps["curves"]
    d = np.asarray(curves["D"])
    invariances = [k for k in ("rotation", "x-translation", "y-translation") if k in curves]
    with paper_style():
        fig, axes = plt.subplots(1, 1 + len(invariances),
                                 figsize=(3.3 * (1 + len(invariances)), 2.6),
                                 squeeze=False)  # fmt: skip
        ax = axes[0][0]
        grid = gaps["grids"]["banana"]
        # Below a few cell variances the grid's R(D) saturates at the grid's entropy and falls
        # under the Shannon lower bound: there it says nothing about the banana, so it is cut.
        valid = np.asarray(curves["banana"]) >= np.asarray(curves["slb"]) - 1e-9
        ax.plot(
            d[valid],
            np.asarray(curves["banana"])[valid],
            color="k",
            label=f"R(D), grid {grid[0]['cell']:g} ({grid[0]['letters']} letters)",
        )
        ax.plot(
            d[valid],
            np.asarray(curves["banana_coarse"])[valid],
            color="0.5",
            ls="--",
            label=f"R(D), grid {grid[1]['cell']:g}",
        )
        ax.plot(d, curves["slb"], color="tab:green", ls=":", label="Shannon lower bound")
        panels = [(ax, "banana", "VC", "banana $X$")]
        for a, inv in zip(axes[0][1:], invariances, strict=True):
            a.plot(d, curves[inv], color="k", label=f"R(D) of M(X) ({inv})")
            panels.append((a, f"M(X), {inv}", "VIC", f"maximal invariant, {inv}"))
        for a, against, label, title in panels:
            pts = [p for p in gaps["points"] if p["against"] == against]
            if pts:
                a.plot([p["D"] for p in pts], [p["coded_bits"] for p in pts], "o",
                       color="tab:red" if label == "VC" else "tab:blue", ms=3.5,
                       label=f"{label} (real coded bits)")  # fmt: skip
                for p in pts:
                    a.annotate(f"+{p['gap_bits']:.2f}", (p["D"], p["coded_bits"]),
                               textcoords="offset points", xytext=(3, 3), fontsize=6)  # fmt: skip
            a.set_xscale("log")
            a.set_xlabel("distortion D (squared error)")
            a.set_ylabel("rate (bits/sample)")
            a.set_title(title)
            a.set_ylim(bottom=0)
            a.legend(frameon=False, fontsize=6, loc="lower left")
        fig.tight_layout()
        return save_figure(fig, out_dir, name, formats)
