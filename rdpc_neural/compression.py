"""Compress a dataset split with a trained run into one file, decompress it, time both.

:func:`open_codec` gives the codec of a finished run directory (``invariant`` and
``features`` runs here,
``image`` runs in :mod:`~rdpc_neural.image_coding`);
:func:`compress_split` writes a :mod:`~rdpc_neural.datafile` file, :func:`decompress_file`
reads one back into the representations (the integer codes, as float32) or the
reconstructions. The file is checked against the run that decodes it (run identity hash and a
fingerprint of the weights), so another model's file is refused with a clear error instead of
decoding into garbage.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rdpc_common.errors import FileProblem

from .core.seeding import numpy_rng
from .datafile import DataFile, read_data_file, write_data_file
from .entropy import ChunkDecoder, ChunkedStream, ChunkEncoder, chunk_slices
from .entropy.likelihood import parameter_fingerprint

__all__ = ["RunCodec", "open_codec", "load_split", "compress_split", "decompress_file"]

_TAG_DATA = 0xDA7A
_SPLITS = ("train", "test")


@dataclass
class RunCodec:
    """The coding side of a trained ``invariant`` or ``features`` run: encoder to integer
    codes (rounding, no dither), its factorized prior's tables, and the decoder."""

    run_dir: Path
    kind: str
    config: Any
    model: Any
    dither_seed: int | None = None  # deterministic rounding: no dither
    data_dir: str | os.PathLike[str] | None = None  # image data of ``features`` runs

    @property
    def identity(self) -> dict[str, Any]:
        """Header entries a file must match to be decoded by this run."""
        return {
            "kind": self.kind,
            "run_hash": self.run_dir.name,
            "model_fingerprint": parameter_fingerprint(self.model)[:16],
        }

    @torch.no_grad()
    def symbols(self, x: NDArray[Any]) -> NDArray[np.int64]:
        """Integer codes ``(items, channels)`` of inputs `x`."""
        y = self.model.encode(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        out: NDArray[np.int64] = self.model.prior.symbols(y)
        return out

    def encode_chunk(self, encoder: ChunkEncoder, symbols: NDArray[np.int64]) -> None:
        """Record one chunk's codes on `encoder`."""
        self.model.prior.encode_symbols(encoder, symbols)

    def decode_chunk(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]:
        """Inverse of :meth:`encode_chunk`."""
        out: NDArray[np.int64] = self.model.prior.decode_symbols(decoder, items)
        return out

    def coding_bits(self, symbols: NDArray[np.int64]) -> float:
        """The coding model's information content of all `symbols`, in bits."""
        return float(-np.log2(self.model.prior.coding_likelihoods(symbols)).sum())

    def representation(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """The decoded representation: the codes as float32."""
        return symbols.astype(np.float32)

    @torch.no_grad()
    def reconstruct(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """Decoder outputs of codes (VC: x; VIC: the representative); ``FileProblem`` for
        BINCE, which has no decoder."""
        if getattr(self.model, "compressor", None) == "bince":
            raise FileProblem(f"{self.run_dir} is a BINCE run: it has no reconstructions.")
        out = self.model.decode(torch.from_numpy(symbols.astype(np.float32)))
        return np.asarray(out.numpy(), dtype=np.float32)


def open_codec(
    run_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> Any:
    """The codec of a finished ``invariant`` or ``image`` run directory (``FileProblem`` for
    other kinds or unfinished runs). Image codecs need the data (`data_dir`): their coding
    model is refit on the run's training symbols, as their final evaluation does."""
    from .core.rundir import read_run_config

    root = Path(run_dir).resolve()
    kind, _, _ = read_run_config(root)
    if kind.name == "image":
        from .image_coding import ImageRunCodec

        return ImageRunCodec.open(root, data_dir)
    if kind.name == "features":
        from .kinds.features import load_feature_compressor

        return RunCodec(root, kind.name, *load_feature_compressor(root), data_dir=data_dir)
    if kind.name != "invariant":
        raise FileProblem(
            f"{root} is a {kind.name!r} run; `rdpc compress` handles 'invariant', 'image' and "
            "'features' runs."
        )
    from .kinds.invariant import load_compressor

    config, model = load_compressor(root)
    return RunCodec(root, kind.name, config, model)


def load_split(codec: Any, data: str, split: str, items: int) -> tuple[NDArray[Any], ...]:
    """``(x, labels)`` of a dataset split. ``banana``: `items` samples of a fixed stream per
    split, labelled with the quantile class of the run's maximal invariant; ``mnist`` (image
    and features runs): the run's own train/test split (at most `items` images) and digit
    labels."""
    if split not in _SPLITS:
        raise ValueError(f"`split` must be one of {', '.join(_SPLITS)}; got {split!r}.")
    if codec.kind == "image":
        return codec.load_split(data, split, items)  # type: ignore[no-any-return]
    if codec.kind == "features":
        from .kinds.features import load_feature_split

        return load_feature_split(codec.config, data, split, items, codec.data_dir)
    from .banana import invariant_classes, sample_banana

    if data != "banana":
        raise ValueError(f"`data` must be 'banana' for an invariant banana run; got {data!r}.")
    x = sample_banana(items, numpy_rng(_TAG_DATA, _SPLITS.index(split)))
    return x, invariant_classes(x, codec.config.invariance)


def compress_split(
    run_dir: str | os.PathLike[str],
    data: str,
    split: str,
    out: str | os.PathLike[str],
    *,
    items: int = 10_000,
    chunk_items: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Write the coded split to `out`; returns sizes (bits per item from the file size) and
    the encoding throughput (items/s: encoder network, rounding and entropy coding)."""
    codec = open_codec(run_dir, data_dir)
    x, labels = load_split(codec, data, split, items)
    chunk: int = chunk_items or int(getattr(codec.config, "chunk_items", 4096))
    t0 = time.perf_counter()
    symbols = codec.symbols(x)
    chunks = []
    for part in chunk_slices(len(symbols), chunk):
        enc = ChunkEncoder()
        codec.encode_chunk(enc, symbols[part])
        chunks.append(enc.finish())
    seconds = time.perf_counter() - t0
    stream = ChunkedStream(
        tuple(chunks), tuple(len(symbols[p]) for p in chunk_slices(len(symbols), chunk))
    )
    header = {**codec.identity, "dither_seed": codec.dither_seed, "chunk_items": chunk,
              "channels": int(symbols.shape[1]), "data": data, "split": split}  # fmt: skip
    path = write_data_file(out, header, stream, labels)
    read = read_data_file(path)
    estimate = codec.coding_bits(symbols)
    return {
        "file": str(path),
        "items": len(symbols),
        "file_bytes": read.size_bytes,
        "bits_per_item": read.bits_per_item,
        "payload_bits_per_item": stream.payload_bits / len(symbols),
        "estimated_bits_per_item": estimate / len(symbols),
        "label_bytes": read.label_bytes,
        "encode_items_per_s": len(symbols) / seconds,
    }


def decompress_file(
    path: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    *,
    what: str = "representation",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[NDArray[Any], NDArray[np.uint8] | None, dict[str, Any]]:
    """``(array, labels, facts)`` of a dataset file decoded with its run: the codes as float32
    (``"representation"``) or the decoder's outputs (``"reconstruction"``)."""
    if what not in ("representation", "reconstruction"):
        raise ValueError(f"`what` must be 'representation' or 'reconstruction'; got {what!r}.")
    codec = open_codec(run_dir, data_dir)
    f: DataFile = read_data_file(path, expect={**codec.identity, "dither_seed": codec.dither_seed})
    t0 = time.perf_counter()
    parts = []
    for i, (words, n) in enumerate(zip(f.stream.chunks, f.stream.items, strict=True)):
        try:
            dec = ChunkDecoder(words)
            parts.append(codec.decode_chunk(dec, n))
            dec.finish()
        except (ValueError, RuntimeError) as exc:
            raise FileProblem(f"{path}: chunk {i} does not decode with this model: {exc}") from exc
    symbols = np.concatenate(parts) if parts else np.zeros((0, f.header["channels"]), np.int64)
    out = codec.representation(symbols) if what == "representation" else codec.reconstruct(symbols)
    seconds = time.perf_counter() - t0
    facts = {"items": len(symbols), "bits_per_item": f.bits_per_item,
             "decode_items_per_s": len(symbols) / seconds if seconds > 0 else None}  # fmt: skip
    return out, f.labels, facts
