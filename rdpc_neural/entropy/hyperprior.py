r"""Mean-scale Gaussian hyperprior for latents of shape ``(items, channels)``.

Side information ``z = h_a(y)`` is quantized and coded with a
:class:`~rdpc_neural.entropy.factorized.FactorizedPrior`; the hyper-decoder maps the
quantized ``z_hat`` to a mean and a scale per latent, ``(mu, sigma) = h_s(z_hat)``, and ``y``
is coded with a :class:`~rdpc_neural.entropy.gaussian.GaussianConditional` [1]_ [2]_. The
rate of an item is

.. math:: -\log_2 p(\hat z) - \log_2 p(\hat y \mid \hat z) \quad \text{bits}.

A decoder reads ``z_hat`` first (it needs nothing else), computes ``(mu, sigma)`` from it and
only then reads ``y``'s symbols; :meth:`MeanScaleHyperprior.compress` writes them in that
order in each chunk, and computes ``h_s`` chunk by chunk exactly as the decoder does, so that
both sides select identical tables.

Decoding needs ``h_s(z_hat)`` to give bit-identical means and table indices on both sides:
guaranteed on one machine and torch build (the round-trip check tests it), not across CPUs
whose float kernels differ (a known limit of learned hyperpriors; integer networks remove
it). The factorized prior's tables travel in ``state_dict``; the Gaussian tables are rebuilt
from the constructor's constants.

References
----------
.. [1] J. Balle, D. Minnen, S. Singh, S. J. Hwang, N. Johnston, "Variational image
   compression with a scale hyperprior", ICLR 2018, arXiv:1802.01436.
.. [2] D. Minnen, J. Balle, G. Toderici, "Joint autoregressive and hierarchical priors for
   learned image compression", NeurIPS 2018, arXiv:1809.02736 (mean and scale).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .coder import ChunkDecoder, ChunkedStream, ChunkEncoder, chunk_slices
from .factorized import DEFAULT_TAIL_MASS, FactorizedPrior
from .gaussian import GaussianConditional
from .likelihood import likelihood_bits, quantize, resolve_mode

__all__ = ["MeanScaleHyperprior"]


class MeanScaleHyperprior(nn.Module):
    """Hyper-encoder/decoder MLPs around a factorized prior on ``z`` (see module notes).

    Parameters
    ----------
    channels : int
        Latent channels C of ``y``.
    hyper_channels : int or None
        Channels of ``z`` (default ``max(4, C // 4)``).
    hidden : int or None
        Hidden width of ``h_a`` and ``h_s`` (default ``C``).
    tail_mass : float
        Tail mass of both coding models (escape path beyond it).
    **gaussian : float or int
        ``scale_min``, ``scale_max``, ``scale_levels`` of the
        :class:`~rdpc_neural.entropy.gaussian.GaussianConditional`.

    Examples
    --------
    >>> model = MeanScaleHyperprior(8).eval()
    >>> out = model(torch.randn(3, 8))
    >>> sorted(out)
    ['bits', 'y_hat', 'y_likelihoods', 'z_hat', 'z_likelihoods']
    """

    def __init__(
        self,
        channels: int,
        hyper_channels: int | None = None,
        hidden: int | None = None,
        tail_mass: float = DEFAULT_TAIL_MASS,
        **gaussian: float,
    ) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"`channels` must be an integer >= 1; got {channels!r}.")
        cz = max(4, channels // 4) if hyper_channels is None else hyper_channels
        width = channels if hidden is None else hidden
        if cz < 1 or width < 1:
            raise ValueError(f"`hyper_channels` and `hidden` must be >= 1; got {cz}, {width}.")
        self.channels, self.hyper_channels = channels, cz
        self.hyper_encoder = nn.Sequential(
            nn.Linear(channels, width), nn.ReLU(), nn.Linear(width, cz)
        )
        self.hyper_decoder = nn.Sequential(
            nn.Linear(cz, width), nn.ReLU(), nn.Linear(width, 2 * channels)
        )
        self.z_prior = FactorizedPrior(cz, tail_mass=tail_mass)
        self.conditional = GaussianConditional(tail_mass=tail_mass, **gaussian)  # type: ignore[arg-type]

    def mean_scale(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, sigma)`` of ``y`` given the quantized side information (sigma > 0)."""
        mean, raw = self.hyper_decoder(z_hat).chunk(2, dim=-1)
        return mean, nn.functional.softplus(raw)

    def forward(self, y: torch.Tensor, mode: str | None = None) -> dict[str, torch.Tensor]:
        """Quantize `y` and its side information and give their likelihoods.

        Parameters
        ----------
        y : torch.Tensor, shape (items, channels)
        mode : {"noise", "dequantize"} or None
            None: ``"noise"`` in training mode, ``"dequantize"`` in eval mode (both ``y``
            and ``z``).

        Returns
        -------
        dict
            ``"y_hat"``, ``"z_hat"``: noisy or dequantized latents and side information;
            ``"y_likelihoods"``, ``"z_likelihoods"``: their probabilities (floored at 1e-9);
            ``"bits"``: per item, ``-sum log2`` of both (bits).
        """
        mode = resolve_mode(mode, self.training)
        self._check_latents(y)
        z = self.hyper_encoder(y)
        z_out = self.z_prior(z, mode)
        mean, scale = self.mean_scale(z_out["y_hat"])
        y_out = self.conditional(y, mean, scale, mode)
        bits = likelihood_bits(y_out["likelihoods"]) + likelihood_bits(z_out["likelihoods"])
        return {
            "y_hat": y_out["y_hat"],
            "z_hat": z_out["y_hat"],
            "y_likelihoods": y_out["likelihoods"],
            "z_likelihoods": z_out["likelihoods"],
            "bits": bits,
        }

    def _check_latents(self, y: torch.Tensor) -> None:
        if y.ndim != 2 or y.shape[1] != self.channels:
            raise ValueError(f"`y` must have shape (items, {self.channels}); got {tuple(y.shape)}.")

    # ------------------------------------------------------------------- coding time
    def update(self) -> None:
        """Build both coding models' tables (after training and after loading weights)."""
        self.z_prior.update()
        self.conditional.update()

    @torch.no_grad()
    def _side(self, z_symbols: NDArray[np.int64]) -> tuple[torch.Tensor, NDArray[np.int64]]:
        """Mean and table indices of ``y`` from decoded ``z`` symbols (encoder = decoder)."""
        mean, scale = self.mean_scale(torch.from_numpy(z_symbols.astype(np.float32)))
        return mean, self.conditional.scale_index(scale)

    @torch.no_grad()
    def _chunk_symbols(self, y: torch.Tensor) -> dict[str, NDArray[np.int64]]:
        """What one chunk codes: ``z`` symbols, ``y`` symbols (flattened) and their tables."""
        z_symbols = self.z_prior.symbols(self.hyper_encoder(y))
        mean, index = self._side(z_symbols)
        y_symbols = quantize(y, "symbols", mean).numpy().reshape(-1)
        return {"z": z_symbols, "y": y_symbols, "index": index}

    def estimate_bits(self, y: torch.Tensor, *, chunk_items: int = 4096) -> NDArray[np.float64]:
        """Coding-model information content per item (``z`` and ``y``), in bits, for the
        symbols :meth:`compress` codes with the same `chunk_items`."""
        self._check_latents(y)
        out = []
        for part in chunk_slices(len(y), chunk_items):
            sym = self._chunk_symbols(y[part])
            lik_z = self.z_prior.coding_likelihoods(sym["z"])
            lik_y = self.conditional.coding_likelihoods(sym["y"], sym["index"])
            lik = np.concatenate([lik_z, lik_y.reshape(len(lik_z), -1)], axis=1)
            out.append(likelihood_bits(torch.from_numpy(lik)).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def compress(
        self, y: torch.Tensor, *, chunk_items: int = 4096, check: bool = False
    ) -> ChunkedStream:
        """Real coding of `y` in chunks of `chunk_items` items (``z`` then ``y`` per chunk).

        With ``check`` the stream is decoded and compared with the encoder's symbols
        (``RuntimeError`` if it differs).
        """
        self._check_latents(y)
        parts = chunk_slices(len(y), chunk_items)
        chunks, y_symbols = [], []
        for part in parts:
            sym = self._chunk_symbols(y[part])
            enc = ChunkEncoder()
            self.z_prior.encode_symbols(enc, sym["z"])
            self.conditional.encode_symbols(enc, sym["y"], sym["index"])
            chunks.append(enc.finish())
            y_symbols.append(sym["y"])
        stream = ChunkedStream(tuple(chunks), tuple(p.stop - p.start for p in parts))
        if check:
            decoded = self.decompress_symbols(stream)
            if not np.array_equal(decoded.reshape(-1), np.concatenate(y_symbols)):
                raise RuntimeError("MeanScaleHyperprior stream did not decode to its symbols")
        return stream

    @torch.no_grad()
    def _decode_chunk(
        self, words: NDArray[np.uint32], items: int
    ) -> tuple[NDArray[np.int64], torch.Tensor]:
        dec = ChunkDecoder(words)
        z_symbols = self.z_prior.decode_symbols(dec, items)
        mean, index = self._side(z_symbols)
        y_symbols = self.conditional.decode_symbols(dec, index).reshape(items, self.channels)
        dec.finish()
        return y_symbols, mean

    def decompress_symbols(self, stream: ChunkedStream) -> NDArray[np.int64]:
        """Integer symbols ``round(y - mu)`` of a :meth:`compress` stream, ``(items, C)``."""
        parts = [
            self._decode_chunk(w, n)[0] for w, n in zip(stream.chunks, stream.items, strict=True)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.channels), dtype=np.int64)

    def decompress(self, stream: ChunkedStream) -> torch.Tensor:
        """Dequantized latents ``k + mu`` (float32) of a :meth:`compress` stream."""
        parts = []
        for words, items in zip(stream.chunks, stream.items, strict=True):
            y_symbols, mean = self._decode_chunk(words, items)
            parts.append(torch.from_numpy(y_symbols.astype(np.float32)) + mean)
        return torch.cat(parts) if parts else torch.zeros(0, self.channels)
