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

__all__ = ["gaussian_grid"]

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
