"""Run one job of a plan: the function every launcher calls, and its command line.

A job spec is plain JSON (:class:`~rdpc_neural.core.plan.Job` ``.spec`` plus locations)::

    {"type": "run", "kind": "image", "preset": "cpu-fig9a", "config": {...},
     "runs_root": "/shared/runs", "data_dir": null, "cache_dir": null, "device": "cpu",
     "threads": 1}

    {"type": "prerequisite", "function": "module:function", "kind": "image",
     "config": {...}, "args": ["clf"], ...locations}

:func:`run_job` is idempotent: a finished run is read back, an unfinished one resumes from
its checkpoint, a run claimed by a live process is waited for. So a launcher may retry a job
lost with its worker. From a shell or a cluster engine::

    python -m rdpc_neural.core.job SPEC.json          # or: --spec '{"type": "run", ...}'
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .lifecycle import RunContext, run_experiment
from .registry import get_kind, resolve_function

__all__ = ["run_job", "main"]

# Per-process resources shared by the jobs a worker runs (data, frozen classifiers).
_RESOURCES: dict[str, Any] = {}


def run_job(spec: dict[str, Any], *, progress: bool = False, position: int = 0) -> dict[str, Any]:
    """Execute one job spec; return ``{"status": "finished" | "stopped" | "done", ...}``.

    Raises whatever the job raises (the run directory keeps a ``failure.json``).
    """
    kind = get_kind(spec["kind"])
    config = kind.config_class.from_dict(spec["config"])  # type: ignore[attr-defined]
    locations = {k: spec.get(k) for k in ("data_dir", "cache_dir")}
    device = spec.get("device") or "cpu"
    threads = spec.get("threads")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    if spec["type"] == "prerequisite":
        resolve_function(spec["function"])(
            spec["config"], *spec.get("args", ()), device=device, **locations
        )
        return {"status": "done"}
    if spec["type"] != "run":
        raise ValueError(f"job `type` must be 'run' or 'prerequisite'; got {spec['type']!r}.")
    root = Path(spec["runs_root"]).resolve()
    context = RunContext(
        root,
        spec["preset"],
        device=device,
        progress=progress,
        position=position,
        resources=_RESOURCES,
        **locations,
    )
    result = run_experiment(config, root, spec["preset"], context=context)
    return {
        "status": "finished" if result.finished else "stopped",
        "path": str(result.path),
        "final": result.final,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rdpc_neural.core.job SPEC.json | --spec JSON``: run one job."""
    from rdpc_common.cli import ArgumentParser, exit_status

    parser = ArgumentParser(
        prog="python -m rdpc_neural.core.job", description="run one job of an rdpc sweep plan"
    )
    parser.add_argument("spec_file", nargs="?", help="JSON file holding the job spec")
    parser.add_argument("--spec", help="the job spec as a JSON string")

    def run() -> int:
        args = parser.parse_args(argv)
        if (args.spec_file is None) == (args.spec is None):
            raise ValueError("give exactly one of SPEC_FILE and `--spec`.")
        text = Path(args.spec_file).read_text() if args.spec_file else args.spec
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the job spec is not valid JSON: {exc}") from exc
        out = run_job(spec)
        print(json.dumps(out, default=str))
        return 0

    return exit_status(run, "rdpc job")


if __name__ == "__main__":
    sys.exit(main())
