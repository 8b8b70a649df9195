"""Retrying jobs lost to dead workers or transient errors, the same way for every launcher.

A launcher runs a plan once and reports each job as finished or failed (with a failure
record: error, traceback, and whether the failure is worth retrying). :func:`launch_with_retries`
then launches the jobs whose failure is retryable again, as a smaller plan, up to
``settings.retries`` times each, and counts every such resubmission in
:attr:`~rdpc_neural.core.launchers.LaunchOutcome.retried`.

Retryable are failures that say nothing about the job itself: the worker process or node died
(killed, out of memory, preempted), or an operating-system error (a network file system that
went away for a moment). An exception raised by the training code (a ``ValueError``, a
diverging loss) would fail again and is recorded at once. Jobs that did not run because a
dependency failed follow that dependency: retried with it (not counted), or recorded as
blocked.

A resubmitted run continues where its worker stopped: its last checkpoint is on the shared runs
root, and the claim of the dead worker is stale (at once on the same host, where its process
is seen to be gone; after ``stale_after`` seconds without a heartbeat elsewhere).

The engines' own retry mechanisms (Ray's ``max_retries``, Slurm's requeue) are left off so that
retries are counted, reported and bounded the same way on every launcher.
"""

from __future__ import annotations

import builtins
import dataclasses
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from .plan import Job, Plan

if TYPE_CHECKING:
    from .launchers import Launcher, LaunchOutcome, LaunchSettings

__all__ = [
    "WORKER_LOST_ERRORS",
    "failure_record",
    "error_name",
    "is_retryable",
    "blocked_record",
    "launch_with_retries",
]

#: Exception class names (of the engines) that mean the worker running a job was lost.
WORKER_LOST_ERRORS = frozenset(
    {
        "BrokenProcessPool",  # concurrent.futures: a pool worker died
        "WorkerCrashedError",  # ray: the worker process died
        "NodeDiedError",  # ray: the node died
        "TaskUnschedulableError",  # ray: the node that held the task's resources went away
        "OwnerDiedError",
        "ObjectLostError",
        "UncompletedJobError",  # submitit: the job ended without a result (killed, timeout)
    }
)

# Built-in OSError and its subclasses (ConnectionError, TimeoutError, FileNotFoundError, ...).
_OS_ERRORS = frozenset(
    name
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, OSError)
)


def error_name(failure: dict[str, str]) -> str:
    """The exception class name of a failure record (the text before the first colon)."""
    return failure.get("error", "").split(":", 1)[0].strip()


def is_retryable(failure: dict[str, str]) -> bool:
    """True if the failure is a lost worker or an operating-system error (see the module
    docstring); an explicit ``"retryable"`` entry of the record decides first."""
    if "retryable" in failure:
        return failure["retryable"] == "yes"
    name = error_name(failure)
    return name in WORKER_LOST_ERRORS or name in _OS_ERRORS


def failure_record(
    exc: BaseException, *, error: str | None = None, trace: str | None = None
) -> dict[str, str]:
    """``{"error", "traceback", "retryable"}`` of `exc` (`error` and `trace` replace the text
    taken from `exc`, e.g. when the engine wraps the job's own exception)."""
    record = {
        "error": error if error is not None else f"{type(exc).__name__}: {exc}",
        "traceback": trace if trace is not None else "".join(traceback.format_exception(exc)),
    }
    record["retryable"] = "yes" if is_retryable({"error": record["error"]}) else "no"
    return record


def blocked_record(failed_dependencies: list[str]) -> dict[str, str]:
    """The failure record of a job not run because its dependencies failed."""
    return {
        "error": f"RuntimeError: dependency failed: {', '.join(failed_dependencies)}",
        "traceback": "",
        "retryable": "no",
    }


def launch_with_retries(
    launcher: Launcher,
    plan: Plan,
    settings: LaunchSettings,
    on_done: Callable[[Job, bool], None],
) -> LaunchOutcome:
    """Launch `plan`, then relaunch retryable failures up to ``settings.retries`` times each.

    `on_done` sees each job once: when it finished, or when it failed for good (a failure
    that will be retried is not reported). A launcher that raises (other than an interrupt)
    counts as a failure of every job it had not reported finished.
    """
    from .launchers import LaunchOutcome

    total = LaunchOutcome()
    attempts: dict[str, int] = {}
    current = plan
    while current.jobs:
        succeeded: set[str] = set()

        def done(job: Job, ok: bool, succeeded: set[str] = succeeded) -> None:
            if ok:
                succeeded.add(job.id)
                on_done(job, True)

        try:
            out = launcher.launch(current, settings, done)
        except Exception as exc:  # the launcher broke as a whole (e.g. its pool died)
            record = failure_record(exc)
            out = LaunchOutcome(
                finished=[j.id for j in current.runs if j.id in succeeded],
                failed={j.id: record for j in current.jobs if j.id not in succeeded},
            )
        total.finished.extend(out.finished)
        total.retried += out.retried
        again: set[str] = set()
        for layer in current.layers():  # dependencies are decided before their dependents
            for job in layer:
                if job.id not in out.failed:
                    continue
                bad = [d for d in job.depends_on if d in out.failed]
                if bad:
                    if any(d in again for d in bad):
                        again.add(job.id)  # runs again with its dependency, not a retry of its own
                elif (
                    is_retryable(out.failed[job.id]) and attempts.get(job.id, 0) < settings.retries
                ):
                    attempts[job.id] = attempts.get(job.id, 0) + 1
                    total.retried += 1
                    again.add(job.id)
        by_id = {j.id: j for j in current.jobs}
        for jid, failure in out.failed.items():
            if jid not in again:
                total.failed[jid] = failure
                on_done(by_id[jid], False)
        current = dataclasses.replace(plan, jobs=[j for j in plan.jobs if j.id in again])
    return total
