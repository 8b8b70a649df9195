"""Result files of the synthetic-source runs and tables made from them (torch-free).

Figures (:mod:`figures.overlay`) and the ``rdpc synthetic`` command read only these files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.runs import iter_runs
from .synthetic_config import KIND, SyntheticConfig

__all__ = [
    "SYNTHETIC_COLUMNS",
    "TABLE_COLUMNS",
    "SYNTHETIC_INT_COLUMNS",
    "LISTING_COLUMNS",
    "listing_row",
    "synthetic_runs_table",
    "best_gaps",
    "is_degenerate",
    "DEGENERATE_BITS",
    "COLLAPSE_RATE_BITS",
]

#: Columns of a synthetic run's ``metrics.csv`` (units in the names; empty = not computed).
SYNTHETIC_COLUMNS: tuple[str, ...] = (
    "step",  # optimisation steps done
    "split",  # "val" (periodic, val_blocks) or "test" (final, test_blocks)
    "n_blocks",  # blocks evaluated
    "rate_bits",  # mean code length -log2 p(k|u) per source symbol
    "rate_ci_bits",  # 95% half-width of rate_bits
    "nominal_bits",  # d log2 L / n
    "coded_bits",  # real constriction bitstream, per source symbol (final row only)
    "coded_estimate_bits",  # the code-length estimate on the same coded blocks
    "D_hamming",  # binary: mean over positions of P(X_i != Xhat_i)
    "D_mse",  # Gaussian: mean squared error per symbol
    "D_ci",  # 95% half-width of the mean distortion
    "P_tv",  # binary: mean over positions of |P(Xhat_i = 1) - p|
    "P_w2sq",  # Gaussian: mean over positions of W2^2(N(0, var_x), law of Xhat_i)
    "P_ci",  # 95% half-width of the per-letter perception (largest over positions)
    "C_bits",  # mean over positions of the held-out log-loss of the S_i predictor
    "C_ci_bits",  # 95% half-width of C_bits
    "bound_bits",  # (1/n) sum_i R_family(D_i, P_i, C_i) at the measured values
    "bound_lo_bits",  # the same at the CI ends most favourable to the bound
    "bound_rdpc_bits",  # (1/n) sum_i R(D_i, P_i, C_i) with all three constraints
    "gap_bits",  # rate_bits - bound_bits
    "above_bound",  # 1 if rate_bits - rate_ci_bits >= bound_lo_bits, else 0
)

#: Columns of :func:`synthetic_runs_table` (``D``/``P`` are D_hamming|D_mse, P_tv|P_w2sq).
TABLE_COLUMNS: tuple[str, ...] = (
    "preset", "hash", "status", "source", "family", "block_length", "latent_dim", "levels",
    "lambda_d", "lambda_p", "lambda_c", "step", "rate_bits", "rate_ci_bits", "nominal_bits",
    "coded_bits", "D", "D_ci", "P", "P_ci", "C_bits", "C_ci_bits", "bound_bits",
    "bound_lo_bits", "bound_rdpc_bits", "gap_bits", "above_bound", "degenerate",
    "train_seconds",
)  # fmt: skip


#: Columns of ``rdpc runs`` for synthetic runs (the measured columns as stored).
LISTING_COLUMNS: tuple[str, ...] = (
    "preset", "hash", "status", "source", "family", "block_length", "latent_dim", "levels",
    "lambda_d", "lambda_p", "lambda_c", "step", "rate_bits", "rate_ci_bits", "nominal_bits",
    "coded_bits", "D_hamming", "D_mse", "D_ci", "P_tv", "P_w2sq", "P_ci", "C_bits", "C_ci_bits",
    "bound_bits", "bound_lo_bits", "bound_rdpc_bits", "gap_bits", "above_bound",
    "train_seconds",
)  # fmt: skip

#: Integer columns of :data:`SYNTHETIC_COLUMNS`.
SYNTHETIC_INT_COLUMNS: tuple[str, ...] = ("step", "n_blocks", "above_bound")


def listing_row(config: SyntheticConfig) -> dict[str, Any]:
    """The config columns of a synthetic run's listing row."""
    return {
        "source": config.source.name, "family": config.family,
        "block_length": config.block_length, "latent_dim": config.latent_dim,
        "levels": config.levels, "lambda_d": config.lambda_d, "lambda_p": config.lambda_p,
        "lambda_c": config.lambda_c, "nominal_bits": config.nominal_bits,
    }  # fmt: skip


def synthetic_runs_table(
    runs_root: str | os.PathLike[str], preset: str | None = None
) -> list[dict[str, Any]]:
    """One row per synthetic run (:data:`TABLE_COLUMNS`, plus ``per_letter`` for finished
    runs): the final test metrics, or the last validation row of an unfinished run."""
    rows = []
    for rec in iter_runs(runs_root, preset, KIND):
        c = rec.config
        last = rec.final or {}
        row: dict[str, Any] = {"preset": rec.preset, "hash": rec.hash, "status": rec.status,
                               **listing_row(c)}  # fmt: skip
        if rec.summary is not None:
            row["train_seconds"] = rec.summary.get("train_seconds")
            row["per_letter"] = rec.summary.get("per_letter")
        for k in SYNTHETIC_COLUMNS:
            if k != "split":
                row.setdefault(k, last.get(k))
        row["D"] = last.get("D_hamming") if c.binary else last.get("D_mse")
        row["P"] = last.get("P_tv") if c.binary else last.get("P_w2sq")
        row["degenerate"] = is_degenerate(row, float(c.theory_source().rd(0.0)))
        rows.append(row)
    return rows


#: Bound below which (with a rate below :data:`COLLAPSE_RATE_BITS`) a point is a zero-rate
#: collapse, and distance to H(X) within which it is a lossless code.
DEGENERATE_BITS = 0.05
COLLAPSE_RATE_BITS = 0.2


def is_degenerate(row: Mapping[str, Any], source_entropy_bits: float) -> bool:
    """True for an operating point whose gap says nothing about the codec's quality: a
    zero-rate collapse (bound < :data:`DEGENERATE_BITS` and rate <
    :data:`COLLAPSE_RATE_BITS`: the gap is only the density model's cost of a point mass) or
    a lossless code of a discrete source (bound within :data:`DEGENERATE_BITS` of H(X))."""
    bound, rate = row.get("bound_bits"), row.get("rate_bits")
    if bound is None or rate is None or not math.isfinite(bound):
        return False
    collapse = bound < DEGENERATE_BITS and rate < COLLAPSE_RATE_BITS
    return bool(collapse or bound > source_entropy_bits - DEGENERATE_BITS)


def best_gaps(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (source, block length, family) of the finished rows: the number of points, how
    many are degenerate (:func:`is_degenerate`) and how many lie below their bound (must be
    0), and the smallest and median gap to the bound (bits/symbol) over the non-degenerate
    points, with the best point's rate, bound and lambdas.

    >>> r = [{"status": "finished", "source": "gaussian", "block_length": 4, "family": "rdc",
    ...       "gap_bits": g, "above_bound": 1, "rate_bits": 1.0, "bound_bits": 1.0 - g,
    ...       "lambda_d": 1.0, "lambda_p": 0.0, "lambda_c": 0.0} for g in (0.3, 0.2)]
    >>> best_gaps(r)[0]["best_gap_bits"]
    0.2
    """
    groups: dict[tuple[str, int, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        if r.get("status") == "finished":
            groups.setdefault((r["source"], r["block_length"], r["family"]), []).append(r)
    out = []
    order = {"rdc": 0, "rpc": 1, "rdpc": 2}
    for (source, n, fam), rr in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]])
    ):
        useful = [r for r in rr if r.get("gap_bits") is not None and not r.get("degenerate")]
        best = min(useful, key=lambda r: r["gap_bits"]) if useful else None
        gaps = sorted(r["gap_bits"] for r in useful)
        out.append({
            "source": source, "block_length": n, "family": fam, "points": len(rr),
            "degenerate": sum(1 for r in rr if r.get("degenerate")),
            "below_bound": sum(1 for r in rr if not r.get("above_bound")),
            "best_gap_bits": best["gap_bits"] if best else None,
            "best_rate_bits": best["rate_bits"] if best else None,
            "best_bound_bits": best["bound_bits"] if best else None,
            "best_lambdas": (best["lambda_d"], best["lambda_p"], best["lambda_c"])
            if best else None,
            "median_gap_bits": gaps[len(gaps) // 2] if gaps else None,
        })  # fmt: skip
    return out
