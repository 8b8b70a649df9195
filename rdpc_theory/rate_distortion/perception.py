r"""Slope problems with a perception ball on the output marginal, with a certified gap.

:math:`\min_Q I(X;\hat X) + E_Q[w]` subject to :math:`d_{\mathcal P}(pQ, p_{ball}) \le P`
(TV or KL, nats).  :func:`perception_slope_solve` sends TV balls of positive radius to
the barrier method of :mod:`.tv_barrier` (~50–90 Newton steps) and polishes with the
iteration below when float64 stops the barrier short of `tol`.  Alternating minimization of
the jointly convex
:math:`\sum pQ \log(Q/r') + E_Q w` over (Q, r'): the Q-step (KL projection of the Gibbs
channel onto the marginal constraint) is interleaved with the r'-step as generalized
Sinkhorn scaling [3]_ — row normalization, then the column scaling
:math:`b = \Pi_{\mathcal P}(s)/s` with :math:`\Pi_{\mathcal P}` the information projection
(the *constrained marginal update*, :func:`rdpc_theory._channel.project_marginal`).

Certificate [1]_ [2]_: for any positive r and any :math:`\mu \in \mathbb R^{\hat{\mathcal
X}}`,

.. math::
    \min_{Q:\,pQ \in \mathcal P} I + E_Q w \;\ge\; -\sum_x p(x) \log Z(x)
    - \log \max_{\hat x} c(\hat x) - \sigma_{\mathcal P}(\mu),

with :math:`Z(x) = \sum_{\hat x} r e^{-w-\mu}`, :math:`c(\hat x) = \sum_x p e^{-w-\mu}/Z`
and :math:`\sigma_{\mathcal P}` the support function of the ball (Lagrangian duality on the
marginal constraint, then Blahut's bound of :mod:`.slope` for the cost w + μ).  The
multiplier is :math:`\mu = \log K^T(p/Z)`, the best one for λ = 1/Z (see ``_bounds``).

References
----------
.. [1] R. E. Blahut, "Computation of channel capacity and rate-distortion functions",
   IEEE Trans. IT 18(4), 1972, Theorem 7.
.. [2] I. Csiszár, "On the computation of rate-distortion functions", IEEE Trans. IT
   20(1), 1974.
.. [3] L. Chizat, G. Peyré, B. Schmitzer, F.-X. Vialard, "Scaling algorithms for unbalanced
   optimal transport problems", Math. Comp. 87, 2018 (generalized Sinkhorn, Alg. 1).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._channel import perception_value, project_kl, project_tv, support_function
from ..threads import solver_threads
from .kernel import FEASIBILITY_TOL, FloatArray, gibbs_channel, gibbs_kernel, gibbs_value_at
from .slope import NO_CHANNEL, SlopeSolution
from .tv_barrier import tv_slope_solve

__all__ = [
    "perception_slope_solve",
    "perception_certificate",
    "sinkhorn_scaling_solve",
    "PERCEPTION_METHODS",
]

PERCEPTION_METHODS = ("auto", "sinkhorn", "barrier")

_TINY = 1e-300


def perception_slope_solve(
    p: FloatArray,
    w: FloatArray,
    p_ball: FloatArray,
    P: float,
    kind: str,
    warm: tuple[FloatArray, FloatArray | None] | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 20000,
    threads: int | None = None,
    method: str = "auto",
    basis: FloatArray | None = None,
) -> SlopeSolution:
    r"""Minimize :math:`I + E_Q w` subject to :math:`d_{kind}(pQ, p_{ball}) \le P` (nats).

    Parameters
    ----------
    p : ndarray (n,)
        Source marginal (positive).
    w : ndarray (n, m)
        Cost in nats.
    p_ball, P, kind
        Centre, radius (TV, or KL in nats) and ``"tv"``/``"kl"`` of the perception ball.
    warm : (reference, scaling), optional
        Warm start from a nearby slope (:attr:`SlopeSolution.reference`, ``.scaling``).
    tol : float
        Target certified gap (nats); checked every 10 (later 50) Sinkhorn steps.
    max_iter : int
        Sinkhorn steps at most; then the best feasible certificate seen is returned.
    threads : int, optional
        BLAS threads (:mod:`rdpc_theory.threads`).
    method : {"auto", "sinkhorn", "barrier"}
        ``"auto"``: the barrier method of :mod:`.tv_barrier` for a TV ball of positive
        radius (its warm start is the `scaling` of a barrier solution), generalized
        Sinkhorn otherwise (KL balls converge in ~10^2 steps; TV balls need ~10^4–10^5).
    basis : ndarray (n, ℓ), optional
        Range basis from a nearby barrier solve (:attr:`SlopeSolution.basis`).
    """
    if method not in PERCEPTION_METHODS:
        raise ValueError(f"`method` must be one of {PERCEPTION_METHODS}; got {method!r}.")
    barrier = method == "barrier" or (method == "auto" and kind == "tv" and P > 0)
    if barrier:
        if kind != "tv" or P <= 0:
            raise ValueError(f"`method` 'barrier' needs kind 'tv' and P > 0; got {kind!r}, {P!r}.")
        start = None if warm is None or warm[1] is None else warm[0] * warm[1]
        sol = tv_slope_solve(
            p, w, p_ball, P, start, tol=tol, max_iter=400, basis=basis, threads=threads
        )
        if sol.feasible and sol.gap <= tol:
            return sol
        # Below the barrier's float64 floor (gap ~ 3 m mu): polish by generalized Sinkhorn
        # from its point, whose certificate is already close.
        with solver_threads(w.size, threads):
            polished = _perception_slope_solve(
                p, w, p_ball, P, kind, (sol.reference, sol.scaling), tol, max_iter
            )
        polished = replace(polished, n_iter=sol.n_iter + polished.n_iter, basis=sol.basis)
        return polished if polished.feasible and polished.gap < sol.gap else sol
    with solver_threads(w.size, threads):
        return _perception_slope_solve(p, w, p_ball, P, kind, warm, tol, max_iter)


def _perception_slope_solve(
    p: FloatArray,
    w: FloatArray,
    p_ball: FloatArray,
    P: float,
    kind: str,
    warm: tuple[FloatArray, FloatArray | None] | None,
    tol: float,
    max_iter: int,
) -> SlopeSolution:
    K, w_min = gibbs_kernel(w)
    sol = sinkhorn_scaling_solve(p, K, float(p @ w_min), p_ball, P, kind, warm, tol, max_iter)
    # The n x m channel only for the answer (forming it at every check cost more than the
    # Sinkhorn steps at 4,096 letters).
    assert sol.scaling is not None  # the scaling solver always returns one
    forbidden = (p_ball <= 0) if kind == "kl" else np.zeros(p_ball.size, dtype=bool)
    Q, _ = gibbs_channel(K, np.where(forbidden, 0.0, sol.reference * sol.scaling))
    return replace(sol, channel=Q)


_NEGLIGIBLE = 1e-200
"""Relative weight below which a Sinkhorn step treats a letter's weight as zero."""


def sinkhorn_scaling_solve(
    p: FloatArray,
    K: Any,
    base: float,
    p_ball: FloatArray,
    P: float,
    kind: str,
    warm: tuple[FloatArray, FloatArray | None] | None = None,
    tol: float = 1e-10,
    max_iter: int = 20000,
) -> SlopeSolution:
    r"""Generalized Sinkhorn (module docstring) for a kernel given by its products alone.

    `K` is the row-stabilized Gibbs kernel (a matrix, or an operator with ``K @ v`` and
    ``K.T @ y``, e.g. :class:`.product.ProductKernel`) and `base` :math:`\sum_x p(x)
    w_{\min}(x)`.  Returns the :class:`SlopeSolution` of the best feasible certificate seen,
    *without* its channel (``channel`` empty): the channel is the Gibbs channel of
    ``reference * scaling`` (zero on letters a KL ball forbids).
    """
    m = p_ball.size
    if warm is None:
        ref = p_ball.copy() if np.all(p_ball > 0) else np.full(m, 1.0 / m)
        scale = np.ones(m)
    else:
        ref = np.maximum(warm[0], 1e-300)
        scale = np.ones(m) if warm[1] is None else warm[1].copy()
    ref = ref / ref.sum()
    forbidden = (p_ball <= 0) if kind == "kl" else np.zeros(m, dtype=bool)
    allowed = (~forbidden).astype(np.float64)
    best: tuple[float, float, float, FloatArray, FloatArray, bool] | None = None
    last = best
    it = 0
    check_every = 10
    t_kl: float | None = None
    tv_order: NDArray[np.intp] | None = None  # the last TV projection's sorting order
    while it < max_iter:
        it += 1
        v = ref * scale * allowed
        # Weights below 1e-200 of the largest change no product the iteration uses, but
        # their products with small kernel entries are subnormal floats, which the CPU
        # handles ~20x slower (64 x 64 grid: 30% of a TV step).  The certificate
        # (_bounds) uses the weights as they are.
        v[v < _NEGLIGIBLE * float(v.max())] = 0.0
        Z = K @ v
        s = ref * (K.T @ (p / Z))
        s = np.maximum(s, 1e-300 * float(s.max())) * allowed
        if kind == "kl":
            target, t_kl = project_kl(s, p_ball, P, t_kl)
        else:
            target, tv_order = project_tv(s, p_ball, P, tv_order)
        scale = np.divide(target, s, out=np.zeros_like(s), where=s > 0)
        ref = target
        if it % check_every and it < max_iter:
            continue
        value, lower, feasible = _bounds(p, K, base, ref, scale, p_ball, P, kind, forbidden)
        last = (value - lower, value, lower, ref, scale, feasible)
        if feasible and (best is None or last[0] < best[0]):
            best = last
        if feasible and last[0] <= tol:
            break
        if it >= 200:
            check_every = 50
    chosen = best if best is not None else last
    assert chosen is not None  # max_iter >= 1 always checks at the last step
    _, value, lower, ref, scale, feasible = chosen
    return SlopeSolution(NO_CHANNEL, value, lower, ref, scale, it, feasible)


def perception_certificate(
    p: FloatArray,
    w: FloatArray,
    K: FloatArray,
    base: float,
    ref: FloatArray,
    scale: FloatArray,
    p_ball: FloatArray,
    P: float,
    kind: str,
    forbidden: NDArray[np.bool_],
) -> SlopeSolution:
    """Channel, feasibility and the μ-dual lower bound (module docstring) at a scaling."""
    value, lower, feasible = _bounds(p, K, base, ref, scale, p_ball, P, kind, forbidden)
    Q, _ = gibbs_channel(K, np.where(forbidden, 0.0, ref * scale))
    return SlopeSolution(Q, value, lower, ref, scale, 0, feasible)


def _bounds(
    p: FloatArray,
    K: FloatArray,
    base: float,
    ref: FloatArray,
    scale: FloatArray,
    p_ball: FloatArray,
    P: float,
    kind: str,
    forbidden: NDArray[np.bool_],
) -> tuple[float, float, bool]:
    r"""(value, lower, feasible) of the Gibbs channel of ``ref * scale``: two products.

    The multiplier is :math:`\mu = \log K^T(p/Z)` (so that every :math:`c(\hat x) = 1`):
    for the λ = 1/Z of this scaling it is the best one, since σ is monotone and
    :math:`\sigma(\mu + t) = \sigma(\mu) + t` (reading μ off the scaling instead left
    the bound ~10^3 times slower to converge: benchmarks/discrete_large.py).  Letters the
    ball forbids (KL: outside the centre's support) get the largest μ: σ ignores them.
    """
    v = np.where(forbidden, 0.0, ref * scale)
    Z = K @ v
    c_full = K.T @ (p / Z)
    value = gibbs_value_at(p, base, v, Z, c_full)
    feasible = perception_value(v * c_full, p_ball, kind) <= P + FEASIBILITY_TOL
    usable = (c_full > 0) & ~forbidden
    log_c = np.log(np.where(usable, c_full, 1.0))
    top = float(log_c[usable].max()) if usable.any() else 0.0
    # Any finite mu is valid; capping it 700 nats below the top keeps exp(-mu) finite.
    mu = np.where(usable, np.maximum(log_c, top - 700.0), top)
    # Shifting mu by `top` shifts both log max c and sigma by it (sum r = 1): work shifted.
    c = np.where(forbidden, 0.0, c_full * np.exp(-(mu - top)))
    sigma = support_function(mu - top, p_ball, P, kind)
    lower = base - float(p @ np.log(Z)) - math.log(max(float(c.max()), _TINY)) - sigma
    return value, min(lower, value), feasible
