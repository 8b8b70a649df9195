"""Claim 6: is the RPC function jointly convex in (P, C), as R(D, C) is?

    R(D, P) is convex (Blau & Michaeli 2019) and R(D, C) is convex (Wang et al.); the
    question is whether R(P, C) is jointly convex too.  It is not: a binary counterexample
    (docs/references.md, "Findings"; not a claim of the paper): p = .3, eps = .1,
    R(.125, .89) = 0.0564299, R(.05, .92) = 0.00795496, midpoint R(.0875, .905) = 0.0323669
    > average.

The usual channel-mixing proof needs the constraint set to be convex in the channel;
H(S|X̂) is concave in it, so the proof does not apply.  The check runs midpoint tests on
random pairs of (P, C) for binary sources (closed form, TV) and Gaussian sources (W2),
reports the worst gap, and confirms the binary counterexamples with the brute-force
optimizer (``consistent`` is False if the brute force contradicts the closed form).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rdpc_theory import BinarySource, GaussianSource

from ._common import (
    BINARY_SOURCES,
    CLOSED_FORM_TOL,
    GAUSSIAN_SOURCES,
    PAPER_BINARY,
    describe,
    fmt,
    midpoint_gaps,
    optional_module,
)
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run", "REFERENCE_TRIPLE"]

CLAIM = "R(P,C) is jointly convex in (P,C), like R(D,P) and R(D,C)"
WHERE = "not a paper claim; docs/references.md, Findings"

#: ((P_a, C_a), (P_b, C_b)) in bits for p = .3, eps = .1 (docs/references.md, Findings).
REFERENCE_TRIPLE = ((0.125, 0.89), (0.05, 0.92))
CROSS_TOL = 1e-7


def _random_pairs(
    rng: np.random.Generator, n: int, p_max: float, c_lo: float, c_hi: float
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    a = (rng.uniform(0.0, p_max, n), rng.uniform(c_lo, c_hi, n))
    b = (rng.uniform(0.0, p_max, n), rng.uniform(c_lo, c_hi, n))
    return a, b


def _scan(
    source: BinarySource | GaussianSource, rng: np.random.Generator, n: int
) -> tuple[float, tuple[float, float, float, float]]:
    """Worst midpoint gap and its pair (P_a, C_a, P_b, C_b)."""
    h_lo, h_hi = source.label_noise_entropy(), source.label_entropy()
    fn: Callable[..., np.ndarray]
    if isinstance(source, BinarySource):
        fn = source.rpc
        p_max = min(source.p, 1.0 - source.p)
    else:
        g = source

        def fn(p: np.ndarray, c: np.ndarray) -> np.ndarray:
            return np.asarray(g.rpc(p, c, perception="w2"))

        p_max = source.var_x
    a, b = _random_pairs(rng, n, p_max, h_lo, h_hi + 0.02)
    gaps = midpoint_gaps(fn, a, b)
    k = int(np.nanargmax(gaps))
    return float(gaps[k]), (float(a[0][k]), float(a[1][k]), float(b[0][k]), float(b[1][k]))


def run(profile: Profile) -> CheckResult:
    rng = np.random.default_rng([profile.seed, 6])
    n = profile.pick(4_000, 40_000)
    worst: dict[str, tuple[float, tuple[float, float, float, float]]] = {}
    sources: list[BinarySource | GaussianSource] = [*BINARY_SOURCES, *GAUSSIAN_SOURCES]
    for src in progress(sources, profile, desc="RPC midpoint tests"):
        worst[describe(src)] = _scan(src, rng, n)
    binary_worst = max((worst[describe(s)] for s in BINARY_SOURCES), key=lambda t: t[0])
    gauss_worst = max(worst[describe(g)][0] for g in GAUSSIAN_SOURCES)
    (pa, ca), (pb, cb) = REFERENCE_TRIPLE
    src = PAPER_BINARY
    ref = [
        float(src.rpc(pa, ca)),
        float(src.rpc(pb, cb)),
        float(src.rpc((pa + pb) / 2, (ca + cb) / 2)),
    ]
    ref_gap = ref[2] - (ref[0] + ref[1]) / 2
    details: dict[str, object] = {
        "pairs_per_source": n,
        "worst_gap_by_source": {k: {"gap": v[0], "pair": v[1]} for k, v in worst.items()},
        "reference_triple_bits": {"R_a": ref[0], "R_b": ref[1], "R_mid": ref[2], "gap": ref_gap},
    }
    consistent = True
    bf = optional_module("rdpc_theory.brute_force")
    confirm = "brute force: not available"
    confirm_worst = ""
    if bf is not None:
        pts = [(pa, ca), (pb, cb), ((pa + pb) / 2, (ca + cb) / 2)]
        bf_rates = [bf.binary_brute_force(src.p, src.eps, P=p, C=c).rate for p, c in pts]
        err = max(abs(x - y) for x, y in zip(bf_rates, ref, strict=True))
        bf_gap = bf_rates[2] - (bf_rates[0] + bf_rates[1]) / 2
        consistent = err <= CROSS_TOL
        confirm = (
            f"brute force: {fmt(bf_rates[0], 7)}, {fmt(bf_rates[1], 7)}, midpoint "
            f"{fmt(bf_rates[2], 7)}, gap {fmt(bf_gap, 5)}, max |diff to closed form| {fmt(err)}"
        )
        details["reference_triple_brute_force_bits"] = {"rates": bf_rates, "gap": bf_gap}
        # The worst random pair, re-evaluated by brute force on its own source.
        name, (gap_w, (p1, c1, p2, c2)) = max(
            ((describe(s), worst[describe(s)]) for s in BINARY_SOURCES), key=lambda t: t[1][0]
        )
        wsrc = next(s for s in BINARY_SOURCES if describe(s) == name)
        wpts = [(p1, c1), (p2, c2), ((p1 + p2) / 2, (c1 + c2) / 2)]
        w_bf = [bf.binary_brute_force(wsrc.p, wsrc.eps, P=p, C=c).rate for p, c in wpts]
        w_cf = [float(wsrc.rpc(p, c)) for p, c in wpts]
        w_err = max(abs(x - y) for x, y in zip(w_bf, w_cf, strict=True))
        consistent = consistent and w_err <= CROSS_TOL
        w_bf_gap = w_bf[2] - (w_bf[0] + w_bf[1]) / 2
        confirm_worst = f" (brute force: gap {fmt(w_bf_gap, 5)})"
        details["worst_pair_brute_force_bits"] = {"rates": w_bf, "gap": w_bf_gap, "err": w_err}
    fails = ref_gap > CLOSED_FORM_TOL or binary_worst[0] > CLOSED_FORM_TOL
    wp = binary_worst[1]
    wname = next(k for k, v in worst.items() if v == binary_worst)
    evidence = (
        f"Binary (TV): not convex. p=.3, eps=.1: R(.125,.89) = {fmt(ref[0], 7)}, "
        f"R(.05,.92) = {fmt(ref[1], 7)}, midpoint R(.0875,.905) = {fmt(ref[2], 7)} > average by "
        f"{fmt(ref_gap, 5)} bits ({confirm}). Worst of {n:,} random pairs x "
        f"{len(BINARY_SOURCES)} binary sources: gap {fmt(binary_worst[0], 5)} bits for {wname} at "
        f"(P,C) = ({fmt(wp[0], 3)}, {fmt(wp[1], 3)}) & ({fmt(wp[2], 3)}, {fmt(wp[3], 3)})"
        f"{confirm_worst}. "
        f"Gaussian (W2): convex, worst gap {fmt(gauss_worst)} over {len(GAUSSIAN_SOURCES)} sources."
    )
    return CheckResult(
        "fails" if fails else "holds", evidence, consistent=consistent, details=details
    )
