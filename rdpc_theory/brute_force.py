r"""Brute-force RDPC optimizers for the binary and scalar Gaussian models.

These solve the *definition* of the rate–distortion–perception–classification function

.. math::
    R(D, P, C) = \min_{p(\hat x|x)} I(X; \hat X) \quad \text{s.t.} \quad
    E[\Delta(X, \hat X)] \le D,\ d_p(p_X, p_{\hat X}) \le P,\ H(S|\hat X) \le C,

with the Markov chain :math:`S - X - \hat X`, by searching the test channels directly.
Every information quantity is computed here from the joint distribution of
:math:`(X, S, \hat X)`; nothing is taken from the closed forms in
:mod:`rdpc_theory.binary` and :mod:`rdpc_theory.gaussian`, which these functions exist
to check (tests and ``paper_checks`` use them as an independent reference).

They are scalar (one constraint triple per call) and slow on purpose (tens of
milliseconds per point): exhaustiveness and exact feasibility over speed.

* Binary: every forward channel :math:`(\alpha, \beta) = (P(\hat X=1|X=0),
  P(\hat X=1|X=1)) \in [0,1]^2` is a candidate.  The optimizer enumerates the points
  that the KKT conditions allow (zero-rate channels, vertices where two constraint
  boundaries cross, minima of the rate along each boundary) and also scans a dense
  grid; the grid must never beat the enumeration (a built-in self-check).
* Gaussian: jointly Gaussian channels :math:`\hat X = aX + bZ`,
  :math:`Z \sim N(0, 1)` independent of (X, S).  The rate depends on the channel only
  through the noise fraction :math:`u = b^2/\mathrm{Var}\,\hat X`, every constraint is
  monotone in u at fixed output standard deviation, so the smallest rate is found by
  bisection on :math:`\ln u` with a numerical search over the output standard deviation
  at each step; a dense (u, s) grid again checks the result.

A returned channel always satisfies every constraint up to ``1e-12`` (absolute, in nats
for information quantities), re-evaluated from the channel parameters.

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (definition of R(D, P, C)).
.. [2] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley 2006,
   Ch. 2 and 8 (entropy, mutual information, Gaussian differential entropy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq, elementwise, minimize_scalar
from scipy.special import entr, expit

from ._validation import check_choice, check_interval, check_scalar
from .units import log_base

__all__ = ["BruteForceResult", "binary_brute_force", "gaussian_brute_force", "FEASIBILITY_TOL"]

FloatArray = NDArray[np.float64]

#: Largest constraint violation a returned channel may have (absolute; nats for C and KL).
FEASIBILITY_TOL = 1e-12

_TWO_PI_E = 2.0 * math.pi * math.e
_N_RAYS = 1024  # rays per corner scanned along the classification boundary (binary)
_N_GRID = 161  # points per axis of the 2-D sanity grid
_N_POLISH = 12  # local minima polished per arc of the classification boundary


@dataclass(frozen=True)
class BruteForceResult:
    r"""Best test channel found by a brute-force search.

    Attributes
    ----------
    rate : float
        :math:`I(X;\hat X)` of the channel in `base` units; ``inf`` when no channel is
        feasible, or when only noiseless channels (:math:`\hat X` an invertible function
        of X in the Gaussian model) are.
    channel : tuple of float
        Binary: :math:`(\alpha, \beta) = (P(\hat X=1|X=0), P(\hat X=1|X=1))`.
        Gaussian: (a, b) in :math:`\hat X = aX + bZ`.  NaNs when infeasible.
    distortion : float
        Hamming distortion :math:`P(X \ne \hat X)` or mean squared error.
    perception : float
        Binary: :math:`|P(\hat X = 1) - p|`; Gaussian: :math:`W_2^2` or
        :math:`\mathrm{KL}(p_{\hat X} \| p_X)` in `base` units.
    conditional_entropy : float
        :math:`H(S|\hat X)` (:math:`h(S|\hat X)` for the Gaussian model) in `base` units.
    base : float
        Unit of `rate`, `conditional_entropy` and KL perception.
    feasible : bool
        Whether any channel satisfies the constraints.
    """

    rate: float
    channel: tuple[float, float]
    distortion: float
    perception: float
    conditional_entropy: float
    base: float
    feasible: bool


def _infeasible(base: float) -> BruteForceResult:
    nan = math.nan
    return BruteForceResult(math.inf, (nan, nan), nan, nan, nan, base, False)


def _level(name: str, value: float, low: float = 0.0) -> float:
    """A scalar constraint level >= `low`; ``inf`` is allowed (a slack constraint)."""
    x = check_interval(name, value, low)
    if x.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar; got an array of shape {x.shape}.")
    return float(x)


def _feasible_root(
    f: Callable[..., FloatArray],
    x_in: FloatArray,
    x_out: FloatArray,
    args: tuple[FloatArray, ...] = (),
) -> FloatArray:
    """Elementwise point x with ``f(x) <= 0`` next to the sign change of f between
    `x_in` (where ``f <= 0``) and `x_out` (where ``f > 0``).

    SciPy's bracketing root finder keeps a bracket; we return its end on the feasible
    side, so the point satisfies the constraint exactly as evaluated.
    """
    x_in = np.asarray(x_in, dtype=np.float64)
    x_out = np.asarray(x_out, dtype=np.float64)
    f_in = f(x_in, *args)
    f_out = f(x_out, *args)
    out = np.array(x_in, copy=True)
    whole = f_out <= 0.0  # no sign change (rounding at a boundary): the far end is feasible
    out[whole] = x_out[whole]
    todo = (f_in < 0.0) & ~whole
    if todo.any():
        sub_args = tuple(np.broadcast_to(a, x_in.shape)[todo] for a in args)
        lo = np.minimum(x_in[todo], x_out[todo])
        hi = np.maximum(x_in[todo], x_out[todo])
        res = elementwise.find_root(f, (lo, hi), args=sub_args)
        xl, xr = res.bracket
        fl, fr = res.f_bracket
        pick = np.where(fl <= 0.0, xl, xr)
        pick = np.where((res.f_x <= 0.0) & np.isfinite(res.x), res.x, pick)
        out[todo] = pick
    return out


# --------------------------------------------------------------------------------------
# Binary model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BinaryProblem:
    p: float
    eps: float
    D: float
    P: float
    C: float  # nats

    def quantities(
        self, alpha: ArrayLike, beta: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(I(X;Xhat), Hamming distortion, TV perception, H(S|Xhat)), nats, from the joint law."""
        a = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, 1.0)
        b = np.clip(np.asarray(beta, dtype=np.float64), 0.0, 1.0)
        p, e = self.p, self.eps
        # Joint law of (X, Xhat).
        j00, j01 = (1.0 - p) * (1.0 - a), (1.0 - p) * a
        j10, j11 = p * (1.0 - b), p * b
        q0, q1 = j00 + j10, j01 + j11
        h_x = float(entr(p) + entr(1.0 - p))
        h_xhat = entr(q0) + entr(q1)
        h_joint = entr(j00) + entr(j01) + entr(j10) + entr(j11)
        mi = np.maximum(h_x + h_xhat - h_joint, 0.0)
        # Joint law of (S, Xhat): P(s, xh) = sum_x P(x) P(s|x) P(xh|x), P(S != X) = eps.
        k00 = (1.0 - e) * j00 + e * j10
        k01 = (1.0 - e) * j01 + e * j11
        k10 = e * j00 + (1.0 - e) * j10
        k11 = e * j01 + (1.0 - e) * j11
        h_s_given = entr(k00) + entr(k01) + entr(k10) + entr(k11) - h_xhat
        return mi, j01 + j10, np.abs(q1 - p), h_s_given

    def cond_entropy(self, alpha: FloatArray, beta: FloatArray) -> FloatArray:
        return self.quantities(alpha, beta)[3]

    def feasible(self, alpha: FloatArray, beta: FloatArray) -> NDArray[np.bool_]:
        _, d, tv, h = self.quantities(alpha, beta)
        tol = FEASIBILITY_TOL
        in_box = (alpha >= 0.0) & (alpha <= 1.0) & (beta >= 0.0) & (beta <= 1.0)
        return in_box & (d <= self.D + tol) & (tv <= self.P + tol) & (h <= self.C + tol)


@dataclass(frozen=True)
class _Line:
    """The segment of {n . (alpha, beta) = c} inside the unit square, as a map of t."""

    n: tuple[float, float]
    c: float

    def param(self) -> tuple[int, float, float] | None:
        """(index of the free coordinate, t0, t1), or None if the line misses the square.

        The free coordinate t is the one with the smaller coefficient; the other one is
        ``(c - n_free t) / n_dep`` and must lie in [0, 1].
        """
        n1, n2 = self.n
        free = 0 if abs(n2) >= abs(n1) else 1
        nf, nd = (n1, n2) if free == 0 else (n2, n1)
        if nf == 0.0:
            dep = self.c / nd
            return (free, 0.0, 1.0) if -1e-15 <= dep <= 1.0 + 1e-15 else None
        t_a, t_b = self.c / nf, (self.c - nd) / nf  # dependent = 0 and = 1
        t0, t1 = max(min(t_a, t_b), 0.0), min(max(t_a, t_b), 1.0)
        return (free, t0, t1) if t0 <= t1 else None

    def point(self, free: int, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        n1, n2 = self.n
        t = np.asarray(t, dtype=np.float64)
        if free == 0:
            return t, np.clip((self.c - n1 * t) / n2, 0.0, 1.0)
        return np.clip((self.c - n2 * t) / n1, 0.0, 1.0), t


def _binary_lines(prob: _BinaryProblem) -> list[_Line]:
    p = prob.p
    lines = [_Line((1.0, 0.0), 0.0), _Line((1.0, 0.0), 1.0)]
    lines += [_Line((0.0, 1.0), 0.0), _Line((0.0, 1.0), 1.0)]
    if math.isfinite(prob.D):  # (1-p) alpha + p (1 - beta) = D
        lines.append(_Line((1.0 - p, -p), prob.D - p))
    if math.isfinite(prob.P):  # P(Xhat=1) = (1-p) alpha + p beta = p +- P
        lines.append(_Line((1.0 - p, p), p + prob.P))
        if prob.P > 0.0:
            lines.append(_Line((1.0 - p, p), p - prob.P))
    return lines


def _line_candidates(prob: _BinaryProblem, line: _Line) -> list[tuple[float, float]]:
    """Minimum of I along the segment and its crossings of the classification boundary."""
    par = line.param()
    if par is None:
        return []
    free, t0, t1 = par
    out: list[tuple[float, float]] = []
    for t in (t0, t1):
        a, b = line.point(free, np.asarray(t))
        out.append((float(a), float(b)))
    if t1 - t0 <= 0.0:
        return out

    def t_of(u: float) -> float:
        """Position on [t0, t1] from a logit coordinate u (fine near both ends)."""
        return t0 + (t1 - t0) * float(expit(u)) if u <= 0 else t1 - (t1 - t0) * float(expit(-u))

    def along(fun_index: int, sign: float = 1.0) -> Callable[[float], float]:
        def g(u: float) -> float:
            a, b = line.point(free, np.asarray(t_of(u)))
            return sign * float(prob.quantities(a, b)[fun_index])

        return g

    # I is convex along a line: one minimum, found by bounded Brent in the logit
    # coordinate (a minimum 1e-12 from an end is resolved as well as one in the middle).
    t_min = t_of(_polish(along(0), -45.0, 45.0))
    a, b = line.point(free, np.asarray(t_min))
    out.append((float(a), float(b)))
    if math.isfinite(prob.C):
        # H(S|Xhat) is concave along a line: find its maximum, then the (at most two)
        # crossings of the level C on either side, from the feasible side.
        def h(t: float) -> float:
            a_, b_ = line.point(free, np.asarray(t))
            return float(prob.cond_entropy(a_, b_))

        t_max = max([t0, t1, t_of(_polish(along(3, -1.0), -45.0, 45.0))], key=h)
        if h(t_max) > prob.C:

            def excess(t: FloatArray) -> FloatArray:
                a_, b_ = line.point(free, t)
                return prob.cond_entropy(a_, b_) - prob.C

            for t_end in (t0, t1):
                if h(t_end) <= prob.C:
                    t_root = _feasible_root(excess, np.asarray(t_end), np.asarray(t_max))
                    a, b = line.point(free, t_root)
                    out.append((float(a), float(b)))
    return out


def _vertex(l1: _Line, l2: _Line) -> tuple[float, float] | None:
    m = np.array([l1.n, l2.n])
    det = float(np.linalg.det(m))
    if abs(det) < 1e-14:
        return None
    a, b = np.linalg.solve(m, np.array([l1.c, l2.c]))
    if -1e-12 <= a <= 1.0 + 1e-12 and -1e-12 <= b <= 1.0 + 1e-12:
        return float(np.clip(a, 0.0, 1.0)), float(np.clip(b, 0.0, 1.0))
    return None


def _boundary_curve_candidates(prob: _BinaryProblem) -> list[tuple[float, float]]:
    r"""Local minima of I along the curve :math:`H(S|\hat X) = C` inside the square.

    Where C < H(S), the feasible channels lie in the two triangles
    :math:`\alpha < \beta` and :math:`\alpha > \beta` (the diagonal has
    :math:`H(S|\hat X) = H(S)`).  Each triangle is star-shaped from its corner, (0, 1) or
    (1, 0), and along a ray from the corner to the diagonal :math:`H(S|\hat X)` is concave
    with its maximum H(S) at the diagonal, hence non-decreasing: the curve meets each ray
    at most once.  We scan `_N_RAYS` rays per corner, find each crossing from the
    feasible side, and polish every local minimum of I along the curve with bounded
    Brent.  (Rays from the corner resolve arbitrarily small feasible regions.)
    """
    out: list[tuple[float, float]] = []
    if prob.cond_entropy(np.asarray(0.5), np.asarray(0.5)) <= prob.C:
        return out  # C >= H(S) >= H(S|Xhat): the constraint never binds
    for corner in ((0.0, 1.0), (1.0, 0.0)):
        out += _corner_arc_candidates(prob, corner)
    return out


def _ray_directions(s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Unit vectors (cos phi, sin phi) with s = ln tan phi, phi in [0, pi/2].

    Parametrizing by s resolves directions arbitrarily close (relatively) to both ends,
    where optima on the square's edges' neighbourhood live (e.g. alpha = 1e-10).
    """
    s = np.asarray(s, dtype=np.float64)
    t = np.exp(-np.abs(s))
    n = np.sqrt(1.0 + t * t)
    big, small = 1.0 / n, t / n
    return np.where(s >= 0, small, big), np.where(s >= 0, big, small)


def _ray_grid() -> FloatArray:
    """s = ln tan phi for uniform phi, plus directions geometrically close to both ends."""
    phi = np.linspace(0.0, 0.5 * math.pi, _N_RAYS)[1:-1]
    inner = np.log(np.tan(phi))
    tails = np.linspace(8.0, 40.0, 33)
    return np.concatenate([[-np.inf], -tails[::-1], inner, tails, [np.inf]])


def _polish(fun: Callable[[float], float], a: float, b: float) -> float:
    """Bounded Brent on [a, b] (infinite ends clipped to +-45, i.e. 1e-20 of the end)."""
    lo, hi = max(a, -45.0), min(b, 45.0)
    if not lo < hi:
        return lo
    res = minimize_scalar(fun, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(res.x)


def _corner_arc_candidates(
    prob: _BinaryProblem, corner: tuple[float, float]
) -> list[tuple[float, float]]:
    """Candidates on the part of the curve H(S|Xhat) = C seen from one corner."""
    out: list[tuple[float, float]] = []
    grid = _ray_grid()
    ca, cb = corner
    sa, sb = (1.0, -1.0) if ca == 0.0 else (-1.0, 1.0)  # towards the square

    def point_at(r: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        cos, sin = _ray_directions(s)
        return ca + sa * r * cos, cb + sb * r * sin

    def excess(r: FloatArray, s: FloatArray) -> FloatArray:
        a, b = point_at(r, s)
        return prob.cond_entropy(a, b) - prob.C

    def r_diag(s: FloatArray) -> FloatArray:
        cos, sin = _ray_directions(s)
        return np.asarray(1.0 / (cos + sin))

    if excess(np.asarray(0.0), np.asarray(0.0)) > 0.0:
        return out  # even the noiseless corner channel breaks C: nothing feasible here

    def crossing(s: FloatArray) -> FloatArray:
        s = np.asarray(s, dtype=np.float64)
        return _feasible_root(excess, np.zeros(s.shape), r_diag(s), (s,))

    def rate_on_curve(s: float) -> float:
        """Scalar objective for polishing (Brent's root: no side guarantee needed)."""
        s_a = np.asarray(s)
        rd = float(r_diag(s_a))
        if excess(np.asarray(0.0), s_a) >= 0.0:
            r = 0.0
        elif excess(np.asarray(rd), s_a) <= 0.0:  # C at H(S) up to rounding
            r = rd
        else:
            r = brentq(
                lambda x: float(excess(np.asarray(x), s_a)), 0.0, rd, xtol=1e-18, maxiter=1000
            )
        a, b = point_at(np.asarray(r), s_a)
        return float(prob.quantities(a, b)[0])

    r_grid = crossing(grid)
    a_g, b_g = point_at(r_grid, grid)
    rates = prob.quantities(a_g, b_g)[0]
    out += list(zip(a_g.tolist(), b_g.tolist(), strict=True))[:: max(1, _N_RAYS // 64)]
    padded = np.concatenate([[np.inf], rates, [np.inf]])
    left, right = padded[:-2], padded[2:]
    # Local minima; the inside of a run of equal values (far tail rays that round to the
    # same channel) is represented by the run's ends.
    is_min = (rates <= left) & (rates <= right) & ~((rates == left) & (rates == right))
    # Polish the most promising local minima (a plateau, e.g. eps = 0 where I is constant
    # along the curve, makes every grid point a local minimum).
    minima = np.flatnonzero(is_min)
    minima = minima[np.argsort(rates[minima], kind="stable")][:_N_POLISH]
    if np.ptp(rates) <= 1e-13:  # flat: polishing cannot gain anything measurable
        minima = minima[:1]
    last = len(grid) - 1
    for k in (int(i) for i in minima):
        out.append((float(a_g[k]), float(b_g[k])))
        s_best = _polish(rate_on_curve, float(grid[max(k - 1, 0)]), float(grid[min(k + 1, last)]))
        r_best = crossing(np.asarray([s_best]))
        a, b = point_at(r_best, np.asarray([s_best]))
        out.append((float(a[0]), float(b[0])))
    return out


def binary_brute_force(
    p: float,
    eps: float,
    D: float = math.inf,
    P: float = math.inf,
    C: float = math.inf,
    *,
    base: float = 2,
) -> BruteForceResult:
    r"""Minimum of :math:`I(X;\hat X)` over all binary test channels, by exhaustive search.

    Model: :math:`X \sim \mathrm{Bern}(p)`, :math:`S = X \oplus N`,
    :math:`N \sim \mathrm{Bern}(\varepsilon)`; Hamming distortion, TV perception
    :math:`|P(\hat X=1) - p|`, classification :math:`H(S|\hat X) \le C`.

    Parameters
    ----------
    p : float
        :math:`P(X = 1)`, in [0, 1] (no symmetry folding: p > 1/2 is searched as is).
    eps : float
        :math:`P(S \ne X)`, in [0, 1].
    D, P : float, optional
        Distortion and TV perception bounds, >= 0 (``inf``: no constraint).
    C : float, optional
        Bound on :math:`H(S|\hat X)` in `base` units (``inf``: no constraint).
    base : float, keyword-only
        Unit of the rate and of C (2: bits, default).

    Returns
    -------
    BruteForceResult
        With ``channel = (alpha, beta)``; rate ``inf`` if no channel is feasible.

    Notes
    -----
    The feasible set is the unit square cut by the linear D and P constraints and minus
    the convex set :math:`\{H(S|\hat X) > C\}`; the objective is convex.  A minimizer
    therefore is (i) a zero-rate channel (:math:`\alpha = \beta`), (ii) a crossing of two
    constraint boundaries (square edges, D and P lines, the curve
    :math:`H(S|\hat X) = C`), or (iii) a local minimum of the rate along one boundary.
    All of them are enumerated (line minima and crossings by bounded Brent and
    bracketing root finding, the curve by a scan of 1024 rays from each of the corners
    (0, 1) and (1, 0) plus polishing), every candidate is checked for feasibility from
    its joint law, and the best feasible one is returned.  A dense grid of channels is
    searched as well; if it ever beats the enumeration by more than 1e-9 nats a
    ``RuntimeError`` is raised instead of returning a wrong answer.  Typical cost:
    0.1–0.5 s per call.

    Examples
    --------
    >>> res = binary_brute_force(0.3, 0.1, D=0.05, C=0.90)
    >>> round(res.rate, 6)
    0.594894
    """
    p_ = check_scalar("p", p, 0.0, 1.0)
    eps_ = check_scalar("eps", eps, 0.0, 1.0)
    ln_b = log_base(base)
    d_ = _level("D", D)
    pp_ = _level("P", P)
    c_ = _level("C", C, -math.inf)
    prob = _BinaryProblem(p_, eps_, d_, pp_, float(c_) * ln_b)

    cands: list[tuple[float, float]] = []
    # (i) zero-rate channels: alpha = beta = t; the linear constraints give an interval.
    t_lo, t_hi = 0.0, 1.0
    if math.isfinite(prob.P):
        t_lo, t_hi = max(t_lo, p_ - prob.P), min(t_hi, p_ + prob.P)
    if math.isfinite(prob.D):  # p + t (1 - 2p) <= D
        slope = 1.0 - 2.0 * p_
        if slope > 0:
            t_hi = min(t_hi, (prob.D - p_) / slope)
        elif slope < 0:
            t_lo = max(t_lo, (prob.D - p_) / slope)
    if t_lo <= t_hi:
        t_mid = 0.5 * (t_lo + t_hi)
        cands += [(t_mid, t_mid), (t_lo, t_lo), (t_hi, t_hi)]
    # (ii) + (iii) boundaries.
    lines = _binary_lines(prob)
    for i, l1 in enumerate(lines):
        cands += _line_candidates(prob, l1)
        for l2 in lines[i + 1 :]:
            v = _vertex(l1, l2)
            if v is not None:
                cands.append(v)
    if math.isfinite(prob.C) and 0.0 < p_ < 1.0:
        cands += _boundary_curve_candidates(prob)

    cand = np.asarray(cands, dtype=np.float64).reshape(-1, 2)
    ok = prob.feasible(cand[:, 0], cand[:, 1])
    rates = np.where(ok, prob.quantities(cand[:, 0], cand[:, 1])[0], np.inf)

    # Dense grid over all channels: a sanity check on the enumeration.
    g = np.linspace(0.0, 1.0, _N_GRID)
    ga, gb = (x.ravel() for x in np.meshgrid(g, g, indexing="ij"))
    g_ok = prob.feasible(ga, gb)
    g_rates = np.where(g_ok, prob.quantities(ga, gb)[0], np.inf)
    best_enum = float(rates.min()) if rates.size else math.inf
    best_grid = float(g_rates.min())
    if best_grid < best_enum - 1e-9:
        k = int(np.argmin(g_rates))
        raise RuntimeError(
            "binary_brute_force: the grid beat the candidate enumeration "
            f"({best_grid:.12g} < {best_enum:.12g} nats at alpha={ga[k]:.6g}, "
            f"beta={gb[k]:.6g}) for p={p_}, eps={eps_}, D={d_}, P={pp_}, C={c_}."
        )
    all_a = np.concatenate([cand[:, 0], ga])
    all_b = np.concatenate([cand[:, 1], gb])
    all_r = np.concatenate([rates, g_rates])
    k = int(np.argmin(all_r))
    if not math.isfinite(float(all_r[k])):
        return _infeasible(float(base))
    alpha, beta = float(all_a[k]), float(all_b[k])
    mi, d, tv, h = (float(x) for x in prob.quantities(np.asarray(alpha), np.asarray(beta)))
    return BruteForceResult(mi / ln_b, (alpha, beta), d, tv, h / ln_b, float(base), True)


# --------------------------------------------------------------------------------------
# Gaussian model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GaussianProblem:
    var_x: float
    var_s: float
    cov: float
    D: float
    P: float  # w2: squared units; kl: nats
    C: float  # nats
    perception: str

    @property
    def sx(self) -> float:
        return math.sqrt(self.var_x)

    @property
    def var_s_given_x(self) -> float:
        return max(self.var_s - self.cov**2 / self.var_x, 0.0)

    def perception_of_std(self, s: FloatArray) -> FloatArray:
        s = np.asarray(s, dtype=np.float64)
        if self.perception == "w2":  # W2 between centred Gaussians: |sd difference|
            return np.asarray((self.sx - s) ** 2)
        with np.errstate(divide="ignore"):  # KL(N(0, s^2) || N(0, var_x)) in nats
            return np.where(
                s > 0,
                np.log(self.sx / np.where(s > 0, s, 1.0)) + s**2 / (2 * self.var_x) - 0.5,
                np.inf,
            )

    def std_interval(self) -> tuple[float, float]:
        """Output standard deviations allowed by the perception bound (an interval: the
        perception is convex in s with its minimum 0 at s = sd(X))."""
        sx, P = self.sx, self.P
        if math.isinf(P):
            return 0.0, math.inf
        if self.perception == "w2":
            return max(sx - math.sqrt(P), 0.0), sx + math.sqrt(P)
        if P == 0.0:
            return sx, sx

        # In v = ln(s / sx): KL = e^{2v}/2 - v - 1/2, decreasing for v < 0, increasing after.
        def kl_minus_p(v: FloatArray) -> FloatArray:
            return np.exp(2.0 * v) / 2.0 - v - 0.5 - P

        v_lo_end = -P - 1.0  # KL > P there
        v_hi_end = 1.0
        while kl_minus_p(np.asarray(v_hi_end)) <= 0.0:
            v_hi_end *= 2.0
        v_lo = _feasible_root(kl_minus_p, np.asarray(0.0), np.asarray(v_lo_end))
        v_hi = _feasible_root(kl_minus_p, np.asarray(0.0), np.asarray(v_hi_end))
        return sx * math.exp(float(v_lo)), sx * math.exp(float(v_hi))

    def channel_quantities(self, a: float, b: float) -> tuple[float, float, float, float]:
        """(I(X;Xhat), MSE, perception, h(S|Xhat)) in nats for Xhat = a X + b Z."""
        vx = self.var_x
        signal, noise = a * a * vx, b * b
        var_hat = signal + noise
        if signal == 0.0:
            mi = 0.0
        elif noise == 0.0:
            mi = math.inf
        else:
            mi = 0.5 * math.log1p(signal / noise)
        mse = (1.0 - a) ** 2 * vx + noise
        perc = float(self.perception_of_std(np.asarray(math.sqrt(var_hat))))
        # Var(S|Xhat) = var_s - (a cov)^2 / var_hat, written as var_{S|X} + cov^2/vx * (noise
        # fraction) to avoid cancellation near Xhat = X.
        frac = noise / var_hat if var_hat > 0 else 1.0
        var_cond = self.var_s_given_x + self.cov**2 / vx * frac
        h = 0.5 * math.log(_TWO_PI_E * var_cond) if var_cond > 0 else -math.inf
        return mi, mse, perc, h

    def channel_feasible(self, a: float, b: float) -> bool:
        _, mse, perc, h = self.channel_quantities(a, b)
        tol = FEASIBILITY_TOL
        return (
            mse <= self.D + tol * max(1.0, self.var_x)
            and perc <= self.P + (tol * max(1.0, self.var_x) if self.perception == "w2" else tol)
            and h <= self.C + tol
        )


def gaussian_brute_force(
    var_x: float,
    var_s: float,
    cov: float,
    D: float = math.inf,
    P: float = math.inf,
    C: float = math.inf,
    *,
    perception: str = "w2",
    base: float = 2,
) -> BruteForceResult:
    r"""Minimum of :math:`I(X;\hat X)` over jointly Gaussian channels :math:`\hat X = aX + bZ`.

    Parameters
    ----------
    var_x, var_s : float
        :math:`\sigma_X^2 > 0`, :math:`\sigma_S^2 > 0`.
    cov : float
        :math:`\mathrm{Cov}(X, S)`, :math:`|\theta| \le \sigma_X\sigma_S`.
    D : float, optional
        Mean squared error bound, >= 0 (``inf``: no constraint).
    P : float, optional
        Perception bound, >= 0: :math:`W_2^2` (``"w2"``) or KL in `base` units (``"kl"``).
    C : float, optional
        Bound on :math:`h(S|\hat X)` in `base` units, any real (``inf``: no constraint).
    perception : {"w2", "kl"}, keyword-only
        ``"w2"``: :math:`(\sigma_X - \mathrm{sd}\,\hat X)^2`; ``"kl"``:
        :math:`\mathrm{KL}(p_{\hat X} \| p_X)`.
    base : float, keyword-only
        Unit of the rate, C and KL perception (2: bits, default).

    Returns
    -------
    BruteForceResult
        With ``channel = (a, b)``; rate ``inf`` when infeasible or when only b = 0 works.

    Notes
    -----
    With :math:`s^2 = a^2\sigma_X^2 + b^2` and noise fraction :math:`u = b^2/s^2`:

    .. math::
        I = \tfrac12 \ln(1 + a^2\sigma_X^2/b^2) = -\tfrac12 \ln u, \quad
        \mathrm{MSE} = (1-a)^2\sigma_X^2 + b^2, \quad
        \mathrm{Var}(S|\hat X) = \sigma_S^2 - a^2\theta^2/s^2,

    and the perception depends on s only.  Taking a >= 0 (a < 0 only adds distortion),
    at fixed s the MSE, and :math:`h(S|\hat X)`, increase with u, so the feasible set in
    u is an interval [0, u*].  u* is found by bisection on :math:`\ln u` (down to 1e-300);
    at each step the best s in the perception interval is found by bounded Brent plus
    the interval's ends.  A dense (u, s) grid is searched too, as a check.

    Examples
    --------
    >>> round(gaussian_brute_force(1.0, 1.0, 0.5, D=0.25).rate, 9)
    1.0
    """
    vx = check_scalar("var_x", var_x, 0.0, math.inf, low_open=True)
    vs = check_scalar("var_s", var_s, 0.0, math.inf, low_open=True)
    th = check_scalar("cov", cov)
    if th * th > vx * vs * (1.0 + 1e-12):
        raise ValueError(
            f"`cov` must satisfy |cov| <= sqrt(var_x * var_s) = {math.sqrt(vx * vs):g} "
            f"(positive semi-definite covariance); got {th:g}."
        )
    perception = check_choice("perception", perception, ("w2", "kl"))
    ln_b = log_base(base)
    d_ = _level("D", D)
    pp_ = _level("P", P)
    c_ = _level("C", C, -math.inf)
    prob = _GaussianProblem(
        vx,
        vs,
        th,
        d_,
        pp_ * ln_b if perception == "kl" else pp_,
        float(c_) * ln_b,
        perception,
    )
    s_lo, s_hi = prob.std_interval()
    # The MSE sigma^2 + s^2 - 2 r sigma s grows with s beyond r sigma <= sigma: larger s
    # than max(s_lo, sigma) never helps, so the search interval can be capped.
    s_hi = min(s_hi, max(s_lo, prob.sx))
    sx = prob.sx
    v_sx = prob.var_s_given_x
    ratio = th * th / vx

    def cond_entropy_of_u(u: float) -> float:
        v = v_sx + ratio * u
        return 0.5 * math.log(_TWO_PI_E * v) if v > 0 else -math.inf

    def mse(u: float, s: float) -> float:
        # E(X - Xhat)^2 = vx + s^2 - 2 sqrt(1-u) sx s, written without cancellation near
        # Xhat = X (u -> 0, s -> sx): 1 - sqrt(1-u) = u / (1 + sqrt(1-u)).
        return (sx - s) ** 2 + 2.0 * sx * s * u / (1.0 + math.sqrt(1.0 - u))

    def best_s(u: float) -> tuple[float, float]:
        """(s, MSE) minimizing the MSE over the perception interval at noise fraction u."""
        # The MSE is a parabola in s with vertex sx sqrt(1 - u); the vertex (clipped) is
        # exact where Brent's sqrt(machine eps) relative tolerance is not (small D).
        cands = [s_lo, s_hi, min(max(sx * math.sqrt(1.0 - u), s_lo), s_hi)]
        if s_hi > s_lo:
            res = minimize_scalar(
                lambda s: mse(u, s),
                bounds=(s_lo, s_hi),
                method="bounded",
                options={"xatol": 1e-14 * max(sx, 1e-300)},
            )
            cands.append(float(res.x))
        vals = [mse(u, s) for s in cands]
        k = int(np.argmin(vals))
        return cands[k], vals[k]

    def feasible_u(u: float) -> bool:
        if cond_entropy_of_u(u) > prob.C:
            return False
        return best_s(u)[1] <= prob.D

    def result(u: float) -> BruteForceResult:
        s = best_s(u)[0]
        a = math.sqrt(1.0 - u) * s / sx
        b = math.sqrt(u) * s
        mi, m, perc, h = prob.channel_quantities(a, b)
        if not prob.channel_feasible(a, b):  # never return a channel that breaks a bound
            raise RuntimeError(
                f"gaussian_brute_force: channel a={a!r}, b={b!r} violates a constraint "
                f"(mse={m!r}, perception={perc!r}, h={h!r} nats)."
            )
        perc_out = perc / ln_b if perception == "kl" else perc
        return BruteForceResult(mi / ln_b, (a, b), m, perc_out, h / ln_b, float(base), True)

    if feasible_u(1.0):
        return result(1.0)  # a = 0: zero rate
    u_min = 1e-300
    if not feasible_u(u_min):
        if feasible_u(0.0):  # only b = 0 (Xhat = a X) works: infinite rate
            res0 = result(0.0)
            return res0
        return _infeasible(float(base))
    # Bisection on ln u with a boolean feasibility test (no continuous residual to hand
    # to a root finder: feasibility mixes several constraints and an inner minimization).
    lo, hi = math.log(u_min), 0.0  # feasible, infeasible
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        if feasible_u(math.exp(mid)):
            lo = mid
        else:
            hi = mid
    best = result(math.exp(lo))

    # Dense grid over (u, s): must not beat the bisection.
    u_grid = np.exp(np.linspace(math.log(u_min), 0.0, 4 * _N_GRID))
    s_grid = np.linspace(s_lo, s_hi, _N_GRID) if s_hi > s_lo else np.asarray([s_lo])
    uu, ss = np.meshgrid(u_grid, s_grid, indexing="ij")
    m_grid = (sx - ss) ** 2 + 2.0 * sx * ss * uu / (1.0 + np.sqrt(1.0 - uu))
    h_grid = 0.5 * np.log(_TWO_PI_E * (v_sx + ratio * uu))
    ok = (m_grid <= prob.D) & (h_grid <= prob.C)
    if ok.any():
        grid_rate = float(np.min(-0.5 * np.log(uu[ok])))
        if grid_rate < best.rate * ln_b - 1e-9:
            raise RuntimeError(
                f"gaussian_brute_force: grid beat bisection ({grid_rate!r} < "
                f"{best.rate * ln_b!r} nats)."
            )
    return best
