"""Claim 3: every RDPC function is non-increasing in each of its arguments.

    "R(D, P, C) is non-increasing in D, P and C" (each bound only enlarges the feasible
    set of test channels as it grows; the definition of R(D, P, C) in Wang et al., IEEE JSAC
    2025, arXiv:2405.04144).

Checked on dense grids for every closed form (rd, rc, rdc, rdp, rpc, rdpc; Gaussian with
W2 and KL perception) and several sources, including infeasible regions (rate ``inf``).
The evidence is the largest increase of the rate along any argument.  Monotonicity
follows from the definition, so an increase would be an implementation error
(``consistent = False``), not a paper finding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rdpc_theory import BinarySource, GaussianSource

from ._common import (
    BINARY_SOURCES,
    CLOSED_FORM_TOL,
    GAUSSIAN_SOURCES,
    FloatArray,
    describe,
    fmt,
    worst_increase,
)
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run"]

CLAIM = "R(D,P,C) and its slices are non-increasing in every argument (D, P, C)"
WHERE = "definition of R(D,P,C)"


def _axes(source: BinarySource | GaussianSource, n: int, perception: str) -> dict[str, FloatArray]:
    if isinstance(source, BinarySource):
        c_lo = max(source.label_noise_entropy() - 0.05, 0.0)
        return {
            "D": np.linspace(0.0, 0.6, n),
            "P": np.linspace(0.0, 0.55, n),
            "C": np.linspace(c_lo, source.label_entropy() + 0.05, n),
        }
    h_sx, h_s = source.label_noise_entropy(), source.label_entropy()
    p_max = 2.0 * source.var_x if perception == "w2" else 2.0
    return {
        "D": np.linspace(0.0, 2.5 * source.var_x, n),
        "P": np.linspace(0.0, p_max, n),
        "C": np.linspace(h_sx - 0.2, h_s + 0.2, n),
    }


def _functions(
    source: BinarySource | GaussianSource, perception: str
) -> dict[str, tuple[tuple[str, ...], Callable[..., FloatArray]]]:
    if isinstance(source, BinarySource):
        s = source
        return {
            "rd": (("D",), s.rd),
            "rc": (("C",), s.rc),
            "rdc": (("D", "C"), s.rdc),
            "rdp": (("D", "P"), s.rdp),
            "rpc": (("P", "C"), s.rpc),
            "rdpc": (("D", "P", "C"), s.rdpc),
        }
    g, pm = source, perception
    return {
        "rd": (("D",), g.rd),
        "rc": (("C",), g.rc),
        "rdc": (("D", "C"), g.rdc),
        "rdp": (("D", "P"), lambda d, p: g.rdp(d, p, perception=pm)),
        "rpc": (("P", "C"), lambda p, c: g.rpc(p, c, perception=pm)),
        "rdpc": (("D", "P", "C"), lambda d, p, c: g.rdpc(d, p, c, perception=pm)),
    }


def run(profile: Profile) -> CheckResult:
    n3 = profile.pick(16, 48)
    n2 = profile.pick(60, 250)
    cases: list[tuple[BinarySource | GaussianSource, str]] = [(s, "tv") for s in BINARY_SOURCES]
    cases += [(g, pm) for g in GAUSSIAN_SOURCES for pm in ("w2", "kl")]
    worst_value, worst_where = 0.0, "none"
    per_function: dict[str, float] = {}
    n_points = 0
    for source, perception in progress(cases, profile, desc="monotonicity"):
        for name, (args, fn) in _functions(source, perception).items():
            n = {1: 4 * n2, 2: n2, 3: n3}[len(args)]
            axes = _axes(source, n, perception)
            grids = np.meshgrid(*(axes[a] for a in args), indexing="ij")
            values = np.asarray(fn(*grids), dtype=np.float64)
            n_points += values.size
            for k, arg in enumerate(args):
                inc = worst_increase(values, k)
                key = f"{name}/{arg}"
                per_function[key] = max(per_function.get(key, 0.0), inc)
                if inc > worst_value:
                    worst_value, worst_where = inc, f"{name} in {arg}, {describe(source)}"
    tol = CLOSED_FORM_TOL
    ok = worst_value <= tol
    n_sources = len(BINARY_SOURCES) + len(GAUSSIAN_SOURCES)
    evidence = (
        f"{n_points:,} grid points, {n_sources} sources (binary TV; Gaussian W2 and KL), "
        f"functions rd, rc, rdc, rdp, rpc, rdpc: largest increase along any argument = "
        f"{fmt(worst_value)}" + ("" if ok else f" at {worst_where}") + f" (tolerance {fmt(tol)})."
    )
    return CheckResult(
        "holds" if ok else "fails",
        evidence,
        consistent=ok,
        details={
            "grid_points": n_points,
            "worst_increase": worst_value,
            "worst_where": worst_where,
            "worst_increase_by_function_argument": per_function,
            "tolerance": tol,
        },
    )
