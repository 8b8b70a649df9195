"""rdpc: task-oriented lossy compression (the `rdpc` command-line application).

The libraries are :mod:`rdpc_theory` (exact and numerical theory, no torch) and
:mod:`rdpc_neural` (neural codecs); this package only wires the command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rdpc")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
