"""``rdpc train``: train (or resume) one codec run.

Examples::

    rdpc train --preset cpu-fig9a --set latent_dim=5 --set lambda_c=0.015
    rdpc train --set size=tiny --set steps=50 --runs-dir /tmp/runs

The config is the preset's base config (or the default :class:`RunConfig`) with the
``--set key=value`` overrides; the run goes to ``<runs-dir>/<preset or custom>/<hash>/``.
Rerunning the same command resumes an interrupted run or just prints a finished one.
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_common_arguments, check_device

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help="start from this preset's base config")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field (JSON value; dotted keys for nested, e.g. "
        "classifier.epochs=3); repeatable",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (on a shared 2-core machine 2 threads measured 2-50x slower "
        "than 1; see benchmarks/train_speed.py)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many steps of this call (resume later by rerunning)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the config and exit")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..core.rundir import resolve_runs_root
    from ..kinds.image_config import RunConfig, apply_overrides, config_hash
    from ..kinds.image_presets import get_preset

    base = get_preset(args.preset).base if args.preset else RunConfig()
    config = apply_overrides(base, args.overrides)
    preset = args.preset or "custom"
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2, sort_keys=True))
        return 0
    if args.threads < 1:
        raise ValueError(f"`--threads` must be >= 1; got {args.threads}.")
    check_device(args.device)
    import torch

    from ..kinds.image import train_run

    torch.set_num_threads(args.threads)
    root = resolve_runs_root(args.runs_dir)
    print(f"run {preset}/{config_hash(config)}  rate {config.rate_bits:.3g} bits", file=sys.stderr)
    from ..data import DataNotFoundError

    try:
        result = train_run(
            config,
            root,
            preset,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            device=args.device,
            max_steps_this_call=args.max_steps,
            progress=not args.no_progress,
        )
    except DataNotFoundError as exc:
        print(f"rdpc: error: {exc}", file=sys.stderr)
        return 1
    if not result.finished:
        print(f"stopped at step {result.step}/{config.steps}; rerun to resume: {result.path}")
        return 0
    final = result.final or {}
    keys = ("rate_bits", "coded_bits", "entropy_bits", "mse", "w1", "ce_bits", "acc", "acc_heldout")
    print(f"{result.path}")
    print("  ".join(f"{k}={final[k]:.4g}" for k in keys if final.get(k) is not None))
    return 0
