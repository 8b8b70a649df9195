"""Exact and numerical rate–distortion–perception–classification theory (no torch here)."""

from .binary import BinarySource
from .discrete import DiscreteSource, RDPCCurve, RDPCResult
from .gaussian import GaussianSource

__all__ = ["BinarySource", "GaussianSource", "DiscreteSource", "RDPCResult", "RDPCCurve"]
