"""Entropy helpers: binary entropy and its inverse, binary convolution, Gaussian entropy.

All functions broadcast over numpy arrays, take ``base=2`` (bits) as a keyword, compute
in nats and convert once (:mod:`rdpc_theory.units`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import elementwise
from scipy.special import entr

from ._validation import broadcast_named, check_interval
from .units import from_nats, log_base

__all__ = [
    "binary_entropy",
    "binary_entropy_inv",
    "binary_convolution",
    "gaussian_entropy",
]

FloatArray = NDArray[np.float64]
LN2 = math.log(2.0)


def _result(x: FloatArray) -> FloatArray:
    # Scalars come back as numpy floats, arrays keep their broadcast shape.
    return x[()] if x.ndim == 0 else x


def binary_entropy_nats(p: FloatArray) -> FloatArray:
    """Unchecked binary entropy in nats (internal fast path; `p` must lie in [0, 1])."""
    out: FloatArray = np.asarray(entr(p) + entr(1.0 - p))
    return out


def binary_entropy_inv_nats(h: FloatArray) -> FloatArray:
    """Unchecked inverse of the binary entropy on [0, 1/2]; `h` in nats within [0, ln 2].

    Solved elementwise with SciPy's bracketing root finder (Chandrupatla) on [0, 1/2]:
    the function is monotone there, so the bracket is always valid.
    """
    h = np.asarray(h, dtype=np.float64)
    x = np.where(h >= LN2, 0.5, 0.0)
    inner = (h > 0.0) & (h < LN2)
    if inner.any():
        hi = h[inner]
        # H_b is concave with H_b(1/2) = ln 2, so H_b(x) >= 2 x ln 2 on [0, 1/2]: the root
        # lies below h / (2 ln 2).  A tight upper end keeps tiny h (1e-100) fast.
        upper = np.minimum(0.5, hi / (2.0 * LN2))
        res = elementwise.find_root(
            lambda t, target: binary_entropy_nats(t) - target,
            (np.zeros_like(hi), upper),
            args=(hi,),
            tolerances={"xatol": np.finfo(float).tiny, "xrtol": 4 * np.finfo(float).eps},
        )
        x[inner] = res.x
    out: FloatArray = x
    return out


def binary_entropy(p: ArrayLike, *, base: float = 2) -> FloatArray:
    r"""Binary entropy :math:`H_b(p) = -p\log p - (1-p)\log(1-p)`.

    Parameters
    ----------
    p : array_like
        Probability, in [0, 1].
    base : float, optional
        Logarithm base of the result (2: bits, default; ``math.e``: nats).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`H_b(p)` in `base` units; 0 at p = 0 and p = 1.

    Examples
    --------
    >>> float(binary_entropy(0.5))
    1.0
    >>> round(float(binary_entropy(0.11)), 6)
    0.499916
    """
    x = check_interval("p", p, 0.0, 1.0)
    return _result(from_nats(binary_entropy_nats(x), base))


def binary_entropy_inv(h: ArrayLike, *, base: float = 2) -> FloatArray:
    r"""Inverse of the binary entropy on [0, 1/2]: the :math:`x \le 1/2` with :math:`H_b(x) = h`.

    Parameters
    ----------
    h : array_like
        Entropy in `base` units, in [0, log_base(2)] (that is [0, 1] bits).
    base : float, optional
        Unit of `h` (2: bits, default).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`H_b^{-1}(h) \in [0, 1/2]`, accurate to a few ulps.

    Examples
    --------
    >>> round(float(binary_entropy_inv(0.5)), 9)
    0.110027864
    >>> float(binary_entropy_inv(1.0))
    0.5
    """
    ln_b = log_base(base)
    x = check_interval("h", h, 0.0, LN2 / ln_b * (1 + 1e-15))
    return _result(binary_entropy_inv_nats(np.minimum(x * ln_b, LN2)))


def binary_convolution(a: ArrayLike, b: ArrayLike) -> FloatArray:
    r"""Binary convolution :math:`a * b = a(1-b) + (1-a)b`.

    The crossover probability of two cascaded binary symmetric channels, i.e.
    :math:`P(A \oplus B = 1)` for independent Bernoulli(a), Bernoulli(b).

    Parameters
    ----------
    a, b : array_like
        Probabilities in [0, 1]; broadcast together.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`a * b` in [0, 1].

    Examples
    --------
    >>> round(float(binary_convolution(0.3, 0.1)), 12)
    0.34
    """
    x, y = broadcast_named(a=check_interval("a", a, 0.0, 1.0), b=check_interval("b", b, 0.0, 1.0))
    return _result(np.asarray(x * (1.0 - y) + (1.0 - x) * y))


def gaussian_entropy(var: ArrayLike, *, base: float = 2) -> FloatArray:
    r"""Differential entropy of a scalar Gaussian, :math:`h = \tfrac12 \log(2\pi e\,\sigma^2)`.

    Parameters
    ----------
    var : array_like
        Variance :math:`\sigma^2 \ge 0`; :math:`\sigma^2 = 0` (a point mass) gives
        :math:`-\infty`.
    base : float, optional
        Logarithm base of the result (2: bits, default).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The differential entropy in `base` units (may be negative).

    Examples
    --------
    >>> import math
    >>> round(float(gaussian_entropy(1.0, base=math.e)), 6)
    1.418939
    """
    v = check_interval("var", var, 0.0)
    with np.errstate(divide="ignore"):
        h = 0.5 * np.log(2.0 * math.pi * math.e * v)
    return _result(from_nats(h, base))
