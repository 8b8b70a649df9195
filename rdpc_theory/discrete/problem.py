"""The work behind :meth:`~rdpc_theory.DiscreteSource.solve`: one source on the support of
p_X, in nats — R(D) and R(D, P) (Blahut–Arimoto or cvxpy, certified), and the
classification constraint H(S|X̂) <= C (posterior-LP certificate of
:mod:`rdpc_theory.discrete.certificate`, convex–concave upper bounds)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import brentq, linprog
from scipy.special import entr

from .. import rate_distortion as ba
from .._channel import (
    conditional_entropy,
    cross_entropy_cost,
    expected_cost,
    mutual_information,
    perception_value,
    tv_repair,
)
from .certificate import (
    CertifiedBound,
    PosteriorBound,
    atom_channel,
    ball_channel,
    certified_bound,
)

if TYPE_CHECKING:  # annotation only: the facade imports this module
    from .source import DiscreteSource

__all__ = ["Outcome", "Problem", "infeasible", "MAX_CERTIFIED_LETTERS"]

FloatArray = NDArray[np.float64]
# The posterior-LP certificate branches and bounds over the simplex of |X| letters; its
# cost grows exponentially with |X|, so larger sources keep the loose bound.
MAX_CERTIFIED_LETTERS = 5


# -- the work ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    channel: FloatArray
    upper: float
    lower: float
    n_iter: int
    converged: bool
    message: str
    upper_is_rate: bool = False
    """`upper` is the rate of `channel` itself (the solver's own exact value of it), so
    the result need not recompute I(X; X̂): one pass of logarithms over an n x m array,
    0.1–0.3 CPU-s at 4,096 letters."""


def infeasible(shape: tuple[int, int], message: str) -> Outcome:
    return Outcome(np.full(shape, np.nan), math.inf, math.inf, 0, True, message)


class Problem:
    """One source on the support of p_x, with cached solvers (all in nats)."""

    def __init__(
        self,
        src: DiscreteSource,
        kind: str,
        tol: float,
        method: str,
        warm: dict[Any, Any] | None = None,
    ) -> None:
        self.src = src
        # Warm-start state (multipliers, reference marginals) passed from point to point
        # of one sweep; a fresh dict for a single solve, so the same call gives the same
        # result bit for bit.
        self.warm: dict[Any, Any] = {} if warm is None else warm
        self.support = src.p_x > 0
        # Views when every letter has mass (indexing would copy an n x n matrix per solve).
        full = bool(self.support.all())
        self.p = src.p_x if full else src.p_x[self.support]
        self.d = src.distortion if full else src.distortion[self.support]
        self.W = src.p_s_given_x if full else src.p_s_given_x[self.support]
        self.kind = kind
        self.tol = tol
        self.method = method
        self.p_ball = src.p_x.copy()  # the perception centre p_X (full alphabet = Xhat)
        self.shape = self.d.shape

    # convex building blocks ---------------------------------------------------------------

    def _convex_program(self, perception: str | None, extra: bool, objective: str) -> Any:
        from ..convex import ConvexProgram  # cvxpy is imported only when used

        key = ("cvx", perception, extra, objective)
        cache = self.src._programs
        if key not in cache:
            cache[key] = ConvexProgram(
                self.p, self.d, perception, extra_cost=extra, objective=objective
            )
        return cache[key]

    def zero_rate(self, P: float | None) -> tuple[FloatArray, float]:
        """Output law of the rate-0 channel (X̂ independent of X) of least distortion, and
        its distortion; the channel itself is :meth:`independent_channel` of that law, an
        n x m array formed only where it is the answer (134 MB and ~0.3 s of page faults at
        n = 4,096)."""
        mean_d = self.p @ self.d
        if P is None:
            j = int(np.argmin(mean_d))
            r = np.zeros(self.shape[1])
            r[j] = 1.0
            return r, float(mean_d[j])
        r = self._best_marginal(mean_d, P)
        return r, float(r @ mean_d)

    def independent_channel(self, r: FloatArray) -> FloatArray:
        """The channel whose every row is the output law r."""
        return np.tile(r, (self.shape[0], 1))

    def _best_marginal(self, cost: FloatArray, P: float) -> FloatArray:
        """argmin of r . cost over the perception ball around p_X."""
        pb = self.p_ball
        if self.kind == "tv":
            order = np.argsort(cost)[::-1]  # take mass from the most expensive letters
            r = pb.copy()
            budget = min(P, 1.0)
            for j in order:
                t = min(r[j], budget)
                r[j] -= t
                budget -= t
                if budget <= 0:
                    break
            r[int(np.argmin(cost))] += min(P, 1.0) - budget
            out: FloatArray = r / r.sum()
            return out
        support = pb > 0
        cs = np.where(support, cost, np.inf)
        j = int(np.argmin(cs))
        if -math.log(pb[j]) <= P:
            r = np.zeros_like(pb)
            r[j] = 1.0
            return r

        def tilt(t: float) -> FloatArray:
            z = np.where(support, np.log(np.where(support, pb, 1.0)) - t * (cs - cs[j]), -np.inf)
            e = np.exp(z - z.max())
            out: FloatArray = e / e.sum()
            return out

        def excess(t: float) -> float:
            return perception_value(tilt(t), pb, "kl") - P

        if excess(0.0) >= 0.0:
            return pb.copy()
        hi = 1.0
        while excess(hi) < 0 and hi < 1e12:
            hi *= 4.0
        if excess(hi) < 0:  # ties at the cheapest cost: the tilt saturates inside the ball
            return tilt(hi)
        t = brentq(excess, 0.0, hi, xtol=1e-14)
        while excess(t) > 0 and t > 0:
            t *= 1 - 1e-12
        return tilt(t)

    def feasible_distortion(self, P: float) -> float:
        """Distortion of one channel meeting the perception bound: an upper bound on
        :meth:`min_distortion` (cheap: no LP).

        The nearest-letter channel, post-processed by :func:`tv_repair` (TV) into the
        ball; for KL the bound is the trivial ``inf`` unless the nearest-letter channel
        already meets it.
        """
        nearest = np.argmin(self.d, axis=1)
        rows = np.arange(self.shape[0])
        r0 = np.bincount(nearest, weights=self.p, minlength=self.shape[1]).astype(np.float64)
        if perception_value(r0, self.p_ball, self.kind) <= P:
            return float(self.p @ self.d[rows, nearest])
        if self.kind != "tv":
            return math.inf
        keep, dest = tv_repair(r0, self.p_ball, P)
        k = keep[nearest]
        return float(self.p @ (k * self.d[rows, nearest] + (1.0 - k) * (self.d @ dest)))

    def min_distortion(self, P: float | None) -> float:
        """Smallest E d over channels meeting the perception bound."""
        if P is None:
            return float(self.p @ self.d.min(axis=1))
        n, m = self.shape
        if self.kind == "tv":
            # variables: Q (n*m), u (m) >= |r - p_ball|; sparse: n*m columns, 3 nonzeros each
            nq = n * m
            cost = np.concatenate([(self.p[:, None] * self.d).ravel(), np.zeros(m)])
            eye_m = sparse.identity(m, format="csr")
            A_eq = sparse.hstack(
                [sparse.kron(sparse.identity(n), np.ones((1, m))), sparse.csr_matrix((n, m))]
            )
            Rm = sparse.kron(self.p[None, :], eye_m)  # r = Rm @ Q
            A_ub = sparse.vstack(
                [
                    sparse.hstack([Rm, -eye_m]),
                    sparse.hstack([-Rm, -eye_m]),
                    sparse.csr_matrix(np.concatenate([np.zeros(nq), 0.5 * np.ones(m)])[None, :]),
                ],
                format="csr",
            )
            b_ub = np.concatenate([self.p_ball, -self.p_ball, [P]])
            res = linprog(
                cost,
                A_ub=A_ub,
                b_ub=b_ub,
                A_eq=A_eq,
                b_eq=np.ones(n),
                bounds=[(0, None)] * (nq + m),
                method="highs",
            )
            return float(res.fun) if res.status == 0 else math.inf
        from ..convex import cp

        Q = cp.Variable((n, m), nonneg=True)
        r = self.p @ Q
        support = self.p_ball > 0
        cons = [cp.sum(Q, axis=1) == 1, cp.sum(cp.rel_entr(r[support], self.p_ball[support])) <= P]
        if not support.all():
            cons.append(r[~support] == 0)
        prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(self.p[:, None] * self.d, Q))), cons)
        prob.solve(solver=cp.CLARABEL)
        return float(prob.value) if prob.value is not None else math.inf

    # R(D) and R(D, P) --------------------------------------------------------------------

    def _ipm(
        self,
        beta: float,
        warm: ba.SlopeSolution | None,
        w0: FloatArray | None = None,
        c: FloatArray | None = None,
        tol: float | None = None,
    ) -> ba.SlopeSolution:
        cost = ba.combined_cost(self.d if c is None else c, beta, w0)
        return ba.slope_solve(
            self.p,
            cost,
            None if warm is None else warm.reference,
            tol=(self.tol if tol is None else tol) / 8.0,
            basis=None if warm is None else warm.basis,
            overwrite=True,  # `cost` is ours: build the kernel and channel in its memory
        )

    def _perception_slope(
        self, beta: float, warm: ba.SlopeSolution | None, P: float
    ) -> ba.SlopeSolution:
        cost = ba.combined_cost(self.d, beta)
        start = None if warm is None else (warm.reference, warm.scaling)
        return ba.perception_slope_solve(
            self.p,
            cost,
            self.p_ball,
            P,
            self.kind,
            start,
            tol=self.tol / 8.0,
            basis=None if warm is None else warm.basis,
        )

    def rate_distortion(self, D: float, P: float | None) -> Outcome:
        """R(D) or R(D, P) with certified bounds (BA or cvxpy)."""
        if self.method == "cvxpy":
            return self._rd_cvxpy(D, P)
        zero_r, d_max = self.zero_rate(None)
        d_min = self.min_distortion(None)
        if D < d_min - 1e-12 * max(1.0, abs(d_min)):
            return infeasible(self.shape, f"infeasible: D < D_min = {d_min:.6g}")
        cache = self.warm
        if D >= d_max:
            sol = ba.TargetSolution(
                self.independent_channel(zero_r), 0.0, 0.0, 0.0, np.array([]), 0, True,
                "rate 0: D >= D_max (certified)",
            )  # fmt: skip
        else:
            key = ("rd", D)
            if key in cache:
                sol = cache[key]
            else:
                # Warm start from the previous point of a sweep: its slope, output weights
                # and range basis, and the Newton prediction of the new slope from its
                # bound and elasticity.
                D0, e0, warm_rd = cache.get("rd_prev", (None, None, None))
                sol = ba.solve_target(
                    self.p,
                    self.d,
                    D,
                    self._ipm,
                    lambda Q: mutual_information(self.p, Q),
                    b_min=d_min,
                    tol=self.tol,
                    beta0=cache.get("rd_beta"),
                    warm=warm_rd,
                    b0=D0,
                    elasticity0=e0,
                )
                # Solutions are kept only for bounds the sweep asks for again (an n x n
                # channel each: 134 MB at n = 4,096).
                if D in cache.get("rd_repeated", ()):
                    cache[key] = sol
                if math.isfinite(sol.beta):
                    cache["rd_beta"] = sol.beta
                    if sol.slope_solution is not None:
                        cache["rd_prev"] = (D, sol.elasticity, sol.slope_solution)
        out = Outcome(
            sol.channel,
            sol.upper,
            sol.lower,
            sol.n_iter,
            sol.converged,
            sol.message if D >= d_max else f"R(D): {sol.message}",
            sol.upper_is_objective,
        )
        if P is None:
            return out
        # R(D, P) >= R(D): if the R(D) channel meets the perception bound, it is optimal.
        if perception_value(self.p @ sol.channel, self.p_ball, self.kind) <= P:
            return Outcome(
                sol.channel,
                sol.upper,
                sol.lower,
                sol.n_iter,
                sol.converged,
                "R(D, P) = R(D): the perception bound is slack (certified)",
                sol.upper_is_objective,
            )
        zero_p, d_max_p = self.zero_rate(P)
        if D >= d_max_p:
            return Outcome(
                self.independent_channel(zero_p), 0.0, 0.0, 0, True,
                "rate 0: D >= D_max(P) (certified)",
            )  # fmt: skip
        # D_min(P) by an LP over n*m variables only when D is below a feasible channel's
        # distortion; otherwise the search only needs a lower bound on it (D_min(inf)).
        if D >= self.feasible_distortion(P):
            d_min_p = self.min_distortion(None)
        else:
            d_min_p = self.min_distortion(P)
        if D < d_min_p - 1e-9 * max(1.0, abs(d_min_p)):
            return infeasible(
                self.shape,
                f"infeasible: D below the smallest distortion {d_min_p:.6g} "
                "that the perception bound allows",
            )
        tsol = ba.solve_target(
            self.p,
            self.d,
            max(D, d_min_p),
            lambda b, w: self._perception_slope(b, w, P),
            lambda Q: mutual_information(self.p, Q),
            b_min=d_min_p,
            tol=self.tol,
            beta0=sol.beta if 0.0 < sol.beta < math.inf else None,
        )
        return Outcome(
            tsol.channel,
            tsol.upper,
            max(tsol.lower, sol.lower),
            tsol.n_iter + sol.n_iter,
            tsol.converged,
            f"R(D, P): {tsol.message}",
            # Not upper_is_objective: a TV slope's channel may be post-processed into the
            # ball (tv_barrier's tv_repair), which lowers its rate below the slope's value.
        )

    def _rd_cvxpy(self, D: float, P: float | None) -> Outcome:
        if P is None or not math.isfinite(P):
            zero_r, d_max = self.zero_rate(None)
            if D >= d_max:
                return Outcome(
                    self.independent_channel(zero_r), 0.0, 0.0, 0, True,
                    "rate 0: D >= D_max (certified)",
                )  # fmt: skip
        d_min = self.min_distortion(P)
        if D < d_min - 1e-9 * max(1.0, abs(d_min)):
            return infeasible(self.shape, f"infeasible: D < smallest distortion {d_min:.6g}")
        prog = self._convex_program(self.kind if P is not None else None, False, "rate")
        sol = prog.solve(D, P)
        ok = sol.feasible and sol.upper - sol.lower <= self.tol
        msg = f"cvxpy/CLARABEL status {sol.status}; lower bound from its dual variables"
        if not sol.feasible:
            msg += "; the solver's channel violates a constraint beyond 1e-9"
        return Outcome(sol.channel, sol.upper, max(sol.lower, 0.0), 1, ok, msg)

    # classification --------------------------------------------------------------------

    def solve(
        self,
        D: float,
        P: float | None,
        C: float | None,
        *,
        seed: int,
        n_starts: int,
        warm: FloatArray | None = None,
    ) -> Outcome:
        if C is None:
            if P is not None and math.isinf(D):
                zero_p, _ = self.zero_rate(P)
                return Outcome(
                    self.independent_channel(zero_p), 0.0, 0.0, 0, True,
                    "rate 0: no distortion bound",
                )  # fmt: skip
            return self.rate_distortion(D, P)
        h_s_given_x = float(self.p @ entr(self.W).sum(axis=1))
        if C < h_s_given_x - 1e-12:
            return infeasible(
                self.shape, f"infeasible: C < H(S|X) = {h_s_given_x:.6g} nats (certified)"
            )
        if math.isinf(D):
            zero = self.independent_channel(self.zero_rate(P)[0])
            base_out = Outcome(zero, 0.0, 0.0, 0, True, "")
        else:
            base_out = self.rate_distortion(D, P)
        if math.isinf(base_out.upper):
            return base_out
        Qc = base_out.channel
        if conditional_entropy(self.p, Qc, self.W) <= C:
            return Outcome(
                Qc,
                base_out.upper,
                base_out.lower,
                base_out.n_iter,
                base_out.converged,
                "R(D, P, C) = R(D, P): the classification bound is slack (certified)",
            )
        h_s = float(entr(self.p @ self.W).sum())
        lower = max(base_out.lower, h_s - C, 0.0)
        total = base_out.n_iter
        best: tuple[float, FloatArray, bool] | None = None
        search: CertifiedBound | None = None
        n_runs = 0

        def multistart() -> float:
            # The seeded multistart convex-concave procedure (the best channel is kept).
            nonlocal best, total, n_runs
            starts, n_extra = self._starts(D, P, C, Qc, seed, n_starts, warm)
            total += n_extra
            n_runs = len(starts)
            for Q0 in starts:
                out = self._ccp(Q0, D, P, C)
                total += out[3]
                if out[0] < math.inf and (best is None or out[0] < best[0]):
                    best = out[:3]
            return math.inf if best is None else best[0]

        if (P is None or self.kind == "tv") and self.p.size <= MAX_CERTIFIED_LETTERS:
            seeds = (Qc,) if warm is None else (Qc, warm)

            def from_atoms(node: PosteriorBound) -> float:
                # A feasible channel from a relaxation's atoms (the best one is kept): its
                # rate lets the branch and bound stop once the gap is within tol.
                nonlocal best, total
                candidates: list[FloatArray | None] = []
                if P is not None:
                    assert self.p_ball is not None
                    candidates.append(ball_channel(node, self.p, self.d, self.W, self.p_ball, P))
                for spread in (True, False):
                    candidates.append(atom_channel(node, self.p, self.d, spread=spread))
                for Q0 in candidates:
                    polished = None if Q0 is None else self._polish(Q0, D, P, C)
                    if polished is not None:
                        total += polished[3]
                        if best is None or polished[0] < best[0]:
                            best = polished[:3]
                    if best is not None and best[0] - max(lower, node.lower) <= self.tol:
                        break
                    if polished is not None and node.split:
                        # The relaxation is not a channel: no candidate closes the gap
                        # here, one rate is enough for the branch and bound to prune by.
                        break
                return math.inf if best is None else best[0]

            def first_upper(root: PosteriorBound) -> float:
                # Without a feasible channel the branch and bound can only stop at a node
                # whose relaxation is a channel; the multistart (run at the end otherwise)
                # gives it a rate to stop at within `gap`, which saves the last nodes.
                upper = from_atoms(root)
                return multistart() if math.isinf(upper) and root.split else upper

            search = certified_bound(
                self.p,
                self.d,
                self.W,
                D,
                C,
                P,
                self.p_ball,
                tol=0.5 * self.tol,
                channels=seeds,
                # A node costs ~0.1 s at |X| <= 3 and up to seconds at |X| = 4.
                max_nodes=32 if self.p.size <= 3 else 9,
                incumbent=first_upper,
                gap=self.tol,
            )
            cert = search.best
            lower = max(lower, search.lower)
            total += search.n_nodes
            # The root's atoms were polished already; a deeper node's may do better.
            if search.n_nodes > 1 and (best is None or best[0] - lower > self.tol):
                from_atoms(cert)
        if n_runs == 0 and (best is None or best[0] - lower > self.tol):
            multistart()  # not closed by the atoms
        if best is None:
            return Outcome(
                np.full(self.shape, np.nan),
                math.inf,
                lower,
                total,
                False,
                "no feasible channel found (the constraints may be infeasible; not certified)",
            )
        rate, Q, _ = best
        lower = min(lower, rate)
        ok = rate - lower <= self.tol
        if search is None:
            msg = (
                f"H(S|Xhat) <= C binds: upper = best of {n_runs} convex-concave runs (a "
                "feasible channel); lower = max(R(D,P) dual bound, H(S) - C) (certified, "
                f"loose: the posterior-LP bound covers TV perception and |X| <= "
                f"{MAX_CERTIFIED_LETTERS} only)"
            )
        else:
            msg = (
                "H(S|Xhat) <= C binds: upper = a feasible channel (convex-concave from the "
                "posterior-LP atoms"
                + (f" and {n_runs} other starts" if n_runs else "")
                + "); lower = posterior-LP duality bound (certified"
                + (
                    f"; the relaxation needed more posteriors than letters and was closed "
                    f"by branching over {search.n_nodes} posterior regions)"
                    if search.n_nodes > 1 and ok
                    else ")"
                )
            )
            if not ok and not search.closed:
                msg += (
                    "; the relaxation is not tight here (its optimum needs more posteriors "
                    f"than letters) and {search.n_nodes} branch-and-bound node(s) did not "
                    "close it: upper and lower are both reported, gap above tol"
                )
            elif not ok:
                msg += "; certified gap above tol (work budget reached)"
        return Outcome(Q, rate, lower, total, ok, msg)

    def _ccp(
        self, Q0: FloatArray, D: float, P: float | None, C: float
    ) -> tuple[float, FloatArray, bool, int]:
        """Convex-concave procedure from a feasible channel: (rate, channel, converged,
        inner solves); rate ``inf`` when the result misses the perception bound."""
        local = ba.convex_concave(
            self.p,
            self.d,
            self.W,
            D,
            C,
            Q0,
            inner=lambda ell, acc: self._ccp_inner(ell, D, P, C, acc),
            # Rate decrease per cycle at which to stop: far below the certified gap asked
            # for (`self.tol`, nats), never looser than needed for the default tolerance.
            tol=max(1e-10, 1e-3 * self.tol),
            inner_tol=max(1e-9, 1e-3 * self.tol),
            max_iter=200,
        )
        Q, it, conv = local.channel, local.n_iter, local.converged
        if P is not None and perception_value(self.p @ Q, self.p_ball, self.kind) > (
            P + ba.FEASIBILITY_TOL
        ):
            return math.inf, Q, False, it
        return mutual_information(self.p, Q), Q, conv, it

    def _polish(
        self, Q0: FloatArray, D: float, P: float | None, C: float
    ) -> tuple[float, FloatArray, bool, int] | None:
        """Upper bound from a possibly infeasible channel: one convex step at its
        linearized H(S|Xhat) (whose solution is feasible, the linearization being an
        upper bound), then the convex-concave procedure."""
        ell = cross_entropy_cost(self.p, Q0, self.W)
        Q1 = self._ccp_inner(ell, D, P, C, 1e-10)
        if Q1 is None or not np.all(np.isfinite(Q1)):
            return None
        d_eff = D if math.isfinite(D) else math.inf
        feasible = (
            conditional_entropy(self.p, Q1, self.W) <= C + ba.FEASIBILITY_TOL
            and expected_cost(self.p, Q1, self.d) <= d_eff + ba.FEASIBILITY_TOL
        )
        if not feasible:
            return None
        out = self._ccp(Q1, D, P, C)
        return None if math.isinf(out[0]) else (out[0], out[1], out[2], out[3] + 1)

    def _starts(
        self,
        D: float,
        P: float | None,
        C: float,
        Qc: FloatArray,
        seed: int,
        n_starts: int,
        warm: FloatArray | None = None,
    ) -> tuple[list[FloatArray], int]:
        """Feasible starting channels: a given warm channel, phase I from the convex
        solution, the minimum-distortion map, Lagrangian points and seeded random channels."""
        rng = np.random.default_rng(seed)
        n, m = self.shape
        argmin = np.zeros(self.shape)
        argmin[np.arange(n), self.d.argmin(axis=1)] = 1.0
        seeds = [Qc, argmin] + [rng.dirichlet(np.ones(m), size=n) for _ in range(n_starts)]
        starts: list[FloatArray] = []
        n_iter = 0
        d_eff = D if math.isfinite(D) else float(self.d.max()) + 1.0
        if warm is not None and np.all(np.isfinite(warm)):
            ok = (
                conditional_entropy(self.p, warm, self.W) <= C
                and expected_cost(self.p, warm, self.d) <= d_eff
                and (P is None or perception_value(self.p @ warm, self.p_ball, self.kind) <= P)
            )
            if ok:
                starts.append(warm)
                if n_starts == 1:
                    return starts, n_iter
        if P is None:
            # Lagrangian points at increasing gamma, from the convex channel's slope.
            beta = float(self.warm.get("rd_beta", 1.0)) if math.isfinite(D) else 0.0
            for gamma in (1.5, 3.0, 6.0):
                local = self.lagrangian(beta, gamma, Qc, 1e-9, max_iter=100)
                Q = local.channel
                n_iter += local.n_iter
                if (
                    conditional_entropy(self.p, Q, self.W) <= C
                    and expected_cost(self.p, Q, self.d) <= d_eff
                ):
                    starts.append(Q)
                    break
        for Q0 in seeds:
            if len(starts) >= n_starts:
                break
            Qf = self._phase_one(d_eff, P, C, Q0)
            n_iter += 1
            if Qf is None:
                continue
            # Phase I ends at an extreme (near-deterministic) channel; start instead from
            # the feasible point of the segment [Qc, Qf] nearest the convex solution Qc.
            Qs = self._toward_feasible(Qc, Qf, C)
            if not any(np.allclose(Qs, S, atol=1e-9) for S in starts):
                starts.append(Qs)
        return starts, n_iter

    def _toward_feasible(self, Qc: FloatArray, Qf: FloatArray, C: float) -> FloatArray:
        """Smallest-lambda feasible point of (1 - lambda) Qc + lambda Qf.

        H(S|Xhat) is concave along the segment, so {lambda: H <= C} is an interval
        [lambda*, 1] when H(Qc) > C >= H(Qf), with a single sign change of H - C (found
        by Brent's method, then the feasible side is kept); distortion and perception
        hold all along.
        """

        def excess(lam: float) -> float:
            return conditional_entropy(self.p, (1.0 - lam) * Qc + lam * Qf, self.W) - C

        hi = 1.0
        if excess(0.0) > 0.0 and excess(1.0) <= 0.0:
            hi = float(brentq(excess, 0.0, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps))
            while excess(hi) > 0.0 and hi < 1.0:
                hi = min(1.0, hi + 1e-15 + 1e-12 * hi)
        elif excess(0.0) <= 0.0:
            hi = 0.0
        out: FloatArray = (1.0 - hi) * Qc + hi * Qf
        return out

    def _phase_one(self, D: float, P: float | None, C: float, Q0: FloatArray) -> FloatArray | None:
        if P is None:
            return ba.minimize_label_entropy(self.p, self.d, self.W, D, Q0, C)
        prog = self._convex_program(self.kind, False, "linear")
        Q = Q0
        best = math.inf
        for _ in range(50):
            h = conditional_entropy(self.p, Q, self.W)
            feas_p = perception_value(self.p @ Q, self.p_ball, self.kind) <= P
            if h <= C - 1e-12 and feas_p and expected_cost(self.p, Q, self.d) <= D:
                return Q
            if h >= best - 1e-14 and feas_p:
                break
            best = min(best, h)
            sol = prog.solve(D, P, ell=cross_entropy_cost(self.p, Q, self.W))
            if not np.all(np.isfinite(sol.channel)):
                return None
            Q = sol.channel
        ok = (
            conditional_entropy(self.p, Q, self.W) <= C
            and perception_value(self.p @ Q, self.p_ball, self.kind) <= P + ba.FEASIBILITY_TOL
            and expected_cost(self.p, Q, self.d) <= D + ba.FEASIBILITY_TOL
        )
        return Q if ok else None

    def _ccp_inner(
        self, ell: FloatArray, D: float, P: float | None, C: float, accuracy: float
    ) -> FloatArray | None:
        """min I s.t. E d <= D, E ell <= C (, perception): the convex subproblem."""
        if P is not None or self.method == "cvxpy":
            prog = self._convex_program(self.kind if P is not None else None, True, "rate")
            d_eff = D if math.isfinite(D) else float(self.d.max()) + 1.0
            sol = prog.solve(d_eff, P, C, ell=ell)
            return sol.channel if np.all(np.isfinite(sol.channel)) else None
        return self._inner_ba(ell, D, C, accuracy)

    def _inner_ba(self, ell: FloatArray, D: float, C: float, accuracy: float) -> FloatArray | None:
        tol = accuracy
        finite = np.where(np.isfinite(ell), ell, np.inf)
        mean_ell = np.where(np.isfinite(finite), self.p[:, None] * finite, np.inf).sum(axis=0)
        j = int(np.argmin(mean_ell))
        if mean_ell[j] <= C and float((self.p @ self.d)[j]) <= D:
            Q = np.zeros(self.shape)
            Q[:, j] = 1.0
            return Q
        ell_min = float(self.p @ finite.min(axis=1))

        def mi(Q: FloatArray) -> float:
            return mutual_information(self.p, Q)

        warm = self.warm.get("ccp_warm")
        sol_c = ba.solve_target(
            self.p,
            finite,
            max(C, ell_min),
            lambda b, w: self._ipm(b, w, c=finite, tol=tol),
            mi,
            b_min=ell_min,
            tol=tol,
            beta0=None if warm is None else warm[0],
            warm=None if warm is None else warm[1],
        )
        if 0.0 < sol_c.beta < math.inf and sol_c.reference.size:
            ref = ba.SlopeSolution(sol_c.channel, 0.0, 0.0, sol_c.reference, None, 0, True)
            self.warm["ccp_warm"] = (sol_c.beta, ref)
        if np.all(np.isfinite(sol_c.channel)) and expected_cost(self.p, sol_c.channel, self.d) <= D:
            return sol_c.channel
        if math.isinf(D):
            return None
        # Both constraints bind: search gamma (multiplier of ell) so that E ell = C, each
        # point being the distortion-targeted problem with the extra cost gamma * ell.
        d_min = self.min_distortion(None)

        state: dict[str, Any] = dict(self.warm.get("both_warm", {}))

        def at_gamma(gamma: float) -> FloatArray:
            w0 = ba.combined_cost(finite, gamma)
            sol = ba.solve_target(
                self.p,
                self.d,
                D,
                lambda b, w: self._ipm(b, w, w0=w0, tol=tol),
                lambda Q: mi(Q) + expected_cost(self.p, Q, w0),
                b_min=d_min,
                tol=tol,
                beta0=state.get("beta"),
                warm=state.get("warm"),
            )
            if 0.0 < sol.beta < math.inf and sol.reference.size:
                state["beta"] = sol.beta
                state["warm"] = ba.SlopeSolution(
                    sol.channel, 0.0, 0.0, sol.reference, None, 0, True
                )
            return sol.channel

        guess = state.get("gamma", sol_c.beta if math.isfinite(sol_c.beta) else 1.0)
        lo_g, hi_g = 0.0, max(float(guess), 1e-3)
        Q_hi = at_gamma(hi_g)
        grow = 0
        while expected_cost(self.p, Q_hi, finite) > C and grow < 40:
            lo_g, hi_g = hi_g, hi_g * 2.0
            Q_hi = at_gamma(hi_g)
            grow += 1
        Q_lo = at_gamma(lo_g)
        e_lo, e_hi = expected_cost(self.p, Q_lo, finite), expected_cost(self.p, Q_hi, finite)
        if e_hi > C:
            return None
        if e_lo > C and not (math.isfinite(e_lo) and (hi_g - lo_g) * (e_lo - e_hi) <= tol):
            # E ell decreases in gamma: brentq finds E ell = C in [lo_g, hi_g]; every point
            # it evaluates narrows the bracket kept here (channels on both sides), which is
            # what the mixture below needs.  Mixing the two bracketing channels costs at
            # most about (gamma gap) x (cross-entropy gap) in rate: below tol, it stops.
            known = {lo_g: e_lo, hi_g: e_hi}  # the ends, solved already

            def excess(g: float) -> float:
                nonlocal lo_g, hi_g, Q_lo, Q_hi, e_lo, e_hi
                if g in known:
                    return min(known[g] - C, 1e300)
                Q_g = at_gamma(g)
                e_g = expected_cost(self.p, Q_g, finite)
                if e_g > C:
                    lo_g, Q_lo, e_lo = g, Q_g, e_g
                else:
                    hi_g, Q_hi, e_hi = g, Q_g, e_g
                if math.isfinite(e_lo) and (hi_g - lo_g) * (e_lo - e_hi) <= tol:
                    return 0.0  # the bracket is fine enough: stop brentq here
                return min(e_g - C, 1e300)  # brentq needs finite values (E ell may be inf)

            brentq(
                excess,
                lo_g,
                hi_g,
                xtol=1e-15,
                maxiter=30,
                full_output=True,
                disp=False,
            )
        state["gamma"] = hi_g
        self.warm["both_warm"] = state
        if not math.isfinite(e_lo) or e_lo <= C:
            return Q_hi
        lam = (C - e_hi) / (e_lo - e_hi)
        return lam * Q_lo + (1.0 - lam) * Q_hi

    def lagrangian(
        self, beta: float, gamma: float, Q0: FloatArray | None, tol: float, max_iter: int = 500
    ) -> ba.LocalSolution:
        """A stationary point of I + beta E d + gamma H(S|Xhat) from `Q0` (the R(D) channel at
        slope beta, slightly mixed, when None)."""
        if Q0 is None:
            sol = ba.slope_solve(self.p, ba.combined_cost(self.d, beta), tol=1e-10)
            Q0 = 0.99 * sol.channel + 0.01 / self.shape[1]
        local = ba.lagrangian_point(
            self.p,
            self.d,
            self.W,
            beta,
            gamma,
            Q0,
            slope=lambda w, warm: ba.slope_solve(
                self.p, w, None if warm is None else warm.reference, tol=1e-11
            ),
            tol=tol,
            max_iter=max_iter,
        )
        return local
