r"""Closed-form RDPC functions of the scalar Gaussian source with a Gaussian label.

Model: :math:`(X, S)` jointly Gaussian, zero mean, :math:`\mathrm{Var}\,X = \sigma_X^2`,
:math:`\mathrm{Var}\,S = \sigma_S^2`, :math:`\mathrm{Cov}(X, S) = \theta`; squared-error
distortion; perception either ``"w2"`` (squared 2-Wasserstein distance
:math:`W_2^2(p_X, p_{\hat X})`, in squared units of X) or ``"kl"``
(:math:`\mathrm{KL}(p_{\hat X} \| p_X)`, in `base` units); classification bounds the
differential entropy :math:`h(S \mid \hat X)` in `base` units (it may be negative).

Write :math:`\sigma^2_{S|X} = \sigma_S^2 - \theta^2/\sigma_X^2` and, in nats,
:math:`\sigma_C^2 = e^{2C}/(2\pi e)`.

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (Gaussian RDC/RPC, Sec. IV).
.. [2] G. Zhang, J. Qian, J. Chen, A. Khisti, "Universal Rate-Distortion-Perception
   Representations for Lossy Compression", NeurIPS 2021; arXiv:2106.10311 (Gaussian RDP, W2).
.. [3] Y. Blau, T. Michaeli, "Rethinking Lossy Compression: The Rate-Distortion-Perception
   Tradeoff", ICML 2019; arXiv:1901.07821.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import lambertw

from ._validation import (
    broadcast_named,
    check_choice,
    check_covariance,
    check_interval,
    check_scalar,
    check_shape,
)
from .units import from_nats, log_base

__all__ = ["GaussianSource", "PERCEPTIONS"]

FloatArray = NDArray[np.float64]
PERCEPTIONS = ("w2", "kl")
_TWO_PI_E = 2.0 * math.pi * math.e


def _out(x: FloatArray, base: float) -> FloatArray:
    r = from_nats(np.asarray(x, dtype=np.float64), base)
    return r[()] if r.ndim == 0 else r


@dataclass(frozen=True)
class GaussianSource:
    r"""Jointly Gaussian source X with label S (zero mean, scalar).

    Parameters
    ----------
    var_x : float
        :math:`\sigma_X^2 > 0`.
    var_s : float
        :math:`\sigma_S^2 > 0`.
    cov : float
        :math:`\theta = \mathrm{Cov}(X, S)`, with :math:`\theta^2 \le \sigma_X^2\sigma_S^2`
        (the covariance matrix must be positive semi-definite).

    Notes
    -----
    Every method broadcasts its arguments with numpy, returns rates in `base` units
    (bits by default) and ``inf`` where the constraints are infeasible.  D is a mean
    squared error; C and KL perception are in `base` units; W2 perception is the squared
    distance :math:`W_2^2` in squared units of X.

    Examples
    --------
    >>> import math
    >>> g = GaussianSource(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))
    >>> round(float(g.rd(0.25)), 6)  # 1/2 log2(1/0.25)
    1.0
    """

    var_x: float
    var_s: float
    cov: float

    def __post_init__(self) -> None:
        vx = check_scalar("var_x", self.var_x, 0.0, math.inf, low_open=True)
        vs = check_scalar("var_s", self.var_s, 0.0, math.inf, low_open=True)
        c = check_scalar("cov", self.cov)
        check_covariance(vx, vs, c)
        for name, value in (("var_x", vx), ("var_s", vs), ("cov", c)):
            object.__setattr__(self, name, value)

    # -- model quantities ------------------------------------------------------------

    @property
    def rho(self) -> float:
        r"""Correlation coefficient :math:`\rho = \theta / (\sigma_X \sigma_S)`."""
        # Two square roots: the product var_x * var_s underflows for variances near 1e-300.
        return self.cov / (math.sqrt(self.var_x) * math.sqrt(self.var_s))

    @property
    def var_s_given_x(self) -> float:
        r""":math:`\sigma^2_{S|X} = \sigma_S^2 - \theta^2/\sigma_X^2` (0: S = f(X))."""
        # var_s (1 - rho^2) rather than var_s - cov^2 / var_x: cov^2 underflows for tiny scales.
        return max(self.var_s * (1.0 - self.rho**2), 0.0)

    def label_entropy(self, *, base: float = 2) -> float:
        r""":math:`h(S) = \tfrac12 \log(2\pi e \sigma_S^2)` in `base` units."""
        return 0.5 * math.log(_TWO_PI_E * self.var_s) / log_base(base)

    def label_noise_entropy(self, *, base: float = 2) -> float:
        r""":math:`h(S \mid X)`: the smallest feasible C (``-inf`` if S is a function of X)."""
        v = self.var_s_given_x
        return (0.5 * math.log(_TWO_PI_E * v) if v > 0 else -math.inf) / log_base(base)

    def sample(
        self, shape: int | tuple[int, ...], *, rng: np.random.Generator | int | None = None
    ) -> tuple[FloatArray, FloatArray]:
        r"""Draw i.i.d. zero-mean jointly Gaussian pairs :math:`(X, S)`.

        :math:`S = (\theta/\sigma_X^2) X + W` with :math:`W \sim N(0, \sigma^2_{S|X})`
        independent of X, which has the model's covariance.

        Parameters
        ----------
        shape : int or tuple of int
            Shape of each returned array (e.g. ``(n_blocks, block_length)``).
        rng : numpy.random.Generator or int or None
            Random generator or seed.

        Returns
        -------
        x, s : numpy.ndarray of float64
            Source samples and labels, each of the given shape.

        Examples
        --------
        >>> x, s = GaussianSource(1.0, 0.5, 0.5).sample(4, rng=0)
        >>> x.shape
        (4,)
        """
        shape = check_shape("shape", shape)
        gen = np.random.default_rng(rng)
        x = gen.normal(0.0, math.sqrt(self.var_x), shape)
        w = gen.normal(0.0, math.sqrt(self.var_s_given_x), shape)
        return x, (self.cov / self.var_x) * x + w

    def distortion_for_classification(self, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r""":math:`D_C(C) = \sigma_X^4(\sigma_C^2 - \sigma^2_{S|X})/\theta^2`, capped at
        :math:`\sigma_X^2`: the largest backward-channel error variance
        :math:`\mathrm{Var}(X|\hat X)` that keeps :math:`h(S|\hat X) \le C`.

        NaN where C is infeasible (below :math:`h(S|X)`); :math:`\sigma_X^2` when the label
        carries no information about X (θ = 0) and C >= h(S).
        """
        c = check_interval("C", C, -math.inf) * log_base(base)
        return self._d_c(c)

    def _d_c(self, c_nats: FloatArray) -> FloatArray:
        v_sx = self.var_s_given_x
        with np.errstate(over="ignore"):
            var_c = np.exp(2.0 * c_nats) / _TWO_PI_E
        excess = var_c - v_sx
        if self.cov == 0.0:
            d_c = np.where(var_c >= self.var_s, self.var_x, np.nan)
        else:
            # var_x^2 excess / cov^2 written as var_x (excess / var_s) / rho^2, so that no
            # product of two variances underflows; rho^2 may still underflow to 0 for a
            # negligible correlation, and inf (capped at var_x) is then the right D_C.
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                d_c = np.minimum(self.var_x * (excess / self.var_s) / self.rho**2, self.var_x)
        infeasible = (excess < 0.0) | ((excess == 0.0) & (v_sx == 0.0) & np.isneginf(c_nats))
        return np.where(infeasible, np.nan, d_c)

    # -- rate functions ----------------------------------------------------------------

    def rd(self, D: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion function :math:`R(D) = \tfrac12 \log(\sigma_X^2/\min\{D, \sigma_X^2\})`.

        Parameters
        ----------
        D : array_like
            Mean-squared-error bound, >= 0 (D = 0 gives ``inf``).
        base : float, optional
            Unit of the rate (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; 0 for :math:`D \ge \sigma_X^2`.

        Examples
        --------
        >>> float(GaussianSource(1.0, 1.0, 0.5).rd(0.25))
        1.0
        """
        d = check_interval("D", D, 0.0)
        return _out(_half_log_ratio(self.var_x, np.minimum(d, self.var_x)), base)

    def rc(self, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–classification function [1]_.

        .. math:: R_C(C) = \tfrac12 \log \frac{\sigma_S^2 - \sigma^2_{S|X}}
                                              {\sigma_C^2 - \sigma^2_{S|X}}
                  = \tfrac12 \log \frac{\sigma_X^2}{D_C(C)}

        Parameters
        ----------
        C : array_like
            Bound on :math:`h(S \mid \hat X)` in `base` units (any real).
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units: ``inf`` for :math:`C \le h(S|X)` (C < h(S|X) is
            infeasible; equality needs :math:`\hat X = X`), 0 for :math:`C \ge h(S)`.
        """
        return self.rdc(np.inf, C, base=base)

    def rdc(self, D: ArrayLike, C: ArrayLike, *, base: float = 2) -> FloatArray:
        r"""Rate–distortion–classification function [1]_.

        .. math:: R(D, C) = \tfrac12 \log\frac{\sigma_X^2}{\min\{D, D_C(C), \sigma_X^2\}}
                          = \max\{R(D), R_C(C)\}

        Parameters
        ----------
        D : array_like
            Mean-squared-error bound, >= 0.
        C : array_like
            Bound on :math:`h(S \mid \hat X)` in `base` units.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; ``inf`` where :math:`C < h(S|X)` or D = 0.

        Notes
        -----
        A Gaussian backward channel :math:`X = \hat X + Z` with
        :math:`\mathrm{Var}\,Z = \min\{D, D_C\}` attains both bounds; contour corners sit
        at :math:`D = \sigma_X^2 e^{-2R}`,
        :math:`C = h(S) + \tfrac12\ln(1 - \rho^2(1 - e^{-2R}))` (nats).

        Examples
        --------
        >>> import math
        >>> g = GaussianSource(1.0, 0.5, 0.9 * math.sqrt(0.5))
        >>> round(float(g.rdc(D=0.3012, C=0.6550, base=math.e)), 3)  # a contour corner, R = 0.6
        0.6
        """
        d, c = broadcast_named(
            D=check_interval("D", D, 0.0), C=check_interval("C", C, -math.inf) * log_base(base)
        )
        d_c = self._d_c(c)
        m = np.minimum(np.minimum(d, np.nan_to_num(d_c, nan=0.0)), self.var_x)
        return _out(np.where(np.isnan(d_c), np.inf, _half_log_ratio(self.var_x, m)), base)

    def _std_interval(self, p: FloatArray, perception: str) -> tuple[FloatArray, FloatArray]:
        """Range of output standard deviations s allowed by the perception bound."""
        sx = math.sqrt(self.var_x)
        if perception == "w2":
            root = np.sqrt(p)
            return np.maximum(sx - root, 0.0), sx + root
        # KL(N(0,s^2) || N(0,sx^2)) = P  <=>  t - ln t = 1 + 2P with t = s^2/sx^2,
        # solved in closed form by the two real branches of the Lambert W function.
        with np.errstate(over="ignore", under="ignore"):
            z = -np.exp(-1.0 - 2.0 * p)
        t_lo = np.where(p > 0, -lambertw(z, 0).real, 1.0)
        t_hi = np.where(np.isinf(p), np.inf, np.where(p > 0, -lambertw(z, -1).real, 1.0))
        # Near P = 0 the argument z sits at the branch point -1/e, where forming z loses
        # half the digits (1e-5 relative error in t at P = 1e-10): solve there in t - 1.
        t_lo, t_hi = _polish_kl_roots(t_lo, p, -1), _polish_kl_roots(t_hi, p, +1)
        return sx * np.sqrt(np.maximum(t_lo, 0.0)), sx * np.sqrt(t_hi)

    def rdp(
        self, D: ArrayLike, P: ArrayLike, *, perception: str = "w2", base: float = 2
    ) -> FloatArray:
        r"""Rate–distortion–perception function [2]_ [3]_.

        Parameters
        ----------
        D : array_like
            Mean-squared-error bound, >= 0.
        P : array_like
            Perception bound, >= 0: :math:`W_2^2` (``"w2"``) or KL in `base` units (``"kl"``).
        perception : {"w2", "kl"}
            Perception measure.
        base : float, optional
            Unit of the rate (and of KL perception) (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units.

        Notes
        -----
        Optimal :math:`\hat X \sim N(0, s^2)` with correlation r to X:
        :math:`s^* = \mathrm{clip}(\sqrt{(\sigma_X^2 - D)^+}, s_{lo}, s_{hi})`,
        :math:`r = (\sigma_X^2 + s^{*2} - D)/(2\sigma_X s^*)`,
        :math:`R = -\tfrac12 \log(1 - r^2)` for r > 0, else 0.  For W2,
        :math:`[s_{lo}, s_{hi}] = [\sigma_X - \sqrt P, \sigma_X + \sqrt P]`; for KL they are
        the roots of :math:`\ln(\sigma_X/s) + s^2/(2\sigma_X^2) - 1/2 = P` (nats),
        :math:`s^2/\sigma_X^2 = -W_{0,-1}(-e^{-1-2P})`.  At P = 0 the rate stays positive
        until :math:`D = 2\sigma_X^2`.

        Examples
        --------
        >>> g = GaussianSource(1.0, 1.0, 0.5)
        >>> round(float(g.rdp(1.0, 0.0)), 6)  # R(D) would be 0 here
        0.207519
        """
        perception = check_choice("perception", perception, PERCEPTIONS)
        d = check_interval("D", D, 0.0)
        p = check_interval("P", P, 0.0)
        if perception == "kl":
            p = p * log_base(base)
        d, p = broadcast_named(D=d, P=p)
        sx = math.sqrt(self.var_x)
        s_lo, s_hi = self._std_interval(p, perception)
        s = np.clip(np.sqrt(np.maximum(self.var_x - d, 0.0)), s_lo, s_hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            # 1 - r = (D - (sx - s)^2) / (2 sx s), and 1 - r^2 = (1 - r)(2 - (1 - r)): no
            # cancellation as r -> 1 (small D), and exactly 0 (rate inf) at D = 0.
            one_minus_r = np.maximum((d - (sx - s) ** 2) / (2.0 * sx * s), 0.0)
            rate = np.where(
                one_minus_r < 1.0, -0.5 * np.log(one_minus_r * (2.0 - one_minus_r)), 0.0
            )
        # s = 0 (a constant reconstruction) is allowed only when D >= var_x: rate 0.
        return _out(np.where(s > 0.0, rate, 0.0), base)

    def rpc(
        self, P: ArrayLike, C: ArrayLike, *, perception: str = "w2", base: float = 2
    ) -> FloatArray:
        r"""Rate–perception–classification function [1]_: :math:`R(P, C) = R_C(C)` for all P.

        An invertible rescaling of the RC-optimal reconstruction to the source's variance
        keeps :math:`I(X;\hat X)` and :math:`h(S|\hat X)` and makes the perception zero, so
        there is no perception–classification tradeoff.

        Parameters
        ----------
        P : array_like
            Perception bound, >= 0 (validated; it does not change the value).
        C : array_like
            Bound on :math:`h(S \mid \hat X)` in `base` units.
        perception : {"w2", "kl"}
            Perception measure.
        base : float, optional
            Unit of the rate and of C (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units, broadcast over P and C; ``inf`` for :math:`C \le h(S|X)`.
        """
        check_choice("perception", perception, PERCEPTIONS)
        p = check_interval("P", P, 0.0)
        _, r = broadcast_named(P=p, C=np.asarray(self.rc(C, base=base)))
        return r.copy()[()]

    def rdpc(
        self, D: ArrayLike, P: ArrayLike, C: ArrayLike, *, perception: str = "w2", base: float = 2
    ) -> FloatArray:
        r"""Rate–distortion–perception–classification function: :math:`\max\{R(D,P), R_C(C)\}`.

        Within jointly Gaussian channels :math:`h(S|\hat X)` depends only on the
        correlation r of X and :math:`\hat X` (:math:`\mathrm{Var}(S|\hat X) = \sigma_S^2 -
        \theta^2 r^2/\sigma_X^2`), so the classification bound is a floor on
        :math:`r^2` that does not interact with the choice of output variance.

        Parameters
        ----------
        D : array_like
            Mean-squared-error bound, >= 0.
        P : array_like
            Perception bound, >= 0 (see :meth:`rdp`).
        C : array_like
            Bound on :math:`h(S \mid \hat X)` in `base` units.
        perception : {"w2", "kl"}
            Perception measure.
        base : float, optional
            Unit of the rate, of C and of KL perception (2: bits, default).

        Returns
        -------
        numpy.float64 or numpy.ndarray
            Rate in `base` units; ``inf`` where C is infeasible.
        """
        d, p, c = broadcast_named(
            D=check_interval("D", D, 0.0),
            P=check_interval("P", P, 0.0),
            C=check_interval("C", C, -math.inf),
        )
        r_dp = self.rdp(d, p, perception=perception, base=base)
        return np.asarray(np.maximum(r_dp, self.rc(c, base=base)))[()]


def _half_log_ratio(var: float, d: FloatArray) -> FloatArray:
    r""":math:`\tfrac12 \ln(\sigma^2/d)` in nats, as a difference of logs: the ratio overflows
    for subnormal d (``rd(1e-310)`` is about 515 bits, not ``inf``); d = 0 gives ``inf``."""
    with np.errstate(divide="ignore"):
        out: FloatArray = 0.5 * (math.log(var) - np.log(d))
    return out


def _polish_kl_roots(t: FloatArray, p: FloatArray, branch: int) -> FloatArray:
    """Roots of ``t - ln t = 1 + 2p`` near the branch point (small p), to full precision.

    With v = t - 1 the equation is v - log1p(v) = 2p; start from its series solution
    v = branch * 2 sqrt(p) + 4p/3 and take Newton steps (they stay on the branch's side).
    """
    near = (p > 0) & (p < 1e-3)
    if not near.any():
        return t
    target = 2.0 * p[near]
    v = branch * 2.0 * np.sqrt(p[near]) + 2.0 * target / 3.0
    for _ in range(4):
        v = v - (v - np.log1p(v) - target) * (1.0 + v) / v
    out = t.copy()
    out[near] = 1.0 + v
    return out
