"""Run directories and result files (torch-free except :func:`atomic_torch_save`).

Layout of one run, ``<runs_root>/<preset>/<config-hash>/``:

``config.json``
    ``{"config": RunConfig.to_dict(), "hash": ..., "preset": ..., "rdpc_version": ...,
    "git_sha": ...}``.
``metrics.csv``
    One row per evaluation, columns :data:`METRIC_COLUMNS` (units in the names; see below).
``summary.json``
    Written last, only when the run is finished: the final test metrics and timings. Its
    presence marks a finished run (sweeps skip those).
``checkpoint.pt``
    Models, optimizers, step and evaluation rows so far (resumes an interrupted run).

Every file is written atomically: to a temporary file in the same folder, then
``os.replace``.

Metric columns
--------------
``step``            generator steps done when evaluated
``split``           ``val`` (periodic, on ``eval_size`` validation images) or ``test`` (final)
``n_images``        images evaluated
``rate_bits``       nominal rate d log2 L, bits per image
``coded_bits``      real bitstream size per image (constriction ANS, categorical model per
                    latent coordinate fit on the training symbols); final row only
``entropy_bits``    sum over coordinates of the empirical symbol entropy, bits per image
``joint_entropy_bits``  plug-in entropy of the whole symbol tuple, bits per image
``mse``             mean squared error per pixel (pixels in [0, 1])
``w1``              exact empirical W1 (optimal transport, Euclidean pixel cost, POT
                    ``emd2``) between ``w1_samples`` test images and their reconstructions;
                    final row only
``w1_critic``       the run's critic estimate ``mean f(x) - mean f(x_hat)``; only if
                    ``lambda_p > 0`` (no critic is trained otherwise)
``ce_bits``         cross-entropy of the training classifier on x_hat, bits
``acc``             accuracy of the training (frozen) classifier on x_hat
``acc_heldout``     accuracy of the independent held-out classifier on x_hat

Empty cells mean "not computed at this evaluation" (never NaN).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write, atomic_write_text

from ..kinds.image_config import RunConfig, config_hash

__all__ = [
    "METRIC_COLUMNS",
    "RunPaths",
    "run_paths",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_torch_save",
    "write_metrics_csv",
    "read_metrics_csv",
    "git_sha",
    "package_version",
    "write_run_config",
    "resolve_cache_dir",
    "resolve_runs_root",
    "iter_runs",
    "RunRecord",
    "file_lock",
]

METRIC_COLUMNS: tuple[str, ...] = (
    "step",
    "split",
    "n_images",
    "rate_bits",
    "coded_bits",
    "entropy_bits",
    "joint_entropy_bits",
    "mse",
    "w1",
    "w1_critic",
    "ce_bits",
    "acc",
    "acc_heldout",
)


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

    def is_finished(self) -> bool:
        return self.summary.is_file()


def resolve_runs_root(runs_dir: str | os.PathLike[str] | None = None) -> Path:
    """Runs root: `runs_dir`, else ``$RDPC_RUNS``, else ``./runs``."""
    if runs_dir:
        return Path(runs_dir).expanduser().resolve()
    return Path(os.environ.get("RDPC_RUNS", "") or "runs").expanduser().resolve()


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Cache (trained frozen classifiers): `cache_dir`, else ``$RDPC_CACHE``, else
    ``~/.cache/rdpc`` (``$XDG_CACHE_HOME/rdpc``)."""
    if cache_dir:
        return Path(cache_dir).expanduser().resolve()
    env = os.environ.get("RDPC_CACHE", "")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME", "") or "~/.cache"
    return (Path(base).expanduser() / "rdpc").resolve()


def run_paths(runs_root: str | os.PathLike[str], preset: str, config: RunConfig) -> RunPaths:
    """``<runs_root>/<preset>/<config_hash(config)>``."""
    if not preset or "/" in preset or preset.startswith("."):
        raise ValueError(f"`preset` must be a plain folder name; got {preset!r}.")
    return RunPaths(Path(runs_root) / preset / config_hash(config))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Atomic, indented, key-sorted JSON (non-finite floats are rejected, never written)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def atomic_torch_save(path: str | os.PathLike[str], obj: Any) -> None:
    """``torch.save`` to a temporary file beside `path`, then ``os.replace``."""
    import torch

    atomic_write(path, lambda tmp: torch.save(obj, tmp))


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
    columns: Sequence[str] = METRIC_COLUMNS,
    *,
    allow_inf: bool = False,
) -> None:
    """Atomically write evaluation rows with the fixed `columns` (default
    :data:`METRIC_COLUMNS`); unknown keys are an error, NaN always is."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"unknown metric column(s) {sorted(unknown)}.")
        writer.writerow([_cell(row.get(c), allow_inf) for c in columns])
    atomic_write_text(path, buf.getvalue())


def read_metrics_csv(
    path: str | os.PathLike[str], int_columns: Sequence[str] = ("step", "n_images")
) -> list[dict[str, Any]]:
    """Rows of a metrics file; numbers parsed (`int_columns` as int), ``split`` kept as
    text, empty cells as ``None``."""
    out: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", newline="") as f:
        for raw in csv.DictReader(f):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if v == "" or v is None:
                    row[k] = None
                elif k == "split":
                    row[k] = v
                elif k in int_columns:
                    row[k] = int(v)
                else:
                    row[k] = float(v)
            out.append(row)
    return out


def git_sha(path: str | os.PathLike[str] | None = None) -> str | None:
    """The git commit of the source tree (``None`` outside a checkout); ``-dirty`` if modified."""
    here = Path(path) if path else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_version() -> str:
    """Installed rdpc version (``0+unknown`` from an uninstalled tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rdpc")
    except PackageNotFoundError:
        return "0+unknown"


def write_run_config(path: str | os.PathLike[str], meta: Mapping[str, Any]) -> None:
    """Write a run's ``config.json`` once: `meta` (which must hold ``config`` and ``hash``)
    plus the package version and git SHA. If the file exists it must describe the same config
    (a resumed run keeps its original provenance); otherwise ``ValueError``."""
    path = Path(path)
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("hash") != meta["hash"] or old.get("config") != meta["config"]:
            raise ValueError(f"{path} holds another config (hash {old.get('hash')}).")
        return
    atomic_write_json(path, {**meta, "rdpc_version": package_version(), "git_sha": git_sha()})


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Exclusive advisory lock (``fcntl.flock``) on `path`, for work shared by processes."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class RunRecord:
    """A run found on disk: its preset folder, hash, config, status and final metrics."""

    preset: str
    hash: str
    path: Path
    config: RunConfig
    finished: bool
    summary: dict[str, Any] | None


def iter_runs(runs_root: str | os.PathLike[str], preset: str | None = None) -> Iterator[RunRecord]:
    """Every run directory under `runs_root` (optionally one preset), sorted by path."""
    root = Path(runs_root)
    if not root.is_dir():
        return
    presets = [root / preset] if preset else sorted(p for p in root.iterdir() if p.is_dir())
    for pdir in presets:
        if not pdir.is_dir():
            continue
        for rdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
            paths = RunPaths(rdir)
            if not paths.config.is_file():
                continue
            meta = json.loads(paths.config.read_text())
            if meta.get("kind", "image") != "image":  # e.g. "synthetic": read by its own module
                continue
            config = RunConfig.from_dict(meta["config"])
            summary = json.loads(paths.summary.read_text()) if paths.is_finished() else None
            yield RunRecord(pdir.name, rdir.name, rdir, config, summary is not None, summary)
