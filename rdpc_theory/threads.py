"""How many BLAS threads the numerical solvers use, chosen by problem size.

OpenBLAS and MKL start as many threads as there are cores and keep them spinning between
calls.  The solvers make thousands of small matrix–vector products; on a machine where
another process keeps the cores busy, the spinning threads wait on each other and an
n = 256 R(D) solve took 10–44 s with the default threads instead of 0.1–0.5 s with one
(benchmarks/discrete_large.py, section ``threads``).  So the solvers run with one BLAS
thread below :data:`PARALLEL_MIN_ENTRIES` matrix entries and leave the library default
above, where each product has enough work to pay for its threads.

Override, highest priority first:

* the ``threads=`` keyword of the solver functions in :mod:`rdpc_theory.rate_distortion`
  (an int >= 1, or ``None`` for the rule below);
* the environment variable ``RDPC_NUM_THREADS`` (an int >= 1, or ``auto``), read at each
  solve, which also reaches :meth:`rdpc_theory.DiscreteSource.solve`;
* otherwise: 1 thread when ``n * m < PARALLEL_MIN_ENTRIES``, the library default above.

The limit is applied with threadpoolctl around each solver call and restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController

__all__ = ["PARALLEL_MIN_ENTRIES", "ENV_VAR", "solver_thread_count", "solver_threads"]

PARALLEL_MIN_ENTRIES = 2048 * 2048
"""Matrices with fewer entries than this are solved with one BLAS thread by default."""
ENV_VAR = "RDPC_NUM_THREADS"


@cache
def _controller() -> ThreadpoolController:
    # Scanning the loaded libraries costs milliseconds: do it once per process.
    return ThreadpoolController()


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


def solver_thread_count(n_entries: int, threads: int | None = None) -> int | None:
    """BLAS thread limit for a solver whose matrices have `n_entries` entries.

    Returns an int >= 1, or ``None`` for "leave the library default" (see module docstring).
    """
    explicit = _parse("threads", threads)
    if explicit is not None:
        return explicit
    from_env = _parse(ENV_VAR, os.environ.get(ENV_VAR))
    if from_env is not None:
        return from_env
    return 1 if n_entries < PARALLEL_MIN_ENTRIES else None


@contextmanager
def solver_threads(n_entries: int, threads: int | None = None) -> Iterator[int | None]:
    """Context manager limiting BLAS threads as :func:`solver_thread_count` says."""
    count = solver_thread_count(n_entries, threads)
    if count is None:
        yield None
        return
    with _controller().limit(limits=count, user_api="blas"):
        yield count
