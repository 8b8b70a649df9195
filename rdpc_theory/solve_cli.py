"""``rdpc theory solve``: numerical R(D, P, C) of a discrete source, with its bounds.

Example::

    rdpc theory solve --px 0.2 0.5 0.3 --ps-given-x "0.9,0.1;0.5,0.5;0.1,0.9" \\
        --distortion hamming --D 0.1 0.2 --C 0.8

Matrices are given inline (rows separated by ``;``, entries by ``,`` or spaces) or as a
``.npy`` / CSV file; ``--px`` also takes a single file.  Every combination of the listed
D, P, C values is solved (a grid) and printed as a table with the rate, its certified
upper and lower bounds and the achieved distortion, perception and H(S|Xhat), followed by
one message per row (what is certified); ``--csv [FILE]`` writes CSV instead.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .cli import add_output_arguments, unit_name, write_table
from .discrete import METHODS, DiscreteSource

__all__ = ["configure", "run", "parse_matrix"]

FloatArray = NDArray[np.float64]


def parse_matrix(name: str, text: str) -> FloatArray:
    """A matrix from a ``.npy``/CSV file path or inline ``"a,b;c,d"`` text.

    Raises ``ValueError`` naming the option when the text is neither.

    Examples
    --------
    >>> parse_matrix("--ps-given-x", "0.9,0.1;0.2 0.8").tolist()
    [[0.9, 0.1], [0.2, 0.8]]
    """
    if os.path.isfile(text):
        try:
            if text.endswith(".npy"):
                out: FloatArray = np.asarray(np.load(text, allow_pickle=False), dtype=np.float64)
                return out
            return np.atleast_1d(np.loadtxt(text, delimiter=",", ndmin=1, dtype=np.float64))
        except (OSError, ValueError) as exc:
            raise ValueError(f"`{name}`: cannot read a matrix from {text!r} ({exc}).") from None
    try:
        rows = [
            [float(v) for v in row.replace(",", " ").split()]
            for row in text.split(";")
            if row.strip()
        ]
    except ValueError:
        raise ValueError(
            f"`{name}` must be a .npy/CSV file or an inline matrix like '0.9,0.1;0.2,0.8'; "
            f"got {text!r}."
        ) from None
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError(f"`{name}` must be a rectangular matrix; got {text!r}.")
    return np.asarray(rows, dtype=np.float64)


def _vector(name: str, values: list[str]) -> FloatArray:
    if len(values) == 1 and os.path.isfile(values[0]):
        return parse_matrix(name, values[0]).ravel()
    try:
        return np.asarray([float(v) for v in values], dtype=np.float64)
    except ValueError:
        raise ValueError(
            f"`{name}` must be numbers or one file; got {' '.join(values)!r}."
        ) from None


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``solve`` options to `parser`."""
    g = parser.add_argument_group("source")
    g.add_argument("--px", nargs="+", required=True, metavar="P", help="p(x): numbers or a file")
    g.add_argument(
        "--ps-given-x",
        required=True,
        metavar="MATRIX",
        help="p(s|x), |X| x |S|: inline 'a,b;c,d' or a .npy/CSV file",
    )
    g.add_argument(
        "--distortion",
        default="hamming",
        metavar="hamming|squared|MATRIX",
        help="distortion d(x, xhat): 'hamming', 'squared' (letters 0..|X|-1), inline or file",
    )
    g = parser.add_argument_group("constraints (each takes one or more values; all combinations)")
    g.add_argument("--D", type=float, nargs="+", help="distortion bound")
    g.add_argument("--P", type=float, nargs="+", help="perception bound (TV, or KL in --base)")
    g.add_argument("--C", type=float, nargs="+", help="bound on H(S|Xhat), in --base units")
    g = parser.add_argument_group("solver")
    g.add_argument("--perception", choices=("tv", "kl"), default="tv")
    g.add_argument("--method", choices=METHODS, default="auto")
    g.add_argument("--tol", type=float, default=1e-7, help="target certified gap (--base units)")
    g.add_argument("--seed", type=int, default=0, help="seed of the convex-concave starts")
    g.add_argument("--starts", type=int, default=4, help="convex-concave starts")
    g.add_argument("--channel", action="store_true", help="also print each optimal channel")
    add_output_arguments(parser)


def _source(args: argparse.Namespace) -> DiscreteSource:
    p_x = _vector("--px", args.px)
    W = parse_matrix("--ps-given-x", args.ps_given_x)
    dist: Any = args.distortion
    if dist not in ("hamming", "squared"):
        dist = parse_matrix("--distortion", dist)
    return DiscreteSource(p_x, W, dist)


def run(args: argparse.Namespace) -> int:
    """Solve every (D, P, C) combination and print or write the table."""
    src = _source(args)
    names = [n for n in ("D", "P", "C") if getattr(args, n) is not None]
    grid = list(itertools.product(*(getattr(args, n) for n in names))) or [()]
    unit = unit_name(args.base)
    label = {"D": "D", "P": "P_tv" if args.perception == "tv" else f"P_kl_{unit}", "C": f"C_{unit}"}
    perc_col = "perception_tv" if args.perception == "tv" else f"perception_kl_{unit}"
    header = [label[n] for n in names] + [
        f"rate_{unit}",
        f"upper_{unit}",
        f"lower_{unit}",
        "distortion",
        perc_col,
        f"H_S_given_Xhat_{unit}",
        "converged",
        "n_iter",
    ]
    rows: list[list[float]] = []
    notes: list[str] = []
    for point in grid:
        kwargs = dict(zip(names, point, strict=True))
        res = src.solve(
            **kwargs,
            perception=args.perception,
            method=args.method,
            base=args.base,
            tol=args.tol,
            seed=args.seed,
            n_starts=args.starts,
        )
        rows.append(
            list(point)
            + [
                res.rate,
                res.upper,
                res.lower,
                res.distortion,
                res.perception,
                res.conditional_entropy,
                float(res.converged),
                float(res.n_iter),
            ]
        )
        note = res.message
        if args.channel:
            note += "\n    channel p(xhat|x):\n" + np.array2string(res.channel, precision=6)
        notes.append(note)
    write_table(header, rows, args.csv)
    if args.csv is None:
        for i, note in enumerate(notes):
            print(f"[{i + 1}] {note}")
    elif args.csv != "-":
        print(f"wrote {len(rows)} rows to {args.csv}", file=sys.stderr)
    return 0
