"""Compressed dataset files: one file per dataset split, chunks decodable on their own.

Layout (little-endian)::

    magic       8 bytes   b"RDPCDATA"
    version     uint16    FORMAT_VERSION
    header_len  uint32
    header      header_len bytes of UTF-8 JSON (see below)
    header_crc  uint32    CRC-32 of the header bytes
    stream      ChunkedStream.to_bytes(): uint32 n_chunks, (items, words) per chunk, words
    labels      items bytes (uint8 class labels), present if header["labels"]

The JSON header holds the model's run identity (``kind``, ``run_hash``: its run directory's
identity hash, ``model_fingerprint``: SHA-256 of its weights), the ``dither_seed`` (``None``
for the deterministic rounding quantizer), the counts (``items``, ``channels``,
``n_chunks``), ``chunk_items``, the data description (``data``, ``split``) and one CRC-32 per
chunk, so a corrupt chunk is found before it is decoded (an ANS decoder would otherwise turn
it into plausible garbage). Overhead per file: ~300 bytes of header plus 12 bytes per chunk.

Every problem reading a file (wrong magic, unknown version, truncation, checksum mismatch,
another model's file) is one :class:`~rdpc_common.errors.FileProblem` naming the file, what
was expected and where it failed.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rdpc_common.atomic import atomic_write
from rdpc_common.errors import FileProblem

from .entropy import ChunkedStream

__all__ = ["MAGIC", "FORMAT_VERSION", "DataFile", "write_data_file", "read_data_file"]

MAGIC = b"RDPCDATA"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sHI")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class DataFile:
    """A compressed dataset split: header facts, the coded stream and the labels."""

    header: dict[str, Any]
    stream: ChunkedStream
    labels: NDArray[np.uint8] | None
    size_bytes: int
    label_bytes: int

    @property
    def bits_per_item(self) -> float:
        """File size without the labels section, in bits per item."""
        items = int(self.header["items"])
        return 8 * (self.size_bytes - self.label_bytes) / max(items, 1)


def write_data_file(
    path: str | os.PathLike[str],
    header: dict[str, Any],
    stream: ChunkedStream,
    labels: NDArray[np.integer] | None = None,
) -> Path:
    """Write a dataset file atomically (layout in the module docstring); returns its path."""
    head = dict(header)
    head["items"] = stream.n_items
    head["n_chunks"] = len(stream.chunks)
    head["chunk_crc32"] = [zlib.crc32(c.astype("<u4").tobytes()) for c in stream.chunks]
    head["labels"] = labels is not None
    raw = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
    parts = [_PREFIX.pack(MAGIC, FORMAT_VERSION, len(raw)), raw, _U32.pack(zlib.crc32(raw))]
    parts.append(stream.to_bytes())
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != (stream.n_items,) or lab.min(initial=0) < 0 or lab.max(initial=0) > 255:
            raise ValueError(
                f"`labels` must be {stream.n_items} integers in [0, 255]; got shape {lab.shape}."
            )
        parts.append(lab.astype(np.uint8).tobytes())
    data = b"".join(parts)

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    return atomic_write(path, write)


def read_data_file(path: str | os.PathLike[str], expect: dict[str, Any] | None = None) -> DataFile:
    """Read and verify a dataset file.

    Parameters
    ----------
    path : path
        The file.
    expect : dict, optional
        Header entries that must match (e.g. the decoding model's ``run_hash`` and
        ``model_fingerprint``).

    Raises
    ------
    FileProblem
        Naming the file, what was expected and where it failed.
    """
    p = Path(path)
    if p.is_dir():
        raise FileProblem(f"{p} is a folder; expected an rdpc dataset file.")
    data = p.read_bytes()
    if len(data) >= len(MAGIC) and data[:8] == MAGIC and len(data) < _PREFIX.size:
        raise FileProblem(
            f"{p} is truncated in its header: expected {_PREFIX.size} bytes at least; got "
            f"{len(data)}."
        )
    if data[:8] != MAGIC:
        raise FileProblem(
            f"{p} is not an rdpc dataset file: expected the magic {MAGIC!r} at byte 0; got "
            f"{data[:8]!r}."
        )
    _, version, header_len = _PREFIX.unpack_from(data, 0)
    if version != FORMAT_VERSION:
        raise FileProblem(
            f"{p} has format version {version}; this rdpc reads version {FORMAT_VERSION} "
            "(re-create the file with this version's `rdpc compress`)."
        )
    start = _PREFIX.size
    end = start + header_len
    if len(data) < end + _U32.size:
        raise FileProblem(
            f"{p} is truncated in its header: expected {end + _U32.size} bytes at least; got "
            f"{len(data)}."
        )
    raw = data[start:end]
    (crc,) = _U32.unpack_from(data, end)
    if zlib.crc32(raw) != crc:
        raise FileProblem(f"{p}: header checksum mismatch (bytes {start}-{end}): corrupt file.")
    header = json.loads(raw)
    for key, value in (expect or {}).items():
        if header.get(key) != value:
            raise FileProblem(
                f"{p} was written by another model: expected {key} {value!r}; the file has "
                f"{header.get(key)!r}. Decompress it with the run that wrote it."
            )
    body = end + _U32.size
    label_bytes = header["items"] if header.get("labels") else 0
    stream_end = len(data) - label_bytes
    try:
        stream = ChunkedStream.from_bytes(data[body:stream_end])
    except ValueError as exc:
        raise FileProblem(f"{p}: the coded stream (from byte {body}) is damaged: {exc}") from exc
    if len(stream.chunks) != header["n_chunks"] or stream.n_items != header["items"]:
        raise FileProblem(
            f"{p}: the stream holds {len(stream.chunks)} chunks / {stream.n_items} items; the "
            f"header says {header['n_chunks']} / {header['items']} (truncated or corrupt)."
        )
    for i, (chunk, expected) in enumerate(zip(stream.chunks, header["chunk_crc32"], strict=True)):
        if zlib.crc32(chunk.astype("<u4").tobytes()) != expected:
            raise FileProblem(
                f"{p}: chunk {i} of {len(stream.chunks)} fails its checksum: corrupt."
            )
    labels = None
    if label_bytes:
        labels = np.frombuffer(data, dtype=np.uint8, offset=stream_end).copy()
    return DataFile(header, stream, labels, len(data), label_bytes)
