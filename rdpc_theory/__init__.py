"""Exact and numerical rate–distortion–perception–classification theory (no torch here)."""

from .binary import BinarySource
from .gaussian import GaussianSource

__all__ = ["BinarySource", "GaussianSource"]
