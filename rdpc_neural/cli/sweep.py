"""``rdpc sweep``: run a preset grid (missing runs only), in parallel processes.

Examples::

    rdpc sweep --list
    rdpc sweep --preset cpu-fig9a --jobs 2
    rdpc sweep --preset cpu-fig9a --set steps=300 --runs-dir /tmp/runs

Interrupt it at any time (Ctrl-C) and rerun the same command: finished runs are kept,
unfinished ones resume from their last checkpoint.
"""

from __future__ import annotations

import argparse
import sys

from .common import add_common_arguments, check_device

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help="preset name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads per job (default: cores/jobs)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field of every run (changes the run hashes); repeatable",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run only the preset's configs with this value, e.g. latent_dim=5 or rate_bits=10;"
        " repeatable",
    )
    parser.add_argument("--limit", type=int, default=None, help="run at most N missing runs")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and count the missing runs, then exit"
    )
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..core.rundir import resolve_runs_root
    from ..kinds.image_presets import get_preset, preset_names

    if args.list:
        for name in preset_names():
            p = get_preset(name)
            print(f"{name:24s} {len(p):4d} runs  {p.description}")
        return 0
    if not args.preset:
        raise ValueError("`--preset` is required (see `rdpc sweep --list`).")
    if args.jobs < 1:
        raise ValueError(f"`--jobs` must be >= 1; got {args.jobs}.")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"`--threads` must be >= 1; got {args.threads}.")
    from ..core.sweep import plan_sweep, run_sweep

    root = resolve_runs_root(args.runs_dir)
    configs, pending = plan_sweep(args.preset, root, args.overrides, args.only)
    print(
        f"preset {args.preset}: {len(configs)} runs, {len(configs) - len(pending)} finished, "
        f"{len(pending)} to run -> {root / args.preset}",
        file=sys.stderr,
    )
    if args.dry_run or not pending:
        return 0
    check_device(args.device)
    from ..data import DataNotFoundError

    try:
        report = run_sweep(
            args.preset,
            root,
            overrides=args.overrides,
            only=args.only,
            jobs=args.jobs,
            threads_per_job=args.threads,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            device=args.device,
            progress=not args.no_progress,
            limit=args.limit,
        )
    except DataNotFoundError as exc:
        print(f"rdpc: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"finished {report.finished}, skipped {report.skipped}, failed {len(report.failed)} "
        f"in {report.wall_seconds:.0f} s (jobs {report.jobs} x {report.threads_per_job} threads)"
    )
    for h, err in report.failed.items():
        print(f"  failed {h}: {err}", file=sys.stderr)
    return 1 if report.failed else 0
