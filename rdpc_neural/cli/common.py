"""Options shared by the neural subcommands (torch-free: imported when ``rdpc`` starts)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rdpc_common.cli import nonnegative_int, positive_int

if TYPE_CHECKING:
    from ..core.launchers import Launcher

__all__ = [
    "add_locations",
    "add_set_option",
    "add_sweep_options",
    "launcher_from_args",
    "check_device",
]


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
    g = parser.add_argument_group("launcher (where jobs run)")
    g.add_argument(
        "--launcher",
        default="local",
        choices=("local", "ray", "slurm"),
        help="local: a process pool here; ray: Ray tasks (extra `ray`); "
        "slurm: Slurm job arrays via submitit (extra `slurm`)",
    )
    g.add_argument(
        "--retries",
        type=nonnegative_int,
        default=0,
        metavar="N",
        help="resubmit a job lost to a dead worker or a transient (OS) error up to N times",
    )
    g.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="ray: address of a running cluster (e.g. auto, ray://head:10001); "
        "default: start a private local instance",
    )
    g.add_argument(
        "--slurm-config",
        default=None,
        metavar="FILE",
        help="slurm: TOML/JSON file of a cluster's defaults (partition, time_min, "
        "gpus_per_job, ...); the options below override it",
    )
    g.add_argument("--slurm-partition", default=None, metavar="NAME", help="slurm: partition")
    g.add_argument(
        "--slurm-time",
        type=positive_int,
        default=None,
        metavar="MIN",
        help="slurm: minutes per job",
    )
    g.add_argument(
        "--slurm-gpus",
        type=nonnegative_int,
        default=None,
        metavar="N",
        help="slurm: GPUs per job (default: 1 with --device cuda, else 0); CPUs per job: --threads",
    )
    g.add_argument(
        "--slurm-mem-gb", type=float, default=None, metavar="GB", help="slurm: memory per job"
    )
    g.add_argument("--slurm-account", default=None, metavar="NAME", help="slurm: account to charge")
    g.add_argument(
        "--slurm-logs",
        default=None,
        metavar="DIR",
        help="slurm: submitit's log folder (default: RUNS_DIR/.slurm-logs/PRESET)",
    )
    g.add_argument(
        "--slurm-cluster",
        default="slurm",
        choices=("slurm", "local", "debug"),
        help="slurm: `local` runs the job arrays as local processes (submitit's local "
        "executor), to try a sweep without a cluster",
    )
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


_SLURM_OPTIONS = {
    "slurm_partition": "partition",
    "slurm_time": "time_min",
    "slurm_gpus": "gpus_per_job",
    "slurm_mem_gb": "mem_gb",
    "slurm_account": "account",
    "slurm_logs": "logs",
}


def launcher_from_args(args: argparse.Namespace) -> Launcher:
    """The launcher chosen by ``--launcher`` with its options (``ValueError`` for an option of
    another launcher; :class:`~rdpc_neural.core.extras.MissingExtra` if its engine is not
    installed)."""
    from ..core.launchers import get_launcher

    options: dict[str, Any] = {}
    given_slurm = [k for k in (*_SLURM_OPTIONS, "slurm_config") if getattr(args, k) is not None]
    if args.slurm_cluster != "slurm":
        given_slurm.append("slurm_cluster")
    if args.launcher != "ray" and args.address is not None:
        raise ValueError(
            f"`--address` is an option of `--launcher ray`; got --launcher {args.launcher}."
        )
    if args.launcher != "slurm" and given_slurm:
        opt = "--" + given_slurm[0].replace("_", "-")
        raise ValueError(
            f"`{opt}` is an option of `--launcher slurm`; got --launcher {args.launcher}."
        )
    if args.launcher == "ray":
        options["address"] = args.address
    elif args.launcher == "slurm":
        if args.slurm_config is not None:
            from ..core.launch_slurm import read_slurm_config

            options.update(read_slurm_config(args.slurm_config))
        for arg, key in _SLURM_OPTIONS.items():
            if getattr(args, arg) is not None:
                options[key] = getattr(args, arg)
        if args.slurm_cluster != "slurm":
            options["cluster"] = args.slurm_cluster
    return get_launcher(args.launcher, **options)


def check_device(device: str) -> None:
    """``ValueError`` if `device` is not usable here (checked before any training)."""
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"`--device` must be a torch device name; got {device!r}.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`--device` {device!r} requested but CUDA is not available here.")
