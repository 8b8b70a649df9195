"""Stateless random streams: every random draw of a run is a function of (seed, stream, index).

No global seeding anywhere: a run resumed at step t draws exactly what the uninterrupted run
drew at step t. The two kinds of this package keep the schemes their published results were
produced with (changing a scheme would change every result):

* :func:`torch_generator` (image codecs): a CPU ``torch.Generator`` seeded by an integer mix
  of (seed, stream, index);
* :func:`numpy_rng` (synthetic-source codecs): a NumPy ``Generator`` whose ``SeedSequence``
  entropy is the tuple itself, so distinct tuples give independent streams.
"""

from __future__ import annotations

from typing import Any

__all__ = ["torch_generator", "numpy_rng"]


def torch_generator(seed: int, stream: int, index: int) -> Any:
    """A CPU ``torch.Generator`` for (seed, stream, index)."""
    import torch

    mixed = (seed * 1_000_003 + stream) * 2_147_483_647 + index
    return torch.Generator().manual_seed(mixed % (2**63 - 1))


def numpy_rng(*entropy: int) -> Any:
    """``numpy.random.default_rng(list(entropy))``: independent streams per tuple."""
    import numpy as np

    return np.random.default_rng(list(entropy))
