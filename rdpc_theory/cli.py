"""``rdpc theory FUNCTION ...``: evaluate a closed-form RDPC function over a grid of arguments.

Example::

    rdpc theory rdc --source binary --p 0.3 --eps 0.1 --D 0.1 0.2 --C 0.8

Every combination of the listed values is evaluated (a grid) and printed as a table, or
written as CSV with ``--csv [FILE]`` (atomically; the file's folder must exist).  Column
names carry units.

Exit status: 0 on success; 2 for a usage error (a missing or extra argument, a value out of
its range); 1 when the CSV file cannot be written (one line naming the file and the problem,
checked before any work).
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import math
import sys
from typing import Any

import numpy as np

from rdpc_common.atomic import atomic_write_text, check_output_file
from rdpc_common.cli import CliError
from rdpc_common.tables import format_csv, format_table

from .binary import BinarySource
from .gaussian import PERCEPTIONS, GaussianSource

__all__ = [
    "configure",
    "run",
    "FUNCTION_ARGS",
    "unit_name",
    "parse_base",
    "add_output_arguments",
    "write_table",
    "output_error",
]

# The arguments each function takes, in order.
FUNCTION_ARGS: dict[str, tuple[str, ...]] = {
    "rd": ("D",),
    "rc": ("C",),
    "rdc": ("D", "C"),
    "rdp": ("D", "P"),
    "rpc": ("P", "C"),
    "rdpc": ("D", "P", "C"),
}


def parse_base(text: str) -> float:
    """``2``, ``e`` or any number > 0 other than 1."""
    if text.strip().lower() == "e":
        return math.e
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'e'; got {text!r}") from None


def unit_name(base: float) -> str:
    """``bits`` for base 2, ``nats`` for base e, ``base<b>`` otherwise (used in column names)."""
    if base == 2:
        return "bits"
    if math.isclose(base, math.e):
        return "nats"
    if base == 10:
        return "hartleys"
    return f"base{base:g}"


def _add_closed_form_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=("binary", "gaussian"), default="binary")
    g = parser.add_argument_group("binary source (X~Bern(p), S = X xor Bern(eps))")
    g.add_argument("--p", type=float, default=0.3, help="P(X=1), in [0, 1]")
    g.add_argument("--eps", type=float, default=0.1, help="label noise, in [0, 1/2)")
    g = parser.add_argument_group("Gaussian source")
    g.add_argument("--var-x", type=float, default=1.0, help="Var X > 0")
    g.add_argument("--var-s", type=float, default=0.5, help="Var S > 0")
    g.add_argument(
        "--cov",
        type=float,
        default=0.9 * math.sqrt(0.5),
        help="Cov(X, S), |cov| <= sqrt(var_x var_s)",
    )
    g.add_argument(
        "--perception",
        choices=PERCEPTIONS,
        default="w2",
        help="w2: squared W2; kl: KL(p_Xhat || p_X) in --base units",
    )
    g = parser.add_argument_group("arguments (each takes one or more values; all combinations)")
    g.add_argument("--D", type=float, nargs="+", help="distortion bound (Hamming / MSE)")
    g.add_argument("--P", type=float, nargs="+", help="perception bound (TV / W2^2 / KL)")
    g.add_argument(
        "--C",
        type=float,
        nargs="+",
        help="bound on H(S|Xhat) (h(S|Xhat) for Gaussian), in --base units",
    )
    add_output_arguments(parser)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--base`` and ``--csv``, shared by every ``rdpc theory`` function."""
    parser.add_argument(
        "--base",
        type=parse_base,
        default=2.0,
        help="unit of rates and information: 2 (bits), e (nats), 10, ...",
    )
    parser.add_argument(
        "--csv",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write CSV (to FILE, or stdout if no FILE is given)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(
        dest="function", metavar="FUNCTION", required=True, parser_class=type(parser)
    )
    for name, arg_names in FUNCTION_ARGS.items():
        sp = sub.add_parser(name, help=f"closed-form R({', '.join(arg_names)})")
        _add_closed_form_arguments(sp)
    solve_cli = _solve_cli()
    if solve_cli is not None:
        sp = sub.add_parser("solve", help="numerical R(D,P,C) of a discrete source, with bounds")
        solve_cli.configure(sp)


def _solve_cli() -> Any:
    """The numerical solver's CLI module (``rdpc theory solve``), if it is part of this build."""
    try:
        return importlib.import_module(f"{__package__}.solve_cli")
    except ModuleNotFoundError:
        return None


def _column_names(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    unit = unit_name(args.base)
    binary = args.source == "binary"
    label = {
        "D": "D_hamming" if binary else "D_mse",
        "P": "P_tv" if binary else ("P_w2sq" if args.perception == "w2" else f"P_kl_{unit}"),
        "C": f"C_{unit}",
    }
    return [label[n] for n in names] + [f"rate_{unit}"]


def evaluate(args: argparse.Namespace) -> tuple[list[str], list[list[float]]]:
    """Evaluate ``args.function`` on the grid of given values; return (header, rows)."""
    names = FUNCTION_ARGS[args.function]
    for n in ("D", "P", "C"):
        given = getattr(args, n) is not None
        if n in names and not given:
            raise CliError(f"needs --{n}")
        if n not in names and given:
            takes = ", ".join(f"--{m}" for m in names)
            raise CliError(f"does not take --{n} (it takes {takes})")
    kwargs: dict[str, Any] = {"base": args.base}
    if args.source == "binary":
        source: Any = BinarySource(p=args.p, eps=args.eps)
    else:
        source = GaussianSource(var_x=args.var_x, var_s=args.var_s, cov=args.cov)
        if "P" in names:
            kwargs["perception"] = args.perception
    grid = list(itertools.product(*(getattr(args, n) for n in names)))
    columns = [np.array([g[i] for g in grid]) for i in range(len(names))]
    rates = np.atleast_1d(getattr(source, args.function)(*columns, **kwargs))
    rows = [list(g) + [float(r)] for g, r in zip(grid, rates, strict=True)]
    return _column_names(args, names), rows


def write_table(header: list[str], rows: list[list[float]], csv_target: str | None) -> None:
    """Print an aligned table, or write CSV to `csv_target` (``"-"``: stdout)."""
    records = [dict(zip(header, row, strict=True)) for row in rows]
    if csv_target is None:
        print(format_table(records, header, digits=10))
    elif csv_target == "-":
        sys.stdout.write(format_csv(records, header))
    else:
        atomic_write_text(check_output_file(csv_target), format_csv(records, header))


def output_error(prog: str, option: str, exc: OSError) -> str:
    """The one-line message for a file that cannot be written: the option, path and problem."""
    where = f" {exc.filename!s}" if exc.filename else ""
    return f"{prog}: error: {option}{where}: {exc.strerror or exc}"


def run(args: argparse.Namespace) -> int:
    if args.function == "solve":
        return int(_solve_cli().run(args))
    prog = f"rdpc theory {args.function}"
    try:
        if args.csv not in (None, "-"):
            check_output_file(args.csv)  # before the work, not after it
        header, rows = evaluate(args)
        write_table(header, rows, args.csv)
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system's answer, not a usage error: status 1
        print(output_error(prog, "--csv", exc), file=sys.stderr)
        return 1
    return 0
