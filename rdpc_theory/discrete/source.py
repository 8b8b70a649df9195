r"""Numerical RDPC function of any discrete source: :class:`DiscreteSource`.

.. math::
    R(D, P, C) = \min_{p(\hat x|x)} I(X;\hat X) \quad\text{s.t.}\quad
    E[d(X,\hat X)] \le D,\; d_{\mathcal P}(p_{\hat X}, p_X) \le P,\; H(S\mid\hat X) \le C

for finite alphabets X, S, X̂ (S – X – X̂), with TV :math:`\tfrac12\|p_{\hat X}-p_X\|_1`
or :math:`\mathrm{KL}(p_{\hat X}\|p_X)` perception (both need X̂ = X as alphabets).

What is certified:

* R(D) and R(D, P) are convex programs.  ``upper`` is the rate of the returned (feasible)
  channel and ``lower`` a dual bound; the solvers stop when ``upper - lower <= tol``.
* :math:`H(S|\hat X) \le C` is a concave constraint.  If the R(D, P) channel already
  meets it, R(D, P, C) = R(D, P) and both bounds stay certified.  Otherwise, with TV (or
  no) perception and |X| <= 5 letters, ``lower`` is the posterior-LP duality bound of
  :mod:`rdpc_theory.discrete.certificate` (column generation with a certified global
  pricing step, and branching over posterior regions where the relaxation needs more
  posteriors than letters), and ``upper`` the rate of a feasible channel built from its
  atoms and polished by the convex–concave procedure (plus seeded multistarts when that
  does not close the gap).  ``converged`` means exactly ``upper - lower <= tol``.  With
  KL perception or more letters, ``lower`` is the certified but generally loose bound
  :math:`\max\{R(D,P)_{\mathrm{lower}}, H(S) - C\}` (data processing:
  :math:`I(X;\hat X) \ge I(S;\hat X) \ge H(S) - C`); ``message`` says which.
* ``C < H(S|X)`` is infeasible for every channel (data processing): rate ``inf``.
* "Feasible" means every constraint holds to within 1e-9 (distortion units, TV, nats).
  For KL bounds below ~1e-6 nats this tolerance is not negligible (the rate moves like
  its square root there); KL bounds below 1e-12 nats are treated as :math:`p_{\hat X} =
  p_X`.

Solvers live in :mod:`rdpc_theory.rate_distortion` (Blahut–Arimoto with an interior-point
polish, a barrier method on the dual for TV perception and generalized Sinkhorn for KL,
Lagrangian and convex–concave iterations
for classification) and :mod:`rdpc_theory.convex` (cvxpy programs).

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144.
.. [2] Y. Blau, T. Michaeli, "Rethinking Lossy Compression: The Rate-Distortion-Perception
   Tradeoff", ICML 2019; arXiv:1901.07821.
.. [3] R. E. Blahut, "Computation of channel capacity and rate-distortion functions",
   IEEE Trans. IT 18(4), 1972.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import entr

from .._channel import (
    PERCEPTIONS,
    conditional_entropy,
    expected_cost,
    mutual_information,
    perception_value,
)
from .._validation import check_choice, check_interval, check_scalar
from ..units import log_base
from .discretize import gaussian_grid
from .problem import Outcome, Problem
from .results import DistortionRange, RDPCCurve, RDPCResult
from .validation import check_distribution, distortion_matrix, optional_bound

__all__ = ["DiscreteSource", "RDPCResult", "RDPCCurve", "METHODS"]

FloatArray = NDArray[np.float64]
METHODS = ("auto", "ba", "cvxpy")
_KL_ZERO = 1e-12


@dataclass(frozen=True, eq=False, init=False)
class DiscreteSource:
    r"""A finite source X with label S and a distortion measure, solved numerically.

    Parameters
    ----------
    p_x : array_like, shape (|X|,)
        Law of X: entries >= 0 summing to 1 (within 1e-9; zeros allowed).
    p_s_given_x : array_like, shape (|X|, |S|)
        Label channel p(s|x): rows on the simplex.
    distortion : array_like of shape (|X|, |X̂|), or {"hamming", "squared"}
        Distortion matrix d(x, x̂) >= 0 (|X̂| may differ from |X|).  ``"hamming"``:
        :math:`1 - \delta_{x\hat x}`; ``"squared"``: :math:`(x - \hat x)^2` with letters
        0, 1, ..., |X| - 1 (use a matrix for other reproduction values).

    Notes
    -----
    Rates are in bits unless ``base`` says otherwise; C and KL perception are in the same
    base as the rate; D is in distortion units and TV is a probability.  See the module
    docstring for what each bound certifies.  Problems are solved on the support of
    ``p_x``; channel rows of letters with probability 0 are set to a minimum-distortion
    reproduction (they affect no quantity).

    Examples
    --------
    Binary source X ~ Bern(0.3), label S = X xor Bern(0.1), Hamming distortion:

    >>> src = DiscreteSource([0.7, 0.3], [[0.9, 0.1], [0.1, 0.9]], "hamming")
    >>> res = src.solve(D=0.1)
    >>> round(res.rate, 6), res.converged  # H_b(0.3) - H_b(0.1)
    (0.412295, True)
    >>> res.upper - res.lower <= 1e-7
    True
    >>> round(src.solve(D=0.05, C=0.9).rate, 5)  # BinarySource(0.3, 0.1).rdc(0.05, 0.9)
    0.59489
    """

    p_x: FloatArray
    p_s_given_x: FloatArray
    distortion: FloatArray
    # Memo of the cvxpy programs built for this source (their construction depends only
    # on the source; results never depend on what was solved before).
    _programs: dict[Any, Any] = field(repr=False)

    def __init__(self, p_x: ArrayLike, p_s_given_x: ArrayLike, distortion: ArrayLike | str) -> None:
        p = check_distribution("p_x", p_x)
        if p.ndim != 1 or p.size == 0:
            raise ValueError(f"`p_x` must be a non-empty 1-D array; got shape {p.shape}.")
        n = p.size
        W = check_distribution("p_s_given_x", p_s_given_x, "row")
        if W.ndim != 2 or W.shape[0] != n or W.shape[1] == 0:
            raise ValueError(
                f"`p_s_given_x` must have shape ({n}, |S|) (one row per letter of X); "
                f"got shape {W.shape}."
            )
        d = distortion_matrix(distortion, n)
        for name, arr in (("p_x", p), ("p_s_given_x", W), ("distortion", d)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_programs", {})

    # -- constructors --------------------------------------------------------------------

    @classmethod
    def from_binary(cls, p: float, eps: float) -> DiscreteSource:
        r"""The binary model of :class:`~rdpc_theory.BinarySource`: X ~ Bern(p),
        S = X xor Bern(eps), Hamming distortion.

        Examples
        --------
        >>> DiscreteSource.from_binary(0.3, 0.1).p_x.tolist()
        [0.7, 0.3]
        """
        p = check_scalar("p", p, 0.0, 1.0)
        eps = check_scalar("eps", eps, 0.0, 1.0)
        return cls([1.0 - p, p], [[1.0 - eps, eps], [eps, 1.0 - eps]], "hamming")

    @classmethod
    def from_gaussian(
        cls, var_x: float, var_s: float, cov: float, n: int, n_s: int | None = None
    ) -> DiscreteSource:
        r"""Discretize a jointly Gaussian (X, S) on grids, with squared-error distortion.

        X is quantized to `n` cells of equal width on :math:`\pm(\sqrt{2\ln n} + 1)\sigma_X`
        (outer cells unbounded); each letter is the cell's conditional mean and carries
        the cell's probability, so :math:`X_n = E[X \mid \text{cell}]`.  S given a letter x
        is :math:`N(\theta x/\sigma_X^2, \sigma^2_{S|X})` quantized the same way on `n_s`
        cells (default n).  The reproduction alphabet is the letters of X.  As n grows,
        R(D) and R(D, C) converge to those of :class:`~rdpc_theory.GaussianSource` when C
        is matched through :math:`I(S;\hat X)`: :math:`C_n = H(S_n) - (h(S) - C)`.

        Examples
        --------
        >>> src = DiscreteSource.from_gaussian(1.0, 0.5, 0.6, n=16)
        >>> src.p_x.shape, src.p_s_given_x.shape
        ((16,), (16, 16))
        """
        return cls(*gaussian_grid(var_x, var_s, cov, n, n_s))

    # -- model quantities ------------------------------------------------------------------

    @property
    def n_x(self) -> int:
        """|X|."""
        return int(self.p_x.size)

    @property
    def n_s(self) -> int:
        """|S|."""
        return int(self.p_s_given_x.shape[1])

    @property
    def n_xhat(self) -> int:
        """|X̂| (columns of the distortion matrix)."""
        return int(self.distortion.shape[1])

    def label_entropy(self, *, base: float = 2) -> float:
        """:math:`H(S)` in `base` units: C at or above it costs no rate."""
        p_s = self.p_x @ self.p_s_given_x
        return float(entr(p_s).sum()) / log_base(base)

    def label_noise_entropy(self, *, base: float = 2) -> float:
        """:math:`H(S \\mid X)` in `base` units: no channel reaches a smaller C."""
        return float(self.p_x @ entr(self.p_s_given_x).sum(axis=1)) / log_base(base)

    def distortion_range(self) -> DistortionRange:
        r"""The distortions where R(D) is finite and positive: R(D) is ``inf`` below
        :math:`D_{\min} = E\min_{\hat x} d` and 0 from :math:`D_{\max} = \min_{\hat x}
        E\,d(X, \hat x)` on (units of the distortion matrix).

        Examples
        --------
        >>> DiscreteSource.from_binary(0.3, 0.1).distortion_range()
        DistortionRange(minimum=0.0, maximum=0.3)
        """
        d = self.distortion
        return DistortionRange(float(self.p_x @ d.min(axis=1)), float((self.p_x @ d).min()))

    def evaluate(
        self, channel: ArrayLike, *, perception: str = "tv", base: float = 2
    ) -> dict[str, float]:
        """Rate, distortion, perception and :math:`H(S|\\hat X)` of a given channel.

        Examples
        --------
        >>> src = DiscreteSource.from_binary(0.3, 0.1)
        >>> v = src.evaluate([[1.0, 0.0], [0.0, 1.0]])
        >>> round(v["rate"], 6), v["distortion"], round(v["conditional_entropy"], 6)
        (0.881291, 0.0, 0.468996)
        """
        Q = check_distribution("channel", channel, "row")
        if Q.shape != self.distortion.shape:
            raise ValueError(f"`channel` must have shape {self.distortion.shape}; got {Q.shape}.")
        perception = check_choice("perception", perception, PERCEPTIONS)
        ln_b = log_base(base)
        p = self.p_x
        return {
            "rate": mutual_information(p, Q) / ln_b,
            "distortion": expected_cost(p, Q, self.distortion),
            "perception": self._perception_of(Q, perception, ln_b),
            "conditional_entropy": conditional_entropy(p, Q, self.p_s_given_x) / ln_b,
        }

    def _perception_of(self, Q: FloatArray, kind: str, ln_b: float) -> float:
        if self.n_xhat != self.n_x or not np.all(np.isfinite(Q)):
            return math.nan
        v = perception_value(self.p_x @ Q, self.p_x, kind)
        return v / ln_b if kind == "kl" else v

    # -- the solver ------------------------------------------------------------------------

    def solve(
        self,
        D: float | None = None,
        P: float | None = None,
        C: float | None = None,
        *,
        perception: str = "tv",
        method: str = "auto",
        base: float = 2,
        tol: float = 1e-7,
        seed: int = 0,
        n_starts: int = 4,
        channel0: ArrayLike | None = None,
    ) -> RDPCResult:
        r"""Compute R(D, P, C) with bounds.

        Parameters
        ----------
        D : float, optional
            Distortion bound, a scalar >= 0 (None or ``inf``: no constraint; NaN, negative
            values and arrays raise ``ValueError``: use :meth:`sweep` for grids).
        P : float, optional
            Perception bound, a scalar >= 0: TV (a probability) or KL in `base` units
            (None or ``inf``: no constraint).  Needs |X̂| = |X| (the same index is the
            same letter).
        C : float, optional
            Bound on :math:`H(S \mid \hat X)` in `base` units, a scalar >= 0 (None or
            ``inf``: no constraint).
        perception : {"tv", "kl"}
            Perception measure :math:`\tfrac12\|p_{\hat X} - p_X\|_1` or
            :math:`\mathrm{KL}(p_{\hat X}\|p_X)`.
        method : {"auto", "ba", "cvxpy"}
            ``"ba"``: Blahut–Arimoto with interior-point polishing for R(D), a barrier
            method on the dual for a TV bound and generalized Sinkhorn for a KL bound (both
            certified); for C, the convex–concave procedure
            with Blahut–Arimoto inner problems (cvxpy inner problems when P is given too).
            ``"cvxpy"``: the convex program (CLARABEL) for R(D)/R(D, P) and cvxpy inner
            problems for C.  ``"auto"``: ``"ba"``.
        base : float
            Unit of rates, C and KL perception (2: bits).
        tol : float
            Target certified gap ``upper - lower`` in `base` units.  ``converged`` is
            true exactly when the returned bounds are within `tol` (or the problem is
            certified infeasible).  With C and TV (or no) perception on |X| <= 5 letters
            the lower bound is the posterior-LP duality bound
            (:mod:`rdpc_theory.discrete.certificate`); elsewhere with C it is the loose
            bound of the module docstring and ``converged`` is usually false.
        seed : int
            Seed of the random starts of the convex–concave procedure.
        n_starts : int
            Number of starts of the convex–concave procedure (>= 1).
        channel0 : array_like, optional
            Explicit warm start: a channel to start the convex–concave procedure from as
            well, when it meets the constraints (e.g. the solution at a neighbouring
            point).  Nothing else carries over between calls: the same call with the same
            arguments returns the same result, bit for bit.

        Returns
        -------
        RDPCResult
            ``rate = inf`` where the constraints are infeasible (C < H(S|X), D below the
            smallest distortion the other constraints allow).

        Notes
        -----
        R(D, P, C) is nonincreasing in each argument.  With C, the returned rate is
        the best local optimum found; see the module docstring for what is certified.
        """
        return self._solve(
            D,
            P,
            C,
            perception=perception,
            method=method,
            base=base,
            tol=tol,
            seed=seed,
            n_starts=n_starts,
            channel0=channel0,
            warm_state=None,
        )

    def _solve(
        self,
        D: float | None,
        P: float | None,
        C: float | None,
        *,
        perception: str,
        method: str,
        base: float,
        tol: float,
        seed: int,
        n_starts: int,
        channel0: ArrayLike | None,
        warm_state: dict[Any, Any] | None,
    ) -> RDPCResult:
        """:meth:`solve` with the warm-start state of a sweep (None: a fresh one)."""
        ln_b = log_base(base)
        d_bound = optional_bound("D", D)
        p_bound = optional_bound("P", P)
        c_bound = optional_bound("C", C)
        perception = check_choice("perception", perception, PERCEPTIONS)
        method = check_choice("method", method, METHODS)
        tol_n = check_scalar("tol", tol, 0.0, math.inf, low_open=True) * ln_b
        seed = int(check_scalar("seed", seed, 0.0))
        n_starts = int(check_scalar("n_starts", n_starts, 1.0))
        if math.isfinite(p_bound) and self.n_xhat != self.n_x:
            raise ValueError(
                "`P` needs the reproduction alphabet to be the source alphabet "
                f"(|Xhat| = |X| = {self.n_x}); the distortion matrix has |Xhat| = "
                f"{self.n_xhat}."
            )
        solver_kind = perception
        if perception == "kl" and math.isfinite(p_bound):
            p_bound *= ln_b
            if p_bound <= _KL_ZERO:
                # KL(r||p) <= 0 and TV(r, p) <= 0 both mean r = p; below _KL_ZERO nats the
                # KL ball is within the solvers' feasibility tolerance of that point.
                p_bound, solver_kind = 0.0, "tv"
        if math.isfinite(c_bound):
            c_bound *= ln_b
        has_p, has_c = math.isfinite(p_bound), math.isfinite(c_bound)
        if method == "auto":
            method = "ba"
        warm = None
        if channel0 is not None:
            warm = check_distribution("channel0", channel0, "row")
            if warm.shape != self.distortion.shape:
                raise ValueError(
                    f"`channel0` must have shape {self.distortion.shape}; got {warm.shape}."
                )
            warm = warm[self.p_x > 0]
        problem = Problem(self, solver_kind, tol_n, method, warm_state)
        out = problem.solve(
            d_bound,
            p_bound if has_p else None,
            c_bound if has_c else None,
            seed=seed,
            n_starts=n_starts,
            warm=warm,
        )
        return self._result(out, perception, ln_b, base, method)

    def lagrangian(
        self,
        beta: float,
        gamma: float,
        *,
        base: float = 2,
        tol: float = 1e-9,
        channel0: ArrayLike | None = None,
    ) -> RDPCResult:
        r"""Local minimizer of the Lagrangian :math:`I(X;\hat X) + \beta E d + \gamma
        H(S\mid\hat X)` (information-bottleneck-style alternating minimization).

        Sweeping (β, γ) traces the lower convex envelope of the RDC surface: each
        minimizer is a point (D, C, R) with D, C, R its distortion, :math:`H(S|\hat X)` and
        rate.  β is per unit of distortion in nats; γ is dimensionless.  The Lagrangian
        is convex in the channel for γ <= 1 (then the point is a global minimizer) but not
        beyond; ``converged`` reports stationarity.  ``upper`` = ``rate`` and ``lower`` =
        :math:`H(S) - H(S|\hat X)` bound R at the achieved (D, C); only the upper bound is
        tight.

        Parameters
        ----------
        beta : float
            Distortion multiplier, >= 0 (nats per unit distortion).
        gamma : float
            Classification multiplier, >= 0.
        base : float
            Unit of the reported rate and conditional entropy.
        tol : float
            Relative decrease of the Lagrangian below which iteration stops.
        channel0 : array_like, optional
            Starting channel (default: the R(D) channel at slope β mixed with uniform).
        """
        ln_b = log_base(base)
        beta = check_scalar("beta", beta, 0.0)
        gamma = check_scalar("gamma", gamma, 0.0)
        tol = check_scalar("tol", tol, 0.0, math.inf, low_open=True)
        problem = Problem(self, "tv", 1e-10, "ba")
        Q0 = None
        if channel0 is not None:
            Q0 = check_distribution("channel0", channel0, "row")
            if Q0.shape != self.distortion.shape:
                raise ValueError(
                    f"`channel0` must have shape {self.distortion.shape}; got {Q0.shape}."
                )
            Q0 = Q0[problem.support]
        local = problem.lagrangian(beta, gamma, Q0, tol)
        Q, n_iter, converged = local.channel, local.n_iter, local.converged
        rate = mutual_information(problem.p, Q)
        # Data processing: any channel with H(S|Xhat) <= H achieved has rate >= H(S) - H.
        h_s = float(entr(problem.p @ problem.W).sum())
        lower = max(h_s - conditional_entropy(problem.p, Q, problem.W), 0.0)
        out = Outcome(
            Q,
            rate,
            min(lower, rate),
            n_iter,
            converged,
            "Lagrangian stationary point (a local minimizer for gamma > 1); upper = its rate, "
            "lower = H(S) - H(S|Xhat) (certified, loose) for R at the achieved (D, C)",
        )
        return self._result(out, "tv", ln_b, base, "lagrangian")

    def _result(
        self, out: Outcome, perception: str, ln_b: float, base: float, method: str
    ) -> RDPCResult:
        Q_sup = out.channel
        support = self.p_x > 0
        if np.all(np.isfinite(Q_sup)):
            if support.all():
                Q = Q_sup  # the solver's own array: no n x n copy
            else:
                Q = np.zeros(self.distortion.shape)
                Q[support] = Q_sup
                for i in np.flatnonzero(~support):
                    Q[i, int(np.argmin(self.distortion[i]))] = 1.0
            dist = expected_cost(self.p_x, Q, self.distortion)
            perc = self._perception_of(Q, perception, ln_b)
            h = conditional_entropy(self.p_x, Q, self.p_s_given_x) / ln_b
            # The solvers may bound the channel's rate from above (the convexity chord of
            # two slopes' channels, rate_distortion.target); `rate` is the channel's own,
            # which they know exactly for a single slope's channel.
            own_rate = out.upper if out.upper_is_rate else mutual_information(self.p_x, Q)
        else:
            # Formed only here: a NaN channel filled on every call had cost 0.3 CPU-s of
            # page faults per result at 4,096 letters.
            Q = np.full(self.distortion.shape, np.nan)
            dist = perc = h = own_rate = math.nan
        upper = (
            float(min(out.upper, own_rate)) / ln_b
            if math.isfinite(own_rate)
            else (float(out.upper) / ln_b)
        )
        lower = out.lower / ln_b
        return RDPCResult(
            rate=upper,
            upper=upper,
            lower=float(min(lower, upper)),
            channel=Q,
            distortion=dist,
            perception=perc,
            conditional_entropy=h,
            n_iter=int(out.n_iter),
            converged=bool(out.converged),
            message=out.message,
            base=float(base),
            method=method,
        )

    # -- curves ----------------------------------------------------------------------------

    def sweep(
        self,
        D: ArrayLike | None = None,
        P: ArrayLike | None = None,
        C: ArrayLike | None = None,
        *,
        perception: str = "tv",
        method: str = "auto",
        base: float = 2,
        tol: float = 1e-7,
        seed: int = 0,
        n_starts: int = 4,
    ) -> RDPCCurve:
        """Solve on the broadcast grid of D, P, C (None or ``inf``: no constraint) with
        warm starts.

        The grid is walked in C order; each point starts from the previous point's channel
        (``channel0``) and multipliers.  The warm starts live in this call only: the same
        sweep gives the same result bit for bit, and points may differ from independent
        :meth:`solve` calls within the certified gaps.

        Returns an :class:`RDPCCurve` whose arrays have the broadcast shape.
        """
        arrays = [
            np.asarray(np.inf if v is None else check_interval(name, v, 0.0), dtype=np.float64)
            for name, v in (("D", D), ("P", P), ("C", C))
        ]
        Db, Pb, Cb = np.broadcast_arrays(*arrays)
        fields = {
            k: np.full(Db.shape, np.nan)
            for k in ("rate", "upper", "lower", "distortion", "perception", "conditional_entropy")
        }
        converged = np.zeros(Db.shape, dtype=bool)
        n_iter = np.zeros(Db.shape, dtype=np.int64)
        prev: FloatArray | None = None
        # Warm starts along this sweep only; R(D) solutions are kept for the bounds D that
        # come again (a surface over C x D), not along a curve.
        values, counts = np.unique(Db[np.isfinite(Db)], return_counts=True)
        state: dict[Any, Any] = {"rd_repeated": frozenset(values[counts > 1].tolist())}
        has_c = bool(np.isfinite(Cb).any())
        for idx in np.ndindex(Db.shape):
            res = self._solve(
                None if math.isinf(Db[idx]) else float(Db[idx]),
                None if math.isinf(Pb[idx]) else float(Pb[idx]),
                None if math.isinf(Cb[idx]) else float(Cb[idx]),
                perception=perception,
                method=method,
                base=base,
                tol=tol,
                seed=seed,
                n_starts=n_starts,
                channel0=prev,
                warm_state=state,
            )
            # Only the classification-constrained solver starts from a channel.
            prev = res.channel if np.all(np.isfinite(res.channel)) and has_c else None
            for k in fields:
                fields[k][idx] = getattr(res, k)
            converged[idx] = res.converged
            n_iter[idx] = res.n_iter
        return RDPCCurve(
            D=Db.copy(),
            P=Pb.copy(),
            C=Cb.copy(),
            converged=converged,
            n_iter=n_iter,
            base=float(base),
            **fields,
        )

    def rd_curve(self, D: ArrayLike, *, base: float = 2, tol: float = 1e-7) -> RDPCCurve:
        """R(D) at each D (1-D array), warm-started along the curve.

        Examples
        --------
        >>> src = DiscreteSource.from_binary(0.3, 0.1)
        >>> [round(float(r), 4) for r in src.rd_curve([0.05, 0.1, 0.3]).rate]
        [0.5949, 0.4123, 0.0]
        """
        return self.sweep(D=np.atleast_1d(np.asarray(D, dtype=np.float64)), base=base, tol=tol)

    def rdp_surface(
        self,
        D: ArrayLike,
        P: ArrayLike,
        *,
        perception: str = "tv",
        base: float = 2,
        tol: float = 1e-7,
    ) -> RDPCCurve:
        """R(D, P) on the grid ``P x D`` (arrays of shape (len(P), len(D)))."""
        Dg, Pg = np.meshgrid(np.atleast_1d(D), np.atleast_1d(P))
        return self.sweep(D=Dg, P=Pg, perception=perception, base=base, tol=tol)

    def rdc_surface(
        self,
        D: ArrayLike,
        C: ArrayLike,
        *,
        base: float = 2,
        tol: float = 1e-7,
        seed: int = 0,
        n_starts: int = 2,
    ) -> RDPCCurve:
        """R(D, C) on the grid ``C x D`` (arrays of shape (len(C), len(D))).

        Each row is swept along D with the previous solution as a warm start of the
        convex–concave procedure, plus ``n_starts - 1`` fresh starts (see :meth:`solve`).
        """
        Dg, Cg = np.meshgrid(np.atleast_1d(D), np.atleast_1d(C))
        return self.sweep(D=Dg, C=Cg, base=base, tol=tol, seed=seed, n_starts=n_starts)

    def rpc_surface(
        self,
        P: ArrayLike,
        C: ArrayLike,
        *,
        perception: str = "tv",
        base: float = 2,
        tol: float = 1e-7,
        seed: int = 0,
        n_starts: int = 2,
    ) -> RDPCCurve:
        """R(P, C) on the grid ``C x P`` (arrays of shape (len(C), len(P))), warm-started
        along P as in :meth:`rdc_surface`."""
        Pg, Cg = np.meshgrid(np.atleast_1d(P), np.atleast_1d(C))
        return self.sweep(
            P=Pg, C=Cg, perception=perception, base=base, tol=tol, seed=seed, n_starts=n_starts
        )

    def lagrangian_surface(
        self, beta: ArrayLike, gamma: ArrayLike, *, base: float = 2, tol: float = 1e-9
    ) -> RDPCCurve:
        """Lagrangian points on the grid ``gamma x beta`` (warm-started along beta).

        The D, C arrays of the result are the achieved distortion and
        :math:`H(S|\\hat X)`; plot (D, C, rate) as a scattered surface.
        """
        b = np.atleast_1d(check_interval("beta", beta, 0.0))
        g = np.atleast_1d(check_interval("gamma", gamma, 0.0))
        shape = (g.size, b.size)
        rate = np.full(shape, np.nan)
        low = np.full(shape, np.nan)
        dist = np.full(shape, np.nan)
        h = np.full(shape, np.nan)
        converged = np.zeros(shape, dtype=bool)
        n_iter = np.zeros(shape, dtype=np.int64)
        for i, gi in enumerate(g):
            prev: FloatArray | None = None
            for j, bj in enumerate(b):
                res = self.lagrangian(float(bj), float(gi), base=base, tol=tol, channel0=prev)
                prev = res.channel
                rate[i, j], dist[i, j], low[i, j] = res.rate, res.distortion, res.lower
                h[i, j] = res.conditional_entropy
                converged[i, j], n_iter[i, j] = res.converged, res.n_iter
        nan = np.full(shape, np.nan)
        return RDPCCurve(
            D=dist,
            P=np.full(shape, np.inf),
            C=h,
            rate=rate,
            upper=rate.copy(),
            lower=low,
            distortion=dist.copy(),
            perception=nan,
            conditional_entropy=h.copy(),
            converged=converged,
            n_iter=n_iter,
            base=float(base),
        )
