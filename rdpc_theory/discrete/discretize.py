"""Discretized continuous sources for :class:`~rdpc_theory.DiscreteSource`.

One function per source family; each returns the arrays a :class:`DiscreteSource` is made
of (the source law, the label channel and the distortion matrix) and validates its own
parameters.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from .._validation import check_scalar

__all__ = ["gaussian_grid", "gaussian_grid_2d", "product_grid_of"]

FloatArray = NDArray[np.float64]


def gaussian_grid(
    var_x: float, var_s: float, cov: float, n: int, n_s: int | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""A jointly Gaussian (X, S) on grids with squared error: ``(p_x, p_s_given_x, d)``.

    X is quantized to `n` cells of equal width on :math:`\pm(\sqrt{2\ln n} + 1)\sigma_X`
    (outer cells unbounded); each letter is the cell's conditional mean and carries the
    cell's probability.  S given a letter x is :math:`N(\theta x/\sigma_X^2,
    \sigma^2_{S|X})` quantized the same way on `n_s` cells (default n).  ``d`` is the
    squared difference of the letters (the reproduction alphabet is X's).  See
    :meth:`~rdpc_theory.DiscreteSource.from_gaussian`.
    """
    vx = check_scalar("var_x", var_x, 0.0, math.inf, low_open=True)
    vs = check_scalar("var_s", var_s, 0.0, math.inf, low_open=True)
    theta = check_scalar("cov", cov)
    if theta**2 > vx * vs * (1 + 1e-12):
        raise ValueError(f"`cov` must satisfy |cov| <= sqrt(var_x * var_s); got {theta:g}.")
    n = int(check_scalar("n", n, 1.0))
    n_s = n if n_s is None else int(check_scalar("n_s", n_s, 1.0))
    sx = math.sqrt(vx)
    half = (math.sqrt(2.0 * math.log(max(n, 2))) + 1.0) * sx
    edges = np.linspace(-half, half, n + 1)
    edges[0], edges[-1] = -np.inf, np.inf
    z = edges / sx
    mass = np.diff(norm.cdf(z))
    # Conditional mean of a normal on (a, b): sx * (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    x = sx * (norm.pdf(z[:-1]) - norm.pdf(z[1:])) / mass
    var_cond = max(vs - theta**2 / vx, 0.0)
    ss = math.sqrt(vs)
    half_s = (math.sqrt(2.0 * math.log(max(n_s, 2))) + 1.0) * ss
    edges_s = np.linspace(-half_s, half_s, n_s + 1)
    edges_s[0], edges_s[-1] = -np.inf, np.inf
    mean_s = theta / vx * x
    if var_cond > 0:
        cdf = norm.cdf((edges_s[None, :] - mean_s[:, None]) / math.sqrt(var_cond))
    else:
        cdf = (edges_s[None, :] >= mean_s[:, None]).astype(np.float64)
    W = np.diff(cdf, axis=1)
    W = W / W.sum(axis=1, keepdims=True)
    return mass / mass.sum(), W, (x[:, None] - x[None, :]) ** 2


def gaussian_grid_2d(
    cov: NDArray[np.float64] | list[list[float]], n_side: int
) -> tuple[FloatArray, list[FloatArray], list[FloatArray]]:
    r"""A centred 2-D Gaussian on an `n_side` x `n_side` grid with squared error:
    ``(p, axis_costs, axes)``.

    Each axis i is cut into `n_side` cells of equal width on :math:`\pm(\sqrt{2\ln
    n_{side}} + 1)\sigma_i`; a letter is a cell centre with probability proportional to the
    density there (midpoint rule; cells in C order, the second axis fastest).  The
    distortion :math:`\lVert x - \hat x\rVert^2` is separable, ``axis_costs[i]`` being the
    squared differences of ``axes[i]``: the input of
    :func:`rdpc_theory.rate_distortion.product.product_rate_distortion` (reproductions on the
    same grid).  Units: those of the coordinates (distortion: their square).
    """
    C = np.asarray(cov, dtype=np.float64)
    if C.shape != (2, 2) or not np.all(np.isfinite(C)) or C[0, 1] != C[1, 0]:
        raise ValueError(f"`cov` must be a finite symmetric 2 x 2 matrix; got {C.tolist()!r}.")
    if C[0, 0] <= 0 or np.linalg.det(C) <= 0:
        raise ValueError(f"`cov` must be positive definite; got {C.tolist()!r}.")
    n = int(check_scalar("n_side", n_side, 2.0))
    half = math.sqrt(2.0 * math.log(n)) + 1.0
    axes = [np.linspace(-1.0, 1.0, n) * half * (1.0 - 1.0 / n) * math.sqrt(C[i, i]) for i in (0, 1)]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    log_density = -0.5 * np.einsum("ni,ij,nj->n", X, np.linalg.inv(C), X)
    p = np.exp(log_density - log_density.max())
    costs = [(a[:, None] - a[None, :]) ** 2 for a in axes]
    return p / p.sum(), costs, axes


def product_grid_of(
    points: NDArray[np.float64], decimals: int = 9
) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """Axes of the product grid that holds `points` (n, k), and each point's flat index.

    For sources whose letters are the kept cells of a grid (cells of negligible mass
    dropped): the axes are the distinct coordinates (after rounding to `decimals`), the
    indices in C order.  Raises when the points repeat.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] == 0 or not np.all(np.isfinite(pts)):
        raise ValueError(f"`points` must be a finite (n, k) array; got shape {pts.shape}.")
    axes, codes = [], []
    for column in np.round(pts, decimals).T:
        values, inverse = np.unique(column, return_inverse=True)
        axes.append(values)
        codes.append(inverse)
    flat = np.ravel_multi_index(tuple(codes), tuple(a.size for a in axes))
    if np.unique(flat).size != flat.size:
        raise ValueError("`points` must be distinct grid cells; got a repeated point.")
    return axes, flat
