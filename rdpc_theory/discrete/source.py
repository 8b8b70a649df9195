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
  meets it, R(D, P, C) = R(D, P) and both bounds stay certified.  Otherwise ``upper`` is
  the rate of the best feasible channel that the convex–concave procedure finds from
  several seeded starts (a local optimum, not certified), and ``lower`` is the certified
  but generally loose bound :math:`\max\{R(D,P)_{\mathrm{lower}}, H(S) - C\}` (data
  processing: :math:`I(X;\hat X) \ge I(S;\hat X) \ge H(S) - C`); ``message`` says so.
* ``C < H(S|X)`` is infeasible for every channel (data processing): rate ``inf``.
* "Feasible" means every constraint holds to within 1e-9 (distortion units, TV, nats).
  For KL bounds below ~1e-6 nats this tolerance is not negligible (the rate moves like
  its square root there); KL bounds below 1e-12 nats are treated as :math:`p_{\hat X} =
  p_X`.

Solvers live in :mod:`rdpc_theory.blahut_arimoto` (Blahut–Arimoto with an interior-point
polish, generalized Sinkhorn for perception, Lagrangian and convex–concave iterations
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
from scipy.optimize import linprog
from scipy.special import entr
from scipy.stats import norm

from .. import blahut_arimoto as ba
from .._channel import (
    PERCEPTIONS,
    conditional_entropy,
    cross_entropy_cost,
    expected_cost,
    mutual_information,
    perception_value,
)
from .._validation import as_float_array, check_choice, check_interval, check_scalar
from ..units import log_base
from .certificate import CertifiedBound, atom_channel, certified_bound

__all__ = ["DiscreteSource", "RDPCResult", "RDPCCurve", "METHODS"]

FloatArray = NDArray[np.float64]
METHODS = ("auto", "ba", "cvxpy")
_SUM_TOL = 1e-9
_KL_ZERO = 1e-12
# The posterior-LP certificate branches and bounds over the simplex of |X| letters; its
# cost grows exponentially with |X|, so larger sources keep the loose bound.
MAX_CERTIFIED_LETTERS = 5


@dataclass(frozen=True)
class RDPCResult:
    """Solution of one RDPC problem (frozen; every information quantity in `base` units).

    Attributes
    ----------
    rate : float
        Rate of the returned channel, :math:`I(X;\\hat X)` (= `upper`); ``inf`` when the
        constraints are infeasible or no feasible channel was found.
    upper, lower : float
        Bounds on the optimum R(D, P, C).  `upper` is always certified (the rate of a
        channel meeting every constraint to within 1e-9); `lower` is certified where the
        method provides one (see :mod:`rdpc_theory.discrete`) and ``-inf`` never occurs
        for feasible problems (0 at worst).
    channel : ndarray, shape (|X|, |X̂|)
        The test channel p(x̂|x) (NaN when infeasible).
    distortion : float
        Its expected distortion E d(X, X̂).
    perception : float
        Its perception value (TV, or KL in `base` units) for the requested measure; NaN
        when |X̂| != |X|.
    conditional_entropy : float
        Its :math:`H(S \\mid \\hat X)` in `base` units.
    n_iter : int
        Inner iterations (Blahut–Arimoto/Newton/Sinkhorn steps, or convex solves).
    converged : bool
        Whether the method met its stopping rule (certified gap for convex problems,
        stationarity for the convex–concave procedure).
    message : str
        What happened and what is certified.
    base : float
        Unit of rates, C and KL perception (2: bits).
    method : str
        Solver used.
    """

    rate: float
    upper: float
    lower: float
    channel: FloatArray = field(repr=False)
    distortion: float
    perception: float
    conditional_entropy: float
    n_iter: int
    converged: bool
    message: str
    base: float
    method: str = "ba"

    @property
    def gap(self) -> float:
        """``upper - lower`` (``nan`` for infeasible problems)."""
        if math.isinf(self.upper) and math.isinf(self.lower):
            return math.nan
        return self.upper - self.lower


@dataclass(frozen=True)
class RDPCCurve:
    """Results over a grid of (D, P, C), as arrays of one common shape, ready to plot.

    ``D``, ``P``, ``C`` hold the bounds (``inf`` for an absent constraint); the other
    arrays are the fields of :class:`RDPCResult` at each grid point.
    """

    D: FloatArray
    P: FloatArray
    C: FloatArray
    rate: FloatArray
    upper: FloatArray
    lower: FloatArray
    distortion: FloatArray
    perception: FloatArray
    conditional_entropy: FloatArray
    converged: NDArray[np.bool_]
    n_iter: NDArray[np.int64]
    base: float


def _check_distribution(name: str, value: ArrayLike, axis_name: str = "") -> FloatArray:
    x = as_float_array(name, value)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` must be finite; got {x[~np.isfinite(x)].flat[0]:g}.")
    if (x < 0).any():
        raise ValueError(f"`{name}` must have entries >= 0; got {x[x < 0].flat[0]:g}.")
    sums = x.sum(axis=-1)
    bad = np.abs(sums - 1.0) > _SUM_TOL
    if np.any(bad):
        what = f"each {axis_name}" if axis_name else "its entries"
        raise ValueError(
            f"`{name}` must sum to 1 over {what} (within {_SUM_TOL:g}); "
            f"got {np.atleast_1d(sums)[np.atleast_1d(bad)][0]:.12g}."
        )
    out: FloatArray = x / sums[..., None] if x.ndim > 1 else x / sums
    return out


def _optional_bound(name: str, value: object) -> float:
    """A scalar bound >= 0; None or +inf means no constraint.  NaN, -inf, negative values
    and arrays raise ``ValueError`` naming the parameter."""
    if value is None:
        return math.inf
    x = check_interval(name, value, 0.0)  # type: ignore[arg-type]
    if x.ndim != 0:
        raise ValueError(
            f"`{name}` must be a scalar (use `sweep` for a grid of bounds); got an array of "
            f"shape {x.shape}."
        )
    return float(x)


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
        p = _check_distribution("p_x", p_x)
        if p.ndim != 1 or p.size == 0:
            raise ValueError(f"`p_x` must be a non-empty 1-D array; got shape {p.shape}.")
        n = p.size
        W = _check_distribution("p_s_given_x", p_s_given_x, "row")
        if W.ndim != 2 or W.shape[0] != n or W.shape[1] == 0:
            raise ValueError(
                f"`p_s_given_x` must have shape ({n}, |S|) (one row per letter of X); "
                f"got shape {W.shape}."
            )
        d = self._resolve_distortion(distortion, n)
        for name, arr in (("p_x", p), ("p_s_given_x", W), ("distortion", d)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_programs", {})

    @staticmethod
    def _resolve_distortion(value: Any, n: int) -> FloatArray:
        if isinstance(value, str):
            kind = check_choice("distortion", value, ("hamming", "squared"))
            idx = np.arange(n, dtype=np.float64)
            if kind == "hamming":
                out: FloatArray = 1.0 - np.eye(n)
                return out
            return (idx[:, None] - idx[None, :]) ** 2
        d = as_float_array("distortion", value)
        if d.ndim != 2 or d.shape[0] != n or d.shape[1] == 0:
            raise ValueError(
                f"`distortion` must have shape ({n}, |Xhat|) (one row per letter of X); "
                f"got shape {d.shape}."
            )
        if not np.all(np.isfinite(d)):
            raise ValueError(f"`distortion` must be finite; got {d[~np.isfinite(d)].flat[0]:g}.")
        if (d < 0).any():
            raise ValueError(f"`distortion` must have entries >= 0; got {d[d < 0].flat[0]:g}.")
        return d.copy()

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
        vx = check_scalar("var_x", var_x, 0.0, math.inf, low_open=True)
        vs = check_scalar("var_s", var_s, 0.0, math.inf, low_open=True)
        theta = check_scalar("cov", cov)
        if theta**2 > vx * vs * (1 + 1e-12):
            raise ValueError(f"`cov` must satisfy |cov| <= sqrt(var_x * var_s); got {theta:g}.")
        n = int(check_scalar("n", n, 1.0))
        n_s = n if n_s is None else int(check_scalar("n_s", n_s, 1.0))
        sx = math.sqrt(vx)
        half = (math.sqrt(2.0 * math.log(max(n, 2))) + 1.0) * sx
        edges = np.linspace(-half, half, n + 1)
        edges[0], edges[-1] = -np.inf, np.inf
        z = edges / sx
        mass = np.diff(norm.cdf(z))
        # Conditional mean of a normal on (a, b): sx * (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
        x = sx * (norm.pdf(z[:-1]) - norm.pdf(z[1:])) / mass
        var_cond = max(vs - theta**2 / vx, 0.0)
        ss = math.sqrt(vs)
        half_s = (math.sqrt(2.0 * math.log(max(n_s, 2))) + 1.0) * ss
        edges_s = np.linspace(-half_s, half_s, n_s + 1)
        edges_s[0], edges_s[-1] = -np.inf, np.inf
        mean_s = theta / vx * x
        if var_cond > 0:
            cdf = norm.cdf((edges_s[None, :] - mean_s[:, None]) / math.sqrt(var_cond))
        else:
            cdf = (edges_s[None, :] >= mean_s[:, None]).astype(np.float64)
        W = np.diff(cdf, axis=1)
        W = W / W.sum(axis=1, keepdims=True)
        return cls(mass / mass.sum(), W, (x[:, None] - x[None, :]) ** 2)

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

    def distortion_range(self) -> tuple[float, float]:
        r"""(D_min, D_max): R(D) is ``inf`` below :math:`D_{\min} = E\min_{\hat x} d` and 0 from
        :math:`D_{\max} = \min_{\hat x} E\,d(X, \hat x)` on."""
        d = self.distortion
        return float(self.p_x @ d.min(axis=1)), float((self.p_x @ d).min())

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
        Q = _check_distribution("channel", channel, "row")
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
            ``"ba"``: Blahut–Arimoto with interior-point polishing for R(D) and generalized
            Sinkhorn for the perception constraint; for C, the convex–concave procedure
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
        d_bound = _optional_bound("D", D)
        p_bound = _optional_bound("P", P)
        c_bound = _optional_bound("C", C)
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
            warm = _check_distribution("channel0", channel0, "row")
            if warm.shape != self.distortion.shape:
                raise ValueError(
                    f"`channel0` must have shape {self.distortion.shape}; got {warm.shape}."
                )
            warm = warm[self.p_x > 0]
        problem = _Problem(self, solver_kind, tol_n, method, warm_state)
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
        problem = _Problem(self, "tv", 1e-10, "ba")
        Q0 = None
        if channel0 is not None:
            Q0 = _check_distribution("channel0", channel0, "row")
            if Q0.shape != self.distortion.shape:
                raise ValueError(
                    f"`channel0` must have shape {self.distortion.shape}; got {Q0.shape}."
                )
            Q0 = Q0[problem.support]
        Q, n_iter, converged = problem.lagrangian(beta, gamma, Q0, tol)
        rate = mutual_information(problem.p, Q)
        # Data processing: any channel with H(S|Xhat) <= H achieved has rate >= H(S) - H.
        h_s = float(entr(problem.p @ problem.W).sum())
        lower = max(h_s - conditional_entropy(problem.p, Q, problem.W), 0.0)
        out = _Outcome(
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
        self, out: _Outcome, perception: str, ln_b: float, base: float, method: str
    ) -> RDPCResult:
        Q_sup = out.channel
        Q = np.full(self.distortion.shape, np.nan)
        support = self.p_x > 0
        if np.all(np.isfinite(Q_sup)):
            Q = np.zeros(self.distortion.shape)
            Q[support] = Q_sup
            for i in np.flatnonzero(~support):
                Q[i, int(np.argmin(self.distortion[i]))] = 1.0
            dist = expected_cost(self.p_x, Q, self.distortion)
            perc = self._perception_of(Q, perception, ln_b)
            h = conditional_entropy(self.p_x, Q, self.p_s_given_x) / ln_b
        else:
            dist = perc = h = math.nan
        upper = out.upper / ln_b
        lower = out.lower / ln_b
        return RDPCResult(
            rate=upper,
            upper=upper,
            lower=min(lower, upper),
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
        state: dict[Any, Any] = {}  # warm starts along this sweep only
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
            prev = res.channel if np.all(np.isfinite(res.channel)) else None
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


# -- the work ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    channel: FloatArray
    upper: float
    lower: float
    n_iter: int
    converged: bool
    message: str


def _infeasible(shape: tuple[int, int], message: str) -> _Outcome:
    return _Outcome(np.full(shape, np.nan), math.inf, math.inf, 0, True, message)


class _Problem:
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
        self.p = src.p_x[self.support]
        self.d = src.distortion[self.support]
        self.W = src.p_s_given_x[self.support]
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
        """The rate-0 channel (X̂ independent of X) of least distortion, and its distortion."""
        mean_d = self.p @ self.d
        if P is None:
            j = int(np.argmin(mean_d))
            Q = np.zeros(self.shape)
            Q[:, j] = 1.0
            return Q, float(mean_d[j])
        r = self._best_marginal(mean_d, P)
        return np.tile(r, (self.shape[0], 1)), float(r @ mean_d)

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

        from scipy.optimize import brentq

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

    def min_distortion(self, P: float | None) -> float:
        """Smallest E d over channels meeting the perception bound."""
        if P is None:
            return float(self.p @ self.d.min(axis=1))
        n, m = self.shape
        if self.kind == "tv":
            # variables: Q (n*m), u (m) >= |r - p_ball|
            nq = n * m
            cost = np.concatenate([(self.p[:, None] * self.d).ravel(), np.zeros(m)])
            A_eq = np.hstack([np.kron(np.eye(n), np.ones((1, m))), np.zeros((n, m))])
            Rm = np.kron(self.p[None, :], np.eye(m))  # r = Rm @ Q
            A_ub = np.vstack(
                [
                    np.hstack([Rm, -np.eye(m)]),
                    np.hstack([-Rm, -np.eye(m)]),
                    np.concatenate([np.zeros(nq), 0.5 * np.ones(m)])[None, :],
                ]
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
        )

    def _sinkhorn(self, beta: float, warm: ba.SlopeSolution | None, P: float) -> ba.SlopeSolution:
        cost = ba.combined_cost(self.d, beta)
        start = None if warm is None else (warm.reference, warm.scaling)
        return ba.perception_slope_solve(
            self.p, cost, self.p_ball, P, self.kind, start, tol=self.tol / 8.0
        )

    def rate_distortion(self, D: float, P: float | None) -> _Outcome:
        """R(D) or R(D, P) with certified bounds (BA or cvxpy)."""
        if self.method == "cvxpy":
            return self._rd_cvxpy(D, P)
        zero_q, d_max = self.zero_rate(None)
        d_min = self.min_distortion(None)
        if D < d_min - 1e-12 * max(1.0, abs(d_min)):
            return _infeasible(self.shape, f"infeasible: D < D_min = {d_min:.6g}")
        cache = self.warm
        if D >= d_max:
            sol = ba.TargetSolution(
                zero_q, 0.0, 0.0, 0.0, np.array([]), 0, True, "rate 0: D >= D_max (certified)"
            )
        else:
            key = ("rd", D)
            if key not in cache:
                tsol = ba.solve_target(
                    self.p,
                    self.d,
                    D,
                    self._ipm,
                    lambda Q: mutual_information(self.p, Q),
                    b_min=d_min,
                    tol=self.tol,
                    beta0=cache.get("rd_beta"),
                )
                cache[key] = tsol
                if math.isfinite(tsol.beta):
                    cache["rd_beta"] = tsol.beta
            sol = cache[key]
        out = _Outcome(
            sol.channel,
            sol.upper,
            sol.lower,
            sol.n_iter,
            sol.converged,
            sol.message if D >= d_max else f"R(D): {sol.message}",
        )
        if P is None:
            return out
        # R(D, P) >= R(D): if the R(D) channel meets the perception bound, it is optimal.
        if perception_value(self.p @ sol.channel, self.p_ball, self.kind) <= P:
            return _Outcome(
                sol.channel,
                sol.upper,
                sol.lower,
                sol.n_iter,
                sol.converged,
                "R(D, P) = R(D): the perception bound is slack (certified)",
            )
        zero_p, d_max_p = self.zero_rate(P)
        if D >= d_max_p:
            return _Outcome(zero_p, 0.0, 0.0, 0, True, "rate 0: D >= D_max(P) (certified)")
        d_min_p = self.min_distortion(P)
        if D < d_min_p - 1e-9 * max(1.0, abs(d_min_p)):
            return _infeasible(
                self.shape,
                f"infeasible: D below the smallest distortion {d_min_p:.6g} "
                "that the perception bound allows",
            )
        tsol = ba.solve_target(
            self.p,
            self.d,
            max(D, d_min_p),
            lambda b, w: self._sinkhorn(b, w, P),
            lambda Q: mutual_information(self.p, Q),
            b_min=d_min_p,
            tol=self.tol,
            beta0=sol.beta if 0.0 < sol.beta < math.inf else None,
        )
        return _Outcome(
            tsol.channel,
            tsol.upper,
            max(tsol.lower, sol.lower),
            tsol.n_iter + sol.n_iter,
            tsol.converged,
            f"R(D, P): {tsol.message}",
        )

    def _rd_cvxpy(self, D: float, P: float | None) -> _Outcome:
        if P is None or not math.isfinite(P):
            zero_q, d_max = self.zero_rate(None)
            if D >= d_max:
                return _Outcome(zero_q, 0.0, 0.0, 0, True, "rate 0: D >= D_max (certified)")
        d_min = self.min_distortion(P)
        if D < d_min - 1e-9 * max(1.0, abs(d_min)):
            return _infeasible(self.shape, f"infeasible: D < smallest distortion {d_min:.6g}")
        prog = self._convex_program(self.kind if P is not None else None, False, "rate")
        sol = prog.solve(D, P)
        ok = sol.feasible and sol.upper - sol.lower <= self.tol
        msg = f"cvxpy/CLARABEL status {sol.status}; lower bound from its dual variables"
        if not sol.feasible:
            msg += "; the solver's channel violates a constraint beyond 1e-9"
        return _Outcome(sol.channel, sol.upper, max(sol.lower, 0.0), 1, ok, msg)

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
    ) -> _Outcome:
        if C is None:
            if P is not None and math.isinf(D):
                zero_p, _ = self.zero_rate(P)
                return _Outcome(zero_p, 0.0, 0.0, 0, True, "rate 0: no distortion bound")
            return self.rate_distortion(D, P)
        h_s_given_x = float(self.p @ entr(self.W).sum(axis=1))
        if C < h_s_given_x - 1e-12:
            return _infeasible(
                self.shape, f"infeasible: C < H(S|X) = {h_s_given_x:.6g} nats (certified)"
            )
        if math.isinf(D) and P is not None:
            base_out = _Outcome(*self.zero_rate(P)[:1], 0.0, 0.0, 0, True, "")
        elif math.isinf(D):
            base_out = _Outcome(self.zero_rate(None)[0], 0.0, 0.0, 0, True, "")
        else:
            base_out = self.rate_distortion(D, P)
        if math.isinf(base_out.upper):
            return base_out
        Qc = base_out.channel
        if conditional_entropy(self.p, Qc, self.W) <= C:
            return _Outcome(
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
        if (P is None or self.kind == "tv") and self.p.size <= MAX_CERTIFIED_LETTERS:
            seeds = (Qc,) if warm is None else (Qc, warm)
            search = certified_bound(
                self.p, self.d, self.W, D, C, P, self.p_ball, tol=0.5 * self.tol, channels=seeds
            )
            cert = search.best
            lower = max(lower, search.lower)
            total += search.n_nodes
            for spread in (True, False):
                Qa = atom_channel(cert, self.p, self.d, spread=spread)
                polished = self._polish(Qa, D, P, C)
                if polished is not None:
                    total += polished[3]
                    if best is None or polished[0] < best[0]:
                        best = polished[:3]
                if best is not None and best[0] - lower <= self.tol:
                    break
        n_runs = 0
        if best is None or best[0] - lower > self.tol:
            # Not closed by the atoms: the seeded multistart convex-concave procedure.
            starts, n_extra = self._starts(D, P, C, Qc, seed, n_starts, warm)
            total += n_extra
            n_runs = len(starts)
            for Q0 in starts:
                out = self._ccp(Q0, D, P, C)
                total += out[3]
                if out[0] < math.inf and (best is None or out[0] < best[0]):
                    best = out[:3]
        if best is None:
            return _Outcome(
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
                    if search.n_nodes > 1
                    else ")"
                )
            )
            if not ok and not search.closed:
                msg += (
                    "; the relaxation is not tight here (its optimum needs more posteriors "
                    f"than letters) and {search.n_nodes} branch-and-bound nodes did not "
                    "close it: upper and lower are both reported, gap above tol"
                )
            elif not ok:
                msg += "; certified gap above tol"
        return _Outcome(Q, rate, lower, total, ok, msg)

    def _ccp(
        self, Q0: FloatArray, D: float, P: float | None, C: float
    ) -> tuple[float, FloatArray, bool, int]:
        """Convex-concave procedure from a feasible channel: (rate, channel, converged,
        inner solves); rate ``inf`` when the result misses the perception bound."""
        Q, it, conv = ba.convex_concave(
            self.p,
            self.d,
            self.W,
            D,
            C,
            Q0,
            inner=lambda ell, acc: self._ccp_inner(ell, D, P, C, acc),
            tol=1e-10,
            max_iter=200,
        )
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
                Q, it, _ = self.lagrangian(beta, gamma, Qc, 1e-9, max_iter=100)
                n_iter += it
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
        """Smallest-lambda feasible point of (1 - lambda) Qc + lambda Qf (bisection).

        H(S|Xhat) is concave along the segment, so {lambda: H <= C} is an interval
        [lambda*, 1] when H(Qc) > C >= H(Qf); distortion and perception hold all along.
        """
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if conditional_entropy(self.p, (1.0 - mid) * Qc + mid * Qf, self.W) <= C:
                hi = mid
            else:
                lo = mid
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
        for _ in range(30):
            # Mixing the two bracketing channels costs at most about
            # (gamma gap) x (cross-entropy gap) in rate: stop when that is below tol.
            if e_lo <= C or (math.isfinite(e_lo) and (hi_g - lo_g) * (e_lo - e_hi) <= tol):
                break
            if math.isfinite(e_lo):
                g = lo_g + (e_lo - C) / (e_lo - e_hi) * (hi_g - lo_g)
                g = min(max(g, lo_g + 0.05 * (hi_g - lo_g)), hi_g - 0.05 * (hi_g - lo_g))
            else:
                g = 0.5 * (lo_g + hi_g)
            Q_g = at_gamma(g)
            e_g = expected_cost(self.p, Q_g, finite)
            if e_g > C:
                lo_g, Q_lo, e_lo = g, Q_g, e_g
            else:
                hi_g, Q_hi, e_hi = g, Q_g, e_g
        state["gamma"] = hi_g
        self.warm["both_warm"] = state
        if not math.isfinite(e_lo) or e_lo <= C:
            return Q_hi
        lam = (C - e_hi) / (e_lo - e_hi)
        return lam * Q_lo + (1.0 - lam) * Q_hi

    def lagrangian(
        self, beta: float, gamma: float, Q0: FloatArray | None, tol: float, max_iter: int = 500
    ) -> tuple[FloatArray, int, bool]:
        if Q0 is None:
            sol = ba.slope_solve(self.p, ba.combined_cost(self.d, beta), tol=1e-10)
            Q0 = 0.99 * sol.channel + 0.01 / self.shape[1]
        return ba.lagrangian_point(
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
