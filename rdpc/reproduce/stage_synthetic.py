"""``rdpc reproduce`` stage: codecs on the theoretical sources and their overlay figures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .report import fmt
from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from figures.overlay import overlay_figures
    from rdpc_neural.core.sweep import run_sweep
    from rdpc_neural.kinds.synthetic_results import best_gaps, synthetic_runs_table

    preset = settings["preset"]
    sweep = run_sweep(preset, env.runs, jobs=env.jobs, threads_per_job=1, progress=env.progress)
    stage.reused_runs = sweep.skipped
    rows = synthetic_runs_table(env.runs, preset)
    gaps = best_gaps(rows)
    below = sum(g["below_bound"] for g in gaps)
    stage.ok = below == 0 and not sweep.failed
    if sweep.failed:
        stage.error = f"{len(sweep.failed)} run(s) failed: {json.dumps(sweep.failed)[:2000]}"
    elif below:
        stage.error = f"{below} point(s) below their bound: a bug to find"
    stage.numbers = {"preset": preset, "runs": len(rows), "below_bound": below, "best_gaps": gaps}
    stage.figures = [
        p
        for p in overlay_figures(
            env.runs,
            env.out / "figures",
            preset=preset,
            grid=settings["overlay_grid"],
            formats=("png", "pdf"),
        )
        if p.suffix == ".png"
    ]
    stage.markdown += [
        f"Preset `{preset}`: {len(rows)} runs under `{env.runs / preset}`; points below their "
        f"bound: **{below}** (must be 0). Rates are entropy-coded bits per source symbol "
        "(with the shared dither); the bound is the per-letter "
        "(1/n) Σ R(D_i, P_i, C_i) at the measured constraints. Degenerate points (zero rate, "
        "or a lossless binary code) say nothing about codec quality and are left out of "
        "the gaps (–: every point of the group is degenerate).",
        "",
        "| source | n | family | points | degenerate | best gap (bits/symbol) | rate | bound "
        "| median gap |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g in gaps:
        stage.markdown.append(
            f"| {g['source']} | {g['block_length']} | {g['family']} | {g['points']} | "
            f"{g['degenerate']} | {fmt(g['best_gap_bits'])} | {fmt(g['best_rate_bits'])} | "
            f"{fmt(g['best_bound_bits'])} | {fmt(g['median_gap_bits'])} |"
        )


register_stage(
    StageSpec(
        key="synthetic",
        title="Neural codecs on the theoretical sources",
        order=30,
        run=run,
        skip_flag="skip_synthetic",
        settings={
            "tiny": {"preset": "synthetic-tiny", "overlay_grid": 21},
            "quick": {"preset": "synthetic-quick", "overlay_grid": 121},
            "full": {"preset": "synthetic-full", "overlay_grid": 201},
        },
    )
)
