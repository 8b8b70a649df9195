r"""The one entropy coder of rdpc: ``constriction``'s ANS coder behind a small chunk API.

Every model codes through this module. A *chunk* is one :class:`constriction.stream.stack.
AnsCoder`: the encoder records its operations in decode order (:class:`ChunkEncoder`), then
pushes them in reverse with ``encode_reverse`` so that the decoder (:class:`ChunkDecoder`)
pops them in forward order. Each operation codes an array of categorical symbols with

* one probability table per symbol (``categorical``: an ``(n, K)`` array; for models whose
  table depends on the symbol's context, e.g. the dither or already decoded coordinates),
* a set of fixed tables built once (``shared``: :class:`CategoricalTables` plus a table index
  per symbol; the symbols of each table are coded in one call, which is ~10x faster than
  per-symbol tables), or
* uniform distributions over ``{0, ..., size - 1}`` (``uniform``; escape payloads).

A chunk's size is ``32 x`` its number of ``uint32`` words (:data:`WORD_BITS`); ANS adds at
most about one word per chunk to the information content ``sum -log2 p`` of its symbols [1]_.
:class:`ChunkedStream` holds independently decodable chunks, so a file can be random-accessed
chunk by chunk and the per-chunk overhead stays small for chunks of thousands of items.

Probabilities are C-contiguous float64; constriction quantizes them to 24-bit fixed point
(:data:`PRECISION`) and gives every symbol of a table at least the smallest representable
probability, :math:`2^{-24}`, so every symbol of a table stays codable [1]_. Fixed tables can
instead be given as exact integer frequencies (:meth:`CategoricalTables.from_counts`, summing
to :math:`2^{24}`): then the coder's fixed-point table is those integers on every machine, as
no rounding of a float happens anywhere (the portable path of dataset files).

References
----------
.. [1] R. Bamler, "Understanding entropy coding with asymmetric numeral systems (ANS): a
   statistician's perspective", arXiv:2201.01741, 2022 (the ``constriction`` library).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import constriction
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "WORD_BITS",
    "PRECISION",
    "CategoricalTables",
    "ChunkEncoder",
    "ChunkDecoder",
    "ChunkedStream",
    "chunk_slices",
    "encode_chunks",
    "decode_chunks",
    "code_with_constriction",
]

WORD_BITS = 32
"""Bits per compressed word (constriction's ``uint32`` words)."""

PRECISION = 24
"""Bits of constriction's fixed-point probabilities: a coded symbol's probability is an
integer multiple of :math:`2^{-24}`."""

_MAX_UNIFORM = 2**24  # constriction's largest uniform alphabet


def _probability_array(probabilities: ArrayLike, name: str, ndim: int) -> NDArray[np.float64]:
    p = np.ascontiguousarray(probabilities, dtype=np.float64)
    if p.ndim != ndim or p.shape[-1] < 1:
        raise ValueError(
            f"`{name}` must be a {ndim}-D array of probabilities; got shape {p.shape}."
        )
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ValueError(f"`{name}` must be finite and >= 0; got min {p.min()!r}.")
    if np.any(p.sum(-1) <= 0):
        raise ValueError(f"`{name}`: every table must have a positive total.")
    return p


def _symbol_array(symbols: ArrayLike, name: str) -> NDArray[np.int32]:
    s = np.asarray(symbols)
    if s.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D integer array; got shape {s.shape}.")
    if s.size and not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"`{name}` must hold integers; got dtype {s.dtype}.")
    return np.ascontiguousarray(s, dtype=np.int32)


class CategoricalTables:
    """Fixed categorical models, built once and reused for every chunk.

    Parameters
    ----------
    tables : sequence of 1-D arrays
        ``tables[t][k]`` is the probability of symbol ``k`` under table ``t`` (finite, >= 0,
        positive total; constriction normalizes each table exactly).

    Examples
    --------
    >>> tables = CategoricalTables([np.array([0.5, 0.5]), np.array([0.25, 0.25, 0.5])])
    >>> len(tables), tables.sizes.tolist()
    (2, [2, 3])
    """

    def __init__(self, tables: Sequence[ArrayLike]) -> None:
        if len(tables) == 0:
            raise ValueError("`tables` must hold at least one table; got none.")
        self.probabilities = tuple(_probability_array(t, "tables", 1) for t in tables)
        self.sizes = np.array([len(p) for p in self.probabilities], dtype=np.int64)
        family = constriction.stream.model.Categorical
        self.models = [family(p, perfect=False) for p in self.probabilities]

    @classmethod
    def from_counts(cls, counts: Sequence[ArrayLike]) -> CategoricalTables:
        """Tables of exact frequencies: symbol ``k`` of table ``t`` has probability
        ``counts[t][k] / 2**PRECISION``.

        Each table must hold integers >= 1 summing to ``2**PRECISION``. constriction gives
        every symbol one unit and shares the remaining ``2**PRECISION - K`` units in
        proportion to the weights it is given; passing ``counts - 1`` (whose total is exactly
        that remainder, a scale factor of exactly one) makes its fixed-point table equal to
        `counts`, with only exact integer-valued float arithmetic on every platform.
        """
        tables = [np.asarray(c) for c in counts]
        for t, c in enumerate(tables):
            if (
                c.ndim != 1
                or not np.issubdtype(c.dtype, np.integer)
                or c.min(initial=1) < 1
                or int(c.sum()) != 1 << PRECISION
            ):
                raise ValueError(
                    f"`counts[{t}]` must be integers >= 1 summing to 2**{PRECISION}; got "
                    f"{c.dtype} with sum {int(c.sum())}."
                )
        return cls([c.astype(np.float64) - 1.0 for c in tables])

    def __len__(self) -> int:
        return len(self.models)

    def __getstate__(self) -> dict[str, Any]:
        # constriction's models do not pickle; they are rebuilt from the probabilities.
        return {"tables": self.probabilities}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["tables"])  # type: ignore[misc]

    def check(self, symbols: NDArray[np.int32], table_index: NDArray[np.int64]) -> None:
        """``ValueError`` unless ``0 <= symbols[i] < sizes[table_index[i]]``."""
        if table_index.size and (table_index.min() < 0 or table_index.max() >= len(self)):
            raise ValueError(
                f"`table_index` must be in [0, {len(self) - 1}]; "
                f"got {table_index.min()}..{table_index.max()}."
            )
        if symbols.size and (symbols.min() < 0 or np.any(symbols >= self.sizes[table_index])):
            raise ValueError("`symbols` must be in [0, size of their table - 1].")


def _segments(
    table_index: NDArray[np.int64],
) -> tuple[NDArray[np.intp], list[tuple[int, int, int]]]:
    """Stable order grouping equal table indices, and its ``(table, start, stop)`` runs."""
    order = np.argsort(table_index, kind="stable")
    if order.size == 0:
        return order, []
    sorted_index = table_index[order]
    cuts = np.flatnonzero(np.diff(sorted_index)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [len(sorted_index)]])
    return order, [
        (int(sorted_index[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)
    ]


def _index_array(table_index: ArrayLike, n: int) -> NDArray[np.int64]:
    idx = np.asarray(table_index)
    if idx.shape != (n,) or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"`table_index` must be {n} integers; got shape {idx.shape}.")
    return idx.astype(np.int64, copy=False)


def _uniform_sizes(sizes: ArrayLike, n: int) -> NDArray[np.int32]:
    s = np.ascontiguousarray(sizes, dtype=np.int64)
    if s.shape != (n,):
        raise ValueError(f"`sizes` must be {n} integers; got shape {s.shape}.")
    if s.size and (s.min() < 2 or s.max() > _MAX_UNIFORM):
        raise ValueError(f"`sizes` must be in [2, {_MAX_UNIFORM}]; got {s.min()}..{s.max()}.")
    return s.astype(np.int32)


class ChunkEncoder:
    """Encoder of one chunk: record operations in decode order, then :meth:`finish`.

    Examples
    --------
    >>> enc = ChunkEncoder()
    >>> enc.categorical(np.array([0, 2]), np.array([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]))
    >>> enc.uniform(np.array([3]), np.array([4]))
    >>> words = enc.finish()
    >>> dec = ChunkDecoder(words)
    >>> dec.categorical(np.array([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]])).tolist()
    [0, 2]
    >>> dec.uniform(np.array([4])).tolist()
    [3]
    >>> dec.finish()
    """

    def __init__(self) -> None:
        self._ops: list[Callable[[Any], None]] = []

    def categorical(self, symbols: ArrayLike, probabilities: ArrayLike) -> None:
        """Code ``symbols[i]`` with its own table ``probabilities[i]`` (shape ``(n, K)``)."""
        s = _symbol_array(symbols, "symbols")
        p = _probability_array(probabilities, "probabilities", 2)
        if p.shape[0] != s.size:
            raise ValueError(
                f"`probabilities` must have one row per symbol ({s.size}); got {p.shape[0]}."
            )
        if s.size and (s.min() < 0 or s.max() >= p.shape[1]):
            raise ValueError(
                f"`symbols` must be in [0, {p.shape[1] - 1}]; got {s.min()}..{s.max()}."
            )
        family = constriction.stream.model.Categorical(perfect=False)
        self._ops.append(lambda coder: coder.encode_reverse(s, family, p) if s.size else None)

    def shared(self, symbols: ArrayLike, tables: CategoricalTables, table_index: ArrayLike) -> None:
        """Code ``symbols[i]`` with the fixed table ``tables.models[table_index[i]]``.

        The decoder must know `table_index` (e.g. the channel, or a scale index computed from
        data it has already decoded); symbols are coded table by table in a stable order.
        """
        s = _symbol_array(symbols, "symbols")
        idx = _index_array(table_index, s.size)
        tables.check(s, idx)
        order, runs = _segments(idx)
        ordered = np.ascontiguousarray(s[order])

        def push(coder: Any) -> None:
            for t, a, b in reversed(runs):
                coder.encode_reverse(ordered[a:b], tables.models[t])

        self._ops.append(push)

    def uniform(self, values: ArrayLike, sizes: ArrayLike) -> None:
        """Code ``values[i]`` uniformly in ``{0, ..., sizes[i] - 1}`` (``log2 size`` bits each
        for a power-of-two size)."""
        v = _symbol_array(values, "values")
        n = _uniform_sizes(sizes, v.size)
        if v.size and (v.min() < 0 or np.any(v >= n)):
            raise ValueError("`values` must be in [0, sizes - 1].")
        family = constriction.stream.model.Uniform()
        self._ops.append(lambda coder: coder.encode_reverse(v, family, n) if v.size else None)

    def finish(self) -> NDArray[np.uint32]:
        """The chunk's compressed words (``uint32``; its size in bits is ``32 * len``)."""
        coder = constriction.stream.stack.AnsCoder()
        for op in reversed(self._ops):
            op(coder)
        self._ops = []
        return np.asarray(coder.get_compressed(), dtype=np.uint32)


class ChunkDecoder:
    """Decoder of one chunk: the operations of its :class:`ChunkEncoder`, in the same order."""

    def __init__(self, words: ArrayLike) -> None:
        w = np.ascontiguousarray(words, dtype=np.uint32)
        if w.ndim != 1:
            raise ValueError(f"`words` must be a 1-D uint32 array; got shape {w.shape}.")
        self._coder = constriction.stream.stack.AnsCoder(w)

    def categorical(self, probabilities: ArrayLike) -> NDArray[np.int32]:
        """Decode one symbol per row of `probabilities` (see :meth:`ChunkEncoder.categorical`)."""
        p = _probability_array(probabilities, "probabilities", 2)
        if p.shape[0] == 0:
            return np.zeros(0, dtype=np.int32)
        family = constriction.stream.model.Categorical(perfect=False)
        return np.asarray(self._coder.decode(family, p), dtype=np.int32)

    def shared(self, tables: CategoricalTables, table_index: ArrayLike) -> NDArray[np.int32]:
        """Decode one symbol per entry of `table_index` (see :meth:`ChunkEncoder.shared`)."""
        idx = np.asarray(table_index)
        idx = _index_array(idx, idx.size)
        if idx.size and (idx.min() < 0 or idx.max() >= len(tables)):
            raise ValueError(f"`table_index` must be in [0, {len(tables) - 1}].")
        order, runs = _segments(idx)
        out = np.empty(idx.size, dtype=np.int32)
        for t, a, b in runs:
            out[order[a:b]] = self._coder.decode(tables.models[t], b - a)
        return out

    def uniform(self, sizes: ArrayLike) -> NDArray[np.int32]:
        """Decode one value per entry of `sizes` (see :meth:`ChunkEncoder.uniform`)."""
        n = np.asarray(sizes)
        n = _uniform_sizes(n, n.size)
        if n.size == 0:
            return np.zeros(0, dtype=np.int32)
        family = constriction.stream.model.Uniform()
        return np.asarray(self._coder.decode(family, n), dtype=np.int32)

    def finish(self) -> None:
        """``ValueError`` unless every word was consumed (a wrong model or a corrupt chunk)."""
        if not self._coder.is_empty():
            raise ValueError(
                "compressed chunk has data left after decoding: wrong model or corrupt stream."
            )


def chunk_slices(items: int, chunk_items: int) -> list[slice]:
    """Consecutive slices of at most `chunk_items` items covering ``range(items)``.

    >>> chunk_slices(5, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    if isinstance(chunk_items, bool) or not isinstance(chunk_items, int) or chunk_items < 1:
        raise ValueError(f"`chunk_items` must be an integer >= 1; got {chunk_items!r}.")
    return [slice(a, min(a + chunk_items, items)) for a in range(0, items, chunk_items)]


def encode_chunks(
    encode: Callable[[ChunkEncoder, NDArray[np.int64]], None],
    symbols: NDArray[np.int64],
    chunk_items: int,
) -> ChunkedStream:
    """Code the rows of `symbols` in independent chunks of `chunk_items` rows, each with
    ``encode(encoder, rows)`` (a model's ``encode_symbols``)."""
    parts = chunk_slices(len(symbols), chunk_items)
    chunks = []
    for part in parts:
        enc = ChunkEncoder()
        encode(enc, symbols[part])
        chunks.append(enc.finish())
    return ChunkedStream(tuple(chunks), tuple(p.stop - p.start for p in parts))


def decode_chunks(
    decode: Callable[[ChunkDecoder, int], NDArray[np.int64]], stream: ChunkedStream, width: int
) -> NDArray[np.int64]:
    """Inverse of :func:`encode_chunks` (``decode(decoder, items)``, rows of `width`
    symbols); ``ValueError`` if a chunk has words left over."""
    parts = []
    for words, items in zip(stream.chunks, stream.items, strict=True):
        dec = ChunkDecoder(words)
        parts.append(decode(dec, items))
        dec.finish()
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<II")


@dataclass(frozen=True)
class ChunkedStream:
    """Independently decodable chunks of one message.

    Attributes
    ----------
    chunks : tuple of numpy.ndarray (uint32)
        The compressed words of each chunk.
    items : tuple of int
        Items coded in each chunk.

    Notes
    -----
    :meth:`to_bytes` writes ``uint32 n_chunks``, then ``(items, words)`` per chunk (an index,
    8 bytes per chunk, enough to seek to any chunk), then all words, little-endian.
    """

    chunks: tuple[NDArray[np.uint32], ...]
    items: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.chunks) != len(self.items):
            raise ValueError(
                f"`items` must have one count per chunk ({len(self.chunks)}); "
                f"got {len(self.items)}."
            )

    @property
    def n_items(self) -> int:
        """Items in the whole stream."""
        return int(sum(self.items))

    @property
    def payload_bits(self) -> int:
        """Size of the compressed words in bits, ``32 x words`` (no index)."""
        return WORD_BITS * int(sum(c.size for c in self.chunks))

    def select(self, indices: Sequence[int]) -> ChunkedStream:
        """The sub-stream of the chunks `indices` (each decodes on its own)."""
        return ChunkedStream(
            tuple(self.chunks[i] for i in indices), tuple(self.items[i] for i in indices)
        )

    def to_bytes(self) -> bytes:
        """Serialized index and words (see Notes)."""
        parts = [_HEADER.pack(len(self.chunks))]
        parts += [_ENTRY.pack(n, c.size) for n, c in zip(self.items, self.chunks, strict=True)]
        parts += [c.astype("<u4").tobytes() for c in self.chunks]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> ChunkedStream:
        """Inverse of :meth:`to_bytes`; ``ValueError`` naming what is missing if truncated."""
        if len(data) < _HEADER.size:
            raise ValueError(f"`data` is truncated: {len(data)} bytes, no chunk count.")
        (n,) = _HEADER.unpack_from(data, 0)
        index_end = _HEADER.size + n * _ENTRY.size
        if len(data) < index_end:
            raise ValueError(
                f"`data` is truncated: the index of {n} chunks needs {index_end} bytes; "
                f"got {len(data)}."
            )
        entries = [_ENTRY.unpack_from(data, _HEADER.size + i * _ENTRY.size) for i in range(n)]
        total = index_end + 4 * sum(w for _, w in entries)
        if len(data) != total:
            raise ValueError(
                f"`data` must be {total} bytes for its {n} chunks; got {len(data)} (truncated "
                "or trailing bytes)."
            )
        chunks, offset = [], index_end
        for _, w in entries:
            chunks.append(
                np.frombuffer(data, dtype="<u4", count=w, offset=offset).astype(np.uint32)
            )
            offset += 4 * w
        return cls(tuple(chunks), tuple(items for items, _ in entries))


def code_with_constriction(
    probabilities: NDArray[np.float64], symbols: NDArray[np.integer]
) -> tuple[int, NDArray[np.uint32]]:
    """Entropy-code `symbols` with one categorical table per symbol, in one chunk.

    Parameters
    ----------
    probabilities : numpy.ndarray, shape ``symbols.shape + (K,)``
        The table of each symbol (rows need not be exactly normalized).
    symbols : numpy.ndarray of int
        Symbols in ``{0, ..., K - 1}``, coded in C order.

    Returns
    -------
    bits : int
        Stream size in bits (``32 x`` words).
    stream : numpy.ndarray of uint32
        The stream. Decoding it with the same tables is checked here (a ``RuntimeError`` if it
        does not give `symbols` back, which would be a bug).
    """
    probs = np.ascontiguousarray(probabilities.reshape(-1, probabilities.shape[-1]))
    flat = np.ascontiguousarray(np.asarray(symbols).reshape(-1).astype(np.int32))
    enc = ChunkEncoder()
    enc.categorical(flat, probs)
    stream = enc.finish()
    dec = ChunkDecoder(stream)
    if not np.array_equal(dec.categorical(probs), flat):
        raise RuntimeError("constriction stream did not decode to the transmitted symbols")
    return WORD_BITS * int(stream.size), stream
