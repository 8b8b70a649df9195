"""Launchers execute a plan's jobs; ``local`` is a pool of worker processes on this machine.

A launcher receives the plan (:mod:`~rdpc_neural.core.plan`) and the locations, runs every job
through :func:`rdpc_neural.core.job.run_job` in dependency order, and returns a
:class:`LaunchOutcome`. Cluster engines (Ray, Slurm) plug in as other entries of
:data:`LAUNCHERS` with the same interface.

A failed run is recorded and the others go on; a failed prerequisite (missing data, a bad
cache folder) stops the launch with its error, since every run depends on it.

The local pool leaves no orphans:

* each worker watches its parent; when the parent dies (even by SIGKILL) the worker stops at
  the next step boundary, writes its checkpoint and exits;
* on Ctrl-C or SIGTERM the parent forwards SIGTERM to its workers, waits for their
  checkpoints (up to ``grace`` seconds), kills what is left, and re-raises.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .plan import Job, Plan

__all__ = [
    "LaunchSettings",
    "LaunchOutcome",
    "Launcher",
    "LocalLauncher",
    "LAUNCHERS",
    "get_launcher",
]


@dataclass(frozen=True)
class LaunchSettings:
    """Where runs live and how to execute them."""

    runs_root: str
    data_dir: str | None = None
    cache_dir: str | None = None
    device: str = "cpu"
    jobs: int = 1
    threads_per_job: int = 1
    progress: bool = True
    retries: int = 0  # resubmissions per job lost to a dead worker or a transient error

    def spec(self, job: Job) -> dict[str, Any]:
        """The job's full spec for :func:`~rdpc_neural.core.job.run_job`."""
        return {
            **job.spec,
            "runs_root": self.runs_root,
            "data_dir": self.data_dir,
            "cache_dir": self.cache_dir,
            "device": self.device,
            "threads": self.threads_per_job,
        }


@dataclass
class LaunchOutcome:
    """What happened to the plan's jobs: ids of finished runs and failures with tracebacks."""

    finished: list[str] = field(default_factory=list)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)
    retried: int = 0


class Launcher(Protocol):
    """Executes the jobs of a plan in dependency order."""

    name: str

    def launch(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome: ...


def _failure(exc: BaseException) -> dict[str, str]:
    return {
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
    }


def _blocked(job: Job, failed: dict[str, dict[str, str]]) -> str | None:
    bad = [d for d in job.depends_on if d in failed]
    return f"dependency failed: {', '.join(bad)}" if bad else None


# ------------------------------------------------------------------------- local workers


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:  # re-parented: our parent is gone
            os.kill(os.getpid(), signal.SIGTERM)  # graceful: checkpoint, then exit
            time.sleep(60.0)
            os._exit(143)


def _init_worker(threads: int, parent: int, slots: Any, pids: Any) -> None:
    import torch

    from .lifecycle import STOP

    torch.set_num_threads(threads)
    STOP.exit_when_idle = True
    STOP.install()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    _WORKER_STATE["position"] = slots.get()
    pids.put(os.getpid())


_WORKER_STATE: dict[str, Any] = {"position": 0}


def _worker_job(spec: dict[str, Any], progress: bool) -> dict[str, Any]:
    from .job import run_job

    try:
        return run_job(spec, progress=progress, position=_WORKER_STATE["position"])
    except KeyboardInterrupt:  # SIGTERM/Ctrl-C: the checkpoint is written; leave the pool
        os._exit(143)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent's reaping is pending
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _stop_workers(pids: Sequence[int], grace: float) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class LocalLauncher:
    """This machine: jobs in this process (``jobs == 1``) or in a pool of spawned worker
    processes, one dependency layer after another."""

    name: str = "local"
    grace: float = 30.0

    def launch(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome:
        if settings.jobs == 1:
            return self._serial(plan, settings, on_done)
        return self._pool(plan, settings, on_done)

    def _serial(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome:
        import torch

        from .job import run_job

        out = LaunchOutcome()
        old = torch.get_num_threads()
        try:
            for layer in plan.layers():
                for job in layer:
                    reason = _blocked(job, out.failed)
                    try:
                        if reason:
                            raise RuntimeError(reason)
                        run_job(settings.spec(job), progress=settings.progress, position=1)
                        if job.is_run:
                            out.finished.append(job.id)
                        on_done(job, True)
                    except Exception as exc:  # keep going; reported at the end
                        if not job.is_run:
                            raise  # a prerequisite (data, classifiers) fails every run alike
                        out.failed[job.id] = _failure(exc)
                        on_done(job, False)
        finally:
            torch.set_num_threads(old)
        return out

    def _pool(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        from rdpc_common.errors import Terminated

        ctx = mp.get_context("spawn")  # torch and fork do not mix well
        slots, pid_queue = ctx.Queue(), ctx.Queue()
        for i in range(settings.jobs):
            slots.put(i + 1)
        pids: list[int] = []
        out = LaunchOutcome()

        def on_term(signum: int, frame: Any) -> None:
            raise Terminated()

        main = threading.current_thread() is threading.main_thread()
        old_term = signal.signal(signal.SIGTERM, on_term) if main else None
        pool = ProcessPoolExecutor(
            max_workers=settings.jobs,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(settings.threads_per_job, os.getpid(), slots, pid_queue),
        )
        try:
            for layer in plan.layers():
                futures: dict[Future[dict[str, Any]], Job] = {}
                for job in layer:
                    reason = _blocked(job, out.failed)
                    if reason:
                        out.failed[job.id] = {"error": f"RuntimeError: {reason}", "traceback": ""}
                        on_done(job, False)
                        continue
                    fut = pool.submit(_worker_job, settings.spec(job), settings.progress)
                    futures[fut] = job
                remaining = set(futures)
                while remaining:
                    finished, remaining = wait(remaining, timeout=1.0, return_when=FIRST_COMPLETED)
                    while not pid_queue.empty():
                        pids.append(pid_queue.get())
                    for fut in finished:
                        job = futures[fut]
                        exc = fut.exception()
                        if exc is None:
                            if job.is_run:
                                out.finished.append(job.id)
                            on_done(job, True)
                        elif not job.is_run:
                            raise exc  # a prerequisite (data, classifiers) fails every run
                        else:
                            out.failed[job.id] = _failure(exc)
                            on_done(job, False)
        except BaseException:
            while not pid_queue.empty():
                pids.append(pid_queue.get())
            _stop_workers(pids, self.grace)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        else:
            pool.shutdown(wait=True)
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
        return out


def _ray(**options: Any) -> Launcher:
    from .launch_ray import RayLauncher  # imported on use: Ray is an optional extra

    return RayLauncher(**options)


def _slurm(**options: Any) -> Launcher:
    from .launch_slurm import SlurmLauncher  # imported on use: submitit is an optional extra

    return SlurmLauncher(**options)


#: Launchers by name (``rdpc sweep --launcher NAME``); options are the launcher's fields.
LAUNCHERS: dict[str, Callable[..., Launcher]] = {
    "local": LocalLauncher,
    "ray": _ray,
    "slurm": _slurm,
}


def get_launcher(name: str, **options: Any) -> Launcher:
    """A launcher by name, built with `options` (``ValueError`` listing the names otherwise;
    :class:`~rdpc_neural.core.extras.MissingExtra` if its engine is not installed)."""
    if name not in LAUNCHERS:
        raise ValueError(f"`launcher` must be one of {', '.join(LAUNCHERS)}; got {name!r}.")
    return LAUNCHERS[name](**options)
