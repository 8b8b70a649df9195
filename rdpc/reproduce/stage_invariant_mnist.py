"""``rdpc reproduce`` stage (full profile only): augmented-MNIST VC vs VIC vs BINCE with real
coded bits per image and linear-probe accuracy, and the reconstructions figure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import fmt
from .stage_invariant import sweep_rows
from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from figures.invariant_mnist import mnist_invariant_figures
    from rdpc_neural.kinds.invariant_results import equal_error_ratio

    preset = settings["preset"]
    rows = sweep_rows(stage, preset, env)
    if rows is None:
        return
    ratios = equal_error_ratio(rows, "affine", error="probe_error")
    figures = mnist_invariant_figures(env.runs, env.out / "figures", rows, preset=preset,
                                      formats=("png", "pdf"))  # fmt: skip
    stage.figures = [p for p in figures if p.suffix == ".png"]
    stage.numbers = {"preset": preset, "runs": rows, "vc_over_vic": ratios}
    stage.markdown += [
        f"Preset `{preset}`: {len(rows)} runs under `{env.runs / preset}`. Rates are real "
        "coded bits per augmented test image (chunked constriction stream); accuracy is a "
        "logistic-regression probe on the decoded codes (augmented train → augmented test).",
        "",
        "| compressor | β | coded bits | estimated bits | probe accuracy | train seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["compressor"], r["beta"])):
        stage.markdown.append(
            f"| {r['compressor']} | {r['beta']:g} | {fmt(r['coded_bits'])} "
            f"| {fmt(r['estimated_bits'])} | {fmt(r.get('probe_accuracy'))} "
            f"| {fmt(r.get('train_seconds'))} |"
        )


register_stage(
    StageSpec(
        key="invariant-mnist",
        title="Invariant compressors on augmented MNIST (VC vs VIC vs BINCE)",
        order=46,  # after the banana stage
        run=run,
        skip_flag="skip_invariant_mnist",
        settings={"full": {"preset": "mnist-invariant-cpu"}},
    )
)
