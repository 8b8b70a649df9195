r"""Closed-form RDPC functions of the binary source with a noisy binary label.

Model: :math:`X \sim \mathrm{Bern}(p)`, label :math:`S = X \oplus N` with
:math:`N \sim \mathrm{Bern}(\varepsilon)` independent of X, Hamming distortion
:math:`D = P(X \ne \hat X)`, perception :math:`\mathrm{TV} = |P(\hat X = 1) - p|`,
classification :math:`C \ge H(S \mid \hat X)`.  Rates in `base` units (bits by default).

All of R(D), R_C, R(D, C) and R(D, P) are closed forms.  R(P, C) and R(D, P, C) reduce
to one exact one-dimensional problem (a root of an equation in the backward channel),
solved elementwise with SciPy's bracketing root finder; see :meth:`BinarySource.rdpc`.

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (binary RDC/RPC, Sec. III).
.. [2] Y. Blau, T. Michaeli, "Rethinking Lossy Compression: The Rate-Distortion-Perception
   Tradeoff", ICML 2019; arXiv:1901.07821 (binary RDP, Thm. 2).
.. [3] A. D. Wyner, J. Ziv, "A theorem on the entropy of certain binary sequences and
   applications: Part I" (Mrs. Gerber's Lemma), IEEE Trans. IT 19(6), 1973.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import elementwise
from scipy.special import entr

from ._validation import broadcast_named, check_interval, check_scalar, check_shape
from .entropy import binary_entropy_inv_nats, binary_entropy_nats
from .units import from_nats, log_base

__all__ = ["BinarySource"]

FloatArray = NDArray[np.float64]


def _out(x: FloatArray, base: float) -> FloatArray:
    r = from_nats(x, base)
    return r[()] if r.ndim == 0 else r


def _conv(a: FloatArray | float, b: FloatArray | float) -> FloatArray:
    return np.asarray(a * (1.0 - b) + (1.0 - a) * b)


@dataclass(frozen=True)
class BinarySource:
    r"""Binary source :math:`X \sim \mathrm{Bern}(p)` with label :math:`S = X \oplus N`.

    Parameters
    ----------
    p : float
        :math:`P(X = 1)`, in [0, 1].  Values above 1/2 are handled by the symmetry
        :math:`X \mapsto 1 - X` (every function here is invariant under it), so the
        formulas below are stated for :math:`p \le 1/2`.
    eps : float
        Label noise :math:`P(N = 1)`, in [0, 1/2).

    Notes
    -----
    Distortion is Hamming, perception is total variation
    :math:`|P(\hat X=1) - p|`, and C bounds :math:`H(S \mid \hat X)` in the same `base` as the
    rate.  Every method broadcasts its arguments with numpy and returns a numpy float
    or an array of the broadcast shape; ``inf`` means the constraints are infeasible.

    Examples
    --------
    >>> src = BinarySource(p=0.3, eps=0.1)
    >>> round(float(src.rdc(D=0.05, C=0.90)), 6)
    0.594894
    >>> round(float(src.rpc(P=0.20, C=0.80)), 6)
    0.203945
    """

    p: float
    eps: float

    def __post_init__(self) -> None:
        # Stored as Python floats: an integer p = 0 would otherwise make integer work
        # arrays downstream, which cannot hold the NaN that marks an infeasible C.
        object.__setattr__(self, "p", check_scalar("p", self.p, 0.0, 1.0))
        object.__setattr__(self, "eps", check_scalar("eps", self.eps, 0.0, 0.5, high_open=True))

    # -- scalar model quantities -------------------------------------------------------

    @property
    def _q(self) -> float:
        """The parameter folded into [0, 1/2] by the symmetry X -> 1 - X."""
        return min(self.p, 1.0 - self.p)

    def label_entropy(self, *, base: float = 2) -> float:
        r""":math:`H(S) = H_b(p * \varepsilon)` in `base` units (C at or above it costs no rate)."""
        return float(binary_entropy_nats(np.asarray(_conv(self._q, self.eps)))) / log_base(base)

    def label_noise_entropy(self, *, base: float = 2) -> float:
        r""":math:`H(S \mid X) = H_b(\varepsilon)`: the smallest feasible C, in `base` units."""
        return float(binary_entropy_nats(np.asarray(self.eps))) / log_base(base)

    def sample(
        self, shape: int | tuple[int, ...], *, rng: np.random.Generator | int | None = None
    ) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
        r"""Draw i.i.d. pairs :math:`(X, S)` with :math:`S = X \oplus N`.

        Parameters
        ----------
        shape : int or tuple of int
            Shape of each returned array (e.g. ``(n_blocks, block_length)``).
        rng : numpy.random.Generator or int or None
            Random generator or seed.

        Returns
        -------
        x, s : numpy.ndarray of int8
            Source symbols and labels in {0, 1}, each of the given shape.

        Examples
        --------
        >>> x, s = BinarySource(0.3, 0.1).sample((2, 3), rng=0)
        >>> x.shape, s.shape
        ((2, 3), (2, 3))
        """
        shape = check_shape("shape", shape)
        gen = np.random.default_rng(rng)
        x = (gen.random(shape) < self.p).astype(np.int8)
        noise = (gen.random(shape) < self.eps).astype(np.int8)
        return x, x ^ noise

    # -- argument handling -----------------------------------------------------------------

    @staticmethod
    def _D(D: ArrayLike) -> FloatArray:
        return check_interval("D", D, 0.0)

    @staticmethod
    def _P(P: ArrayLike) -> FloatArray:
        return check_interval("P", P, 0.0)

    @staticmethod
    def _C_nats(C: ArrayLike, base: float) -> FloatArray:
        return check_interval("C", C, 0.0) * log_base(base)

    def _delta_c(self, c_nats: FloatArray) -> FloatArray:
        r"""Largest :math:`H_b^{-1}(H(X|\hat X))` that C allows (Mrs. Gerber's Lemma).

        NaN where C < H_b(eps) (infeasible).

        :math:`\delta_C = (H_b^{-1}(C) - \varepsilon)/(1 - 2\varepsilon)`, capped at p
        (C >= H(S) leaves X unconstrained).
        """
        p, eps = self._q, self.eps
        c = np.asarray(c_nats, dtype=np.float64)
        h_s = float(binary_entropy_nats(np.asarray(_conv(p, eps))))
        h_eps = float(binary_entropy_nats(np.asarray(eps)))
        delta = np.full(c.shape, p, dtype=np.float64)
        active = c < h_s
        if active.any():
            inv = binary_entropy_inv_nats(np.maximum(c[active], 0.0))
            delta[active] = np.clip((inv - eps) / (1.0 - 2.0 * eps), 0.0, p)
        # Infeasible: H(S|Xhat) >= H(S|X) always.  A C that equals H(S|X) up to the rounding
        # of a unit conversion (a few ulps) is the boundary case Xhat = X, not infeasible.
        delta[c < h_eps * (1.0 - 8.0 * np.finfo(float).eps)] = np.nan
        return delta

    # -- rate functions --------------------------------------------------------------------

    def rd(self, D: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion function :math:`R(D) = H_b(p) - H_b(\min\{D, p\})`.

        Parameters
        ----------
        D : array_like
            Hamming distortion bound, >= 0 (``inf``: no constraint).
        base : float, optional
            Unit of the rate (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; 0 for D >= p.

        Examples
        --------
        >>> round(float(BinarySource(0.3, 0.1).rd(0.1)), 6)  # H_b(0.3) - H_b(0.1)
        0.412295
        """
        d = self._D(D)
        p = self._q
        return _out(
            binary_entropy_nats(np.asarray(p)) - binary_entropy_nats(np.minimum(d, p)), base
        )

    def rc(self, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–classification function :math:`R_C(C) = H_b(p) - H_b(\min\{\delta_C, p\})`.

        Parameters
        ----------
        C : array_like
            Bound on :math:`H(S \mid \hat X)` in `base` units, >= 0.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units: ``inf`` for :math:`C < H_b(\varepsilon)` (infeasible),
            :math:`H_b(p)` at :math:`C = H_b(\varepsilon)`, 0 for :math:`C \ge H(S)`.

        Notes
        -----
        With :math:`\delta_C = (H_b^{-1}(C) - \varepsilon)/(1-2\varepsilon)`, the converse is
        the conditional Mrs. Gerber's Lemma :math:`H(S|\hat X) \ge H_b(\varepsilon *
        H_b^{-1}(H(X|\hat X)))` [3]_; a backward BSC :math:`X = \hat X \oplus Z`,
        :math:`Z \sim \mathrm{Bern}(\delta_C)`, achieves it [1]_.
        """
        return self.rdc(np.inf, C, base=base)

    def rdc(self, D: ArrayLike, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion–classification function [1]_.

        .. math:: R(D, C) = H_b(p) - H_b(\min\{D, \delta_C, p\}) = \max\{R(D), R_C(C)\}

        Parameters
        ----------
        D : array_like
            Hamming distortion bound, >= 0.
        C : array_like
            Bound on :math:`H(S \mid \hat X)` in `base` units, >= 0.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; ``inf`` where :math:`C < H_b(\varepsilon)`.

        Notes
        -----
        Distortion and classification never trade off: whichever of D and
        :math:`\delta_C` is smaller binds, and a backward BSC with crossover
        :math:`\min\{D, \delta_C\}` meets both.

        Examples
        --------
        >>> src = BinarySource(0.3, 0.1)
        >>> round(float(src.rdc(0.25, 0.60)), 6)
        0.563335
        >>> float(src.rdc(0.1, 0.3))  # C below H(S|X) = H_b(0.1) = 0.469
        inf
        """
        d, c = broadcast_named(D=self._D(D), C=self._C_nats(C, base))
        delta = self._delta_c(c)
        p = self._q
        m = np.minimum(np.minimum(d, delta), p)
        r = binary_entropy_nats(np.asarray(p)) - binary_entropy_nats(np.nan_to_num(m))
        return _out(np.where(np.isnan(delta), np.inf, r), base)

    def rdp(self, D: ArrayLike, P: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion–perception function with TV perception [2]_.

        Parameters
        ----------
        D : array_like
            Hamming distortion bound, >= 0.
        P : array_like
            Bound on :math:`|P(\hat X = 1) - p|`, >= 0.
        base : float, optional
            Unit of the rate (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units (always finite).

        Notes
        -----
        For :math:`P \ge p` it is R(D).  Otherwise, with
        :math:`D_1 = P / (1 - 2(p - P))` and :math:`D_3 = 2p(1-p) - (1-2p)P`:

        .. math::
            R(D, P) = \begin{cases}
              H_b(p) - H_b(D) & D \le D_1 \\
              H_b(p) + H_b(p - P) - H(J) & D_1 < D < D_3 \\
              0 & D \ge D_3
            \end{cases}

        where J is the joint law of :math:`(X, \hat X)` over 00, 01, 10, 11:
        :math:`(1 - p - (D-P)/2,\ (D-P)/2,\ (D+P)/2,\ p - (D+P)/2)`; the output marginal
        sits at the perception boundary :math:`P(\hat X=1) = p - P`.

        Examples
        --------
        >>> round(float(BinarySource(0.3, 0.1).rdp(D=0.10, P=0.02)), 6)
        0.417674
        """
        d, pp = broadcast_named(D=self._D(D), P=self._P(P))
        p = self._q
        hb = binary_entropy_nats
        h_p = float(hb(np.asarray(p)))
        with np.errstate(invalid="ignore", divide="ignore"):
            d1 = pp / (1.0 - 2.0 * (p - pp))
            d3 = 2.0 * p * (1.0 - p) - (1.0 - 2.0 * p) * pp
            dm = np.clip(d, pp, np.maximum(d3, pp))  # keeps the joint law valid off-regime
            a = (dm - pp) / 2.0
            b = (dm + pp) / 2.0
            h_joint = sum(entr(np.clip(x, 0.0, 1.0)) for x in (1.0 - p - a, a, b, p - b))
            mid = h_p + hb(np.clip(p - pp, 0.0, 1.0)) - h_joint
        rd = h_p - hb(np.minimum(d, p))
        perception_binds = (pp < p) & (d > d1)
        r = np.where(perception_binds, np.where(d >= d3, 0.0, mid), rd)
        return _out(np.maximum(r, 0.0), base)

    def rpc(self, P: ArrayLike, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–perception–classification function [1]_: :meth:`rdpc` with D slack.

        Parameters
        ----------
        P : array_like
            Bound on :math:`|P(\hat X = 1) - p|`, >= 0.
        C : array_like
            Bound on :math:`H(S \mid \hat X)` in `base` units, >= 0.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; ``inf`` where :math:`C < H_b(\varepsilon)`.

        Notes
        -----
        With :math:`P^*(C) = \delta_C (1 - 2p)/(1 - 2\delta_C)`, :math:`R(P, C) = R_C(C)`
        for :math:`P \ge P^*(C)`.  Below it the output marginal is pinned at
        :math:`q = p - P` and the rate solves a one-dimensional problem with no
        elementary closed form (see :meth:`rdpc`).  For :math:`\varepsilon = 0` or
        :math:`p = 1/2` the rate does not depend on P.
        """
        return self.rdpc(np.inf, P, C, base=base)

    def rdpc(self, D: ArrayLike, P: ArrayLike, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion–perception–classification function R(D, P, C).

        Parameters
        ----------
        D : array_like
            Hamming distortion bound, >= 0.
        P : array_like
            TV bound on :math:`|P(\hat X = 1) - p|`, >= 0.
        C : array_like
            Bound on :math:`H(S \mid \hat X)` in `base` units, >= 0.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; ``inf`` where :math:`C < H_b(\varepsilon)` or where D is
            below the smallest distortion the perception bound allows.

        Notes
        -----
        Parametrize a channel by :math:`q = P(\hat X = 1)` and the backward channel
        :math:`a_1 = P(X=1|\hat X=1)`, :math:`a_0 = (p - q a_1)/(1-q)`.  Then

        .. math::
            I(X;\hat X) = H_b(p) - (1-q) H_b(a_0) - q H_b(a_1), \quad
            H(S|\hat X) = (1-q) H_b(\varepsilon * a_0) + q H_b(\varepsilon * a_1),

        and :math:`D = p + q - 2 q a_1`.  For fixed q the rate is convex in
        :math:`a_1` with its minimum (zero) at :math:`a_1 = p`, the distortion bound is a
        half-line :math:`a_1 \ge (p + q - D)/(2q)` and the classification bound (a
        concave function of :math:`a_1`) removes an interval around p; so the best
        :math:`a_1` is one of at most two boundary points, found by a bracketed root.

        The optimum over q: when the R(D, C) solution (backward BSC with crossover
        :math:`\delta = \min\{D, \delta_C, p\}`, marginal
        :math:`q^\circ = (p-\delta)/(1-2\delta)`) meets the perception bound, the rate is
        R(D, C).  Otherwise the best q is the end :math:`p - P` of the allowed interval
        nearest :math:`q^\circ`: the per-q optimum is quasi-convex in q on [0, 1/2] and
        symmetric about 1/2 (checked against dense q grids and brute force in the tests).
        """
        d, pp, c = broadcast_named(D=self._D(D), P=self._P(P), C=self._C_nats(C, base))
        p = self._q
        delta = self._delta_c(c)
        infeasible = np.isnan(delta)
        delta = np.where(infeasible, 0.0, np.minimum(np.minimum(d, delta), p))
        h_p = float(binary_entropy_nats(np.asarray(p)))
        r = h_p - binary_entropy_nats(delta)
        with np.errstate(invalid="ignore", divide="ignore"):
            q_free = np.where(delta < 0.5, (p - delta) / (1.0 - 2.0 * delta), 0.0)
        pinned = ~infeasible & (p - q_free > pp)
        if pinned.any():
            r = np.array(r, dtype=np.float64)
            r[pinned] = _rate_at_marginal(p, self.eps, p - pp[pinned], d[pinned], c[pinned])
        r = np.where(infeasible, np.inf, r)
        return _out(r, base)


_C_ROUNDING_NATS = 1e-15


def _rate_at_marginal(
    p: float, eps: float, q: FloatArray, d: FloatArray, c: FloatArray
) -> FloatArray:
    """Minimum I(X; Xhat) in nats over channels with P(Xhat=1) = q, distortion <= d and
    H(S|Xhat) <= c (nats); ``inf`` where no such channel exists.  Requires 0 < q <= p <= 1/2,
    so the backward parameter a1 ranges over all of [0, 1].
    """
    hb = binary_entropy_nats
    h_p = float(hb(np.asarray(p)))
    # At C = H(S|X) the only feasible channel is Xhat = X, where H(S|Xhat) equals C only up
    # to the rounding of the entropy sums; accept violations below 1e-15 nats.
    c = c + _C_ROUNDING_NATS

    def a0_of(a1: FloatArray, qq: FloatArray) -> FloatArray:
        return np.clip((p - qq * a1) / (1.0 - qq), 0.0, 1.0)

    def rate(a1: FloatArray, qq: FloatArray) -> FloatArray:
        return h_p - (1.0 - qq) * hb(a0_of(a1, qq)) - qq * hb(np.clip(a1, 0.0, 1.0))

    def excess(a1: FloatArray, qq: FloatArray, cc: FloatArray) -> FloatArray:
        """H(S|Xhat) - c: concave in a1, largest at a1 = p."""
        return (1.0 - qq) * hb(_conv(eps, a0_of(a1, qq))) + qq * hb(_conv(eps, a1)) - cc

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        t_d = np.where(np.isfinite(d), (p + q - d) / (2.0 * q), -np.inf)
    low = np.maximum(t_d, 0.0)  # distortion: a1 >= low
    best = np.full(q.shape, np.inf)

    def candidate(start: FloatArray, end: FloatArray, ok: NDArray[np.bool_]) -> FloatArray:
        """Feasible a1 nearest `start` on the segment from `start` towards `end` (NaN if none)."""
        a = np.full(q.shape, np.nan)
        if not ok.any():
            return a
        g_start = np.full(q.shape, np.inf)
        g_end = np.full(q.shape, np.inf)
        g_start[ok] = excess(start[ok], q[ok], c[ok])
        g_end[ok] = excess(end[ok], q[ok], c[ok])
        at_start = ok & (g_start <= 0.0)
        a[at_start] = start[at_start]
        root = ok & ~at_start & (g_end <= 0.0)
        if root.any():
            res = elementwise.find_root(
                excess,
                (start[root], end[root]),
                args=(q[root], c[root]),
                tolerances={"xatol": 1e-15, "xrtol": 4 * np.finfo(float).eps},
            )
            # Snap onto the feasible side of the bracket so the channel is exactly feasible.
            lo_b, hi_b = res.bracket
            f_lo, f_hi = res.f_bracket
            a[root] = np.where(f_lo <= 0.0, lo_b, np.where(f_hi <= 0.0, hi_b, res.x))
        return a

    # Branch a1 >= p (Xhat = 1 points towards X = 1).
    start_r = np.maximum(low, p)
    a_r = candidate(start_r, np.ones_like(q), start_r <= 1.0)
    # Branch a1 <= p (Xhat = 1 points towards X = 0): only if the distortion bound allows it.
    a_l = candidate(np.full(q.shape, p), low, low <= p)
    for a in (a_r, a_l):
        has = ~np.isnan(a)
        best[has] = np.minimum(best[has], rate(a[has], q[has]))
    out: FloatArray = np.maximum(best, 0.0)
    return out
