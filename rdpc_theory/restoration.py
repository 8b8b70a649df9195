r"""Restoration without a rate limit: the classification–perception tradeoff under source noise.

The decoder sees a noisy observation Y of the source X (no rate limit) and outputs
:math:`\hat X = f(Y)`, possibly randomized.  The best achievable classification loss under a
perception bound P is

.. math:: C_{\min}(P) = \min_{p(\hat x|y)} H(S \mid \hat X)
          \quad \text{s.t.} \quad d(p_{\hat X}, p_X) \le P,

over the Markov chain :math:`S - X - Y - \hat X`.  A classification–perception (C–P)
tradeoff exists when :math:`C_{\min}(0) > C_{\min}(\infty) = H(S \mid Y)`.

Two models:

* :class:`BinaryRestoration`: X ~ Bern(p), label :math:`S = X \oplus N`,
  :math:`N \sim \mathrm{Bern}(\varepsilon)`, observation :math:`Y = X \oplus W`,
  :math:`W \sim \mathrm{Bern}(w)`; perception TV :math:`|P(\hat X=1) - p|`.
* :class:`GaussianRestoration`: (X, S) jointly Gaussian, :math:`Y = X + W` with
  :math:`W \sim N(0, \sigma_W^2)`; :math:`\hat X = aY + bZ` with Z ~ N(0, 1) independent
  (a randomized linear restoration); perception :math:`W_2^2` or KL.

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (source noise and the C–P tradeoff).
.. [2] D. Liu, H. Zhang, Z. Xiong, "On the Classification-Distortion-Perception Tradeoff",
   NeurIPS 2019; arXiv:1904.08816.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import entr

from ._validation import check_choice, check_covariance, check_interval, check_scalar
from .gaussian import PERCEPTIONS
from .units import from_nats, log_base

__all__ = [
    "RestorationResult",
    "BinaryRestoration",
    "GaussianRestoration",
    "BINARY_METHODS",
    "GAUSSIAN_METHODS",
]

FloatArray = NDArray[np.float64]
BINARY_METHODS = ("vertices", "grid")
GAUSSIAN_METHODS = ("closed_form", "numeric")
_TWO_PI_E = 2.0 * math.pi * math.e


@dataclass(frozen=True)
class RestorationResult:
    r"""The best restoration found under a perception bound.

    Attributes
    ----------
    label_entropy : float
        :math:`H(S \mid \hat X)` (binary) or :math:`h(S \mid \hat X)` (Gaussian) in `base`
        units: the smallest expected log-loss of a classifier of :math:`\hat X`.
    perception : float
        The perception value the restoration reaches (TV, :math:`W_2^2`, or KL in `base`
        units), at most the bound.
    channel : tuple of float
        Binary: :math:`(P(\hat X=1|Y=0), P(\hat X=1|Y=1))`.  Gaussian: the gains
        :math:`(a, b)` of :math:`\hat X = aY + bZ`.
    output_parameter : float
        Binary: :math:`P(\hat X = 1)`.  Gaussian: :math:`\mathrm{Var}\,\hat X`.
    method : str
        How it was computed.
    exact : bool
        Whether the value is the exact optimum (``False`` for search methods, whose value
        is an upper bound on it).
    """

    label_entropy: float
    perception: float
    channel: tuple[float, float]
    output_parameter: float
    method: str
    exact: bool


def _bound(P: object) -> float:
    """A scalar perception bound >= 0 (``inf`` allowed: no bound)."""
    x = check_interval("P", P, 0.0)  # type: ignore[arg-type]
    if x.ndim != 0:
        raise ValueError(f"`P` must be a scalar; got an array of shape {x.shape}.")
    return float(x)


@dataclass(frozen=True)
class BinaryRestoration:
    r"""Binary restoration: observe :math:`Y = X \oplus W`, output :math:`\hat X = f(Y)`.

    Parameters
    ----------
    p : float
        :math:`P(X = 1)`, in [0, 1].
    eps : float
        Label noise :math:`P(N = 1)`, :math:`S = X \oplus N`, in [0, 1/2].
    noise : float
        Source (observation) noise :math:`w = P(W = 1)`, :math:`Y = X \oplus W`, in [0, 1/2].

    Notes
    -----
    :math:`H(S|\hat X)` is concave in the joint law of :math:`(S, \hat X)`, which is linear
    in the channel :math:`(\alpha_0, \alpha_1) = (P(\hat X=1|Y=0), P(\hat X=1|Y=1))`.  The
    feasible channels form a polygon: the unit square cut by the strip
    :math:`p - P \le (1 - p_Y)\alpha_0 + p_Y\alpha_1 \le p + P` with
    :math:`p_Y = p * w`.  A concave function attains its minimum over a polygon at a vertex,
    so ``method="vertices"`` evaluates the (at most eight) vertices: exact.
    ``method="grid"`` searches a dense grid of channels instead (an independent check; an
    upper bound on the optimum).

    With no noise (w = 0), :math:`\hat X = Y = X` is feasible at P = 0 and optimal
    (:math:`H(S|\hat X) \ge H(S|X)` by data processing): no C–P tradeoff.  With
    :math:`w > 0` and :math:`p \ne 1/2`, :math:`P(Y=1) = p * w \ne p`, so the best
    restoration :math:`\hat X = Y` violates tight perception bounds.

    Examples
    --------
    >>> r = BinaryRestoration(p=0.3, eps=0.1, noise=0.0)
    >>> round(r.solve(0.0).label_entropy, 6)  # H_b(0.1): no tradeoff without noise
    0.468996
    >>> noisy = BinaryRestoration(p=0.3, eps=0.1, noise=0.1)
    >>> noisy.solve(0.0).label_entropy > noisy.solve(1.0).label_entropy
    True
    """

    p: float
    eps: float
    noise: float

    def __post_init__(self) -> None:
        check_scalar("p", self.p, 0.0, 1.0)
        check_scalar("eps", self.eps, 0.0, 0.5)
        check_scalar("noise", self.noise, 0.0, 0.5)

    def joint_label_observation(self) -> FloatArray:
        """The 2x2 joint law of (S, Y), rows s, columns y."""
        p_x = np.array([1.0 - self.p, self.p])
        flip_s = np.array([[1.0 - self.eps, self.eps], [self.eps, 1.0 - self.eps]])
        flip_y = np.array([[1.0 - self.noise, self.noise], [self.noise, 1.0 - self.noise]])
        joint: FloatArray = np.einsum("x,xs,xy->sy", p_x, flip_s, flip_y)
        return joint

    def _label_entropy_nats(self, a0: FloatArray, a1: FloatArray) -> FloatArray:
        """H(S|Xhat) in nats for channels (a0, a1), broadcast."""
        j = self.joint_label_observation()
        # joint (s, xhat=1) = sum_y j[s, y] * alpha_y
        s1 = j[:, 0, None] * a0.ravel() + j[:, 1, None] * a1.ravel()
        s0 = j.sum(axis=1)[:, None] - s1
        h_joint = entr(s0).sum(axis=0) + entr(s1).sum(axis=0)
        q = s1.sum(axis=0)
        h_out = entr(q) + entr(1.0 - q)
        out: FloatArray = np.maximum(h_joint - h_out, 0.0).reshape(a0.shape)
        return out

    def _vertices(self, P: float) -> FloatArray:
        """Candidate vertices (a0, a1) of the feasible polygon."""
        py = float(self.joint_label_observation().sum(axis=0)[1])
        lo, hi = max(self.p - P, 0.0), min(self.p + P, 1.0)
        pts = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
        for level in (lo, hi):
            # (1 - py) a0 + py a1 = level on the four edges of the unit square
            if py > 0.0:
                for a0 in (0.0, 1.0):
                    pts.append((a0, (level - (1.0 - py) * a0) / py))
            if py < 1.0:
                for a1 in (0.0, 1.0):
                    pts.append(((level - py * a1) / (1.0 - py), a1))
        v = np.array(pts)
        q = (1.0 - py) * v[:, 0] + py * v[:, 1]
        tol = 1e-12
        inside = (
            (v >= -tol).all(axis=1)
            & (v <= 1.0 + tol).all(axis=1)
            & (q >= lo - tol)
            & (q <= hi + tol)
        )
        out: FloatArray = np.clip(v[inside], 0.0, 1.0)
        return out

    def _grid(self, P: float, n: int, py: float) -> FloatArray:
        """An n x n lattice covering the feasible polygon: for each a0 (or a1), n points of
        the feasible interval of the other parameter."""
        lo, hi = max(self.p - P, 0.0), min(self.p + P, 1.0)
        free = np.linspace(0.0, 1.0, n)
        t = np.linspace(0.0, 1.0, n)
        if py > 0.0:  # free a0; a1 in [(lo - (1-py) a0)/py, (hi - (1-py) a0)/py] within [0, 1]
            raw_lo = (lo - (1.0 - py) * free) / py
            raw_hi = (hi - (1.0 - py) * free) / py
            ok = (raw_lo <= 1.0) & (raw_hi >= 0.0)
            a_lo, a_hi = np.clip(raw_lo, 0.0, 1.0), np.clip(raw_hi, 0.0, 1.0)
            a0 = np.repeat(free[ok], n)
            a1 = (a_lo[ok, None] + (a_hi - a_lo)[ok, None] * t[None, :]).ravel()
        else:  # p_Y = 0: q = a0 alone
            a0 = np.repeat(lo + (hi - lo) * t, n)
            a1 = np.tile(free, n)
        out: FloatArray = np.column_stack([a0, a1])
        return out

    def solve(
        self, P: float, *, method: str = "vertices", base: float = 2, grid: int = 401
    ) -> RestorationResult:
        r"""Minimize :math:`H(S \mid \hat X)` over restorations with TV perception <= P.

        Parameters
        ----------
        P : float
            Bound on :math:`|P(\hat X = 1) - p|`, >= 0 (``inf``: no bound).
        method : {"vertices", "grid"}
            ``"vertices"``: exact (enumerates the polygon's vertices).  ``"grid"``:
            search over `grid` x `grid` feasible channels (`grid` values of
            :math:`\alpha_0`, each with `grid` feasible values of :math:`\alpha_1`): an
            upper bound.
        base : float, optional
            Unit of the entropy (2: bits, default).
        grid : int, optional
            Lattice size per channel parameter for ``method="grid"`` (>= 2).

        Returns
        -------
        RestorationResult
            The best channel and its :math:`H(S|\hat X)` in `base` units.
        """
        bound = _bound(P)
        check_choice("method", method, BINARY_METHODS)
        ln_b = log_base(base)
        py = float(self.joint_label_observation().sum(axis=0)[1])
        if method == "vertices":
            cand = self._vertices(bound)
            exact = True
        else:
            n = int(check_scalar("grid", grid, 2.0))
            cand = self._grid(bound, n, py)
            exact = False
        h = self._label_entropy_nats(cand[:, 0], cand[:, 1])
        k = int(np.argmin(h))
        a0, a1 = float(cand[k, 0]), float(cand[k, 1])
        q_best = (1.0 - py) * a0 + py * a1
        return RestorationResult(
            label_entropy=float(h[k]) / ln_b,
            perception=abs(q_best - self.p),
            channel=(a0, a1),
            output_parameter=q_best,
            method=method,
            exact=exact,
        )

    def min_label_entropy(self, P: ArrayLike, *, base: float = 2) -> FloatArray:
        r""":math:`C_{\min}(P)` in `base` units, exact (``method="vertices"``), elementwise.

        Examples
        --------
        >>> r = BinaryRestoration(p=0.5, eps=0.1, noise=0.2)   # p = 1/2: no tradeoff
        >>> c = r.min_label_entropy([0.0, 0.5])
        >>> bool(abs(c[0] - c[1]) < 1e-12)
        True
        """
        pp = check_interval("P", P, 0.0)
        out = np.array([self.solve(float(v), base=base).label_entropy for v in pp.ravel()])
        res: FloatArray = out.reshape(pp.shape)
        return res[()] if res.ndim == 0 else res


@dataclass(frozen=True)
class GaussianRestoration:
    r"""Gaussian restoration: observe :math:`Y = X + W`, output :math:`\hat X = aY + bZ`.

    Parameters
    ----------
    var_x, var_s, cov : float
        The jointly Gaussian (X, S) as in :class:`~rdpc_theory.GaussianSource`.
    var_noise : float
        :math:`\sigma_W^2 \ge 0`, the variance of the observation noise W (independent of
        X and S).

    Notes
    -----
    With :math:`\sigma_Y^2 = \sigma_X^2 + \sigma_W^2`, :math:`v = a^2\sigma_Y^2 + b^2` and
    :math:`\kappa = a^2\sigma_Y^2/v \in [0, 1]` (the squared correlation of Y and
    :math:`\hat X`):

    .. math::
        h(S \mid \hat X)
        = \tfrac12 \ln\bigl(2\pi e(\sigma_S^2 - \theta^2\kappa/\sigma_Y^2)\bigr),

    while the perception depends only on v (:math:`W_2^2 = (\sqrt v - \sigma_X)^2`,
    :math:`\mathrm{KL} = \tfrac12(v/\sigma_X^2 - 1 - \ln(v/\sigma_X^2))`).  The two decouple:
    :math:`\kappa = 1` (b = 0) is best for classification and :math:`v = \sigma_X^2`
    (:math:`a = \sigma_X/\sigma_Y`) costs no perception, so
    :math:`C_{\min}(P) = h(S \mid Y)` for every P >= 0 (``method="closed_form"``): a scalar
    Gaussian restoration has no C–P tradeoff at any noise level, because an invertible
    rescaling matches the marginal without losing information.  ``method="numeric"``
    minimizes over (a, b) with SciPy's SLSQP from several starts (an independent check).

    Examples
    --------
    >>> import math
    >>> r = GaussianRestoration(1.0, 0.5, 0.9 * math.sqrt(0.5), var_noise=0.5)
    >>> a = r.solve(0.0, base=math.e)
    >>> round(a.label_entropy, 6), round(a.perception, 12)  # h(S|Y) = 1/2 ln(2 pi e 0.23)
    (0.684101, 0.0)
    """

    var_x: float
    var_s: float
    cov: float
    var_noise: float

    def __post_init__(self) -> None:
        vx = check_scalar("var_x", self.var_x, 0.0, math.inf, low_open=True)
        vs = check_scalar("var_s", self.var_s, 0.0, math.inf, low_open=True)
        c = check_scalar("cov", self.cov)
        check_scalar("var_noise", self.var_noise, 0.0)
        check_covariance(vx, vs, c)

    @property
    def var_y(self) -> float:
        r""":math:`\sigma_Y^2 = \sigma_X^2 + \sigma_W^2`."""
        return self.var_x + self.var_noise

    def _perception(self, v: float, perception: str, ln_b: float) -> float:
        if perception == "w2":
            return (math.sqrt(max(v, 0.0)) - math.sqrt(self.var_x)) ** 2
        t = v / self.var_x
        return math.inf if t <= 0.0 else 0.5 * (t - 1.0 - math.log(t)) / ln_b

    def _label_entropy_nats(self, a: float, b: float) -> float:
        v = a * a * self.var_y + b * b
        kappa = 0.0 if v == 0.0 else a * a * self.var_y / v
        var_cond = max(self.var_s - self.cov**2 * kappa / self.var_y, 0.0)
        return -math.inf if var_cond == 0.0 else 0.5 * math.log(_TWO_PI_E * var_cond)

    def solve(
        self,
        P: float,
        *,
        perception: str = "w2",
        method: str = "closed_form",
        base: float = 2,
        n_starts: int = 8,
        seed: int = 0,
    ) -> RestorationResult:
        r"""Minimize :math:`h(S \mid \hat X)` over :math:`\hat X = aY + bZ` with perception <= P.

        Parameters
        ----------
        P : float
            Perception bound, >= 0: :math:`W_2^2` (``"w2"``) or KL in `base` units (``"kl"``).
        perception : {"w2", "kl"}
            Perception measure.
        method : {"closed_form", "numeric"}
            ``"closed_form"``: :math:`h(S|Y)` at :math:`a = \sigma_X/\sigma_Y`, b = 0 (see
            Notes of the class).  ``"numeric"``: SLSQP over (a, b) from `n_starts` random
            starts drawn with `seed`.
        base : float, optional
            Unit of the entropy and of KL (2: bits, default).

        Returns
        -------
        RestorationResult
        """
        bound = _bound(P)
        check_choice("perception", perception, PERCEPTIONS)
        check_choice("method", method, GAUSSIAN_METHODS)
        ln_b = log_base(base)
        if method == "closed_form":
            a, b = math.sqrt(self.var_x / self.var_y), 0.0
            exact = True
        else:
            rng = np.random.default_rng(seed)
            scale = math.sqrt(self.var_x / self.var_y)

            def objective(z: FloatArray) -> float:
                return self._label_entropy_nats(float(z[0]), float(z[1]))

            def slack(z: FloatArray) -> float:
                v = float(z[0]) ** 2 * self.var_y + float(z[1]) ** 2
                return bound - self._perception(v, perception, ln_b)

            best: tuple[float, float, float] | None = None
            for _ in range(int(check_scalar("n_starts", n_starts, 1.0))):
                z0 = rng.uniform(0.2, 1.5, size=2) * scale
                res = minimize(
                    objective,
                    z0,
                    method="SLSQP",
                    constraints=[{"type": "ineq", "fun": slack}] if math.isfinite(bound) else [],
                    options={"ftol": 1e-12, "maxiter": 500},
                )
                a_, b_ = float(res.x[0]), float(res.x[1])
                if slack(res.x) < -1e-9:
                    continue  # an infeasible end point is no evidence
                val = objective(res.x)
                if best is None or val < best[0]:
                    best = (val, a_, b_)
            if best is None:
                raise RuntimeError("SLSQP found no feasible restoration from any start.")
            _, a, b = best
            exact = False
        v = a * a * self.var_y + b * b
        return RestorationResult(
            label_entropy=float(from_nats(np.asarray(self._label_entropy_nats(a, b)), base)),
            perception=self._perception(v, perception, ln_b),
            channel=(a, b),
            output_parameter=v,
            method=method,
            exact=exact,
        )

    def min_label_entropy(
        self, P: ArrayLike, *, perception: str = "w2", base: float = 2
    ) -> FloatArray:
        r""":math:`C_{\min}(P)` (closed form) elementwise over `P`, in `base` units."""
        pp = check_interval("P", P, 0.0)
        out = np.array(
            [
                self.solve(float(v), perception=perception, base=base).label_entropy
                for v in pp.ravel()
            ]
        )
        res: FloatArray = out.reshape(pp.shape)
        return res[()] if res.ndim == 0 else res
