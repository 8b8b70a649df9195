"""Dataset files for the RDPC image codecs (kind ``image``): their symbols, their model.

An image codec sends, per latent coordinate, the index ``k`` of the dithered quantizer
(:class:`~rdpc_neural.quantize.UniformQuantizer`, dither shared by encoder and decoder). Its
coding model is the one its final evaluation measures ``coded_bits`` with: a factorized
categorical fit on the symbols of the run's training split
(:class:`~rdpc_neural.entropy.FactorizedCategorical`, refit here from the trained encoder, so
it needs the dataset). The dither of item i of a file comes from the generator of the file's
``dither_seed`` (one draw of shape ``(items, latent_dim)``), so the decoder regenerates it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rdpc_common.errors import FileProblem

from .core.rundir import load_torch_file, read_run_config
from .core.seeding import torch_generator
from .entropy import ChunkDecoder, ChunkEncoder, FactorizedCategorical
from .entropy.likelihood import parameter_fingerprint

__all__ = ["ImageRunCodec", "FILE_DITHER_STREAM"]

#: Stream of the file dither, ``torch_generator(dither_seed, FILE_DITHER_STREAM, 0)``.
FILE_DITHER_STREAM = 7
_BATCH = 1000


class _Names:
    """The one thing the codec builder needs from a task: the model family's name."""

    def model_name(self, config: Any) -> str:
        return f"{config.dataset}-{config.size}"


@dataclass
class ImageRunCodec:
    """The coding side of a finished ``image`` run (see the module docstring)."""

    run_dir: Path
    config: Any
    codec: Any
    splits: Any
    model: FactorizedCategorical
    kind: str = "image"

    @classmethod
    def open(cls, root: Path, data_dir: str | os.PathLike[str] | None) -> ImageRunCodec:
        from .data import load_splits
        from .kinds.image import STREAM_TRAIN_SYMBOLS, build_codec

        _, config, _ = read_run_config(root)
        if not (root / "summary.json").is_file():
            raise FileProblem(f"{root} is not finished (no summary.json); train it first.")
        state = load_torch_file(root / "checkpoint.pt", remedy="train the run again")
        codec = build_codec(config, _Names())  # type: ignore[arg-type]
        codec.load_state_dict(state["codec"])
        codec.eval()
        splits = load_splits(config.dataset, data_dir, val_size=config.val_size,
                             split_seed=config.split_seed, train_subset=config.train_subset,
                             test_subset=config.test_subset, download=False)  # fmt: skip
        out = cls(root, config, codec, splits, FactorizedCategorical(np.ones((1, 2)) / 2))
        train = out.symbols_with_dither(splits.x_train, config.seed, STREAM_TRAIN_SYMBOLS)
        out.model = FactorizedCategorical.fit(train, config.levels)
        return out

    @property
    def dither_seed(self) -> int:
        """The run's seed: files of one run share the dither stream."""
        return int(self.config.seed)

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "run_hash": self.run_dir.name,
            "model_fingerprint": parameter_fingerprint(self.codec)[:16],
            # The refit coding model depends on float encoder outputs: its exact tables too.
            "tables": hashlib.sha256(self.model.probs.astype("<f8").tobytes()).hexdigest()[:16],
        }

    def _dither(self, items: int, seed: int, stream: int) -> torch.Tensor:
        g = torch_generator(seed, stream, 0)
        u: torch.Tensor = self.codec.quantizer.dither((items, self.config.latent_dim), g)
        return u

    @torch.no_grad()
    def symbols_with_dither(self, x: torch.Tensor, seed: int, stream: int) -> NDArray[np.int64]:
        u = self._dither(len(x), seed, stream)
        out = [
            self.codec.quantizer.symbols(self.codec.encoder(x[i : i + _BATCH]), u[i : i + _BATCH])
            for i in range(0, len(x), _BATCH)
        ]
        return torch.cat(out).numpy().astype(np.int64)

    def load_split(self, data: str, split: str, items: int) -> tuple[Any, NDArray[np.int64]]:
        if data != self.config.dataset:
            raise ValueError(f"`data` must be {self.config.dataset!r} for this run; got {data!r}.")
        x = self.splits.x_train if split == "train" else self.splits.x_test
        s = self.splits.s_train if split == "train" else self.splits.s_test
        return x[:items], s[:items].numpy().astype(np.int64)

    def symbols(self, x: torch.Tensor) -> NDArray[np.int64]:
        return self.symbols_with_dither(x, self.dither_seed, FILE_DITHER_STREAM)

    def encode_chunk(self, encoder: ChunkEncoder, symbols: NDArray[np.int64]) -> None:
        encoder.categorical(symbols.reshape(-1), np.tile(self.model.probs, (len(symbols), 1)))

    def decode_chunk(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]:
        flat = decoder.categorical(np.tile(self.model.probs, (items, 1)))
        return flat.reshape(items, self.model.dims).astype(np.int64)

    def coding_bits(self, symbols: NDArray[np.int64]) -> float:
        return self.model.cross_entropy_bits(symbols) * len(symbols)

    def representation(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """The decoder's input ``c_k - u`` (dither regenerated from the file's seed)."""
        u = self._dither(len(symbols), self.dither_seed, FILE_DITHER_STREAM)
        z = self.codec.quantizer.dequantize(torch.from_numpy(symbols), u)
        return np.asarray(z.numpy(), dtype=np.float32)

    @torch.no_grad()
    def reconstruct(self, symbols: NDArray[np.int64]) -> NDArray[np.float32]:
        """The decoded images."""
        z = torch.from_numpy(self.representation(symbols))
        out = [self.codec.decoder(z[i : i + _BATCH]) for i in range(0, len(z), _BATCH)]
        return np.asarray(torch.cat(out).numpy(), dtype=np.float32)
