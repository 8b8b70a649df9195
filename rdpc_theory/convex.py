r"""Convex programs (cvxpy, CLARABEL) for the convex parts of the discrete RDPC problem.

.. math::
    \min_{J \ge 0} \sum_{x,\hat x} J \log\frac{J}{p(x) r(\hat x)}
    \quad\text{s.t.}\quad \textstyle\sum_{\hat x} J(x,\hat x) = p(x),\;
    r = \sum_x J(x, \cdot),\; \langle J, d\rangle \le D,\;
    d_{\mathcal P}(r, p) \le P,\; \langle J, \ell\rangle \le C',

over the joint law J of (X, X̂): the mutual information is a sum of relative-entropy
cones, TV is a 1-norm and KL a relative-entropy cone, so R(D) and R(D, P) are exact
convex programs, solved here independently of the Blahut–Arimoto code.  The optional
linear constraint :math:`\langle J, \ell\rangle \le C'` is the convex subproblem of the
convex–concave procedure for :math:`H(S|\hat X) \le C` (ℓ = cross-entropy of the current
posterior); :math:`H(S|\hat X) \le C` itself is concave in the channel and is rejected by
cvxpy's DCP rules, which is why it is only ever linearized.

Problems are built once per source with cvxpy ``Parameter`` objects (D, P, C', ℓ) and
re-solved across a sweep (DPP: the canonicalization is cached).

The solver's own duality gap is not trusted as a certificate: the returned channel is
cleaned (clipped to the simplex) and re-evaluated in numpy (upper bound when it meets
the constraints to within :data:`~rdpc_theory.rate_distortion.FEASIBILITY_TOL`), and a
lower bound is recomputed from the solver's dual variables by Blahut's bound
(:mod:`rdpc_theory.rate_distortion`), which is valid for any multipliers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as _cvxpy
import numpy as np
from numpy.typing import NDArray

from ._channel import expected_cost, mutual_information, perception_value, support_function
from .rate_distortion import FEASIBILITY_TOL

__all__ = ["ConvexProgram", "ConvexSolution"]

cp: Any = _cvxpy  # cvxpy builds its namespace dynamically; typed as Any for mypy

FloatArray = NDArray[np.float64]
_TINY = 1e-300
# Tighter than CLARABEL's defaults (1e-8): the convex-concave procedure compares
# consecutive rates, and the tests compare with closed forms to 1e-6 bits.
_CLARABEL_OPTIONS = {
    "tol_gap_abs": 1e-11,
    "tol_gap_rel": 1e-11,
    "tol_feas": 1e-11,
    "tol_ktratio": 1e-9,
    "max_iter": 400,
}


@dataclass(frozen=True)
class ConvexSolution:
    """Cleaned channel, its rate (nats; ``inf`` if not feasible), a certified lower bound
    (nats), solver status and whether the channel meets the constraints."""

    channel: FloatArray
    upper: float
    lower: float
    status: str
    feasible: bool


class ConvexProgram:
    r"""Parametrized cvxpy program :math:`\min I(X;\hat X)` under linear and perception
    constraints for one source (see the module docstring).

    Parameters
    ----------
    p : ndarray, shape (n,)
        Source marginal (positive entries).
    d : ndarray, shape (n, m)
        Distortion matrix.
    perception : {"tv", "kl"} or None
        Perception measure on the output marginal (needs m = n), or none.
    extra_cost : bool
        Whether to include the parametrized linear constraint
        :math:`\langle J, \ell\rangle \le C'`.
    objective : {"rate", "linear"}
        ``"rate"``: minimize I(X; X̂).  ``"linear"``: minimize :math:`\langle J, \ell\rangle`
        (phase I of the convex–concave procedure).
    """

    def __init__(
        self,
        p: FloatArray,
        d: FloatArray,
        perception: str | None,
        *,
        extra_cost: bool = False,
        objective: str = "rate",
    ) -> None:
        n, m = d.shape
        self.p, self.d, self.kind = p, d, perception
        self.J = cp.Variable((n, m), nonneg=True)
        self.r = cp.Variable(m, nonneg=True)
        self.D = cp.Parameter(nonneg=True)
        self.P = cp.Parameter(nonneg=True)
        self.C = cp.Parameter()
        self.ell = cp.Parameter((n, m), nonneg=True)
        cons = [cp.sum(self.J, axis=1) == p, self.r == cp.sum(self.J, axis=0)]
        self.marginal = cons[1]
        self.dist = cp.sum(cp.multiply(d, self.J)) <= self.D
        cons.append(self.dist)
        if perception == "tv":
            cons.append(0.5 * cp.norm1(self.r - p) <= self.P)
        elif perception == "kl":
            support = p > 0
            cons.append(cp.sum(cp.rel_entr(self.r[support], p[support])) <= self.P)
            if not support.all():
                cons.append(self.r[~support] == 0)
        self.extra = None
        if extra_cost:
            self.extra = cp.sum(cp.multiply(self.ell, self.J)) <= self.C
            cons.append(self.extra)
        if objective == "rate":
            outer = p[:, None] @ cp.reshape(self.r, (1, m), order="C")
            goal = cp.Minimize(cp.sum(cp.rel_entr(self.J, outer)))
        else:
            goal = cp.Minimize(cp.sum(cp.multiply(self.ell, self.J)))
        self.problem = cp.Problem(goal, cons)

    def solve(
        self,
        D: float,
        P: float | None = None,
        C: float | None = None,
        ell: FloatArray | None = None,
    ) -> ConvexSolution:
        """Solve for the given bounds (nats; ``inf`` D means no distortion bound).

        The solver's answer may violate a bound by its own tolerance (~1e-9); the bounds
        are then tightened by ten times the violation and the problem re-solved (at most
        three times), so that the returned channel meets the original bounds.
        """
        if ell is not None:
            finite = np.isfinite(ell)
            cap = float(ell[finite].max()) + 50.0 if finite.any() else 50.0
            self.ell.value = np.where(finite, ell, cap)
        else:
            self.ell.value = np.zeros(self.d.shape)
        d_eff = float(min(D, float(self.d.max()) * 1.000001 + 1.0))
        margin = 0.0
        sol = ConvexSolution(np.full(self.d.shape, np.nan), math.inf, -math.inf, "", False)
        for _ in range(4):
            self.D.value = max(d_eff - margin, 0.0)
            self.P.value = 0.0 if P is None else max(float(min(P, 1e6)) - margin, 0.0)
            self.C.value = 0.0 if C is None else float(C) - margin
            try:
                # cvxpy warns on "optimal_inaccurate"; that status is kept in the result,
                # feasibility is re-checked exactly below and the lower bound is a Blahut
                # certificate valid for any multipliers, so the warning adds nothing.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Solution may be inaccurate")
                    self.problem.solve(solver=cp.CLARABEL, **_CLARABEL_OPTIONS)
            except cp.error.SolverError as exc:
                return ConvexSolution(
                    sol.channel, math.inf, -math.inf, f"solver error: {exc}", False
                )
            status = str(self.problem.status)
            if self.J.value is None:
                return ConvexSolution(sol.channel, math.inf, -math.inf, status, False)
            Q = self._channel()
            violation = max(expected_cost(self.p, Q, self.d) - D, 0.0)
            if P is not None and self.kind is not None:
                violation = max(violation, perception_value(self.p @ Q, self.p, self.kind) - P)
            if C is not None and ell is not None:
                violation = max(violation, expected_cost(self.p, Q, ell) - C)
            feasible = violation <= FEASIBILITY_TOL
            upper = mutual_information(self.p, Q) if feasible else math.inf
            lower = self._certificate(D, P) if ell is None else -math.inf
            sol = ConvexSolution(Q, upper, min(lower, upper), status, bool(feasible))
            if feasible:
                break
            margin = margin + 10.0 * violation
        return sol

    def _channel(self) -> FloatArray:
        J = np.maximum(np.asarray(self.J.value, dtype=np.float64), 0.0)
        rows = J.sum(axis=1)
        safe = np.where(rows > 0, rows, 1.0)
        Q = np.where(rows[:, None] > 0, J / safe[:, None], 1.0 / J.shape[1])
        out: FloatArray = Q / Q.sum(axis=1, keepdims=True)
        return out

    def _certificate(self, D: float, P: float | None) -> float:
        """Blahut lower bound at the solver's multipliers (valid for any multipliers)."""
        dual = self.dist.dual_value
        beta = max(float(dual), 0.0) if dual is not None else 0.0
        if not math.isfinite(D):
            beta = 0.0
        r = np.maximum(np.asarray(self.r.value, dtype=np.float64), 0.0)
        r = r / r.sum()
        best = -math.inf
        mu_raw = self.marginal.dual_value
        candidates: list[FloatArray] = [np.zeros(self.d.shape[1])]
        if P is not None and self.kind is not None and mu_raw is not None:
            mu0 = np.asarray(mu_raw, dtype=np.float64).ravel()
            candidates += [mu0, -mu0]
        for mu in candidates:
            w = beta * self.d + mu[None, :]
            w_min = w.min(axis=1)
            K = np.exp(-(w - w_min[:, None]))
            Z = K @ np.maximum(r, 1e-300)
            c = K.T @ (self.p / Z)
            value = float(self.p @ w_min) - float(self.p @ np.log(Z))
            value -= math.log(max(float(c.max()), _TINY))
            if P is not None and self.kind is not None:
                value -= support_function(mu, self.p, P, self.kind)
            value -= beta * D if beta > 0 else 0.0
            best = max(best, value)
        return best
