"""rdpc_common: the plumbing every rdpc package may import (standard library only).

Modules
-------
:mod:`~rdpc_common.atomic`      atomic file writes (temp file + ``os.replace``)
:mod:`~rdpc_common.provenance`  package version, git commit, library versions of a result
:mod:`~rdpc_common.claim`       exclusive claims on a folder that work on network file systems
:mod:`~rdpc_common.tables`      plain-text and CSV tables of result rows
:mod:`~rdpc_common.cli`         the argument parser and error classes of the command line

Nothing here knows about rate, distortion or torch: it sits below :mod:`rdpc_theory`,
:mod:`rdpc_neural`, :mod:`figures`, :mod:`paper_checks` and :mod:`rdpc`.
"""

__all__ = ["atomic", "claim", "cli", "provenance", "tables"]
