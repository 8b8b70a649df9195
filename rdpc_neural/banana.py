r"""The 2-D banana source of Dubois et al. (2021) and its invariances (numpy only).

The source (REFERENCE.md §3, after Balle et al.'s "Nonlinear transform coding"): draw
:math:`b \sim N(0, \operatorname{diag}(3^2, 0.5^2))`, bend :math:`b_2 \leftarrow b_2 +
0.1 (b_1^2 - 9)`, rotate by :math:`-40°` and shift by :math:`(-0.75, -1)`:

.. math:: X = R_{-40°}\, T(b) + s.

The bend :math:`T` is a shear with unit Jacobian and the rotation is orthogonal, so the density
is exact and cheap: :math:`p(x) = N(b_1; 0, 9)\, N(b_2 - 0.1(b_1^2 - 9); 0, 0.25)` with
:math:`b = R_{40°}(x - s)`.

Invariances (groups acting on the plane) and their maximal invariants M and canonical
representatives :math:`\rho` (a point of each orbit, a function of M only):

==============  ========================  =================================================
invariance      M(x)                      :math:`\rho(x)`
==============  ========================  =================================================
rotation        :math:`\lVert x\rVert`    :math:`R_{45°}(-\lVert x\rVert, 0)` (the reference's)
x-translation   :math:`x_2`               :math:`(0, x_2)`
y-translation   :math:`x_1`               :math:`(x_1, 0)`
==============  ========================  =================================================

Since :math:`\lVert\rho(x) - \rho(x')\rVert = |M(x) - M(x')|` in each case, squared error
between representatives is squared error between maximal invariants.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BASE_STD",
    "BEND",
    "ROTATION_DEG",
    "SHIFT",
    "sample_banana",
    "banana_log_density",
    "maximal_invariant",
    "representative",
    "random_transform",
    "TRANSLATION_RANGE",
    "invariant_classes",
]

BASE_STD = (3.0, 0.5)
BEND = 0.1
ROTATION_DEG = -40.0
SHIFT = (-0.75, -1.0)
_REP_DEG = 45.0
#: Range of the random shifts of the translation groups (they are not compact): U(-5, 5).
TRANSLATION_RANGE = 5.0

Array = NDArray[np.float64]


def _rotation(deg: float) -> Array:
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def sample_banana(n: int, rng: np.random.Generator) -> Array:
    """`n` samples of the banana, shape ``(n, 2)``.

    >>> sample_banana(3, np.random.default_rng(0)).shape
    (3, 2)
    """
    b = rng.standard_normal((n, 2)) * np.asarray(BASE_STD)
    b[:, 1] += BEND * (b[:, 0] ** 2 - 9.0)
    out: Array = b @ _rotation(ROTATION_DEG).T + np.asarray(SHIFT)
    return out


def banana_log_density(x: Array) -> Array:
    """Natural log of the exact density (nats) at points `x` of shape ``(..., 2)``."""
    x = np.asarray(x, dtype=np.float64)
    b = (x - np.asarray(SHIFT)) @ _rotation(-ROTATION_DEG).T
    b1, b2 = b[..., 0], b[..., 1] - BEND * (b[..., 0] ** 2 - 9.0)
    s1, s2 = BASE_STD
    out: Array = -0.5 * (b1 / s1) ** 2 - 0.5 * (b2 / s2) ** 2 - math.log(2 * math.pi * s1 * s2)
    return out


def _check_invariance(invariance: str) -> None:
    if invariance not in ("rotation", "x-translation", "y-translation"):
        raise ValueError(
            "`invariance` must be one of 'rotation', 'x-translation', 'y-translation'; "
            f"got {invariance!r}."
        )


def maximal_invariant(x: Array, invariance: str) -> Array:
    """M(x) for each point of `x` (shape ``(n, 2)`` -> ``(n,)``)."""
    _check_invariance(invariance)
    x = np.asarray(x, dtype=np.float64)
    if invariance == "rotation":
        out: Array = np.linalg.norm(x, axis=-1)
        return out
    return x[..., 1].copy() if invariance == "x-translation" else x[..., 0].copy()


def representative(x: Array, invariance: str) -> Array:
    """The canonical representative :math:`\\rho(x)` of each point's orbit, ``(n, 2)``.

    >>> representative(np.array([[3.0, 4.0]]), "rotation").round(4).tolist()
    [[-3.5355, -3.5355]]
    """
    m = maximal_invariant(x, invariance)
    out = np.zeros(m.shape + (2,))
    if invariance == "rotation":
        out[..., 0] = -m
        rotated: Array = out @ _rotation(_REP_DEG).T
        return rotated
    out[..., 1 if invariance == "x-translation" else 0] = m
    return out


def random_transform(x: Array, invariance: str, rng: np.random.Generator) -> Array:
    """Each point moved by an independent random group element: a uniform rotation about the
    origin, or a shift along the axis drawn from U(-5, 5)."""
    _check_invariance(invariance)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if invariance == "rotation":
        t = rng.uniform(0.0, 2 * math.pi, n)
        c, s = np.cos(t), np.sin(t)
        return np.stack([c * x[:, 0] - s * x[:, 1], s * x[:, 0] + c * x[:, 1]], axis=1)
    shift = rng.uniform(-TRANSLATION_RANGE, TRANSLATION_RANGE, n)
    out = x.copy()
    out[:, 0 if invariance == "x-translation" else 1] += shift
    return out


def invariant_classes(x: Array, invariance: str, classes: int = 4) -> NDArray[np.int64]:
    """A rotation- (or translation-) invariant classification task: the quantile bin of M(x)
    among `classes` equally likely bins (edges from 200,000 samples of a fixed seed)."""
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"`classes` must be an integer >= 2; got {classes!r}.")
    ref = maximal_invariant(sample_banana(200_000, np.random.default_rng(0xBA7A)), invariance)
    edges = np.quantile(ref, np.arange(1, classes) / classes)
    out: NDArray[np.int64] = np.searchsorted(edges, maximal_invariant(x, invariance))
    return out
