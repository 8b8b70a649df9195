"""How many BLAS threads the numerical solvers use, chosen by problem size.

OpenBLAS and MKL start as many threads as there are cores and keep them spinning between
calls.  The solvers make thousands of small matrix–vector products; on a machine where
another process keeps the cores busy, the spinning threads wait on each other: an
n = 256 R(D) solve took 10–44 s with the default threads instead of 0.1–0.5 s with one
(issue 13), 0.9–6.2 s against 0.18 s in benchmarks/discrete_large.py (section
``threads``), and even at n = 4,096 two threads on two loaded cores were 2.8x slower
than one.  So the solvers use one BLAS thread below
:data:`PARALLEL_MIN_ENTRIES` matrix entries, and above it one thread per
:data:`PARALLEL_MIN_ENTRIES` entries but at most half the cores (the other half is left
to whatever else runs: a training job, the other workers of a sweep).  On a 2-core
machine that is always one thread.

Override, highest priority first:

* the ``threads=`` keyword of the solver functions in :mod:`rdpc_theory.rate_distortion`
  (an int >= 1, or ``None`` for the rule below);
* the environment variable ``RDPC_NUM_THREADS`` (an int >= 1, or ``auto``), read at each
  solve, which also reaches :meth:`rdpc_theory.DiscreteSource.solve`;
* otherwise: ``max(1, min(n * m // PARALLEL_MIN_ENTRIES, cores // 2))``.

The limit is applied through threadpoolctl's library controllers around each solver call
and restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["PARALLEL_MIN_ENTRIES", "ENV_VAR", "solver_thread_count", "solver_threads"]

PARALLEL_MIN_ENTRIES = 4096 * 4096
"""Entries per BLAS thread: smaller matrices are solved with one thread by default."""
ENV_VAR = "RDPC_NUM_THREADS"


@cache
def _cores() -> int:
    return os.cpu_count() or 1  # a system call (~40 µs): once per process


@cache
def _blas_libraries() -> list[Any]:
    # Scanning the loaded libraries costs milliseconds: do it once per process.
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


def _parse(name: str, value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        count = int(str(value))
    except ValueError:
        count = 0
    if count < 1 or (not isinstance(value, str) and count != value):
        raise ValueError(f"`{name}` must be an integer >= 1 or 'auto'; got {value!r}.")
    return count


def solver_thread_count(n_entries: int, threads: int | None = None) -> int:
    """BLAS thread limit (an int >= 1) for a solver whose matrices have `n_entries` entries.

    The keyword, then ``RDPC_NUM_THREADS``, then the size rule (module docstring).
    """
    explicit = _parse("threads", threads)
    if explicit is not None:
        return explicit
    from_env = _parse(ENV_VAR, os.environ.get(ENV_VAR))
    if from_env is not None:
        return from_env
    if n_entries < 2 * PARALLEL_MIN_ENTRIES:
        return 1
    return max(1, min(n_entries // PARALLEL_MIN_ENTRIES, _cores() // 2))


@contextmanager
def solver_threads(n_entries: int, threads: int | None = None) -> Iterator[int]:
    """Context manager limiting BLAS threads as :func:`solver_thread_count` says.

    Reads each BLAS library's thread count (a C call, < 1 µs) and changes and restores it
    only where it differs: nested solver calls and small problems pay almost nothing
    (threadpoolctl's ``limit`` costs ~0.2 ms per call, as much as an n = 2 solve).
    """
    count = solver_thread_count(n_entries, threads)
    changed = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
    changed = [(lib, before) for lib, before in changed if before != count]
    for lib, _ in changed:
        lib.set_num_threads(count)
    try:
        yield count
    finally:
        for lib, before in changed:
            lib.set_num_threads(before)
