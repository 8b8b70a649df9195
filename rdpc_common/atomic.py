"""Atomic file writes shared by every package that writes results.

A result file is either absent or complete: the content goes to a temporary file in the
target's folder (same file system), is flushed to disk, and is then renamed over the target
with :func:`os.replace`. An interrupted run never leaves a half-written file behind.
Standard library only, so every package (theory, neural, figures, checks) can use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_json"]


def _default_mode() -> int:
    # mkstemp creates files with mode 0o600; a result file should get the permissions an
    # ordinary open() would give it (0o666 minus the umask), so collaborators can read it.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Create `path` atomically: ``write(tmp)`` fills a temporary file, which then replaces it.

    Parameters
    ----------
    path : path-like
        Target file; its parent folders are created.
    write : callable
        Called with the temporary file's name; must write the whole content there
        (e.g. ``lambda tmp: fig.savefig(tmp)`` or ``lambda tmp: torch.save(obj, tmp)``).

    Returns
    -------
    pathlib.Path
        `path`. On any exception the temporary file is removed and `path` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8, newlines untranslated) to `path` atomically; returns `path`."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    return atomic_write(path, write)


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Atomic, indented, key-sorted JSON; non-finite floats are rejected (``ValueError``),
    never written as the non-standard ``NaN``/``Infinity``."""
    return atomic_write_text(
        path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    )
