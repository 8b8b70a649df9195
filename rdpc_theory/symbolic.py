r"""Symbolic derivation of the scalar Gaussian RDC/RPC/RDP formulas (sympy).

The closed forms in :mod:`rdpc_theory.gaussian` are typed in by hand.  This module derives
them again from the model with sympy, independently of that code, so tests and
:mod:`paper_checks` can compare the two:

1. Backward channel :math:`X = \hat X + Z`, :math:`Z \perp \hat X`, :math:`\mathrm{Var}\,Z =
   \delta`; the label is :math:`S = (\theta/\sigma_X^2) X + V`, V independent of X, so
   :math:`\mathrm{Var}(S \mid \hat X) = \sigma^2_{S|X} + \theta^2\delta/\sigma_X^4`.
2. Solving :math:`\tfrac12\ln(2\pi e\,\mathrm{Var}(S|\hat X)) = C` for :math:`\delta` gives
   :math:`D_C(C)`; the rate is :math:`R_C = \tfrac12\ln(\sigma_X^2/D_C)`.
3. Derivatives, limits at the regime boundaries, continuity of the piecewise forms, the
   contour corners of the paper's figure, and the W2 RDP regimes follow by differentiation,
   limits and substitution.

Everything is in nats.  Symbols are positive where the model makes them so
(:math:`\sigma_X^2, \theta, \sigma^2_{S|X} > 0`; :math:`\sigma_S^2 = \sigma^2_{S|X} +
\theta^2/\sigma_X^2` is derived, so :math:`\rho^2 < 1` holds by construction).

References
----------
.. [1] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (Gaussian RDC/RPC, Sec. IV).
.. [2] G. Zhang, J. Qian, J. Chen, A. Khisti, "Universal Rate-Distortion-Perception
   Representations for Lossy Compression", NeurIPS 2021; arXiv:2106.10311 (Gaussian RDP, W2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from ._validation import check_scalar

__all__ = [
    "GaussianSymbols",
    "GaussianForms",
    "SymbolicIdentity",
    "gaussian_symbols",
    "derive_gaussian_forms",
    "gaussian_identities",
    "numeric_function",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GaussianSymbols:
    r"""The sympy symbols of the Gaussian model (nats).

    Attributes
    ----------
    var_x, cov, var_s_given_x : sympy.Symbol
        :math:`\sigma_X^2`, :math:`\theta`, :math:`\sigma^2_{S|X}` (all positive).
    D, P, delta : sympy.Symbol
        Distortion bound, W2² perception bound, backward-channel noise variance (positive).
    C, R : sympy.Symbol
        Classification bound and rate (real, nats).
    """

    var_x: Any
    cov: Any
    var_s_given_x: Any
    D: Any
    P: Any
    delta: Any
    C: Any
    R: Any

    @property
    def var_s(self) -> Any:
        r""":math:`\sigma_S^2 = \sigma^2_{S|X} + \theta^2/\sigma_X^2`."""
        return self.var_s_given_x + self.cov**2 / self.var_x

    @property
    def rho_squared(self) -> Any:
        r""":math:`\rho^2 = \theta^2/(\sigma_X^2\sigma_S^2)`."""
        return self.cov**2 / (self.var_x * self.var_s)

    @property
    def label_entropy(self) -> Any:
        r""":math:`h(S) = \tfrac12\ln(2\pi e\sigma_S^2)`."""
        return sp.log(2 * sp.pi * sp.E * self.var_s) / 2

    @property
    def label_noise_entropy(self) -> Any:
        r""":math:`h(S|X) = \tfrac12\ln(2\pi e\sigma^2_{S|X})`."""
        return sp.log(2 * sp.pi * sp.E * self.var_s_given_x) / 2


def gaussian_symbols() -> GaussianSymbols:
    """The symbols every derivation here uses."""
    var_x, cov, var_sx, d, p, delta = sp.symbols(
        "sigma_X2 theta sigma_SgX2 D P delta", positive=True
    )
    c, r = sp.symbols("C R", real=True)
    return GaussianSymbols(var_x, cov, var_sx, d, p, delta, c, r)


@dataclass(frozen=True)
class GaussianForms:
    r"""Derived expressions (sympy, nats); see :func:`derive_gaussian_forms`.

    Attributes
    ----------
    symbols : GaussianSymbols
    var_s_given_xhat : sympy.Expr
        :math:`\mathrm{Var}(S|\hat X)` as a function of the backward noise :math:`\delta`.
    distortion_for_classification : sympy.Expr
        :math:`D_C(C)`, solved from :math:`h(S|\hat X) = C`.
    rate_distortion : sympy.Expr
        :math:`R(D) = \tfrac12\ln(\sigma_X^2/D)` (regime :math:`D < \sigma_X^2`).
    rate_classification : sympy.Expr
        :math:`R_C(C) = \tfrac12\ln(\sigma_X^2/D_C(C))` (regime :math:`h(S|X) < C < h(S)`).
    d_rate_d_distortion, d_rate_d_classification : sympy.Expr
        :math:`\partial R/\partial D` and :math:`dR_C/dC` in their regimes.
    corner_distortion, corner_classification : sympy.Expr
        The corner of the RDC contour at rate R: solving R(D) = R and R_C(C) = R.
    rdp_w2_free, rdp_w2_binding : sympy.Expr
        The W2 RDP formula :math:`-\tfrac12\ln(1 - r^2)`,
        :math:`r = (\sigma_X^2 + s^2 - D)/(2\sigma_X s)`, with the free output standard
        deviation :math:`s = \sqrt{\sigma_X^2 - D}` and with the perception-bound one
        :math:`s = \sigma_X - \sqrt P`.
    """

    symbols: GaussianSymbols
    var_s_given_xhat: Any
    distortion_for_classification: Any
    rate_distortion: Any
    rate_classification: Any
    d_rate_d_distortion: Any
    d_rate_d_classification: Any
    corner_distortion: Any
    corner_classification: Any
    rdp_w2_free: Any
    rdp_w2_binding: Any


def _rdp_w2(sym: GaussianSymbols, s: Any) -> Any:
    sx = sp.sqrt(sym.var_x)
    r = (sym.var_x + s**2 - sym.D) / (2 * sx * s)
    return -sp.log(1 - r**2) / 2


def _single(solutions: list[Any], what: str) -> Any:
    if len(solutions) != 1:
        raise RuntimeError(f"sympy found {len(solutions)} solutions for {what}; expected 1.")
    return solutions[0]


@lru_cache(maxsize=1)
def derive_gaussian_forms() -> GaussianForms:
    r"""Derive the Gaussian RDC formulas from the backward channel (cached; ~1 s).

    Returns
    -------
    GaussianForms

    Examples
    --------
    >>> f = derive_gaussian_forms()
    >>> f.d_rate_d_distortion
    -1/(2*D)
    """
    sym = gaussian_symbols()
    vx, th, d = sym.var_x, sym.cov, sym.delta
    var_xhat = vx - d
    cov_s_xhat = th / vx * var_xhat  # Cov(S, Xhat) = (theta/var_x) Cov(X, Xhat), Markov S-X-Xhat
    var_cond = sp.simplify(sym.var_s - cov_s_xhat**2 / var_xhat)
    h_cond = sp.log(2 * sp.pi * sp.E * var_cond) / 2
    d_c = sp.simplify(_single(sp.solve(sp.Eq(h_cond, sym.C), d), "h(S|Xhat) = C"))
    r_d = sp.log(vx / sym.D) / 2
    r_c = sp.log(vx / d_c) / 2
    corner_d = _single(sp.solve(sp.Eq(r_d, sym.R), sym.D), "R(D) = R")
    corner_c = _single(sp.solve(sp.Eq(r_c, sym.R), sym.C), "R_C(C) = R")
    return GaussianForms(
        symbols=sym,
        var_s_given_xhat=var_cond,
        distortion_for_classification=d_c,
        rate_distortion=r_d,
        rate_classification=r_c,
        d_rate_d_distortion=sp.simplify(sp.diff(r_d, sym.D)),
        d_rate_d_classification=sp.simplify(sp.diff(r_c, sym.C)),
        corner_distortion=sp.simplify(corner_d),
        corner_classification=corner_c,
        rdp_w2_free=_rdp_w2(sym, sp.sqrt(vx - sym.D)),
        rdp_w2_binding=_rdp_w2(sym, sp.sqrt(vx) - sp.sqrt(sym.P)),
    )


@dataclass(frozen=True)
class SymbolicIdentity:
    """A statement about the Gaussian forms, and whether sympy proved it.

    Attributes
    ----------
    name : str
        Short identifier.
    statement : str
        What is claimed, in words and plain-text math.
    lhs, rhs : sympy.Expr
        The two sides (for limits, ``lhs`` is the limit sympy computed).
    holds : bool
        Whether sympy reduced ``lhs - rhs`` to 0 (or the limit to ``rhs``).
    """

    name: str
    statement: str
    lhs: Any
    rhs: Any
    holds: bool


def _equal(a: Any, b: Any) -> bool:
    """Symbolic equality; log identities are compared through exp (all symbols positive)."""
    diff = sp.simplify(a - b)
    if diff == 0:
        return True
    combined = sp.simplify(sp.logcombine(sp.expand_log(diff, force=True), force=True))
    if combined == 0:
        return True
    return bool(sp.simplify(sp.exp(combined) - 1) == 0)


def gaussian_identities() -> tuple[SymbolicIdentity, ...]:
    """Prove the identities behind the Gaussian closed forms with sympy.

    Returns
    -------
    tuple of SymbolicIdentity
        Each with ``holds`` set by sympy (``False`` means sympy could not reduce it).

    Examples
    --------
    >>> all(i.holds for i in gaussian_identities())
    True
    """
    f = derive_gaussian_forms()
    s = f.symbols
    vx, th, vsx = s.var_x, s.cov, s.var_s_given_x
    var_c = sp.exp(2 * s.C) / (2 * sp.pi * sp.E)
    h_s, h_sx = s.label_entropy, s.label_noise_entropy
    out: list[SymbolicIdentity] = []

    def add(name: str, statement: str, lhs: Any, rhs: Any, holds: bool | None = None) -> None:
        ok = _equal(lhs, rhs) if holds is None else holds
        out.append(SymbolicIdentity(name, statement, lhs, rhs, ok))

    add(
        "D_C",
        "D_C(C) = var_x^2 (sigma_C^2 - var_s|x) / theta^2, sigma_C^2 = e^{2C}/(2 pi e)",
        f.distortion_for_classification,
        vx**2 * (var_c - vsx) / th**2,
    )
    add(
        "R_C",
        "R_C(C) = 1/2 ln((var_s - var_s|x) / (sigma_C^2 - var_s|x))",
        f.rate_classification,
        sp.log((s.var_s - vsx) / (var_c - vsx)) / 2,
    )
    add("dR/dD", "dR/dD = -1/(2D) for D < min(D_C, var_x)", f.d_rate_d_distortion, -1 / (2 * s.D))
    add(
        "dR_C/dC",
        "dR_C/dC = -sigma_C^2 / (sigma_C^2 - var_s|x) for h(S|X) < C < h(S)",
        f.d_rate_d_classification,
        -var_c / (var_c - vsx),
    )
    lim_low = sp.limit(f.rate_classification, s.C, h_sx, "+")
    add("R_C at h(S|X)+", "R_C(C) -> +inf as C -> h(S|X)+", lim_low, sp.oo, lim_low == sp.oo)
    add(
        "R_C at h(S)",
        "R_C(h(S)) = 0: continuous with the zero branch C >= h(S)",
        f.rate_classification.subs(s.C, h_s),
        sp.Integer(0),
    )
    add(
        "D_C at h(S)",
        "D_C(h(S)) = var_x: the classification bound stops binding exactly at C = h(S)",
        f.distortion_for_classification.subs(s.C, h_s),
        vx,
    )
    add(
        "R(D) at var_x",
        "R(D) -> 0 as D -> var_x: continuous with the zero branch D >= var_x",
        f.rate_distortion.subs(s.D, vx),
        sp.Integer(0),
    )
    add(
        "RDC branches meet",
        "R(D) = R_C(C) on the switch line D = D_C(C): min{D, D_C} is continuous",
        f.rate_distortion.subs(s.D, f.distortion_for_classification),
        f.rate_classification,
    )
    add("corner D", "contour corner D = var_x e^{-2R}", f.corner_distortion, vx * sp.exp(-2 * s.R))
    add(
        "corner C",
        "contour corner C = h(S) + 1/2 ln(1 - rho^2 (1 - e^{-2R}))",
        f.corner_classification,
        h_s + sp.log(1 - s.rho_squared * (1 - sp.exp(-2 * s.R))) / 2,
    )
    add(
        "RDP w2 free = R(D)",
        "with s = sqrt(var_x - D) the W2 RDP formula is R(D)",
        f.rdp_w2_free,
        f.rate_distortion,
    )
    d_switch = vx - (sp.sqrt(vx) - sp.sqrt(s.P)) ** 2
    add(
        "RDP w2 continuity",
        "the perception-bound branch equals R(D) at D = var_x - (sigma_X - sqrt P)^2",
        f.rdp_w2_binding.subs(s.D, d_switch),
        f.rate_distortion.subs(s.D, d_switch),
    )
    at_zero = f.rdp_w2_binding.subs(s.P, 0)
    lim_2vx = sp.limit(at_zero, s.D, 2 * vx, "-")
    add(
        "RDP w2 P=0 at 2 var_x",
        "at P = 0 the rate -> 0 only as D -> 2 var_x",
        lim_2vx,
        sp.Integer(0),
        lim_2vx == 0,
    )
    return tuple(out)


def numeric_function(
    expr: Any, *variables: str, var_x: float, var_s: float, cov: float
) -> Callable[..., FloatArray]:
    r"""A numpy function of the free `variables` of a derived expression, parameters bound.

    Parameters
    ----------
    expr : sympy.Expr
        An expression in the symbols of :func:`gaussian_symbols`.
    *variables : {"D", "C", "R", "P", "delta"}
        The free variables, in the order the returned function takes them.
    var_x, var_s, cov : float
        Model parameters; :math:`\sigma_S^2 > \theta^2/\sigma_X^2` (so
        :math:`\sigma^2_{S|X} > 0`) and :math:`\theta > 0` are required.

    Returns
    -------
    callable
        ``f(*arrays) -> numpy array`` evaluating `expr` (nats), broadcasting its arguments.

    Examples
    --------
    >>> f = derive_gaussian_forms()
    >>> d_c = numeric_function(f.corner_distortion, "R", var_x=1.0, var_s=0.5, cov=0.6364)
    >>> round(float(d_c(0.6)), 4)
    0.3012
    """
    vx = check_scalar("var_x", var_x, 0.0, math.inf, low_open=True)
    c = check_scalar("cov", cov, 0.0, math.inf, low_open=True)
    vs = check_scalar("var_s", var_s, c * c / vx, math.inf, low_open=True)
    s = gaussian_symbols()
    allowed = ("D", "C", "R", "P", "delta")
    if not variables or any(v not in allowed for v in variables):
        raise ValueError(
            f"`variables` must be one or more of {', '.join(map(repr, allowed))}; "
            f"got {variables!r}."
        )
    bound = expr.subs({s.var_x: vx, s.cov: c, s.var_s_given_x: vs - c * c / vx})
    fn = sp.lambdify([getattr(s, v) for v in variables], bound, modules="numpy")

    def evaluate(*values: ArrayLike) -> FloatArray:
        xs = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
        out: FloatArray = np.asarray(fn(*xs), dtype=np.float64) * np.ones_like(xs[0])
        return out

    return evaluate
