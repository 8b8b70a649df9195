"""``rdpc figures SET --out DIR``: draw a set of figures (PNG and PDF).

Sets: ``theory`` (RDC/RPC/RDP surfaces and contour maps, Gaussian in nats, binary in
bits; see :mod:`figures.theory`).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``rdpc figures`` sub-commands to `parser`."""
    sub = parser.add_subparsers(dest="figure_set", metavar="SET", parser_class=type(parser))
    theory = sub.add_parser(
        "theory",
        help="RDC/RPC/RDP surfaces and contour maps (the paper's theory figure and more)",
        description="RDC/RPC/RDP surfaces and contour maps from rdpc_theory's closed forms",
    )
    theory.add_argument("--out", default="results/figures", help="output folder")
    theory.add_argument("--grid", type=int, default=241, help="points per axis of each map")
    theory.add_argument(
        "--format",
        nargs="+",
        choices=("png", "pdf", "svg"),
        default=["png", "pdf"],
        dest="formats",
        help="file formats",
    )


def run(args: argparse.Namespace) -> int:
    """Draw the selected set; print the files written."""
    if args.figure_set is None:
        print("rdpc figures: choose a set: theory", file=sys.stderr)
        return 2
    if args.figure_set == "theory":
        from .theory import theory_figures  # matplotlib only when drawing

        for path in theory_figures(args.out, grid=args.grid, formats=args.formats):
            print(path)
        return 0
    raise AssertionError(args.figure_set)  # argparse only allows known sets
