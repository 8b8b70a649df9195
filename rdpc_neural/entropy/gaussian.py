r"""Gaussian conditional: latents coded under a Gaussian whose mean and scale are given.

Each latent :math:`y_i` has a predicted mean :math:`\mu_i` and scale :math:`\sigma_i` (from
a hyperprior, :mod:`rdpc_neural.entropy.hyperprior`). Its integer symbol is
:math:`k_i = \mathrm{round}(y_i - \mu_i)`, dequantized to :math:`k_i + \mu_i` [1]_.

* Training (``y_tilde = y + U(-1/2, 1/2)``, or the rounded value at evaluation):

  .. math:: p(\tilde y) = \Phi\Big(\frac{1/2 - |\tilde y - \mu|}{\sigma}\Big)
                         - \Phi\Big(\frac{-1/2 - |\tilde y - \mu|}{\sigma}\Big),

  written with both terms in the lower tail of :math:`\Phi` so that it keeps its relative
  precision; :math:`\sigma` is floored at ``scale_min``.
* Coding: a fixed table of ``scale_levels`` scales :math:`s_t`, log-spaced on
  ``[scale_min, scale_max]``; symbol ``i`` uses the smallest :math:`s_t \ge \sigma_i` (the
  last one above ``scale_max``). Table ``t`` covers :math:`k \in \{-W_t, \dots, W_t\}` with
  :math:`W_t = \max(0, \lceil s_t \Phi^{-1}(1 - \tau/2) - 1/2 \rceil)`, so that the escape
  mass :math:`2\Phi(-(W_t + 1/2)/s_t) \le \tau` (``tau = tail_mass``). The tables depend on
  the constructor arguments only. Rounding a scale up to the table costs at most
  :math:`\mathrm{KL}(N(0,\sigma^2) \| N(0, s^2))` nats per symbol; with the default 128
  levels (ratio 1.063 between neighbours) that is below 0.006 bit.
* Portability: the tables are computed once with ``erfc`` (whose last bits may differ
  between platforms), quantized to integers
  (:class:`~rdpc_neural.entropy.tables.IntegerTables`) and stored in ``state_dict``; a model
  loaded from a state dict codes with those integers and never recomputes them.

References
----------
.. [1] D. Minnen, J. Balle, G. Toderici, "Joint autoregressive and hierarchical priors for
   learned image compression", NeurIPS 2018, arXiv:1809.02736 (mean-scale hyperprior).
.. [2] J. Balle et al., "Variational image compression with a scale hyperprior", ICLR 2018,
   arXiv:1802.01436 (the scale table of the coding model is a quantization of sigma).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from scipy import special
from torch import nn

from .coder import ChunkDecoder, ChunkEncoder
from .factorized import DEFAULT_TAIL_MASS, MAX_SUPPORT
from .likelihood import bound_likelihood, quantize, resolve_mode
from .tables import IntegerTables

__all__ = ["GaussianConditional", "gaussian_interval_mass"]


def normal_cdf(x: torch.Tensor) -> torch.Tensor:
    """Standard normal CDF as ``erfc(-x / sqrt 2) / 2``: accurate far in the lower tail
    (``torch.special.ndtr`` loses relative precision below about -5 and is 0 below -8.3)."""
    out: torch.Tensor = 0.5 * torch.special.erfc(-x / math.sqrt(2.0))
    return out


def gaussian_interval_mass(offset: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    r""":math:`P(|Z\sigma - \delta| \le 1/2)`, i.e. the mass of the unit interval centred
    at ``offset`` under :math:`N(0, \sigma^2)`, accurate in the tails.

    >>> round(float(gaussian_interval_mass(torch.tensor(0.0), torch.tensor(1.0))), 6)
    0.382925
    """
    v = offset.abs()
    return normal_cdf((0.5 - v) / scale) - normal_cdf((-0.5 - v) / scale)


class GaussianConditional(nn.Module):
    """Gaussian conditional entropy model with a fixed scale table (see module notes).

    Parameters
    ----------
    scale_min, scale_max : float
        Range of the coding scale table; training scales are floored at `scale_min`.
    scale_levels : int
        Number of table scales (>= 2), log-spaced.
    tail_mass : float
        Mass outside each table's support, in (0, 0.1]; coded through the escape path.
    """

    def __init__(
        self,
        scale_min: float = 0.11,
        scale_max: float = 256.0,
        scale_levels: int = 128,
        tail_mass: float = DEFAULT_TAIL_MASS,
    ) -> None:
        super().__init__()
        if not (0 < scale_min < scale_max < math.inf):
            raise ValueError(
                f"`scale_min`, `scale_max` must satisfy 0 < scale_min < scale_max < inf; got "
                f"{scale_min!r}, {scale_max!r}."
            )
        if isinstance(scale_levels, bool) or not isinstance(scale_levels, int) or scale_levels < 2:
            raise ValueError(f"`scale_levels` must be an integer >= 2; got {scale_levels!r}.")
        if not 0 < tail_mass <= 0.1:
            raise ValueError(f"`tail_mass` must be in (0, 0.1]; got {tail_mass!r}.")
        self.scale_min, self.scale_max = float(scale_min), float(scale_max)
        self.scale_levels, self.tail_mass = scale_levels, float(tail_mass)
        self.scale_table = np.exp(
            np.linspace(math.log(scale_min), math.log(scale_max), scale_levels)
        )
        self._tables: IntegerTables | None = None

    def likelihood(
        self, y_hat: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """Training-time probability of ``y_hat`` (module notes; no floor)."""
        return gaussian_interval_mass(y_hat - mean, scale.clamp_min(self.scale_min))

    def forward(
        self, y: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor, mode: str | None = None
    ) -> dict[str, torch.Tensor]:
        """Quantize `y` around `mean` and give its likelihoods.

        Returns
        -------
        dict
            ``"y_hat"``: ``y + U(-1/2, 1/2)`` (``"noise"``, default in training) or
            ``round(y - mean) + mean`` (``"dequantize"``, default in eval);
            ``"likelihoods"``: their probabilities, floored at 1e-9 (straight-through).
        """
        mode = resolve_mode(mode, self.training)
        if mode == "symbols":
            raise ValueError("`mode` must be 'noise' or 'dequantize' in forward; got 'symbols'.")
        if not (y.shape == mean.shape == scale.shape):
            raise ValueError(
                f"`y`, `mean`, `scale` must have one shape; got {tuple(y.shape)}, "
                f"{tuple(mean.shape)}, {tuple(scale.shape)}."
            )
        y_hat = quantize(y, mode, mean)
        return {
            "y_hat": y_hat,
            "likelihoods": bound_likelihood(self.likelihood(y_hat, mean, scale)),
        }

    # ------------------------------------------------------------------- coding time
    def update(self) -> IntegerTables:
        """Build the coding tables (one per table scale; module notes)."""
        s = torch.from_numpy(self.scale_table)
        z = float(-special.ndtri(self.tail_mass / 2))
        widths = np.maximum(0, np.ceil(self.scale_table * z - 0.5)).astype(np.int64)
        if 2 * widths.max() + 1 > MAX_SUPPORT:
            raise ValueError(
                f"`scale_max` = {self.scale_max} needs a support wider than {MAX_SUPPORT}."
            )
        pmfs, escape = [], []
        for t, w in enumerate(widths):
            k = torch.arange(-w, w + 1, dtype=torch.float64)
            pmfs.append(gaussian_interval_mass(k, s[t]).numpy())
            escape.append(2.0 * float(normal_cdf(-(w + 0.5) / s[t])))
        self._tables = IntegerTables(-widths, pmfs, np.array(escape))
        return self._tables

    @property
    def tables(self) -> IntegerTables:
        """The coding tables (built on first use from the constructor's constants, or loaded
        from a state dict as integers)."""
        if self._tables is None:
            return self.update()
        return self._tables

    def get_extra_state(self) -> dict[str, Any]:
        """The integer tables travel with ``state_dict``: a decoder loading them codes exactly
        as the encoder did, whatever its ``erfc`` gives (module notes)."""
        state = self.tables.state()
        return {
            "lower": torch.from_numpy(state["lower"]),
            "counts": [torch.from_numpy(c) for c in state["counts"]],
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self._tables = IntegerTables.from_state(
            {"lower": state["lower"].numpy(), "counts": [c.numpy() for c in state["counts"]]}
        )
        if len(self._tables) != self.scale_levels:
            raise ValueError(
                f"`state` holds {len(self._tables)} Gaussian tables; this model has "
                f"{self.scale_levels} scale levels."
            )

    def scale_index(self, scale: torch.Tensor) -> NDArray[np.int64]:
        """Table index of each scale: the smallest table scale >= it (flattened)."""
        s = scale.detach().double().cpu().numpy().reshape(-1)
        if not np.all(np.isfinite(s)):
            raise ValueError("`scale` must be finite.")
        idx = np.searchsorted(self.scale_table, s, side="left")
        return np.minimum(idx, self.scale_levels - 1).astype(np.int64)

    def coding_likelihoods(
        self, symbols: NDArray[np.integer], index: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Coding probability of flattened `symbols` under their tables (escapes included)."""
        return self.tables.probabilities(np.asarray(symbols).reshape(-1), index)

    def encode_symbols(
        self, encoder: ChunkEncoder, symbols: NDArray[np.integer], index: NDArray[np.int64]
    ) -> None:
        """Record flattened integer symbols with their table indices on `encoder`."""
        self.tables.encode(encoder, np.asarray(symbols).reshape(-1), index)

    def decode_symbols(self, decoder: ChunkDecoder, index: NDArray[np.int64]) -> NDArray[np.int64]:
        """Inverse of :meth:`encode_symbols` (flattened symbols)."""
        return self.tables.decode(decoder, index)
