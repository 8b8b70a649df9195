"""Former home of the discrete solvers, kept importable: see :mod:`rdpc_theory.rate_distortion`.

Re-exports the names that :mod:`rdpc_theory.discrete` and :mod:`rdpc_theory.convex` use;
new code should import from :mod:`rdpc_theory.rate_distortion`.
"""

from __future__ import annotations

from .rate_distortion import (
    FEASIBILITY_TOL,
    LocalSolution,
    SlopeSolution,
    TargetSolution,
    combined_cost,
    convex_concave,
    lagrangian_point,
    minimize_label_entropy,
    perception_slope_solve,
    slope_solve,
    solve_target,
)

__all__ = [
    "FEASIBILITY_TOL",
    "LocalSolution",
    "SlopeSolution",
    "TargetSolution",
    "combined_cost",
    "convex_concave",
    "lagrangian_point",
    "minimize_label_entropy",
    "perception_slope_solve",
    "slope_solve",
    "solve_target",
]
