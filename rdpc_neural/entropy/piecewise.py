r"""Learned piecewise-linear density of bounded latents, coded with a shared dither.

The synthetic-source codecs (:mod:`rdpc_neural.kinds.synthetic`) send, per block, ``d`` symbols
``k_j`` in ``{0, ..., L-1}`` of a subtractively dithered uniform quantizer on ``[-1, 1]``
(centres ``c_k = -1 + k Delta``, ``Delta = 2 / (L - 1)``, dither ``u_j`` shared with the
decoder). :class:`PiecewiseLinearDensity` models the dequantized latents with a CDF
:math:`F_j` per coordinate, optionally autoregressive (MADE ordering [1]_), and gives each
symbol the probability

.. math:: p(k_j \mid u_j, \hat y_{<j}) = (1 - \epsilon)\,
          \big[F_j(c_k - u_j + \Delta/2) - F_j(c_k - u_j - \Delta/2)\big] + \epsilon / L,

with :data:`UNIFORM_MIX` :math:`= \epsilon = 10^{-6}` (bounded code length at float edges).
The ``L`` probabilities sum to one because the dithered cells tile ``[-1, 1]``. The code
length of a block is :math:`\sum_j -\log_2 p(k_j \mid u_j, \hat y_{<j})` bits.

Real coding (:func:`compress_symbols` / :func:`decompress_symbols`) is causal: coordinate
``j`` of every item of a chunk is coded with the table computed from ``u`` and the
coordinates ``< j`` dequantized from the symbols alone, and the decoder recomputes that
table from what it has already decoded.

References
----------
.. [1] M. Germain, K. Gregor, I. Murray, H. Larochelle, "MADE: Masked autoencoder for
   distribution estimation", ICML 2015, arXiv:1502.03509.
.. [2] J. Ziv, "On universal quantization", IEEE Trans. IT 31(3), 1985 (dithered coding).
"""

from __future__ import annotations

import copy
from typing import Protocol, cast

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .coder import ChunkDecoder, ChunkedStream, ChunkEncoder, chunk_slices

__all__ = [
    "UNIFORM_MIX",
    "PiecewiseLinearDensity",
    "DitheredCodec",
    "symbol_probabilities",
    "compress_symbols",
    "decompress_symbols",
]

UNIFORM_MIX = 1e-6
"""Uniform mass mixed into every ``p(k | u)``: bounded code length even at float edges."""


class PiecewiseLinearDensity(nn.Module):
    """Learned density of the latents on [-1, 1]: per coordinate, ``bins`` equal bins with
    masses ``softmax(logits)``, i.e. a piecewise-linear CDF; optionally autoregressive.

    With ``context_hidden > 0`` the logits of coordinate j are a bias plus a masked MLP
    (MADE ordering) of the already decoded ``y_hat_1 .. y_hat_{j-1}``: a decoder that decodes
    the coordinates in order knows them, so ``p(k_j | u_j, y_hat_{<j})`` is a valid coding
    model, and the total code length estimates the *joint* ``H(K | U)`` instead of the sum of
    per-coordinate entropies (which a block code of a discrete source would overpay).

    Hand-written because it is small and must be exactly normalized on the bounded support of
    ``tanh`` (so that the L symbol probabilities given the dither sum to one); CompressAI's
    models would also force another torch build.

    Parameters
    ----------
    dims : int
        Latent coordinates d.
    bins : int
        Bins per coordinate.
    context_hidden : int
        Hidden width of the autoregressive context network (0: factorized model).
    """

    def __init__(self, dims: int, bins: int, context_hidden: int = 0) -> None:
        super().__init__()
        self.dims, self.bins = dims, bins
        self.logits = nn.Parameter(torch.zeros(dims, bins))
        self.context: nn.ModuleList | None = None
        if context_hidden > 0 and dims > 1:
            degree_in = torch.arange(1, dims + 1)
            degree_hidden = 1 + torch.arange(context_hidden) % (dims - 1)  # in [1, d-1]
            self.register_buffer("mask_in", (degree_hidden[:, None] >= degree_in[None, :]).float())
            out_mask = (degree_hidden[None, :] < degree_in[:, None]).float()  # (d, hidden)
            self.register_buffer("mask_out", out_mask.repeat_interleave(bins, 0))
            self.context = nn.ModuleList(
                [nn.Linear(dims, context_hidden), nn.Linear(context_hidden, dims * bins)]
            )
            last = cast(nn.Linear, self.context[1])
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def masses(self, y_hat: torch.Tensor) -> torch.Tensor:
        """Bin masses, shape ``(batch, dims, bins)``, given the dequantized latents."""
        logits = self.logits.to(y_hat.dtype).expand(len(y_hat), -1, -1)
        if self.context is not None:
            first, second = (cast(nn.Linear, m) for m in self.context)
            h = nn.functional.silu(
                nn.functional.linear(
                    y_hat, first.weight * cast(torch.Tensor, self.mask_in), first.bias
                )
            )
            ctx = nn.functional.linear(
                h, second.weight * cast(torch.Tensor, self.mask_out), second.bias
            )
            logits = logits + ctx.view(len(y_hat), self.dims, self.bins)
        return torch.softmax(logits, dim=-1)

    def column_masses(self, y_hat: torch.Tensor, j: int) -> torch.Tensor:
        """Bin masses of coordinate `j` only, shape ``(batch, 1, bins)``: the rows of the
        context network's output layer that coordinate j reads (``dims`` times cheaper than
        :meth:`masses` for causal coding; equal to its slice up to float rounding)."""
        logits = self.logits[j].to(y_hat.dtype).expand(len(y_hat), 1, -1)
        if self.context is not None:
            first, second = (cast(nn.Linear, m) for m in self.context)
            h = nn.functional.silu(
                nn.functional.linear(
                    y_hat, first.weight * cast(torch.Tensor, self.mask_in), first.bias
                )
            )
            rows = slice(j * self.bins, (j + 1) * self.bins)
            weight = second.weight[rows] * cast(torch.Tensor, self.mask_out)[rows]
            ctx = nn.functional.linear(h, weight, second.bias[rows])
            logits = logits + ctx.view(len(y_hat), 1, self.bins)
        return torch.softmax(logits, dim=-1)

    def cdf(self, t: torch.Tensor, masses: torch.Tensor) -> torch.Tensor:
        """F_j(t) for ``t`` of shape ``(batch, dims, k)`` (0 below -1, 1 above 1)."""
        cum = torch.cat([masses.new_zeros(masses.shape[:-1] + (1,)), masses.cumsum(-1)], -1)
        pos = (t.clamp(-1.0, 1.0) + 1.0) * (self.bins / 2.0)
        idx = pos.detach().floor().clamp(0, self.bins - 1)
        frac = pos - idx
        idx = idx.long()
        return cum.gather(-1, idx) + masses.gather(-1, idx) * frac

    def interval_probability(self, y_hat: torch.Tensor, step: float) -> torch.Tensor:
        """``F(y_hat + step/2) - F(y_hat - step/2)``: the model probability of the symbol
        whose cell (shifted by the dither) is centred on ``y_hat`` (shape ``(batch, dims)``)."""
        m = self.masses(y_hat)
        t = y_hat.unsqueeze(-1)
        return (self.cdf(t + step / 2, m) - self.cdf(t - step / 2, m)).squeeze(-1)


class _Quantizer(Protocol):
    @property
    def levels(self) -> int: ...

    @property
    def step(self) -> float: ...


class DitheredCodec(Protocol):
    """What :func:`symbol_probabilities` needs of a codec: its density and quantizer."""

    @property
    def density(self) -> PiecewiseLinearDensity: ...

    @property
    def quantizer(self) -> _Quantizer: ...


def _table(double: PiecewiseLinearDensity, u: torch.Tensor, y_hat: torch.Tensor, levels: int,
           step: float, column: int | None = None) -> NDArray[np.float64]:  # fmt: skip
    """``p(k | u, y_hat_{<j})`` for all L symbols, shape ``u.shape + (L,)`` (float64), from a
    float64 copy `double` of the density; only coordinate `column` if given (``(n, L)``)."""
    with torch.no_grad():
        if column is None:
            masses = double.masses(y_hat.double())
        else:
            masses, u = double.column_masses(y_hat.double(), column), u[:, column : column + 1]
        centers = torch.linspace(-1.0, 1.0, levels, dtype=torch.float64)
        lo = centers - u.double().unsqueeze(-1) - step / 2  # (batch, d, L)
        prob = (double.cdf(lo + step, masses) - double.cdf(lo, masses)).clamp(0.0, 1.0)
    out = prob.numpy()
    out = out / out.sum(-1, keepdims=True)  # exact normalization against rounding
    mixed: NDArray[np.float64] = (1.0 - UNIFORM_MIX) * out + UNIFORM_MIX / levels
    return mixed if column is None else mixed[:, 0]


def symbol_probabilities(
    codec: DitheredCodec, u: torch.Tensor, y_hat: torch.Tensor
) -> NDArray[np.float64]:
    """Model probabilities ``p(k | u, y_hat_{<j})`` of all L symbols of every coordinate.

    Computed in float64 (a double copy of the density model); shape ``u.shape + (L,)``, every
    row sums to one. `y_hat` (the dequantized latents) supplies the autoregressive context.
    """
    double = copy.deepcopy(codec.density).double()
    return _table(double, u, y_hat, codec.quantizer.levels, codec.quantizer.step)


def _dequantize(symbols: torch.Tensor, u: torch.Tensor, levels: int) -> torch.Tensor:
    """``c_k - u`` in float32, as the codec's quantizer dequantizes."""
    return torch.linspace(-1.0, 1.0, levels)[symbols] - u


def _check(symbols: NDArray[np.integer], u: torch.Tensor, levels: int) -> NDArray[np.int64]:
    s = np.asarray(symbols)
    if s.ndim != 2 or tuple(u.shape) != s.shape:
        raise ValueError(
            f"`symbols` and `u` must have one shape (items, d); got {s.shape}, {tuple(u.shape)}."
        )
    if s.size and (s.min() < 0 or s.max() >= levels):
        raise ValueError(f"`symbols` must be in [0, {levels - 1}]; got {s.min()}..{s.max()}.")
    return s.astype(np.int64)


def compress_symbols(
    density: PiecewiseLinearDensity,
    symbols: NDArray[np.integer],
    u: torch.Tensor,
    levels: int,
    *,
    chunk_items: int = 4096,
    check: bool = False,
) -> ChunkedStream:
    """Real, causal coding of dithered-quantizer symbols ``(items, d)`` under `density`.

    In each chunk, coordinate ``j`` of all items is coded with the table computed from `u`
    and the dequantized coordinates ``< j`` (the later ones set to 0: the masked context
    network does not read them), exactly what :func:`decompress_symbols` recomputes.

    Parameters
    ----------
    density : PiecewiseLinearDensity
    symbols : numpy.ndarray of int, shape (items, d)
        Symbols in ``{0, ..., levels - 1}``.
    u : torch.Tensor, shape (items, d)
        The shared dither.
    levels : int
        Quantizer levels L (step ``2 / (L - 1)``).
    chunk_items : int
        Items per independently decodable chunk.
    check : bool
        Decode the stream and compare (``RuntimeError`` if it differs).
    """
    s = _check(symbols, u, levels)
    step = 2.0 / (levels - 1)
    double = copy.deepcopy(density).double()
    parts = chunk_slices(len(s), chunk_items)
    chunks = []
    for part in parts:
        k, uu = torch.from_numpy(s[part]), u[part]
        full = _dequantize(k, uu, levels)
        enc = ChunkEncoder()
        for j in range(s.shape[1]):
            context = torch.zeros_like(full)
            context[:, :j] = full[:, :j]
            enc.categorical(s[part, j], _table(double, uu, context, levels, step, j))
        chunks.append(enc.finish())
    stream = ChunkedStream(tuple(chunks), tuple(p.stop - p.start for p in parts))
    if check and not np.array_equal(decompress_symbols(density, stream, u, levels), s):
        raise RuntimeError("piecewise-linear density stream did not decode to its symbols")
    return stream


def decompress_symbols(
    density: PiecewiseLinearDensity, stream: ChunkedStream, u: torch.Tensor, levels: int
) -> NDArray[np.int64]:
    """Decode a :func:`compress_symbols` stream coordinate by coordinate.

    The decoder knows only the stream, the shared dither `u` and the model: the table of
    coordinate ``j`` is computed from the coordinates it has already decoded.
    """
    if u.ndim != 2 or u.shape[0] != stream.n_items:
        raise ValueError(f"`u` must have shape ({stream.n_items}, d); got {tuple(u.shape)}.")
    step = 2.0 / (levels - 1)
    double = copy.deepcopy(density).double()
    out = np.empty(tuple(u.shape), dtype=np.int64)
    start = 0
    for words, items in zip(stream.chunks, stream.items, strict=True):
        uu = u[start : start + items]
        context = torch.zeros_like(uu)
        dec = ChunkDecoder(words)
        for j in range(u.shape[1]):
            k = dec.categorical(_table(double, uu, context, levels, step, j))
            out[start : start + items, j] = k
            context[:, j] = _dequantize(torch.from_numpy(k.astype(np.int64)), uu[:, j], levels)
        dec.finish()
        start += items
    return out
