"""Configs and presets of neural codecs on the theoretical sources (torch-free).

A :class:`SyntheticConfig` fixes everything that can change one run of a neural codec trained
on i.i.d. blocks of :class:`rdpc_theory.BinarySource` or :class:`rdpc_theory.GaussianSource`
samples (see :mod:`rdpc_neural.kinds.synthetic` for the codec, the honest rate and the bounds).

Loss per training step, every term **per source symbol**::

    loss = rate_bits + lambda_d * D + lambda_p * P + lambda_c * C_term

* ``rate_bits``: code length of the transmitted symbols given the shared dither under the
  learned density model, ``-log2 p(k | u)`` summed over the latent coordinates, divided by
  the block length n (bits per source symbol).
* ``D``: Hamming distortion ``P(X_i != Xhat_i)`` in [0, 1] (binary; exact expectation given
  the code) or mean squared error in units of X squared (Gaussian).
* ``P``: per-letter perception averaged over the n positions: total variation
  ``|P(Xhat_i = 1) - P(X_i = 1)|`` on the batch (binary), or the squared 2-Wasserstein
  distance between the batch marginals of ``X_i`` and ``Xhat_i`` (Gaussian; sorted samples).
* ``C_term``: plug-in ``H(S_i | Xhat_i)`` in bits from the batch's soft joint table
  (binary), or ``1/2 log2(2 pi e Var(S_i - a Xhat_i - b))`` with the least-squares a, b of the
  batch (Gaussian), averaged over positions.

So ``lambda_d`` is in bits per unit of distortion, ``lambda_p`` in bits per unit of TV or
W2^2, ``lambda_c`` dimensionless (bits per bit). For the Gaussian source the Lagrangian of
R(D) = 1/2 log2(var_x / D) is minimized at ``D = 1 / (2 ln 2 lambda_d)``; for the binary one
at ``D = 1 / (1 + 2^lambda_d)``: a useful guide to choose grids.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.registry import ListPreset
from ..core.schema import (
    ConfigBase,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_loss_weights,
)

__all__ = [
    "KIND",
    "SCHEMA_VERSION",
    "SOURCES",
    "SOURCE_DEFAULTS",
    "FAMILIES",
    "SYNTHETIC_GRAD_MODES",
    "SourceSpec",
    "SyntheticConfig",
    "SYNTHETIC_PRESETS",
    "synthetic_preset_names",
    "get_synthetic_preset",
    "migrate",
    "legacy_dict",
]

#: ``kind`` of these runs in config.json and run identities.
KIND = "synthetic"
#: 1: rdpc 0.1.0 (flat source fields p, eps, var_x, var_s, cov); 2: ``source: {name, params}``.
SCHEMA_VERSION = 2
SOURCES: tuple[str, ...] = ("binary", "gaussian")
FAMILIES: tuple[str, ...] = ("rdc", "rpc", "rdpc")
SYNTHETIC_GRAD_MODES: tuple[str, ...] = ("straight-through", "soft-to-hard")
_PAPER_COV = 0.9 * math.sqrt(0.5)  # the paper's rho = 0.9 with var_x = 1, var_s = 0.5
#: Parameters of each source and their defaults (the Gaussian ones: the paper's theory figure).
SOURCE_DEFAULTS: dict[str, dict[str, float]] = {
    "binary": {"p": 0.3, "eps": 0.1},
    "gaussian": {"var_x": 1.0, "var_s": 0.5, "cov": _PAPER_COV},
}


@dataclass(frozen=True)
class SourceSpec(ConfigBase):
    """A theoretical source: its name and parameters (missing ones take the defaults of
    :data:`SOURCE_DEFAULTS`; the :mod:`rdpc_theory` class validates the values).

    ``binary``: ``BinarySource(p, eps)``; ``gaussian``: ``GaussianSource(var_x, var_s, cov)``.
    """

    name: str = "gaussian"
    params: dict[str, float] = field(default_factory=lambda: dict(SOURCE_DEFAULTS["gaussian"]))

    def __post_init__(self) -> None:
        if self.name not in SOURCES:
            raise ValueError(
                f"`source.name` must be one of {', '.join(map(repr, SOURCES))}; got {self.name!r}."
            )
        if not isinstance(self.params, Mapping):
            raise ValueError(f"`source.params` must be a mapping; got {self.params!r}.")
        defaults = SOURCE_DEFAULTS[self.name]
        unknown = sorted(set(self.params) - set(defaults))
        if unknown:
            raise ValueError(
                f"unknown `source.params` key(s) {', '.join(unknown)} for the {self.name} "
                f"source; valid keys: {', '.join(defaults)}."
            )
        params = {k: self.params.get(k, v) for k, v in defaults.items()}
        for k, v in params.items():
            check_float(f"source.params.{k}", v, -math.inf)
            params[k] = float(v)
        object.__setattr__(self, "params", params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    def theory_source(self) -> Any:
        """The :mod:`rdpc_theory` source object."""
        from rdpc_theory import BinarySource, GaussianSource

        if self.name == "binary":
            return BinarySource(**self.params)
        return GaussianSource(**self.params)


@dataclass(frozen=True)
class SyntheticConfig(ConfigBase):
    """One neural codec run on a theoretical source.

    Parameters
    ----------
    source : {"binary", "gaussian"}
        ``BinarySource(p, eps)`` (Hamming distortion, TV perception, label
        ``S = X xor N``) or ``GaussianSource(var_x, var_s, cov)`` (MSE, W2^2 perception,
        jointly Gaussian label).
    p, eps : float
        Binary source parameters (used when ``source == "binary"``).
    var_x, var_s, cov : float
        Gaussian source parameters (used when ``source == "gaussian"``); defaults are the
        paper's theory figure (rho = 0.9).
    block_length : int
        n, the number of i.i.d. source symbols coded together (>= 1).
    latent_dim : int
        d, latent coordinates per block (>= 1).
    levels : int
        L, quantizer levels on [-1, 1] (>= 2); nominal rate ``d log2 L / n`` bits/symbol.
    hidden, depth : int
        Width and number of hidden layers of the MLP encoder and decoder.
    skip : bool
        Add a linear skip path to the encoder and decoder MLPs (``linear(x) + mlp(x)``).
    density_bins : int
        Bins of the learned piecewise-linear CDF of each latent coordinate (>= 2).
    density_hidden : int
        Hidden width of the density model's autoregressive context network over the latent
        coordinates (0: factorized model, one density per coordinate).
    lambda_d, lambda_p, lambda_c : float
        Loss weights (>= 0; ``lambda_d`` and ``lambda_c`` not both 0 ...), see the module
        docstring for their scales. ``lambda_p = 0`` makes the run an RDC point,
        ``lambda_d = 0`` an RPC point, otherwise an RDPC point (:attr:`family`).
    grad_mode : {"straight-through", "soft-to-hard"}
        Quantizer gradient. With the subtractive dither, straight-through gives exactly the
        additive-uniform-noise relaxation ``y + e`` whose code length *is* the real one in
        distribution (the default).
    steps, batch_size : int
        Optimisation steps and blocks per step (fresh source samples every step).
    lr, density_lr : float
        Adam learning rates of the networks and of the density model.
    lr_decay_at, lr_decay_factor : float
        Learning rates are multiplied by the factor after ``round(lr_decay_at * steps)``.
    rate_warmup : float
        The rate term's weight rises linearly from 0 to 1 over the first
        ``round(rate_warmup * steps)`` steps (keeps the codec from collapsing to zero rate
        before the decoder has learned to use the latents); in [0, 1]. For the binary source
        the distortion term moves over the same steps from the cross-entropy of ``pi``
        (bits) to the expected Hamming distortion (see :mod:`rdpc_neural.kinds.synthetic`).
    bce_weight : float
        Binary source: weight in [0, 1] of the cross-entropy of ``pi`` kept in the
        distortion term after the warm-up (``(1 - w) Hamming + w BCE``); only training
        changes, every measurement is the exact Hamming distortion.
    eval_every : int
        Validation row and checkpoint every this many steps.
    val_blocks, test_blocks, fit_blocks : int
        Sizes of the validation set (periodic rows), the held-out test set (final row, CIs)
        and the training sample on which the label predictor of the C bound is fit.
    coded_blocks : int
        Held-out blocks entropy-coded into a real bitstream (``constriction``) at the end.
    test_seed : int
        Seed of the held-out sets (validation, test and evaluation dither); the same for all
        runs so that they are scored on the same samples.
    seed : int
        Seed of initialisation, training samples and training dither.
    """

    source: SourceSpec = field(default_factory=SourceSpec)
    block_length: int = 4
    latent_dim: int = 4
    levels: int = 16
    hidden: int = 128
    depth: int = 2
    skip: bool = True
    density_bins: int = 64
    density_hidden: int = 64
    lambda_d: float = 4.0
    lambda_p: float = 0.0
    lambda_c: float = 0.0
    grad_mode: str = "straight-through"
    steps: int = 3000
    batch_size: int = 512
    lr: float = 2e-3
    density_lr: float = 1e-2
    lr_decay_at: float = 0.7
    lr_decay_factor: float = 0.1
    rate_warmup: float = 0.1
    bce_weight: float = 0.0
    eval_every: int = 1000
    val_blocks: int = 8192
    test_blocks: int = 65536
    fit_blocks: int = 65536
    coded_blocks: int = 16384
    test_seed: int = 20250501
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.source, str):  # a name: that source with its default parameters
            spec = SourceSpec(self.source, dict(SOURCE_DEFAULTS.get(self.source, {})))
            object.__setattr__(self, "source", spec)
        if not isinstance(self.source, SourceSpec):
            raise ValueError(
                f"`source` must be a SourceSpec or a source name; got {self.source!r}."
            )
        self.theory_source()  # the rdpc_theory classes validate their own parameters
        check_int("block_length", self.block_length, 1)
        check_int("latent_dim", self.latent_dim, 1)
        check_int("levels", self.levels, 2)
        check_int("hidden", self.hidden, 1)
        check_int("depth", self.depth, 0)
        check_bool("skip", self.skip)
        if self.depth == 0 and not self.skip:
            raise ValueError("`depth` must be >= 1 when `skip` is false; got 0.")
        check_int("density_bins", self.density_bins, 2)
        check_int("density_hidden", self.density_hidden, 0)
        check_loss_weights(self, ("lambda_d", "lambda_p", "lambda_c"))
        check_choice("grad_mode", self.grad_mode, SYNTHETIC_GRAD_MODES)
        check_int("steps", self.steps, 1)
        check_int("batch_size", self.batch_size, 2)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_float("density_lr", self.density_lr, 0.0, low_open=True)
        check_float("lr_decay_at", self.lr_decay_at, 0.0, 1.0)
        check_float("lr_decay_factor", self.lr_decay_factor, 0.0, 1.0, low_open=True)
        check_float("rate_warmup", self.rate_warmup, 0.0, 1.0)
        check_float("bce_weight", self.bce_weight, 0.0, 1.0)
        check_int("eval_every", self.eval_every, 1)
        check_int("val_blocks", self.val_blocks, 16)
        # The W2 estimate splits the test set into 16 chunks of at least 16 samples.
        check_int("test_blocks", self.test_blocks, 256)
        check_int("fit_blocks", self.fit_blocks, 16)
        check_int("coded_blocks", self.coded_blocks, 1)
        check_int("test_seed", self.test_seed, 0)
        check_int("seed", self.seed, 0)
        if self.coded_blocks > self.test_blocks:
            raise ValueError(
                f"`coded_blocks` must be <= `test_blocks` ({self.test_blocks}); "
                f"got {self.coded_blocks}."
            )

    # -- derived -------------------------------------------------------------------------
    def theory_source(self) -> Any:
        """The :mod:`rdpc_theory` source object (``BinarySource`` or ``GaussianSource``)."""
        return self.source.theory_source()

    @property
    def family(self) -> str:
        """``"rpc"`` if ``lambda_d == 0``, else ``"rdc"`` if ``lambda_p == 0``, else ``"rdpc"``:
        which bound the run's operating point is compared with."""
        if self.lambda_d == 0:
            return "rpc"
        return "rdc" if self.lambda_p == 0 else "rdpc"

    @property
    def nominal_bits(self) -> float:
        """Fixed-length rate ``d log2 L / n`` in bits per source symbol."""
        return self.latent_dim * math.log2(self.levels) / self.block_length

    @property
    def binary(self) -> bool:
        """True for the binary source."""
        return self.source.name == "binary"

    def with_overrides(self, overrides: Iterable[str | tuple[str, Any]]) -> SyntheticConfig:
        """As :meth:`ConfigBase.with_overrides`; ``source=binary`` switches the source (with
        that source's default parameters), and ``p=0.2`` is short for
        ``source.params.p=0.2`` (likewise ``eps``, ``var_x``, ``var_s``, ``cov``); a
        shorthand for the other source's parameter leaves this run as it is (so that
        ``--set p=0.2`` on a preset changes its binary runs).

        >>> SyntheticConfig().with_overrides(["source=binary", "p=0.2"]).source.params
        {'p': 0.2, 'eps': 0.1}
        """
        from ..core.schema import parse_override

        items: list[tuple[str, Any]] = []
        source = self.source.name
        for item in overrides:
            key, value = parse_override(item) if isinstance(item, str) else item
            if key == "source" and isinstance(value, str):
                value = {"name": value, "params": dict(SOURCE_DEFAULTS.get(value, {}))}
                source = value["name"]
            if key in self.OVERRIDE_ALIASES and key not in SOURCE_DEFAULTS.get(source, {}):
                continue  # the other source's parameter: not this run's
            items.append((key, value))
        return super().with_overrides(items)

    def accepts_override(self, key: str, overrides: Sequence[tuple[str, Any]] = ()) -> bool:
        """``p``/``eps`` apply to binary runs, ``var_x``/``var_s``/``cov`` to Gaussian runs
        (after a ``source=...`` among `overrides`)."""
        if key not in self.OVERRIDE_ALIASES:
            return True
        name = self.source.name
        for k, v in overrides:
            if k == "source":
                name = v if isinstance(v, str) else v.get("name", name)
        return key in SOURCE_DEFAULTS.get(name, {})

    OVERRIDE_ALIASES: ClassVar[Mapping[str, str]] = {
        k: f"source.params.{k}" for params in SOURCE_DEFAULTS.values() for k in params
    }


def migrate(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Config dict of schema `version` -> the current schema (1 -> 2: the flat source fields
    become ``source: {name, params}``, keeping the parameters of the named source)."""
    out = dict(data)
    if version < 2:
        name = out.pop("source", "gaussian")
        flat = {k: out.pop(k) for params in SOURCE_DEFAULTS.values() for k in params if k in out}
        out["source"] = {"name": name, "params": {k: flat[k] for k in SOURCE_DEFAULTS.get(name, {})
                                                  if k in flat}}  # fmt: skip
    return out


def legacy_dict(config: SyntheticConfig) -> dict[str, Any]:
    """The flat dict whose hash named this config's directory in rdpc 0.1.0 (the other
    source's parameters at their defaults, as rdpc 0.1.0 wrote them)."""
    out = config.to_dict()
    source = out.pop("source")
    flat = {k: v for params in SOURCE_DEFAULTS.values() for k, v in params.items()}
    flat.update(source["params"])
    return {**out, "source": source["name"], **flat}


# ---------------------------------------------------------------------------------- presets
# Codec per (source, block length): d = n latent coordinates; L = 16 levels leave room for
# ~3 bits per Gaussian coordinate, L = 8 for the binary source (at most H_b(p) = 0.88 bit).
# Binary codecs have no linear skip path (with it an n = 16 codec settled near the rate of a
# lossless code at D = 0.13) and no cross-entropy share after the warm-up (with 0.2 the
# decoders became calibrated rather than decisive: D above p at n = 16).
def _base(source: str, n: int, **kw: Any) -> SyntheticConfig:
    extra: dict[str, Any] = {"levels": 16} if source == "gaussian" else {"levels": 8, "skip": False}
    return SyntheticConfig(source=SourceSpec(source, dict(SOURCE_DEFAULTS[source])),
                           block_length=n, latent_dim=n, **extra, **kw)  # fmt: skip


# lambda grids (see the module docstring for the scales). Gaussian: lambda_d 1.5 ... 12 spans
# D ~ 0.48 ... 0.06 (R(D) ~ 0.5 ... 2 bits). Binary: the Lagrangian optimum of lambda_d
# 2.5 ... 9 is D ~ 0.15 ... 0.002, but the trained block codes settle at larger D (measured),
# and at n = 1 every lambda_d > 2.94 gives the lossless code (time sharing is all a scalar
# dithered quantizer can do there). The C weights move the points across the (D, C) plane;
# the RPC points (lambda_d = 0) use only perception and classification; RDPC points add
# perception to a mid-range lambda_d.
_GRIDS: dict[str, dict[str, list[tuple[float, float, float]]]] = {
    "gaussian": {
        "rdc": [(ld, 0.0, lc) for ld in (1.5, 3.0, 6.0, 12.0) for lc in (0.0, 2.0)],
        "rpc": [(0.0, lp, lc) for lp in (2.0, 20.0) for lc in (1.0, 2.0, 4.0)],
        "rdpc": [(3.0, lp, lc) for lp in (1.0, 10.0) for lc in (0.0, 2.0)],
    },
    "binary": {
        "rdc": [(ld, 0.0, lc) for ld in (2.5, 4.0, 6.0, 9.0) for lc in (0.0, 2.0)],
        "rpc": [(0.0, lp, lc) for lp in (2.0, 20.0) for lc in (2.0, 4.0, 8.0)],
        "rdpc": [(4.0, lp, lc) for lp in (2.0, 20.0) for lc in (0.0, 2.0)],
    },
}


def _grid_configs(block_lengths: tuple[int, ...], families: tuple[str, ...],
                  thin: int = 1, **kw: Any) -> list[SyntheticConfig]:  # fmt: skip
    out = []
    for source, n in itertools.product(("gaussian", "binary"), block_lengths):
        for fam in families:
            for ld, lp, lc in _GRIDS[source][fam][::thin]:
                out.append(_base(source, n, lambda_d=ld, lambda_p=lp, lambda_c=lc, **kw))
    return out


def _tiny() -> list[SyntheticConfig]:
    small = {"steps": 300, "batch_size": 256, "eval_every": 150, "hidden": 32, "val_blocks": 1024,
             "test_blocks": 8192, "fit_blocks": 8192, "coded_blocks": 2048}  # fmt: skip
    return [
        _base("gaussian", 4, lambda_d=3.0, lambda_c=1.0, **small),
        _base("binary", 4, lambda_d=2.5, lambda_c=1.0, **small),
    ]


_PRESETS: dict[str, tuple[str, Callable[[], list[SyntheticConfig]]]] = {
    "synthetic-tiny": (
        "2 runs (Gaussian and binary, n = 4, 300 steps): a smoke test in seconds", _tiny),
    "synthetic-quick": (
        "both sources, n in {1, 4}, a few RDC/RPC/RDPC points each, 1500 steps",
        lambda: _grid_configs((1, 4), FAMILIES, thin=3, steps=1500, eval_every=500)),
    "synthetic-full": (
        "both sources, n in {1, 4, 16}, full RDC/RPC/RDPC lambda grids, 2000 steps",
        lambda: _grid_configs((1, 4, 16), FAMILIES, steps=2000, eval_every=500)),
}  # fmt: skip

SYNTHETIC_PRESETS: tuple[str, ...] = tuple(_PRESETS)


def synthetic_preset_names() -> tuple[str, ...]:
    """All synthetic preset names."""
    return SYNTHETIC_PRESETS


def get_synthetic_preset(name: str) -> ListPreset:
    """The synthetic preset called `name` (``ValueError`` listing the names otherwise).

    >>> len(get_synthetic_preset("synthetic-tiny"))
    2
    """
    return ListPreset.from_table(name, _PRESETS, KIND)
