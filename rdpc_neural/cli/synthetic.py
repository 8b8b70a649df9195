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
The same as ``rdpc sweep`` on a synthetic preset, plus the tables. Interrupt at any time and
rerun: finished runs are kept, unfinished ones resume.
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_locations, add_sweep_options
from .sweep import list_presets, sweep

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_sweep_options(parser, default_threads=1)
    parser.add_argument(
        "--table", action="store_true", help="print the runs of --preset (or all) and exit"
    )
    parser.add_argument(
        "--gaps",
        action="store_true",
        help="print the best gap to the bound per source, n and family (JSON) and exit",
    )
    add_locations(parser, data=False)


def run(args: argparse.Namespace) -> int:
    from ..kinds.synthetic_config import KIND

    if args.list:
        return list_presets(KIND)
    if args.table or args.gaps:
        from rdpc_common.tables import format_table

        from ..core.rundir import resolve_runs_root
        from ..kinds.synthetic_results import TABLE_COLUMNS, best_gaps, synthetic_runs_table

        root = resolve_runs_root(args.runs_dir)
        rows = synthetic_runs_table(root, args.preset)
        if not rows:
            print(f"no synthetic runs under {root / (args.preset or '')}", file=sys.stderr)
            return 0
        if args.gaps:
            print(json.dumps(best_gaps(rows), indent=2))
        else:
            print(format_table(rows, TABLE_COLUMNS))
        return 0
    return sweep(args, KIND)
