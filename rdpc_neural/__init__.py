"""rdpc_neural: task-oriented neural codecs (MNIST/SVHN), training, sweeps, real rates.

Importing the package is cheap (no torch): submodules load on first attribute access, so the
``rdpc`` command line stays fast. Main entry points::

    from rdpc_neural import RunConfig, get_preset, train_run, run_sweep

See :mod:`rdpc_neural.kinds.image_config` (configs and loss scales), :mod:`rdpc_neural.kinds.image` (the loop),
:mod:`rdpc_neural.core.rundir` (run directory and metric columns).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RunConfig",
    "ClassifierConfig",
    "config_hash",
    "apply_overrides",
    "get_preset",
    "preset_names",
    "train_run",
    "RunResult",
    "run_sweep",
    "load_splits",
    "resolve_data_root",
    "DataNotFoundError",
    "UniformQuantizer",
    "iter_runs",
]

_WHERE = {
    "RunConfig": "kinds.image_config",
    "ClassifierConfig": "kinds.image_config",
    "config_hash": "kinds.image_config",
    "apply_overrides": "kinds.image_config",
    "get_preset": "kinds.image_presets",
    "preset_names": "kinds.image_presets",
    "train_run": "kinds.image",
    "RunResult": "kinds.image",
    "run_sweep": "core.sweep",
    "load_splits": "data",
    "resolve_data_root": "data",
    "DataNotFoundError": "data",
    "UniformQuantizer": "quantize",
    "iter_runs": "core.rundir",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
