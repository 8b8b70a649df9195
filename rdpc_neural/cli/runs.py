"""``rdpc runs``: list the runs of every kind and their final metrics (CSV with ``--csv``).

Examples::

    rdpc runs                                   # every kind, one table per kind
    rdpc runs --preset cpu-fig9a
    rdpc runs --preset synthetic-quick --csv results.csv
    rdpc runs --universal-penalty
    rdpc runs --preset cpu-fig9a --trends

A run directory that cannot be read (corrupt file, edited config.json, ...) is listed at the
end with its path and the reason, and the exit status is 1; every other run is still listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help="only this preset folder")
    parser.add_argument("--kind", default=None, help="only runs of this experiment kind")
    parser.add_argument(
        "--runs-dir", default=None, help="root of run directories (default: $RDPC_RUNS or ./runs)"
    )
    parser.add_argument(
        "--csv", nargs="?", const="-", metavar="FILE", help="write CSV (to FILE or stdout)"
    )
    parser.add_argument(
        "--universal-penalty",
        action="store_true",
        help="pair universal image runs with their end-to-end twins: MSE / accuracy penalty",
    )
    parser.add_argument(
        "--trends",
        action="store_true",
        help="print per-rate summaries of image runs (best accuracy, MSE, "
        "lambda_c rank correlations) as JSON",
    )


def _emit(text: str, target: str | None) -> None:
    if target in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        from rdpc_common.atomic import atomic_write_text

        atomic_write_text(Path(target), text)


def run(args: argparse.Namespace) -> int:
    from rdpc_common.tables import format_csv, format_table

    from ..core.registry import get_kind
    from ..core.rundir import resolve_runs_root
    from ..core.runs import LISTING_COLUMNS, runs_table, scan_runs

    root = resolve_runs_root(args.runs_dir)
    if args.universal_penalty:
        from ..kinds.image_results import universal_penalty_table

        rows = universal_penalty_table(root)
        if not rows:
            print(
                f"no finished universal run with an end-to-end twin under {root}", file=sys.stderr
            )
            return 0
        cols = list(rows[0])
        _emit(format_csv(rows, cols) if args.csv else format_table(rows, cols), args.csv)
        return 0
    records, problems = scan_runs(root, args.preset, args.kind)
    if args.trends:
        from ..kinds.image_results import rdc_trends

        rows = [r for r in runs_table(root, args.preset, "image") if r["status"] == "finished"]
        print(json.dumps(rdc_trends(rows), indent=2))
        return 0
    if not records and not problems:
        print(f"no runs under {root / (args.preset or '')}", file=sys.stderr)
        return 0
    kinds = sorted({r.kind for r in records})
    parts = []
    for name in kinds:
        rows = runs_table(root, args.preset, name)
        cols = list(
            dict.fromkeys(
                ["preset", "kind", "hash", "status", "step"]
                + [c for c in get_kind(name).listing_columns if c not in LISTING_COLUMNS]
            )
        )
        if args.csv:
            parts.append(format_csv(rows, cols))
        else:
            parts.append(f"{name} runs ({len(rows)}):\n{format_table(rows, cols)}")
    text = "\n".join(parts)
    if text:
        _emit(text, args.csv)
    for p in problems:
        print(f"unreadable run {p.path}: {p.reason}", file=sys.stderr)
    return 1 if problems else 0
