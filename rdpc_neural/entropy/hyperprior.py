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

Decoding needs ``h_s(z_hat)`` to give bit-identical table indices on both sides:
guaranteed on one machine and torch build (the round-trip check tests it), not across CPUs
whose float kernels differ (a known limit of learned hyperpriors; integer networks remove
it). Dataset files therefore carry a checksum of each chunk's decoded symbols, so such a
mismatch is reported instead of decoded into garbage. Both models' integer coding tables
travel in ``state_dict`` (never recomputed from floats by a decoder).

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

from .coder import ChunkDecoder, ChunkedStream, ChunkEncoder, decode_chunks, encode_chunks
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

    # One row of symbols per item: the side information's ``z`` symbols, then the residuals
    # ``k = round(y - mu)`` of ``y``; a decoder reads ``z`` first and derives ``mu`` and the
    # tables of ``k`` from it, item by item, so any run of items decodes on its own.
    @torch.no_grad()
    def symbols(self, y: torch.Tensor) -> NDArray[np.int64]:
        """Integer symbols ``[z | k]`` of `y`, shape ``(items, hyper_channels + channels)``."""
        self._check_latents(y)
        z_symbols = self.z_prior.symbols(self.hyper_encoder(y))
        mean, _ = self._side(z_symbols)
        k = quantize(y, "symbols", mean).numpy()
        return np.concatenate([z_symbols, k], axis=1)

    def _split(self, symbols: NDArray[np.integer]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        s = np.asarray(symbols, dtype=np.int64)
        width = self.hyper_channels + self.channels
        if s.ndim != 2 or s.shape[1] != width:
            raise ValueError(f"`symbols` must have shape (items, {width}); got {s.shape}.")
        return s[:, : self.hyper_channels], s[:, self.hyper_channels :]

    def coding_likelihoods(self, symbols: NDArray[np.integer]) -> NDArray[np.float64]:
        """Coding-model probability of each symbol of :meth:`symbols` (same shape)."""
        z, k = self._split(symbols)
        _, index = self._side(z)
        lik_y = self.conditional.coding_likelihoods(k, index).reshape(k.shape)
        return np.concatenate([self.z_prior.coding_likelihoods(z), lik_y], axis=1)

    def encode_symbols(self, encoder: ChunkEncoder, symbols: NDArray[np.integer]) -> None:
        """Record the symbols of a run of items on `encoder`: ``z`` first, then ``k``."""
        z, k = self._split(symbols)
        _, index = self._side(z)
        self.z_prior.encode_symbols(encoder, z)
        self.conditional.encode_symbols(encoder, k.reshape(-1), index)

    def decode_symbols(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]:
        """Inverse of :meth:`encode_symbols`."""
        z = self.z_prior.decode_symbols(decoder, items)
        _, index = self._side(z)
        k = self.conditional.decode_symbols(decoder, index).reshape(items, self.channels)
        return np.concatenate([z, k], axis=1)

    @torch.no_grad()
    def dequantize(self, symbols: NDArray[np.integer]) -> torch.Tensor:
        """The latents ``y_hat = k + mu(z)`` (float32) of :meth:`symbols`."""
        z, k = self._split(symbols)
        mean, _ = self._side(z)
        return torch.from_numpy(k.astype(np.float32)) + mean

    def tables_digest(self) -> str:
        """SHA-256 (hex) of both integer coding tables."""
        return self.z_prior.tables.digest() + self.conditional.tables.digest()

    def estimate_bits(self, y: torch.Tensor, *, chunk_items: int = 4096) -> NDArray[np.float64]:
        """Coding-model information content per item (``z`` and ``y``), in bits, of the
        symbols :meth:`compress` codes (`chunk_items` is accepted for symmetry; the symbols
        of an item do not depend on its chunk)."""
        lik = self.coding_likelihoods(self.symbols(y))
        return likelihood_bits(torch.from_numpy(lik)).numpy()

    def compress(
        self, y: torch.Tensor, *, chunk_items: int = 4096, check: bool = False
    ) -> ChunkedStream:
        """Real coding of `y` in chunks of `chunk_items` items (``z`` then ``y`` per chunk).

        With ``check`` the stream is decoded and compared with the encoder's symbols
        (``RuntimeError`` if it differs).
        """
        symbols = self.symbols(y)
        stream = encode_chunks(self.encode_symbols, symbols, chunk_items)
        if check and not np.array_equal(self._decode_all(stream), symbols):
            raise RuntimeError("MeanScaleHyperprior stream did not decode to its symbols")
        return stream

    def _decode_all(self, stream: ChunkedStream) -> NDArray[np.int64]:
        return decode_chunks(self.decode_symbols, stream, self.hyper_channels + self.channels)

    def decompress_symbols(self, stream: ChunkedStream) -> NDArray[np.int64]:
        """Integer symbols ``round(y - mu)`` of a :meth:`compress` stream, ``(items, C)``."""
        return self._decode_all(stream)[:, self.hyper_channels :]

    def decompress(self, stream: ChunkedStream) -> torch.Tensor:
        """Dequantized latents ``k + mu`` (float32) of a :meth:`compress` stream."""
        return self.dequantize(self._decode_all(stream))
