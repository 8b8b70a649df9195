"""Input validation shared by every public function (one policy, one message format).

Messages name the parameter in backticks, its valid range and the offending value,
e.g. ``"`D` must be >= 0; got -0.1."``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "check_interval",
    "check_scalar",
    "check_choice",
    "check_covariance",
    "broadcast_named",
    "check_shape",
]

FloatArray = NDArray[np.float64]


def _first_offender(x: FloatArray, bad: NDArray[np.bool_]) -> float:
    return float(x[bad].flat[0]) if x.ndim else float(x)


def as_float_array(name: str, value: ArrayLike) -> FloatArray:
    """Convert `value` to a float64 array, rejecting NaN (never a silent NaN downstream)."""
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be a real number or array of real numbers; got {value!r}."
        ) from exc
    if np.isnan(x).any():
        raise ValueError(f"`{name}` must not be NaN; got {value!r}.")
    return x


def check_interval(
    name: str,
    value: ArrayLike,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> FloatArray:
    """Return `value` as a float array after checking ``low <= value <= high`` elementwise.

    ``low_open``/``high_open`` make the corresponding end strict.
    """
    x = as_float_array(name, value)
    bad = np.zeros(x.shape, dtype=bool)
    if low > -math.inf or low_open:
        bad |= (x <= low) if low_open else (x < low)
    if high < math.inf or high_open:
        bad |= (x >= high) if high_open else (x > high)
    if bad.any():
        lo = f"{'(' if low_open else '['}{low:g}"
        hi = f"{high:g}{')' if high_open else ']'}"
        if high == math.inf and not high_open:
            rng = f"{'>' if low_open else '>='} {low:g}"
        elif low == -math.inf and not low_open:
            rng = f"{'<' if high_open else '<='} {high:g}"
        else:
            rng = f"in {lo}, {hi}"
        raise ValueError(f"`{name}` must be {rng}; got {_first_offender(x, bad):g}.")
    return x


def check_scalar(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate a scalar model parameter (same rules as :func:`check_interval`)."""
    x = check_interval(
        name,
        value,  # type: ignore[arg-type]
        low,
        high,
        low_open=low_open,
        high_open=high_open,
    )
    if x.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar; got an array of shape {x.shape}.")
    if not np.isfinite(x):
        raise ValueError(f"`{name}` must be finite; got {float(x):g}.")
    return float(x)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Validate a string option against the allowed `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_covariance(var_x: float, var_s: float, cov: float) -> None:
    r"""Check :math:`|\theta| \le \sigma_X \sigma_S` (a positive semi-definite covariance).

    The bound is formed as ``sqrt(var_x) * sqrt(var_s)``, not ``sqrt(var_x * var_s)``: the
    product underflows to 0 for variances near 1e-300 and would reject valid sources.
    """
    bound = math.sqrt(var_x) * math.sqrt(var_s)
    if abs(cov) > bound * (1.0 + 1e-12):
        raise ValueError(
            f"`cov` must satisfy |cov| <= sqrt(var_x * var_s) = {bound:g} "
            f"(positive semi-definite covariance); got {cov:g}."
        )


def broadcast_named(**arrays: FloatArray) -> tuple[FloatArray, ...]:
    """Broadcast the named arrays together (numpy rules), in the order given.

    Incompatible shapes raise a ``ValueError`` naming every argument and its shape,
    instead of numpy's message from deep inside a formula.
    """
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        names = ", ".join(f"`{k}`" for k in arrays)
        shapes = ", ".join(f"`{k}` {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(
            f"{names} must have shapes that broadcast together (numpy rules); got shapes {shapes}."
        ) from None


def check_shape(name: str, shape: object) -> tuple[int, ...]:
    """Validate an array shape: a non-negative int or a tuple of them."""
    dims = shape if isinstance(shape, tuple) else (shape,)
    if not all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0 for n in dims
    ):
        raise ValueError(
            f"`{name}` must be a non-negative integer or a tuple of them; got {shape!r}."
        )
    return tuple(int(n) for n in dims)
