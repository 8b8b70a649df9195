"""``rdpc figures SET --out DIR``: draw a set of figures (PNG and PDF).

Sets: ``theory`` (RDC/RPC/RDP surfaces and contour maps, Gaussian in nats, binary in
bits, or ``--unit bits|nats`` for one unit throughout; see :mod:`figures.theory`),
``mnist`` (the paper's Figs. 9-11 and the universal-vs-end-to-end comparison from run
directories; see :mod:`figures.mnist`) and
``overlay`` (neural codecs on the theoretical sources over the theory maps, rate vs bound;
see :mod:`figures.overlay`).
"""

from __future__ import annotations

import argparse
import sys

from rdpc_common.atomic import check_output_folder

__all__ = ["configure", "run"]

UNIT_CHOICES = ("paper", "bits", "nats")
RUNS_HELP = "folder of <preset>/<hash>/ runs (default: $RDPC_RUNS or ./runs, as every command)"
UNIT_HELP = (
    "unit of rates and C: paper = Gaussian in nats (as the paper's figure), binary in bits; "
    "bits or nats = every source in that unit"
)


def _add_output(parser: argparse.ArgumentParser) -> None:
    """``--out`` and ``--format``, the same for every figure set."""
    parser.add_argument("--out", default="results/figures", help="output folder")
    parser.add_argument("--format", nargs="+", choices=("png", "pdf", "svg"),
                        default=["png", "pdf"], dest="formats", help="file formats")  # fmt: skip


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``rdpc figures`` sub-commands to `parser`."""
    sub = parser.add_subparsers(dest="figure_set", metavar="SET", parser_class=type(parser))
    theory = sub.add_parser(
        "theory",
        help="RDC/RPC/RDP surfaces and contour maps (the paper's theory figure and more)",
        description="RDC/RPC/RDP surfaces and contour maps from rdpc_theory's closed forms",
    )
    _add_output(theory)
    theory.add_argument("--grid", type=int, default=241, help="points per axis of each map")
    theory.add_argument("--unit", choices=UNIT_CHOICES, default="paper", help=UNIT_HELP)

    mnist = sub.add_parser(
        "mnist",
        help="Figs. 9(a), 9(b), 10, 11 and universal vs end-to-end, from run directories",
        description="MNIST figures in the paper's form, drawn from the runs' result files",
    )
    mnist.add_argument("--runs-dir", default=None, help=RUNS_HELP)
    mnist.add_argument("--presets", choices=("cpu", "paper"), default="cpu",
                       help="read the cpu-* or the paper-* presets")  # fmt: skip
    _add_output(mnist)

    overlay = sub.add_parser(
        "overlay",
        help="theory maps with the synthetic-source neural points; measured rate vs bound",
        description="neural codecs on the binary and Gaussian sources (rdpc synthetic runs) "
        "over the RDC/RPC theory maps, and their rates against the per-letter bounds",
    )
    overlay.add_argument("--runs-dir", default=None, help=RUNS_HELP)
    overlay.add_argument("--preset", default=None,
                         help="only this preset folder (default: every synthetic run)")  # fmt: skip
    _add_output(overlay)
    overlay.add_argument("--grid", type=int, default=201, help="points per axis of each map")
    overlay.add_argument("--unit", choices=UNIT_CHOICES, default="paper", help=UNIT_HELP)

    invariant = sub.add_parser(
        "invariant",
        help="banana VC vs VIC quantization maps from invariant runs",
        description="quantization maps (density, decision cells, reconstructions) of the "
        "finished banana VC/VIC runs, side by side per (invariance, beta)",
    )
    invariant.add_argument("--runs-dir", default=None, help=RUNS_HELP)
    invariant.add_argument("--preset", default=None, help="only this preset folder")
    _add_output(invariant)
    invariant.add_argument("--grid", type=int, default=400, help="points per axis of each map")


def run(args: argparse.Namespace) -> int:
    """Draw the selected set; print the files written.

    Exit status: 0 drawn, 1 nothing to draw or an output folder that cannot be written
    (one line naming it), 2 usage error.
    """
    if args.figure_set is None:
        print(
            "rdpc figures: error: choose a set: theory, mnist, overlay, invariant", file=sys.stderr
        )
        return 2
    prog = f"rdpc figures {args.figure_set}"
    grid = getattr(args, "grid", None)
    if grid is not None and grid < 5:
        print(f"{prog}: error: `--grid` must be an integer >= 5; got {grid}.", file=sys.stderr)
        return 2
    try:
        check_output_folder(args.out)
    except OSError as exc:
        print(f"{prog}: error: --out {exc.filename!s}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        return _draw(args)
    except OSError as exc:  # a file the figures read or write: named, no traceback
        if exc.filename is None:
            raise
        print(f"{prog}: error: {exc.filename!s}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _draw(args: argparse.Namespace) -> int:
    if args.figure_set == "theory":
        from .theory import theory_figures  # matplotlib only when drawing

        for path in theory_figures(args.out, grid=args.grid, formats=args.formats, unit=args.unit):
            print(path)
        return 0
    # Run folders: the one default of every command ($RDPC_RUNS, else ./runs).
    from rdpc_neural.core.rundir import resolve_runs_root

    args.runs_dir = resolve_runs_root(args.runs_dir)
    if args.figure_set == "mnist":
        from .mnist import mnist_figures

        paths = mnist_figures(args.runs_dir, args.out, prefix=args.presets, formats=args.formats)
        if not paths:
            print(f"rdpc figures mnist: no finished {args.presets}-* runs under {args.runs_dir}",
                  file=sys.stderr)  # fmt: skip
            return 1
        for path in paths:
            print(path)
        return 0
    if args.figure_set == "overlay":
        from .overlay import overlay_figures

        paths = overlay_figures(args.runs_dir, args.out, preset=args.preset, grid=args.grid,
                                formats=args.formats, unit=args.unit)  # fmt: skip
        if not paths:
            where = f"{args.runs_dir}/{args.preset}" if args.preset else args.runs_dir
            print(f"rdpc figures overlay: no finished synthetic runs under {where} "
                  "(run `rdpc synthetic --preset ...` first)", file=sys.stderr)  # fmt: skip
            return 1
        for path in paths:
            print(path)
        return 0
    if args.figure_set == "invariant":
        from .invariant import invariant_figures

        paths = invariant_figures(args.runs_dir, args.out, preset=args.preset, grid=args.grid,
                                  formats=args.formats)  # fmt: skip
        if not paths:
            print(f"rdpc figures invariant: no finished VC/VIC pair under {args.runs_dir}",
                  file=sys.stderr)  # fmt: skip
            return 1
        for path in paths:
            print(path)
        return 0
    raise AssertionError(args.figure_set)  # argparse only allows known sets
