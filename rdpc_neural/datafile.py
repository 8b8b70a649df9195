"""Compressed dataset files: one file per dataset split, chunks decodable on their own.

Layout, format version 2 (integers little-endian; ``varint``: unsigned LEB128, 7 bits per
byte, low bits first)::

    magic        4 bytes   b"RDPC"
    version      1 byte    FORMAT_VERSION
    model_id     8 bytes   first 8 bytes of the SHA-256 of the coding run's identity (kind,
                           run hash, weights fingerprint, integer coding tables)
    dither       varint    dither seed + 1 (0: deterministic rounding, no dither)
    items        varint    coded items
    width        varint    symbols per item
    chunk_items  varint    items per chunk (the last chunk may hold fewer)
    words        varint    per chunk: its 32-bit words (n_chunks = ceil(items / chunk_items))
    label_bytes  varint    size of the labels section (0: no labels)
    symbol_crc   uint32    per chunk: CRC-32 of its decoded symbols (int64, item-major)
    header_crc   uint32    CRC-32 of every byte above
    chunks       4 x words bytes per chunk: independent ANS streams
    labels       label_bytes: varint K, K varint class counts, varint words, uint32 CRC-32
                 of the labels (uint8), then the words: one ANS stream of the labels under
                 their empirical class frequencies

The header costs ``~25 + 7 n_chunks`` bytes; the labels section is reported on its own
(:attr:`DataFile.label_bytes`) and left out of :attr:`DataFile.bits_per_item`.

Portability: a decoder needs bit-identical coding tables and symbol contexts. The coding
tables are integer frequencies stored in the run's checkpoint
(:mod:`~rdpc_neural.entropy.tables`; no float function is evaluated to decode), and their
digest is part of ``model_id``, so a decoder whose tables differ refuses the file as another
model's. A context computed by a float network (a hyperprior's scales) can still differ on
another CPU: the per-chunk checksum of the decoded symbols turns that, like a corrupt chunk,
into an error naming the chunk, never into silent garbage.

Every problem reading a file (wrong magic, another format version, truncation, checksum
mismatch, another model's file) is one :class:`~rdpc_common.errors.FileProblem` naming the
file, what was expected and the byte offset where it failed.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rdpc_common.atomic import atomic_write
from rdpc_common.errors import FileProblem

from .entropy import CategoricalTables, ChunkDecoder, ChunkEncoder

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "MODEL_ID_BYTES",
    "DataFile",
    "write_data_file",
    "read_data_file",
    "symbols_crc",
]

MAGIC = b"RDPC"
FORMAT_VERSION = 2
MODEL_ID_BYTES = 8
_LEGACY_MAGIC = b"RDPCDATA"  # format version 1: 8-byte magic, uint16 version, JSON header
_U32 = struct.Struct("<I")


def symbols_crc(symbols: NDArray[np.integer]) -> int:
    """CRC-32 of integer symbols as int64 little-endian, item-major."""
    return zlib.crc32(np.ascontiguousarray(symbols, dtype="<i8").tobytes())


# The stdlib has no varint codec and the format needs only unsigned LEB128: written here.
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class _Reader:
    """Sequential reads that name the file and offset when the bytes run out."""

    def __init__(self, path: Path, data: bytes, offset: int) -> None:
        self.path, self.data, self.offset = path, data, offset

    def take(self, n: int, what: str) -> bytes:
        if self.offset + n > len(self.data):
            raise FileProblem(
                f"{self.path} is truncated in its header: expected {what} at byte "
                f"{self.offset}; the file ends at byte {len(self.data)}."
            )
        out = self.data[self.offset : self.offset + n]
        self.offset += n
        return out

    def varint(self, what: str) -> int:
        value, shift = 0, 0
        while True:
            (byte,) = self.take(1, what)
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise FileProblem(f"{self.path}: {what} at byte {self.offset} is not a varint.")

    def u32(self, what: str) -> int:
        (value,) = _U32.unpack(self.take(4, what))
        return int(value)


@dataclass(frozen=True)
class DataFile:
    """A compressed dataset split: header facts, the coded chunks and the labels."""

    path: Path
    model_id: bytes
    dither_seed: int | None
    items: int
    width: int
    chunk_items: int
    chunks: tuple[NDArray[np.uint32], ...]
    chunk_offsets: tuple[int, ...]
    symbol_crcs: tuple[int, ...]
    labels: NDArray[np.uint8] | None
    size_bytes: int
    header_bytes: int
    label_bytes: int

    @property
    def chunk_sizes(self) -> tuple[int, ...]:
        """Items in each chunk."""
        n = self.chunk_items
        return tuple(min(n, self.items - a) for a in range(0, self.items, n))

    @property
    def bits_per_item(self) -> float:
        """File size without the labels section (header + chunks), in bits per item."""
        return 8 * (self.size_bytes - self.label_bytes) / max(self.items, 1)

    def check_chunk(self, index: int, symbols: NDArray[np.integer]) -> None:
        """``FileProblem`` unless `symbols` are what the encoder coded in chunk `index`."""
        if symbols_crc(symbols) != self.symbol_crcs[index]:
            start = self.chunk_offsets[index]
            end = start + 4 * self.chunks[index].size
            raise FileProblem(
                f"{self.path}: chunk {index} of {len(self.chunks)} (bytes {start}-{end}) does "
                "not decode to the encoder's symbols (their checksum differs): the chunk is "
                "corrupt, or this machine computes other coding contexts than the encoder's."
            )


def _label_section(labels: NDArray[np.integer], items: int) -> bytes:
    lab = np.asarray(labels)
    if (
        lab.shape != (items,)
        or (lab.size and not np.issubdtype(lab.dtype, np.integer))
        or lab.min(initial=0) < 0
        or lab.max(initial=0) > 255
    ):
        raise ValueError(f"`labels` must be {items} integers in [0, 255]; got shape {lab.shape}.")
    lab = lab.astype(np.int64)
    counts = np.bincount(lab, minlength=1)
    enc = ChunkEncoder()
    if items:
        enc.shared(lab, CategoricalTables([counts.astype(np.float64)]), np.zeros(items, np.int64))
    words = enc.finish()
    crc = zlib.crc32(lab.astype(np.uint8).tobytes())
    head = _varint(len(counts)) + b"".join(_varint(int(c)) for c in counts)
    return head + _varint(words.size) + _U32.pack(crc) + words.astype("<u4").tobytes()


def _read_labels(r: _Reader, items: int, end: int) -> NDArray[np.uint8]:
    start = r.offset
    classes = r.varint("the number of label classes")
    counts = np.array([r.varint("a label count") for _ in range(classes)], dtype=np.int64)
    n_words = r.varint("the label stream size")
    crc = r.u32("the label checksum")
    if int(counts.sum()) != items or r.offset + 4 * n_words != end or classes > 256:
        raise FileProblem(
            f"{r.path}: the labels section (bytes {start}-{end}) is inconsistent: "
            f"{int(counts.sum())} counted labels for {items} items, {n_words} words in "
            f"{end - r.offset} bytes (corrupt file)."
        )
    words = np.frombuffer(r.data, dtype="<u4", count=n_words, offset=r.offset).astype(np.uint32)
    try:
        dec = ChunkDecoder(words)
        if items:
            tables = CategoricalTables([counts.astype(np.float64)])
            labels = dec.shared(tables, np.zeros(items, np.int64)).astype(np.uint8)
        else:
            labels = np.zeros(0, np.uint8)
        dec.finish()
    except (ValueError, RuntimeError) as exc:
        raise FileProblem(
            f"{r.path}: the labels (bytes {start}-{end}) do not decode: {exc}"
        ) from exc
    if zlib.crc32(labels.tobytes()) != crc:
        raise FileProblem(
            f"{r.path}: the labels (bytes {start}-{end}) fail their checksum: corrupt file."
        )
    return labels


def write_data_file(
    path: str | os.PathLike[str],
    *,
    model_id: bytes,
    dither_seed: int | None,
    width: int,
    chunk_items: int,
    chunks: list[NDArray[np.uint32]],
    symbol_crcs: list[int],
    items: int,
    labels: NDArray[np.integer] | None = None,
) -> Path:
    """Write a dataset file atomically (layout in the module docstring); returns its path."""
    if len(model_id) != MODEL_ID_BYTES:
        raise ValueError(f"`model_id` must be {MODEL_ID_BYTES} bytes; got {len(model_id)}.")
    expected = -(-items // chunk_items)
    if len(chunks) != expected or len(symbol_crcs) != expected:
        raise ValueError(
            f"`chunks` and `symbol_crcs` must hold {expected} chunks for {items} items of "
            f"{chunk_items}; got {len(chunks)} and {len(symbol_crcs)}."
        )
    label_part = b"" if labels is None else _label_section(labels, items)
    seed = 0 if dither_seed is None else dither_seed + 1
    head = [MAGIC, bytes([FORMAT_VERSION]), model_id, _varint(seed), _varint(items),
            _varint(width), _varint(chunk_items)]  # fmt: skip
    head += [_varint(c.size) for c in chunks] + [_varint(len(label_part))]
    head += [_U32.pack(c) for c in symbol_crcs]
    header = b"".join(head)
    data = b"".join(
        [header, _U32.pack(zlib.crc32(header))]
        + [c.astype("<u4").tobytes() for c in chunks]
        + [label_part]
    )

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    return atomic_write(path, write)


def read_data_file(
    path: str | os.PathLike[str],
    *,
    model_id: bytes | None = None,
    dither_seed: int | None = None,
    model: str = "",
) -> DataFile:
    """Read and verify a dataset file.

    Parameters
    ----------
    path : path
        The file.
    model_id : bytes, optional
        The decoding model's id (``None``: not checked); `dither_seed` is then checked too.
    model : str
        How the decoding model is named in errors (e.g. its run directory).

    Raises
    ------
    FileProblem
        Naming the file, what was expected and the byte offset where it failed.
    """
    p = Path(path)
    if p.is_dir():
        raise FileProblem(f"{p} is a folder; expected an rdpc dataset file.")
    data = p.read_bytes()
    if data[:8] == _LEGACY_MAGIC and len(data) >= 10:
        (old,) = struct.unpack_from("<H", data, 8)
        raise FileProblem(
            f"{p} has format version {old}; this rdpc reads version {FORMAT_VERSION} "
            "(re-create the file with this version's `rdpc compress`)."
        )
    if data[:4] != MAGIC:
        raise FileProblem(
            f"{p} is not an rdpc dataset file: expected the magic {MAGIC!r} at byte 0; got "
            f"{data[:4]!r}."
        )
    r = _Reader(p, data, len(MAGIC))
    (version,) = r.take(1, "the format version")
    if version != FORMAT_VERSION:
        raise FileProblem(
            f"{p} has format version {version} (byte 4); this rdpc reads version "
            f"{FORMAT_VERSION} (re-create the file with this version's `rdpc compress`)."
        )
    file_id = r.take(MODEL_ID_BYTES, "the model id")
    seed = r.varint("the dither seed")
    items = r.varint("the item count")
    width = r.varint("the symbols per item")
    chunk_items = r.varint("the chunk size")
    if chunk_items < 1:
        raise FileProblem(f"{p}: the chunk size (header, byte {r.offset}) is 0: corrupt header.")
    n_chunks = -(-items // chunk_items)
    if 4 * n_chunks > len(data):  # a corrupt count must not allocate a huge index
        raise FileProblem(f"{p}: the header's {n_chunks} chunks cannot fit in the file: corrupt.")
    words = [r.varint(f"the size of chunk {i}") for i in range(n_chunks)]
    label_bytes = r.varint("the labels section size")
    crcs = tuple(r.u32(f"the checksum of chunk {i}") for i in range(n_chunks))
    header_end = r.offset
    if zlib.crc32(data[:header_end]) != r.u32("the header checksum"):
        raise FileProblem(f"{p}: header checksum mismatch (bytes 0-{header_end}): corrupt file.")
    dither = None if seed == 0 else seed - 1
    if model_id is not None and file_id != model_id:
        raise FileProblem(
            f"{p} was written by another model: expected model id {model_id.hex()} ({model}); "
            f"the file has {file_id.hex()} (bytes 5-13). Decompress it with the run that "
            "wrote it."
        )
    if model_id is not None and dither != dither_seed:
        raise FileProblem(
            f"{p}: expected dither seed {dither_seed} ({model}); the file has {dither}."
        )
    body = r.offset
    expected_size = body + 4 * sum(words) + label_bytes
    if len(data) != expected_size:
        raise FileProblem(
            f"{p} is {'truncated' if len(data) < expected_size else 'longer than its header says'}"
            f": expected {expected_size} bytes ({n_chunks} chunks from byte {body}, then "
            f"{label_bytes} bytes of labels); got {len(data)}."
        )
    chunks, offsets, offset = [], [], body
    for w in words:
        offsets.append(offset)
        chunks.append(np.frombuffer(data, dtype="<u4", count=w, offset=offset).astype(np.uint32))
        offset += 4 * w
    labels = None
    if label_bytes:
        labels = _read_labels(_Reader(p, data, offset), items, len(data))
    return DataFile(p, file_id, dither, items, width, chunk_items, tuple(chunks), tuple(offsets),
                    crcs, labels, len(data), body, label_bytes)  # fmt: skip
