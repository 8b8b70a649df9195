"""Run a grid of codec runs: missing runs only, in parallel worker processes, resumable.

Each run is independent (its own directory, atomic files, checkpoints), so a sweep can be
interrupted at any time and rerun: finished runs are skipped, unfinished ones resume from
their last checkpoint. The frozen classifiers are trained (or loaded from the cache) once in
the main process before any worker starts; every worker loads the data and the classifiers
once and then trains runs one after another. Universal presets first train the shared
end-to-end encoder runs, then the decoders.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kinds.image_config import RunConfig, apply_overrides, config_hash, parse_override
from ..kinds.image_presets import get_preset
from .rundir import atomic_write_json, run_paths

__all__ = ["SweepReport", "plan_sweep", "run_sweep"]


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: counts, failures (hash -> error text) and wall time."""

    preset: str
    total: int
    skipped: int
    finished: int
    failed: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    jobs: int = 1
    threads_per_job: int = 1


def _matches(config: RunConfig, filters: Sequence[str]) -> bool:
    for item in filters:
        key, value = parse_override(item)
        if key != "rate_bits" and key not in {f.name for f in dataclasses.fields(RunConfig)}:
            raise ValueError(f"unknown `--only` key {key!r}; use a RunConfig field or rate_bits.")
        have = getattr(config, key)
        if isinstance(have, float) and isinstance(value, int | float):
            if abs(have - float(value)) > 1e-9 * max(1.0, abs(have)):
                return False
        elif have != value:
            return False
    return True


def plan_sweep(
    preset: str,
    runs_root: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    only: Sequence[str] = (),
) -> tuple[list[RunConfig], list[RunConfig]]:
    """``(configs, configs still to run)`` of `preset` with ``key=value`` `overrides`,
    restricted to the configs matching every ``key=value`` of `only` (e.g. ``latent_dim=5``
    or ``rate_bits=10``).

    Every config is validated here, before anything trains.
    """
    configs = [apply_overrides(c, overrides) for c in get_preset(preset).configs()]
    configs = [c for c in configs if _matches(c, only)]
    if len({config_hash(c) for c in configs}) != len(configs):
        raise ValueError(f"preset {preset!r} with these overrides has duplicate runs.")
    pending = [c for c in configs if not run_paths(runs_root, preset, c).is_finished()]
    return configs, pending


# ----------------------------------------------------------------------------- workers
_WORKER: dict[str, Any] = {}


def _task_key(config: RunConfig) -> str:
    keys = ("dataset", "val_size", "split_seed", "train_subset", "test_subset")
    d = {k: getattr(config, k) for k in keys}
    d["clf"] = dataclasses.asdict(config.classifier)
    d["held"] = dataclasses.asdict(config.heldout_classifier)
    return json.dumps(d, sort_keys=True)


def _init_worker(
    threads: int, data_dir: str | None, cache_dir: str | None, device: str, slots: Any
) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(
        data_dir=data_dir, cache_dir=cache_dir, device=device, tasks={},
        position=slots.get() if slots is not None else 0,
    )  # fmt: skip


def _worker_task(config: RunConfig) -> Any:
    from ..tasks import build_task

    key = _task_key(config)
    tasks = _WORKER["tasks"]
    if key not in tasks:
        tasks.clear()  # one dataset at a time per worker
        tasks[key] = build_task(
            config, data_dir=_WORKER["data_dir"], cache_dir=_WORKER["cache_dir"],
            device=_WORKER["device"],
        )  # fmt: skip
    return tasks[key]


def _prepare_one(config: RunConfig, which: str) -> None:
    """Worker side of phase 0: train (or find cached) one of the two frozen classifiers."""
    from ..classifiers import load_or_train_classifier
    from ..data import load_splits
    from ..tasks import data_identity

    splits = load_splits(
        config.dataset, _WORKER["data_dir"], val_size=config.val_size,
        split_seed=config.split_seed, train_subset=config.train_subset,
        test_subset=config.test_subset,
    )  # fmt: skip
    clf = config.classifier if which == "clf" else config.heldout_classifier
    load_or_train_classifier(
        clf, splits, data_identity(config, splits), cache_dir=_WORKER["cache_dir"],
        device="cpu",
    )  # fmt: skip


def _prepare_classifiers(
    config: RunConfig,
    data_dir: str | None,
    cache_dir: str | None,
    device: str,
    threads: int,
    progress: bool,
) -> None:
    import torch

    from ..tasks import build_task

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        build_task(config, data_dir=data_dir, cache_dir=cache_dir, device=device,
                   progress=progress)  # fmt: skip
    finally:
        torch.set_num_threads(old_threads)


def _run_one(config: RunConfig, runs_root: str, preset: str, progress: bool) -> dict[str, Any]:
    from ..kinds.image import train_run

    result = train_run(
        config, runs_root, preset, task=_worker_task(config), device=_WORKER["device"],
        progress=progress, position=_WORKER["position"],
    )  # fmt: skip
    return result.final or {}


# ----------------------------------------------------------------------------- driver
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
) -> SweepReport:
    """Train the missing runs of `preset` under ``<runs_root>/<preset>/``.

    Parameters
    ----------
    jobs : int
        Worker processes (1: train in this process).
    threads_per_job : int, optional
        torch threads per worker (default: ``max(1, cpu_count // jobs)``).
    only : sequence of str
        ``key=value`` filters: run only the matching configs of the preset.
    limit : int, optional
        Train at most this many of the missing runs (e.g. to time a slice of a sweep).

    Returns
    -------
    SweepReport
        Also written to ``<runs_root>/<preset>/sweep.json``.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an integer >= 1; got {jobs!r}.")
    t0 = time.perf_counter()
    configs, pending = plan_sweep(preset, runs_root, overrides, only)
    skipped = len(configs) - len(pending)
    if limit is not None:
        pending = pending[:limit]
    n_cpu = os.cpu_count() or 1
    threads = threads_per_job or max(1, n_cpu // jobs)
    runs_root = str(Path(runs_root).resolve())
    data_dir = str(data_dir) if data_dir is not None else None
    cache_dir = str(cache_dir) if cache_dir is not None else None

    # Phase 0: the frozen classifiers (and a data check), trained once before any run: in
    # parallel processes when jobs > 1, else here. On a busy machine one thread per process
    # is much faster than several (measured), so phase 0 uses the per-job thread count too.
    if pending and jobs == 1:
        _prepare_classifiers(pending[0], data_dir, cache_dir, device, threads, progress)

    # Universal presets: the shared encoder runs go first (one per rate).
    bases: list[RunConfig] = []
    for c in pending:
        b = c.base_encoder
        if b is not None and b not in bases and not run_paths(runs_root, preset, b).is_finished():
            bases.append(b)
    phases = [p for p in (bases, pending) if p]

    failed: dict[str, str] = {}
    done = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(bases) + len(pending), desc=f"sweep {preset}", position=0,
                   dynamic_ncols=True, unit="run")  # fmt: skip
    try:
        if jobs == 1:
            import torch

            old_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
            _init_worker(threads, data_dir, cache_dir, device, None)
            _WORKER["position"] = 1
            try:
                for phase in phases:
                    for c in phase:
                        try:
                            _run_one(c, runs_root, preset, progress)
                            done += 1
                        except Exception as exc:  # keep going; report at the end
                            failed[config_hash(c)] = f"{type(exc).__name__}: {exc}"
                        if bar is not None:
                            bar.update(1)
            finally:
                torch.set_num_threads(old_threads)
        else:
            done = _run_parallel(phases, runs_root, preset, jobs, threads, data_dir, cache_dir,
                                 device, progress, bar, failed)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    report = SweepReport(
        preset=preset, total=len(configs), skipped=skipped, finished=done,
        failed=failed, wall_seconds=time.perf_counter() - t0, jobs=jobs, threads_per_job=threads,
    )  # fmt: skip
    info = dataclasses.asdict(report)
    info["overrides"] = list(overrides)
    info["only"] = list(only)
    info["cpu_count"] = n_cpu
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    atomic_write_json(Path(runs_root) / preset / "sweep.json", info)
    return report


def _run_parallel(
    phases: Iterable[list[RunConfig]],
    runs_root: str,
    preset: str,
    jobs: int,
    threads: int,
    data_dir: str | None,
    cache_dir: str | None,
    device: str,
    progress: bool,
    bar: Any,
    failed: dict[str, str],
) -> int:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # torch and fork do not mix well
    slots = ctx.Queue()
    for i in range(jobs):
        slots.put(i + 1)
    done = 0
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(threads, data_dir, cache_dir, device, slots),
    ) as pool:
        try:
            first = next((p[0] for p in phases if p), None)
            if first is not None:  # the two frozen classifiers, side by side
                for prep in [pool.submit(_prepare_one, first, w) for w in ("clf", "held")]:
                    prep.result()
            for phase in phases:
                futures: dict[Future[dict[str, Any]], RunConfig] = {
                    pool.submit(_run_one, c, runs_root, preset, progress): c for c in phase
                }
                remaining = set(futures)
                while remaining:
                    finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        exc = fut.exception()
                        if exc is None:
                            done += 1
                        else:
                            failed[config_hash(futures[fut])] = f"{type(exc).__name__}: {exc}"
                        if bar is not None:
                            bar.update(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return done
