"""Rendering of ``rdpc reproduce``'s ``report.md`` and ``report.json`` (written atomically)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json, atomic_write_text
from rdpc_common.provenance import provenance
from rdpc_common.tables import format_cell

from .stages import StageOutcome

__all__ = ["fmt", "span", "write_report"]


def fmt(v: Any) -> str:
    """A number for a markdown table: 4 significant digits, ``–`` for missing."""
    return format_cell(v, missing="–")


def span(rows: Sequence[dict[str, Any]], key: str) -> str:
    """``min … max`` of a column."""
    values = [float(r[key]) for r in rows]
    return f"{fmt(min(values))} … {fmt(max(values))}"


def write_report(
    out: Path,
    profile: str,
    description: str,
    command: str,
    stages: Sequence[StageOutcome],
    total: float,
    total_cpu: float,
) -> Path:
    """Write ``report.md`` (tables, figures, errors) and ``report.json`` (the numbers and
    per-stage times) into `out`; return the path of ``report.md``."""
    prov = provenance()
    lines = [
        "# rdpc reproduction report",
        "",
        f"- profile: `{profile}` ({description})",
        f"- rdpc {prov['rdpc_version']}, git {prov['git_sha'] or 'unknown'}, "
        f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- total time: {total / 60:.1f} min wall, {total_cpu / 60:.1f} min CPU (this process "
        "and its finished workers; wall time grows on a busy machine, CPU time does not)",
        f"- command: `{command}`",
        "",
        "| stage | status | wall seconds | CPU seconds | runs reused |",
        "|---|---|---|---|---|",
    ]
    for s in stages:
        status = "skipped" if s.skipped else ("ok" if s.ok else "**FAILED**")
        lines.append(
            f"| {s.title} | {status} | {s.seconds:.0f} | {s.cpu_seconds:.0f} | {s.reused_runs} |"
        )
    if any(s.reused_runs for s in stages):
        lines += [
            "",
            "Finished runs found under the runs folder were reused, not retrained: "
            "their stages' times do not include that training.",
        ]
    for k, s in enumerate(stages, 1):
        lines += ["", f"## {k}. {s.title}", ""]
        if s.skipped:
            lines.append(f"_Skipped:_ {s.skipped}")
            continue
        lines += s.markdown
        for fig in s.figures:
            rel = os.path.relpath(fig, out)
            lines += ["", f"![{fig.stem}]({rel})"]
        if s.error:
            lines += ["", "```", s.error.strip(), "```"]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    numbers: dict[str, Any] = {s.title: s.numbers for s in stages}
    numbers["_stages"] = [
        {
            "title": s.title,
            "status": "skipped" if s.skipped else ("ok" if s.ok else "failed"),
            "seconds": s.seconds,
            "cpu_seconds": s.cpu_seconds,
            "reused_runs": s.reused_runs,
        }
        for s in stages
    ]
    numbers["_provenance"] = prov
    atomic_write_json(out / "report.json", _plain(numbers))
    return path


def _plain(value: Any) -> Any:
    """JSON-able copy: dict keys as strings, non-finite floats as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
