"""``rdpc synthetic``: neural codecs on the theoretical binary and Gaussian sources.

Examples::

    rdpc synthetic --list
    rdpc synthetic --preset synthetic-quick --jobs 2
    rdpc synthetic --preset synthetic-full --jobs 2 --runs-dir runs
    rdpc synthetic --preset synthetic-full --table            # runs, rates, bounds, gaps
    rdpc synthetic --preset synthetic-full --gaps             # best gap per source/n/family

Each run trains an MLP codec with a dithered quantizer and a learned entropy model on
i.i.d. blocks, measures the entropy-coded rate, distortion, perception and a classification
upper bound on held-out samples, and compares the rate with the per-letter theoretical bound.
Interrupt at any time and rerun: finished runs are kept, unfinished ones resume.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help="preset name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per job")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a field of every run (changes the run hashes); "
                             "repeatable")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="run at most N missing runs")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and count the missing runs, then exit")  # fmt: skip
    parser.add_argument("--table", action="store_true",
                        help="print the runs of --preset (or all) and exit")  # fmt: skip
    parser.add_argument("--gaps", action="store_true",
                        help="print the best gap to the bound per source, n and family "
                             "(JSON) and exit")  # fmt: skip
    parser.add_argument("--runs-dir", default=None,
                        help="root of run directories (default: $RDPC_RUNS or ./runs)")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def run(args: argparse.Namespace) -> int:
    from ..core.rundir import resolve_runs_root
    from ..kinds.synthetic_config import get_synthetic_preset, synthetic_preset_names

    if args.list:
        for name in synthetic_preset_names():
            p = get_synthetic_preset(name)
            print(f"{name:18s} {len(p):4d} runs  {p.description}")
        return 0
    root = resolve_runs_root(args.runs_dir)
    if args.table or args.gaps:
        from ..kinds.synthetic_results import TABLE_COLUMNS, best_gaps, synthetic_runs_table

        rows = synthetic_runs_table(root, args.preset)
        if not rows:
            print(f"no synthetic runs under {root / (args.preset or '')}", file=sys.stderr)
            return 0
        if args.gaps:
            print(json.dumps(best_gaps(rows), indent=2))
            return 0
        cells = [[_fmt(r.get(c)) for c in TABLE_COLUMNS] for r in rows]
        widths = [max([len(c)] + [len(x[i]) for x in cells]) for i, c in enumerate(TABLE_COLUMNS)]
        print("  ".join(c.rjust(w) for c, w in zip(TABLE_COLUMNS, widths, strict=True)))
        for x in cells:
            print("  ".join(v.rjust(w) for v, w in zip(x, widths, strict=True)))
        return 0
    if not args.preset:
        raise ValueError("`--preset` is required (see `rdpc synthetic --list`).")
    if args.jobs < 1:
        raise ValueError(f"`--jobs` must be >= 1; got {args.jobs}.")
    if args.threads < 1:
        raise ValueError(f"`--threads` must be >= 1; got {args.threads}.")
    from ..kinds.synthetic import plan_synthetic_sweep, run_synthetic_sweep

    configs, pending = plan_synthetic_sweep(args.preset, root, args.overrides)
    print(f"preset {args.preset}: {len(configs)} runs, {len(configs) - len(pending)} finished, "
          f"{len(pending)} to run -> {root / args.preset}", file=sys.stderr)  # fmt: skip
    if args.dry_run or not pending:
        return 0
    report = run_synthetic_sweep(
        args.preset, root, overrides=args.overrides, jobs=args.jobs,
        threads_per_job=args.threads, progress=not args.no_progress, limit=args.limit,
    )  # fmt: skip
    print(f"finished {report['finished']}, skipped {report['skipped']}, "
          f"failed {len(report['failed'])} in {report['wall_seconds']:.0f} s "
          f"(jobs {report['jobs']} x {report['threads_per_job']} threads)")  # fmt: skip
    for h, err in report["failed"].items():
        print(f"  failed {h}: {err}", file=sys.stderr)
    return 1 if report["failed"] else 0
