"""Units of information: the single conversion point between nats and `base` units.

Every information quantity in rdpc_theory is computed in nats and converted once, here.
``base=2`` gives bits (the default everywhere), ``base=math.e`` nats.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._validation import check_scalar

__all__ = ["log_base", "to_nats", "from_nats"]


def log_base(base: float) -> float:
    """Return ``ln(base)``, after checking that `base` is a valid unit (> 0, != 1)."""
    b = check_scalar("base", base, 0.0, math.inf, low_open=True)
    if b == 1.0:
        raise ValueError("`base` must be > 0 and != 1; got 1.")
    return math.log(b)


def to_nats(value: NDArray[np.float64], base: float) -> NDArray[np.float64]:
    """Convert an information quantity given in `base` units to nats."""
    return value * log_base(base)


def from_nats(value: NDArray[np.float64], base: float) -> NDArray[np.float64]:
    """Convert an information quantity in nats to `base` units."""
    return value / log_base(base)
