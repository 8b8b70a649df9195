r"""The classification constraint :math:`H(S|\hat X) \le C`: local solvers (nats).

:math:`H(S|\hat X)` is concave in the channel Q, so this constraint is not convex.  Three
tools, each feasible-or-nothing:

* :func:`lagrangian_point` minimizes :math:`I + \beta E d + \gamma H(S|\hat X)` by
  alternating exact slope solves with posterior updates (information-bottleneck style
  [4]_);
* :func:`minimize_label_entropy` (phase I) finds a channel meeting (D, C) by successive
  linear programs;
* :func:`convex_concave` runs the convex–concave procedure [5]_ for a target (D, C): the
  constraint is replaced by its linearization at the current channel, the cross-entropy
  :math:`E_Q[\ell_q] \le C` of the current posterior q, which is an inner approximation,
  so every iterate is feasible and the rate decreases monotonically.

None of them certifies a lower bound (the problem is not convex).

References
----------
.. [4] N. Tishby, F. Pereira, W. Bialek, "The information bottleneck method", 1999.
.. [5] T. Lipp, S. Boyd, "Variations and extension of the convex–concave procedure",
   Optim. Eng. 17, 2016.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from .._channel import (
    conditional_entropy,
    cross_entropy_cost,
    cross_entropy_of,
    expected_cost,
    mutual_information,
    posterior,
)
from .kernel import FEASIBILITY_TOL, FloatArray
from .slope import SlopeSolution

__all__ = ["LocalSolution", "lagrangian_point", "minimize_label_entropy", "convex_concave"]


@dataclass(frozen=True)
class LocalSolution:
    """A channel from a local (non-certified) method: iterations and stopping-rule status."""

    channel: FloatArray
    n_iter: int
    converged: bool


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
) -> LocalSolution:
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
    return LocalSolution(Q, it, converged)


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
) -> LocalSolution:
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
            return LocalSolution(Q, it, first is not None and first[1] - rate <= 10.0 * inner_tol)
        Q1, rate1 = first
        q1 = posterior(p, Q1, W)
        second = step(q1, accuracy)
        it += 1
        if second is None or second[1] > rate1 + 1e-12:
            Q, rate = Q1, rate1
            if accuracy > inner_tol:
                accuracy = inner_tol
                continue
            return LocalSolution(
                Q, it, second is not None and second[1] - rate1 <= 10.0 * inner_tol
            )
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
                return LocalSolution(Q, it, True)
            accuracy = inner_tol
        else:
            accuracy = max(inner_tol, min(accuracy, 0.01 * decrease))
    return LocalSolution(Q, it, False)
