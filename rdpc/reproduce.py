"""``rdpc reproduce``: the main job — checks, figures, sweeps and one report.

Stages, in order (each one's files land under ``--out``):

1. the paper checks (``rdpc check``) → ``checks.json`` and the table;
2. the theory figures (``rdpc figures theory``) → ``figures/``;
3. neural codecs on the theoretical binary/Gaussian sources (``rdpc synthetic``) and the
   overlay figures (``rdpc figures overlay``);
4. the CPU MNIST sweep (``rdpc sweep``) and the MNIST figures (``rdpc figures mnist``),
   skipped with a clear message when MNIST is absent and cannot be downloaded;
5. ``report.md`` with the checks table, the figures and the key numbers.

Profiles: ``--quick`` (≤ 10 min on 2 cores; the README's command), ``full`` (the default;
hours on 2 cores, see the README) and ``tiny`` (synthetic smoke runs, for the tests).
Runs are kept under ``--runs-dir`` (default ``OUT/runs``): re-running reuses finished runs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PROFILES", "Profile", "configure", "run", "reproduce"]


@dataclass(frozen=True)
class Profile:
    """What each stage runs in one profile of ``rdpc reproduce``."""

    name: str
    checks: str  # paper_checks profile
    theory_grid: int  # points per axis of the theory maps
    synthetic_preset: str
    mnist_presets: tuple[tuple[str, tuple[str, ...]], ...]  # (preset, --only filters)
    description: str
    overlay_grid: int = 121
    expected: str = ""


PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        name="tiny",
        checks="quick",
        theory_grid=21,
        synthetic_preset="synthetic-tiny",
        mnist_presets=(("cpu-fig9a", ("lambda_d=1.0", "rate_bits=10", "lambda_c=0.015")),),
        description="smoke test: quick checks, coarse figures, 2 tiny synthetic runs",
        overlay_grid=21,
        expected="about a minute (MNIST part: one short run)",
    ),
    "quick": Profile(
        name="quick",
        checks="quick",
        theory_grid=121,
        synthetic_preset="synthetic-quick",
        mnist_presets=(
            ("cpu-fig9a", ("lambda_d=1.0", "rate_bits=10")),
            ("cpu-fig9a", ("lambda_d=1.0", "rate_bits=4.754887502163468")),
        ),
        description="quick checks, theory figures, synthetic-quick, two rates of cpu-fig9a",
        expected="under 10 minutes on 2 cores",
    ),
    "full": Profile(
        name="full",
        checks="full",
        theory_grid=241,
        synthetic_preset="synthetic-full",
        mnist_presets=(
            ("cpu-fig9a", ()),
            ("cpu-fig9b", ()),
            ("cpu-fig10", ()),
            ("cpu-fig9a-universal", ()),
            ("cpu-fig9a-universal-task", ()),
        ),
        description="all checks, all figures, synthetic-full, the CPU MNIST grids",
        overlay_grid=201,
        expected="about 2.5-3 hours on 2 cores (see README)",
    ),
}


@dataclass
class Stage:
    """The outcome of one stage, rendered into the report."""

    title: str
    ok: bool = True
    skipped: str | None = None
    seconds: float = 0.0
    markdown: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _log(msg: str) -> None:
    print(f"[rdpc reproduce] {msg}", file=sys.stderr, flush=True)


def _run_stage(title: str, fn: Callable[[Stage], None]) -> Stage:
    stage = Stage(title)
    _log(f"{title} ...")
    t0 = time.perf_counter()
    try:
        fn(stage)
    except ModuleNotFoundError as exc:
        if exc.name not in ("torch", "torchvision", "ot", "constriction", "sklearn"):
            raise
        stage.skipped = (f"the neural extra is not installed (no module {exc.name!r}): "
                         "pip install 'rdpc[neural]'")  # fmt: skip
    except Exception as exc:  # a failed stage is reported, and the others still run
        stage.ok = False
        stage.error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
        _log(f"{title}: FAILED ({type(exc).__name__}: {exc})")
    stage.seconds = time.perf_counter() - t0
    status = "skipped" if stage.skipped else ("ok" if stage.ok else "failed")
    _log(f"{title}: {status} ({stage.seconds:.0f} s)")
    return stage


# -- stages -------------------------------------------------------------------------------


def _checks_stage(profile: Profile, out: Path, progress: bool) -> Callable[[Stage], None]:
    def stage_fn(stage: Stage) -> None:
        from paper_checks.framework import Profile as CheckProfile
        from paper_checks.framework import (
            format_table,
            report_dict,
            run_checks,
            select_checks,
            write_json,
        )

        check_profile = CheckProfile(name=profile.checks, show_progress=progress)
        t0 = time.perf_counter()
        records = run_checks(select_checks(None), check_profile, announce=True)
        report = report_dict(records, check_profile, time.perf_counter() - t0)
        write_json(out / "checks.json", report)
        stage.ok = bool(report["consistent"])
        stage.numbers = {"verdicts": report["verdict_counts"], "consistent": stage.ok}
        if not stage.ok:
            stage.error = "the implementation disagrees with itself (see checks.json)"
        stage.markdown += [
            f"Profile `{profile.checks}`; implementation self-consistent: "
            f"**{'yes' if stage.ok else 'NO'}**. A verdict `fails` is a finding about the "
            "paper's claim, not an error of rdpc. Full evidence: `checks.json`.",
            "",
            format_table(records, style="markdown"),
        ]

    return stage_fn


def _theory_stage(profile: Profile, out: Path) -> Callable[[Stage], None]:
    def stage_fn(stage: Stage) -> None:
        from figures.theory import theory_figures

        paths = theory_figures(out / "figures", grid=profile.theory_grid, formats=("png", "pdf"))
        stage.figures = [p for p in paths if p.suffix == ".png" and "contour" not in p.stem]
        stage.markdown.append(
            "Closed forms from `rdpc_theory`; Gaussian panels in nats (σ_X² = 1, σ_S² = 0.5, "
            "ρ = 0.9, the paper's figure), binary panels in bits (p = 0.3, ε = 0.1). "
            "PDFs and single-panel contour maps are next to the PNGs."
        )

    return stage_fn


def _synthetic_stage(
    profile: Profile, out: Path, runs: Path, jobs: int, progress: bool
) -> Callable[[Stage], None]:
    def stage_fn(stage: Stage) -> None:
        from figures.overlay import overlay_figures
        from rdpc_neural.kinds.synthetic import run_synthetic_sweep
        from rdpc_neural.kinds.synthetic_results import best_gaps, synthetic_runs_table

        preset = profile.synthetic_preset
        sweep = run_synthetic_sweep(preset, runs, jobs=jobs, progress=progress)
        rows = synthetic_runs_table(runs, preset)
        gaps = best_gaps(rows)
        below = sum(g["below_bound"] for g in gaps)
        failed = sweep.get("failed") or {}
        stage.ok = below == 0 and not failed
        if failed:
            stage.error = f"{len(failed)} run(s) failed: {json.dumps(failed)[:2000]}"
        elif below:
            stage.error = f"{below} point(s) below their bound: a bug to find"
        stage.numbers = {
            "preset": preset,
            "runs": len(rows),
            "below_bound": below,
            "best_gaps": gaps,
        }
        stage.figures = [
            p
            for p in overlay_figures(
                runs,
                out / "figures",
                preset=preset,
                grid=profile.overlay_grid,
                formats=("png", "pdf"),
            )
            if p.suffix == ".png"
        ]
        stage.markdown += [
            f"Preset `{preset}`: {len(rows)} runs under `{runs / preset}`; points below their "
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
                f"{g['degenerate']} | "
                f"{_f(g['best_gap_bits'])} | {_f(g['best_rate_bits'])} | "
                f"{_f(g['best_bound_bits'])} | {_f(g['median_gap_bits'])} |"
            )

    return stage_fn


def _mnist_stage(
    profile: Profile,
    out: Path,
    runs: Path,
    jobs: int,
    data_dir: str | None,
    device: str,
    progress: bool,
) -> Callable[[Stage], None]:
    def stage_fn(stage: Stage) -> None:
        from rdpc_neural.data import DataNotFoundError, load_mnist

        try:
            load_mnist(data_dir)  # verifies the files (or downloads them where possible)
        except DataNotFoundError as exc:
            stage.skipped = f"MNIST is not available, so the MNIST sweep was skipped. {exc}"
            return
        from figures.mnist import mnist_figures
        from rdpc_neural.core.sweep import run_sweep
        from rdpc_neural.kinds.image_results import rdc_trends, runs_table, universal_penalty_table

        failures = 0
        for preset, only in profile.mnist_presets:
            report = run_sweep(
                preset,
                runs,
                only=only,
                jobs=jobs,
                data_dir=data_dir,
                device=device,
                progress=progress,
            )
            failures += len(report.failed)
        stage.ok = failures == 0
        if failures:
            stage.error = f"{failures} MNIST run(s) failed (see the sweep.json files)"
        rows = [r for r in runs_table(runs, "cpu-fig9a") if r["status"] == "finished"]
        trends = rdc_trends(rows) if rows else {"per_rate": {}}
        stage.numbers = {"cpu-fig9a": trends}
        stage.figures = [
            p
            for p in mnist_figures(runs, out / "figures", prefix="cpu", formats=("png", "pdf"))
            if p.suffix == ".png"
        ]
        stage.markdown += [
            f"CPU-sized codecs (`cpu-*` presets, same λ grids and rates as the paper) under "
            f"`{runs}`; accuracy by the frozen training classifier (`acc`) and by an "
            "independently trained classifier of another architecture (`acc_heldout`).",
            "",
            "| rate (bits) | runs | min mse | best acc | mse of best-acc run |",
            "|---|---|---|---|---|",
        ]
        for rate, t in sorted(trends["per_rate"].items()):
            stage.markdown.append(
                f"| {float(rate):.3g} | {t['runs']} | {_f(t['mse_min'])} | {_f(t['acc_max'])}"
                f" | {_f(t['mse_at_acc_max'])} |"
            )
        penalty = universal_penalty_table(runs)
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
                    f"| {enc} | {len(rr)} | {_span(rr, 'acc_universal')} | {_span(rr, 'd_acc')}"
                    f" | {_span(rr, 'd_mse')} |"
                )

    return stage_fn


def _span(rows: list[dict[str, Any]], key: str) -> str:
    values = [float(r[key]) for r in rows]
    return f"{_f(min(values))} … {_f(max(values))}"


def _f(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


# -- report -------------------------------------------------------------------------------


def _write_report(out: Path, profile: Profile, stages: list[Stage], total: float) -> Path:
    from rdpc import __version__

    try:
        from rdpc_neural.core.rundir import git_sha

        sha = git_sha()
    except Exception:  # the neural extra may be missing; the SHA is informative only
        sha = None
    lines = [
        "# rdpc reproduction report",
        "",
        f"- profile: `{profile.name}` ({profile.description})",
        f"- rdpc {__version__}, git {sha or 'unknown'}, "
        f"{_dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- total time: {total / 60:.1f} min",
        f"- command: `rdpc reproduce{' --quick' if profile.name == 'quick' else ''}"
        f"{' --profile ' + profile.name if profile.name == 'tiny' else ''} --out {out}`",
        "",
        "| stage | status | seconds |",
        "|---|---|---|",
    ]
    for s in stages:
        status = "skipped" if s.skipped else ("ok" if s.ok else "**FAILED**")
        lines.append(f"| {s.title} | {status} | {s.seconds:.0f} |")
    for k, s in enumerate(stages, 1):
        lines += ["", f"## {k}. {s.title}", ""]
        if s.skipped:
            lines.append(f"_Skipped:_ {s.skipped}")
            continue
        lines += s.markdown
        for fig in s.figures:
            rel = os.path.relpath(fig, out)
            lines += ["", f"![{fig.stem}]({rel})"]
        if s.error:
            lines += ["", "```", s.error.strip(), "```"]
    path = out / "report.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    numbers = {s.title: s.numbers for s in stages}
    (out / "report.json").write_text(json.dumps(numbers, indent=2, default=str), encoding="utf-8")
    return path


def reproduce(
    profile: str = "quick",
    out: str | os.PathLike[str] = "results/reproduce",
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    jobs: int = 2,
    device: str = "cpu",
    skip_mnist: bool = False,
    skip_synthetic: bool = False,
    progress: bool = True,
) -> tuple[int, Path]:
    """Run every stage of `profile`; return (exit status, path of report.md).

    The exit status is 0 when every stage that ran succeeded, 1 otherwise (a paper claim
    that fails is a finding, not a failure).
    """
    if profile not in PROFILES:
        raise ValueError(f"`profile` must be one of {', '.join(PROFILES)}; got {profile!r}.")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an integer >= 1; got {jobs!r}.")
    prof = PROFILES[profile]
    out_path = Path(out).resolve()
    out_path.mkdir(parents=True, exist_ok=True)
    runs = Path(runs_dir).resolve() if runs_dir else out_path / "runs"
    t0 = time.perf_counter()
    stages = [
        _run_stage("Paper checks", _checks_stage(prof, out_path, progress)),
        _run_stage("Theory figures", _theory_stage(prof, out_path)),
    ]
    if skip_synthetic:
        stages.append(Stage("Neural codecs on the theoretical sources", skipped="--skip-synthetic"))
    else:
        stages.append(
            _run_stage(
                "Neural codecs on the theoretical sources",
                _synthetic_stage(prof, out_path, runs, jobs, progress),
            )
        )
    if skip_mnist:
        stages.append(Stage("MNIST codecs", skipped="--skip-mnist"))
    else:
        stages.append(
            _run_stage(
                "MNIST codecs", _mnist_stage(prof, out_path, runs, jobs, data_dir, device, progress)
            )
        )
    report = _write_report(out_path, prof, stages, time.perf_counter() - t0)
    _log(f"report: {report}")
    return (0 if all(s.ok for s in stages) else 1), report


# -- CLI ----------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the quick profile (<= 10 min on 2 cores); same as --profile quick",
    )
    parser.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default=None,
        help="tiny | quick | full (default: full, or quick with --quick)",
    )
    parser.add_argument("--out", default="results/reproduce", help="output folder")
    parser.add_argument("--runs-dir", default=None, help="run directories (default: OUT/runs)")
    parser.add_argument(
        "--data-dir", default=None, help="data root (default: $RDPC_DATA, else ~/.cache/rdpc/data)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel training processes")
    parser.add_argument("--device", default="cpu", help="torch device for MNIST training")
    parser.add_argument("--skip-mnist", action="store_true", help="leave out the MNIST sweep")
    parser.add_argument(
        "--skip-synthetic", action="store_true", help="leave out the synthetic-source codecs"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    if args.quick and args.profile not in (None, "quick"):
        raise ValueError(f"`--quick` conflicts with `--profile {args.profile}`.")
    profile = "quick" if args.quick else (args.profile or "full")
    status, report = reproduce(
        profile,
        args.out,
        runs_dir=args.runs_dir,
        data_dir=args.data_dir,
        jobs=args.jobs,
        device=args.device,
        skip_mnist=args.skip_mnist,
        skip_synthetic=args.skip_synthetic,
        progress=not args.no_progress,
    )
    print(report)
    return status
