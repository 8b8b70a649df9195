r"""Slope problems :math:`F(w) = \min_Q I(X;\hat X) + E_Q[w(X,\hat X)]` with a certified gap.

With :math:`K = e^{-w}` (:mod:`.kernel`), :math:`F(w) = \min_r -\sum_x p(x) \log (K r)(x)`
over output distributions r [1]_, the minimizing channel being the Gibbs channel of r.
For *any* positive r, with :math:`Z = K r` and :math:`c = K^T (p / Z)`,

.. math::
    -\sum_x p(x) \log Z(x) - \log \max_{\hat x} c(\hat x)
    \;\le\; F(w) \;\le\; I(Q_r) + E_{Q_r}[w] \;\le\; -\sum_x p(x) \log Z(x),

(Blahut [1]_ Thm. 7, Csiszár [2]_): the left side is the dual objective at
:math:`\lambda = 1/(Z \max c)`, which satisfies every dual constraint
:math:`\sum_x p(x) \lambda(x) K(x, \hat x) \le 1`.  So the gap is at most
:math:`\log \max c`.  A repaired dual point (:mod:`.dual_bound`: λ scaled down on a few
rows instead of all) certifies far smaller gaps where the largest c sit in the tails of a
discretized continuous source; every solver here drives the smaller of the two to `tol`.
Everything is in nats and computed in float64.

Two solvers of the same problem:

* ``method="ba"``: plain Blahut–Arimoto, :math:`r \leftarrow r \odot c`.  Two matrix–vector
  products per step, but sublinear convergence where the optimal r has zeros, which
  discretized continuous sources always have (Gaussian grid, n = 1,024: gap 2.9e-5 bits
  after 29,213 steps; benchmarks/discrete_large.py).
* ``method="ipm"`` (default): a few BA steps, then the interior-point method of
  :mod:`.interior_point`, ~10–25 Newton steps to a 1e-9 gap; above 256 columns with a
  low-rank Newton system when the kernel's numerical rank is small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..threads import solver_threads
from .dual_bound import certified_gap
from .interior_point import LOW_RANK_MIN_COLUMNS, interior_point_solve, range_basis
from .kernel import FloatArray, gibbs_channel, gibbs_kernel, gibbs_value_at

__all__ = [
    "SlopeSolution",
    "slope_solve",
    "blahut_bounds",
    "blahut_steps",
    "blahut_upper",
    "SLOPE_METHODS",
]

SLOPE_METHODS = ("ipm", "ba")
NO_CHANNEL = np.empty((0, 0))
"""The ``channel`` of a :class:`SlopeSolution` that carries none (channel-free solvers)."""


@dataclass(frozen=True)
class SlopeSolution:
    """Result of one slope problem :math:`\\min_Q I + E_Q w` (nats).

    Attributes
    ----------
    channel : ndarray (n, m)
        The Gibbs channel of `reference`.
    value : float
        Its objective :math:`I + E_Q w` (exact for a Gibbs channel; an upper bound on it
        for a channel post-processed into a TV ball, :mod:`.tv_barrier`): an upper bound
        on the minimum when `feasible`.
    lower : float
        Certified lower bound on the minimum.
    reference : ndarray (m,)
        Output weights r (the warm start for a nearby slope).
    scaling : ndarray (m,) or None
        Column scaling of a perception-constrained solve (its warm start), else None.
    n_iter : int
        Iterations (BA steps + Newton steps, or Sinkhorn steps).
    feasible : bool
        Whether `channel` meets the problem's constraints.
    basis : ndarray (n, ℓ) or None
        Range basis of the kernel used by a low-rank interior-point solve (passed to the
        next solve at a nearby slope, whose range finder extends it if that slope's cross
        approximation fails its check: :func:`.interior_point.range_basis`).
    cost : float or None
        :math:`E_Q c` of the channel, for solvers that return no channel (``channel`` empty;
        :mod:`.product`); None otherwise.
    """

    channel: FloatArray
    value: float
    lower: float
    reference: FloatArray
    scaling: FloatArray | None
    n_iter: int
    feasible: bool
    basis: FloatArray | None = None
    cost: float | None = None

    @property
    def gap(self) -> float:
        """Certified gap ``value - lower`` (nats)."""
        return self.value - self.lower


def blahut_bounds(
    p: FloatArray, K: Any, base: float, r: FloatArray, tol: float = 0.0
) -> tuple[float, float, FloatArray, FloatArray]:
    """(upper, lower, Z, c) of the module docstring at weights r, for the row-stabilized K
    whose row minima sum (weighted by p) to `base`; `lower` from the better of Blahut's
    dual point and its repair (:func:`.dual_bound.certified_gap`, tried where Blahut's gap
    exceeds `tol`).  Z and c are the two products, for :func:`.kernel.gibbs_value_at`."""
    Z = K @ r
    c = K.T @ (p / Z)
    upper = blahut_upper(p, base, Z)
    return upper, upper - certified_gap(p, K, Z, c, tol), Z, c


def blahut_upper(p: FloatArray, base: float, Z: FloatArray) -> float:
    r"""Blahut's upper bound :math:`base - \sum p \log Z` from ``Z = K @ r`` (nats)."""
    return base - float(p @ np.log(Z))


def blahut_steps(
    p: FloatArray, K: Any, base: float, r: FloatArray, steps: int, tol: float
) -> tuple[FloatArray, float, float, FloatArray, FloatArray, int]:
    r"""At most `steps` Blahut–Arimoto steps :math:`r \leftarrow r \odot c` from r (K a
    matrix or an operator with ``K @ v``, ``K.T @ y``), stopping at gap <= `tol`:
    ``(r, upper, lower, Z, c, steps taken)``, Z and c at the returned r."""
    upper, lower, Z, c = blahut_bounds(p, K, base, r, tol)
    it = 0
    while it < steps and upper - lower > tol:
        it += 1
        r = r * c
        r /= r.sum()
        upper, lower, Z, c = blahut_bounds(p, K, base, r, tol)
    return r, upper, lower, Z, c, it


def slope_solve(
    p: FloatArray,
    w: FloatArray,
    r0: FloatArray | None = None,
    *,
    tol: float = 1e-10,
    method: str = "ipm",
    max_iter: int = 200,
    ba_steps: int = 5,
    basis: FloatArray | None = None,
    threads: int | None = None,
    overwrite: bool = False,
) -> SlopeSolution:
    r"""Minimize :math:`I(X;\hat X) + E_Q[w]` over all channels, with a certified gap.

    Parameters
    ----------
    p : ndarray, shape (n,)
        Source marginal, positive, summing to 1.
    w : ndarray, shape (n, m)
        Cost matrix in nats (entries may be ``inf``: forbidden pairs; each row needs a
        finite one).
    r0 : ndarray, shape (m,), optional
        Warm start for the output weights.
    tol : float
        Target certified gap in nats (module docstring).
    method : {"ipm", "ba"}
        Interior point after `ba_steps` BA steps, or plain Blahut–Arimoto (module docstring).
    max_iter : int
        Newton steps (``"ipm"``) or BA steps (``"ba"``) at most.
    basis : ndarray (n, ℓ), optional
        Range basis from a nearby kernel (:attr:`SlopeSolution.basis`), extended if the
        cross approximation fails its check (:func:`.interior_point.range_basis`).
    threads : int, optional
        BLAS threads (:mod:`rdpc_theory.threads`; default by problem size).
    overwrite : bool
        Build the kernel and then the returned channel in w's memory (w is destroyed):
        no n x m allocation per slope, for callers that pass a fresh cost matrix.

    Returns
    -------
    SlopeSolution
        ``lower`` is certified; ``value - lower <= tol`` unless `max_iter` ran out.
    """
    if method not in SLOPE_METHODS:
        raise ValueError(f"`method` must be one of {SLOPE_METHODS}; got {method!r}.")
    with solver_threads(w.size, threads):
        return _slope_solve(p, w, r0, tol, method, max_iter, ba_steps, basis, overwrite)


def _slope_solve(
    p: FloatArray,
    w: FloatArray,
    r0: FloatArray | None,
    tol: float,
    method: str,
    max_iter: int,
    ba_steps: int,
    basis: FloatArray | None,
    overwrite: bool,
) -> SlopeSolution:
    m = w.shape[1]
    K, w_min = gibbs_kernel(w, overwrite=overwrite)
    base = float(p @ w_min)
    usable = K.max(axis=0) > 0
    r = np.full(m, 1.0 / m) if r0 is None else np.maximum(r0, 0.0) + 1e-12 / m
    r = np.where(usable, r, 0.0)
    r /= r.sum()
    steps = max_iter if method == "ba" else ba_steps
    r, upper, lower, Z, c, it = blahut_steps(p, K, base, r, steps, tol)
    used_basis = None
    if method == "ipm" and upper - lower > tol and m > 1:
        idx = np.flatnonzero(usable)
        Ku = K[:, idx] if idx.size < m else K
        lr = None
        if idx.size >= LOW_RANK_MIN_COLUMNS:
            same_rows = basis is not None and basis.shape[0] == K.shape[0]
            lr = range_basis(Ku, basis if same_rows else None)
        res = interior_point_solve(p, Ku, r[idx], tol, max_iter, lr)
        it += res.n_iter
        if res.gap < upper - lower:
            # Unusable columns of K are zero: K r = Ku r[idx], and their c is 0.
            r, c = np.zeros(m), np.zeros(m)
            r[idx], c[idx], Z = res.r, res.c, res.Z
            upper = blahut_upper(p, base, Z)
            lower = upper - res.gap
        used_basis = None if lr is None else lr.U
    value = gibbs_value_at(p, base, r, Z, c)
    Q, _ = gibbs_channel(K, r, overwrite=True)
    return SlopeSolution(Q, value, min(lower, value), r, None, it, True, used_basis)
