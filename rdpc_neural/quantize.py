"""Uniform scalar quantizer with shared-seed subtractive dither (universal quantization).

Encoder and decoder share a seed, hence the dither ``u ~ U[-step/2, step/2)`` per latent
coordinate. The encoder sends the symbol ``k = round((z + u + 1) / step)`` of the nearest of
the ``L`` centers ``c_k = -1 + k * step`` (``step = 2 / (L - 1)``); the decoder outputs
``z_hat = c_k - u``.

Notes
-----
For ``|z| <= 1`` (the encoder ends in ``tanh``) the point ``v = z + u`` lies in
``[-1 - step/2, 1 + step/2)``, where rounding to the infinite lattice ``-1 + step * Z``
never leaves the L centers: no overload. Hence the error ``z_hat - z = c_k - v`` is exactly
uniform on ``[-step/2, step/2]`` and independent of ``z`` (Ziv 1985; Schuchman 1964), which is
what makes the dithered quantizer "universal".

Gradients (the rounding has none) follow ``grad_mode``:

* ``"soft-to-hard"`` (published): the forward value is hard; the backward pass uses the
  soft assignment ``sum_k c_k softmax_k(-sigma * |v - c_k|)`` (Agustsson et al. 2017,
  as in the official RDPC/uRDP code with sigma = 1 for MNIST, 2/L for SVHN).
* ``"straight-through"``: the backward pass treats the rounding as the identity.

References
----------
[1] J. Ziv, "On universal quantization", IEEE Trans. IT 31(3), 1985.
[2] E. Agustsson et al., "Soft-to-hard vector quantization for end-to-end learning
    compressible representations", NeurIPS 2017, arXiv:1704.00648.
[3] G. Zhang et al., "Universal rate-distortion-perception representations for lossy
    compression", NeurIPS 2021, arXiv:2106.10311.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .kinds.image_config import GRAD_MODES

__all__ = ["UniformQuantizer", "GRAD_MODES"]


class UniformQuantizer(nn.Module):
    """L-level quantizer on [-1, 1] with subtractive dither and an explicit gradient mode.

    Parameters
    ----------
    levels : int
        Number of centers L (>= 2).
    grad_mode : {"soft-to-hard", "straight-through"}
        Backward-pass surrogate (see the module notes).
    soft_sigma : float
        Sharpness of the soft assignment (> 0; only for ``"soft-to-hard"``).

    Examples
    --------
    >>> q = UniformQuantizer(4)
    >>> z = torch.tensor([[0.0, 0.9]])
    >>> u = torch.zeros_like(z)
    >>> out = q(z, u)
    >>> out["symbols"].tolist(), [round(v, 4) for v in out["z_hat"][0].tolist()]
    ([[2, 3]], [0.3333, 1.0])
    """

    centers: torch.Tensor

    def __init__(
        self, levels: int, grad_mode: str = "soft-to-hard", soft_sigma: float = 1.0
    ) -> None:
        super().__init__()
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
            raise ValueError(f"`levels` must be an integer >= 2; got {levels!r}.")
        if grad_mode not in GRAD_MODES:
            raise ValueError(
                f"`grad_mode` must be one of {', '.join(map(repr, GRAD_MODES))}; got {grad_mode!r}."
            )
        if not (soft_sigma > 0 and math.isfinite(soft_sigma)):
            raise ValueError(f"`soft_sigma` must be > 0; got {soft_sigma!r}.")
        self.levels = levels
        self.grad_mode = grad_mode
        self.soft_sigma = float(soft_sigma)
        self.step = 2.0 / (levels - 1)
        self.register_buffer("centers", torch.linspace(-1.0, 1.0, levels), persistent=False)

    @property
    def rate_bits(self) -> float:
        """Nominal bits per latent coordinate, ``log2 L``."""
        return math.log2(self.levels)

    def dither(
        self, shape: torch.Size | tuple[int, ...], generator: torch.Generator
    ) -> torch.Tensor:
        """Shared dither ``U[-step/2, step/2)`` drawn from `generator` (the shared seed)."""
        u = torch.rand(shape, generator=generator, device=generator.device)
        return ((u - 0.5) * self.step).to(self.centers.device)

    def symbols(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Integer symbols ``k in {0, ..., L-1}`` sent for latents `z` with dither `u`."""
        k = torch.round((z.detach() + u + 1.0) / self.step)
        return k.clamp_(0, self.levels - 1).to(torch.int64)

    def dequantize(self, symbols: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Decoder side: ``c_k - u``."""
        return self.centers[symbols] - u

    def forward(self, z: torch.Tensor, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """Quantize `z` (values in [-1, 1]) with dither `u`.

        Returns
        -------
        dict
            ``"z_hat"``: the decoder's input ``c_k - u`` (hard value, surrogate gradient);
            ``"symbols"``: the int64 symbols ``k``.
        """
        k = self.symbols(z, u)
        hard = self.centers[k]
        v = z + u
        if self.grad_mode == "straight-through":
            q = v + (hard - v).detach()
        else:
            weights = torch.softmax(-self.soft_sigma * (v.unsqueeze(-1) - self.centers).abs(), -1)
            soft = (weights * self.centers).sum(-1)
            q = soft + (hard - soft).detach()
        return {"z_hat": q - u, "symbols": k}
