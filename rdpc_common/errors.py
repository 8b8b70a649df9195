"""Exception classes shared by the packages, so the command line can tell causes apart."""

from __future__ import annotations

__all__ = ["FileProblem", "Terminated"]


class FileProblem(ValueError):
    """A file or folder that cannot be used as it is: corrupt, truncated, of another format or
    version, or a folder where a file should be. The message names the path, what was
    expected and what to do. Not a usage error: the command line exits with status 1."""


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM; raised where work can stop cleanly (after writing what
    must be kept). A subclass of ``KeyboardInterrupt``, so interrupt handling covers it; the
    command line exits with status 143 (128 + SIGTERM)."""
