"""Claim 2: the rate–distortion–classification function R(D, C) is convex in (D, C).

    "RDC is convex" (Wang et al., abstract).

The textbook channel-mixing proof does not apply (H(S|X̂) is concave in the channel, so
the constraint set is not convex), which makes the claim worth testing.  Midpoint tests
on many random pairs (D, C) for binary and Gaussian sources (closed forms, which the
``closed_forms`` check ties to brute force), and, when the discrete solver exists, for
random discrete sources, where a violation counts only if it is certified by the
solver's bounds.  The evidence is the worst gap R(mid) - (R(a) + R(b))/2 (> 0 violates).
"""

from __future__ import annotations

import numpy as np

from rdpc_theory import BinarySource, GaussianSource

from ._common import (
    BINARY_SOURCES,
    CLOSED_FORM_TOL,
    GAUSSIAN_SOURCES,
    describe,
    discrete_source,
    fmt,
    midpoint_gaps,
)
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run"]

CLAIM = "R(D,C) is convex in (D,C)"
WHERE = "abstract (RDC is convex)"


def _pairs(
    src: BinarySource | GaussianSource, rng: np.random.Generator, n: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    h_lo, h_hi = src.label_noise_entropy(), src.label_entropy()
    d_hi = 0.55 if isinstance(src, BinarySource) else 1.2 * src.var_x
    # Half the pairs anywhere, half near the feasibility edge and the kink D = D_C.
    c_near = h_lo + (h_hi - h_lo) * rng.beta(0.5, 2.0, size=(2, n))
    c_any = rng.uniform(h_lo, h_hi + 0.05, size=(2, n))
    c = np.where(rng.random((2, n)) < 0.5, c_near, c_any)
    d = rng.uniform(0.0, d_hi, size=(2, n))
    return (d[0], c[0]), (d[1], c[1])


def _discrete(profile: Profile, rng: np.random.Generator) -> tuple[str, dict[str, object], bool]:
    probe = discrete_source(np.array([0.5, 0.5]), np.eye(2), 1.0 - np.eye(2))
    if probe is None:
        return "Random discrete sources: discrete solver not available.", {}, False
    n_pairs = profile.pick(0, 3)  # ~10 s per midpoint test (three solves with D and C)
    if n_pairs == 0:
        return "Random discrete sources: skipped in the quick profile.", {}, False
    rows = []
    certified_violation = False
    for _ in progress(range(n_pairs), profile, desc="RDC convexity (discrete solver)"):
        nx = int(rng.integers(3, 5))
        p_x = rng.dirichlet(np.ones(nx))
        p_s = rng.dirichlet(np.ones(2), size=nx)
        src = discrete_source(p_x, p_s, 1.0 - np.eye(nx))
        assert src is not None
        h_sx = float(-(p_x[:, None] * p_s * np.log2(p_s)).sum())
        q_s = p_x @ p_s
        h_s = float(-(q_s * np.log2(q_s)).sum())
        pts = [(float(rng.uniform(0.0, 0.5)), float(rng.uniform(h_sx + 0.02, h_s))) for _ in (0, 1)]
        mid = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
        ra, rb, rm = (src.solve(D=d, C=c) for d, c in (*pts, mid))
        gap = float(rm.rate) - (float(ra.rate) + float(rb.rate)) / 2
        cert = float(rm.lower) - (float(ra.upper) + float(rb.upper)) / 2
        certified_violation |= cert > 0
        rows.append({"a": pts[0], "b": pts[1], "gap": gap, "certified_gap": cert})
    worst = max(float(r["gap"]) for r in rows)  # type: ignore[arg-type]
    text = (
        f"Random 3-4 letter sources (discrete solver): {n_pairs} midpoint tests, worst gap "
        f"{fmt(worst)} bits (its rates with C are local optima), certified violations "
        f"(mid lower bound above the ends' average upper bound): "
        f"{'YES' if certified_violation else 'none'}."
    )
    return text, {"rows": rows}, certified_violation


def run(profile: Profile) -> CheckResult:
    rng = np.random.default_rng([profile.seed, 2])
    n = profile.pick(20_000, 100_000)
    worst: dict[str, float] = {}
    sources: list[BinarySource | GaussianSource] = [*BINARY_SOURCES, *GAUSSIAN_SOURCES]
    for src in progress(sources, profile, desc="RDC midpoints"):
        a, b = _pairs(src, rng, n)
        gaps = midpoint_gaps(src.rdc, a, b)
        worst[describe(src)] = float(np.nanmax(gaps))
    bin_worst = max(worst[describe(s)] for s in BINARY_SOURCES)
    gauss_worst = max(worst[describe(g)] for g in GAUSSIAN_SOURCES)
    disc_text, disc_details, disc_violation = _discrete(profile, rng)
    holds = max(bin_worst, gauss_worst) <= CLOSED_FORM_TOL and not disc_violation
    evidence = (
        f"{n:,} random (D,C) pairs per source (half near the feasibility edge and the kink): "
        f"worst midpoint gap {fmt(bin_worst)} bits over {len(BINARY_SOURCES)} binary sources, "
        f"{fmt(gauss_worst)} bits over {len(GAUSSIAN_SOURCES)} Gaussian sources (> 0 would "
        f"violate convexity; tolerance {fmt(CLOSED_FORM_TOL)}). {disc_text}"
    )
    return CheckResult(
        "holds" if holds else "fails",
        evidence,
        details={"pairs_per_source": n, "worst_gap_by_source": worst, "discrete": disc_details},
    )
