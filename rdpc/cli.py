"""The `rdpc` console script: one parser, subcommands contributed by the packages.

Each subcommand lives in a module exposing ``configure(parser)`` and ``run(args) -> int``.
Those modules must stay cheap to import (no torch at module level), so ``rdpc theory``
and ``rdpc --help`` work without the neural extra installed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

__all__ = ["main", "CliError", "ArgumentParser"]

# (name, module, one-line help).  Modules that are not importable are left out.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("theory", "rdpc_theory.cli", "evaluate RDPC functions (closed forms; `solve` for any source)"),
    ("check", "paper_checks.cli", "verify the papers' claims numerically"),
    ("figures", "figures.cli", "draw figures from theory and run results"),
    ("train", "rdpc_neural.cli_train", "train one neural codec run"),
    ("sweep", "rdpc_neural.cli_sweep", "run a preset grid of neural codec runs"),
    ("runs", "rdpc_neural.cli_runs", "list finished runs as a table"),
    ("synthetic", "rdpc_neural.cli_synthetic", "neural codecs on the theory sources vs bounds"),
    ("reproduce", "rdpc.reproduce", "the main job: checks, figures, sweeps and a report"),
)


# Top-level modules of the `neural` extra (pyproject.toml); the theory works without them.
_NEURAL_EXTRA = frozenset({"torch", "torchvision", "ot", "constriction", "sklearn"})


class CliError(Exception):
    """A usage error: printed as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors that propagate to :func:`main` instead of exiting."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message, file=sys.stderr, end="")
        raise SystemExit(status)


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
    """Run the command line; return the exit status (0 ok, 2 usage error, 1 failure)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        return int(args._run(args))
    except CliError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ValueError as exc:  # bad parameter values from the libraries
        print(f"rdpc: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name not in _NEURAL_EXTRA:
            raise
        print(f"rdpc: error: this command needs the optional module {exc.name!r}; install the "
              "neural extra: pip install 'rdpc[neural]' (or -e '.[neural]' from a checkout)",
              file=sys.stderr)  # fmt: skip
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("rdpc: interrupted", file=sys.stderr)
        return 130
