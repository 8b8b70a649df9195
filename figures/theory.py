"""Theory figures: RDC, RPC and RDP surfaces and contour maps for the Gaussian and binary models.

Reproduces the RDPC paper's theory figure (Wang, Wu, Ma, Zhang, "Rate-Distortion-
Perception-Classification Tradeoff", IEEE JSAC 2025, arXiv:2405.04144, Sec. IV: Gaussian
RDC and RPC, sigma_X^2 = 1, sigma_S^2 = 0.5, rho = 0.9, contour levels R = 0.3 ... 2.1)
with the units the values really have: **nats** (the paper's colour bar says bits, but its
plotted values are nats: the R = 0.6 contour turns at D = 0.3012 = e^{-1.2}, see
``docs/references.md``).  Adds the same pair for the binary model (p = 0.3, eps = 0.1,
bits) and RDP maps of both models for comparison.

Units: one per source in every figure (:data:`DEFAULT_UNITS`: Gaussian in nats as in the
paper, binary in bits); ``unit=`` (CLI ``--unit bits`` / ``--unit nats``) draws every source
in one unit instead.  Rates, C and every axis carry their unit in the label.

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

from .style import (
    COLUMN_WIDTH_IN,
    FORMATS,
    TEXT_WIDTH_IN,
    mark_contour_labels,
    paper_style,
    save_figure,
)

__all__ = [
    "PAPER_GAUSSIAN",
    "PAPER_BINARY",
    "GAUSSIAN_LEVELS_NATS",
    "GAUSSIAN_LEVELS_BITS",
    "UNIT_BASES",
    "DEFAULT_UNITS",
    "resolve_units",
    "RatePanel",
    "gaussian_panels",
    "binary_panels",
    "draw_contour",
    "color_limit",
    "theory_figures",
    "build_theory_figures",
]

#: The paper's theory-figure source: sigma_X^2 = 1, sigma_S^2 = 0.5, rho = 0.9.
PAPER_GAUSSIAN = GaussianSource(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))
#: The binary source of the paper's binary example (Sec. III): p = 0.3, eps = 0.1.
PAPER_BINARY = BinarySource(p=0.3, eps=0.1)
#: The paper's contour levels, R = 0.3 ... 2.1 nats.
GAUSSIAN_LEVELS_NATS = tuple(np.round(np.arange(0.3, 2.11, 0.3), 10))
#: Round levels of the same maps in bits (0.3 ... 2.1 nats is 0.43 ... 3.03 bits).
GAUSSIAN_LEVELS_BITS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0)
BINARY_LEVELS_BITS = tuple(np.round(np.arange(0.1, 0.81, 0.1), 10))
BINARY_LEVELS_NATS = tuple(np.round(np.arange(0.1, 0.51, 0.1), 10))
# RDP maps: the perception bound matters where the rate is small, so add low levels.
_LOW_LEVELS = {"gaussian": (0.05, 0.1, 0.2), "binary": (0.02, 0.05)}
_LEVELS = {
    ("gaussian", "nats"): GAUSSIAN_LEVELS_NATS,
    ("gaussian", "bits"): GAUSSIAN_LEVELS_BITS,
    ("binary", "bits"): BINARY_LEVELS_BITS,
    ("binary", "nats"): BINARY_LEVELS_NATS,
}
#: Logarithm base of each unit.
UNIT_BASES = {"bits": 2.0, "nats": math.e}
#: One unit per source in every figure: the Gaussian in nats (as the paper's figure), the
#: binary source in bits.
DEFAULT_UNITS = {"gaussian": "nats", "binary": "bits"}
_MSE_UNIT = "[units of $X^2$]"  # D and W2^2 of the Gaussian are in squared units of X


def resolve_units(unit: str | None) -> dict[str, str]:
    """The unit of each source: :data:`DEFAULT_UNITS` for ``None``/``"paper"``, else `unit`."""
    if unit in (None, "paper"):
        return dict(DEFAULT_UNITS)
    if unit not in UNIT_BASES:
        raise ValueError(f"`unit` must be one of 'paper', 'bits', 'nats'; got {unit!r}.")
    return {source: str(unit) for source in DEFAULT_UNITS}


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

    @property
    def short_labels(self) -> tuple[str, str]:
        """The axis labels without their leading words (the 3-D axes have little room)."""
        return _short(self.xlabel), _short(self.ylabel)


def _short(label: str) -> str:
    for word in ("classification ", "distortion ", "perception "):
        label = label.removeprefix(word)
    return label.replace(" [probability]", "")


def gaussian_panels(grid: int = 241, *, unit: str = "nats") -> dict[str, RatePanel]:
    """RDC, RPC (W2) and RDP (W2) maps of :data:`PAPER_GAUSSIAN`; rates and C in `unit`."""
    g, base = PAPER_GAUSSIAN, UNIT_BASES[unit]
    to_unit = math.log(math.e, base)  # nats -> unit: the paper's C range is in nats
    c = np.linspace(0.1, 1.0, grid) * to_unit
    d = np.linspace(0.0, 0.88, grid)
    p = np.linspace(0.0, 1.0, grid)
    c_label = rf"classification $C \geq h(S|\hat X)$ [{unit}]"
    d_label = rf"distortion $D$ (MSE) {_MSE_UNIT}"
    p_label = rf"perception $P \geq W_2^2(p_X, p_{{\hat X}})$ {_MSE_UNIT}"
    infeasible = r"infeasible: $C < h(S|X)$"
    cc, dd = np.meshgrid(c, d)
    rdc = np.asarray(g.rdc(dd, cc, base=base))
    cc2, pp = np.meshgrid(c, p)
    rpc = np.asarray(g.rpc(pp, cc2, perception="w2", base=base))
    d_rdp = np.linspace(0.0, 2.0, grid)
    p_rdp = np.linspace(0.0, 0.25, grid)
    pp3, dd3 = np.meshgrid(p_rdp, d_rdp)
    rdp = np.asarray(g.rdp(dd3, pp3, perception="w2", base=base))
    title = r"Gaussian ($\sigma_X^2=1$, $\sigma_S^2=0.5$, $\rho=0.9$)"
    levels = _LEVELS[("gaussian", unit)]
    return {
        "rdc": RatePanel("gaussian_rdc", f"RDC $R(D,C)$, {title}", c, d, rdc, c_label,
                         d_label, unit, levels, infeasible),
        "rpc": RatePanel("gaussian_rpc", f"RPC $R(P,C)$, {title}", c, p, rpc, c_label,
                         p_label, unit, levels, infeasible),
        "rdp": RatePanel("gaussian_rdp", f"RDP $R(D,P)$, {title}", p_rdp, d_rdp, rdp, p_label,
                         d_label, unit, (*_LOW_LEVELS["gaussian"], *levels)),
    }  # fmt: skip


def binary_panels(grid: int = 241, *, unit: str = "bits") -> dict[str, RatePanel]:
    """RDC, RPC and RDP (TV perception) maps of :data:`PAPER_BINARY`; rates and C in `unit`."""
    b, base = PAPER_BINARY, UNIT_BASES[unit]
    to_unit = math.log(2.0, base)  # the C range below is in bits
    c = np.linspace(0.4, 1.0, grid) * to_unit
    d = np.linspace(0.0, 0.35, grid)
    p = np.linspace(0.0, 0.3, grid)
    c_label = rf"classification $C \geq H(S|\hat X)$ [{unit}]"
    p_label = r"perception $P \geq |P(\hat X{=}1) - p|$ (TV) [probability]"
    d_label = r"distortion $D = P(X \neq \hat X)$ [probability]"
    infeasible = r"infeasible: $C < H_b(\varepsilon)$"
    cc, dd = np.meshgrid(c, d)
    rdc = np.asarray(b.rdc(dd, cc, base=base))
    cc2, pp = np.meshgrid(c, p)
    rpc = np.asarray(b.rpc(pp, cc2, base=base))
    d_rdp = np.linspace(0.0, 0.45, grid)
    pp3, dd3 = np.meshgrid(p, d_rdp)
    rdp = np.asarray(b.rdp(dd3, pp3, base=base))
    title = r"binary ($p=0.3$, $\varepsilon=0.1$)"
    levels = _LEVELS[("binary", unit)]
    return {
        "rdc": RatePanel("binary_rdc", f"RDC $R(D,C)$, {title}", c, d, rdc, c_label, d_label,
                         unit, levels, infeasible),
        "rpc": RatePanel("binary_rpc", f"RPC $R(P,C)$, {title}", c, p, rpc, c_label, p_label,
                         unit, levels, infeasible),
        "rdp": RatePanel("binary_rdp", f"RDP $R(D,P)$, {title}", p, d_rdp, rdp, p_label,
                         d_label, unit, (*_LOW_LEVELS["binary"], *levels)),
    }  # fmt: skip


def color_limit(panel: RatePanel) -> float:
    """Top of the colour scale (and of the surfaces): 15 % above the highest contour level."""
    return float(panel.levels[-1]) * 1.15


def _label_positions(lines: Any, panel: RatePanel) -> list[tuple[float, float]]:
    """One label point per contour level, staggered along the lines.

    Neighbouring levels get their labels at different fractions of their longest line
    (0.2, 0.5, 0.8 of its length in axes units), so that close parallel contours (the
    Gaussian maps near D = 0) do not stack their labels on top of each other.
    """
    span = np.array([panel.x[-1] - panel.x[0], panel.y[-1] - panel.y[0]], dtype=float)
    positions = []
    for k, segments in enumerate(lines.allsegs):
        if not segments:
            continue
        seg = max(segments, key=len)
        if len(seg) < 2:
            continue
        scaled = (seg - seg[0]) / span
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(scaled, axis=0).T))])
        target = (0.2, 0.5, 0.8)[k % 3] * arc[-1]
        i = int(np.searchsorted(arc, target).clip(0, len(seg) - 1))
        positions.append((float(seg[i, 0]), float(seg[i, 1])))
    return positions


def draw_contour(ax: Any, panel: RatePanel, *, colorbar: bool = True) -> Any:
    """Draw `panel` as a colour map with labelled white contours on `ax`; return the contours.

    Infeasible points are hatched grey (with the panel's ``infeasible`` label), rates above
    the colour scale saturate and the colour bar then gets an arrow.  Contour labels are
    staggered and marked for :func:`figures.style.save_figure`, which drops any label that
    would overlap another label, a marker or a legend; the colour bar carries every level
    as a white line, so a dropped label stays readable there.
    """
    import matplotlib.pyplot as plt

    z = np.ma.masked_invalid(np.where(np.isinf(panel.rate), np.nan, panel.rate))
    vmax = color_limit(panel)
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
    texts = ax.clabel(
        lines, fmt="%g", fontsize=6, inline=False, manual=_label_positions(lines, panel)
    )
    for t in texts:
        t.set_rotation(0)  # horizontal labels read at a glance
    mark_contour_labels(texts)
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
        cb.add_lines(lines)  # every contour level on the colour bar
        cb.ax.tick_params(labelsize=6.5)
    return lines


def _draw_surface(ax: Any, panel: RatePanel) -> None:
    vmax = color_limit(panel)
    z = np.where(np.isfinite(panel.rate), panel.rate, np.nan)
    cut = bool((z > vmax).any())  # finite rates above the scale (not the infeasible part)
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
    xlabel, ylabel = panel.short_labels
    ax.set_xlabel(xlabel, labelpad=-1)
    ax.set_ylabel(ylabel, labelpad=-1)
    ax.set_zlabel(panel.zlabel, labelpad=-3)
    ax.tick_params(axis="both", pad=-2, labelsize=6)
    # Look from the zero-rate corner (large x and y) towards the steep walls.
    ax.view_init(elev=24, azim=50)
    ax.set_title(panel.title, fontsize=7.5)
    if cut:  # say that the flat top is a cut, not the function
        ax.text2D(0.0, 0.93, f"flat top: surface cut at R = {vmax:.3g} {panel.unit};\n"
                  r"the rate rises on there (to $\infty$)", fontsize=6, color="0.3",
                  transform=ax.transAxes, va="top")  # fmt: skip


def _pair_figure(rows: Sequence[RatePanel]) -> Any:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(TEXT_WIDTH_IN, 2.9 * len(rows)), layout="constrained")
    for k, panel in enumerate(rows):
        ax3 = fig.add_subplot(len(rows), 2, 2 * k + 1, projection="3d")
        _draw_surface(ax3, panel)
        ax2 = fig.add_subplot(len(rows), 2, 2 * k + 2)
        draw_contour(ax2, panel)
    return fig


def _single_figure(panel: RatePanel) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.6), layout="constrained")
    draw_contour(ax, panel)
    return fig


def theory_figures(
    out_dir: str | os.PathLike[str],
    *,
    grid: int = 241,
    formats: Sequence[str] = FORMATS,
    unit: str | None = None,
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
    unit : {None, "paper", "bits", "nats"}
        Unit of rates and C: ``None``/``"paper"``: :data:`DEFAULT_UNITS` (Gaussian in nats,
        binary in bits); ``"bits"`` or ``"nats"``: every source in that unit.
    """
    written: list[Path] = []
    with paper_style():
        for name, fig in build_theory_figures(grid=grid, unit=unit).items():
            written += save_figure(fig, out_dir, name, formats)
    return written


def build_theory_figures(*, grid: int = 241, unit: str | None = None) -> dict[str, Any]:
    """The theory figures as matplotlib figures, by file stem (see :func:`theory_figures`).

    Call inside :func:`figures.style.paper_style` for the saved look.
    """
    if int(grid) != grid or grid < 5:
        raise ValueError(f"`grid` must be an integer >= 5; got {grid!r}.")
    units = resolve_units(unit)
    gauss = gaussian_panels(grid, unit=units["gaussian"])
    binary = binary_panels(grid, unit=units["binary"])
    figs = {
        "gaussian_rdc_rpc": _pair_figure([gauss["rdc"], gauss["rpc"]]),
        "binary_rdc_rpc": _pair_figure([binary["rdc"], binary["rpc"]]),
        "rdp_comparison": _pair_figure([gauss["rdp"], binary["rdp"]]),
    }
    for panel in (*gauss.values(), *binary.values()):
        figs[f"{panel.name}_contour"] = _single_figure(panel)
    return figs
