"""Optional engines (Ray, submitit) are extras: a missing one is a usage error naming the fix."""

from __future__ import annotations

import importlib.util

__all__ = ["MissingExtra", "require_extra"]


class MissingExtra(ValueError):
    """An optional package needed by the chosen option is not installed (exit status 2)."""


def require_extra(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` (one line with the install command) unless `module` can be
    imported; `what` names the option that needs it, e.g. ``"`--launcher ray`"``.

    Only looks the module up (cheap); importing it is left to the code that uses it.
    """
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(
            f"{what} needs the `{extra}` extra ({module} is not installed); "
            f'install it with: pip install -e ".[{extra}]"'
        )
