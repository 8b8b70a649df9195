"""``rdpc reproduce`` stage: the CPU MNIST sweeps (``rdpc sweep``) and the MNIST figures.

Skipped with a clear message when MNIST is absent and cannot be downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import fmt, span
from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from rdpc_neural.data import DataNotFoundError, load_mnist

    try:
        load_mnist(env.data_dir)  # verifies the files (or downloads them where possible)
    except DataNotFoundError as exc:
        stage.skipped = f"MNIST is not available, so the MNIST sweep was skipped. {exc}"
        return
    from figures.mnist import mnist_figures
    from rdpc_neural.core.sweep import run_sweep
    from rdpc_neural.kinds.image_results import rdc_trends, runs_table, universal_penalty_table

    failures = 0
    for preset, only in settings["presets"]:
        report = run_sweep(
            preset,
            env.runs,
            only=only,
            jobs=env.jobs,
            data_dir=env.data_dir,
            device=env.device,
            progress=env.progress,
        )
        failures += len(report.failed)
        stage.reused_runs += report.skipped
    stage.ok = failures == 0
    if failures:
        stage.error = f"{failures} MNIST run(s) failed (see the sweep.json files)"
    rows = [r for r in runs_table(env.runs, "cpu-fig9a") if r["status"] == "finished"]
    trends = rdc_trends(rows) if rows else {"per_rate": {}}
    stage.numbers = {"cpu-fig9a": trends}
    stage.figures = [
        p
        for p in mnist_figures(env.runs, env.out / "figures", prefix="cpu", formats=("png", "pdf"))
        if p.suffix == ".png"
    ]
    stage.markdown += [
        f"CPU-sized codecs (`cpu-*` presets, same λ grids and rates as the paper) under "
        f"`{env.runs}`; accuracy by the frozen training classifier (`acc`) and by an "
        "independently trained classifier of another architecture (`acc_heldout`).",
        "",
        "| rate (bits) | runs | min mse | best acc | mse of best-acc run | acc_heldout of "
        "best-acc run |",
        "|---|---|---|---|---|---|",
    ]
    for rate, t in sorted(trends["per_rate"].items()):
        stage.markdown.append(
            f"| {float(rate):.3g} | {t['runs']} | {fmt(t['mse_min'])} | {fmt(t['acc_max'])}"
            f" | {fmt(t['mse_at_acc_max'])} | {fmt(t['acc_heldout_at_acc_max'])} |"
        )
    penalty = universal_penalty_table(env.runs)
    if penalty:
        stage.markdown += [
            "",
            "Frozen encoder (universal) vs end-to-end twins, per encoder (the lambdas it "
            "was trained with):",
            "",
            "| encoder (λd, λp, λc) | pairs | acc, universal | Δacc | Δmse |",
            "|---|---|---|---|---|",
        ]
        for enc in sorted({r["encoder"] for r in penalty}):
            rr = [r for r in penalty if r["encoder"] == enc]
            stage.markdown.append(
                f"| {enc} | {len(rr)} | {span(rr, 'acc_universal')} | {span(rr, 'd_acc')}"
                f" | {span(rr, 'd_mse')} |"
            )


register_stage(
    StageSpec(
        key="mnist",
        title="MNIST codecs",
        order=40,
        run=run,
        skip_flag="skip_mnist",
        settings={
            "tiny": {
                "presets": (("cpu-fig9a", ("lambda_d=1.0", "rate_bits=10", "lambda_c=0.015")),)
            },
            "quick": {
                "presets": (
                    ("cpu-fig9a", ("lambda_d=1.0", "rate_bits=10")),
                    ("cpu-fig9a", ("lambda_d=1.0", "rate_bits=4.754887502163468")),
                )
            },
            "full": {
                "presets": (
                    ("cpu-fig9a", ()),
                    ("cpu-fig9b", ()),
                    ("cpu-fig10", ()),
                    ("cpu-fig9a-universal", ()),
                    ("cpu-fig9a-universal-task", ()),
                )
            },
        },
    )
)
