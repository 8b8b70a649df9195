"""The built-in stages of ``rdpc reproduce``, one module per family (importing registers)."""

from . import (
    stage_checks,
    stage_invariant,
    stage_invariant_mnist,
    stage_mnist,
    stage_synthetic,
    stage_theory,
)

__all__ = [
    "stage_checks",
    "stage_theory",
    "stage_synthetic",
    "stage_invariant",
    "stage_invariant_mnist",
    "stage_mnist",
]
