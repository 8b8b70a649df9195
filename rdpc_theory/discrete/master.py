r"""The master linear program of the posterior-LP certificate, kept in one HiGHS model.

Column generation (:func:`~rdpc_theory.discrete.certificate.posterior_lower_bound`) solves
the same small LP many times, a few columns larger each round.  Rebuilding it for
:func:`scipy.optimize.linprog` each round costs about 1.5 ms of input checks and a cold
start per solve; one ``highspy`` model to which the new columns are added re-solves from
the previous basis (simplex hot start) in a fraction of that.

Over the weights :math:`w_k \ge 0` of atoms :math:`(\hat x_k, q_k)` (and, with a TV
perception bound, the output law r and slacks u):

.. math::
    \min \sum_k w_k f_k \quad\text{s.t.}\quad \sum_k w_k q_k = p,\
    \sum_k w_k\, c^D_k \le D,\ \sum_k w_k\, c^C_k \le C,\
    r_j = \sum_{k: \hat x_k = j} w_k,\ u_j \ge |r_j - p^{ball}_j|,\ \sum_j u_j \le 2P,

with :math:`f_k = -H(q_k)`, :math:`c^D_k = q_k\cdot d_{\hat x_k}` and :math:`c^C_k =
H(q_k W)` (nats).  The multipliers are returned with the signs of
:func:`scipy.optimize.linprog`'s marginals turned into the nonnegative prices of the
certificate's proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

__all__ = ["MasterLP", "MasterSolution"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class _QuietHighs(highspy.Highs):
    """HiGHS without its callbacks: highspy's constructor enables them, which prints the
    solver's banner on the C-level stdout before any option can silence it; the
    certificate uses no callbacks."""

    def enableCallbacks(self) -> None:  # noqa: N802 (highspy's name)
        pass


@dataclass(frozen=True)
class MasterSolution:
    """An optimal solution of the master LP (nats).

    Attributes
    ----------
    value : float
        Optimal value :math:`\\sum_k w_k f_k`.
    weights : ndarray, shape (K,)
        Atom weights, in the order the atoms were added.
    lam : ndarray, shape (n,)
        Multipliers of :math:`\\sum_k w_k q_k = p`.
    mu_d, mu_c : float
        Prices (>= 0) of the distortion and classification rows (0 without D).
    pi : ndarray, shape (m,)
        Prices of the output law r (zeros without a perception bound).
    """

    value: float
    weights: FloatArray
    lam: FloatArray
    mu_d: float
    mu_c: float
    pi: FloatArray


class MasterLP:
    """The master LP over atoms, grown column by column.

    Parameters
    ----------
    p : ndarray, shape (n,)
        Source law.
    m : int
        Number of reproduction letters.
    D : float
        Distortion bound (``inf``: no distortion row).
    C : float
        Bound on :math:`H(S\\mid\\hat X)` (nats).
    P : float, optional
        TV perception bound around `p_ball`.
    p_ball : ndarray, shape (m,), optional
        Centre of the TV ball.
    tol : float
        Primal and dual feasibility tolerance of HiGHS.
    """

    def __init__(
        self,
        p: FloatArray,
        m: int,
        D: float,
        C: float,
        P: float | None = None,
        p_ball: FloatArray | None = None,
        *,
        tol: float = 1e-10,
    ) -> None:
        n = p.size
        self.n, self.m = n, m
        self.has_d = math.isfinite(D)
        self.has_p = P is not None
        inf = highspy.kHighsInf
        self.h = _QuietHighs()  # type: ignore[no-untyped-call]
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("primal_feasibility_tolerance", tol)
        self.h.setOptionValue("dual_feasibility_tolerance", tol)
        # Rows: p (n, =), [letter masses (m, = 0)], [D (<=)], C (<=), [TV: 2m + 1 (<=)].
        lower = [*p]
        upper = [*p]
        if self.has_p:
            lower += [0.0] * m
            upper += [0.0] * m
        self.row_d = len(lower) if self.has_d else -1
        if self.has_d:
            lower.append(-inf)
            upper.append(D)
        self.row_c = len(lower)
        lower.append(-inf)
        upper.append(C)
        row_tv = len(lower)
        if self.has_p:
            assert p_ball is not None and P is not None
            for j in range(m):  # r_j - u_j <= p_j and -r_j - u_j <= -p_j
                lower += [-inf, -inf]
                upper += [float(p_ball[j]), -float(p_ball[j])]
            lower.append(-inf)  # sum u <= 2P
            upper.append(2.0 * P)
        no_int = np.zeros(0, dtype=np.int32)
        self.h.addRows(len(lower), np.array(lower), np.array(upper), 0, no_int, no_int, np.zeros(0))
        self.n_aux = 0
        if self.has_p:
            # Columns r_j (letter-mass row, TV pair), then u_j (TV pair, sum row).
            starts: list[int] = []
            index: list[int] = []
            value: list[float] = []
            for j in range(m):
                starts.append(len(index))
                index += [n + j, row_tv + 2 * j, row_tv + 2 * j + 1]
                value += [-1.0, 1.0, -1.0]
            for j in range(m):
                starts.append(len(index))
                index += [row_tv + 2 * j, row_tv + 2 * j + 1, row_tv + 2 * m]
                value += [-1.0, -1.0, 1.0]
            self._add_columns(np.zeros(2 * m), starts, index, value)
            self.n_aux = 2 * m
        self.n_atoms = 0
        self.infeasible = False

    def _add_columns(
        self, cost: FloatArray, starts: list[int], index: list[int], value: list[float]
    ) -> None:
        k = cost.size
        self.h.addCols(
            k,
            cost,
            np.zeros(k),
            np.full(k, highspy.kHighsInf),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=np.float64),
        )

    def add_atoms(
        self,
        letters: IntArray,
        posteriors: FloatArray,
        f: FloatArray,
        cost_d: FloatArray,
        cost_c: FloatArray,
    ) -> None:
        """Append atoms (letter, posterior) with objective `f` and the costs of the D and
        C rows (`cost_d` is ignored without a distortion bound)."""
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        x_rows = list(range(self.n))
        for k in range(letters.size):
            starts.append(len(index))
            index += x_rows
            value += [float(v) for v in posteriors[k]]
            if self.has_p:
                index.append(self.n + int(letters[k]))
                value.append(1.0)
            if self.has_d:
                index.append(self.row_d)
                value.append(float(cost_d[k]))
            index.append(self.row_c)
            value.append(float(cost_c[k]))
        self._add_columns(np.asarray(f, dtype=np.float64), starts, index, value)
        self.n_atoms += letters.size

    def solve(self) -> MasterSolution | None:
        """Solve from the last basis; None when the LP is infeasible or HiGHS fails
        (:attr:`infeasible` tells which)."""
        self.h.run()
        status = self.h.getModelStatus()
        self.infeasible = status == highspy.HighsModelStatus.kInfeasible
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        y = np.asarray(sol.row_dual, dtype=np.float64)
        n, m = self.n, self.m
        return MasterSolution(
            value=float(self.h.getInfo().objective_function_value),
            weights=x[self.n_aux :],
            lam=y[:n],
            mu_d=max(-float(y[self.row_d]), 0.0) if self.has_d else 0.0,
            mu_c=max(-float(y[self.row_c]), 0.0),
            pi=-y[n : n + m] if self.has_p else np.zeros(m),
        )
