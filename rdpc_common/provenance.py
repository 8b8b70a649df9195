"""Where a result came from: the rdpc version, the git commit, the versions of the libraries.

Recorded in every run's ``config.json`` and in the committed benchmark/result JSON files, so a
number can be traced to the code and the environment that produced it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["package_version", "git_sha", "library_versions", "provenance"]

_LIBRARIES = ("numpy", "scipy", "torch", "constriction", "cvxpy")


def package_version() -> str:
    """Installed rdpc version (``0+unknown`` from an uninstalled tree)."""
    try:
        return version("rdpc")
    except PackageNotFoundError:
        return "0+unknown"


def git_sha(path: str | os.PathLike[str] | None = None) -> str | None:
    """The git commit of the source tree (``None`` outside a checkout); ``-dirty`` if tracked
    files are modified."""
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


def library_versions(names: tuple[str, ...] = _LIBRARIES) -> dict[str, str | None]:
    """Installed versions of `names` (``None`` for a library that is not installed); read from
    the package metadata, so nothing heavy is imported."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def provenance() -> dict[str, object]:
    """``{"rdpc_version", "git_sha", "python", "libraries"}`` for a result file."""
    return {
        "rdpc_version": package_version(),
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
