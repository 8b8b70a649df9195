"""Helpers shared by the checks: the sources they test, formatting, and test plumbing.

Only *test logic* lives here (midpoint gaps, monotonicity differences, formatting); every
information-theoretic quantity comes from :mod:`rdpc_theory`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rdpc_theory import BinarySource, GaussianSource

__all__ = [
    "BINARY_SOURCES",
    "GAUSSIAN_SOURCES",
    "PAPER_GAUSSIAN",
    "PAPER_BINARY",
    "optional_module",
    "fmt",
    "worst_increase",
    "midpoint_gaps",
    "CLOSED_FORM_TOL",
    "describe",
    "brute_force_rate",
    "discrete_source",
]

FloatArray = NDArray[np.float64]

#: Closed forms and their root finders agree with themselves to ~1e-15; allow round-off.
CLOSED_FORM_TOL = 1e-10

#: The binary source of the reference values in docs/references.md (p = .3, eps = .1).
PAPER_BINARY = BinarySource(p=0.3, eps=0.1)
#: The Gaussian source of the paper's theory figure (var_x = 1, var_s = .5, rho = .9).
PAPER_GAUSSIAN = GaussianSource(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))

#: Binary sources the structural checks sweep (p, eps), including the edge cases.
BINARY_SOURCES: tuple[BinarySource, ...] = (
    PAPER_BINARY,
    BinarySource(p=0.1, eps=0.2),
    BinarySource(p=0.45, eps=0.05),
    BinarySource(p=0.2, eps=0.35),
    BinarySource(p=0.5, eps=0.1),
    BinarySource(p=0.3, eps=0.0),
)
#: Gaussian sources the structural checks sweep (var_x, var_s, cov).
GAUSSIAN_SOURCES: tuple[GaussianSource, ...] = (
    PAPER_GAUSSIAN,
    GaussianSource(var_x=2.0, var_s=1.0, cov=0.5),
    GaussianSource(var_x=0.5, var_s=3.0, cov=-0.9),
)


def optional_module(name: str) -> ModuleType | None:
    """Import `name`, or ``None`` if it (not one of its own imports) does not exist yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def fmt(x: float, digits: int = 4) -> str:
    """A number for the evidence column: ``0.2070``, ``3.1e-12``, ``inf``."""
    x = float(x)
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    if x == 0.0:
        return "0"
    if x != 0.0 and (abs(x) < 10.0 ** (-digits) or abs(x) >= 1e5):
        return f"{x:.1e}"
    return f"{x:.{digits}f}"


def worst_increase(values: FloatArray, axis: int) -> float:
    """Largest increase of `values` along `axis` (the arguments increase along it).

    A finite value followed by ``inf`` counts as an infinite increase; ``inf`` followed by
    anything is fine.  Returns 0 when the values never increase.
    """
    v = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    prev, nxt = v[:-1], v[1:]
    with np.errstate(invalid="ignore"):
        inc = np.where(np.isinf(prev), -np.inf, nxt - prev)
    return float(max(np.max(inc, initial=-np.inf), 0.0))


def midpoint_gaps(
    fn: Callable[..., FloatArray], a: tuple[FloatArray, ...], b: tuple[FloatArray, ...]
) -> FloatArray:
    r"""Convexity gaps :math:`f(\tfrac{a+b}2) - \tfrac{f(a) + f(b)}2` for pairs of points.

    Positive values violate midpoint convexity.  Pairs with an infinite end are dropped
    (NaN), since convexity of an extended-real function allows anything there.
    """
    mid = tuple((x + y) / 2.0 for x, y in zip(a, b, strict=True))
    fa, fb, fm = (np.asarray(fn(*pt), dtype=np.float64) for pt in (a, b, mid))
    gap = fm - (fa + fb) / 2.0
    out: FloatArray = np.where(np.isfinite(fa) & np.isfinite(fb), gap, np.nan)
    return out


def describe(source: Any) -> str:
    """``binary(p=0.3, eps=0.1)`` or ``gaussian(1, 0.5, 0.636)`` for evidence strings."""
    if isinstance(source, BinarySource):
        return f"binary(p={source.p:g}, eps={source.eps:g})"
    if isinstance(source, GaussianSource):
        return f"gaussian(vx={source.var_x:g}, vs={source.var_s:g}, cov={source.cov:.4g})"
    return repr(source)


@lru_cache(maxsize=4096)
def _brute_force_cached(
    kind: str, params: tuple[float, ...], bounds: tuple[float, float, float], perception: str
) -> float:
    bf = optional_module("rdpc_theory.brute_force")
    if bf is None:
        raise RuntimeError("rdpc_theory.brute_force is not available")
    d, p, c = bounds
    if kind == "binary":
        return float(bf.binary_brute_force(*params, D=d, P=p, C=c).rate)
    return float(bf.gaussian_brute_force(*params, D=d, P=p, C=c, perception=perception).rate)


def brute_force_rate(
    source: BinarySource | GaussianSource,
    D: float = math.inf,
    P: float = math.inf,
    C: float = math.inf,
    *,
    perception: str = "w2",
) -> float:
    """R(D, P, C) in bits from :mod:`rdpc_theory.brute_force` (memoized across checks).

    Raises RuntimeError when the brute-force module is missing; callers test
    ``optional_module("rdpc_theory.brute_force")`` first.
    """
    bounds = (float(D), float(P), float(C))
    if isinstance(source, BinarySource):
        return _brute_force_cached("binary", (source.p, source.eps), bounds, "tv")
    params = (source.var_x, source.var_s, source.cov)
    return _brute_force_cached("gaussian", params, bounds, perception)


def discrete_source(p_x: FloatArray, p_s_given_x: FloatArray, distortion: FloatArray) -> Any | None:
    """``rdpc_theory.DiscreteSource(...)`` if the discrete solver exists, else ``None``."""
    theory = importlib.import_module("rdpc_theory")
    cls = getattr(theory, "DiscreteSource", None)
    if cls is None:
        return None
    return cls(p_x, p_s_given_x, distortion)
