"""Options shared by the neural subcommands (torch-free: imported when ``rdpc`` starts)."""

from __future__ import annotations

import argparse

from rdpc_common.cli import positive_int

__all__ = ["add_locations", "add_set_option", "add_sweep_options", "check_device"]


def add_set_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--set KEY=VALUE`` (repeatable; JSON values; dotted keys reach nested fields)."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help=f"{what}; JSON value, dotted keys for nested fields (e.g. classifier.epochs=3); "
        "repeatable",
    )  # fmt: skip


def add_locations(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    """``--runs-dir``, (``--data-dir``, ``--cache-dir``), ``--device``, ``--no-progress``."""
    g = parser.add_argument_group("locations and device")
    g.add_argument(
        "--runs-dir", default=None, help="root of run directories (default: $RDPC_RUNS or ./runs)"
    )
    if data:
        g.add_argument(
            "--data-dir",
            default=None,
            help="data root with mnist/ (and svhn/) (default: $RDPC_DATA or ~/.cache/rdpc/data)",
        )
        g.add_argument(
            "--cache-dir",
            default=None,
            help="cache of trained frozen classifiers (default: $RDPC_CACHE or ~/.cache/rdpc)",
        )
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ...")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def add_sweep_options(
    parser: argparse.ArgumentParser, *, default_jobs: int = 2, default_threads: int | None = None
) -> None:
    """The options of every sweep-like command (``rdpc sweep``, ``rdpc synthetic``)."""
    parser.add_argument("--preset", default=None, help="preset name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    parser.add_argument("--jobs", type=positive_int, default=default_jobs, help="parallel jobs")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=default_threads,
        help="torch threads per job (default: cores/jobs)",
    )
    parser.add_argument("--launcher", default="local", help="where jobs run: local")
    add_set_option(parser, "override a field of every run (changes the run hashes)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run only the preset's configs with this value, e.g. "
        "latent_dim=5 or rate_bits=10; repeatable",
    )
    parser.add_argument(
        "--limit", type=positive_int, default=None, help="run at most N missing runs"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and count the missing runs, then exit"
    )


def check_device(device: str) -> None:
    """``ValueError`` if `device` is not usable here (checked before any training)."""
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"`--device` must be a torch device name; got {device!r}.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`--device` {device!r} requested but CUDA is not available here.")
