r"""Factorized prior: one learned monotone CDF per latent channel (Balle et al. 2018).

For latents ``y`` of shape ``(items, channels)``, channel ``c`` has a learned CDF
:math:`F_c = \sigma \circ f_K \circ \dots \circ f_1` with (appendix 6.1 of [1]_)

.. math::

    f_k(x) = g_k\big(\operatorname{softplus}(H^{(k)})\,x + b^{(k)}\big),\quad
    g_k(x) = x + \tanh(a^{(k)}) \odot \tanh(x) \quad (k < K),\qquad
    f_K(x) = \operatorname{softplus}(H^{(K)})\,x + b^{(K)},

where :math:`H^{(k)}` are ``r_k x r_{k-1}`` matrices (``r_0 = r_K = 1``). Positive matrices
and gates :math:`|\tanh a| < 1` make every :math:`f_k` increasing, so :math:`F_c` is a CDF.

* Training: the likelihood of ``y_tilde = y + U(-1/2, 1/2)`` is
  :math:`p(\tilde y) = F_c(\tilde y + 1/2) - F_c(\tilde y - 1/2)` (the density of the noisy
  latent), and ``round(y)`` at evaluation gives the probability of the integer.
* Coding: :meth:`FactorizedPrior.update` finds, by bisection on the monotone logit, the
  quantiles :math:`q_c^\pm` with :math:`F_c(q^-) = \tau/2`, :math:`F_c(q^+) = 1 - \tau/2`
  (``tau = tail_mass``) and fixes the support :math:`\{\lfloor q^- \rfloor, \dots,
  \lceil q^+ \rceil\}` with probabilities :math:`F_c(k + 1/2) - F_c(k - 1/2)` and escape mass
  :math:`F_c(\lfloor q^-\rfloor - 1/2) + 1 - F_c(\lceil q^+\rceil + 1/2) \le \tau`
  (:class:`~rdpc_neural.entropy.tables.IntegerTables`). One table per channel: all items of a
  channel are coded in one call.

References
----------
.. [1] J. Balle, D. Minnen, S. Singh, S. J. Hwang, N. Johnston, "Variational image
   compression with a scale hyperprior", ICLR 2018, arXiv:1802.01436, appendix 6.1.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .coder import ChunkDecoder, ChunkedStream, ChunkEncoder, decode_chunks, encode_chunks
from .likelihood import (
    bound_likelihood,
    likelihood_bits,
    parameter_fingerprint,
    quantize,
    resolve_mode,
)
from .tables import IntegerTables

__all__ = ["FactorizedPrior", "DEFAULT_TAIL_MASS", "MAX_SUPPORT"]

DEFAULT_TAIL_MASS = 1e-6
"""Default mass outside the coding support (per channel, both tails together)."""

MAX_SUPPORT = 2**16
"""Largest support width of one coding table."""

_BISECTION_STEPS = 80


def interval_mass(lower_logit: torch.Tensor, upper_logit: torch.Tensor) -> torch.Tensor:
    r""":math:`\sigma(u) - \sigma(l)` for logits ``l <= u``, computed in whichever tail keeps
    both terms small (``sigma(-x) = 1 - sigma(x)``), so it keeps its relative precision far
    in the tails."""
    sign = -torch.sign(lower_logit + upper_logit).detach()
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    return (torch.sigmoid(sign * upper_logit) - torch.sigmoid(sign * lower_logit)).abs()


class FactorizedPrior(nn.Module):
    """Learned factorized density of integer latents, one monotone CDF per channel.

    Parameters
    ----------
    channels : int
        Latent channels C (the second axis of ``y``).
    filters : tuple of int
        Hidden widths ``r_1 .. r_{K-1}`` of each channel's CDF network (paper: 3, 3, 3).
    init_scale : float
        Initial spread of each density (its CDF starts near ``sigmoid(x / init_scale)``).
    tail_mass : float
        Mass left outside each coding support, in (0, 0.1]; coded through the escape path.

    Examples
    --------
    >>> prior = FactorizedPrior(2).eval()
    >>> out = prior(torch.tensor([[0.2, -3.0]]))
    >>> sorted(out), out["y_hat"].tolist()
    (['bits', 'likelihoods', 'y_hat'], [[0.0, -3.0]])
    """

    def __init__(
        self,
        channels: int,
        filters: tuple[int, ...] = (3, 3, 3),
        init_scale: float = 10.0,
        tail_mass: float = DEFAULT_TAIL_MASS,
    ) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"`channels` must be an integer >= 1; got {channels!r}.")
        if any(not isinstance(r, int) or r < 1 for r in filters):
            raise ValueError(f"`filters` must be integers >= 1; got {filters!r}.")
        if not (init_scale > 0 and math.isfinite(init_scale)):
            raise ValueError(f"`init_scale` must be > 0; got {init_scale!r}.")
        if not 0 < tail_mass <= 0.1:
            raise ValueError(f"`tail_mass` must be in (0, 0.1]; got {tail_mass!r}.")
        self.channels, self.tail_mass = channels, float(tail_mass)
        widths = (1, *filters, 1)
        # Each layer scales by 1 / init_scale^(1/K): the composite starts at ~x / init_scale.
        per_layer = init_scale ** (1.0 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.gates = nn.ParameterList()
        for k in range(len(widths) - 1):
            r_in, r_out = widths[k], widths[k + 1]
            # softplus(h) = 1 / (per_layer * r_in): each output averages its inputs.
            h = math.log(math.expm1(1.0 / (per_layer * r_in)))
            self.matrices.append(nn.Parameter(torch.full((channels, r_out, r_in), h)))
            self.biases.append(nn.Parameter(torch.rand(channels, r_out, 1) - 0.5))
            if k < len(widths) - 2:
                self.gates.append(nn.Parameter(torch.zeros(channels, r_out, 1)))
        self._tables: IntegerTables | None = None
        self._fingerprint = ""

    # ----------------------------------------------------------------- training time
    def logits_cdf(self, y: torch.Tensor) -> torch.Tensor:
        """:math:`\\sigma^{-1}(F_c(y_{ic}))`, shape ``(items, channels)``."""
        self._check_latents(y)
        x = y.t().unsqueeze(1)  # (C, 1, items)
        for k, (h, b) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = torch.matmul(nn.functional.softplus(h), x) + b
            if k < len(self.gates):
                x = x + torch.tanh(self.gates[k]) * torch.tanh(x)
        return x.squeeze(1).t()

    def likelihood(self, y_hat: torch.Tensor) -> torch.Tensor:
        """:math:`F_c(\\hat y + 1/2) - F_c(\\hat y - 1/2)` (probability, no floor)."""
        return interval_mass(self.logits_cdf(y_hat - 0.5), self.logits_cdf(y_hat + 0.5))

    def forward(self, y: torch.Tensor, mode: str | None = None) -> dict[str, torch.Tensor]:
        """Quantize `y` and give its likelihoods.

        Parameters
        ----------
        y : torch.Tensor, shape (items, channels)
        mode : {"noise", "dequantize"} or None
            None: ``"noise"`` in training mode, ``"dequantize"`` (rounding) in eval mode.

        Returns
        -------
        dict
            ``"y_hat"``: noisy or rounded latents (same shape as `y`); ``"likelihoods"``:
            their probabilities, floored at 1e-9 with a straight-through gradient;
            ``"bits"``: per item, ``-sum_c log2 likelihoods`` (bits).
        """
        mode = resolve_mode(mode, self.training)
        if mode == "symbols":
            raise ValueError("`mode` must be 'noise' or 'dequantize' in forward; got 'symbols'.")
        self._check_latents(y)
        y_hat = quantize(y, mode)
        lik = bound_likelihood(self.likelihood(y_hat))
        return {"y_hat": y_hat, "likelihoods": lik, "bits": likelihood_bits(lik)}

    def _check_latents(self, y: torch.Tensor) -> None:
        if y.ndim != 2 or y.shape[1] != self.channels:
            raise ValueError(f"`y` must have shape (items, {self.channels}); got {tuple(y.shape)}.")

    # ------------------------------------------------------------------- coding time
    @torch.no_grad()
    def update(self) -> IntegerTables:
        """Build the coding tables from the current parameters (call after training and
        after loading weights; :meth:`compress` refuses stale tables)."""
        model = copy.deepcopy(self).double()
        # logit(tail / 2): the lower quantile; the upper one is at its negative.
        target = math.log(self.tail_mass / 2) - math.log1p(-self.tail_mass / 2)
        q_lo = model._quantile_at_logit(target)
        q_hi = model._quantile_at_logit(-target)
        lo = np.floor(q_lo).astype(np.int64)
        hi = np.ceil(q_hi).astype(np.int64)
        widths = hi - lo + 1
        if widths.max() > MAX_SUPPORT:
            raise ValueError(
                f"coding support of channel {int(widths.argmax())} would have {widths.max()} "
                f"values (> {MAX_SUPPORT}): the density is too wide for integer coding."
            )
        grid = torch.from_numpy(lo[None, :] + np.arange(widths.max())[:, None]).double()
        pmf = model.likelihood(grid).numpy()  # (max width, C)
        below = torch.sigmoid(model.logits_cdf(torch.from_numpy(lo[None] - 0.5)))
        above = torch.sigmoid(-model.logits_cdf(torch.from_numpy(hi[None] + 0.5)))
        escape = (below + above).numpy()[0]
        pmfs = [pmf[: widths[c], c] for c in range(self.channels)]
        self._tables = IntegerTables(lo, pmfs, escape)
        self._fingerprint = parameter_fingerprint(self)
        return self._tables

    def _quantile_at_logit(self, logit: float) -> NDArray[np.float64]:
        """Per channel, the x with ``logits_cdf(x) = logit`` (bisection; monotone)."""
        c = self.channels
        lo, hi = (
            torch.full((1, c), -1.0, dtype=torch.float64),
            torch.ones(1, c, dtype=torch.float64),
        )
        for _ in range(64):  # bracket
            low_ok, high_ok = self.logits_cdf(lo) <= logit, self.logits_cdf(hi) >= logit
            if bool(low_ok.all() and high_ok.all()):
                break
            lo, hi = torch.where(low_ok, lo, 2 * lo), torch.where(high_ok, hi, 2 * hi)
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            up = self.logits_cdf(mid) >= logit
            lo, hi = torch.where(up, lo, mid), torch.where(up, mid, hi)
        out: NDArray[np.float64] = (0.5 * (lo + hi)).numpy()[0]
        return out

    @property
    def tables(self) -> IntegerTables:
        """The coding tables; ``RuntimeError`` if missing or stale (parameters changed since
        :meth:`update`)."""
        if self._tables is None:
            raise RuntimeError("FactorizedPrior has no coding tables: call update() first.")
        if parameter_fingerprint(self) != self._fingerprint:
            raise RuntimeError(
                "FactorizedPrior's coding tables are stale (parameters changed since "
                "update()): call update() again."
            )
        return self._tables

    def get_extra_state(self) -> dict[str, Any]:
        """The integer coding tables travel with ``state_dict``, so a decoder uses exactly
        the encoder's (no float recomputation on the decoding machine)."""
        if self._tables is None:
            return {}
        state = self._tables.state()
        return {
            "lower": torch.from_numpy(state["lower"]),
            "counts": [torch.from_numpy(c) for c in state["counts"]],
            "fingerprint": self._fingerprint,
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            self._tables, self._fingerprint = None, ""
            return
        if "counts" in state:
            self._tables = IntegerTables.from_state(
                {"lower": state["lower"].numpy(), "counts": [c.numpy() for c in state["counts"]]}
            )
        else:  # checkpoints written before the integer tables: float pmfs, quantized here
            self._tables = IntegerTables(
                state["lower"].numpy(), [p.numpy() for p in state["pmfs"]], state["escape"].numpy()
            )
        self._fingerprint = str(state["fingerprint"])

    def tables_digest(self) -> str:
        """SHA-256 (hex) of the integer coding tables."""
        return self.tables.digest()

    def dequantize(self, symbols: NDArray[np.integer]) -> torch.Tensor:
        """The latents ``y_hat`` of integer symbols ``(items, C)`` (float32)."""
        return torch.from_numpy(np.asarray(symbols).astype(np.float32))

    def symbols(self, y: torch.Tensor) -> NDArray[np.int64]:
        """Integer symbols ``round(y)`` that :meth:`compress` codes, shape ``(items, C)``."""
        self._check_latents(y)
        return quantize(y.detach(), "symbols").cpu().numpy()

    def coding_likelihoods(self, symbols: NDArray[np.integer]) -> NDArray[np.float64]:
        """Coding-model probability of each symbol (escapes included), shape of `symbols`."""
        s = np.asarray(symbols)
        index = np.broadcast_to(np.arange(self.channels), s.shape)
        return self.tables.probabilities(s.reshape(-1), index.reshape(-1)).reshape(s.shape)

    def estimate_bits(self, y: torch.Tensor) -> NDArray[np.float64]:
        """Coding-model information content of ``round(y)`` per item, in bits."""
        lik = torch.from_numpy(self.coding_likelihoods(self.symbols(y)))
        return likelihood_bits(lik).numpy()

    def encode_symbols(self, encoder: ChunkEncoder, symbols: NDArray[np.integer]) -> None:
        """Record integer symbols ``(items, C)`` on `encoder` (channel by channel)."""
        s = np.asarray(symbols)
        if s.ndim != 2 or s.shape[1] != self.channels:
            raise ValueError(f"`symbols` must have shape (items, {self.channels}); got {s.shape}.")
        index = np.repeat(np.arange(self.channels), s.shape[0])
        self.tables.encode(encoder, s.T.reshape(-1), index)

    def decode_symbols(self, decoder: ChunkDecoder, items: int) -> NDArray[np.int64]:
        """Inverse of :meth:`encode_symbols`."""
        index = np.repeat(np.arange(self.channels), items)
        return self.tables.decode(decoder, index).reshape(self.channels, items).T.copy()

    def compress(
        self, y: torch.Tensor, *, chunk_items: int = 4096, check: bool = False
    ) -> ChunkedStream:
        """Real coding of ``round(y)`` in chunks of `chunk_items` items.

        With ``check`` every chunk is decoded and compared (``RuntimeError`` if it differs).
        """
        symbols = self.symbols(y)
        stream = encode_chunks(self.encode_symbols, symbols, chunk_items)
        if check and not np.array_equal(self.decompress_symbols(stream), symbols):
            raise RuntimeError("FactorizedPrior stream did not decode to its symbols")
        return stream

    def decompress_symbols(self, stream: ChunkedStream) -> NDArray[np.int64]:
        """Integer symbols ``(items, C)`` of a :meth:`compress` stream."""
        return decode_chunks(self.decode_symbols, stream, self.channels)

    def decompress(self, stream: ChunkedStream) -> torch.Tensor:
        """Dequantized latents (float32) of a :meth:`compress` stream."""
        return self.dequantize(self.decompress_symbols(stream))
