"""Run directories and their files, for every experiment kind (torch-free except checkpoints).

Layout of one run, ``<runs_root>/<preset>/<identity hash>/``:

``config.json``
    ``{"kind", "schema_version", "hash", "preset", "config", ...kind facts, "rdpc_version",
    "git_sha", "python", "libraries"}``, written once. On read it is verified: the config must
    hash to the directory's name (:func:`read_run_config`).
``metrics.csv``
    One row per evaluation with the kind's metric columns (units in the names); empty cells
    mean "not computed at this evaluation" (never NaN).
``summary.json``
    Written last, only when the run is finished: the final test metrics (``final``), timings
    and provenance. The source of truth for listings and for a finished run's result.
``checkpoint.pt``
    Models, optimizer states (until finished), step and evaluation rows so far; also written
    when a run stops early (``--max-steps``, Ctrl-C, SIGTERM), at the step reached.
``claim.json``
    Present while a process trains the run (:mod:`rdpc_common.claim`).
``failure.json``
    The error and traceback of the last failed attempt (removed when the run finishes).

Every file is written atomically (temporary file, then ``os.replace``).

Directories written by rdpc 0.1.0 (no ``schema_version`` in ``config.json``) are named by the
hash of the whole flat config (:func:`~rdpc_neural.core.schema.legacy_hash`); they are read,
listed and reused as they are (:func:`find_run_dir`), never retrained.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write, atomic_write_json, atomic_write_text
from rdpc_common.errors import FileProblem
from rdpc_common.provenance import provenance

from .registry import ExperimentKind, get_kind
from .schema import identity_hash, legacy_hash

__all__ = [
    "RunPaths",
    "run_dir",
    "find_run_dir",
    "resolve_runs_root",
    "resolve_cache_dir",
    "check_folder_name",
    "write_run_config",
    "read_run_config",
    "read_finished_run",
    "read_json",
    "write_metrics_csv",
    "read_metrics_csv",
    "atomic_torch_save",
    "load_torch_file",
    "LEGACY_SCHEMA_VERSION",
]

#: ``schema_version`` of a ``config.json`` that has none (rdpc 0.1.0).
LEGACY_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunPaths:
    """The files of one run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.csv"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def failure(self) -> Path:
        return self.root / "failure.json"

    def is_finished(self) -> bool:
        return self.summary.is_file()


def _folder(path: str | os.PathLike[str], what: str) -> Path:
    p = Path(path).expanduser().resolve()
    if p.exists() and not p.is_dir():
        raise FileProblem(f"{what} {p} is a file, not a folder; give a folder path.")
    return p


def resolve_runs_root(runs_dir: str | os.PathLike[str] | None = None) -> Path:
    """Runs root: `runs_dir`, else ``$RDPC_RUNS``, else ``./runs`` (every command uses this
    one default). A path that exists as a file is an error naming it."""
    return _folder(runs_dir or os.environ.get("RDPC_RUNS", "") or "runs", "runs folder")


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Cache (trained frozen classifiers): `cache_dir`, else ``$RDPC_CACHE``, else
    ``$XDG_CACHE_HOME/rdpc`` (``~/.cache/rdpc``)."""
    if not cache_dir:
        cache_dir = os.environ.get("RDPC_CACHE", "")
    if not cache_dir:
        cache_dir = Path(os.environ.get("XDG_CACHE_HOME", "") or "~/.cache").expanduser() / "rdpc"
    return _folder(cache_dir, "cache folder")


def check_folder_name(name: str, what: str = "preset") -> str:
    """`name` if it is a plain folder name (no ``/``, not hidden), else ``ValueError``."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"`{what}` must be a plain folder name; got {name!r}.")
    return name


def run_dir(
    runs_root: str | os.PathLike[str], preset: str, kind: ExperimentKind, config: Any
) -> RunPaths:
    """``<runs_root>/<preset>/<identity hash>`` of `config` (where a new run goes)."""
    check_folder_name(preset)
    return RunPaths(
        Path(runs_root) / preset / identity_hash(kind.name, kind.schema_version, config)
    )


def find_run_dir(
    runs_root: str | os.PathLike[str], preset: str, kind: ExperimentKind, config: Any
) -> RunPaths:
    """The run directory of `config`: its legacy (rdpc 0.1.0) directory if one exists with a
    ``config.json``, else :func:`run_dir`."""
    paths = run_dir(runs_root, preset, kind, config)
    if kind.legacy_dict is not None and not paths.config.exists():
        legacy = kind.legacy_dict(config)
        if legacy is not None:
            old = RunPaths(Path(runs_root) / preset / legacy_hash(legacy))
            if old.config.is_file():
                return old
    return paths


def read_json(path: Path) -> Any:
    """Parsed JSON of `path`; a corrupt file or a folder in its place is a
    :class:`~rdpc_common.errors.FileProblem` naming it."""
    if path.is_dir():
        raise FileProblem(f"{path} is a folder where a JSON file should be.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileProblem(
            f"{path} is not valid JSON ({exc}); delete it to redo that step."
        ) from exc


def write_run_config(
    paths: RunPaths,
    kind: ExperimentKind,
    config: Any,
    preset: str,
    facts: Mapping[str, Any] | None = None,
) -> None:
    """Write a run's ``config.json`` once (kind, schema version, identity hash, config, `facts`
    and provenance). An existing file must describe the same run (a resumed run keeps its
    original provenance); otherwise :class:`~rdpc_common.errors.FileProblem`."""
    if paths.config.exists():
        _, old, _ = read_run_config(paths.root)
        if old != config:
            raise FileProblem(f"{paths.config} holds another config than this run's.")
        return
    meta = {
        "kind": kind.name,
        "schema_version": kind.schema_version,
        "hash": identity_hash(kind.name, kind.schema_version, config),
        "preset": preset,
        "config": config.to_dict(),
        **(facts or {}),
        **provenance(),
    }
    atomic_write_json(paths.config, meta)


def read_run_config(root: str | os.PathLike[str]) -> tuple[ExperimentKind, Any, dict[str, Any]]:
    """``(kind, config, meta)`` of the run directory `root`, verified.

    The config must hash to the directory's name (identity hash for current directories,
    the flat-config hash for legacy ones); a mismatch means the file was edited or copied,
    and is a :class:`~rdpc_common.errors.FileProblem`, never a silent edited value.
    """
    root = Path(root)
    meta = read_json(root / "config.json")
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise FileProblem(f"{root / 'config.json'} has no `config` mapping.")
    kind = get_kind(meta.get("kind", "image"))  # rdpc 0.1.0 wrote no kind for image runs
    legacy = "schema_version" not in meta  # written by rdpc 0.1.0
    version = meta.get("schema_version", LEGACY_SCHEMA_VERSION)
    try:
        config = kind.config_from_dict(meta["config"], version)
    except ValueError as exc:
        raise FileProblem(f"{root / 'config.json'}: {exc}") from exc
    if legacy:
        expected = legacy_hash(meta["config"])
    else:
        expected = identity_hash(kind.name, version, config)
    if root.name != expected:
        raise FileProblem(
            f"{root / 'config.json'} does not match its directory: the config hashes to "
            f"{expected}, the folder is {root.name} (edited or copied by hand?)."
        )
    return kind, config, meta


def read_finished_run(root: str | os.PathLike[str], kind_name: str) -> tuple[Any, Any]:
    """``(config, checkpoint state)`` of a finished run of kind `kind_name` (the models of
    ``rdpc compress`` and friends); a run of another kind, an unfinished run or an unreadable
    checkpoint is a :class:`~rdpc_common.errors.FileProblem` naming the directory or file."""
    root = Path(root)
    kind, config, _ = read_run_config(root)
    if kind.name != kind_name:
        raise FileProblem(f"{root} is a run of kind {kind.name!r}; expected kind {kind_name!r}.")
    if not (root / "summary.json").is_file():
        raise FileProblem(f"{root} is not finished (no summary.json); train it first.")
    return config, load_torch_file(root / "checkpoint.pt", remedy="train the run again")


def _cell(value: Any, allow_inf: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or (math.isinf(value) and not allow_inf):
            raise ValueError(f"metric value must be finite; got {value!r}.")
        return repr(value)
    return str(value)


def write_metrics_csv(
    path: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    allow_inf: bool = False,
) -> None:
    """Atomically write evaluation rows with the fixed `columns`; unknown keys are an error,
    NaN always is (and infinity unless `allow_inf`, e.g. an infeasible bound)."""
    lines = [",".join(columns)]
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"unknown metric column(s) {sorted(unknown)}.")
        lines.append(",".join(_cell(row.get(c), allow_inf) for c in columns))
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_metrics_csv(
    path: str | os.PathLike[str], int_columns: Sequence[str] = ("step",)
) -> list[dict[str, Any]]:
    """Rows of a metrics file; numbers parsed (`int_columns` as int), ``split`` kept as
    text, empty cells as ``None``. A malformed file is a
    :class:`~rdpc_common.errors.FileProblem` naming it and the line."""
    path = Path(path)
    if path.is_dir():
        raise FileProblem(f"{path} is a folder where a metrics CSV file should be.")
    out: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for raw in reader:
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if k is None or v is None:
                    raise FileProblem(
                        f"{path}, line {reader.line_num}: {len(raw)} cells for "
                        f"{len(reader.fieldnames or [])} columns (truncated or edited?)."
                    )
                try:
                    if v == "":
                        row[k] = None
                    elif k == "split":
                        row[k] = v
                    elif k in int_columns:
                        row[k] = int(v)
                    else:
                        row[k] = float(v)
                except ValueError as exc:
                    raise FileProblem(
                        f"{path}, line {reader.line_num}: column {k!r} is {v!r}, not a number."
                    ) from exc
            out.append(row)
    return out


def atomic_torch_save(path: str | os.PathLike[str], obj: Any) -> None:
    """``torch.save`` to a temporary file beside `path`, then ``os.replace``."""
    import torch

    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def load_torch_file(
    path: str | os.PathLike[str],
    *,
    map_location: Any = "cpu",
    remedy: str = "delete it to train again",
) -> Any:
    """``torch.load(path, weights_only=True)`` (never unpickling arbitrary objects). A corrupt,
    truncated or foreign file, or a folder in its place, is a
    :class:`~rdpc_common.errors.FileProblem` naming the file and the `remedy`."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if path.is_dir():
        raise FileProblem(f"{path} is a folder where a torch checkpoint should be; {remedy}.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        OSError,
    ) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise FileProblem(
            f"{path} is corrupt or not an rdpc checkpoint ({type(exc).__name__}); {remedy}."
        ) from exc
