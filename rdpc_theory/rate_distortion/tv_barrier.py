r"""Slope problems with a TV ball on the output marginal, by a barrier method on the dual.

Problem (nats): :math:`F = \min_Q I(X;\hat X) + E_Q[w]` subject to
:math:`\tfrac12\|pQ - q\|_1 \le P`, with :math:`K = e^{-(w - w_{\min})}` row-stabilized
(:func:`.kernel.gibbs_kernel`, ``base`` :math:`= \sum_x p(x) w_{\min}(x)`).

**Certified lower bound.**  For any :math:`g \in \mathbb R^n` let
:math:`c = K^T e^{g}` and :math:`v = \log c`.  Then

.. math::
    F \;\ge\; \text{base} + H(p) + \langle p, g\rangle - \sigma(v), \qquad
    \sigma(v) = \max_{r \in \mathcal B} \langle v, r\rangle ,

with :math:`\mathcal B` the TV ball within the simplex.  *Proof.* Let Q be feasible, with
marginal :math:`r \in \mathcal B`, so :math:`\langle v, r\rangle \le \sigma(v)` and
:math:`I + E_Q w \ge I + E_Q[w + v] - \sigma(v)`.  Blahut's bound (:mod:`.slope`) for
the cost :math:`w + v` with :math:`\lambda = e^{g}/p` gives
:math:`\min_Q I + E_Q[w + v] \ge \text{base} + \sum_x p \log\lambda - \log\max_{\hat x}
\sum_x p\lambda K e^{-v} = \text{base} + \langle p, g\rangle + H(p) - 0`. ∎

So every iterate g certifies a bound, computed exactly (:func:`.._channel.support_function`
sorts v).  By LP duality :math:`\sigma(v) = \min_{\theta \le \max v} \sum_y q_y \max(v_y, \theta)
+ P(\max v - \theta)` (move mass P from the letters below θ to the top letter), and the bound
is invariant under :math:`(g, \theta) \to (g + t, \theta + t)`; fixing :math:`\max v = 0`, the best
bound is the smooth convex program

.. math::
    \max_{g, s, \theta} \; \langle p, g\rangle - \langle q, s\rangle + P \theta \quad
    \text{s.t.}\quad v_y(g) \le 0,\; v_y(g) \le s_y,\; \theta \le s_y,\; \theta \le 0,

its constraints log-sum-exps of g.  It is solved by a barrier method (log barriers of
weight μ on the 3m + 1 constraints, μ divided by 10 once Newton's decrement is small;
Boyd & Vandenberghe [1]_ §11.3).  Eliminating s (diagonal) and θ (a border; ``lo`` in
the code), each Newton system is

.. math::
    \bigl(\mathrm{diag}(\Pi\rho) - \Pi\,\mathrm{diag}(\gamma)\,\Pi^T\bigr)\,\Delta g = y,
    \qquad \Pi = \mathrm{diag}(e^g)\, K\, \mathrm{diag}(1/c):

dense (LU, :math:`O(n^3)`) for small or full-rank kernels, else by the Woodbury
identity on the range basis :math:`K \approx U B` of :func:`.interior_point.range_basis`
(:math:`O((n + m)\ell^2)`).  The basis only shapes the Newton direction; gradients, line
search and both bounds use the exact K.

**Upper bound.**  At the barrier's stationary point :math:`\Pi\rho = p` with
:math:`\rho_y = \mu(1/a_y + 1/b_y)` (a = −v, b = s − v): ρ is the output law of the
Gibbs channel of the weights ρ/c, whose objective (:func:`.kernel.gibbs_value`) is the
upper bound when its marginal lies in the ball (within :data:`.kernel.FEASIBILITY_TOL`).
At small μ float64 lets that marginal leave the ball by a hair; then X̂ is post-processed
(:func:`.._channel.tv_repair`: a Markov kernel, so the rate cannot grow) into the ball,
and the exact change of :math:`E_Q w` is added.  The duality
gap on the central path is about :math:`3m\mu`; float64 ends the path near
:math:`\mu \approx 10^{-12}` (gap ~3e-8 nats at m = 1,024), after which
:func:`.perception.perception_slope_solve` polishes with generalized Sinkhorn.

Written by hand: the generalized Sinkhorn of :mod:`.perception` needs 10^3–10^5 steps here
(its primal drifts slowly through the ball's active set), and no library solves this
log-sum-exp program with a low-rank Newton system.

References
----------
.. [1] S. Boyd, L. Vandenberghe, *Convex Optimization*, Cambridge UP, 2004, ch. 11.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lu_factor, lu_solve
from scipy.special import entr

from .._channel import perception_value, support_function, tv_repair
from ..threads import solver_threads
from .interior_point import LOW_RANK_MIN_COLUMNS, RangeBasis, range_basis
from .kernel import FEASIBILITY_TOL, FloatArray, gibbs_channel, gibbs_kernel, gibbs_value_at
from .slope import SlopeSolution

__all__ = ["tv_slope_solve"]

_SHRINK = 0.02  # barrier weight divided by 50 per stage...
_SHRINK_MILD = 0.3  # ...or by 3 after a stage whose primal came out worse (float64's floor)
_SHRINK_NEAR = 0.1  # ...and at most by 10 within 10x of the aimed mu
_ARMIJO = 1e-4
_REFINE = 1  # iterative-refinement rounds of an exact Newton direction
# Squared Newton decrement (in units of mu) below which a point counts as centred (the
# primal ρ read off it is then accurate enough to stay inside the ball), and below which
# full Newton steps are taken (quadratic convergence region).
_CENTRED = 1e-8
_FULL = 0.1


def tv_slope_solve(
    p: FloatArray,
    w: FloatArray,
    q: FloatArray,
    P: float,
    warm: FloatArray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 400,
    basis: FloatArray | None = None,
    threads: int | None = None,
) -> SlopeSolution:
    r"""Minimize :math:`I + E_Q w` subject to :math:`\tfrac12\|pQ - q\|_1 \le P` (nats).

    Parameters
    ----------
    p : ndarray (n,)
        Source marginal (positive).
    w : ndarray (n, m)
        Cost in nats (``inf`` marks a forbidden pair; each row needs a finite entry).
    q : ndarray (m,)
        Centre of the ball (a distribution).
    P : float
        Radius, in [0, 1).
    warm : ndarray (m,), optional
        Gibbs weights of a nearby slope's channel (``reference * scaling`` of a
        :class:`SlopeSolution` from this solver or the generalized Sinkhorn); the dual
        start is then Blahut's :math:`\lambda = 1/(K\,\text{weights})`.
    tol : float
        Target certified gap (nats).
    max_iter : int
        Newton steps at most; then the best certified pair seen is returned.
    basis : ndarray (n, ℓ), optional
        Range basis of a nearby kernel (:attr:`SlopeSolution.basis`), extended if the
        cross approximation fails its check (:func:`.interior_point.range_basis`).
    threads : int, optional
        BLAS threads (:mod:`rdpc_theory.threads`).

    Returns
    -------
    SlopeSolution
        ``lower`` certified; ``value`` is the objective of ``channel``, feasible when
        ``feasible``; ``reference`` its output law, ``scaling`` the dual weights,
        ``n_iter`` Newton steps.
    """
    with solver_threads(w.size, threads):
        K, w_min = gibbs_kernel(w)
        base = float(p @ w_min) + float(entr(p).sum())
        n, m = K.shape
        rb = None
        if m >= LOW_RANK_MIN_COLUMNS:
            rb = range_basis(K, basis)
        return _Barrier(p, K, w, base, q, P, rb).run(warm, tol, max_iter)


@dataclass(frozen=True)
class _Channel:
    """The Gibbs channel of `weights`, post-processed by keep/dest when they are given."""

    weights: FloatArray
    keep: FloatArray | None
    dest: FloatArray | None

    def matrix(self, K: FloatArray) -> FloatArray:
        """The channel, built in K's memory (K is destroyed)."""
        Q, _ = gibbs_channel(K, self.weights, overwrite=True)
        if self.keep is None or self.dest is None:
            return Q
        moved = Q @ (1.0 - self.keep)
        Q *= self.keep[None, :]
        Q += moved[:, None] * self.dest[None, :]
        return Q


class _Barrier:
    """State of one barrier solve (see the module docstring for the notation)."""

    def __init__(
        self, p: FloatArray, K: FloatArray, w: FloatArray, base: float, q: FloatArray,
        P: float, basis: RangeBasis | None,
    ) -> None:  # fmt: skip
        self.p, self.K, self.w, self.base, self.q, self.P = p, K, w, base, q, P
        self.entropy_p = float(entr(p).sum())  # H(p) nats: in `base` for the dual bound only
        self.basis = basis
        # Letters outside the centre's support would make the barrier unbounded in s (no
        # price on s_y): the barrier program prices them at a negligible q.  Only the
        # certificate's support function uses q itself, so every bound stays exact.
        self.q_barrier = np.maximum(q, 1e-12 * float(q.max()))
        self.log_p = np.log(p)

    def dual(self, g: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(e^g, c, v) at g; v is -inf where c underflows."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            E = np.exp(g)
            c = self.K.T @ E
            return E, c, np.log(c)

    def barrier(self, g: FloatArray, s: FloatArray, lo: float, v: FloatArray, mu: float) -> float:
        a, b, d = -v, s - v, s - lo
        if not (np.all(np.isfinite(v)) and a.min() > 0 and b.min() > 0 and d.min() > 0 and lo < 0):
            return -math.inf
        logs = np.log(a).sum() + np.log(b).sum() + np.log(d).sum() + math.log(-lo)
        return float(self.p @ g - self.q_barrier @ s + self.P * lo + mu * logs)

    def lower(self, g: FloatArray, v: FloatArray) -> float:
        """The certified bound of the module docstring at g (any g)."""
        top = float(v.max())
        return self.base + float(self.p @ g) - support_function(v - top, self.q, self.P, "tv") - top

    def newton(
        self, g: FloatArray, s: FloatArray, lo: float, E: FloatArray, c: FloatArray,
        v: FloatArray, mu: float, exact: bool = False,
    ) -> tuple[FloatArray, FloatArray, float, float, FloatArray]:  # fmt: skip
        """Newton direction (Δg, Δs, Δlo), its decrement and the predicted Δv.

        ``exact=True`` (used when the fast direction is not an ascent direction, which the
        range basis's rounding can cause near the end of the path): every product with
        the exact K, and the reduced system solved by iterative refinement against exact
        products, the range-basis solve serving as the preconditioner.
        """
        p, K = self.p, self.K
        k_times = (lambda X: K @ X) if exact else self._k_times
        kt_times = (lambda y: K.T @ y) if exact else self._kt_times
        a, b, d, e = -v, s - v, s - lo, -lo
        rho = mu * (1.0 / a + 1.0 / b)
        hb, hd = mu / b**2, mu / d**2
        h = hb + hd
        g_s = -self.q_barrier + mu * (1.0 / b + 1.0 / d)
        g_l = self.P - mu * (float((1.0 / d).sum()) + 1.0 / e)
        # Π = diag(E) K diag(1/c).  The gradient uses the exact K; the products that only
        # shape the Newton direction use the range basis when there is one.
        Pi_rho = E * (K @ (rho / c))
        extra = k_times(np.column_stack([hb * hd / h / c, hb * g_s / h / c]))
        u, Pi_gs = E * extra[:, 0], E * extra[:, 1]
        g_g = p - Pi_rho
        gamma = rho - mu / a**2 - hb + hb**2 / h
        r1 = -g_g - Pi_gs
        kappa = -float(hd.sum()) - mu / e**2 + float((hd**2 / h).sum())
        r2 = -g_l - float((hd * g_s / h).sum())
        solve = self._solver(E, c, Pi_rho, gamma)
        X = np.column_stack([solve(-r1), solve(-u)])  # A^{-1} [r1, u]; solve inverts -A
        if exact:
            R = np.column_stack([r1, u])
            for _ in range(_REFINE):
                # A X = -D X + Π Γ Πᵀ X, with the exact K (two passes over it)
                PtX = (K.T @ (E[:, None] * X)) / c[:, None]
                AX = -Pi_rho[:, None] * X + E[:, None] * (K @ ((gamma / c)[:, None] * PtX))
                residual = R - AX
                X = X + np.column_stack([solve(-residual[:, 0]), solve(-residual[:, 1])])
        x1, x2 = X[:, 0], X[:, 1]
        dlo = (r2 - u @ x1) / (kappa - u @ x2)
        dg = x1 - x2 * dlo
        dv = kt_times(E * dg) / c  # first-order change of v along dg
        ds = (g_s + hb * dv + hd * dlo) / h
        dec = float(g_g @ dg + g_s @ ds + g_l * dlo)
        return dg, ds, float(dlo), dec, dv

    def _k_times(self, X: FloatArray) -> FloatArray:
        if self.basis is None:
            out: FloatArray = self.K @ X
            return out
        return self.basis.U @ (self.basis.B @ X)

    def _kt_times(self, y: FloatArray) -> FloatArray:
        if self.basis is None:
            out: FloatArray = self.K.T @ y
            return out
        return self.basis.B.T @ (self.basis.U.T @ y)

    def _solver(
        self, E: FloatArray, c: FloatArray, D: FloatArray, gamma: FloatArray
    ) -> Callable[[FloatArray], FloatArray]:
        """Solve with :math:`\\mathrm{diag}(D) - \\Pi\\,\\mathrm{diag}(\\gamma)\\,\\Pi^T`."""
        if self.basis is None:
            Pi = self.K * (1.0 / c)[None, :]
            Pi *= E[:, None]
            M = -(Pi * gamma[None, :]) @ Pi.T
            M[np.diag_indices_from(M)] += D
            lu = lu_factor(M, check_finite=False)
            return lambda y: lu_solve(lu, y, check_finite=False)
        U, B = self.basis.U, self.basis.B
        V = U * E[:, None]
        G = (B * (gamma / c**2)[None, :]) @ B.T
        inv_d = 1.0 / D
        W = (V * inv_d[:, None]).T @ V
        # (D - V G Vᵀ)^{-1} = D^{-1} + D^{-1} V (I - G W)^{-1} G Vᵀ D^{-1}
        lu = lu_factor(np.eye(G.shape[0]) - G @ W, check_finite=False)

        def solve(y: FloatArray) -> FloatArray:
            z = inv_d * y
            out: FloatArray = z + inv_d * (V @ lu_solve(lu, G @ (V.T @ z), check_finite=False))
            return out

        return solve

    def certify(self, g: FloatArray, s: FloatArray, c: FloatArray, v: FloatArray, mu: float
                ) -> tuple[float, float, _Channel]:  # fmt: skip
        """(lower, upper, channel) at the current point; the channel meets the ball."""
        lower = self.lower(g, v)
        rho = mu * (1.0 / -v + 1.0 / (s - v))
        weights = rho / c
        Z = self.K @ weights
        c_out = self.K.T @ (self.p / Z)
        out = weights * c_out
        value = gibbs_value_at(self.p, self.base - self.entropy_p, weights, Z, c_out)
        if perception_value(out, self.q, "tv") <= self.P + FEASIBILITY_TOL:
            return lower, value, _Channel(weights, None, None)
        # The primal read off the barrier leaves the ball by a hair (float64, small mu):
        # post-process X̂ into the ball (the rate cannot grow) and add the exact change of
        # the expected cost, so value stays an upper bound.
        keep, dest = tv_repair(out, self.q, self.P)
        leave = weights * (1.0 - keep)
        pz = self.p / Z
        with np.errstate(invalid="ignore"):
            left = pz * ((self.K * np.where(np.isfinite(self.w), self.w, 0.0)) @ leave)
            arrive = pz * (self.K @ leave) * (self.w @ dest)
        extra = float(arrive.sum() - left.sum())
        if not math.isfinite(extra):
            return lower, math.inf, _Channel(weights, keep, dest)
        return lower, value + extra, _Channel(weights, keep, dest)

    def best_s(self, v: FloatArray, lo: float, mu: float) -> FloatArray:
        r"""The s maximizing the barrier objective at (g, lo): per letter, the larger root of
        :math:`q_y A^2 + (q_y\delta - 2\mu) A - \mu\delta = 0` with A = s − v, δ = v − lo.

        Newton steps far from the centre can leave some slack s − v near 0 (ρ = μ/(s − v)
        huge); Newton then only doubles it per step, for hundreds of steps at small P.
        Setting s to its exact partial maximizer after every step removes that crawl.
        """
        q = self.q_barrier
        delta = v - lo
        lin = 2.0 * mu - q * delta
        A = (lin + np.sqrt(lin * lin + 4.0 * q * mu * delta)) / (2.0 * q)
        out: FloatArray = v + A
        return out

    def start(self, warm: FloatArray | None) -> tuple[FloatArray, FloatArray, float]:
        """A strictly feasible (g, s, lo)."""
        weights = self.q if warm is None or warm.shape != self.q.shape else warm
        g = self.log_p - np.log(self.K @ weights + 1e-300)
        _, _, v = self.dual(g)
        if not np.all(np.isfinite(v)):
            raise ValueError("`w` must give every output letter a finite cost for some input.")
        g = g - float(v.max()) - 0.5
        v = v - float(v.max()) - 0.5
        lo = float(v.min()) - 0.5
        s = np.maximum(v, lo) + 0.5
        return g, s, lo

    def run(self, warm: FloatArray | None, tol: float, max_iter: int) -> SlopeSolution:
        g, s, lo = self.start(warm)
        m = self.q.size
        mu = min(0.1, self.P / (10.0 * m)) if self.P > 0 else 1e-3 / m
        best: tuple[float, float, float, _Channel] | None = None
        shrink = _SHRINK
        it = 0
        E, c, v = self.dual(g)
        while it < max_iter:
            while it < max_iter:  # centring at this mu
                it += 1
                dg, ds, dlo, dec, dv = self.newton(g, s, lo, E, c, v, mu)
                if not math.isfinite(dec) or dec <= 0:
                    dg, ds, dlo, dec, dv = self.newton(g, s, lo, E, c, v, mu, exact=True)
                if not math.isfinite(dec) or dec <= 0:
                    break
                lam2 = dec / mu  # squared Newton decrement of the barrier in its own scale
                phi0 = self.barrier(g, s, lo, v, mu)
                # First trial: 99% of the way to the boundary of the slacks, linearized in v
                # (saves the matrix-vector products of rejected trials).
                t = min(1.0, 0.99 * _step_to_boundary(
                    np.concatenate([-v, s - v, s - lo, [-lo]]),
                    np.concatenate([-dv, ds - dv, ds - dlo, [-dlo]]),
                ))  # fmt: skip
                while t > 1e-12:
                    gn, sn, lo_new = g + t * dg, s + t * ds, lo + t * dlo
                    En, cn, vn = self.dual(gn)
                    phi = self.barrier(gn, sn, lo_new, vn, mu)
                    # Near the centre, Newton steps are taken whole (when they stay inside):
                    # the Armijo test would compare values below float64's resolution.
                    if phi >= phi0 + _ARMIJO * t * dec or (lam2 <= _FULL and phi > -math.inf):
                        break
                    t *= 0.5
                else:
                    break
                g, s, lo, E, c, v = gn, sn, lo_new, En, cn, vn
                if lam2 > _FULL:  # damped phase only: near the centre Newton converges
                    s = self.best_s(v, lo, mu)
                if lam2 <= _CENTRED:
                    break
            lower, value, channel = self.certify(g, s, c, v, mu)
            gap = value - lower
            if best is None or gap < best[0]:
                best = (gap, lower, value, channel)
                centre = (g, s, lo, E, c, v, mu)
                shrink = _SHRINK
            elif shrink < _SHRINK_MILD:
                # Past float64's floor for this jump (the primal read off the barrier got
                # worse): go back to the best centre and shrink mu more gently.
                g, s, lo, E, c, v, mu = centre
                shrink = _SHRINK_MILD
            else:
                break
            if gap <= tol or mu < 1e-18:
                break
            # The gap on the central path is about 2 m mu: aim at tol / 2 rather than jump far
            # below it, towards float64's floor.
            # Jumps of 50x far from it, of at most 10x on the final approach (the last
            # centrings at 50x crawled for tens of steps at large slopes).
            aim = tol / (4.0 * m)
            if mu <= aim * 1.01:
                mu *= shrink
            elif mu * shrink >= 10.0 * aim:
                mu *= shrink
            else:
                mu = max(mu * max(shrink, _SHRINK_NEAR), aim)
        assert best is not None  # the loop certifies at least once (max_iter >= 1)
        _, lower, value, channel = best
        # The last use of K (built for this solve): the channel goes in its memory, saving a
        # fresh 134 MB array's page faults at 4,096 letters (~0.3 s a slope).
        Q = channel.matrix(self.K)
        out = self.p @ Q
        with np.errstate(divide="ignore", invalid="ignore"):
            scaling = np.where(out > 0, channel.weights / out, 0.0)
        feasible = math.isfinite(value)
        return SlopeSolution(
            Q, value, min(lower, value), out, scaling, it, feasible,
            None if self.basis is None else self.basis.U,
        )  # fmt: skip


def _step_to_boundary(x: FloatArray, dx: FloatArray) -> float:
    """Largest t with x + t dx >= 0 (x > 0), or inf."""
    neg = dx < 0
    return float((-x[neg] / dx[neg]).min()) if neg.any() else math.inf
