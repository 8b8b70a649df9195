"""Claim 5 (binary): no classification–perception tradeoff in the RPC function.

    "unlike signal restoration, RPC shows no classification–perception tradeoff"
    (Wang et al., abstract and Sec. III): R(P, C) = R(∞, C) for every P >= 0.

In the binary model (X ~ Bern(p), S = X xor Bern(eps), TV perception) this fails for
every p < 1/2 and 0 < eps < 1/2: below the threshold P*(C) the perception bound pins
P(X̂=1) near p, and the best classification-constrained channel needs a different
output marginal, so R(P, C) > R_C(C).  It holds for eps = 0 and for p = 1/2.

The check scans a grid of (p, eps, C), reports the counterexample p = .3, eps = .1,
C = .8 (bits) and confirms it with the brute-force optimizer (and the discrete solver
when available).  The verdict is ``fails`` (a finding); ``consistent`` is False only if
the closed form and the independent optimizers disagree.
"""

from __future__ import annotations

import math

import numpy as np

from rdpc_theory import BinarySource

from ._common import CLOSED_FORM_TOL, fmt, optional_module
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run", "COUNTEREXAMPLE"]

CLAIM = "RPC has no classification-perception tradeoff: R(P,C) = R(inf,C) for all P (binary)"
WHERE = "abstract; binary RPC (Sec. III)"

#: (p, eps, C in bits) of the counterexample (docs/references.md, Findings).
COUNTEREXAMPLE = (0.3, 0.1, 0.8)
#: Closed form vs brute force: both are exact up to root-finding tolerances.
CROSS_TOL = 1e-7


def _gap(src: BinarySource, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R(0, C) - R(inf, C) in bits where both are finite (else 0), and the C values where
    R(0, C) is infinite but R(inf, C) is not (to be checked against brute force)."""
    r0, rinf = src.rpc(0.0, c), src.rc(c)
    both = np.isfinite(r0) & np.isfinite(rinf)
    with np.errstate(invalid="ignore"):
        gap = np.where(both, r0 - rinf, 0.0)
    return gap, c[np.isinf(r0) & np.isfinite(rinf)]


def run(profile: Profile) -> CheckResult:
    k = profile.pick(8, 16)
    n_c = profile.pick(40, 120)
    ps = np.linspace(0.02, 0.5, k)
    epss = np.linspace(0.0, 0.45, k)
    tradeoff = np.zeros((k, k), dtype=bool)
    worst = (0.0, 0.0, 0.0, 0.0)  # gap, p, eps, C
    only_perception_infinite: list[tuple[float, float, float]] = []
    for i, p in enumerate(progress(ps, profile, desc="binary RPC scan", total=k)):
        for j, eps in enumerate(epss):
            src = BinarySource(float(p), float(eps))
            c = np.linspace(src.label_noise_entropy(), src.label_entropy(), n_c)
            gap, odd = _gap(src, c)
            only_perception_infinite += [(float(p), float(eps), float(x)) for x in odd]
            tradeoff[i, j] = bool(gap.max() > CLOSED_FORM_TOL)
            if gap.max() > worst[0]:
                m = int(np.argmax(gap))
                worst = (float(gap[m]), float(p), float(eps), float(c[m]))
    interior = (ps[:, None] < 0.5) & (epss[None, :] > 0.0)
    edge = ~interior
    # The counterexample, and where along P the tradeoff ends at that C.
    p0, eps0, c0 = COUNTEREXAMPLE
    src = BinarySource(p0, eps0)
    r_zero, r_inf = float(src.rpc(0.0, c0)), float(src.rc(c0))
    p_grid = np.linspace(0.0, 0.3, profile.pick(301, 3001))
    r_curve = src.rpc(p_grid, c0)
    binding = p_grid[r_curve > r_inf + CLOSED_FORM_TOL]
    p_star = float(binding.max()) if binding.size else 0.0
    details: dict[str, object] = {
        "grid_p": ps,
        "grid_eps": epss,
        "tradeoff_found": tradeoff,
        "worst_gap_bits": worst[0],
        "worst_at": {"p": worst[1], "eps": worst[2], "C_bits": worst[3]},
        "counterexample": {
            "p": p0,
            "eps": eps0,
            "C_bits": c0,
            "R(0,C)_bits": r_zero,
            "R(inf,C)_bits": r_inf,
            "tradeoff_until_P": p_star,
        },
    }
    # Independent confirmation.
    consistent = True
    confirm: list[str] = []
    bf = optional_module("rdpc_theory.brute_force")
    if bf is not None:
        b0 = bf.binary_brute_force(p0, eps0, P=0.0, C=c0).rate
        binf = bf.binary_brute_force(p0, eps0, C=c0).rate
        err = max(abs(b0 - r_zero), abs(binf - r_inf))
        consistent &= err <= CROSS_TOL
        confirm.append(
            f"brute force R(0,C)={fmt(b0, 6)}, R(inf,C)={fmt(binf, 6)} (|diff to closed form| "
            f"<= {fmt(err)})"
        )
        details["brute_force"] = {"R(0,C)_bits": b0, "R(inf,C)_bits": binf, "max_abs_err": err}
        # R(0, C) = inf where R(inf, C) is finite: the closed form claims infeasibility;
        # the brute force decides (X^ = X has TV 0 and H(S|X^) = H(S|X), the smallest C).
        disagreements = []
        for pp, ee, cc in only_perception_infinite[:5]:
            rate = bf.binary_brute_force(pp, ee, P=0.0, C=cc).rate
            if math.isfinite(rate):
                disagreements.append({"p": pp, "eps": ee, "C_bits": cc, "brute_force": rate})
        if disagreements:
            consistent = False
            d0 = disagreements[0]
            confirm.append(
                f"INCONSISTENT: closed form R(0,C) = inf but brute force "
                f"{fmt(d0['brute_force'], 6)} at p={fmt(d0['p'], 6)}, eps={fmt(d0['eps'], 6)}, "
                f"C={fmt(d0['C_bits'], 6)} (= H(S|X)); {len(only_perception_infinite)} such grid "
                "points"
            )
        details["closed_form_infinite_at_P0"] = only_perception_infinite
        details["brute_force_disagreements"] = disagreements
    else:
        confirm.append("brute force: not available (rdpc_theory.brute_force missing)")
    ds = _discrete_solver_rates(p0, eps0, c0)
    if ds is not None:
        (s0, s0_lo, s0_hi), (sinf, sinf_lo, sinf_hi) = ds
        inside = (s0_lo - CROSS_TOL <= r_zero <= s0_hi + CROSS_TOL) and (
            sinf_lo - CROSS_TOL <= r_inf <= sinf_hi + CROSS_TOL
        )
        certified = s0_lo > sinf_hi
        confirm.append(
            f"discrete solver R(0,C) in [{fmt(s0_lo, 6)}, {fmt(s0_hi, 6)}], R(inf,C) in "
            f"[{fmt(sinf_lo, 6)}, {fmt(sinf_hi, 6)}]" + (" (gap certified)" if certified else "")
        )
        consistent &= inside
        details["discrete_solver"] = {
            "R(0,C)": [s0, s0_lo, s0_hi],
            "R(inf,C)": [sinf, sinf_lo, sinf_hi],
            "gap_certified": certified,
        }
    else:
        confirm.append("discrete solver: not available")
    n_int = int(interior.sum())
    evidence = (
        f"Fails for p < 1/2, 0 < eps < 1/2. Counterexample p={p0}, eps={eps0}, C={c0} bits: "
        f"R(0,C) = {fmt(r_zero, 6)} > R(inf,C) = {fmt(r_inf, 6)} bits (gap "
        f"{fmt(r_zero - r_inf)}); R(P,C) > R(inf,C) for P <= {fmt(p_star, 3)}. "
        f"Scan of {k}x{k} (p, eps) x {n_c} C: tradeoff in {int(tradeoff[interior].sum())}/{n_int} "
        f"sources with p<1/2, eps>0, in {int(tradeoff[edge].sum())}/{int(edge.sum())} with "
        f"eps=0 or p=1/2 (holds there); largest gap {fmt(worst[0])} bits at p={fmt(worst[1], 2)}, "
        f"eps={fmt(worst[2], 2)}, C={fmt(worst[3], 3)}. " + "; ".join(confirm) + "."
    )
    verdict = "fails" if (r_zero - r_inf > CLOSED_FORM_TOL and tradeoff.any()) else "holds"
    return CheckResult(verdict, evidence, consistent=consistent, details=details)


def _discrete_solver_rates(
    p: float, eps: float, c_bits: float
) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """(rate, lower, upper) in bits at P = 0 and P = inf from DiscreteSource, if it exists."""
    theory = optional_module("rdpc_theory")
    if theory is None or not hasattr(theory, "DiscreteSource"):
        return None
    src = theory.DiscreteSource(
        np.array([1.0 - p, p]),
        np.array([[1.0 - eps, eps], [eps, 1.0 - eps]]),
        np.array([[0.0, 1.0], [1.0, 0.0]]),
    )
    out = []
    for bound in (0.0, math.inf):
        kw = {"C": c_bits} if bound == math.inf else {"P": bound, "C": c_bits, "perception": "tv"}
        r = src.solve(**kw)
        out.append((float(r.rate), float(r.lower), float(r.upper)))
    return out[0], out[1]
