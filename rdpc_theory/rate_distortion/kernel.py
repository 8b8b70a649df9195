r"""Gibbs kernels of slope problems: the building block shared by every solver here.

A slope problem :math:`\min_Q I(X;\hat X) + E_Q[w(X,\hat X)]` (nats) is solved through the
kernel :math:`K = e^{-w}`; we store it row-stabilized, :math:`K(x,\hat x) =
e^{-(w(x,\hat x) - \min_{\hat x'} w(x,\hat x'))}`, so each row has a 1 and no underflow
to an all-zero row.  For an output weight vector v the Gibbs channel is
:math:`Q(\hat x|x) = K(x,\hat x) v(\hat x) / Z(x)` with :math:`Z = K v`.

Memory: K is a dense float64 |X| x |X̂| matrix (134 MB at 4,096 x 4,096), built once per
slope.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .._channel import expected_cost, mutual_information

__all__ = [
    "FEASIBILITY_TOL",
    "FloatArray",
    "combined_cost",
    "gibbs_kernel",
    "gibbs_channel",
    "gibbs_value",
    "gibbs_value_at",
    "slope_objective",
]

FloatArray = NDArray[np.float64]
FEASIBILITY_TOL = 1e-9
"""A channel counts as feasible when each constraint holds to within this (nats / cost)."""


def combined_cost(c: FloatArray, beta: float, w0: FloatArray | None = None) -> FloatArray:
    r"""Cost :math:`\beta c + w_0` of a slope problem, with 0 * inf = 0 and, for β = inf,
    :math:`w_0` on the minimum-cost letters of each row and ``inf`` elsewhere."""
    if math.isinf(beta):
        base = np.zeros_like(c) if w0 is None else w0
        c_t = c - c.min(axis=1, keepdims=True)
        return np.where(c_t <= 0.0, base, np.inf)
    if beta == 0.0:
        return np.zeros_like(c) if w0 is None else w0.copy()
    out = c * beta  # beta > 0 finite: inf stays inf, no 0 * inf
    if w0 is not None:
        out += w0
    return out


def gibbs_kernel(w: FloatArray, *, overwrite: bool = False) -> tuple[FloatArray, FloatArray]:
    r"""Row-stabilized kernel :math:`e^{-(w - \min_{\hat x} w)}` and the row minima.

    Entries with ``w = inf`` (forbidden pairs) are 0; each row needs a finite entry.
    ``overwrite=True`` builds K in w's memory (for callers done with w, e.g. a fresh
    :func:`combined_cost`: on this kind of machine each fresh 134 MB array costs 0.2–0.5 s
    of page faults at 4,096 x 4,096, more than the exponential itself).
    """
    w_min = w.min(axis=1)
    if not np.all(np.isfinite(w_min)):
        raise ValueError("`w` must have a finite entry in every row; got a row without one.")
    K = np.subtract(w, w_min[:, None], out=w if overwrite else None)
    np.negative(K, out=K)
    np.exp(K, out=K)  # in place: one n x m temporary, not three
    return K, w_min


def gibbs_channel(
    K: FloatArray, v: FloatArray, *, overwrite: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Gibbs channel :math:`K v / (K v)` row-normalized, and the normalizers Z = K v.

    ``overwrite=True`` builds the channel in K's memory (for callers done with K: saves a
    134 MB allocation at 4,096 x 4,096).
    """
    Kv = np.multiply(K, v[None, :], out=K if overwrite else None)
    Z = Kv.sum(axis=1)
    Kv /= Z[:, None]
    return Kv, Z


def gibbs_value(p: FloatArray, K: FloatArray, base: float, v: FloatArray) -> float:
    r"""Objective :math:`I(X;\hat X) + E_Q[w]` of the Gibbs channel of weights v (nats).

    With :math:`Z = K v`, :math:`c = K^T(p/Z)` and the output marginal :math:`q = v \odot
    c`, :math:`\log Q = -(w - w_{\min}) + \log v - \log Z`, so

    .. math::
        I + E_Q w = \sum_x p(x) w_{\min}(x) - \sum_x p(x)\log Z(x)
        - \sum_{\hat x} q(\hat x) \log c(\hat x),

    two matrix–vector products instead of an n x m logarithm.
    """
    Z = K @ v
    return gibbs_value_at(p, base, v, Z, K.T @ (p / Z))


def gibbs_value_at(
    p: FloatArray, base: float, v: FloatArray, Z: FloatArray, c: FloatArray
) -> float:
    """:func:`gibbs_value` from its two products ``Z = K v``, ``c = K^T (p / Z)``."""
    q = v * c
    used = q > 0
    return base - float(p @ np.log(Z)) - float(q[used] @ np.log(c[used]))


def slope_objective(p: FloatArray, Q: FloatArray, w: FloatArray) -> float:
    """:math:`I(X;\\hat X) + E_Q[w]` of a channel (nats)."""
    return mutual_information(p, Q) + expected_cost(p, Q, w)
