"""Tables of run results read from run directories (torch-free; used by ``rdpc runs``).

Figures and paper checks read the same files; nothing here trains or imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..core.registry import config_hash
from ..core.runs import iter_runs
from ..core.runs import runs_table as _all_runs_table
from .image_config import KIND, METRIC_COLUMNS, RunConfig

__all__ = ["RUN_COLUMNS", "listing_row", "runs_table", "universal_penalty_table", "rdc_trends"]

#: Columns of ``rdpc runs`` for image runs.
RUN_COLUMNS: tuple[str, ...] = (
    ("preset", "hash", "status", "mode", "latent_dim", "levels", "lambda_d", "lambda_p",
     "lambda_c", "step")
    + tuple(c for c in METRIC_COLUMNS if c not in ("step", "split", "n_images",
                                                   "joint_entropy_bits"))
    + ("train_seconds", "train_cpu_seconds")
)  # fmt: skip


def listing_row(config: RunConfig) -> dict[str, Any]:
    """The config columns of an image run's listing row."""
    return {
        "mode": config.mode,
        "latent_dim": config.latent_dim,
        "levels": config.levels,
        "lambda_d": config.lambda_d,
        "lambda_p": config.lambda_p,
        "lambda_c": config.lambda_c,
        "rate_bits": config.rate_bits,
    }


def runs_table(
    runs_root: str | os.PathLike[str], preset: str | None = None
) -> list[dict[str, Any]]:
    """One row per image run: config columns and final test metrics (last validation row if
    the run is unfinished; its ``status`` then says ``partial``)."""
    return _all_runs_table(runs_root, preset, KIND)


def _e2e_twin(config: RunConfig) -> RunConfig:
    return config.replace(mode="end-to-end", base_encoder=None)


def universal_penalty_table(runs_root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Pair each finished universal run with the end-to-end run of the same config (any
    preset folder) and report the penalty of the frozen encoder:
    ``d_mse = mse_universal - mse_e2e`` and ``d_acc = acc_universal - acc_e2e``.
    ``encoder`` names the frozen encoder by the lambdas it was trained with,
    ``"(lambda_d, lambda_p, lambda_c)"``; rows are sorted by encoder, rate and lambdas."""
    finished = {
        config_hash(rec.config): rec
        for rec in iter_runs(runs_root, kind=KIND)
        if rec.finished and rec.summary is not None
    }
    out = []
    for rec in finished.values():
        if rec.config.mode != "universal":
            continue
        twin = finished.get(config_hash(_e2e_twin(rec.config)))
        if twin is None or twin.summary is None or rec.summary is None:
            continue
        u, e = rec.summary["final"], twin.summary["final"]
        enc = rec.config.base_encoder
        encoder = "" if enc is None else f"({enc.lambda_d:g}, {enc.lambda_p:g}, {enc.lambda_c:g})"
        out.append({
            "encoder": encoder,
            "latent_dim": rec.config.latent_dim,
            "levels": rec.config.levels,
            "rate_bits": rec.config.rate_bits,
            "lambda_d": rec.config.lambda_d,
            "lambda_p": rec.config.lambda_p,
            "lambda_c": rec.config.lambda_c,
            "mse_e2e": e["mse"],
            "mse_universal": u["mse"],
            "d_mse": u["mse"] - e["mse"],
            "acc_e2e": e["acc"],
            "acc_universal": u["acc"],
            "d_acc": u["acc"] - e["acc"],
            "universal": f"{rec.preset}/{rec.hash}",
            "e2e": f"{twin.preset}/{twin.hash}",
        })  # fmt: skip
    out.sort(key=lambda r: (r["encoder"], r["rate_bits"], r["lambda_d"], r["lambda_p"],
                            r["lambda_c"]))  # fmt: skip
    return out


def rdc_trends(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Summaries of a Fig. 9(a)-type sweep from :func:`runs_table` rows (finished only).

    Returns, per rate: number of runs, min/mean MSE, best accuracy and the MSE of that run,
    and the Spearman rank correlations over lambda_c, within each (rate, lambda_d), of
    accuracy and of MSE (the RDC shape: both positive).
    """
    from scipy.stats import spearmanr

    fin = [r for r in rows if r["status"] == "finished"]
    out: dict[str, Any] = {"per_rate": {}}
    for rate in sorted({r["rate_bits"] for r in fin}):
        rr = [r for r in fin if r["rate_bits"] == rate]
        best = max(rr, key=lambda r: (r["acc"], -r["mse"]))
        acc_rho, mse_rho = [], []
        for ld in sorted({r["lambda_d"] for r in rr}):
            grp = sorted((r for r in rr if r["lambda_d"] == ld), key=lambda r: r["lambda_c"])
            if len({r["lambda_c"] for r in grp}) >= 3:
                lc = [r["lambda_c"] for r in grp]
                acc_rho.append(float(spearmanr(lc, [r["acc"] for r in grp]).statistic))
                mse_rho.append(float(spearmanr(lc, [r["mse"] for r in grp]).statistic))
        out["per_rate"][rate] = {
            "runs": len(rr),
            "mse_min": min(r["mse"] for r in rr),
            "mse_mean": sum(r["mse"] for r in rr) / len(rr),
            "mse_lambda_c_min": min((r for r in rr), key=lambda r: (r["lambda_c"], -r["lambda_d"]))[
                "mse"
            ],
            "acc_max": best["acc"],
            "mse_at_acc_max": best["mse"],
            "acc_heldout_at_acc_max": best["acc_heldout"],
            "spearman_acc_vs_lambda_c": acc_rho,
            "spearman_mse_vs_lambda_c": mse_rho,
        }
    return out
