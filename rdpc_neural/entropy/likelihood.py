r"""Training-time pieces shared by the entropy models: quantization modes and bits.

Bits are computed from likelihoods in exactly one place, :func:`likelihood_bits`:

.. math:: \text{bits}(x) = -\sum_j \log_2 p_j(x),

summed over every dimension but the first (items). During training a model's likelihood of
``y + e``, ``e ~ U(-1/2, 1/2)`` (``"noise"``), is the density of the noisy latent, which
equals the probability mass of the rounded latent's interval in distribution; this makes
the training rate an unbiased estimate of the real code length [1]_.

References
----------
.. [1] J. Balle, V. Laparra, E. P. Simoncelli, "End-to-end optimized image compression",
   ICLR 2017, arXiv:1611.01704 (additive uniform noise as a proxy for rounding).
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

__all__ = [
    "QUANTIZATION_MODES",
    "LIKELIHOOD_FLOOR",
    "likelihood_bits",
    "bound_likelihood",
    "quantize",
    "resolve_mode",
    "parameter_fingerprint",
]

QUANTIZATION_MODES = ("noise", "dequantize", "symbols")
"""``"noise"``: ``y + U(-1/2, 1/2)`` (training); ``"dequantize"``: ``round(y - offset) +
offset`` (evaluation); ``"symbols"``: the integers ``round(y - offset)`` (coding)."""

LIKELIHOOD_FLOOR = 1e-9
"""Smallest training-time likelihood (about 30 bits): keeps ``-log2`` finite."""


def likelihood_bits(likelihoods: torch.Tensor) -> torch.Tensor:
    """Information content in bits per item, ``-sum_j log2 p_j`` over all but the first axis.

    >>> likelihood_bits(torch.tensor([[0.5, 0.25], [1.0, 0.125]])).tolist()
    [3.0, 3.0]
    """
    if likelihoods.ndim < 1:
        raise ValueError("`likelihoods` must have an item axis; got a scalar.")
    return -torch.log2(likelihoods).reshape(len(likelihoods), -1).sum(-1)


def bound_likelihood(p: torch.Tensor) -> torch.Tensor:
    """``max(p, LIKELIHOOD_FLOOR)`` in value, with the gradient of ``p`` (straight through),
    so that an unlikely value still pulls the model towards it."""
    return p + (p.clamp_min(LIKELIHOOD_FLOOR) - p).detach()


def resolve_mode(mode: str | None, training: bool) -> str:
    """`mode`, or ``"noise"`` in training and ``"dequantize"`` in evaluation when None."""
    if mode is None:
        return "noise" if training else "dequantize"
    if mode not in QUANTIZATION_MODES:
        raise ValueError(
            f"`mode` must be one of {', '.join(map(repr, QUANTIZATION_MODES))} or None; "
            f"got {mode!r}."
        )
    return mode


def quantize(y: torch.Tensor, mode: str, offset: torch.Tensor | None = None) -> torch.Tensor:
    """Noisy, dequantized or integer latents (see :data:`QUANTIZATION_MODES`).

    >>> y = torch.tensor([[0.4, 1.6]])
    >>> quantize(y, "dequantize").tolist(), quantize(y, "symbols").dtype
    ([[0.0, 2.0]], torch.int64)
    """
    if mode == "noise":
        return y + torch.empty_like(y).uniform_(-0.5, 0.5)
    shifted = y if offset is None else y - offset
    rounded = torch.round(shifted)
    if mode == "symbols":
        return rounded.to(torch.int64)
    if mode != "dequantize":
        raise ValueError(f"`mode` must be one of {QUANTIZATION_MODES}; got {mode!r}.")
    return rounded if offset is None else rounded + offset


def parameter_fingerprint(module: nn.Module) -> str:
    """SHA-256 of a module's parameter and buffer values: coding tables built from them are
    current only while it is unchanged."""
    digest = hashlib.sha256()
    for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
