r"""The L-level uniform quantizer on [-1, 1] with subtractive dither (numpy reference).

Centers :math:`c_k = -1 + k\Delta`, :math:`k = 0, \dots, L-1`, step
:math:`\Delta = 2/(L-1)`.  Universal (subtractive dithered) quantization shares a dither
:math:`U \sim \mathrm{U}[-\Delta/2, \Delta/2)` between encoder and decoder (common
randomness, e.g. a shared seed):

.. math:: k = Q(x + U), \qquad \hat x = c_k - U.

For every :math:`x \in [-1, 1]` the error :math:`\hat x - x` is uniform on
:math:`[-\Delta/2, \Delta/2)` and independent of x [1]_: the cell of :math:`c_k` is
:math:`[c_k - \Delta/2, c_k + \Delta/2)` and :math:`x + U` never leaves
:math:`[-1 - \Delta/2, 1 + \Delta/2)`, so no input overloads the quantizer.  Without
shared randomness the decoder cannot subtract U and outputs :math:`c_k`; then the error
depends on x (and with no dither at all it is a deterministic function of x).

This is the numpy reference of the quantizer the neural codecs use (rdpc_neural has its
own torch version); :mod:`paper_checks.common_randomness` tests the claim on it.

References
----------
.. [1] R. Zamir, M. Feder, "On universal quantization by randomized uniform/lattice
   quantizers", IEEE Trans. IT 38(2), 1992, Thm. 1.
.. [2] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-Distortion-Perception-Classification
   Tradeoff", IEEE JSAC 2025; arXiv:2405.04144 (common randomness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import broadcast_named, check_interval, check_scalar

__all__ = ["DitheredQuantizer"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class DitheredQuantizer:
    r"""L-level uniform quantizer on [-1, 1] with optional subtractive dither.

    Parameters
    ----------
    levels : int
        Number of centers L >= 2.

    Examples
    --------
    >>> q = DitheredQuantizer(levels=3)
    >>> q.step, q.centers.tolist()
    (1.0, [-1.0, 0.0, 1.0])
    >>> u = q.sample_dither(4, rng=np.random.default_rng(0))
    >>> x = np.array([-1.0, -0.2, 0.3, 1.0])
    >>> err = q.decode(q.encode(x, u), u) - x
    >>> bool(np.all((-0.5 <= err) & (err < 0.5)))
    True
    """

    levels: int

    def __post_init__(self) -> None:
        n = check_scalar("levels", self.levels, 2.0)
        if n != int(n):
            raise ValueError(f"`levels` must be an integer >= 2; got {self.levels!r}.")

    @property
    def step(self) -> float:
        r"""The step :math:`\Delta = 2/(L-1)`."""
        return 2.0 / (int(self.levels) - 1)

    @property
    def centers(self) -> FloatArray:
        """The L centers, from -1 to 1."""
        out: FloatArray = np.linspace(-1.0, 1.0, int(self.levels))
        return out

    def sample_dither(
        self, shape: int | tuple[int, ...], *, rng: np.random.Generator
    ) -> FloatArray:
        r"""Draw a dither :math:`U \sim \mathrm{U}[-\Delta/2, \Delta/2)` of `shape` from `rng`.

        Encoder and decoder share it by drawing from generators with the same seed.
        """
        half = self.step / 2.0
        out: FloatArray = rng.uniform(-half, half, size=shape)
        return out

    def encode(self, x: ArrayLike, dither: ArrayLike | None = None) -> IntArray:
        r"""Indices :math:`k = Q(x + U)` of the nearest centers (ties round up).

        Parameters
        ----------
        x : array_like
            Inputs in [-1, 1].
        dither : array_like, optional
            The dither U, broadcastable with `x`, in :math:`[-\Delta/2, \Delta/2)`;
            ``None`` for no dither.

        Returns
        -------
        numpy.ndarray of int64
            Indices in {0, ..., L-1}.
        """
        v = check_interval("x", x, -1.0, 1.0)
        if dither is not None:
            v, u = broadcast_named(x=v, dither=self._dither(dither))
            v = v + u
        # floor(t + 1/2) puts the cell boundaries at c_k + Delta/2 with [lo, hi) cells.
        k = np.floor((v + 1.0) / self.step + 0.5)
        out: IntArray = np.clip(k, 0, int(self.levels) - 1).astype(np.int64)
        return out

    def decode(self, index: ArrayLike, dither: ArrayLike | None = None) -> FloatArray:
        r"""Reconstruction :math:`c_k - U` (subtractive dither) or :math:`c_k` (``dither=None``)."""
        k = np.asarray(index)
        if (
            not np.issubdtype(k.dtype, np.integer)
            or k.min(initial=0) < 0
            or k.max(initial=0) > int(self.levels) - 1
        ):
            raise ValueError(
                f"`index` must be integers in [0, {int(self.levels) - 1}]; got {index!r}."
            )
        c = -1.0 + k.astype(np.float64) * self.step
        if dither is None:
            return c
        c, u = broadcast_named(index=c, dither=self._dither(dither))
        out: FloatArray = c - u
        return out

    def _dither(self, dither: ArrayLike) -> FloatArray:
        half = self.step / 2.0
        return check_interval("dither", dither, -half, half, high_open=True)
