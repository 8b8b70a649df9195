"""``rdpc sweep``: run a preset grid of any kind (missing runs only), in parallel jobs.

Examples::

    rdpc sweep --list
    rdpc sweep --preset cpu-fig9a --jobs 2
    rdpc sweep --preset cpu-fig9a --set steps=300 --runs-dir /tmp/runs
    rdpc sweep --preset synthetic-quick --jobs 2

Interrupt it at any time (Ctrl-C, SIGTERM) and rerun the same command: finished runs are
kept, unfinished ones resume from the checkpoint written when they stopped.
"""

from __future__ import annotations

import argparse
import sys

from .common import add_locations, add_sweep_options, check_device, launcher_from_args

__all__ = ["configure", "run", "list_presets", "sweep"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_sweep_options(parser)
    add_locations(parser)


def list_presets(kind: str | None = None) -> int:
    """Print the presets (of one kind): name, runs, kind, description."""
    from ..core.registry import get_preset, preset_names

    for name in preset_names(kind):
        p = get_preset(name)
        print(f"{name:26s} {len(p):4d} runs  {p.kind:9s}  {p.description}")
    return 0


def sweep(args: argparse.Namespace, kind: str | None = None) -> int:
    """The body of every sweep-like command."""
    from ..core.plan import plan_sweep
    from ..core.registry import get_preset
    from ..core.rundir import resolve_runs_root

    if not args.preset:
        raise ValueError(f"`--preset` is required (see `rdpc {args.command} --list`).")
    if kind is not None and get_preset(args.preset).kind != kind:
        raise ValueError(
            f"`--preset` {args.preset!r} is not a {kind} preset (see `rdpc {args.command} --list`)."
        )
    launcher = launcher_from_args(args)  # a missing engine is reported before any planning
    root = resolve_runs_root(args.runs_dir)
    plan = plan_sweep(args.preset, root, args.overrides, args.only, limit=args.limit)
    todo = len(plan.runs)
    print(
        f"preset {args.preset}: {plan.total} runs, {plan.skipped} finished, "
        f"{plan.total - plan.skipped} to run"
        + (f" ({todo} now, --limit {args.limit})" if args.limit is not None else "")
        + f" -> {root / args.preset}",
        file=sys.stderr,
    )
    if args.dry_run or not plan.jobs:
        return 0
    check_device(args.device)
    from ..core.sweep import run_sweep

    report = run_sweep(
        args.preset,
        root,
        overrides=args.overrides,
        only=args.only,
        jobs=args.jobs,
        threads_per_job=args.threads,
        data_dir=getattr(args, "data_dir", None),
        cache_dir=getattr(args, "cache_dir", None),
        device=args.device,
        progress=not args.no_progress,
        limit=args.limit,
        launcher=launcher,
        retries=args.retries,
    )
    print(report.line())
    for job, err in report.failed.items():
        print(f"  failed {job}: {err}", file=sys.stderr)
    if report.failed:
        print(
            f"  tracebacks: {root / args.preset / 'sweep.json'} (failures) and failure.json "
            "in each failed run's directory",
            file=sys.stderr,
        )
    return 1 if report.failed else 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return list_presets()
    return sweep(args)
