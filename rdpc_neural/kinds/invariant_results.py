"""Result tables of the invariant runs: theory gaps and rate ratios at equal error (torch-free).

* :func:`invariant_runs_table`: one row per finished run (final test metrics).
* :func:`theory_gaps`: each VC point against the banana's R(D), each VIC point against the
  R(D) of its maximal invariant (:mod:`rdpc_neural.banana_rd`), gaps in bits; with the
  discretization error (two cell sizes) and the Shannon lower bound.
* :func:`equal_error_ratio`: VIC's coded rate over VC's at the same invariant error (VC's
  rate interpolated on its measured frontier, linearly in log(error)).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core.runs import iter_runs
from .invariant_config import KIND

__all__ = ["invariant_runs_table", "theory_gaps", "equal_error_ratio", "RD_CURVE_D"]

#: Distortions (total squared error) at which the R(D) curves are drawn.
RD_CURVE_D = (0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0)


def invariant_runs_table(
    runs_root: str | os.PathLike[str], preset: str | None = None
) -> list[dict[str, Any]]:
    """Final test metrics and config columns of every finished invariant run."""
    rows = []
    for rec in iter_runs(runs_root, preset, KIND):
        if not rec.finished or rec.final is None:
            continue
        c = rec.config
        row = {"preset": rec.preset, "hash": rec.hash, "path": str(rec.path),
               "source": c.source, "compressor": c.compressor,
               "invariance": c.invariance, "beta": c.beta,
               "steps": c.steps, **rec.final}  # fmt: skip
        if rec.summary is not None:
            row["train_seconds"] = rec.summary.get("train_seconds")
        if rec.final.get("probe_accuracy") is not None:
            row["probe_error"] = 1.0 - rec.final["probe_accuracy"]
        rows.append(row)
    return rows


def theory_gaps(
    rows: Sequence[Mapping[str, Any]], cells: tuple[float, float], bins: tuple[int, int]
) -> dict[str, Any]:
    """VC and VIC points against the numerical R(D) of the banana / of M(X).

    Parameters
    ----------
    rows : sequence of dict
        :func:`invariant_runs_table` rows (BINCE rows are skipped: no squared error).
    cells : (float, float)
        Cell sides of the fine and the coarse banana grid (the coarse one only measures the
        discretization error).
    bins : (int, int)
        Bins of the fine and coarse grids of the maximal invariant.

    Returns
    -------
    dict
        ``"points"``: per run, ``D`` (its distortion), ``rd_bits`` (R(D) on the fine grid),
        ``rd_coarse_bits``, ``slb_bits`` (VC only), ``coded_bits`` and ``gap_bits = coded -
        rd``; ``"curves"``: R(D) on :data:`RD_CURVE_D` for the banana (both grids) and each
        maximal invariant present; ``"grids"``: letters and dropped mass of each grid.
    """
    from ..banana_rd import discretize_banana, discretize_invariant, rd_of, shannon_lower_bound

    fine, coarse = discretize_banana(cells[0]), discretize_banana(cells[1])
    grids: dict[str, Any] = {
        "banana": [
            {"cell": g.cell, "letters": len(g.probabilities), "dropped_mass": g.dropped_mass}
            for g in (fine, coarse)
        ]  # fmt: skip
    }
    d_curve = np.array(RD_CURVE_D)
    curves: dict[str, Any] = {
        "D": list(RD_CURVE_D),
        "banana": rd_of(fine, d_curve).tolist(),
        "banana_coarse": rd_of(coarse, d_curve).tolist(),
        "slb": shannon_lower_bound(d_curve).tolist(),
    }
    points = []
    vc = [r for r in rows if r["compressor"] == "vc"]
    if vc:
        d = np.array([r["distortion"] for r in vc])
        rd_f, rd_c, slb = rd_of(fine, d), rd_of(coarse, d), shannon_lower_bound(d)
        for r, a, b, s in zip(vc, rd_f, rd_c, slb, strict=True):
            points.append(_point(r, "banana", a, b, s))
    for inv in sorted({r["invariance"] for r in rows if r["compressor"] == "vic"}):
        vic = [r for r in rows if r["compressor"] == "vic" and r["invariance"] == inv]
        src_f, src_c = discretize_invariant(inv, bins[0]), discretize_invariant(inv, bins[1])
        grids[inv] = [{"bins": n, "letters": len(g.probabilities),
                       "dropped_mass": g.dropped_mass}
                      for n, g in zip(bins, (src_f, src_c), strict=True)]  # fmt: skip
        curves[inv] = rd_of(src_f, d_curve).tolist()
        d = np.array([r["distortion"] for r in vic])
        for r, a, b in zip(vic, rd_of(src_f, d), rd_of(src_c, d), strict=True):
            points.append(_point(r, f"M(X), {inv}", a, b, None))
    return {"points": points, "curves": curves, "grids": grids}


def _point(row: Mapping[str, Any], against: str, rd: float, rd_coarse: float,
           slb: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "compressor": row["compressor"], "invariance": row["invariance"], "beta": row["beta"],
        "against": against, "D": row["distortion"], "coded_bits": row["coded_bits"],
        "estimated_bits": row["estimated_bits"], "rd_bits": float(rd),
        "rd_coarse_bits": float(rd_coarse),
        "discretization_error_bits": abs(float(rd) - float(rd_coarse)),
        "slb_bits": None if slb is None else float(slb),
        "gap_bits": row["coded_bits"] - float(rd),
    }  # fmt: skip


def equal_error_ratio(rows: Sequence[Mapping[str, Any]], invariance: str = "rotation",
                      *, error: str = "invariant_mse") -> list[dict[str, Any]]:  # fmt: skip
    """For each VIC run of `invariance`: VC's coded rate at VIC's downstream error (column
    `error`: ``"invariant_mse"`` on the banana, ``"probe_error"`` = 1 - probe accuracy on
    MNIST), interpolated linearly in log error between VC's measured points (``None``
    outside their range), and the ratio VIC / VC."""
    vc = sorted((math.log(r[error]), r["coded_bits"]) for r in rows
                if r["compressor"] == "vc" and r["invariance"] == invariance)  # fmt: skip
    out = []
    for r in rows:
        if r["compressor"] != "vic" or r["invariance"] != invariance:
            continue
        x = math.log(r[error])
        vc_bits = None
        if len(vc) >= 2 and vc[0][0] <= x <= vc[-1][0]:
            vc_bits = float(np.interp(x, [a for a, _ in vc], [b for _, b in vc]))
        out.append({
            "beta": r["beta"], error: r[error], "vic_bits": r["coded_bits"],
            "vc_bits_at_equal_error": vc_bits,
            "ratio": None if vc_bits is None else r["coded_bits"] / vc_bits,
        })  # fmt: skip
    return out
