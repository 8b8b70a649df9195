"""The run lifecycle, the same for every experiment kind.

:func:`run_experiment` takes one config to a finished run directory (see
:mod:`~rdpc_neural.core.rundir` for the files)::

    finished?  -> read summary.json, done
    build the experiment (data problems surface before anything is written)
    claim the directory (atomic, with an owner and a stale timeout; waits for a live owner)
    finished meanwhile? -> done
    write config.json (identity, kind, schema version, provenance)
    resume from checkpoint.pt if present (models, optimizers, step, rows, timings)
    train; after every evaluation step: validation row + checkpoint
    stop early (max steps, Ctrl-C, SIGTERM): checkpoint at the step reached
    final evaluation on test data -> metrics.csv, checkpoint, summary.json (atomic, last)

Randomness is a function of (config, step) inside each kind, so a resumed run reproduces the
uninterrupted one exactly (same process setup on CPU).

Interrupts are taken at step boundaries: the first Ctrl-C or SIGTERM lets the current step
finish, writes the checkpoint and then raises ``KeyboardInterrupt`` (or
:class:`Terminated`); a second Ctrl-C stops at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json
from rdpc_common.claim import acquire_claim
from rdpc_common.errors import Terminated

from .registry import Experiment, ExperimentKind, kind_of_config
from .rundir import (
    RunPaths,
    atomic_torch_save,
    find_run_dir,
    load_torch_file,
    read_json,
    read_metrics_csv,
    write_metrics_csv,
    write_run_config,
)
from .schema import identity_hash

__all__ = [
    "RunResult",
    "RunContext",
    "Terminated",
    "STOP",
    "run_experiment",
    "read_run_result",
]


@dataclass(frozen=True)
class RunResult:
    """A run directory's state: finished or not, its metric rows and summary.

    ``final`` (the final test metrics) comes from ``summary.json``, never from the last line
    of ``metrics.csv``.
    """

    path: Path
    kind: str
    config: Any
    finished: bool
    step: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def final(self) -> dict[str, Any] | None:
        """The final test metrics of a finished run (from ``summary.json``)."""
        if not self.finished or self.summary is None:
            return None
        final: dict[str, Any] | None = self.summary.get("final")
        return final


@dataclass
class RunContext:
    """Where a run lives and what it may use: locations, device, progress display, a
    per-process cache of heavy resources (data, frozen classifiers) shared by the runs of a
    worker, and :meth:`run_dependency` to get a run this one builds on."""

    runs_root: Path
    preset: str
    data_dir: str | None = None
    cache_dir: str | None = None
    device: str = "cpu"
    progress: bool = False
    position: int = 0
    resources: dict[str, Any] = field(default_factory=dict)

    def run_dependency(self, config: Any) -> RunResult:
        """Train (or read) the run of `config` in the same preset folder and return it."""
        return run_experiment(config, self.runs_root, self.preset, context=self)


class _StopRequests:
    """SIGINT/SIGTERM received while a run trains: acted on at the next step boundary."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.active = False
        self.exit_when_idle = False  # pool workers: a signal outside a run exits at once

    def handle(self, signum: int, frame: Any) -> None:
        if not self.active:
            if self.exit_when_idle:
                os._exit(128 + signum)
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt()  # a second Ctrl-C: stop now
        self.signum = signum

    def install(self) -> None:
        """Route SIGINT and SIGTERM of this process here (main thread only)."""
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    @contextlib.contextmanager
    def during_run(self) -> Iterator[None]:
        main = threading.current_thread() is threading.main_thread()
        old = None
        if main and signal.getsignal(signal.SIGTERM) is not self.handle:
            old = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
            self.install()
        was_active, self.active, self.signum = self.active, True, None
        try:
            yield
        finally:
            self.active = was_active
            if self.exit_when_idle and self.signum is not None:
                os._exit(128 + self.signum)  # a pool worker asked to stop: the run is saved
            if old is not None:
                signal.signal(signal.SIGINT, old[0])
                signal.signal(signal.SIGTERM, old[1])

    def raise_if_requested(self) -> None:
        if self.signum is not None:
            signum, self.signum = self.signum, None
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


#: The process's stop requests (one per process).
STOP = _StopRequests()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def read_run_result(paths: RunPaths, kind: ExperimentKind, config: Any) -> RunResult:
    """The :class:`RunResult` of an existing run directory (finished or not)."""
    rows = read_metrics_csv(paths.metrics, kind.int_columns) if paths.metrics.is_file() else []
    if paths.is_finished():
        summary = read_json(paths.summary)
        return RunResult(paths.root, kind.name, config, True, int(summary["steps"]), rows, summary)
    step = int(rows[-1]["step"]) if rows else 0
    return RunResult(paths.root, kind.name, config, False, step, rows)


def run_experiment(
    config: Any,
    runs_root: str | os.PathLike[str],
    preset: str = "custom",
    *,
    context: RunContext | None = None,
    max_steps_this_call: int | None = None,
    stale_after: float = 120.0,
) -> RunResult:
    """Train (or resume, or just read) the run of `config` under ``<runs_root>/<preset>/``.

    Parameters
    ----------
    config
        A config of any registered kind.
    runs_root, preset : path, str
        Where the run directory goes (``<runs_root>/<preset>/<identity hash>``).
    context : RunContext, optional
        Locations, device, progress display and shared resources (defaults: CPU, no bars).
    max_steps_this_call : int, optional
        Stop after this many steps of this call, as an interruption would: a checkpoint is
        written at the step reached and the run is left unfinished.
    stale_after : float
        Seconds without a heartbeat after which another process's claim on the directory
        is considered dead.

    Returns
    -------
    RunResult
        ``finished`` is False when stopped by `max_steps_this_call`.
    """
    if max_steps_this_call is not None and (
        isinstance(max_steps_this_call, bool)
        or not isinstance(max_steps_this_call, int)
        or max_steps_this_call < 1
    ):
        raise ValueError(
            f"`max_steps_this_call` must be an integer >= 1; got {max_steps_this_call!r}."
        )
    kind = kind_of_config(config)
    root = Path(runs_root).resolve()
    ctx = context if context is not None else RunContext(root, preset)
    if ctx.runs_root != root or ctx.preset != preset:
        ctx = RunContext(
            root,
            preset,
            ctx.data_dir,
            ctx.cache_dir,
            ctx.device,
            ctx.progress,
            ctx.position,
            ctx.resources,
        )
    paths = find_run_dir(root, preset, kind, config)
    if paths.is_finished():
        return read_run_result(paths, kind, config)
    experiment = kind.builder()(config, ctx)  # data problems surface before anything is written
    with acquire_claim(paths.root, stale_after=stale_after):
        if paths.is_finished():  # another process finished it while we waited
            return read_run_result(paths, kind, config)
        write_run_config(paths, kind, config, preset)
        try:
            with STOP.during_run():
                result = _train(experiment, kind, config, paths, preset, ctx, max_steps_this_call)
                # A stop asked for during the final evaluation: the run is finished and saved.
                STOP.raise_if_requested()
        except Exception as exc:
            atomic_write_json(
                paths.failure,
                {
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                    "time": time.time(),
                },
            )
            raise
    return result


def _train(
    exp: Experiment,
    kind: ExperimentKind,
    config: Any,
    paths: RunPaths,
    preset: str,
    ctx: RunContext,
    max_steps_this_call: int | None,
) -> RunResult:
    import torch

    step, rows, timers = 0, [], {"train_seconds": 0.0, "train_cpu_seconds": 0.0}
    if paths.checkpoint.exists():
        ckpt = load_torch_file(
            paths.checkpoint,
            map_location=ctx.device,
            remedy="delete it to train the run again from step 0",
        )
        exp.load_state_dict(ckpt)
        step = int(ckpt["step"])
        rows = [r for r in ckpt["rows"] if r["split"] != "test"]
        for k in timers:
            timers[k] = float(ckpt.get(k, 0.0))

    def save_checkpoint(final: bool = False) -> None:
        state = {"step": step, "rows": rows, **timers, **exp.state_dict(final=final)}
        atomic_torch_save(paths.checkpoint, state)
        write_metrics_csv(paths.metrics, rows, kind.metric_columns, allow_inf=True)

    bar = None
    if ctx.progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=exp.steps,
            initial=step,
            desc=exp.describe(),
            position=ctx.position,
            leave=False,
            dynamic_ncols=True,
            mininterval=0.5,
        )
    done_this_call = 0
    t0, c0 = time.perf_counter(), time.process_time()

    def lap() -> None:
        nonlocal t0, c0
        timers["train_seconds"] += time.perf_counter() - t0
        timers["train_cpu_seconds"] += time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()

    try:
        while step < exp.steps:
            if max_steps_this_call is not None and done_this_call >= max_steps_this_call:
                lap()
                save_checkpoint()
                return RunResult(paths.root, kind.name, config, False, step, rows)
            try:
                STOP.raise_if_requested()
            except KeyboardInterrupt:
                lap()
                save_checkpoint()
                raise
            terms = exp.train_step(step)
            if not math.isfinite(terms["loss"]):
                raise FloatingPointError(f"loss became {terms['loss']} at step {step}")
            step += 1
            done_this_call += 1
            if bar is not None:
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()}, refresh=False)
            if exp.is_eval_step(step):
                lap()
                rows.append(exp.evaluate(step, final=False)[0])
                save_checkpoint()
                t0, c0 = time.perf_counter(), time.process_time()
        lap()
    finally:
        if bar is not None:
            bar.close()

    t_eval, c_eval = time.perf_counter(), time.process_time()
    final, facts = exp.evaluate(step, final=True)
    eval_seconds = time.perf_counter() - t_eval
    eval_cpu_seconds = time.process_time() - c_eval
    rows = [r for r in rows if r["split"] != "test"] + [final]
    save_checkpoint(final=True)
    summary = {
        "status": "finished",
        "kind": kind.name,
        "schema_version": kind.schema_version,
        "hash": identity_hash(kind.name, kind.schema_version, config),
        "preset": preset,
        "steps": step,
        **timers,
        "final_eval_seconds": eval_seconds,
        # CPU time of this process (all its threads): with one thread, the time the run
        # would take on an idle core; wall times include waiting for a busy machine.
        "final_eval_cpu_seconds": eval_cpu_seconds,
        "torch_threads": torch.get_num_threads(),
        "device": ctx.device,
        "final": _json_safe(final),
        **_json_safe(facts),
    }
    atomic_write_json(paths.summary, summary)
    with contextlib.suppress(FileNotFoundError):
        paths.failure.unlink()
    return read_run_result(paths, kind, config)
