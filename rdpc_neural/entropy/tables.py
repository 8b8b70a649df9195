r"""Coding-time models of integer values: finite supports, an escape symbol, real coding.

A model of an integer value ``v`` is one of ``T`` tables: table ``t`` covers the support
``{lo_t, ..., lo_t + W_t - 1}`` with probabilities ``pmf_t`` and one *escape* symbol of
probability ``e_t`` (the tail mass outside the support), ``sum pmf_t + e_t = 1``. The
tables are fixed by a model's parameters alone (never by the data being coded).

A value outside its support is coded as the escape symbol, then (after all table symbols of
the chunk) its side ``b`` (below/above, 1 bit), and the excess ``m >= 0`` beyond the support
edge in Elias-gamma form: ``g = floor(log2(m + 1))`` with 5 bits, then the ``g`` low bits of
``m + 1`` (uniform). Its coding probability is therefore

.. math:: P(v) = e_t \, 2^{-(6 + g)},

and these sum to ``e_t`` over all ``|m| < 2^{31} - 1`` on both sides (32 values of ``g`` per
side, each with ``2^g`` values of ``2^{-(6+g)}``), so the alphabet including every escaped
value is exactly normalized.

The coder never sees the float probabilities: each table is quantized once, when it is
built, to integer frequencies ``counts[t]`` summing to :math:`2^{24}` (every entry >= 1, the
escape >= :data:`ESCAPE_FLOOR`), and those integers are what the coder uses (exactly, on
every machine: :meth:`~rdpc_neural.entropy.coder.CategoricalTables.from_counts`), what
:meth:`IntegerTables.probabilities` reports (so an estimated rate is the rate of the code
actually written) and what a model stores (:meth:`IntegerTables.state`). A decoder that loads
the stored integers decodes a stream bit-identically on any platform, whatever its float
functions (``erfc``, ``exp``) would have given.

References
----------
.. [1] P. Elias, "Universal codeword sets and representations of the integers", IEEE Trans.
   IT 21(2), 1975 (the gamma code of the escape payload).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .coder import PRECISION, CategoricalTables, ChunkDecoder, ChunkEncoder

__all__ = ["IntegerTables", "ESCAPE_FLOOR", "MAX_EXCESS", "quantize_counts"]

ESCAPE_FLOOR = 2.0**-16
r"""Smallest escape probability. The coder quantizes probabilities to multiples of
:math:`2^{-24}`; at 256 such units an escape costs within ~0.01 bit of ``-log2`` of its
stated probability (at 1 unit it can be a whole bit off), while the floor costs the other
symbols at most :math:`2^{-16}/\ln 2 \approx 2 \cdot 10^{-5}` bit each."""

MAX_EXCESS = 2**31 - 2
"""Largest escapable excess ``m`` beyond a support edge (``m + 1 < 2^31``)."""

_TOTAL = 1 << PRECISION
_GAMMA_SIZE = 32  # values of g
_PIECE = 16  # payload bits per uniform symbol


def quantize_counts(pmf: NDArray[np.float64], escape: float) -> NDArray[np.int64]:
    """Integer frequencies ``[pmf..., escape]`` summing to ``2**PRECISION``: the escape gets
    ``max(round(escape 2^24), 2^24 ESCAPE_FLOOR)``, every pmf entry one unit plus its share of
    the rest, rounded down, and the leftover units go to the largest remainders (ties to
    the lower index), so the counts are within one unit of the scaled probabilities.

    >>> quantize_counts(np.array([0.5, 0.25, 0.25]), 0.0).tolist()
    [8388480, 4194240, 4194240, 256]
    """
    esc = max(int(round(escape * _TOTAL)), int(ESCAPE_FLOOR * _TOTAL))
    free = _TOTAL - esc - pmf.size
    total = pmf.sum()
    share = pmf / total * free if total > 0 else np.full(pmf.size, free / pmf.size)
    base = np.floor(share).astype(np.int64)
    left = free - int(base.sum())
    base[np.argsort(-(share - base), kind="stable")[:left]] += 1
    return np.append(base + 1, esc)


class IntegerTables:
    """``T`` integer models with finite supports and an escape path (see module notes).

    Parameters
    ----------
    lower : array of int, shape (T,)
        Lowest value ``lo_t`` of each support.
    pmfs : sequence of T 1-D float arrays
        ``pmfs[t][i] = P(v = lo_t + i)`` (finite, >= 0).
    escape : array of float, shape (T,)
        Tail mass outside each support. It is raised to at least :data:`ESCAPE_FLOOR`
        (and the pmf scaled by ``(1 - e_t) / sum pmf_t``) so that escapes stay codable and
        every table sums to one exactly.

    Raises
    ------
    ValueError
        If a table is not a distribution: ``|sum pmf_t + e_t - 1| > 1e-6``, negative or
        non-finite entries.
    """

    def __init__(self, lower: ArrayLike, pmfs: Sequence[ArrayLike], escape: ArrayLike) -> None:
        lo = np.asarray(lower, dtype=np.int64)
        esc = np.asarray(escape, dtype=np.float64)
        if lo.ndim != 1 or esc.shape != lo.shape or len(pmfs) != lo.size or lo.size == 0:
            raise ValueError(
                f"`lower`, `pmfs` and `escape` must describe the same T >= 1 tables; got "
                f"{lo.shape}, {len(pmfs)}, {esc.shape}."
            )
        tables = [np.asarray(p, dtype=np.float64) for p in pmfs]
        for t, p in enumerate(tables):
            total = p.sum() + esc[t]
            if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or p.min() < 0:
                raise ValueError(f"`pmfs[{t}]` must be a non-empty 1-D array of probabilities.")
            if not (np.isfinite(esc[t]) and esc[t] >= 0 and abs(total - 1.0) <= 1e-6):
                raise ValueError(
                    f"table {t} must sum to one with its escape mass; got {total!r} "
                    f"(escape {esc[t]!r})."
                )
        esc = np.maximum(esc, ESCAPE_FLOOR)
        self.pmfs = tuple(p * ((1.0 - e) / p.sum()) for p, e in zip(tables, esc, strict=True))
        self.escape = esc
        self._set_counts(lo, [quantize_counts(p, e) for p, e in zip(self.pmfs, esc, strict=True)])

    def _set_counts(self, lower: NDArray[np.int64], counts: Sequence[NDArray[np.int64]]) -> None:
        self.lower = lower
        self.counts = tuple(np.asarray(c, dtype=np.int64) for c in counts)
        self.widths = np.array([c.size - 1 for c in self.counts], dtype=np.int64)
        self.coder_tables = CategoricalTables.from_counts(self.counts)
        self._coding_pmfs = tuple(c[:-1] / _TOTAL for c in self.counts)
        self._coding_escape = np.array([c[-1] / _TOTAL for c in self.counts])

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> IntegerTables:
        """Tables from :meth:`state` (exact: no float computation on the way)."""
        out = cls.__new__(cls)
        lower = np.asarray(state["lower"], dtype=np.int64)
        counts = [np.asarray(c, dtype=np.int64) for c in state["counts"]]
        if lower.shape != (len(counts),) or any(c.size < 2 for c in counts):
            raise ValueError(
                f"`state` must hold one `lower` per table and tables of >= 2 counts; got "
                f"{lower.shape} and {len(counts)} tables."
            )
        out._set_counts(lower, counts)  # checks every table's counts
        out.pmfs, out.escape = out._coding_pmfs, out._coding_escape
        return out

    def state(self) -> dict[str, Any]:
        """The integer tables: ``lower`` (T,) and ``counts`` (T arrays, escape last)."""
        return {"lower": self.lower.copy(), "counts": [c.copy() for c in self.counts]}

    def digest(self) -> str:
        """SHA-256 (hex) of the integer tables: equal digests code identically."""
        h = hashlib.sha256(self.lower.astype("<i8").tobytes())
        for c in self.counts:
            h.update(np.int64(c.size).astype("<i8").tobytes())
            h.update(c.astype("<i8").tobytes())
        return h.hexdigest()

    def __len__(self) -> int:
        return int(self.lower.size)

    def _checked(self, values: ArrayLike, table_index: ArrayLike) -> tuple[NDArray[np.int64], ...]:
        v = np.asarray(values)
        idx = np.asarray(table_index)
        if v.shape != idx.shape or v.ndim != 1:
            raise ValueError(
                f"`values` and `table_index` must be 1-D of one shape; got {v.shape}, {idx.shape}."
            )
        v, idx = v.astype(np.int64), idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"`table_index` must be in [0, {len(self) - 1}].")
        offset = v - self.lower[idx]
        below, above = offset < 0, offset >= self.widths[idx]
        excess = np.where(below, -offset - 1, offset - self.widths[idx])
        if np.any((below | above) & (excess > MAX_EXCESS)):
            raise ValueError(f"`values` must lie within {MAX_EXCESS} of their table's support.")
        return v, idx, offset, below, above, excess

    def probabilities(self, values: ArrayLike, table_index: ArrayLike) -> NDArray[np.float64]:
        """Coding probability of each value under its table (the integer counts over
        ``2**PRECISION``), escapes included (module notes)."""
        _, idx, offset, below, above, excess = self._checked(values, table_index)
        inside = ~(below | above)
        out = np.empty(offset.shape, dtype=np.float64)
        for t in np.unique(idx[inside]):
            sel = inside & (idx == t)
            out[sel] = self._coding_pmfs[t][offset[sel]]
        esc = ~inside
        gamma = np.floor(np.log2(excess[esc] + 1.0))
        out[esc] = self._coding_escape[idx[esc]] * np.exp2(-(6.0 + gamma))
        return out

    def encode(self, encoder: ChunkEncoder, values: ArrayLike, table_index: ArrayLike) -> None:
        """Record `values` (table ``table_index[i]`` for ``values[i]``) on `encoder`."""
        _, idx, offset, below, above, excess = self._checked(values, table_index)
        escaped = below | above
        symbols = np.where(escaped, self.widths[idx], offset)
        encoder.shared(symbols, self.coder_tables, idx)
        m1 = excess[escaped] + 1
        gamma = np.floor(np.log2(m1.astype(np.float64))).astype(np.int64)
        # Guard against float log2 at exact powers of two.
        gamma += (np.left_shift(1, gamma + 1) <= m1).astype(np.int64)
        gamma -= (np.left_shift(1, gamma) > m1).astype(np.int64)
        rest = m1 - np.left_shift(1, gamma)
        encoder.uniform(above[escaped].astype(np.int64), np.full(m1.size, 2))
        encoder.uniform(gamma, np.full(m1.size, _GAMMA_SIZE))
        low_bits = np.minimum(gamma, _PIECE)
        has_low, has_high = low_bits > 0, gamma > _PIECE
        encoder.uniform(
            rest[has_low] & ((1 << low_bits[has_low]) - 1), np.left_shift(1, low_bits[has_low])
        )
        encoder.uniform(rest[has_high] >> _PIECE, np.left_shift(1, gamma[has_high] - _PIECE))

    def decode(self, decoder: ChunkDecoder, table_index: ArrayLike) -> NDArray[np.int64]:
        """Decode the values of :meth:`encode` (the decoder knows `table_index`)."""
        idx = np.asarray(table_index).astype(np.int64)
        symbols = decoder.shared(self.coder_tables, idx).astype(np.int64)
        values = self.lower[idx] + symbols
        escaped = symbols == self.widths[idx]
        n = int(escaped.sum())
        above = decoder.uniform(np.full(n, 2)).astype(bool)
        gamma = decoder.uniform(np.full(n, _GAMMA_SIZE)).astype(np.int64)
        low_bits = np.minimum(gamma, _PIECE)
        has_low, has_high = low_bits > 0, gamma > _PIECE
        rest = np.zeros(n, dtype=np.int64)
        rest[has_low] = decoder.uniform(np.left_shift(1, low_bits[has_low]))
        rest[has_high] |= (
            decoder.uniform(np.left_shift(1, gamma[has_high] - _PIECE)).astype(np.int64) << _PIECE
        )
        excess = np.left_shift(1, gamma) + rest - 1
        lo, width = self.lower[idx[escaped]], self.widths[idx[escaped]]
        values[escaped] = np.where(above, lo + width + excess, lo - 1 - excess)
        return values
