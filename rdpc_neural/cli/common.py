"""Options shared by the neural subcommands (torch-free: imported when ``rdpc`` starts)."""

from __future__ import annotations

import argparse

__all__ = ["add_common_arguments", "check_device"]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--runs-dir``, ``--data-dir``, ``--cache-dir``, ``--device``, ``--no-progress``."""
    g = parser.add_argument_group("locations and device")
    g.add_argument(
        "--runs-dir",
        default=None,
        help="root of run directories (default: $RDPC_RUNS or ./runs)",
    )
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


def check_device(device: str) -> None:
    """``ValueError`` if `device` is not usable here (checked before any training)."""
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"`--device` must be a torch device name; got {device!r}.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`--device` {device!r} requested but CUDA is not available here.")
