"""Experiment configs: one validation policy, JSON round trip, overrides and run identity.

Every experiment kind's config is a frozen dataclass that derives from :class:`ConfigBase`
and validates itself in ``__post_init__`` with the ``check_*`` functions below (each raises
``ValueError`` naming the field, its valid range and the value received). This module is
torch-free: the command line validates configs before anything trains.

Run identity
------------
A run directory is named by :func:`identity_hash`: the SHA-256 of the *canonical identity*

.. code-block:: json

    {"kind": "...", "schema_version": N, "config": {fields whose value differs from the default}}

(nested configs are reduced the same way, against their own class defaults). Adding a field
with a default therefore leaves every existing run's name unchanged, and so does reordering
fields. Changing a default is a new ``schema_version`` of the kind (with a migration).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

__all__ = [
    "check_int",
    "check_float",
    "check_choice",
    "check_bool",
    "check_betas",
    "check_loss_weights",
    "ConfigBase",
    "parse_override",
    "canonical_identity",
    "apply_overrides",
    "apply_to_all",
    "identity_hash",
    "HASH_LENGTH",
]

#: Hex digits of the run-directory names.
HASH_LENGTH = 12


# ------------------------------------------------------------------------------ validation
def check_int(name: str, value: object, low: int, high: float = math.inf) -> None:
    """``ValueError`` unless `value` is an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{name}` must be an integer; got {value!r}.")
    if value < low or value > high:
        rng = f">= {low}" if high == math.inf else f"in [{low}, {high:g}]"
        raise ValueError(f"`{name}` must be {rng}; got {value}.")


def check_float(
    name: str, value: object, low: float, high: float = math.inf, *, low_open: bool = False
) -> None:
    """``ValueError`` unless `value` is a finite real number in ``[low, high]`` (``(low,
    high]`` with `low_open`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"`{name}` must be a real number; got {value!r}.")
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"`{name}` must be finite; got {v:g}.")
    bad = (v <= low if low_open else v < low) or v > high
    if bad:
        if high == math.inf:
            rng = f"{'>' if low_open else '>='} {low:g}"
        else:
            rng = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"`{name}` must be {rng}; got {v:g}.")


def check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    """``ValueError`` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.")


def check_bool(name: str, value: object) -> None:
    """``ValueError`` unless `value` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be true or false; got {value!r}.")


def check_betas(name: str, value: object) -> None:
    """``ValueError`` unless `value` is a pair of Adam betas in [0, 1)."""
    if not (isinstance(value, tuple) and len(value) == 2):
        raise ValueError(f"`{name}` must be a pair (beta1, beta2); got {value!r}.")
    for i, b in enumerate(value):
        check_float(f"{name}[{i}]", b, 0.0, 1.0)
        if b >= 1.0:
            raise ValueError(f"`{name}[{i}]` must be in [0, 1); got {b:g}.")


def check_loss_weights(config: object, names: Sequence[str]) -> None:
    """``ValueError`` unless the loss weights `names` of `config` are finite, >= 0 and not
    all 0 (a loss of nothing trains nothing)."""
    for name in names:
        check_float(name, getattr(config, name), 0.0)
    if all(getattr(config, name) == 0 for name in names):
        listed = ", ".join(f"`{n}`" for n in names)
        raise ValueError(f"at least one of {listed} must be > 0; got all 0.")


# ------------------------------------------------------------------------- serialisation
def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): _to_plain(v) for k, v in obj.items()}
    return obj


def _coerce(tp: Any, value: Any, name: str) -> Any:
    """Convert a JSON value to the annotated field type (strict: no silent string casts)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None):
                return _coerce(arg, value, name)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"`{name}` must be a mapping of {tp.__name__} fields; got {value!r}.")
        return _from_plain(tp, value, prefix=f"{name}.")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"`{name}` must be a list; got {value!r}.")
        args = typing.get_args(tp)
        return tuple(_coerce(a, v, name) for a, v in zip(args, value, strict=False)) + tuple(
            value[len(args) :]
        )
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ValueError(f"`{name}` must be a mapping; got {value!r}.")
        args = typing.get_args(tp)
        if len(args) == 2:
            return {k: _coerce(args[1], v, f"{name}.{k}") for k, v in value.items()}
        return dict(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _from_plain(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"`{prefix.rstrip('.') or 'config'}` must be a mapping; got {data!r}.")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} key(s) {', '.join(prefix + k for k in unknown)}; "
            f"valid keys: {', '.join(sorted(names))}."
        )
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce(hints[k], v, prefix + k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # e.g. a wrong nested type reaching a constructor
        raise ValueError(f"invalid {cls.__name__}: {exc}") from exc


def parse_override(text: str) -> tuple[str, Any]:
    """``"key=value"`` -> ``(key, value)``; the value is JSON if it parses, else a string.

    >>> parse_override("lambda_c=0.01")
    ('lambda_c', 0.01)
    >>> parse_override("grad_mode=straight-through")
    ('grad_mode', 'straight-through')
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"`--set` must look like key=value; got {text!r}.")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


class ConfigBase:
    """Mixin of the frozen config dataclasses: copies, JSON round trip, overrides, identity.

    Subclasses may define ``OVERRIDE_ALIASES`` (``{"short": "dotted.path"}``) for
    command-line keys that name a nested field.
    """

    OVERRIDE_ALIASES: typing.ClassVar[Mapping[str, str]] = {}

    def accepts_override(self, key: str, overrides: Sequence[tuple[str, Any]] = ()) -> bool:
        """False for a shorthand key that does not apply to this config once `overrides` are
        applied (and is then left out by :meth:`with_overrides`); True otherwise."""
        return True

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists, nested configs dicts)."""
        out: dict[str, Any] = _to_plain(self)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming them."""
        out: Self = _from_plain(cls, data, prefix="")
        return out

    def with_overrides(self, overrides: Iterable[str | tuple[str, Any]]) -> Self:
        """Apply ``key=value`` overrides (dotted keys reach nested fields, e.g.
        ``classifier.epochs=3``); unknown keys and invalid values raise ``ValueError``."""
        data = self.to_dict()
        for item in overrides:
            key, value = parse_override(item) if isinstance(item, str) else item
            key = self.OVERRIDE_ALIASES.get(key, key)
            parts = key.split(".")
            target = data
            for i, part in enumerate(parts[:-1]):
                if not isinstance(target.get(part), dict):
                    raise ValueError(f"unknown config key {'.'.join(parts[: i + 1])!r} in {key!r}.")
                target = target[part]
            if parts[-1] not in target:
                valid = sorted(
                    set(target) | (set(self.OVERRIDE_ALIASES) if len(parts) == 1 else set())
                )
                raise ValueError(f"unknown config key {key!r}; valid keys: {', '.join(valid)}.")
            target[parts[-1]] = value
        return self.from_dict(data)


def apply_overrides(config: Any, overrides: Iterable[str | tuple[str, Any]]) -> Any:
    """``config.with_overrides(overrides)`` for a config of any kind.

    >>> from rdpc_neural import RunConfig
    >>> apply_overrides(RunConfig(), ["levels=3", "classifier.epochs=2"]).classifier.epochs
    2
    """
    return apply_to_all([config], overrides)[0]


def apply_to_all(configs: Sequence[Any], overrides: Iterable[str | tuple[str, Any]]) -> list[Any]:
    """`overrides` applied to every config; a key that applies to none of them (e.g. the
    binary parameter ``p`` on Gaussian runs only) is a ``ValueError``."""
    items = [parse_override(o) if isinstance(o, str) else o for o in overrides]
    for key, value in items:
        if configs and not any(c.accepts_override(key, items) for c in configs):
            raise ValueError(f"`--set {key}={value}` applies to none of the runs.")
    return [c.with_overrides(items) for c in configs]


# ------------------------------------------------------------------------------- identity
def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _non_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            default = _field_default(f)
            if default is not dataclasses.MISSING and value == default:
                continue
            out[f.name] = _non_default(value)
        return out
    if isinstance(obj, tuple | list):
        return [_non_default(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): _non_default(v) for k, v in obj.items()}
    return obj


def canonical_identity(kind: str, schema_version: int, config: Any) -> dict[str, Any]:
    """``{"kind", "schema_version", "config": non-default fields}`` (see the module docstring).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class C(ConfigBase):
    ...     a: int = 1
    ...     b: float = 0.5
    >>> canonical_identity("demo", 1, C(a=2))
    {'kind': 'demo', 'schema_version': 1, 'config': {'a': 2}}
    """
    return {"kind": kind, "schema_version": schema_version, "config": _non_default(config)}


def identity_hash(kind: str, schema_version: int, config: Any) -> str:
    """The run directory name: SHA-256 of the canonical identity's compact, key-sorted JSON."""
    text = json.dumps(
        canonical_identity(kind, schema_version, config),
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def legacy_hash(config_dict: Mapping[str, Any]) -> str:
    """Name of a run directory written before run identities (rdpc 0.1.0): the SHA-256 of
    the whole flat config's compact, key-sorted JSON."""
    text = json.dumps(config_dict, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


__all__ += ["legacy_hash"]
