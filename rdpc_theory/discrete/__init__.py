"""Numerical RDPC function of any finite source.

Modules: :mod:`~rdpc_theory.discrete.source` (the :class:`DiscreteSource` facade),
:mod:`~rdpc_theory.discrete.discretize` (discretized continuous sources),
:mod:`~rdpc_theory.discrete.validation` (input checks),
:mod:`~rdpc_theory.discrete.results` (result objects), :mod:`~rdpc_theory.discrete.problem`
(R(D), R(D, P) and the classification-constrained solver), and
:mod:`~rdpc_theory.discrete.certificate` (the posterior-LP lower bound when
:math:`H(S\\mid\\hat X) \\le C` binds).
"""

from .results import DistortionRange, RDPCCurve, RDPCResult
from .source import METHODS, DiscreteSource

__all__ = ["DiscreteSource", "RDPCResult", "RDPCCurve", "DistortionRange", "METHODS"]
