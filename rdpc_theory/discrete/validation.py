"""Input checks of :class:`~rdpc_theory.DiscreteSource` (distributions, optional bounds,
the distortion matrix)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_choice, check_interval

__all__ = ["check_distribution", "optional_bound", "distortion_matrix", "SUM_TOL"]

FloatArray = NDArray[np.float64]
#: Tolerance on the sum of a probability vector (or each row of a channel).
SUM_TOL = 1e-9


def check_distribution(name: str, value: ArrayLike, axis_name: str = "") -> FloatArray:
    x = as_float_array(name, value)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` must be finite; got {x[~np.isfinite(x)].flat[0]:g}.")
    if (x < 0).any():
        raise ValueError(f"`{name}` must have entries >= 0; got {x[x < 0].flat[0]:g}.")
    sums = x.sum(axis=-1)
    bad = np.abs(sums - 1.0) > SUM_TOL
    if np.any(bad):
        what = f"each {axis_name}" if axis_name else "its entries"
        raise ValueError(
            f"`{name}` must sum to 1 over {what} (within {SUM_TOL:g}); "
            f"got {np.atleast_1d(sums)[np.atleast_1d(bad)][0]:.12g}."
        )
    out: FloatArray = x / sums[..., None] if x.ndim > 1 else x / sums
    return out


def optional_bound(name: str, value: object) -> float:
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


def distortion_matrix(value: Any, n: int) -> FloatArray:
    """The distortion matrix (n, |Xhat|) from a name ('hamming', 'squared': letters
    0..n-1) or an array of finite entries >= 0."""
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
