"""``rdpc check``: run the paper's claims one by one and print a table of verdicts.

Examples::

    rdpc check                       # every claim, full profile (< 5 min on 2 cores)
    rdpc check --quick               # reduced grids (< 60 s)
    rdpc check --only rpc_tradeoff_binary,rdc_structure --json checks.json

Exit status: 0 when the implementation is self-consistent (even if a paper claim
fails: that is a finding, reported in the table), 1 when closed form, solver and brute
force disagree beyond tolerance, a check raised or the ``--json`` file cannot be written,
2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from rdpc_common.atomic import check_output_file

from .framework import (
    CHECK_NAMES,
    Profile,
    format_table,
    report_dict,
    run_checks,
    select_checks,
    write_json,
)

__all__ = ["configure", "run", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``rdpc check`` options to `parser`."""
    parser.add_argument(
        "--quick", action="store_true", help="reduced grids and samples (< 60 s in all)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these checks (repeatable, comma-separated, unique prefixes allowed); "
        f"names: {', '.join(CHECK_NAMES)}",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--format", choices=("text", "markdown"), default="text", help="table style"
    )
    parser.add_argument("--seed", type=int, default=Profile().seed, help="root random seed")
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress lines or bars on stderr (bars only appear on a terminal)",
    )
    parser.add_argument("--list", action="store_true", help="list the checks and exit")


def run(args: argparse.Namespace) -> int:
    """Run the selected checks; return 0 if the implementation is self-consistent, else 1."""
    if args.list:
        from .framework import load_check

        for name in CHECK_NAMES:
            module = load_check(name)
            print(f"{name:24s} {module.WHERE}")
        return 0
    names = select_checks(args.only)
    if args.json:
        try:
            check_output_file(args.json, create_parents=True)  # before minutes of checks
        except OSError as exc:
            print(f"rdpc check: error: --json {exc.filename!s}: {exc.strerror}", file=sys.stderr)
            return 1
    profile = Profile(
        name="quick" if args.quick else "full",
        seed=args.seed,
        show_progress=not args.no_progress and sys.stderr.isatty(),
    )
    start = time.perf_counter()
    records = run_checks(names, profile, announce=not args.no_progress)
    total = time.perf_counter() - start
    print(format_table(records, style=args.format))
    consistent = all(r.consistent for r in records)
    print(
        f"{len(records)} checks, profile {profile.name}, {total:.1f} s; implementation "
        + ("self-consistent." if consistent else "INCONSISTENT (see the rows marked so).")
    )
    if args.json:
        write_json(args.json, report_dict(records, profile, total))
    return 0 if consistent else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m paper_checks`` (parses `argv` like ``rdpc check``)."""
    from rdpc_common.cli import ArgumentParser, exit_status

    parser = ArgumentParser(prog="python -m paper_checks", description=__doc__.splitlines()[0])
    configure(parser)
    return exit_status(lambda: run(parser.parse_args(argv)), "paper_checks")
