"""A sweep as a plan of jobs with dependencies (torch-free).

:func:`plan_sweep` turns a preset (with overrides and filters) into the jobs still to do:

* **prerequisite jobs**: work that runs need but that is not a run (the image kind's frozen
  classifiers, trained once into the cache), deduplicated across runs;
* **run jobs**: one per unfinished run, depending on its prerequisites and on the runs it
  builds on (a universal decoder's base encoder, itself a run job if unfinished).

A launcher (:mod:`~rdpc_neural.core.launchers`) executes the jobs in dependency order; each
job is a plain JSON spec run by :func:`rdpc_neural.core.job.run_job`, the same function a
cluster engine calls (``python -m rdpc_neural.core.job SPEC.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .registry import ExperimentKind, config_hash, get_kind, get_preset
from .rundir import check_folder_name, find_run_dir
from .schema import apply_to_all, parse_override

__all__ = ["Job", "Plan", "plan_sweep", "matches"]


@dataclass(frozen=True)
class Job:
    """One unit of work of a plan (see the module docstring).

    ``spec`` is the JSON-able description :func:`rdpc_neural.core.job.run_job` executes,
    without the locations (runs root, data, cache, device), which the launcher adds.
    """

    id: str
    spec: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_run(self) -> bool:
        return bool(self.spec["type"] == "run")


@dataclass(frozen=True)
class Plan:
    """The jobs of a sweep still to do, and what was found done already."""

    preset: str
    kind: str
    total: int  # runs of the preset (after filters)
    skipped: int  # of those, already finished
    jobs: list[Job] = field(default_factory=list)
    overrides: tuple[str, ...] = ()
    only: tuple[str, ...] = ()

    @property
    def runs(self) -> list[Job]:
        """The run jobs (dependency runs included)."""
        return [j for j in self.jobs if j.is_run]

    def layers(self) -> list[list[Job]]:
        """Jobs grouped so that every job's dependencies are in earlier groups."""
        depth: dict[str, int] = {}
        by_id = {j.id: j for j in self.jobs}

        def level(job: Job) -> int:
            if job.id not in depth:
                depth[job.id] = 1 + max(
                    (level(by_id[d]) for d in job.depends_on if d in by_id), default=-1
                )
            return depth[job.id]

        out: list[list[Job]] = []
        for job in self.jobs:
            k = level(job)
            while len(out) <= k:
                out.append([])
            out[k].append(job)
        return [layer for layer in out if layer]


def _value(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise ValueError(
                f"unknown `--only` key {key!r}; use a config field (dotted for nested) or a "
                "derived value such as rate_bits."
            )
    return value


def matches(config: Any, filters: Sequence[str]) -> bool:
    """True if `config` has every ``key=value`` of `filters` (floats compared to 1e-9)."""
    for item in filters:
        key, want = parse_override(item)
        have = _value(config, key)
        if isinstance(have, float) and isinstance(want, int | float):
            if abs(have - float(want)) > 1e-9 * max(1.0, abs(have)):
                return False
        elif have != want:
            return False
    return True


def _run_job(kind: ExperimentKind, config: Any, preset: str, deps: tuple[str, ...]) -> Job:
    h = config_hash(config)
    spec = {"type": "run", "kind": kind.name, "preset": preset, "config": config.to_dict()}
    return Job(f"run:{kind.name}:{h}", spec, deps, f"{preset}/{h}")


def plan_sweep(
    preset: str,
    runs_root: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    only: Sequence[str] = (),
    *,
    limit: int | None = None,
) -> Plan:
    """The jobs that bring `preset` (with ``key=value`` `overrides`, restricted to the configs
    matching every ``key=value`` of `only`) to finished runs under ``<runs_root>/<preset>/``.

    Every config is validated here, before anything trains. `limit` keeps only the first
    that many unfinished runs (with what they need).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"`limit` must be an integer >= 0; got {limit!r}.")
    check_folder_name(preset)
    p = get_preset(preset)
    kind = get_kind(p.kind)
    configs = apply_to_all(p.configs(), overrides)
    configs = [c for c in configs if matches(c, only)]
    if len({config_hash(c) for c in configs}) != len(configs):
        raise ValueError(f"preset {preset!r} with these overrides has duplicate runs.")
    root = Path(runs_root)

    def finished(c: Any) -> bool:
        return find_run_dir(root, preset, kind, c).is_finished()

    pending = [c for c in configs if not finished(c)]
    skipped = len(configs) - len(pending)
    if limit is not None:
        pending = pending[:limit]
    jobs: dict[str, Job] = {}

    def prerequisite_ids(c: Any) -> tuple[str, ...]:
        ids = []
        for pre in kind.prerequisites(c):
            jid = "pre:" + hashlib.sha256(pre.key.encode()).hexdigest()[:12]
            if jid not in jobs:
                spec = {
                    "type": "prerequisite",
                    "function": pre.function,
                    "kind": kind.name,
                    "config": c.to_dict(),
                    "args": list(pre.args),
                }
                jobs[jid] = Job(jid, spec, (), pre.description)
            ids.append(jid)
        return tuple(ids)

    def add_run(c: Any) -> str:
        deps = list(prerequisite_ids(c))
        for d in kind.dependencies(c):
            if not finished(d):
                deps.append(add_run(d))
        job = _run_job(kind, c, preset, tuple(deps))
        jobs.setdefault(job.id, job)
        return job.id

    for c in pending:
        add_run(c)
    return Plan(
        preset, kind.name, len(configs), skipped, list(jobs.values()), tuple(overrides), tuple(only)
    )


def spec_json(spec: dict[str, Any]) -> str:
    """A job spec as compact JSON (what cluster launchers pass to the job runner)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


__all__ += ["spec_json"]
