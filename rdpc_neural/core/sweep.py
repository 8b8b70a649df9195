"""Run a preset's missing runs: plan, launch, report (any experiment kind).

Each run is independent (its own directory, atomic files, checkpoints, a claim), so a sweep
can be interrupted at any time and rerun: finished runs are skipped, unfinished ones resume
from their last checkpoint, and two sweeps on the same runs root never train the same run at
the same time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json

from .launchers import Launcher, LaunchSettings, get_launcher
from .plan import Job, plan_sweep
from .retries import launch_with_retries

__all__ = ["SweepReport", "run_sweep"]


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: run counts, failures (job id -> error text), resubmissions and wall
    time.

    ``failures`` holds the full error and traceback of each failed job; each failed run's
    directory also keeps them in ``failure.json``.
    """

    preset: str
    total: int
    skipped: int
    finished: int
    failed: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    jobs: int = 1
    threads_per_job: int = 1
    launcher: str = "local"
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    retried: int = 0  # jobs resubmitted after a dead worker or a transient error

    def line(self) -> str:
        """One summary line for the terminal."""
        return (
            f"finished {self.finished}, skipped {self.skipped}, failed {len(self.failed)}, "
            f"retried {self.retried} "
            f"in {self.wall_seconds:.0f} s (launcher {self.launcher}, jobs {self.jobs} x "
            f"{self.threads_per_job} threads)"
        )


def run_sweep(
    preset: str,
    runs_root: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    only: Sequence[str] = (),
    jobs: int = 1,
    threads_per_job: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    progress: bool = True,
    limit: int | None = None,
    launcher: str | Launcher = "local",
    retries: int = 0,
) -> SweepReport:
    """Train the missing runs of `preset` (any kind) under ``<runs_root>/<preset>/``.

    Parameters
    ----------
    overrides, only : sequence of str
        ``key=value`` changes applied to every run, and filters selecting the runs.
    jobs : int
        Parallel jobs (1: in this process).
    threads_per_job : int, optional
        torch threads per job (default: ``max(1, cpu_count // jobs)``).
    limit : int, optional
        Train at most this many of the missing runs (e.g. to time a slice of a sweep).
    launcher : str or Launcher
        ``"local"`` (this machine), ``"ray"``, ``"slurm"`` (with default options), or a
        launcher built by :func:`~rdpc_neural.core.launchers.get_launcher` with options.
    retries : int
        Resubmissions per job lost to a dead worker or a transient error (see
        :mod:`~rdpc_neural.core.retries`).

    Returns
    -------
    SweepReport
        Also written to ``<runs_root>/<preset>/sweep.json``.
    """
    for name, v in (("jobs", jobs), ("threads_per_job", threads_per_job or 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"`{name}` must be an integer >= 1; got {v!r}.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"`retries` must be an integer >= 0; got {retries!r}.")
    chosen = get_launcher(launcher) if isinstance(launcher, str) else launcher
    t0 = time.perf_counter()
    root = Path(runs_root).resolve()
    plan = plan_sweep(preset, root, overrides, only, limit=limit)
    n_cpu = os.cpu_count() or 1
    threads = threads_per_job or max(1, n_cpu // jobs)
    settings = LaunchSettings(
        str(root),
        str(data_dir) if data_dir is not None else None,
        str(cache_dir) if cache_dir is not None else None,
        device,
        jobs,
        threads,
        progress,
        retries,
    )
    bar = None
    if progress and plan.runs:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(plan.runs), desc=f"sweep {preset}", position=0, dynamic_ncols=True, unit="run"
        )

    def on_done(job: Job, ok: bool) -> None:
        if bar is not None and job.is_run:
            bar.update(1)

    try:
        outcome = launch_with_retries(chosen, plan, settings, on_done)
    finally:
        if bar is not None:
            bar.close()
    report = SweepReport(
        preset=preset,
        total=plan.total,
        skipped=plan.skipped,
        finished=len(outcome.finished),
        failed={j: f["error"] for j, f in outcome.failed.items()},
        wall_seconds=time.perf_counter() - t0,
        jobs=jobs,
        threads_per_job=threads,
        launcher=chosen.name,
        failures=outcome.failed,
        retried=outcome.retried,
    )
    info: dict[str, Any] = asdict(report)
    info.update(
        overrides=list(overrides),
        only=list(only),
        kind=plan.kind,
        cpu_count=n_cpu,
        load_average_at_end=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    )
    atomic_write_json(root / preset / "sweep.json", info)
    return report
