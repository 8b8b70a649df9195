"""Numerical RDPC function of any finite source (see :mod:`rdpc_theory.discrete.source`)."""

from .source import METHODS, DiscreteSource, RDPCCurve, RDPCResult

__all__ = ["DiscreteSource", "RDPCResult", "RDPCCurve", "METHODS"]
