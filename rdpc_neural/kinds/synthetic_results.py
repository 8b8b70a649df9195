"""Result files of the synthetic-source runs and tables made from them (torch-free).

Figures (:mod:`figures.overlay`) and the ``rdpc synthetic`` command read only these files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.rundir import read_metrics_csv, write_metrics_csv
from .synthetic_config import RUN_KIND, SyntheticConfig

__all__ = [
    "SYNTHETIC_COLUMNS",
    "TABLE_COLUMNS",
    "write_synthetic_metrics",
    "read_synthetic_metrics",
    "iter_synthetic_runs",
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


def write_synthetic_metrics(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Atomically write rows with the fixed :data:`SYNTHETIC_COLUMNS` (an infeasible bound
    is written as ``inf``)."""
    write_metrics_csv(path, rows, SYNTHETIC_COLUMNS, allow_inf=True)


def read_synthetic_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a synthetic ``metrics.csv``; numbers parsed, empty cells as ``None``."""
    return read_metrics_csv(path, int_columns=("step", "n_blocks", "above_bound"))


def iter_synthetic_runs(
    runs_root: str | os.PathLike[str], preset: str | None = None
) -> Iterator[tuple[str, Path, SyntheticConfig, dict[str, Any] | None]]:
    """``(preset, run folder, config, summary or None)`` of every synthetic run directory
    (``config.json`` with ``"kind": "synthetic"``) under `runs_root`, sorted by path."""
    root = Path(runs_root)
    if not root.is_dir():
        return
    presets = [root / preset] if preset else sorted(p for p in root.iterdir() if p.is_dir())
    for pdir in presets:
        if not pdir.is_dir():
            continue
        for rdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
            cfg = rdir / "config.json"
            if not cfg.is_file():
                continue
            meta = json.loads(cfg.read_text())
            if meta.get("kind") != RUN_KIND:
                continue
            summary_path = rdir / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
            yield pdir.name, rdir, SyntheticConfig.from_dict(meta["config"]), summary


def synthetic_runs_table(
    runs_root: str | os.PathLike[str], preset: str | None = None
) -> list[dict[str, Any]]:
    """One row per synthetic run (:data:`TABLE_COLUMNS`, plus ``per_letter`` for finished
    runs): the final test metrics, or the last validation row of an unfinished run."""
    rows = []
    for pname, path, c, summary in iter_synthetic_runs(runs_root, preset):
        row: dict[str, Any] = {
            "preset": pname, "hash": path.name, "source": c.source, "family": c.family,
            "block_length": c.block_length, "latent_dim": c.latent_dim, "levels": c.levels,
            "lambda_d": c.lambda_d, "lambda_p": c.lambda_p, "lambda_c": c.lambda_c,
        }  # fmt: skip
        metrics = path / "metrics.csv"
        last: dict[str, Any] = read_synthetic_metrics(metrics)[-1] if metrics.is_file() else {}
        if summary is not None:
            row["status"] = "finished"
            row["train_seconds"] = summary.get("train_seconds")
            row["per_letter"] = summary.get("per_letter")
        else:
            row["status"] = "partial" if last else "new"
        for k in SYNTHETIC_COLUMNS:
            if k not in ("split",):
                row.setdefault(k, last.get(k))
        row["D"] = last.get("D_hamming") if c.source == "binary" else last.get("D_mse")
        row["P"] = last.get("P_tv") if c.source == "binary" else last.get("P_w2sq")
        if row.get("nominal_bits") is None:
            row["nominal_bits"] = c.nominal_bits
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
