"""The `rdpc` console script: one parser, subcommands contributed by the packages.

Each subcommand lives in a module exposing ``configure(parser)`` and ``run(args) -> int``.
Those modules must stay cheap to import (no torch at module level), so ``rdpc theory``
and ``rdpc --help`` work without the neural extra installed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from rdpc_common.cli import ArgumentParser, exit_status

from . import __version__

__all__ = ["main", "build_parser"]

# (name, module, one-line help).  Modules that are not importable are left out.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("theory", "rdpc_theory.cli", "evaluate RDPC functions (closed forms; `solve` for any source)"),
    ("check", "paper_checks.cli", "verify the papers' claims numerically"),
    ("figures", "figures.cli", "draw figures from theory and run results"),
    ("train", "rdpc_neural.cli.train", "train one neural codec run"),
    ("sweep", "rdpc_neural.cli.sweep", "run a preset grid of neural codec runs"),
    ("runs", "rdpc_neural.cli.runs", "list finished runs as a table"),
    ("synthetic", "rdpc_neural.cli.synthetic", "neural codecs on the theory sources vs bounds"),
    ("compress", "rdpc_neural.cli.compress", "code a dataset split with a trained run into a file"),
    ("decompress", "rdpc_neural.cli.decompress", "decode a dataset file with its run (.npy)"),
    ("probe", "rdpc_neural.cli.probe", "linear probes on decompressed dataset files"),
    ("reproduce", "rdpc.reproduce", "the main job: checks, figures, sweeps and a report"),
)


# Top-level modules of the `neural` extra (pyproject.toml); the theory works without them.
_NEURAL_EXTRA = frozenset({"torch", "torchvision", "ot", "constriction", "sklearn"})


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="rdpc", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"rdpc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name, module_name, help_text in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of rdpc is not built/installed
            raise
        sp = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(sp)
        sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see :mod:`rdpc_common.cli`: 0 ok,
    1 failure or bad file, 2 usage error, 130 interrupted)."""

    def run() -> int:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
            if not getattr(args, "_run", None):
                parser.print_help()
                return 2
            return int(args._run(args))
        except ModuleNotFoundError as exc:
            if exc.name not in _NEURAL_EXTRA:
                raise
            print(f"rdpc: error: this command needs the optional module {exc.name!r}; install "
                  "the neural extra: pip install 'rdpc[neural]' (or -e '.[neural]' from a "
                  "checkout)", file=sys.stderr)  # fmt: skip
            return 2

    return exit_status(run, "rdpc")
