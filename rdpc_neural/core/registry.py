"""The experiment contract and the registries of experiment kinds and presets (torch-free).

An *experiment kind* is a family of runs that share a config class, metric columns, models,
a training step and an evaluation: the image RDPC codecs (``image``), the codecs on the
theoretical sources (``synthetic``), and whatever comes next. The run lifecycle
(:mod:`~rdpc_neural.core.lifecycle`), listings (:mod:`~rdpc_neural.core.runs`), sweeps and
launchers only talk to a kind through :class:`ExperimentKind` and :class:`Experiment`.

Adding a kind
-------------
Write one module in :mod:`rdpc_neural.kinds` with its config class (a frozen dataclass
deriving from :class:`~rdpc_neural.core.schema.ConfigBase`) and a ``build(config, context)``
function returning an :class:`Experiment`; register it (and its presets) in
``rdpc_neural/kinds/__init__.py``. Nothing in the core, the sweeps or the CLI changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Experiment",
    "ModelOptimizerState",
    "ExperimentKind",
    "Preset",
    "ListPreset",
    "Prerequisite",
    "register_kind",
    "resolve_function",
    "get_kind",
    "kind_names",
    "kind_of_config",
    "config_hash",
    "register_preset",
    "get_preset",
    "preset_names",
]


class Experiment(Protocol):
    """One run being trained; built by a kind from its config (see the lifecycle).

    Randomness must be a function of the config and the step (never of process state), so
    that a run resumed from a checkpoint at any step reproduces the uninterrupted run.
    """

    @property
    def steps(self) -> int:
        """Total optimisation steps of the run."""
        ...

    def is_eval_step(self, step: int) -> bool:
        """True if a validation row (and a checkpoint) is due after `step` steps."""
        ...

    def train_step(self, step: int) -> dict[str, float]:
        """Do optimisation step number `step` (0-based); return its loss terms (``"loss"``
        included, plain floats)."""
        ...

    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """A metrics row (the kind's columns) on validation data, or on test data with
        `final`; plus extra JSON-able facts for ``summary.json`` (final only)."""
        ...

    def state_dict(self, *, final: bool) -> dict[str, Any]:
        """Models (and, unless `final`, optimizer states) for the checkpoint."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict` (a checkpoint)."""
        ...

    def describe(self) -> str:
        """Short label of the run for progress bars."""
        ...


class ModelOptimizerState:
    """The checkpoint half of :class:`Experiment` for experiments whose whole trainable state
    is ``self.model`` and ``self.opt`` (torch modules/optimizers): the optimizer is kept only
    in non-final checkpoints, where a resumed run needs it. :meth:`optimizer_step` is the
    step such an experiment takes on its loss."""

    model: Any
    opt: Any

    def optimizer_step(self, terms: Mapping[str, Any]) -> dict[str, float]:
        """One optimizer step on ``terms["loss"]`` (a scalar tensor); every term as a float."""
        self.opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        self.opt.step()
        return {k: float(v.item()) for k, v in terms.items()}

    def state_dict(self, *, final: bool) -> dict[str, Any]:
        state: dict[str, Any] = {"model": self.model.state_dict()}
        if not final:
            state["opt"] = self.opt.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if "opt" in state:
            self.opt.load_state_dict(state["opt"])


@dataclass(frozen=True)
class Prerequisite:
    """Work a run needs done first that is not a run itself (e.g. training a frozen
    classifier into the cache). ``function`` is ``"module:function"``, called with
    ``(config_dict, *args, data_dir=..., cache_dir=..., device=...)``; ``key`` identifies
    the work, so a plan does it once for all the runs that need it."""

    key: str
    function: str
    args: tuple[Any, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ExperimentKind:
    """What the core needs to know about a kind of experiment.

    Parameters
    ----------
    name : str
        Recorded as ``kind`` in every ``config.json`` and in the run identity.
    description : str
        One line for listings.
    config_class : type
        Frozen dataclass deriving from :class:`~rdpc_neural.core.schema.ConfigBase`.
    schema_version : int
        Version of the config schema; older ``config.json`` files are upgraded by `migrate`.
    metric_columns, int_columns : tuple of str
        Columns of ``metrics.csv`` (units in the names) and which of them are integers.
    build : str
        ``"module:function"`` building an :class:`Experiment` from ``(config, context)``
        (imported lazily: it may import torch).
    listing_columns : tuple of str
        Columns of this kind's table in ``rdpc runs`` (config and final-metric names).
    listing_row : callable
        ``config -> dict`` of the config columns of a listing row.
    dependencies : callable
        ``config -> [config, ...]``: runs of the same kind that must be finished first (a
        universal decoder's base encoder).
    prerequisites : callable
        ``config -> [Prerequisite, ...]`` done once per plan before the runs.
    migrate : callable
        ``(config dict, version) -> config dict`` of the current version.
    legacy_dict : callable
        ``config -> dict``: the flat dict whose hash named the run's directory before run
        identities (rdpc 0.1.0), or ``None`` where no such directory can exist.
    """

    name: str
    description: str
    config_class: type
    schema_version: int
    metric_columns: tuple[str, ...]
    int_columns: tuple[str, ...]
    build: str
    listing_columns: tuple[str, ...]
    listing_row: Callable[[Any], dict[str, Any]]
    dependencies: Callable[[Any], Sequence[Any]] = lambda config: ()
    prerequisites: Callable[[Any], Sequence[Prerequisite]] = lambda config: ()
    migrate: Callable[[dict[str, Any], int], dict[str, Any]] | None = None
    legacy_dict: Callable[[Any], dict[str, Any] | None] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def builder(self) -> Callable[..., Experiment]:
        """The (lazily imported) build function."""
        return resolve_function(self.build)  # type: ignore[no-any-return]

    def config_from_dict(self, data: Mapping[str, Any], version: int) -> Any:
        """The config of a ``config.json`` written with schema `version` (upgraded)."""
        plain = dict(data)
        if version != self.schema_version:
            if self.migrate is None or version > self.schema_version:
                raise ValueError(
                    f"kind {self.name!r} cannot read schema_version {version} "
                    f"(current {self.schema_version})."
                )
            plain = self.migrate(plain, version)
        return self.config_class.from_dict(plain)  # type: ignore[attr-defined]


def resolve_function(spec: str) -> Any:
    """The object named by ``"module:name"`` (imported on demand)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class Preset(Protocol):
    """A named list of runs of one kind."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def configs(self) -> list[Any]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class ListPreset:
    """A preset given as a function returning its list of configs (kinds whose presets are
    not a grid over one base config use this)."""

    name: str
    description: str
    build: Callable[[], list[Any]]
    kind: str

    def configs(self) -> list[Any]:
        """Every run, in a fixed order."""
        return self.build()

    def __len__(self) -> int:
        return len(self.build())

    @classmethod
    def from_table(
        cls, name: str, table: Mapping[str, tuple[str, Callable[[], list[Any]]]], kind: str
    ) -> ListPreset:
        """The preset `name` of a ``{name: (description, build)}`` table (``ValueError``
        listing the names otherwise)."""
        if name not in table:
            raise ValueError(f"`preset` must be one of {', '.join(table)}; got {name!r}.")
        description, build = table[name]
        return cls(name, description, build, kind)


_KINDS: dict[str, ExperimentKind] = {}
_PRESETS: dict[str, Callable[[], Preset]] = {}
_PRESET_KINDS: dict[str, str] = {}


def _ensure_builtin() -> None:
    importlib.import_module("rdpc_neural.kinds")  # registers the built-in kinds and presets


def register_kind(kind: ExperimentKind) -> ExperimentKind:
    """Add `kind`; a second kind of the same name is an error (never silently replaced)."""
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ValueError(f"experiment kind {kind.name!r} is already registered.")
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> ExperimentKind:
    """The kind called `name` (``ValueError`` listing the kinds otherwise)."""
    _ensure_builtin()
    if name not in _KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(sorted(_KINDS))}; got {name!r}.")
    return _KINDS[name]


def kind_names() -> tuple[str, ...]:
    """Names of the registered kinds."""
    _ensure_builtin()
    return tuple(_KINDS)


def kind_of_config(config: Any) -> ExperimentKind:
    """The kind whose config class `config` is an instance of."""
    _ensure_builtin()
    for kind in _KINDS.values():
        if type(config) is kind.config_class:
            return kind
    raise ValueError(f"no experiment kind has config class {type(config).__name__}.")


def config_hash(config: Any) -> str:
    """The identity hash of `config` (its run directory's name; see
    :func:`~rdpc_neural.core.schema.identity_hash`)."""
    from .schema import identity_hash

    kind = kind_of_config(config)
    return identity_hash(kind.name, kind.schema_version, config)


def register_preset(name: str, kind: str, build: Callable[[], Preset]) -> None:
    """Add preset `name` of `kind` (built lazily by `build`); duplicates are an error."""
    if name in _PRESETS:
        raise ValueError(f"preset {name!r} is already registered.")
    _PRESETS[name] = build
    _PRESET_KINDS[name] = kind


def preset_names(kind: str | None = None) -> tuple[str, ...]:
    """All preset names (of one `kind`), in registration order."""
    _ensure_builtin()
    return tuple(n for n in _PRESETS if kind is None or _PRESET_KINDS[n] == kind)


def get_preset(name: str, kind: str | None = None) -> Preset:
    """The preset called `name` (``ValueError`` listing the names otherwise)."""
    names = preset_names(kind)
    if name not in names:
        raise ValueError(f"`preset` must be one of {', '.join(names)}; got {name!r}.")
    return _PRESETS[name]()
