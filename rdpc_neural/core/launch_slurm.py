"""The ``slurm`` launcher: the jobs of a plan as Slurm job arrays, submitted with ``submitit``.

Each dependency layer of the plan (:meth:`~rdpc_neural.core.plan.Plan.layers`: frozen
classifiers first, then the runs, then runs built on other runs) is one job array; the next
layer is submitted when the previous one has finished. Each array task calls
:func:`~rdpc_neural.core.job.run_job` on one job spec.

Resources per task: ``cpus_per_job`` (default: the sweep's threads per job), ``gpus_per_job``
(default: 1 when the device is CUDA, else 0), ``time_min``, ``mem_gb``, and the cluster's
``partition``, ``account``, ``qos``, ``constraint``; ``array_parallelism`` caps the tasks
running at once. A cluster's defaults go in a TOML or JSON file
(:func:`read_slurm_config`, ``rdpc sweep --slurm-config FILE``), with the same keys::

    # slurm.toml
    partition = "gpu"
    time_min = 240
    gpus_per_job = 1
    cpus_per_job = 8
    mem_gb = 32
    account = "my-project"
    additional = { "mail-type" = "FAIL" }   # any other sbatch option

``cluster = "local"`` runs the tasks as local processes through submitit's local executor (no
Slurm needed: how the tests run this launcher); ``"debug"`` runs them in this process.
submitit's logs (each task's stdout/stderr and pickled result) go to ``logs``, by default
``<runs_root>/.slurm-logs/<preset>/``.

Slurm's requeueing is not used for failures: a task killed or timed out ends with
``UncompletedJobError`` and :func:`~rdpc_neural.core.retries.launch_with_retries` resubmits it
(``--retries``); it resumes from its checkpoint. Give ``time_min`` room for the whole run, or
rely on retries to continue a run cut by the time limit.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .extras import require_extra
from .launchers import LaunchOutcome, LaunchSettings
from .plan import Job, Plan
from .retries import blocked_record, failure_record

__all__ = ["SlurmLauncher", "read_slurm_config", "slurm_job"]

CLUSTERS = ("slurm", "local", "debug")


def slurm_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job spec in a Slurm (or local submitit) task."""
    from .job import run_job

    return run_job(spec)


def _submitit_failure(exc: BaseException) -> dict[str, str]:
    """A failed task's record: the job's own exception when submitit reports its traceback
    (``FailedJobError``: its last line is ``Name: message``), else submitit's error."""
    text = str(exc)
    if type(exc).__name__ == "FailedJobError":
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        for line in reversed(lines):
            head = line.split(":", 1)[0]
            if head.isidentifier() and (head.endswith("Error") or head.endswith("Exception")):
                return failure_record(exc, error=line, trace=text)
    return failure_record(exc)


@dataclass
class SlurmLauncher:
    """Run jobs as Slurm job arrays through submitit (see the module docstring)."""

    partition: str | None = None
    time_min: int = 240
    cpus_per_job: int | None = None
    gpus_per_job: int | None = None
    mem_gb: float | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    array_parallelism: int = 256
    additional: dict[str, Any] = field(default_factory=dict)
    logs: str | None = None
    cluster: str = "slurm"
    poll_seconds: float = 1.0
    name: str = "slurm"

    def __post_init__(self) -> None:
        require_extra("submitit", "slurm", "`--launcher slurm`")
        if self.cluster not in CLUSTERS:
            raise ValueError(
                f"`cluster` must be one of {', '.join(CLUSTERS)}; got {self.cluster!r}."
            )
        for key in ("time_min", "array_parallelism"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"`{key}` must be an integer >= 1; got {v!r}.")
        for key in ("cpus_per_job", "gpus_per_job"):
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ValueError(f"`{key}` must be an integer >= 0; got {v!r}.")
        if self.mem_gb is not None and not self.mem_gb > 0:
            raise ValueError(f"`mem_gb` must be > 0; got {self.mem_gb!r}.")

    def executor(self, settings: LaunchSettings, preset: str) -> Any:
        """The configured ``submitit.AutoExecutor`` for a sweep of `preset`."""
        import submitit

        logs = Path(self.logs) if self.logs else Path(settings.runs_root) / ".slurm-logs" / preset
        ex = submitit.AutoExecutor(folder=logs / "%j", cluster=self.cluster)
        gpus = self.gpus_per_job
        if gpus is None:
            gpus = 1 if settings.device.startswith("cuda") else 0
        params: dict[str, Any] = {
            "name": f"rdpc-{preset}",
            "timeout_min": self.time_min,
            "cpus_per_task": self.cpus_per_job or settings.threads_per_job,
            "gpus_per_node": gpus,
            "mem_gb": self.mem_gb,
            "slurm_partition": self.partition,
            "slurm_account": self.account,
            "slurm_qos": self.qos,
            "slurm_constraint": self.constraint,
            "slurm_array_parallelism": self.array_parallelism,
            "slurm_additional_parameters": dict(self.additional) or None,
        }
        ex.update_parameters(**{k: v for k, v in params.items() if v is not None})
        return ex

    def launch(
        self, plan: Plan, settings: LaunchSettings, on_done: Callable[[Job, bool], None]
    ) -> LaunchOutcome:
        ex = self.executor(settings, plan.preset)
        out = LaunchOutcome()
        submitted: list[Any] = []
        try:
            for layer in plan.layers():
                runnable = []
                for job in layer:
                    bad = [d for d in job.depends_on if d in out.failed]
                    if bad:
                        out.failed[job.id] = blocked_record(bad)
                        on_done(job, False)
                    else:
                        runnable.append(job)
                if not runnable:
                    continue
                tasks = ex.map_array(slurm_job, [settings.spec(j) for j in runnable])
                submitted.extend(tasks)
                waiting = dict(zip(tasks, runnable, strict=True))
                while waiting:
                    for task in [t for t in waiting if t.done()]:
                        job = waiting.pop(task)
                        try:
                            task.result()
                        except Exception as exc:  # recorded; the sweep goes on
                            out.failed[job.id] = _submitit_failure(exc)
                            on_done(job, False)
                        else:
                            if job.is_run:
                                out.finished.append(job.id)
                            on_done(job, True)
                    if waiting:
                        time.sleep(self.poll_seconds)
        except BaseException:  # interrupted: cancel what is still queued or running
            for task in submitted:
                if not task.done():
                    task.cancel(check=False)
            raise
        return out


def read_slurm_config(path: str | Path) -> dict[str, Any]:
    """The :class:`SlurmLauncher` fields set in a TOML (``.toml``) or JSON file.

    ``ValueError`` for an unknown key (listing the known ones) or an unreadable file.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")  # FileNotFoundError names the path
    try:
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"`--slurm-config` {p} is not valid {p.suffix[1:] or 'JSON'}: {exc}"
        ) from exc
    if not isinstance(data, Mapping):
        raise ValueError(f"`--slurm-config` {p} must hold a table of settings; got {data!r}.")
    known = {f.name for f in fields(SlurmLauncher)} - {"name", "poll_seconds"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"`--slurm-config` {p}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}."
        )
    return dict(data)
