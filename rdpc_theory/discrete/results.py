"""Result objects of :class:`~rdpc_theory.DiscreteSource` (frozen dataclasses)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["RDPCResult", "RDPCCurve", "DistortionRange"]

FloatArray = NDArray[np.float64]


class DistortionRange(NamedTuple):
    """Result of :meth:`DiscreteSource.distortion_range` (a named pair, so it also unpacks
    as ``d_min, d_max``).

    Attributes
    ----------
    minimum : float
        :math:`D_{\\min} = E\\min_{\\hat x} d(X, \\hat x)`: below it R(D) is ``inf``.
    maximum : float
        :math:`D_{\\max} = \\min_{\\hat x} E\\,d(X, \\hat x)`: from it on R(D) = 0.
    """

    minimum: float
    maximum: float


@dataclass(frozen=True)
class RDPCResult:
    """Solution of one RDPC problem (frozen; every information quantity in `base` units).

    Attributes
    ----------
    rate : float
        Rate of the returned channel, :math:`I(X;\\hat X)` (= `upper`); ``inf`` when the
        constraints are infeasible or no feasible channel was found.
    upper, lower : float
        Bounds on the optimum R(D, P, C).  `upper` is always certified (the rate of a
        channel meeting every constraint to within 1e-9); `lower` is certified where the
        method provides one (see :mod:`rdpc_theory.discrete`) and ``-inf`` never occurs
        for feasible problems (0 at worst).
    channel : ndarray, shape (|X|, |X̂|)
        The test channel p(x̂|x) (NaN when infeasible).
    distortion : float
        Its expected distortion E d(X, X̂).
    perception : float
        Its perception value (TV, or KL in `base` units) for the requested measure; NaN
        when |X̂| != |X|.
    conditional_entropy : float
        Its :math:`H(S \\mid \\hat X)` in `base` units.
    n_iter : int
        Inner iterations (Blahut–Arimoto/Newton/Sinkhorn steps, or convex solves).
    converged : bool
        For :meth:`DiscreteSource.solve`: exactly whether the certified gap
        ``upper - lower`` is at most the requested `tol` (or infeasibility is certified).
        For :meth:`DiscreteSource.lagrangian`: stationarity.
    message : str
        What happened and what is certified.
    base : float
        Unit of rates, C and KL perception (2: bits).
    method : str
        Solver used.
    """

    rate: float
    upper: float
    lower: float
    channel: FloatArray = field(repr=False)
    distortion: float
    perception: float
    conditional_entropy: float
    n_iter: int
    converged: bool
    message: str
    base: float
    method: str = "ba"

    @property
    def gap(self) -> float:
        """``upper - lower`` (``nan`` for infeasible problems)."""
        if math.isinf(self.upper) and math.isinf(self.lower):
            return math.nan
        return self.upper - self.lower


@dataclass(frozen=True)
class RDPCCurve:
    """Results over a grid of (D, P, C), as arrays of one common shape, ready to plot.

    ``D``, ``P``, ``C`` hold the bounds (``inf`` for an absent constraint); the other
    arrays are the fields of :class:`RDPCResult` at each grid point.
    """

    D: FloatArray
    P: FloatArray
    C: FloatArray
    rate: FloatArray
    upper: FloatArray
    lower: FloatArray
    distortion: FloatArray
    perception: FloatArray
    conditional_entropy: FloatArray
    converged: NDArray[np.bool_]
    n_iter: NDArray[np.int64]
    base: float
