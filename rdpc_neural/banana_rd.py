r"""Rate-distortion functions of the banana and of its maximal invariants (numpy only).

The banana's R(D) under squared error :math:`\lVert x - \hat x\rVert^2` has no closed form; it
is computed numerically with :class:`rdpc_theory.DiscreteSource` (Blahut–Arimoto) on a grid:

* the plane is cut into square cells of side ``cell``; a cell's probability is the exact
  density (:func:`rdpc_neural.banana.banana_log_density`) averaged on 4 x 4 points of the
  cell times its area; cells below ``min_mass`` are dropped (their total, ``dropped_mass``, is
  reported) so that a fine grid stays a few hundred to a few thousand letters;
* letters and reproductions are the cell centres, distortion the squared distance.

Discretization moves the curve (letters at cell centres are less spread than the continuous
source, and cells below ``min_mass`` are dropped); :func:`banana_rd` is therefore computed at
two cell sizes and their difference reported as the discretization error. The Shannon lower
bound :math:`R(D) \ge h(X) - \log_2(\pi e D)` (2-D, total squared error) with the exact
differential entropy :math:`h(X) = \log_2(2\pi e \cdot 3 \cdot 0.5)` bits (the bend and the
rotation preserve volume) is an independent check: it is tight at small D for smooth
densities.

For a rotation-invariant task, VIC reconstructs :math:`\rho(x) = R_{45°}(-\lVert x\rVert,
0)`, an isometry of the radius onto a ray, so the R(D) of :math:`\rho(X)` under squared error
is the R(D) of the radius :math:`M = \lVert X\rVert` under squared error
(:func:`invariant_rd`); likewise :math:`x_2` (x-translation) and :math:`x_1` (y-translation).
Their laws are computed from the same fine 2-D grid (the mass of each cell moved to
the bin of its centre's invariant value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .banana import BASE_STD, banana_log_density, maximal_invariant

__all__ = [
    "DiscretizedSource",
    "banana_entropy_bits",
    "shannon_lower_bound",
    "discretize_banana",
    "discretize_invariant",
    "rd_of",
]

#: Window holding all but ~1e-6 of the banana's mass (the bent arms reach far).
WINDOW = (-20.0, 18.0, -20.0, 18.0)


@dataclass(frozen=True)
class DiscretizedSource:
    """Letters (``(n, dim)`` values), their probabilities and the mass dropped."""

    points: NDArray[np.float64]
    probabilities: NDArray[np.float64]
    dropped_mass: float
    cell: float


def banana_entropy_bits() -> float:
    """Differential entropy of the banana in bits: that of N(0, diag(3^2, 0.5^2)),
    :math:`\\log_2(2 \\pi e \\sigma_1 \\sigma_2)` (shear and rotation keep volumes).

    >>> round(banana_entropy_bits(), 4)
    4.6792
    """
    return math.log2(2 * math.pi * math.e * BASE_STD[0] * BASE_STD[1])


def shannon_lower_bound(D: ArrayLike) -> NDArray[np.float64]:
    """:math:`h(X) - \\log_2(\\pi e D)` (bits; 2-D, D = total squared error), floored at 0."""
    d = np.asarray(D, dtype=np.float64)
    out: NDArray[np.float64] = np.maximum(banana_entropy_bits() - np.log2(math.pi * math.e * d), 0)
    return out


def _grid_masses(cell: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x0, x1, y0, y1 = WINDOW
    xs = np.arange(x0 + cell / 2, x1, cell)
    ys = np.arange(y0 + cell / 2, y1, cell)
    xx, yy = np.meshgrid(xs, ys)
    centres = np.stack([xx, yy], -1).reshape(-1, 2)
    offsets = ((np.arange(4) + 0.5) / 4 - 0.5) * cell
    dens = np.zeros(len(centres))
    for a in offsets:
        for b in offsets:
            dens += np.exp(banana_log_density(centres + np.array([a, b])))
    return centres, dens / 16 * cell**2


def discretize_banana(cell: float, min_mass: float = 1e-7) -> DiscretizedSource:
    """The banana on square cells of side `cell` (see the module docstring)."""
    if not (cell > 0 and math.isfinite(cell)):
        raise ValueError(f"`cell` must be > 0; got {cell!r}.")
    centres, mass = _grid_masses(cell)
    keep = mass >= min_mass
    total = mass.sum()
    return DiscretizedSource(centres[keep], mass[keep] / mass[keep].sum(),
                             float(1 - mass[keep].sum() / total), cell)  # fmt: skip


def discretize_invariant(
    invariance: str, bins: int, fine_cell: float = 0.05, min_mass: float = 1e-9
) -> DiscretizedSource:
    """The law of the maximal invariant M(X) on `bins` equal bins spanning its range, from a
    fine 2-D grid (cell side `fine_cell`); letters are the bins' centres."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"`bins` must be an integer >= 2; got {bins!r}.")
    centres, mass = _grid_masses(fine_cell)
    m = maximal_invariant(centres, invariance)
    keep = mass >= min_mass
    lo, hi = float(m[keep].min()), float(m[keep].max())
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, m[keep], side="right") - 1, 0, bins - 1)
    p = np.bincount(idx, weights=mass[keep], minlength=bins)
    values = (edges[:-1] + edges[1:]) / 2
    nz = p > 0
    return DiscretizedSource(values[nz, None], p[nz] / p[nz].sum(),
                             float(1 - mass[keep].sum() / mass.sum()),
                             float(edges[1] - edges[0]))  # fmt: skip


def rd_of(source: DiscretizedSource, D: ArrayLike) -> NDArray[np.float64]:
    """R(D) in bits of a discretized source under squared error (Blahut–Arimoto through
    :class:`rdpc_theory.DiscreteSource`; letters are also the reproductions)."""
    from rdpc_theory import DiscreteSource

    pts = source.points
    dist = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    src = DiscreteSource(source.probabilities, np.ones((len(pts), 1)), dist)
    curve = src.rd_curve(np.asarray(D, dtype=np.float64))
    if not np.all(curve.converged):
        raise RuntimeError("Blahut-Arimoto did not converge on the banana grid")
    out: NDArray[np.float64] = np.asarray(curve.rate, dtype=np.float64)
    return out
