"""Finding and reading run directories of every kind (torch-free; ``rdpc runs``, figures).

A runs root holds preset folders, each holding run directories (see
:mod:`~rdpc_neural.core.rundir`). :func:`scan_runs` reads them all; a directory that cannot be
read as a run (corrupt JSON, a truncated CSV, a folder where a file should be, a
``config.json`` that does not hash to its folder's name) becomes a :class:`RunProblem` with its
path and reason, and every other run is still read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpc_common.errors import FileProblem

from .registry import get_kind
from .rundir import RunPaths, read_json, read_metrics_csv, read_run_config

__all__ = ["RunRecord", "RunProblem", "scan_runs", "iter_runs", "runs_table", "LISTING_COLUMNS"]

#: Columns every kind's listing starts with.
LISTING_COLUMNS: tuple[str, ...] = ("preset", "kind", "hash", "status", "step")

_RUN_FILES = ("metrics.csv", "summary.json", "checkpoint.pt")


@dataclass(frozen=True)
class RunRecord:
    """A run found on disk: where, what kind and config, its status and metrics.

    ``final`` holds the final test metrics of a finished run (from ``summary.json``) or the
    last validation row of an unfinished one (``None`` if it has none yet).
    """

    preset: str
    hash: str
    path: Path
    kind: str
    config: Any
    finished: bool
    summary: dict[str, Any] | None
    final: dict[str, Any] | None

    @property
    def status(self) -> str:
        """``finished``, ``partial`` (some evaluations done) or ``new``."""
        if self.finished:
            return "finished"
        return "partial" if self.final else "new"


@dataclass(frozen=True)
class RunProblem:
    """A directory under a runs root that could not be read as a run."""

    path: Path
    reason: str


def _read(rdir: Path, preset: str) -> RunRecord:
    paths = RunPaths(rdir)
    kind, config, _ = read_run_config(rdir)
    summary = None
    if paths.summary.exists():
        summary = read_json(paths.summary)
        if not isinstance(summary, dict) or not isinstance(summary.get("final"), dict):
            raise FileProblem(f"{paths.summary} has no `final` metrics mapping.")
        for key, value in summary["final"].items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if key != "split" and value is not None and not number:
                raise FileProblem(
                    f"{paths.summary}: final metric {key!r} is {value!r}, not a number."
                )
    rows = read_metrics_csv(paths.metrics, kind.int_columns) if paths.metrics.exists() else []
    final = summary["final"] if summary is not None else (rows[-1] if rows else None)
    return RunRecord(
        preset, rdir.name, rdir, kind.name, config, summary is not None, summary, final
    )


def scan_runs(
    runs_root: str | os.PathLike[str], preset: str | None = None, kind: str | None = None
) -> tuple[list[RunRecord], list[RunProblem]]:
    """Every run directory under `runs_root` (optionally one `preset` folder and one `kind`),
    sorted by path, and the directories that could not be read."""
    root = Path(runs_root)
    if kind is not None:
        get_kind(kind)  # validates the name
    if not root.is_dir():
        return [], []
    presets = [root / preset] if preset else sorted(p for p in root.iterdir() if p.is_dir())
    records: list[RunRecord] = []
    problems: list[RunProblem] = []
    for pdir in presets:
        if not pdir.is_dir():
            continue
        for rdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
            has_config = (rdir / "config.json").exists()
            if not has_config:
                if any((rdir / f).exists() for f in _RUN_FILES):
                    problems.append(RunProblem(rdir, "run files but no config.json"))
                continue  # not a run directory (or one being created)
            try:
                rec = _read(rdir, pdir.name)
            except (FileProblem, OSError, ValueError, KeyError) as exc:
                problems.append(RunProblem(rdir, str(exc)))
                continue
            if kind is None or rec.kind == kind:
                records.append(rec)
    return records, problems


def iter_runs(
    runs_root: str | os.PathLike[str], preset: str | None = None, kind: str | None = None
) -> Iterator[RunRecord]:
    """The readable runs of :func:`scan_runs` (problems left out)."""
    yield from scan_runs(runs_root, preset, kind)[0]


def runs_table(
    runs_root: str | os.PathLike[str], preset: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """One row per readable run: :data:`LISTING_COLUMNS`, the kind's config columns, the
    final metrics (or the last validation row of an unfinished run) and the timings."""
    rows = []
    for rec in iter_runs(runs_root, preset, kind):
        k = get_kind(rec.kind)
        row: dict[str, Any] = {
            "preset": rec.preset,
            "kind": rec.kind,
            "hash": rec.hash,
            "status": rec.status,
            **k.listing_row(rec.config),
        }
        for key, value in (rec.final or {}).items():
            if key != "split":
                row.setdefault(key, value)
        if rec.summary is not None:
            for key in ("train_seconds", "train_cpu_seconds"):
                row[key] = rec.summary.get(key)
        rows.append(row)
    return rows
