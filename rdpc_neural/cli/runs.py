"""``rdpc runs``: list runs and their final metrics as a table (CSV with ``--csv``).

Examples::

    rdpc runs --preset cpu-fig9a
    rdpc runs --preset cpu-fig9a --csv results.csv
    rdpc runs --universal-penalty
    rdpc runs --preset cpu-fig9a --trends
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help="only this preset folder")
    parser.add_argument(
        "--runs-dir", default=None, help="root of run directories (default: $RDPC_RUNS or ./runs)"
    )
    parser.add_argument(
        "--csv", nargs="?", const="-", metavar="FILE", help="write CSV (to FILE or stdout)"
    )
    parser.add_argument(
        "--universal-penalty",
        action="store_true",
        help="pair universal runs with their end-to-end twins: MSE / accuracy penalty",
    )
    parser.add_argument(
        "--trends",
        action="store_true",
        help="print per-rate summaries (best accuracy, MSE, lambda_c rank correlations) as JSON",
    )


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _write(rows: list[dict[str, Any]], columns: list[str], target: str | None) -> None:
    if target is None:
        cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
        for row in cells:
            print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([["" if r.get(c) is None else r.get(c) for c in columns] for r in rows])
    if target == "-":
        sys.stdout.write(buf.getvalue())
    else:
        with open(target, "w", encoding="utf-8") as f:
            f.write(buf.getvalue())


def run(args: argparse.Namespace) -> int:
    from ..core.rundir import resolve_runs_root
    from ..kinds.image_results import RUN_COLUMNS, rdc_trends, runs_table, universal_penalty_table

    root = resolve_runs_root(args.runs_dir)
    if args.universal_penalty:
        rows = universal_penalty_table(root)
        if not rows:
            print(
                f"no finished universal run with an end-to-end twin under {root}", file=sys.stderr
            )
            return 0
        _write(rows, list(rows[0]), args.csv)
        return 0
    rows = runs_table(root, args.preset)
    if not rows:
        print(f"no runs under {root / (args.preset or '')}", file=sys.stderr)
        return 0
    if args.trends:
        print(json.dumps(rdc_trends(rows), indent=2))
        return 0
    _write(rows, list(RUN_COLUMNS), args.csv)
    return 0
