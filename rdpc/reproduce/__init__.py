"""``rdpc reproduce``: the main job — every registered stage, then one report.

Stages (registered by their families, see :mod:`rdpc.reproduce.stages`), in order:

1. the paper checks (``rdpc check``) → ``checks.json`` and the table;
2. the theory figures (``rdpc figures theory``) → ``figures/``;
3. neural codecs on the theoretical binary/Gaussian sources and the overlay figures;
4. the CPU MNIST sweeps and the MNIST figures (skipped with a clear message when MNIST is
   absent and cannot be downloaded);

then ``report.md`` / ``report.json`` (:mod:`rdpc.reproduce.report`) with the tables, the
figures, the wall and CPU time of every stage and how many finished runs were reused.

Profiles: ``quick`` (the README's command; about 10 min of wall time on 2 *quiet* cores,
more on a busy machine — the report gives the CPU time too), ``full`` (the default; hours on
2 cores, see the README) and ``tiny`` (smoke runs, for the tests). Runs are kept under
``--runs-dir`` (default ``OUT/runs``): re-running reuses finished runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from .report import write_report
from .stages import StageEnv, StageOutcome, StageSpec, registered_stages

__all__ = ["PROFILES", "configure", "run", "reproduce"]

#: Profile name -> (description, expected time).
PROFILES: dict[str, tuple[str, str]] = {
    "tiny": (
        "smoke test: quick checks, coarse figures, 2 tiny synthetic runs, one short MNIST run",
        "about a minute",
    ),
    "quick": (
        "quick checks, theory figures, synthetic-quick, two rates of cpu-fig9a",
        "about 10 minutes on 2 quiet cores (about 10 CPU minutes)",
    ),
    "full": (
        "all checks, all figures, synthetic-full, the CPU MNIST grids",
        "about 2.5-3 hours on 2 cores (see README)",
    ),
}

_NEURAL_EXTRA = ("torch", "torchvision", "ot", "constriction", "sklearn")


def _log(msg: str) -> None:
    print(f"[rdpc reproduce] {msg}", file=sys.stderr, flush=True)


def _cpu() -> float:
    t = os.times()  # this process and its waited-for children (the sweep workers)
    return t.user + t.system + t.children_user + t.children_system


def _run_stage(spec: StageSpec, profile: str, env: StageEnv) -> StageOutcome:
    stage = StageOutcome(spec.title)
    _log(f"{spec.title} ...")
    t0, c0 = time.perf_counter(), _cpu()
    try:
        spec.run(stage, spec.settings[profile], env)
    except ModuleNotFoundError as exc:
        if exc.name not in _NEURAL_EXTRA:
            raise
        stage.skipped = (
            f"the neural extra is not installed (no module {exc.name!r}): "
            "pip install 'rdpc[neural]'"
        )
    except Exception as exc:  # a failed stage is reported, and the others still run
        stage.ok = False
        stage.error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
        _log(f"{spec.title}: FAILED ({type(exc).__name__}: {exc})")
    stage.seconds = time.perf_counter() - t0
    stage.cpu_seconds = _cpu() - c0
    status = "skipped" if stage.skipped else ("ok" if stage.ok else "failed")
    _log(f"{spec.title}: {status} ({stage.seconds:.0f} s wall, {stage.cpu_seconds:.0f} s CPU)")
    return stage


def reproduce(
    profile: str = "quick",
    out: str | os.PathLike[str] = "results/reproduce",
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    jobs: int = 2,
    device: str = "cpu",
    skip: tuple[str, ...] = (),
    progress: bool = True,
) -> tuple[int, Path]:
    """Run every stage of `profile` (except the stage keys in `skip`); return (exit status,
    path of report.md). The status is 0 when every stage that ran succeeded, 1 otherwise (a
    paper claim that fails is a finding, not a failure)."""
    if profile not in PROFILES:
        raise ValueError(f"`profile` must be one of {', '.join(PROFILES)}; got {profile!r}.")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an integer >= 1; got {jobs!r}.")
    out_path = Path(out).resolve()
    if out_path.exists() and not out_path.is_dir():
        raise ValueError(f"`--out` {out_path} is a file; give a folder.")
    out_path.mkdir(parents=True, exist_ok=True)
    runs = Path(runs_dir).resolve() if runs_dir else out_path / "runs"
    env = StageEnv(out_path, runs, data_dir, jobs, device, progress, profile)
    t0, c0 = time.perf_counter(), _cpu()
    stages = []
    for spec in registered_stages():
        if spec.key in skip:
            stages.append(StageOutcome(spec.title, skipped=f"--skip-{spec.key}"))
        elif profile not in spec.settings:
            stages.append(StageOutcome(spec.title, skipped=f"not part of the {profile} profile"))
        else:
            stages.append(_run_stage(spec, profile, env))
    command = f"rdpc reproduce --profile {profile} --out {out}"
    report = write_report(
        out_path,
        profile,
        PROFILES[profile][0],
        command,
        stages,
        time.perf_counter() - t0,
        _cpu() - c0,
    )
    _log(f"report: {report}")
    return (0 if all(s.ok for s in stages) else 1), report


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the quick profile ({PROFILES['quick'][1]}); same as --profile quick",
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
    from rdpc_common.cli import positive_int

    parser.add_argument("--jobs", type=positive_int, default=2, help="parallel training jobs")
    parser.add_argument("--device", default="cpu", help="torch device for MNIST training")
    for spec in registered_stages():
        if spec.skip_flag:
            parser.add_argument(
                f"--skip-{spec.key}",
                dest=spec.skip_flag,
                action="store_true",
                help=f"leave out: {spec.title}",
            )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    if args.quick and args.profile not in (None, "quick"):
        raise ValueError(f"`--quick` conflicts with `--profile {args.profile}`.")
    profile = "quick" if args.quick else (args.profile or "full")
    skip = tuple(s.key for s in registered_stages() if s.skip_flag and getattr(args, s.skip_flag))
    status, report = reproduce(
        profile,
        args.out,
        runs_dir=args.runs_dir,
        data_dir=args.data_dir,
        jobs=args.jobs,
        device=args.device,
        skip=skip,
        progress=not args.no_progress,
    )
    print(report)
    return status
