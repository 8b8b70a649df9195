"""``rdpc train``: train (or resume) one run of any kind.

Examples::

    rdpc train --preset cpu-fig9a --set latent_dim=5 --set lambda_c=0.015
    rdpc train --set size=tiny --set steps=50 --runs-dir /tmp/runs
    rdpc train --kind synthetic --set source=binary --set steps=300

The config is the preset's base config (or the kind's defaults) with the ``--set key=value``
overrides; the run goes to ``<runs-dir>/<preset or custom>/<hash>/``. Rerunning the same
command resumes an interrupted run (Ctrl-C, SIGTERM or ``--max-steps`` leave a checkpoint at
the step reached) or just prints a finished one.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rdpc_common.cli import positive_int

from .common import add_locations, add_set_option, check_device

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind", default=None, help="experiment kind when no --preset is given (default: image)"
    )
    parser.add_argument(
        "--preset",
        default=None,
        help="start from this preset's base config (image presets) or its first run",
    )
    add_set_option(parser, "override a config field")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch CPU threads (on a shared 2-core machine 2 threads "
        "measured 2-50x slower than 1; see benchmarks/train_speed.py)",
    )
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        help="stop after this many steps of this call, with a checkpoint "
        "(resume later by rerunning)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the config and exit")
    add_locations(parser)


def _base_config(args: argparse.Namespace) -> Any:
    from ..core.registry import get_kind, get_preset

    if args.preset:
        preset = get_preset(args.preset)
        if args.kind and args.kind != preset.kind:
            raise ValueError(
                f"`--kind` {args.kind!r} conflicts with the {preset.kind} preset {args.preset!r}."
            )
        base = getattr(preset, "base", None)
        return base if base is not None else preset.configs()[0]
    return get_kind(args.kind or "image").config_class()


def run(args: argparse.Namespace) -> int:
    from ..core.registry import config_hash
    from ..core.schema import apply_to_all

    (config,) = apply_to_all([_base_config(args)], args.overrides)
    preset = args.preset or "custom"
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2, sort_keys=True))
        return 0
    check_device(args.device)
    import torch

    from ..core.lifecycle import RunContext, run_experiment
    from ..core.rundir import resolve_runs_root

    torch.set_num_threads(args.threads)
    root = resolve_runs_root(args.runs_dir)
    print(f"run {preset}/{config_hash(config)}", file=sys.stderr)
    context = RunContext(
        root,
        preset,
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
        device=args.device,
        progress=not args.no_progress,
    )
    result = run_experiment(
        config, root, preset, context=context, max_steps_this_call=args.max_steps
    )
    if not result.finished:
        print(
            f"stopped at step {result.step}/{config.steps} (checkpoint written); rerun to "
            f"resume: {result.path}"
        )
        return 0
    final = result.final or {}
    print(f"{result.path}")
    print(
        "  ".join(
            f"{k}={v:.4g}" for k, v in final.items() if isinstance(v, float) and k not in ("step",)
        )
    )
    return 0
