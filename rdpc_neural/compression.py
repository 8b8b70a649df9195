"""Compress a dataset split with a trained run into one file, decompress it, time both.

A *codec* is what a dataset file needs from a trained model (:class:`DatasetCodec`, kept
small so that every kind can plug in): ``kind``, ``run_dir``, ``dither_seed``, ``identity``
(a JSON-able dict; its hash is the file's model id), ``symbols(x)`` (integer symbols,
``(items, width)``), ``encode_chunk(encoder, symbols)`` / ``decode_chunk(decoder, items)``,
``coding_bits(symbols)``, ``representation(symbols)`` and ``reconstruct(symbols)``.
:class:`RunCodec` implements it for any model with ``encode``, ``prior`` (a
:class:`~rdpc_neural.entropy.FactorizedPrior` or a
:class:`~rdpc_neural.entropy.MeanScaleHyperprior`, whose side and main latents then share each
chunk) and ``decode``; ``image`` runs have :mod:`~rdpc_neural.image_coding`.

:func:`open_codec` gives the codec of a finished run directory (``invariant`` and
``features`` runs through :class:`RunCodec`); :func:`compress_items` /
:func:`compress_split` write a :mod:`~rdpc_neural.datafile` file, :func:`decompress_items` /
:func:`decompress_file` read one back into the representations or the reconstructions. A file
is checked against the codec that decodes it (model id, dither seed) and every chunk's decoded
symbols against the encoder's checksum, so another model's file or a corrupt chunk is refused
with a clear error instead of decoding into garbage.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray

from rdpc_common.errors import FileProblem

from .core.seeding import numpy_rng
from .datafile import MODEL_ID_BYTES, read_data_file, symbols_crc, write_data_file
from .entropy import ChunkDecoder, ChunkEncoder, chunk_slices, encode_chunks
from .entropy.likelihood import parameter_fingerprint

__all__ = [
    "DatasetCodec",
    "RunCodec",
    "latent_codec",
    "model_id",
    "open_codec",
    "load_split",
    "compress_items",
    "compress_split",
    "decompress_items",
    "decompress_file",
]

_TAG_DATA = 0xDA7A
_SPLITS = ("train", "test")


class DatasetCodec(Protocol):
    """What a dataset file needs from a trained model (see the module notes)."""

    @property
    def kind(self) -> str: ...
    @property
    def run_dir(self) -> Path: ...
    @property
    def config(self) -> Any: ...
    @property
    def dither_seed(self) -> int | None: ...
    @property
    def identity(self) -> dict[str, Any]: ...
    def symbols(self, x: Any) -> NDArray[np.int64]: ...
    def encode_chunk(self, encoder: ChunkEncoder, symbols: NDArray[np.int64]) -> None: ...
    def decode_chunk(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]: ...
    def coding_bits(self, symbols: NDArray[np.int64]) -> float: ...
    def representation(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]: ...
    def reconstruct(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]: ...


def model_id(codec: DatasetCodec) -> bytes:
    """The file's model id of `codec`: the first bytes of the SHA-256 of its identity."""
    raw = json.dumps(codec.identity, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).digest()[:MODEL_ID_BYTES]


@dataclass
class RunCodec:
    """The coding side of a trained model (``invariant`` and ``features`` runs) with
    ``encode``, ``prior`` and ``decode``: encoder to integer symbols (rounding, no dither), the
    prior's integer tables and the decoder (a model with ``compressor == "bince"`` has none)."""

    run_dir: Path
    kind: str
    config: Any
    model: Any
    dither_seed: int | None = None  # deterministic rounding: no dither
    data_dir: str | os.PathLike[str] | None = None  # MNIST data (features, augmented MNIST)

    @property
    def identity(self) -> dict[str, Any]:
        """What a file must match to be decoded by this codec (hashed into its model id)."""
        return {
            "kind": self.kind,
            "run_hash": self.run_dir.name,
            "model_fingerprint": parameter_fingerprint(self.model)[:16],
            "tables": self.model.prior.tables_digest()[:16],
        }

    @torch.no_grad()
    def symbols(self, x: NDArray[Any]) -> NDArray[np.int64]:
        """Integer symbols ``(items, width)`` of inputs `x`."""
        y = self.model.encode(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        out: NDArray[np.int64] = self.model.prior.symbols(y)
        return out

    def encode_chunk(self, encoder: ChunkEncoder, symbols: NDArray[np.int64]) -> None:
        """Record one chunk's symbols on `encoder`."""
        self.model.prior.encode_symbols(encoder, symbols)

    def decode_chunk(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]:
        """Inverse of :meth:`encode_chunk`."""
        out: NDArray[np.int64] = self.model.prior.decode_symbols(decoder, items)
        return out

    def coding_bits(self, symbols: NDArray[np.int64]) -> float:
        """The coding model's information content of all `symbols`, in bits."""
        return float(-np.log2(self.model.prior.coding_likelihoods(symbols)).sum())

    def representation(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """The decoded latents ``y_hat`` (float32; the integer codes for a factorized prior)."""
        return np.asarray(self.model.prior.dequantize(symbols).numpy(), dtype=np.float32)

    @torch.no_grad()
    def reconstruct(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """Decoder outputs of the decoded latents (VC: x; VIC: the representative);
        ``FileProblem`` for BINCE, which has no decoder."""
        if getattr(self.model, "compressor", None) == "bince":
            raise FileProblem(f"{self.run_dir} is a BINCE run: it has no reconstructions.")
        out = self.model.decode(torch.from_numpy(self.representation(symbols)))
        return np.asarray(out.numpy(), dtype=np.float32)


class _Latents(torch.nn.Module):
    """A model whose inputs are already latents: identity encoder and decoder."""

    def __init__(self, prior: torch.nn.Module) -> None:
        super().__init__()
        self.prior = prior

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def decode(self, y_hat: torch.Tensor) -> torch.Tensor:
        return y_hat


def latent_codec(prior: torch.nn.Module, name: str, kind: str = "latents") -> RunCodec:
    """Codec of latents computed elsewhere (e.g. a frozen encoder's features, benchmarks):
    `prior` is a :class:`~rdpc_neural.entropy.FactorizedPrior` or
    :class:`~rdpc_neural.entropy.MeanScaleHyperprior` with coding tables; `name` stands for
    the run directory in the file's identity."""
    return RunCodec(Path(name), kind, None, _Latents(prior).eval())


def open_codec(
    run_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> DatasetCodec:
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
    return RunCodec(root, kind.name, config, model, data_dir=data_dir)


def load_split(codec: Any, data: str, split: str, items: int) -> tuple[NDArray[Any], ...]:
    """``(x, labels)`` of a dataset split. ``banana``: `items` samples of a fixed stream per
    split, labelled with the quantile class of the run's maximal invariant; ``mnist`` (image
    and features runs): the run's own train/test split (at most `items` images) and digit
    labels; augmented-MNIST invariant runs: those images augmented as the run's final
    evaluation augments them (:func:`~rdpc_neural.kinds.invariant_images.dataset_views`)."""
    if split not in _SPLITS:
        raise ValueError(f"`split` must be one of {', '.join(_SPLITS)}; got {split!r}.")
    if codec.kind == "image":
        return codec.load_split(data, split, items)  # type: ignore[no-any-return]
    if codec.kind == "features":
        from .kinds.features import load_feature_split

        return load_feature_split(codec.config, data, split, items, codec.data_dir)
    if codec.config.source == "mnist":
        if data != "mnist":
            raise ValueError(
                f"`data` must be 'mnist' for an augmented-MNIST invariant run; got {data!r}."
            )
        from .kinds.invariant_images import dataset_views

        views, digits = dataset_views(codec.config, split, items, codec.data_dir)
        return views.numpy(), digits
    from .banana import invariant_classes, sample_banana

    if data != "banana":
        raise ValueError(f"`data` must be 'banana' for an invariant banana run; got {data!r}.")
    x = sample_banana(items, numpy_rng(_TAG_DATA, _SPLITS.index(split)))
    return x, invariant_classes(x, codec.config.invariance)


def compress_items(
    codec: DatasetCodec,
    x: Any,
    labels: NDArray[np.integer] | None,
    out: str | os.PathLike[str],
    *,
    chunk_items: int = 4096,
) -> dict[str, Any]:
    """Code inputs `x` (and `labels`) with `codec` into the file `out`.

    Returns
    -------
    dict
        ``bits_per_item`` (file size without the labels section; header + chunks),
        ``header_bytes``, ``label_bytes``, ``payload_bits_per_item`` (chunks only),
        ``estimated_bits_per_item`` (the coding model's ``sum -log2 p``), their ratio
        ``file_over_estimated``, and throughputs in items/s: ``encode_items_per_s`` (encoder
        network, quantization, entropy coding and writing) and ``coding_items_per_s``
        (entropy coding and writing only).
    """
    t0 = time.perf_counter()
    symbols = codec.symbols(x)
    t1 = time.perf_counter()
    chunks = list(encode_chunks(codec.encode_chunk, symbols, chunk_items).chunks)
    crcs = [symbols_crc(symbols[part]) for part in chunk_slices(len(symbols), chunk_items)]
    path = write_data_file(out, model_id=model_id(codec), dither_seed=codec.dither_seed,
                           width=int(symbols.shape[1]), chunk_items=chunk_items, chunks=chunks,
                           symbol_crcs=crcs, items=len(symbols), labels=labels)  # fmt: skip
    t2 = time.perf_counter()
    read = read_data_file(path)
    n = max(len(symbols), 1)
    estimate = codec.coding_bits(symbols)
    payload = 32 * sum(c.size for c in chunks)
    file_bits = 8 * (read.size_bytes - read.label_bytes)
    return {
        "file": str(path),
        "items": len(symbols),
        "symbols_per_item": int(symbols.shape[1]),
        "chunk_items": chunk_items,
        "chunks": len(chunks),
        "file_bytes": read.size_bytes,
        "header_bytes": read.header_bytes,
        "label_bytes": read.label_bytes,
        "bits_per_item": file_bits / n,
        "payload_bits_per_item": payload / n,
        "estimated_bits_per_item": estimate / n,
        "file_over_estimated": file_bits / estimate if estimate > 0 else float("inf"),
        "label_bits_per_item": 8 * read.label_bytes / n,
        "encode_items_per_s": len(symbols) / (t2 - t0),
        "coding_items_per_s": len(symbols) / (t2 - t1),
    }


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
    """Write the coded split to `out` (:func:`compress_items`; chunks of `chunk_items`,
    default the run's ``chunk_items`` or 4096)."""
    codec = open_codec(run_dir, data_dir)
    x, labels = load_split(codec, data, split, items)
    chunk: int = chunk_items or int(getattr(codec.config, "chunk_items", 4096))
    return compress_items(codec, x, labels, out, chunk_items=chunk)


def decompress_items(
    codec: DatasetCodec, path: str | os.PathLike[str], *, what: str = "representation"
) -> tuple[NDArray[Any], NDArray[np.uint8] | None, dict[str, Any]]:
    """``(array, labels, facts)`` of a dataset file decoded with `codec`: the decoded
    latents (``"representation"``) or the decoder's outputs (``"reconstruction"``).
    ``facts["decode_items_per_s"]`` times reading, verifying, entropy decoding and the
    representation (not the decoder network)."""
    if what not in ("representation", "reconstruction"):
        raise ValueError(f"`what` must be 'representation' or 'reconstruction'; got {what!r}.")
    t0 = time.perf_counter()
    f = read_data_file(path, model_id=model_id(codec), dither_seed=codec.dither_seed,
                       model=f"kind {codec.kind!r}, run {codec.run_dir}")  # fmt: skip
    parts = []
    for i, (words, n) in enumerate(zip(f.chunks, f.chunk_sizes, strict=True)):
        try:
            dec = ChunkDecoder(words)
            part = codec.decode_chunk(dec, n)
            dec.finish()
        except (ValueError, RuntimeError) as exc:
            raise FileProblem(
                f"{path}: chunk {i} (from byte {f.chunk_offsets[i]}) does not decode with this "
                f"model: {exc}"
            ) from exc
        f.check_chunk(i, part)
        parts.append(part)
    symbols = np.concatenate(parts) if parts else np.zeros((0, f.width), np.int64)
    rep = codec.representation(symbols)
    seconds = time.perf_counter() - t0
    out = rep if what == "representation" else codec.reconstruct(symbols)
    facts = {"items": len(symbols), "bits_per_item": f.bits_per_item,
             "label_bytes": f.label_bytes,
             "decode_items_per_s": len(symbols) / seconds if seconds > 0 else None}  # fmt: skip
    return out, f.labels, facts


def decompress_file(
    path: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    *,
    what: str = "representation",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[NDArray[Any], NDArray[np.uint8] | None, dict[str, Any]]:
    """:func:`decompress_items` with the codec of the run directory `run_dir`."""
    if what not in ("representation", "reconstruction"):
        raise ValueError(f"`what` must be 'representation' or 'reconstruction'; got {what!r}.")
    return decompress_items(open_codec(run_dir, data_dir), path, what=what)
