r"""Blahut–Arimoto-type solvers with certified bounds for discrete RDPC problems.

Three layers, all in nats on the support of the source marginal p:

1. **Slope problems** :math:`F(w) = \min_Q I(X;\hat X) + E_Q[w(X,\hat X)]` for a cost
   matrix w (e.g. :math:`w = \beta d`), optionally with the output marginal constrained to a
   perception ball :math:`p Q \in \mathcal P`.

   * Unconstrained marginal: :math:`F(w) = \min_r -\sum_x p(x)\log\sum_{\hat x}
     r(\hat x)e^{-w(x,\hat x)}` over the simplex [1]_.  Blahut–Arimoto is the multiplicative
     (EM) iteration :math:`r \leftarrow r \odot c`; it converges sublinearly when the optimal
     r has zeros, which discretized continuous sources always have.  After a few BA steps
     we therefore switch to a primal–dual interior-point method (Mehrotra predictor–
     corrector) on the same problem in r, which converges in ~10 Newton steps.  Written by
     hand: no library solves this simplex-constrained log-likelihood with exp-domain
     stability, and cvxpy/CLARABEL is orders of magnitude slower at |X| = 256.
   * Perception ball: alternating minimization of the jointly convex
     :math:`\sum p Q \log(Q/r')` over (Q, r') where the Q-step is a KL projection of the
     Gibbs channel onto :math:`\{p Q \in \mathcal P\}`, done by generalized Sinkhorn
     scaling [3]_ whose column step is the information projection of the output marginal
     onto :math:`\mathcal P` (the *constrained marginal update*,
     :func:`rdpc_theory._channel.project_marginal`).

   Every slope solve returns a certified lower bound on F from Blahut's dual [1]_ [2]_:
   for any positive vector r and any :math:`\mu \in \mathbb R^{\hat{\mathcal X}}`,

   .. math::
       \min_{Q:\,pQ \in \mathcal P} I + E_Q w \;\ge\; -\sum_x p(x) \log Z(x)
       - \log \max_{\hat x} c(\hat x) - \sigma_{\mathcal P}(\mu),

   with :math:`Z(x) = \sum_{\hat x} r e^{-w-\mu}`, :math:`c(\hat x) = \sum_x p
   e^{-w-\mu}/Z` and the support function :math:`\sigma_{\mathcal P}` (μ = 0 without a
   perception bound).  The rate of the returned channel is the matching upper bound.

2. **Targets** :func:`solve_target`: :math:`\min I + E_Q w_0` s.t. :math:`E_Q c \le b`,
   solved over slopes β (bracketing + secant in log β, warm-started).  The lower bound
   :math:`\max_\beta [F(w_0 + \beta c) - \beta b]` and the upper bound (rate of a feasible
   channel, mixing two bracketing slope channels so that the cost is exactly b) are both
   certified, and iteration stops on their gap, never on a step count alone.

3. **Classification** :math:`H(S|\hat X) \le C` (concave in Q, so not a convex
   constraint): :func:`lagrangian_point` minimizes :math:`I + \beta E d + \gamma H(S|\hat X)`
   by alternating exact slope solves with posterior updates (information-bottleneck
   style), and :func:`convex_concave` runs the convex–concave procedure for a target
   (D, C): the constraint is replaced by its linearization at the current channel, the
   cross-entropy :math:`E_Q[\ell_q] \le C` of the current posterior q, which is an inner
   approximation, so every iterate is feasible and the rate decreases monotonically.

References
----------
.. [1] R. E. Blahut, "Computation of channel capacity and rate-distortion functions",
   IEEE Trans. IT 18(4), 1972, Theorem 7 (lower bound).
.. [2] I. Csiszár, "On the computation of rate-distortion functions", IEEE Trans. IT
   20(1), 1974.
.. [3] L. Chizat, G. Peyré, B. Schmitzer, F.-X. Vialard, "Scaling algorithms for unbalanced
   optimal transport problems", Math. Comp. 87, 2018 (generalized Sinkhorn, Alg. 1).
.. [4] N. Tishby, F. Pereira, W. Bialek, "The information bottleneck method", 1999.
.. [5] T. Lipp, S. Boyd, "Variations and extension of the convex–concave procedure",
   Optim. Eng. 17, 2016.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dpotrf, dpotrs
from scipy.optimize import linprog

from ._channel import (
    conditional_entropy,
    cross_entropy_cost,
    cross_entropy_of,
    expected_cost,
    mutual_information,
    perception_value,
    posterior,
    project_kl,
    project_marginal,
    support_function,
)

__all__ = [
    "combined_cost",
    "SlopeSolution",
    "TargetSolution",
    "slope_solve",
    "perception_slope_solve",
    "solve_target",
    "lagrangian_point",
    "convex_concave",
    "minimize_label_entropy",
    "FEASIBILITY_TOL",
]

FloatArray = NDArray[np.float64]
FEASIBILITY_TOL = 1e-9
"""A channel counts as feasible when each constraint holds to within this (nats / cost)."""

_TINY = 1e-300


@dataclass(frozen=True)
class SlopeSolution:
    """Result of one slope problem :math:`\\min_Q I + E_Q w` (nats).

    `lower` is a certified lower bound on the minimum, `value` the objective of `channel`
    (an upper bound when `feasible`), `reference` the warm start for the next solve.
    """

    channel: FloatArray
    value: float
    lower: float
    reference: FloatArray
    scaling: FloatArray | None
    n_iter: int
    feasible: bool


@dataclass(frozen=True)
class TargetSolution:
    """Result of :func:`solve_target` (nats): channel, certified bounds, slope β."""

    channel: FloatArray
    upper: float
    lower: float
    beta: float
    reference: FloatArray
    n_iter: int
    converged: bool
    message: str


def _kernel(w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-stabilized Gibbs kernel :math:`e^{-(w - \\min_{\\hat x} w)}` and the row minima."""
    w_min = w.min(axis=1)
    with np.errstate(invalid="ignore"):
        K = np.exp(-(w - w_min[:, None]))
    K = np.where(np.isnan(K), 0.0, K)
    return K, w_min


def _gibbs_channel(K: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    Kv = K * v[None, :]
    Z = Kv.sum(axis=1)
    return Kv / Z[:, None], Z


def _objective(p: FloatArray, Q: FloatArray, w: FloatArray) -> float:
    return mutual_information(p, Q) + expected_cost(p, Q, w)


# -- slope problems ------------------------------------------------------------------------


def slope_solve(
    p: FloatArray,
    w: FloatArray,
    r0: FloatArray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
    ba_steps: int = 20,
) -> SlopeSolution:
    r"""Minimize :math:`I(X;\hat X) + E_Q[w]` over all channels, with a certified gap.

    Blahut–Arimoto steps, then a primal–dual interior-point method on the dual in r:
    minimize :math:`f(r) = -\sum_x p(x) \log (K r)(x)` over the simplex, whose KKT
    conditions are :math:`c(\hat x) = 1` on the support of r and :math:`c \le 1` off it.
    Stops when Blahut's gap :math:`\log \max_{\hat x} c(\hat x)` is at most `tol` (nats).

    Parameters
    ----------
    p : ndarray, shape (n,)
        Source marginal, positive, summing to 1.
    w : ndarray, shape (n, m)
        Cost matrix (entries may be ``inf``: forbidden pairs; each row needs a finite one).
    r0 : ndarray, shape (m,), optional
        Warm start for the output marginal.
    tol : float
        Target gap in nats.

    Returns
    -------
    SlopeSolution
    """
    n, m = w.shape
    K, w_min = _kernel(w)
    base = float(p @ w_min)
    r = np.full(m, 1.0 / m) if r0 is None else np.maximum(r0, 0.0) + 1e-12 / m
    r = r / r.sum()
    usable = K.max(axis=0) > 0
    r = np.where(usable, r, 0.0)
    r = r / r.sum()
    it = 0

    def bounds(rr: FloatArray) -> tuple[float, float, FloatArray, FloatArray]:
        Z = K @ rr
        c = K.T @ (p / Z)
        log_max_c = math.log(max(float(c.max()), _TINY))
        upper = base - float(p @ np.log(Z))
        return upper, upper - log_max_c, Z, c

    upper, lower, Z, c = bounds(r)
    while it < ba_steps and upper - lower > tol:
        it += 1
        r = r * c
        r /= r.sum()
        upper, lower, Z, c = bounds(r)
    if upper - lower > tol and m > 1:
        r, it = _interior_point(p, K, r, c, tol, max_iter, it, usable)
        upper, lower, Z, c = bounds(r)
    Q, _ = _gibbs_channel(K, r)
    value = _objective(p, Q, w)
    return SlopeSolution(Q, value, min(lower, value), r, None, it, True)


def _interior_point(
    p: FloatArray,
    K: FloatArray,
    r: FloatArray,
    c: FloatArray,
    tol: float,
    max_iter: int,
    it: int,
    usable: NDArray[np.bool_],
) -> tuple[FloatArray, int]:
    """Mehrotra predictor–corrector on min_r -sum p log(K r), r in the simplex.

    Variables: r > 0, slacks s > 0 (multipliers of r >= 0) and ν (of sum r = 1);
    KKT: -c(r) - s + ν = 0, r s = 0, 1ᵀr = 1.  Newton systems are solved in the scaled
    variable δ = Δr / r, where the matrix (K R)ᵀ diag(p/Z²) (K R) + diag(r s) is positive
    definite and well conditioned along the central path.
    """
    idx = np.flatnonzero(usable)
    Ku = K[:, idx]
    ru = np.maximum(r[idx], 1e-200)
    ru /= ru.sum()
    k = idx.size
    Z = Ku @ ru
    cu = Ku.T @ (p / Z)
    nu = float(cu.max()) + 1e-3
    s = nu - cu
    sqrt_p = np.sqrt(p)
    best_r, best_gap = r, math.log(max(float(c.max()), _TINY))
    start = it
    while it < start + max_iter:
        it += 1
        Z = Ku @ ru
        cu = Ku.T @ (p / Z)
        gap = math.log(max(float(cu.max()), _TINY))
        if gap < best_gap:
            best_gap = gap
            best_r = np.zeros_like(r)
            best_r[idx] = ru
        if gap <= tol:
            break
        mu = float(ru @ s) / k
        resid = -cu - s + nu
        A = Ku * (ru * 1.0)[None, :] * (sqrt_p / Z)[:, None]
        M = A.T @ A
        M[np.diag_indices(k)] += ru * s
        # LAPACK Cholesky directly: this loop runs ~10^4 times per surface, and the
        # scipy.linalg wrappers cost more than the 64 x 64 factorization itself.
        chol, info = dpotrf(M, lower=0, clean=0)
        if info != 0:
            M[np.diag_indices(k)] += 1e-12 * float(np.abs(np.diag(M)).max()) + _TINY
            chol, info = dpotrf(M, lower=0, clean=0)
            if info != 0:
                break
        b_vec = dpotrs(chol, ru, lower=0)[0]

        def newton(
            rc: FloatArray,
            chol: FloatArray = chol,
            ru: FloatArray = ru,
            s: FloatArray = s,
            resid: FloatArray = resid,
            b_vec: FloatArray = b_vec,
        ) -> tuple[FloatArray, FloatArray, float]:
            a_vec = dpotrs(chol, -ru * resid + rc, lower=0)[0]
            dnu = float(ru @ a_vec) / float(ru @ b_vec)
            dr = ru * (a_vec - dnu * b_vec)
            ds = (rc - s * dr) / ru
            return dr, ds, dnu

        def max_step(x: FloatArray, dx: FloatArray) -> float:
            ratio = np.where(dx < 0, -x / np.where(dx < 0, dx, -1.0), np.inf)
            return min(1.0, float(ratio.min()))

        dr, ds, dnu = newton(-ru * s)
        a_p, a_d = max_step(ru, dr), max_step(s, ds)
        mu_aff = float((ru + a_p * dr) @ (s + a_d * ds)) / k
        sigma = (mu_aff / mu) ** 3 if mu > 0 else 0.0
        dr, ds, dnu = newton(sigma * mu - ru * s - dr * ds)
        step = min(0.99 * max_step(ru, dr), 0.99 * max_step(s, ds), 1.0)
        ru = ru + step * dr
        s = s + step * ds
        nu = nu + step * dnu
        ru = np.maximum(ru, _TINY)
        ru /= ru.sum()
        if not (np.all(np.isfinite(ru)) and np.all(np.isfinite(s))):
            break
    return best_r / best_r.sum(), it


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
) -> SlopeSolution:
    r"""Minimize :math:`I + E_Q w` subject to :math:`d_{kind}(pQ, p_{ball}) \le P`.

    Alternating minimization over (Q, r') of :math:`\sum pQ\log(Q/r') + E_Q w`; the Q-step
    (KL projection of the Gibbs channel onto the marginal constraint) is interleaved with
    the r'-step as generalized Sinkhorn scaling: row normalization, then the column
    scaling :math:`b = \Pi_{\mathcal P}(s)/s` with :math:`\Pi_{\mathcal P}` the
    information projection.  The dual variable of the marginal constraint is
    :math:`\mu = -\log b`, which gives the certified lower bound (module docstring).
    """
    n, m = w.shape
    K, w_min = _kernel(w)
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
    it = 0
    check_every = 10
    t_kl: float | None = None
    while it < max_iter:
        it += 1
        v = ref * scale
        v = np.where(forbidden, 0.0, v)
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
        sol = _perception_certificate(p, w, K, base, ref, scale, p_ball, P, kind, forbidden)
        sol = SlopeSolution(sol.channel, sol.value, sol.lower, ref, scale, it, sol.feasible)
        if sol.feasible and (best is None or sol.value - sol.lower < best.value - best.lower):
            best = sol
        if sol.feasible and sol.value - sol.lower <= tol:
            return sol
        if it >= 200:
            check_every = 50
    if best is None:
        return sol
    return SlopeSolution(
        best.channel, best.value, best.lower, best.reference, best.scaling, it, True
    )


def _perception_certificate(
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
    """Channel, feasibility and the μ-dual lower bound at the current scaling."""
    ok = (scale > 0) & ~forbidden
    log_b = np.full(scale.shape, -np.inf)
    log_b[ok] = np.log(scale[ok])
    # mu = -log b, defined up to a constant; keep it finite (any finite mu is valid).
    hi = float(log_b[ok].max()) if ok.any() else 0.0
    lo_cap = hi - 700.0
    log_b = np.where(ok, np.maximum(log_b, lo_cap), lo_cap)
    mu = -(log_b - hi)
    b = np.exp(log_b - hi)
    b = np.where(forbidden, 0.0, b)
    v = ref * b
    Q, Z = _gibbs_channel(K, v)
    c = b * (K.T @ (p / Z))
    sigma = support_function(mu, p_ball, P, kind)
    lower = base - float(p @ np.log(Z)) - math.log(max(float(c.max()), _TINY)) - sigma
    value = _objective(p, Q, w)
    feasible = perception_value(p @ Q, p_ball, kind) <= P + FEASIBILITY_TOL
    return SlopeSolution(Q, value, min(lower, value), ref, scale, 0, feasible)


def combined_cost(c: FloatArray, beta: float, w0: FloatArray | None = None) -> FloatArray:
    """Cost :math:`\beta c + w_0` of a slope problem, with 0 * inf = 0 and, for β = inf,
    :math:`w_0` on the minimum-cost letters of each row and ``inf`` elsewhere."""
    base = np.zeros_like(c) if w0 is None else w0
    if math.isinf(beta):
        c_t = c - c.min(axis=1, keepdims=True)
        return np.where(c_t <= 0.0, base, np.inf)
    if beta == 0.0:
        return base.copy()
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(c), np.inf, beta * c) + base


# -- targets ----------------------------------------------------------------------------------

SlopeFn = Callable[[float, "SlopeSolution | None"], SlopeSolution]


def solve_target(
    p: FloatArray,
    c: FloatArray,
    b: float,
    slope: SlopeFn,
    objective: Callable[[FloatArray], float],
    *,
    b_min: float,
    tol: float,
    beta0: float | None = None,
    warm: SlopeSolution | None = None,
    max_outer: int = 80,
) -> TargetSolution:
    r"""Minimize an objective subject to :math:`E_Q[c] \le b` by a search over slopes β.

    `slope(beta, warm)` solves :math:`\min_Q \mathrm{obj}(Q) + \beta E_Q c` (β = inf:
    restricted to the minimum-cost letters of each x) and returns a certified lower
    bound; `b_min` is the smallest achievable :math:`E c` (below it: infeasible).  The
    lower bound is :math:`\max_\beta [\mathrm{lower}(\beta) - \beta b]`, the upper bound
    the objective of the best channel with :math:`E c \le b` (a mixture of the two
    slope channels that bracket b, whose cost is exactly b).  Stops when the gap is at
    most `tol`.
    """
    scale = max(abs(b), abs(b_min), 1e-300)
    if b < b_min - 1e-12 * scale:
        nan = np.full_like(c, np.nan)
        return TargetSolution(
            nan,
            math.inf,
            math.inf,
            math.inf,
            np.array([]),
            0,
            True,
            "infeasible: the bound is below the smallest achievable cost",
        )
    if b <= b_min + 1e-12 * scale:
        sol = slope(math.inf, warm)
        gap = sol.value - sol.lower
        return TargetSolution(
            sol.channel,
            sol.value,
            sol.lower,
            math.inf,
            sol.reference,
            sol.n_iter,
            gap <= tol,
            "at the smallest achievable cost (slope = inf)",
        )
    points: list[tuple[float, float, SlopeSolution]] = []  # (beta, cost, solution)
    n_iter = 0
    lower = -math.inf
    upper = math.inf
    best_channel: FloatArray | None = None
    beta = beta0 if beta0 is not None and beta0 > 0 else 0.5 / max(b - b_min, 1e-300)
    message = ""
    expand = 0
    widths: list[float] = []

    def nearest(bt: float) -> SlopeSolution | None:
        if not points:
            return warm
        return min(points, key=lambda t: abs(math.log(t[0] + 1e-300) - math.log(bt + 1e-300)))[2]

    for _ in range(max_outer):
        sol = slope(beta, nearest(beta))
        n_iter += sol.n_iter
        cost = expected_cost(p, sol.channel, c)
        points.append((beta, cost, sol))
        lower = max(lower, sol.lower - beta * b)
        if sol.feasible and cost <= b and sol.value < upper:
            upper, best_channel = sol.value, sol.channel
        infeasible = [t for t in points if t[1] > b and t[2].feasible]
        feasible = [t for t in points if t[1] <= b and t[2].feasible]
        if infeasible and feasible:
            lo = max(infeasible, key=lambda t: t[0])  # largest beta with cost > b
            hi = min(feasible, key=lambda t: t[0])  # smallest beta with cost <= b
            lam = (b - hi[1]) / (lo[1] - hi[1]) if math.isfinite(lo[1]) else 0.0
            if 0.0 < lam < 1.0:
                mix = lam * lo[2].channel + (1.0 - lam) * hi[2].channel
                val = objective(mix)
                if val < upper and expected_cost(p, mix, c) <= b + FEASIBILITY_TOL * scale:
                    upper, best_channel = val, mix
        if upper - lower <= tol:
            message = "certified gap reached"
            break
        if not feasible or not infeasible:
            # Expand geometrically (small first steps when warm-started).
            expand += 1
            step = (0.01 if beta0 else math.log(4.0)) * 2.0 ** (expand - 1)
            if not feasible:
                beta = max(t[0] for t in points) * math.exp(min(step, 30.0))
                continue
            smallest = min(t[0] for t in points)
            if smallest < 1e-12 * (beta0 if beta0 else 1.0):
                # The bound is slack even at a vanishing slope: solve at slope 0.
                sol = slope(0.0, nearest(0.0))
                n_iter += sol.n_iter
                lower = max(lower, sol.lower)
                if sol.feasible and expected_cost(p, sol.channel, c) <= b and sol.value < upper:
                    upper, best_channel = sol.value, sol.channel
                message = "cost bound slack (slope 0)"
                break
            beta = smallest * math.exp(-min(step, 30.0))
            continue
        la, lf = math.log(lo[0]), math.log(hi[0])
        width = lf - la
        if width < 1e-13:
            message = "slope bracket collapsed before the gap closed"
            break
        widths.append(width)
        # Secant through the two latest slopes (superlinear), safeguarded by the bracket.
        (b1, c1, _), (b2, c2, _) = points[-2], points[-1]
        t = math.nan
        if len(points) >= 2 and b1 > 0 and b2 > 0 and math.isfinite(c1) and c1 != c2:
            t1, t2 = math.log(b1), math.log(b2)
            t = t2 + (b - c2) * (t2 - t1) / (c2 - c1)
        margin = 1e-3 * width
        if not (la + margin < t < lf - margin):
            ca, cf = lo[1], hi[1]
            t = la + (ca - b) / (ca - cf) * width if math.isfinite(ca) else 0.5 * (la + lf)
            t = min(max(t, la + 0.05 * width), lf - 0.05 * width)
        if len(widths) >= 4 and widths[-1] > 0.5 * widths[-4]:
            t = 0.5 * (la + lf)  # slow progress: bisect
        beta = math.exp(t)
    else:
        message = f"stopped after {max_outer} slopes"
    gap = upper - lower
    converged = gap <= tol
    if not message:
        message = "certified gap reached" if converged else "gap not closed"
    if best_channel is None:
        best_channel = np.full_like(c, np.nan)
    ref = nearest(beta)
    best_beta = min(points, key=lambda t: abs(t[1] - b))[0] if points else beta
    return TargetSolution(
        best_channel,
        upper,
        max(lower, -math.inf),
        best_beta,
        ref.reference if ref is not None else np.array([]),
        n_iter,
        converged,
        message,
    )


# -- classification ---------------------------------------------------------------------------


def lagrangian_point(
    p: FloatArray,
    d: FloatArray,
    W: FloatArray,
    beta: float,
    gamma: float,
    Q0: FloatArray,
    *,
    slope: Callable[[FloatArray, SlopeSolution | None], SlopeSolution],
    tol: float = 1e-11,
    max_iter: int = 500,
) -> tuple[FloatArray, int, bool]:
    r"""Local minimizer of :math:`I(X;\hat X) + \beta E d + \gamma H(S|\hat X)` (nats).

    Information-bottleneck-style alternating minimization over (Q, r, q) of
    :math:`\sum pQ\log(Q/r) + \beta E_Q d + \gamma E_Q[\ell_q]`, where
    :math:`H(S|\hat X) = \min_q E[-\log q(S|\hat X)]`: for fixed posterior q the problem is
    a slope problem with cost :math:`\beta d + \gamma \ell_q`, solved exactly (with its
    certificate) by `slope`; then q is reset to the posterior of the new channel.  Each
    step decreases the Lagrangian, which converges to a stationary point; different
    starts can give different points (the Lagrangian is not convex for γ > 1).
    """
    Q = Q0
    prev = math.inf
    warm: SlopeSolution | None = None
    it = 0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007
        cost = beta * d
        if gamma > 0:
            cost = cost + gamma * cross_entropy_cost(p, Q, W)
        sol = slope(cost, warm)
        warm = sol
        Q = sol.channel
        value = (
            mutual_information(p, Q)
            + beta * expected_cost(p, Q, d)
            + gamma * conditional_entropy(p, Q, W)
        )
        if prev - value <= tol * max(1.0, abs(value)):
            converged = True
            break
        prev = value
    return Q, it, converged


def minimize_label_entropy(
    p: FloatArray,
    d: FloatArray,
    W: FloatArray,
    D: float,
    Q0: FloatArray,
    C: float,
    *,
    max_iter: int = 50,
) -> FloatArray | None:
    r"""Phase I: find a channel with :math:`E d \le D` and :math:`H(S|\hat X) \le C`.

    Minimizes the concave :math:`H(S|\hat X)` by successive linear programs
    :math:`\min_Q E_Q[\ell_q]` s.t. :math:`E_Q d \le D` (scipy/HiGHS), q the posterior
    of the previous channel; each LP solution lowers :math:`H(S|\hat X)`.  Returns the
    first channel meeting the bound with a margin, or ``None``.
    """
    n, m = d.shape
    Q = Q0
    best = math.inf
    A_eq = np.kron(np.eye(n), np.ones((1, m)))
    A_ub = (p[:, None] * d).reshape(1, -1)
    for _ in range(max_iter):
        h = conditional_entropy(p, Q, W)
        if h <= C - 1e-12 * max(1.0, abs(C)) and expected_cost(p, Q, d) <= D:
            return Q
        if h >= best - 1e-14:
            break
        best = h
        ell = cross_entropy_cost(p, Q, W)
        finite = np.isfinite(ell)
        obj = np.where(finite, p[:, None] * ell, 0.0).ravel()
        bounds = [(0.0, 1.0 if f else 0.0) for f in finite.ravel()]
        res = linprog(
            obj, A_ub=A_ub, b_ub=[D], A_eq=A_eq, b_eq=np.ones(n), bounds=bounds, method="highs"
        )
        if res.status != 0:
            return None
        Qn = np.maximum(np.asarray(res.x, dtype=np.float64).reshape(n, m), 0.0)
        Q = Qn / Qn.sum(axis=1, keepdims=True)
    h = conditional_entropy(p, Q, W)
    if h <= C and expected_cost(p, Q, d) <= D + FEASIBILITY_TOL:
        return Q
    return None


def convex_concave(
    p: FloatArray,
    d: FloatArray,
    W: FloatArray,
    D: float,
    C: float,
    Q0: FloatArray,
    *,
    inner: Callable[[FloatArray, float], FloatArray | None],
    tol: float = 1e-10,
    inner_tol: float = 1e-9,
    max_iter: int = 300,
) -> tuple[FloatArray, int, bool]:
    r"""Convex–concave procedure for :math:`\min I` s.t. :math:`E d \le D`,
    :math:`H(S|\hat X) \le C`, from a feasible channel `Q0`, accelerated by SQUAREM.

    Write :math:`V(q) = \min\{I(Q) : E_Q d \le D,\ E_Q[\ell_q] \le C\}` for a classifier
    q(s|x̂), with :math:`\ell_q` its cross-entropy cost (``inner(ell, tol)`` solves this
    convex problem to a rate accuracy `tol`).  Since :math:`H(S|\hat X) \le E_Q[\ell_q]` for
    every q, with equality when q is the posterior of Q, :math:`R(D, C) = \min_q V(q)`,
    and every channel returned by `inner` is feasible.  The convex–concave step is
    :math:`q \leftarrow` posterior of the minimizer of :math:`V(q)` (rate nonincreasing);
    SQUAREM [6]_ extrapolates this map in :math:`\log q` and keeps the extrapolated point
    only if it lowers the rate, so the iteration stays monotone and feasible.  The inner
    accuracy starts loose and is tightened to `inner_tol` as the decrease per cycle falls.
    Stops when a cycle at full inner accuracy lowers the rate by at most
    ``tol * max(1, rate)`` nats, or when no step lowers it any more (counted as converged
    when the last step moved the rate by at most ten times the inner accuracy).
    `max_iter` bounds the number of inner solves.

    References
    ----------
    .. [6] R. Varadhan, C. Roland, "Simple and globally convergent methods for accelerating
       the convergence of any EM algorithm", Scand. J. Statist. 35(2), 2008.
    """
    floor = math.log(1e-300)

    def feasible(Q: FloatArray) -> bool:
        return (
            conditional_entropy(p, Q, W) <= C + FEASIBILITY_TOL
            and expected_cost(p, Q, d) <= D + FEASIBILITY_TOL
        )

    def step(q: FloatArray, accuracy: float) -> tuple[FloatArray, float] | None:
        Q = inner(cross_entropy_of(W, q), accuracy)
        if Q is None or not np.all(np.isfinite(Q)) or not feasible(Q):
            return None
        return Q, mutual_information(p, Q)

    def log_of(q: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(q), floor)

    Q, rate = Q0, mutual_information(p, Q0)
    accuracy = max(inner_tol, 1e-6)
    it = 0
    while it < max_iter:
        q0 = posterior(p, Q, W)
        first = step(q0, accuracy)
        it += 1
        if first is None or first[1] > rate + 1e-12:
            if accuracy > inner_tol:
                accuracy = inner_tol
                continue
            return Q, it, first is not None and first[1] - rate <= 10.0 * inner_tol
        Q1, rate1 = first
        q1 = posterior(p, Q1, W)
        second = step(q1, accuracy)
        it += 1
        if second is None or second[1] > rate1 + 1e-12:
            Q, rate = Q1, rate1
            if accuracy > inner_tol:
                accuracy = inner_tol
                continue
            return Q, it, second is not None and second[1] - rate1 <= 10.0 * inner_tol
        Q2, rate2 = second
        best_Q, best_rate = Q2, rate2
        x0, x1, x2 = log_of(q0), log_of(q1), log_of(posterior(p, Q2, W))
        r_vec, v_vec = x1 - x0, x2 - 2.0 * x1 + x0
        nv = float(np.linalg.norm(v_vec))
        if nv > 0:
            alpha = min(-float(np.linalg.norm(r_vec)) / nv, -1.0)
            xe = x0 - 2.0 * alpha * r_vec + alpha**2 * v_vec
            qe = np.exp(xe - xe.max(axis=1, keepdims=True))
            qe /= qe.sum(axis=1, keepdims=True)
            extra = step(qe, accuracy)
            it += 1
            if extra is not None and extra[1] < best_rate:
                best_Q, best_rate = extra
        decrease = rate - best_rate
        Q, rate = best_Q, best_rate
        if decrease <= tol * max(1.0, rate):
            if accuracy <= inner_tol:
                return Q, it, True
            accuracy = inner_tol
        else:
            accuracy = max(inner_tol, min(accuracy, 0.01 * decrease))
    return Q, it, False
