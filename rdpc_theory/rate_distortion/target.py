r"""Targets :math:`\min_Q \mathrm{obj}(Q)` s.t. :math:`E_Q[c] \le b`, by a search over slopes.

For a slope β >= 0 a slope solver returns a channel :math:`Q_\beta` minimizing
:math:`\mathrm{obj}(Q) + \beta E_Q c` with a certified lower bound
:math:`\underline F(\beta)`.  Weak duality gives, for every β,

.. math::
    \min\{\mathrm{obj}(Q) : E_Q c \le b\} \;\ge\; \underline F(\beta) - \beta b,

and any channel with :math:`E_Q c \le b` gives an upper bound; the best one here mixes
the two slope channels whose costs bracket b, :math:`\lambda Q_{\beta_1} + (1 -
\lambda) Q_{\beta_2}` with cost exactly b (obj convex, e.g. I(X;X̂) for fixed p).  Its
objective is bounded first by the chord :math:`\lambda\,\mathrm{obj}(Q_{\beta_1}) + (1 -
\lambda)\,\mathrm{obj}(Q_{\beta_2})` (convexity; :math:`\mathrm{obj}(Q_\beta)` = the slope
value − β E c, no n x m work), and evaluated on the mixture itself only when the chord
misses the target (slope solvers without channels, :mod:`.product`, use the chord
alone).  The search finds the root of :math:`g(t) = E_{Q_{e^t}} c - b` (decreasing in t = log β)
with SciPy's TOMS 748 after a geometric bracket search, and stops as soon as upper −
lower <= `tol`: the certificate, not a step count, ends the search.  Each slope solve
is warm-started from the solution at the nearest slope already solved.

At the curve level, `beta0` (the slope of a neighbouring point) starts the search near
the root, which is what makes a warm-started curve cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.linalg.blas import daxpy
from scipy.optimize import toms748

from .._channel import expected_cost
from ..threads import solver_threads
from .kernel import FEASIBILITY_TOL, FloatArray
from .slope import NO_CHANNEL, SlopeSolution

__all__ = ["TargetSolution", "solve_target", "SlopeFn"]

SlopeFn = Callable[[float, "SlopeSolution | None"], SlopeSolution]


@dataclass(frozen=True)
class TargetSolution:
    r"""Result of :func:`solve_target` (nats).

    Attributes
    ----------
    channel : ndarray
        Best feasible channel found (NaN when none / infeasible).
    upper, lower : float
        Certified bounds on the optimum (``inf`` both when b is below the smallest cost).
    beta : float
        Slope whose solution's cost is nearest to b.
    reference : ndarray
        Output weights of the slope solution nearest to the final slope (a warm start).
    n_iter : int
        Inner iterations summed over all slope solves.
    converged : bool
        ``upper - lower <= tol``.
    message : str
        What happened.
    n_slopes : int
        Slope problems solved.
    slope_solution : SlopeSolution or None
        The slope solution nearest to the final slope, without its channel (a warm start
        for a neighbour).
    elasticity : float
        :math:`d\log(E c - b_{min}) / d\log\beta` estimated from the two slopes nearest
        b (NaN when unavailable): the `elasticity0` of a neighbour's search.
    upper_is_objective : bool
        `upper` is value − β E c of one slope's channel or the evaluated objective of a
        mixture, not a chord above a mixture's objective: then it is the objective of
        `channel` itself (to rounding) wherever the slope solver's value is exact, as for
        Gibbs channels (:attr:`.slope.SlopeSolution.value`).
    """

    channel: FloatArray
    upper: float
    lower: float
    beta: float
    reference: FloatArray
    n_iter: int
    converged: bool
    message: str
    n_slopes: int = 0
    slope_solution: SlopeSolution | None = field(default=None, repr=False)
    elasticity: float = math.nan
    upper_is_objective: bool = False

    @property
    def gap(self) -> float:
        """Certified gap ``upper - lower`` (nats)."""
        return self.upper - self.lower


class _GapClosed(Exception):
    """Raised inside the root finder's function to stop it: the certificate is met."""


class _Search:
    """Bookkeeping of the slope search: solved points, bounds, best feasible channel."""

    def __init__(
        self,
        p: FloatArray,
        c: FloatArray | None,
        b: float,
        slope: SlopeFn,
        objective: Callable[[FloatArray], float],
        tol: float,
        warm: SlopeSolution | None,
        scale: float,
    ) -> None:
        self.p, self.c, self.b, self.slope, self.objective = p, c, b, slope, objective
        self.tol, self.warm, self.scale = tol, warm, scale
        self.points: dict[float, tuple[float, SlopeSolution]] = {}  # beta -> (cost, sol)
        # Channels are n x m: keep only those that may still bracket b (memory at n = 4,096).
        self.channels: dict[float, FloatArray] = {}
        self.lower, self.upper = -math.inf, math.inf
        self.best: FloatArray | None = None
        # The best upper bound may be the chord of a mixture not formed yet: (Q1, Q2, λ).
        self.best_mix: tuple[FloatArray, FloatArray, float] | None = None
        self.n_iter = 0

    def nearest(self, beta: float) -> SlopeSolution | None:
        if not self.points:
            return self.warm
        key = min(self.points, key=lambda bt: abs(math.log(bt + 1e-300) - math.log(beta + 1e-300)))
        return self.points[key][1]

    def solve(self, beta: float) -> float:
        """Cost at slope β (cached); updates the bounds; raises _GapClosed when done."""
        if beta in self.points:
            return self.points[beta][0]
        sol = self.slope(beta, self.nearest(beta))
        self.n_iter += sol.n_iter
        # The cost steers the search even when the slope channel misses another
        # constraint (perception, not yet met to FEASIBILITY_TOL); bounds use feasible ones.
        if sol.cost is not None:
            cost = sol.cost  # a channel-free slope solver
        else:
            assert self.c is not None, "`c` is needed when slope solutions carry no cost"
            cost = expected_cost(self.p, sol.channel, self.c)
        self.points[beta] = (cost, replace(sol, channel=NO_CHANNEL))
        if sol.feasible and sol.channel.size:
            self.channels[beta] = sol.channel
        self.lower = max(self.lower, sol.lower - beta * self.b)
        # A feasible channel within the bound is an upper bound through its objective,
        # value − β E c (the value itself was used before: valid, but loose by β E c, so a
        # slope landing just inside the bound could not close the gap on its own).
        if sol.feasible and cost <= self.b:
            obj = sol.value - beta * cost  # cost <= b is finite here
            if obj < self.upper:
                self.upper, self.best, self.best_mix = obj, sol.channel, None
        self._mix()
        if self.upper - self.lower <= self.tol:
            raise _GapClosed
        return cost

    def _mix(self) -> None:
        ok = [(bt, ct) for bt, (ct, s) in self.points.items() if s.feasible]
        above = [t for t in ok if t[1] > self.b]
        below = [t for t in ok if t[1] <= self.b]
        lo = max(above, key=lambda t: t[0]) if above else None  # largest beta, cost > b
        hi = min(below, key=lambda t: t[0]) if below else None  # smallest beta, cost <= b
        keep = {t[0] for t in (lo, hi) if t is not None}
        self.channels = {bt: q for bt, q in self.channels.items() if bt in keep}
        if lo is None or hi is None:
            return
        lam = (self.b - hi[1]) / (lo[1] - hi[1])
        if not 0.0 < lam < 1.0:
            return
        # Convexity of obj bounds the mixture by the chord of its ends, obj(Q_β) = value -
        # β E c, at cost exactly b: no n x m work.  Only when the chord misses the target
        # is the mixture formed and its objective evaluated (two n x m passes, ~1 s at
        # 4,096 letters; in practice the bracket is tight enough that the chord suffices).
        obj_lo = self.points[lo[0]][1].value - lo[0] * lo[1]
        obj_hi = self.points[hi[0]][1].value - hi[0] * hi[1]
        chord = lam * obj_lo + (1.0 - lam) * obj_hi
        Q_lo, Q_hi = self.channels.get(lo[0]), self.channels.get(hi[0])
        if Q_lo is None or Q_hi is None:  # channel-free: the chord is the upper bound
            if chord < self.upper:
                self.upper, self.best, self.best_mix = chord, None, None
            return
        if chord < self.upper and chord - self.lower <= self.tol:
            self.upper, self.best, self.best_mix = chord, None, (Q_lo, Q_hi, lam)
            return
        assert self.c is not None  # channels come with a cost matrix
        mix = _mixture(Q_lo, Q_hi, lam)
        val = self.objective(mix)
        if val < self.upper and (
            expected_cost(self.p, mix, self.c) <= self.b + FEASIBILITY_TOL * self.scale
        ):
            self.upper, self.best, self.best_mix = val, mix, None

    def best_channel(self) -> FloatArray | None:
        """The channel of the upper bound, at the end of the search (a chord's mixture is
        formed in the memory of one of its ends, which the search no longer needs)."""
        if self.best_mix is None:
            return self.best
        Q_lo, Q_hi, lam = self.best_mix
        return _mixture(Q_lo, Q_hi, lam, out=Q_hi)

    def g(self, t: float) -> float:
        """Root function in t = log β (an infinite cost counts as far above b)."""
        cost = self.solve(math.exp(t))
        return cost - self.b if math.isfinite(cost) else 1e300


def _no_channel(c: FloatArray | None) -> FloatArray:
    """The channel of a result without a feasible one: NaN of c's shape (empty if c is None)."""
    return NO_CHANNEL if c is None else np.full_like(c, np.nan)


def _mixture(
    Q1: FloatArray, Q2: FloatArray, lam: float, out: FloatArray | None = None
) -> FloatArray:
    r""":math:`\lambda Q_1 + (1 - \lambda) Q_2` with at most one n x m allocation, not three
    (BLAS axpy adds in place; a fresh 134 MB array costs 0.2–0.5 s of page faults here).
    ``out=Q2`` overwrites Q2."""
    if out is Q2:
        Q1, Q2, lam = Q2, Q1, 1.0 - lam
    mix = np.multiply(Q1, lam, out=out)
    if mix.flags.c_contiguous and Q2.flags.c_contiguous:
        daxpy(Q2.ravel(), mix.ravel(), a=1.0 - lam)
    else:
        mix += (1.0 - lam) * Q2
    return mix


def solve_target(
    p: FloatArray,
    c: FloatArray | None,
    b: float,
    slope: SlopeFn,
    objective: Callable[[FloatArray], float],
    *,
    b_min: float,
    tol: float,
    beta0: float | None = None,
    warm: SlopeSolution | None = None,
    max_outer: int = 80,
    threads: int | None = None,
    b0: float | None = None,
    elasticity0: float | None = None,
) -> TargetSolution:
    r"""Minimize `objective` subject to :math:`E_Q[c] \le b` with certified bounds (nats).

    Parameters
    ----------
    p : ndarray (n,)
        Source marginal.
    c : ndarray (n, m) or None
        Cost of the constraint (e.g. the distortion matrix); None when the slope solutions
        carry their cost and no channel (:attr:`SlopeSolution.cost`, :mod:`.product`): then
        the upper bound is the chord of the bracketing slopes and the result has no channel.
    b : float
        Bound on the expected cost.
    slope : callable
        ``slope(beta, warm)`` solves :math:`\min \mathrm{obj} + \beta E_Q c` (β = inf:
        restricted to each row's minimum-cost letters) with a certified lower bound; its
        ``value`` must be :math:`\mathrm{obj}(Q) + \beta E_Q c` of its channel, and the
        channel a fresh array (the search may build the final mixture in its memory).
    objective : callable
        ``objective(Q)``, convex in Q (the upper bound of a mixture uses it).
    b_min : float
        Smallest achievable :math:`E c` (below it: infeasible, rate ``inf``).
    tol : float
        Target certified gap (nats).
    beta0 : float, optional
        Slope of a nearby solved point (curve warm start).
    b0 : float, optional
        The bound that point was solved for: then the search starts at the Newton
        prediction :math:`\log\beta = \log\beta_0 + \log\frac{b - b_{min}}{b_0 - b_{min}}
        / e` instead of at `beta0`, with e the elasticity below.
    elasticity0 : float, optional
        :math:`e = d\log(E c - b_{min}) / d\log\beta` near that point
        (:attr:`TargetSolution.elasticity`); default -1 (exact for the Gaussian R(D),
        D = 1/(2β)).
    warm : SlopeSolution, optional
        Solution of a nearby slope problem (curve warm start).
    max_outer : int
        Slope problems at most.
    threads : int, optional
        BLAS threads for the whole search (:mod:`rdpc_theory.threads`).
    """
    with solver_threads(p.size if c is None else c.size, threads):
        return _solve_target(
            p, c, b, slope, objective, b_min, tol, beta0, warm, max_outer, b0, elasticity0
        )


def _solve_target(
    p: FloatArray,
    c: FloatArray | None,
    b: float,
    slope: SlopeFn,
    objective: Callable[[FloatArray], float],
    b_min: float,
    tol: float,
    beta0: float | None,
    warm: SlopeSolution | None,
    max_outer: int,
    b0: float | None = None,
    elasticity0: float | None = None,
) -> TargetSolution:
    scale = max(abs(b), abs(b_min), 1e-300)
    if b < b_min - 1e-12 * scale:
        return TargetSolution(
            _no_channel(c),
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
        return TargetSolution(
            sol.channel,
            sol.value,
            sol.lower,
            math.inf,
            sol.reference,
            sol.n_iter,
            sol.gap <= tol,
            "at the smallest achievable cost (slope = inf)",
            1,
            sol,
        )
    search = _Search(p, c, b, slope, objective, tol, warm, scale)
    elasticity = -1.0
    if elasticity0 is not None and math.isfinite(elasticity0) and elasticity0 < 0:
        elasticity = elasticity0
    if beta0 is not None and 0 < beta0 < math.inf:
        t0 = math.log(beta0)
        if b0 is not None and b0 > b_min:
            t0 += math.log((b - b_min) / (b0 - b_min)) / elasticity  # Newton step
    else:
        t0 = math.log(0.5 / (b - b_min))
    message = ""
    try:
        bracket = _bracket(search, t0, b_min, max_outer, elasticity)
        if isinstance(bracket, str):
            message = bracket
        else:
            left = max_outer - len(search.points)
            if left <= 0:
                message = f"stopped after {max_outer} slopes"
            else:
                _, info = toms748(
                    search.g,
                    *bracket,
                    xtol=1e-13,
                    rtol=4e-16,
                    maxiter=left,
                    full_output=True,
                    disp=False,
                )
                message = (
                    "slope bracket collapsed before the gap closed"
                    if info.converged
                    else f"stopped after {max_outer} slopes"
                )
    except _GapClosed:
        message = "certified gap reached"
    gap = search.upper - search.lower
    converged = gap <= tol
    if converged:
        message = "certified gap reached"
    best = search.best_channel()
    channel = best if best is not None else _no_channel(c)
    finite = {bt: ct for bt, (ct, _) in search.points.items() if math.isfinite(ct)}
    best_beta = min(finite, key=lambda bt: abs(finite[bt] - b)) if finite else math.exp(t0)
    ref = search.nearest(best_beta)
    # Local elasticity d log(cost - b_min) / d log beta from the two slopes nearest b.
    elasticity = math.nan
    near = sorted(
        ((bt, ct) for bt, ct in finite.items() if 0 < bt < math.inf and ct > b_min),
        key=lambda t: abs(t[1] - b),
    )[:2]
    if len(near) == 2 and near[0][0] != near[1][0] and near[0][1] != near[1][1]:
        (b1, c1), (b2, c2) = near
        elasticity = math.log((c1 - b_min) / (c2 - b_min)) / math.log(b1 / b2)
    return TargetSolution(
        channel,
        search.upper,
        search.lower,
        best_beta,
        ref.reference if ref is not None else np.array([]),
        search.n_iter,
        converged,
        message or "gap not closed",
        len(search.points),
        ref,
        elasticity,
        best is not None and search.best_mix is None,
    )


def _bracket(
    search: _Search, t0: float, b_min: float, max_outer: int, elasticity: float
) -> tuple[float, float] | str:
    """Search in t = log β for a sign change of g; a string says why none was found.

    The first step is a Newton step on the multiplier under the model "cost − b_min ∝
    β^e" (e = -1 is exact for the Gaussian R(D), D = 1/(2β)), at least 1e-3; later steps
    extrapolate the secant through the last two points, overshooting it by 20% so that it
    brackets the root, and at least repeating the last step (so the search cannot stall).
    """
    b = search.b
    g_prev = search.g(t0)
    if g_prev == 0.0:
        return "slope solution meets the bound exactly"
    direction = 1.0 if g_prev > 0 else -1.0  # cost above b: steeper slope
    cost = g_prev + b
    if math.isfinite(cost) and cost > b_min:
        step = abs(math.log((cost - b_min) / (b - b_min)) / elasticity)
        # At least 1e-3 (it once was 1%): a first slope missing b by 1e-5 then gets a
        # second one close enough for their chord to certify, and close enough for a
        # warm start (product grids start slopes farther than 2e-3 cold).
        step = min(max(1.2 * step, 1e-3), 5.0)
    else:
        step = math.log(4.0)
    t_prev = t0
    for _ in range(max_outer - 1):
        t = t_prev + direction * step
        floor = t0 - 12.0 * math.log(10.0)
        if direction < 0 and t < floor:
            if t_prev <= floor:
                # The bound is slack even at a vanishing slope: solve at slope 0.
                search.solve(0.0)
                return "cost bound slack (slope 0)"
            # Look at the floor before calling the bound slack: a long step over a flat
            # stretch of g (the cost underflows at steep slopes) must not jump past the root.
            t = floor
        g = search.g(t)
        if g == 0.0:
            return "slope solution meets the bound exactly"
        if (g > 0) != (direction > 0):
            return (t_prev, t) if t_prev < t else (t, t_prev)
        secant = math.inf
        if math.isfinite(g) and math.isfinite(g_prev) and g != g_prev:
            secant = abs(g * (t - t_prev) / (g - g_prev))
        step = min(max(1.2 * secant, step), 8.0 * step, 30.0)
        t_prev, g_prev = t, g
    return f"stopped after {max_outer} slopes"
