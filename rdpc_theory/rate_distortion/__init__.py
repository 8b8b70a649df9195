r"""Numerical rate–distortion(–perception–classification) solvers for discrete sources.

All in nats, on the support of the source marginal p; :class:`rdpc_theory.DiscreteSource`
is the user-facing facade.  One module per idea:

* :mod:`.kernel` — Gibbs kernels of slope problems :math:`\min_Q I + E_Q w`;
* :mod:`.slope` — slope problems with Blahut's certified gap (plain Blahut–Arimoto, or
  BA + the interior-point method of :mod:`.interior_point`, low-rank for smooth kernels);
* :mod:`.dual_bound` — the certified gap: Blahut's dual point or its repair;
* :mod:`.product` — R(D) and R(D, P) on product grids with a Kronecker kernel;
* :mod:`.perception` — slope problems with a TV/KL ball on the output marginal
  (generalized Sinkhorn, μ-dual certificate; TV balls go to :mod:`.tv_barrier`);
* :mod:`.tv_barrier` — TV-ball slope problems by a barrier method on the dual;
* :mod:`.target` — a cost bound :math:`E_Q c \le b` (R(D), R(D, P)) by a SciPy root
  search over slopes with certified upper and lower bounds;
* :mod:`.classification` — the (non-convex) :math:`H(S|\hat X) \le C` constraint:
  Lagrangian points, phase I, convex–concave procedure.

BLAS threads are limited by problem size around each solver call (:mod:`rdpc_theory.threads`).
"""

from .classification import LocalSolution, convex_concave, lagrangian_point, minimize_label_entropy
from .interior_point import RangeBasis, interior_point_solve, range_basis
from .kernel import FEASIBILITY_TOL, combined_cost, gibbs_channel, gibbs_kernel
from .perception import perception_certificate, perception_slope_solve
from .slope import SLOPE_METHODS, SlopeSolution, blahut_bounds, slope_solve
from .target import TargetSolution, solve_target

__all__ = [
    "FEASIBILITY_TOL",
    "SLOPE_METHODS",
    "LocalSolution",
    "RangeBasis",
    "SlopeSolution",
    "TargetSolution",
    "blahut_bounds",
    "combined_cost",
    "convex_concave",
    "gibbs_channel",
    "gibbs_kernel",
    "interior_point_solve",
    "lagrangian_point",
    "minimize_label_entropy",
    "perception_certificate",
    "perception_slope_solve",
    "range_basis",
    "slope_solve",
    "solve_target",
]
