"""The command line's argument parser, error classes and exit statuses.

Exit statuses of every ``rdpc`` command (and ``python -m`` entry points):

* 0: success;
* 1: the work failed or a file is missing/corrupt (:class:`~rdpc_common.errors.FileProblem`,
  :class:`FileNotFoundError`, a failed run);
* 2: a usage error: bad options or option values (:class:`CliError`, :class:`ValueError`);
* 130: interrupted (Ctrl-C); 143: terminated (SIGTERM);
* 141: the reader of standard output went away (``| head``), which ends the command quietly
  like other Unix tools.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .errors import FileProblem, Terminated

__all__ = ["CliError", "ArgumentParser", "exit_status", "positive_int", "nonnegative_int"]


_NON_FINITE = re.compile(r"-(inf|infinity|nan)", re.IGNORECASE)


class CliError(Exception):
    """A usage error: printed as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with defaults in the help and one-line errors raised as :class:`CliError`
    (instead of exiting), so ``main(argv)`` functions stay testable in-process."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # argparse takes "-inf" or "-nan" for an option (it knows negative numbers only in
        # digits), so "--C -inf" failed with "expected one argument" before the value could
        # be checked; a leading space keeps such a token a value, and float() ignores it.
        tokens = sys.argv[1:] if args is None else list(args)
        tokens = [" " + t if _NON_FINITE.fullmatch(t) else t for t in tokens]
        return super().parse_known_args(tokens, namespace)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message, file=sys.stderr, end="")
        raise SystemExit(status)


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}; got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


#: argparse ``type=`` for options that must be integers >= 1 / >= 0.
positive_int = _int_at_least(1)
nonnegative_int = _int_at_least(0)


def exit_status(run: Callable[[], int], prog: str = "rdpc") -> int:
    """Call `run` and turn its exceptions into one stderr line and an exit status (see the
    module docstring). Anything else propagates (a bug: the traceback is wanted)."""
    try:
        return int(run())
    except CliError as exc:
        print(exc, file=sys.stderr)
        return 2
    except FileProblem as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader left (e.g. `| head`): stop quietly. Point stdout at /dev/null so that
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file the command reads or writes (or data not found)
        if exc.filename is not None:
            print(f"{prog}: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        else:
            print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # bad parameter values given on the command line
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Terminated:
        print(f"{prog}: terminated (SIGTERM); rerun the same command to resume", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
