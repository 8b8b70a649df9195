"""The ``ray`` launcher: every job of a plan is a Ray task calling
:func:`~rdpc_neural.core.job.run_job`.

* Resources per task: ``threads_per_job`` CPUs, and one GPU when the device is CUDA.
* Dependencies (frozen classifiers, base encoders) are Ray object dependencies: a task receives
  the results of the tasks it depends on as arguments, so Ray starts it only after they have
  finished, and a failed dependency fails it without running it.
* ``address``: a running cluster (``"auto"``, ``"ray://head:10001"``, ``"head:6379"``);
  without one a private local instance is started for the sweep (``jobs x threads_per_job``
  CPUs, dashboard off) and stopped at the end. If the calling process already initialized Ray,
  that instance is used and left running.
* Ray's own task retries are off (``max_retries=0``): a task lost with its worker fails with
  ``WorkerCrashedError`` and :func:`~rdpc_neural.core.retries.launch_with_retries` resubmits
  it, so retries are counted and bounded the same way as on the other launchers.

Workers must import the same ``rdpc`` (installed on every node, or on ``PYTHONPATH``) and see
the runs root at the same path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .extras import require_extra
from .launchers import LaunchOutcome, LaunchSettings
from .plan import Job, Plan
from .retries import blocked_record, failure_record

__all__ = ["RayLauncher", "ray_job"]


def ray_job(spec: dict[str, Any], *dependencies: Any) -> dict[str, Any]:
    """Run one job spec in a Ray worker (`dependencies`: results of the jobs it waits for)."""
    from .job import run_job

    return run_job(spec)


def _task_failure(exc: BaseException) -> dict[str, str]:
    """The job's own exception when Ray wraps it (``RayTaskError``), else Ray's error."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        trace = getattr(exc, "traceback_str", None) or str(exc)  # the worker's traceback
        trace = re.sub(r"\x1b\[[0-9;]*m", "", trace)  # without Ray's terminal colours
        return failure_record(exc, error=f"{type(cause).__name__}: {cause}", trace=trace)
    return failure_record(exc)


@dataclass
class RayLauncher:
    """Run jobs as Ray tasks (see the module docstring)."""

    address: str | None = None
    name: str = "ray"

    def __post_init__(self) -> None:
        require_extra("ray", "ray", "`--launcher ray`")

    def launch(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome:
        import ray

        started = False
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:  # a private instance on this machine, never another one found running
                ray.init(
                    address="local",
                    num_cpus=settings.jobs * settings.threads_per_job,
                    include_dashboard=False,
                    log_to_driver=False,
                )
            started = True
        gpus = 1 if settings.device.startswith("cuda") else 0
        task = ray.remote(ray_job)
        resources = {"num_cpus": settings.threads_per_job, "num_gpus": gpus, "max_retries": 0}
        out = LaunchOutcome()
        refs: dict[str, Any] = {}
        jobs: dict[Any, Job] = {}
        try:
            for layer in plan.layers():
                for job in layer:
                    deps = [refs[d] for d in job.depends_on if d in refs]
                    ref = task.options(name=job.description or job.id, **resources).remote(
                        settings.spec(job), *deps
                    )
                    refs[job.id] = ref
                    jobs[ref] = job
            pending = list(jobs)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
                for ref in ready:
                    job = jobs[ref]
                    try:
                        ray.get(ref)
                    except Exception as exc:  # recorded; the sweep goes on
                        out.failed[job.id] = _task_failure(exc)
                        on_done(job, False)
                    else:
                        if job.is_run:
                            out.finished.append(job.id)
                        on_done(job, True)
        except BaseException:  # interrupted: stop the tasks (checkpoints are on disk)
            for ref in refs.values():
                ray.cancel(ref, force=True)
            raise
        finally:
            if started:
                ray.shutdown()
        # A task whose dependency failed was not run: say so instead of repeating its error.
        for job in plan.jobs:
            bad = [d for d in job.depends_on if d in out.failed]
            if bad and job.id in out.failed:
                out.failed[job.id] = blocked_record(bad)
        return out
