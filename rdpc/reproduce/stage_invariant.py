"""``rdpc reproduce`` stage: banana VC/VIC invariant compressors, their maps and theory gaps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .report import fmt
from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def sweep_rows(stage: StageOutcome, preset: str, env: StageEnv) -> list[dict[str, Any]] | None:
    """Run (or reuse) the invariant preset `preset` and give its finished runs' rows; ``None``
    (with the stage marked failed) if a run failed."""
    from rdpc_neural.core.sweep import run_sweep
    from rdpc_neural.kinds.invariant_results import invariant_runs_table

    sweep = run_sweep(preset, env.runs, jobs=env.jobs, threads_per_job=1, progress=env.progress)
    stage.reused_runs = sweep.skipped
    rows = invariant_runs_table(env.runs, preset)
    stage.ok = not sweep.failed and bool(rows)
    if sweep.failed:
        stage.error = f"{len(sweep.failed)} run(s) failed: {json.dumps(sweep.failed)[:2000]}"
        return None
    return rows


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from figures.invariant import invariant_figures, theory_panels
    from rdpc_neural.kinds.invariant_results import equal_error_ratio, theory_gaps

    preset = settings["preset"]
    rows = sweep_rows(stage, preset, env)
    if rows is None:
        return
    gaps = theory_gaps(rows, cells=settings["cells"], bins=settings["bins"])
    ratios = equal_error_ratio(rows, "rotation")
    figures = invariant_figures(env.runs, env.out / "figures", preset=preset,
                                grid=settings["map_grid"], formats=("png", "pdf"))  # fmt: skip
    figures += theory_panels(gaps, env.out / "figures", name=f"banana_rd_{preset}",
                             formats=("png", "pdf"))  # fmt: skip
    stage.figures = [p for p in figures if p.suffix == ".png"]
    stage.numbers = {"preset": preset, "runs": rows, "theory_points": gaps["points"],
                     "grids": gaps["grids"], "vic_over_vc": ratios}  # fmt: skip
    grid = gaps["grids"]["banana"]
    stage.markdown += [
        f"Preset `{preset}`: {len(rows)} runs under `{env.runs / preset}`. Rates are real "
        "coded bits per sample (chunked constriction stream, index included); R(D) is "
        f"Blahut–Arimoto on a grid of cell {grid[0]['cell']:g} ({grid[0]['letters']} letters; "
        f"cell {grid[1]['cell']:g} for the discretization error).",
        "",
        "| compressor | invariance | β | coded bits | estimated bits | D | R(D) (bits) "
        "| gap (bits) | discretization error (bits) | invariant MSE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    mse = {(r["compressor"], r["invariance"], r["beta"]): r["invariant_mse"] for r in rows}
    for p in gaps["points"]:
        stage.markdown.append(
            f"| {p['compressor']} | {p['invariance']} | {p['beta']:g} | {fmt(p['coded_bits'])} "
            f"| {fmt(p['estimated_bits'])} | {fmt(p['D'])} | {fmt(p['rd_bits'])} "
            f"| {fmt(p['gap_bits'])} | {fmt(p['discretization_error_bits'])} "
            f"| {fmt(mse[(p['compressor'], p['invariance'], p['beta'])])} |"
        )


register_stage(
    StageSpec(
        key="invariant",
        title="Invariant compressors on the banana (VC vs VIC)",
        order=45,  # after the MNIST stage: the report numbers of the older stages stay put
        run=run,
        skip_flag="skip_invariant",
        settings={
            "tiny": {
                "preset": "banana-tiny",
                "cells": (0.6, 0.8),
                "bins": (64, 32),
                "map_grid": 60,
            },
            "quick": {
                "preset": "banana-quick",
                "cells": (0.4, 0.5),
                "bins": (128, 64),
                "map_grid": 300,
            },
            "full": {
                "preset": "banana-frontier",
                "cells": (0.3, 0.4),
                "bins": (256, 128),
                "map_grid": 400,
            },
        },  # fmt: skip
    )
)
