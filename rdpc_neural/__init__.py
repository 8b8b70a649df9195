"""rdpc_neural: neural codecs on one experiment core (runs, sweeps, launchers, entropy models).

Importing the package is cheap (no torch): names load on first attribute access, so the
``rdpc`` command line stays fast. Main entry points::

    from rdpc_neural import RunConfig, SyntheticConfig, run_experiment, run_sweep, runs_table

Layout: :mod:`rdpc_neural.core` (the experiment contract and registry, config schema and run
identity, run directories, the run lifecycle, listings, sweep plans, launchers, the job
runner), :mod:`rdpc_neural.kinds` (the registered experiment kinds: ``image``,
``synthetic``), :mod:`rdpc_neural.entropy` (entropy models and real coding), building blocks
(:mod:`~rdpc_neural.data`, :mod:`~rdpc_neural.models`, :mod:`~rdpc_neural.quantize`,
:mod:`~rdpc_neural.classifiers`, :mod:`~rdpc_neural.tasks`) and :mod:`rdpc_neural.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    # configs and presets
    "RunConfig": "kinds.image_config",
    "ClassifierConfig": "kinds.image_config",
    "SyntheticConfig": "kinds.synthetic_config",
    "SourceSpec": "kinds.synthetic_config",
    "get_preset": "core.registry",
    "preset_names": "core.registry",
    "get_kind": "core.registry",
    "kind_names": "core.registry",
    "config_hash": "core.registry",
    "apply_overrides": "core.schema",
    # runs
    "run_experiment": "core.lifecycle",
    "RunResult": "core.lifecycle",
    "RunContext": "core.lifecycle",
    "train_run": "kinds.image",
    "train_synthetic_run": "kinds.synthetic",
    "run_sweep": "core.sweep",
    "plan_sweep": "core.plan",
    "iter_runs": "core.runs",
    "scan_runs": "core.runs",
    "runs_table": "core.runs",
    # data and models
    "load_splits": "data",
    "resolve_data_root": "data",
    "DataNotFoundError": "data",
    "UniformQuantizer": "quantize",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
