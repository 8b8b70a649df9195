"""Claim 8: with common randomness, dithered quantization gives an input-independent error.

    "the RDPC function has an operational meaning with common randomness" (Wang et al.,
    abstract); the neural codecs realize it with universal quantization: with a
    dither U ~ U[-Δ/2, Δ/2) shared by encoder and decoder (a shared seed), the error of
    X̂ = Q(X + U) - U is uniform on [-Δ/2, Δ/2) and independent of X (Zamir & Feder 1992).

Statistical tests on :class:`rdpc_theory.quantization.DitheredQuantizer` (L = 3, 4, 8) with
a skewed input law on [-1, 1]:

* Kolmogorov–Smirnov test of the error against U[-Δ/2, Δ/2) (scipy.stats.kstest);
* chi-square test of independence of (input bin, error bin) (scipy.stats.chi2_contingency);
* KS tests of the error at fixed inputs (x = -1, -0.3, 0.5, 1): conditional uniformity.

Significance α = 0.01 for the whole family (Bonferroni).  The claim holds if no test
rejects with a shared seed, while *without* shared randomness (the decoder outputs the
center c_k, or subtracts a dither from its own, different seed) the tests reject.  A
shared-seed p-value below 1e-6 would point at a bug in the quantizer (``consistent`` is
then False).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from rdpc_theory.quantization import DitheredQuantizer

from ._common import fmt
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run", "ALPHA"]

CLAIM = (
    "Subtractive dither from a shared seed makes the quantization error uniform on "
    "[-D/2, D/2) and independent of the input; without common randomness it is not"
)
WHERE = "abstract (operational meaning)"

ALPHA = 0.01
BUG_LEVEL = 1e-6
FIXED_INPUTS = (-1.0, -0.3, 0.5, 1.0)
LEVELS = (3, 4, 8)


def _inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """A skewed law on [-1, 1] with atoms at the ends and at a center (edge cases)."""
    x = 2.0 * rng.beta(0.7, 1.5, n) - 1.0
    atoms = rng.random(n)
    x[atoms < 0.03] = -1.0
    x[(atoms >= 0.03) & (atoms < 0.06)] = 1.0
    x[(atoms >= 0.06) & (atoms < 0.09)] = 0.0
    return x


def _tests(x: np.ndarray, err: np.ndarray, step: float, bins: int) -> tuple[float, float]:
    """(KS p-value vs U[-step/2, step/2), chi-square independence p-value)."""
    p_ks = float(stats.kstest(err, stats.uniform(loc=-step / 2, scale=step).cdf).pvalue)
    x_edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    e_edges = np.quantile(err, np.linspace(0, 1, bins + 1))
    table, _, _ = np.histogram2d(x, err, bins=[x_edges, e_edges])
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    p_chi = float(stats.chi2_contingency(table).pvalue)
    return p_ks, p_chi


def _fmt_p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else fmt(p, 3)


def run(profile: Profile) -> CheckResult:
    n = profile.pick(20_000, 200_000)
    n_fixed = profile.pick(5_000, 50_000)
    bins = 10
    rows: list[dict[str, Any]] = []
    for levels in progress(LEVELS, profile, desc="dithered quantizer"):
        q = DitheredQuantizer(levels)
        seed = [profile.seed, 8, levels]
        x = _inputs(np.random.default_rng([*seed, 0]), n)
        # Encoder and decoder each build their own generator from the shared seed.
        u_enc = q.sample_dither(n, rng=np.random.default_rng([*seed, 1]))
        u_dec = q.sample_dither(n, rng=np.random.default_rng([*seed, 1]))
        k = q.encode(x, u_enc)
        shared = q.decode(k, u_dec) - x
        no_subtract = q.decode(k) - x
        other_seed = q.decode(k, q.sample_dither(n, rng=np.random.default_rng([*seed, 2]))) - x
        fixed_p = []
        for j, x0 in enumerate(FIXED_INPUTS):
            u = q.sample_dither(n_fixed, rng=np.random.default_rng([*seed, 3, j]))
            e0 = q.decode(q.encode(np.full(n_fixed, x0), u), u) - x0
            cdf = stats.uniform(loc=-q.step / 2, scale=q.step).cdf
            fixed_p.append(float(stats.kstest(e0, cdf).pvalue))
        rows.append(
            {
                "levels": levels,
                "step": q.step,
                "dither_identical": bool(np.array_equal(u_enc, u_dec)),
                "shared": _tests(x, shared, q.step, bins),
                "shared_fixed_inputs_ks": fixed_p,
                "decoder_without_dither": _tests(x, no_subtract, q.step, bins),
                "decoder_other_seed": _tests(x, other_seed, q.step, bins),
                "shared_max_abs_error": float(np.abs(shared).max()),
            }
        )
    shared_p = [p for r in rows for p in (*r["shared"], *r["shared_fixed_inputs_ks"])]
    unshared_p = [
        p for r in rows for key in ("decoder_without_dither", "decoder_other_seed") for p in r[key]
    ]
    level = ALPHA / len(shared_p)
    shared_ok = min(shared_p) > level and all(r["dither_identical"] for r in rows)
    unshared_rejected = max(unshared_p) < ALPHA / len(unshared_p)
    in_range = all(r["shared_max_abs_error"] <= r["step"] / 2 for r in rows)
    consistent = min(shared_p) > BUG_LEVEL and in_range
    verdict = "holds" if shared_ok and unshared_rejected and in_range else "fails"
    evidence = (
        f"L = {', '.join(map(str, LEVELS))}, {n:,} skewed inputs on [-1,1] (+ {n_fixed:,} dithers "
        f"at each of x = {', '.join(f'{v:g}' for v in FIXED_INPUTS)}); alpha = {ALPHA} "
        f"(Bonferroni). Shared seed: smallest p-value {fmt(min(shared_p), 3)} over "
        f"{len(shared_p)} tests (KS vs U[-D/2,D/2): "
        + ", ".join(f"L={r['levels']}: {fmt(r['shared'][0], 3)}" for r in rows)
        + "; chi-square independence of (x, error): "
        + ", ".join(f"{fmt(r['shared'][1], 3)}" for r in rows)
        + f") -> not rejected. No shared randomness (decoder outputs c_k, or subtracts its own "
        f"dither): largest p-value {_fmt_p(max(unshared_p))} over {len(unshared_p)} tests -> "
        + ("rejected." if unshared_rejected else "NOT all rejected.")
    )
    return CheckResult(
        verdict,
        evidence,
        consistent=consistent,
        details={"alpha": ALPHA, "samples": n, "fixed_input_samples": n_fixed, "rows": rows},
    )
