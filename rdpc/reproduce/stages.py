"""The stage registry of ``rdpc reproduce`` and the record of one stage's outcome.

A stage is registered once, by the module of its family, with what it does in each profile
(``settings[profile]``; a profile missing from ``settings`` skips the stage). A new family
adds one module under :mod:`rdpc.reproduce` that calls :func:`register_stage`; the profiles,
the driver and the report do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["StageEnv", "StageOutcome", "StageSpec", "register_stage", "registered_stages"]


@dataclass(frozen=True)
class StageEnv:
    """What every stage gets: output and runs folders, data root, parallel jobs, device."""

    out: Path
    runs: Path
    data_dir: str | None
    jobs: int
    device: str
    progress: bool
    profile: str


@dataclass
class StageOutcome:
    """The outcome of one stage, rendered into the report."""

    title: str
    ok: bool = True
    skipped: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    reused_runs: int = 0
    markdown: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class StageSpec:
    """A registered stage: its place in the report, its settings per profile, its body
    ``run(outcome, settings, env)`` (which fills the outcome)."""

    key: str
    title: str
    order: int
    settings: Mapping[str, Mapping[str, Any]]
    run: Callable[[StageOutcome, Mapping[str, Any], StageEnv], None]
    skip_flag: str | None = None  # a ``--skip-...`` option of the command that leaves it out


_STAGES: dict[str, StageSpec] = {}


def register_stage(spec: StageSpec) -> StageSpec:
    """Add a stage (a second one with the same key is an error)."""
    if spec.key in _STAGES:
        raise ValueError(f"reproduce stage {spec.key!r} is already registered.")
    _STAGES[spec.key] = spec
    return spec


def registered_stages() -> list[StageSpec]:
    """Every registered stage, in report order."""
    from . import families  # noqa: F401  (registers the built-in stages)

    return sorted(_STAGES.values(), key=lambda s: s.order)
