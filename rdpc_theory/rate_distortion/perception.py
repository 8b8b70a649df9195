r"""Slope problems with a perception ball on the output marginal, with a certified gap.

:math:`\min_Q I(X;\hat X) + E_Q[w]` subject to :math:`d_{\mathcal P}(pQ, p_{ball}) \le P`
(TV or KL, nats).  Alternating minimization of the jointly convex
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
multiplier is read off the scaling, :math:`\mu = -\log b`.

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

import numpy as np
from numpy.typing import NDArray

from .._channel import perception_value, project_kl, project_marginal, support_function
from ..threads import solver_threads
from .kernel import FEASIBILITY_TOL, FloatArray, gibbs_channel, gibbs_kernel, gibbs_value
from .slope import SlopeSolution

__all__ = ["perception_slope_solve", "perception_certificate"]

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
    """
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
    m = w.shape[1]
    K, w_min = gibbs_kernel(w)
    base = float(p @ w_min)
    if warm is None:
        ref = p_ball.copy() if np.all(p_ball > 0) else np.full(m, 1.0 / m)
        scale = np.ones(m)
    else:
        ref = np.maximum(warm[0], 1e-300)
        scale = np.ones(m) if warm[1] is None else warm[1].copy()
    ref = ref / ref.sum()
    forbidden = (p_ball <= 0) if kind == "kl" else np.zeros(m, dtype=bool)
    best: SlopeSolution | None = None
    sol: SlopeSolution | None = None
    it = 0
    check_every = 10
    t_kl: float | None = None
    while it < max_iter:
        it += 1
        v = np.where(forbidden, 0.0, ref * scale)
        Z = K @ v
        s = ref * (K.T @ (p / Z))
        s = np.where(forbidden, 0.0, np.maximum(s, 1e-300 * float(s.max())))
        if kind == "kl":
            target, t_kl = project_kl(s, p_ball, P, t_kl)
        else:
            target = project_marginal(s, p_ball, P, kind)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(s > 0, target / s, 0.0)
        ref = target
        if it % check_every and it < max_iter:
            continue
        cert = perception_certificate(p, w, K, base, ref, scale, p_ball, P, kind, forbidden)
        sol = SlopeSolution(cert.channel, cert.value, cert.lower, ref, scale, it, cert.feasible)
        if sol.feasible and (best is None or sol.gap < best.gap):
            best = sol
        if sol.feasible and sol.gap <= tol:
            return sol
        if it >= 200:
            check_every = 50
    if best is None:
        assert sol is not None  # max_iter >= 1 always checks at the last step
        return sol
    return SlopeSolution(
        best.channel, best.value, best.lower, best.reference, best.scaling, it, True
    )


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
    ok = (scale > 0) & ~forbidden
    log_b = np.full(scale.shape, -np.inf)
    log_b[ok] = np.log(scale[ok])
    # mu = -log b, defined up to a constant; keep it finite (any finite mu is valid).
    hi = float(log_b[ok].max()) if ok.any() else 0.0
    lo_cap = hi - 700.0
    log_b = np.where(ok, np.maximum(log_b, lo_cap), lo_cap)
    mu = -(log_b - hi)
    b = np.where(forbidden, 0.0, np.exp(log_b - hi))
    v = ref * b
    Q, Z = gibbs_channel(K, v)
    c = b * (K.T @ (p / Z))
    sigma = support_function(mu, p_ball, P, kind)
    lower = base - float(p @ np.log(Z)) - math.log(max(float(c.max()), _TINY)) - sigma
    value = gibbs_value(p, K, base, v)
    feasible = perception_value(p @ Q, p_ball, kind) <= P + FEASIBILITY_TOL
    return SlopeSolution(Q, value, min(lower, value), ref, scale, 0, feasible)
