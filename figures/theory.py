"""Theory figures: RDC, RPC and RDP surfaces and contour maps for the Gaussian and binary models.

Reproduces the RDPC paper's theory figure (Gaussian RDC and RPC, sigma_X^2 = 1,
sigma_S^2 = 0.5, rho = 0.9, contour levels R = 0.3 ... 2.1) with the units the values
really have: **nats** (the paper's colour bar says bits, but the plotted values are
nats; REFERENCE.md §1).  Adds the same pair for the binary model (p = 0.3, eps = 0.1,
bits) and RDP maps of both models for comparison.

Every number drawn comes from :class:`rdpc_theory.GaussianSource` or
:class:`rdpc_theory.BinarySource`; this module only lays out grids and draws.

Files (each as PNG and PDF):

* ``gaussian_rdc_rpc``, ``binary_rdc_rpc``, ``rdp_comparison``: 2 x 2 panels (surface,
  contour map) at text width (7 in);
* ``<model>_<function>_contour`` (``gaussian_rdc``, ``gaussian_rpc``, ``gaussian_rdp``,
  ``binary_rdc``, ``binary_rpc``, ``binary_rdp``): one contour map at column width
  (3.4 in).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rdpc_theory import BinarySource, GaussianSource

from .style import COLUMN_WIDTH_IN, FORMATS, TEXT_WIDTH_IN, paper_style, save_figure

__all__ = [
    "PAPER_GAUSSIAN",
    "PAPER_BINARY",
    "GAUSSIAN_LEVELS_NATS",
    "RatePanel",
    "gaussian_panels",
    "binary_panels",
    "theory_figures",
]

#: The paper's theory-figure source: sigma_X^2 = 1, sigma_S^2 = 0.5, rho = 0.9.
PAPER_GAUSSIAN = GaussianSource(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))
#: The binary source of REFERENCE.md's known values.
PAPER_BINARY = BinarySource(p=0.3, eps=0.1)
#: The paper's contour levels, R = 0.3 ... 2.1 nats.
GAUSSIAN_LEVELS_NATS = tuple(np.round(np.arange(0.3, 2.11, 0.3), 10))
BINARY_LEVELS_BITS = tuple(np.round(np.arange(0.1, 0.81, 0.1), 10))
# RDP maps: the perception bound matters where the rate is small, so add low levels.
GAUSSIAN_RDP_LEVELS_NATS = (0.05, 0.1, 0.2, *GAUSSIAN_LEVELS_NATS)
BINARY_RDP_LEVELS_BITS = (0.02, 0.05, *BINARY_LEVELS_BITS)


@dataclass(frozen=True)
class RatePanel:
    """A rate map R(y, x) on a grid, with labels; ``inf`` marks infeasible points.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"gaussian_rdc"``.
    title : str
        Panel title.
    x, y : numpy.ndarray
        1-D grids of the horizontal and vertical arguments.
    rate : numpy.ndarray
        ``rate[i, j]`` = R at (x[j], y[i]), in `unit`.
    xlabel, ylabel : str
        Axis labels with units.
    unit : str
        ``"nats"`` or ``"bits"``.
    levels : tuple of float
        Contour levels.
    infeasible : str
        Label of the infeasible region (empty if there is none).
    """

    name: str
    title: str
    x: np.ndarray
    y: np.ndarray
    rate: np.ndarray
    xlabel: str
    ylabel: str
    unit: str
    levels: tuple[float, ...]
    infeasible: str = ""

    @property
    def zlabel(self) -> str:
        return f"rate R [{self.unit}]"


def gaussian_panels(grid: int = 241) -> dict[str, RatePanel]:
    """RDC, RPC (W2) and RDP (W2) maps of :data:`PAPER_GAUSSIAN`, in nats."""
    g, e = PAPER_GAUSSIAN, math.e
    c = np.linspace(0.1, 1.0, grid)
    d = np.linspace(0.0, 0.88, grid)
    p = np.linspace(0.0, 1.0, grid)
    c_label = r"classification $C \geq h(S|\hat X)$ [nats]"
    infeasible = r"infeasible: $C < h(S|X)$"
    cc, dd = np.meshgrid(c, d)
    rdc = np.asarray(g.rdc(dd, cc, base=e))
    cc2, pp = np.meshgrid(c, p)
    rpc = np.asarray(g.rpc(pp, cc2, perception="w2", base=e))
    d_rdp = np.linspace(0.0, 2.0, grid)
    p_rdp = np.linspace(0.0, 0.25, grid)
    pp3, dd3 = np.meshgrid(p_rdp, d_rdp)
    rdp = np.asarray(g.rdp(dd3, pp3, perception="w2", base=e))
    title = r"Gaussian ($\sigma_X^2=1$, $\sigma_S^2=0.5$, $\rho=0.9$)"
    return {
        "rdc": RatePanel(
            "gaussian_rdc",
            f"RDC $R(D,C)$, {title}",
            c,
            d,
            rdc,
            c_label,
            r"distortion $D$ (MSE)",
            "nats",
            GAUSSIAN_LEVELS_NATS,
            infeasible,
        ),
        "rpc": RatePanel(
            "gaussian_rpc",
            f"RPC $R(P,C)$, {title}",
            c,
            p,
            rpc,
            c_label,
            r"perception $P \geq W_2^2(p_X, p_{\hat X})$",
            "nats",
            GAUSSIAN_LEVELS_NATS,
            infeasible,
        ),
        "rdp": RatePanel(
            "gaussian_rdp",
            f"RDP $R(D,P)$, {title}",
            p_rdp,
            d_rdp,
            rdp,
            r"perception $P \geq W_2^2(p_X, p_{\hat X})$",
            r"distortion $D$ (MSE)",
            "nats",
            GAUSSIAN_RDP_LEVELS_NATS,
        ),
    }


def binary_panels(grid: int = 241) -> dict[str, RatePanel]:
    """RDC, RPC and RDP (TV perception) maps of :data:`PAPER_BINARY`, in bits."""
    b = PAPER_BINARY
    c = np.linspace(0.4, 1.0, grid)
    d = np.linspace(0.0, 0.35, grid)
    p = np.linspace(0.0, 0.3, grid)
    c_label = r"classification $C \geq H(S|\hat X)$ [bits]"
    p_label = r"perception $P \geq |P(\hat X{=}1) - p|$ (TV)"
    d_label = r"distortion $D = P(X \neq \hat X)$"
    infeasible = r"infeasible: $C < H_b(\varepsilon)$"
    cc, dd = np.meshgrid(c, d)
    rdc = np.asarray(b.rdc(dd, cc))
    cc2, pp = np.meshgrid(c, p)
    rpc = np.asarray(b.rpc(pp, cc2))
    d_rdp = np.linspace(0.0, 0.45, grid)
    pp3, dd3 = np.meshgrid(p, d_rdp)
    rdp = np.asarray(b.rdp(dd3, pp3))
    title = r"binary ($p=0.3$, $\varepsilon=0.1$)"
    return {
        "rdc": RatePanel(
            "binary_rdc",
            f"RDC $R(D,C)$, {title}",
            c,
            d,
            rdc,
            c_label,
            d_label,
            "bits",
            BINARY_LEVELS_BITS,
            infeasible,
        ),
        "rpc": RatePanel(
            "binary_rpc",
            f"RPC $R(P,C)$, {title}",
            c,
            p,
            rpc,
            c_label,
            p_label,
            "bits",
            BINARY_LEVELS_BITS,
            infeasible,
        ),
        "rdp": RatePanel(
            "binary_rdp",
            f"RDP $R(D,P)$, {title}",
            p,
            d_rdp,
            rdp,
            p_label,
            d_label,
            "bits",
            BINARY_RDP_LEVELS_BITS,
        ),
    }


def _vmax(panel: RatePanel) -> float:
    return float(panel.levels[-1]) * 1.15


def _draw_contour(ax: Any, panel: RatePanel, *, colorbar: bool = True) -> None:
    import matplotlib.pyplot as plt

    z = np.ma.masked_invalid(np.where(np.isinf(panel.rate), np.nan, panel.rate))
    vmax = _vmax(panel)
    mesh = ax.pcolormesh(
        panel.x,
        panel.y,
        np.ma.minimum(z, vmax),
        shading="auto",
        vmin=0.0,
        vmax=vmax,
        rasterized=True,
    )
    lines = ax.contour(panel.x, panel.y, z, levels=panel.levels, colors="white", linewidths=0.7)
    ax.clabel(lines, fmt="%g", fontsize=6, inline_spacing=2)
    infeasible = np.isinf(panel.rate)
    if infeasible.any():
        ax.contourf(
            panel.x,
            panel.y,
            infeasible.astype(float),
            levels=[0.5, 1.5],
            colors="0.85",
            hatches=["////"],
        )
        cols = np.flatnonzero(infeasible.all(axis=0))
        if cols.size and panel.infeasible:
            x_mid = float(panel.x[cols].mean())
            ax.text(
                x_mid,
                float(panel.y.mean()),
                panel.infeasible,
                rotation=90,
                ha="center",
                va="center",
                fontsize=6.5,
                color="0.25",
                bbox={"boxstyle": "round,pad=0.2", "fc": "0.85", "ec": "none"},
            )
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=7.5)
    if colorbar:
        clipped = bool((np.isfinite(panel.rate) & (panel.rate > vmax)).any())
        cb = plt.colorbar(
            mesh, ax=ax, pad=0.02, fraction=0.06, extend="max" if clipped else "neither"
        )
        cb.set_label(panel.zlabel)
        cb.ax.tick_params(labelsize=6.5)


def _draw_surface(ax: Any, panel: RatePanel) -> None:
    vmax = _vmax(panel)
    z = np.where(np.isfinite(panel.rate), panel.rate, np.nan)
    z = np.where(z > vmax, np.nan, z)  # leave out what the colour scale cannot show
    xx, yy = np.meshgrid(panel.x, panel.y)
    stride = max(1, len(panel.x) // 60)
    ax.plot_surface(
        xx,
        yy,
        z,
        cmap="viridis",
        vmin=0.0,
        vmax=vmax,
        rstride=stride,
        cstride=stride,
        linewidth=0,
        antialiased=False,
        rasterized=True,
    )
    ax.set_zlim(0.0, vmax)
    ax.set_xlabel(panel.xlabel, labelpad=-1)
    ax.set_ylabel(panel.ylabel, labelpad=-1)
    ax.set_zlabel(panel.zlabel, labelpad=-3)
    ax.tick_params(axis="both", pad=-2, labelsize=6)
    # Look from the zero-rate corner (large x and y) towards the steep walls.
    ax.view_init(elev=24, azim=50)
    ax.set_title(panel.title, fontsize=7.5)


def _pair_figure(rows: Sequence[RatePanel]) -> Any:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(TEXT_WIDTH_IN, 2.9 * len(rows)), layout="constrained")
    for k, panel in enumerate(rows):
        ax3 = fig.add_subplot(len(rows), 2, 2 * k + 1, projection="3d")
        _draw_surface(ax3, panel)
        ax2 = fig.add_subplot(len(rows), 2, 2 * k + 2)
        _draw_contour(ax2, panel)
    return fig


def _single_figure(panel: RatePanel) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.6), layout="constrained")
    _draw_contour(ax, panel)
    return fig


def theory_figures(
    out_dir: str | os.PathLike[str], *, grid: int = 241, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Draw every theory figure into `out_dir`; return the files written.

    Parameters
    ----------
    out_dir : path
        Output folder (created if missing).
    grid : int
        Points per axis of each rate map (>= 5; tests use a coarse grid).
    formats : sequence of {"png", "pdf", "svg"}
        File formats.
    """
    if int(grid) != grid or grid < 5:
        raise ValueError(f"`grid` must be an integer >= 5; got {grid!r}.")
    gauss = gaussian_panels(grid)
    binary = binary_panels(grid)
    written: list[Path] = []
    with paper_style():
        written += save_figure(
            _pair_figure([gauss["rdc"], gauss["rpc"]]), out_dir, "gaussian_rdc_rpc", formats
        )
        written += save_figure(
            _pair_figure([binary["rdc"], binary["rpc"]]), out_dir, "binary_rdc_rpc", formats
        )
        written += save_figure(
            _pair_figure([gauss["rdp"], binary["rdp"]]), out_dir, "rdp_comparison", formats
        )
        for panel in (*gauss.values(), *binary.values()):
            written += save_figure(_single_figure(panel), out_dir, f"{panel.name}_contour", formats)
    return written
