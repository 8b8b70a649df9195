r"""Seeded random affine augmentation of image batches (the augmented-MNIST invariance).

The invariance group of Dubois et al. (2021, Sec. 5 and App. E): random rotation, x/y
translation, scaling and shear, applied at training *and* evaluation. Each image gets its own
parameters, drawn like :class:`torchvision.transforms.v2.RandomAffine` draws them

* angle :math:`\sim U(-\text{degrees}, \text{degrees})` (degrees, counter-clockwise);
* translation :math:`t_x = \operatorname{round}(U(-a W, a W))`, :math:`t_y` likewise with
  H (pixels; ``a = translate``);
* scale :math:`\sim U(\text{scale}_0, \text{scale}_1)`;
* x-shear :math:`\sim U(-\text{shear}, \text{shear})` (degrees; no y-shear),

but from an explicit :class:`torch.Generator` (``RandomAffine`` draws from the global torch
RNG, so runs and held-out sets would not be reproducible by seed). The warp itself is
:func:`torchvision.transforms.v2.functional.affine` (bilinear, zero fill), computed for the
whole batch at once (:func:`apply_affine`).

The canonical representative of an augmented image's orbit is the un-augmented image (the
identity parameters), which is what VIC decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "AffineRanges",
    "MNIST_AFFINE",
    "sample_affine",
    "inverse_affine_matrices",
    "apply_affine",
    "augment",
]


@dataclass(frozen=True)
class AffineRanges:
    """Ranges of the random affine maps (see the module docstring).

    Parameters
    ----------
    degrees : float
        Rotation angles in ``[-degrees, degrees]`` (degrees, >= 0).
    translate : float
        Shifts up to this fraction of the width/height (in [0, 1]).
    scale : (float, float)
        Scale factors in ``[scale[0], scale[1]]`` (0 < low <= high).
    shear : float
        x-shear angles in ``[-shear, shear]`` (degrees, in [0, 90)).
    """

    degrees: float = 45.0
    translate: float = 0.25
    scale: tuple[float, float] = (0.6, 1.4)
    shear: float = 25.0

    def __post_init__(self) -> None:
        if not self.degrees >= 0:
            raise ValueError(f"`degrees` must be >= 0; got {self.degrees!r}.")
        if not 0 <= self.translate <= 1:
            raise ValueError(f"`translate` must be in [0, 1]; got {self.translate!r}.")
        low, high = self.scale
        if not 0 < low <= high:
            raise ValueError(f"`scale` must satisfy 0 < low <= high; got {self.scale!r}.")
        if not 0 <= self.shear < 90:
            raise ValueError(f"`shear` must be in [0, 90); got {self.shear!r}.")


#: The reference's augmented-MNIST ranges (REFERENCE.md §3).
MNIST_AFFINE = AffineRanges()


def sample_affine(
    n: int, size: tuple[int, int], generator: torch.Generator, ranges: AffineRanges = MNIST_AFFINE
) -> torch.Tensor:
    """Parameters of `n` random affine maps for images of `size` ``(H, W)``.

    Returns
    -------
    torch.Tensor, shape (n, 5), float64
        Columns: angle (degrees), t_x, t_y (whole pixels), scale, x-shear (degrees).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`n` must be an integer >= 0; got {n!r}.")
    h, w = size
    u = torch.rand(n, 5, generator=generator, dtype=torch.float64)
    low, high = ranges.scale
    return torch.stack(
        [
            (2 * u[:, 0] - 1) * ranges.degrees,
            torch.round((2 * u[:, 1] - 1) * ranges.translate * w),
            torch.round((2 * u[:, 2] - 1) * ranges.translate * h),
            low + (high - low) * u[:, 3],
            (2 * u[:, 4] - 1) * ranges.shear,
        ],
        dim=1,
    )


def inverse_affine_matrices(params: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    r"""The output-to-input pixel maps of `params` (:func:`sample_affine`), normalised for
    :func:`torch.nn.functional.grid_sample`.

    The forward map of one row is :math:`M = T\,R(a)\,s\,\mathrm{Sh}_x(\phi)` about the image
    centre (rotation ``a``, scale ``s``, x-shear ``phi``, shift ``T``), the convention of
    :func:`torchvision.transforms.v2.functional.affine`; its inverse in centred pixel
    coordinates is :math:`\frac1s\begin{pmatrix}d & -b\\ -c & a\end{pmatrix}` with
    :math:`a = \cos\theta,\ b = -\cos\theta\tan\phi - \sin\theta,\ c = \sin\theta,\
    d = -\sin\theta\tan\phi + \cos\theta` (determinant 1), followed by the shift
    :math:`-T`. Rows are then divided by the half-sizes ``(W/2, H/2)`` so that pixel centres
    at ``(j - (W-1)/2, i - (H-1)/2)`` map to grid_sample's ``align_corners=False`` frame.

    Returns
    -------
    torch.Tensor, shape (n, 2, 3), float64
    """
    h, w = size
    rot, shear = torch.deg2rad(params[:, 0]), torch.deg2rad(params[:, 4])
    tx, ty, scale = params[:, 1], params[:, 2], params[:, 3]
    a, c = torch.cos(rot), torch.sin(rot)
    b = -a * torch.tan(shear) - c
    d = -c * torch.tan(shear) + a
    m = torch.stack([d, -b, -c, a], dim=1).reshape(-1, 2, 2) / scale[:, None, None]
    shift = -(m @ torch.stack([tx, ty], dim=1)[:, :, None])
    theta = torch.cat([m, shift], dim=2)
    return theta / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)[:, None]


def apply_affine(images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Warp each image ``(n, C, H, W)`` by its row of `params` (:func:`sample_affine`):
    bilinear, zero fill, the warp of :func:`torchvision.transforms.v2.functional.affine`
    (checked against it pixel by pixel in the tests) but for the whole batch in one
    :func:`~torch.nn.functional.grid_sample` call (that function takes one map per call:
    looping over images cost 40% of a training step)."""
    if images.ndim != 4 or params.shape != (len(images), 5):
        raise ValueError(
            "`images` must have shape (n, C, H, W) and `params` shape (n, 5); "
            f"got {tuple(images.shape)} and {tuple(params.shape)}."
        )
    n, _, h, w = images.shape
    theta = inverse_affine_matrices(params, (h, w)).to(images.dtype)
    # Pixel-centre coordinates times theta, as torchvision builds its grid (not
    # affine_grid's normalised base grid: the products round differently).
    xs = torch.linspace((1.0 - w) * 0.5, (w - 1.0) * 0.5, w, dtype=images.dtype)
    ys = torch.linspace((1.0 - h) * 0.5, (h - 1.0) * 0.5, h, dtype=images.dtype)
    base = torch.stack(
        [xs.expand(h, w), ys[:, None].expand(h, w), torch.ones(h, w, dtype=images.dtype)], -1
    ).reshape(1, h * w, 3)
    grid = (base @ theta.transpose(1, 2)).reshape(n, h, w, 2)
    return torch.nn.functional.grid_sample(
        images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )


def augment(
    images: torch.Tensor, generator: torch.Generator, ranges: AffineRanges = MNIST_AFFINE
) -> torch.Tensor:
    """`images` ``(n, C, H, W)``, each warped by its own random affine map."""
    params = sample_affine(len(images), tuple(images.shape[-2:]), generator, ranges)  # type: ignore[arg-type]
    return apply_affine(images, params)
