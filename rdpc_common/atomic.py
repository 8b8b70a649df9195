"""Atomic file writes shared by every package that writes results.

A result file is either absent or complete: the content goes to a temporary file in the
target's folder (same file system), is flushed to disk, and is then renamed over the target
with :func:`os.replace`. An interrupted run never leaves a half-written file behind.
Standard library only, so every package (theory, neural, figures, checks) can use it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "atomic_write_json",
    "check_output_file",
    "check_output_folder",
]


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


def check_output_file(path: str | os.PathLike[str], *, create_parents: bool = False) -> Path:
    """Fail early, before any long work, if `path` cannot be written as a file.

    Raises an ``OSError`` whose ``filename`` is `path` and whose ``strerror`` says the problem
    in words (a CLI prints both on one line): `path` is a folder, its folder does not exist
    (unless `create_parents`), a file stands where a folder should be, or no write permission.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(target))
    folder = target.parent
    if not create_parents and not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(errno.ENOENT, f"its folder {str(folder)!r} {what}", str(target))
    _check_ancestor_writable(folder, target)
    return target


def check_output_folder(path: str | os.PathLike[str]) -> Path:
    """Like :func:`check_output_file` for an output folder (created later, with parents)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder", str(target))
    _check_ancestor_writable(target, target)
    return target


def _check_ancestor_writable(folder: Path, target: Path) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"{str(existing)!r} is a file, not a folder", str(target)
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES, f"no permission to write in {str(existing)!r}", str(target)
        )
