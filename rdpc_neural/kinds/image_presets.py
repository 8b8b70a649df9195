"""Named grids of runs: the paper's published sweeps and CPU-sized counterparts (torch-free).

``paper-*`` presets use the published architecture and schedule (Wang et al., JSAC 2025,
Sec. VI, and the official code; see docs/references.md): batch
128, 30 epochs (MNIST) / 80 epochs (SVHN) counted as generator steps over the training split,
Adam lr 1e-2 / critic 2e-4, betas (0.5, 0.9) for MNIST; lr 1e-4, betas (0.5, 0.999) for SVHN.
``cpu-*`` presets keep the same lambda grids and rates but use the small MLP codec
(``size="cpu"``) and a few hundred steps, so that ``cpu-fig9a`` (128 runs) fits in 30 minutes
on 2 cores. ``*-universal`` presets reuse one frozen encoder per rate (trained end-to-end with
``lambda_d = 1`` and no other term) and train only decoders for every grid point;
``cpu-fig9a-universal-task`` freezes instead the encoder trained with ``lambda_d = 1`` and the
grid's largest ``lambda_c``, a representation that was asked to keep the label.

The grids (lambda values as published in the official code's README):

* Fig. 9(a) RDC: lambda_d in {.5, .8, 1, 1.2}, lambda_p = 0, lambda_c in LC8 (128 runs).
* Fig. 9(b) RPC: lambda_d = 0, lambda_p in {.0025, .004, .005, .01, .013, .015},
  lambda_c in LC8 without .0025 (168 runs).
* Fig. 10(a)/11(a): lambda_d = 1, lambda_p in {0} + the 9(b) set, lambda_c in {0} + LC8 (252).
* SVHN Fig. 10(b)/11(b): lambda_d = 1, lambda_p in {0, .00025, .00075, .00125, .002},
  lambda_c in {0, .00025, .0005, .00075, .001, .00125, .0015, .002}, (d, L) in
  {(10, 8), (15, 8), (20, 8)} (120 runs).

with LC8 = {.0025, .005, .006, .008, .01, .011, .013, .015} and MNIST (d, L) in
{(3, 3), (3, 4), (4, 4), (5, 4)} (R = 4.75, 6, 8, 10 bits).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .image_config import KIND, RunConfig, default_classifiers

__all__ = [
    "Preset",
    "PRESETS",
    "preset_names",
    "get_preset",
    "MNIST_RATES",
    "SVHN_RATES",
]

MNIST_RATES: tuple[tuple[int, int], ...] = ((3, 3), (3, 4), (4, 4), (5, 4))
SVHN_RATES: tuple[tuple[int, int], ...] = ((10, 8), (15, 8), (20, 8))
_LC8 = (0.0025, 0.005, 0.006, 0.008, 0.01, 0.011, 0.013, 0.015)
_FIG9A = {"lambda_d": (0.5, 0.8, 1.0, 1.2), "lambda_p": (0.0,), "lambda_c": _LC8}
_FIG9B = {
    "lambda_d": (0.0,),
    "lambda_p": (0.0025, 0.004, 0.005, 0.01, 0.013, 0.015),
    "lambda_c": _LC8[1:],
}
_FIG10 = {
    "lambda_d": (1.0,),
    "lambda_p": (0.0, 0.0025, 0.004, 0.005, 0.01, 0.013, 0.015),
    "lambda_c": (0.0, *_LC8),
}
_SVHN = {
    "lambda_d": (1.0,),
    "lambda_p": (0.0, 0.00025, 0.00075, 0.00125, 0.002),
    "lambda_c": (0.0, 0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.002),
}

# MNIST: 55,000 training images after the 5,000-image validation split, batch 128.
_MNIST_EPOCH_STEPS = math.ceil(55_000 / 128)
# SVHN: 73,257 training images, 5,000 for validation.
_SVHN_EPOCH_STEPS = math.ceil((73_257 - 5_000) / 128)

_PAPER_MNIST = RunConfig(
    dataset="mnist",
    size="reference",
    batch_size=128,
    steps=30 * _MNIST_EPOCH_STEPS,
    lr=1e-2,
    betas=(0.5, 0.9),
    lr_critic=2e-4,
    critic_betas=(0.5, 0.9),
    lr_decay_at=20 / 30,
    lr_decay_factor=0.2,
    soft_sigma=1.0,
    eval_every=_MNIST_EPOCH_STEPS,
    eval_size=5000,
)
# CPU counterpart, sized by measurement on 2 cores: MLP codec, 600 steps of batch 256
# (~2.8 epochs; about 10 s per run on one idle core).
_CPU_MNIST = RunConfig(
    dataset="mnist",
    size="cpu",
    batch_size=256,
    steps=600,
    lr=1e-2,
    betas=(0.5, 0.9),
    lr_critic=1e-3,
    critic_betas=(0.5, 0.9),
    lr_decay_at=2 / 3,
    lr_decay_factor=0.2,
    eval_every=300,
    eval_size=2000,
)
_SVHN_CLF, _SVHN_HELDOUT = default_classifiers("svhn")
_PAPER_SVHN = RunConfig(
    dataset="svhn",
    size="reference",
    latent_dim=10,
    levels=8,
    batch_size=128,
    steps=80 * _SVHN_EPOCH_STEPS,
    lr=1e-4,
    betas=(0.5, 0.999),
    lr_critic=1e-4,
    critic_betas=(0.5, 0.999),
    lr_decay_at=25 / 80,
    lr_decay_factor=0.2,
    soft_sigma=2 / 8,
    eval_every=_SVHN_EPOCH_STEPS,
    eval_size=5000,
    classifier=_SVHN_CLF,
    heldout_classifier=_SVHN_HELDOUT,
)
_CPU_SVHN = _PAPER_SVHN.replace(
    size="cpu", batch_size=256, steps=1500, lr=2e-3, lr_critic=1e-3, betas=(0.5, 0.9),
    critic_betas=(0.5, 0.9), lr_decay_at=2 / 3, eval_every=500, eval_size=2000,
)  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A named grid: a base config, the rates (d, L) and the lambda values to cross.

    ``universal`` presets train, per rate, one end-to-end encoder run (``base_lambdas``) and
    then decoders for every grid point on top of that frozen encoder.
    """

    name: str
    description: str
    base: RunConfig
    rates: tuple[tuple[int, int], ...]
    grid: dict[str, tuple[float, ...]]
    universal: bool = False
    base_lambdas: tuple[float, float, float] = (1.0, 0.0, 0.0)
    kind: str = KIND

    def configs(self) -> list[RunConfig]:
        """Every run of the grid, rates outermost, in a fixed order."""
        keys = ("lambda_d", "lambda_p", "lambda_c")
        out: list[RunConfig] = []
        for d, levels in self.rates:
            rate_base = self.base.replace(latent_dim=d, levels=levels)
            encoder_run = None
            if self.universal:
                ld, lp, lc = self.base_lambdas
                encoder_run = rate_base.replace(lambda_d=ld, lambda_p=lp, lambda_c=lc)
            for values in itertools.product(*(self.grid[k] for k in keys)):
                changes: dict[str, object] = dict(zip(keys, values, strict=True))
                if self.universal:
                    changes.update(mode="universal", base_encoder=encoder_run)
                out.append(rate_base.replace(**changes))
        return out

    def __len__(self) -> int:
        return len(self.rates) * math.prod(len(v) for v in self.grid.values())


def _make(name: str, desc: str, base: RunConfig, rates: Sequence[tuple[int, int]],
          grid: dict[str, tuple[float, ...]], **kw: object) -> Preset:  # fmt: skip
    return Preset(name, desc, base, tuple(rates), grid, **kw)  # type: ignore[arg-type]


_BUILDERS: dict[str, Callable[[], Preset]] = {
    "paper-fig9a": lambda: _make(
        "paper-fig9a", "RDC tradeoff, Fig. 9(a), published size", _PAPER_MNIST, MNIST_RATES,
        _FIG9A),
    "paper-fig9b": lambda: _make(
        "paper-fig9b", "RPC tradeoff, Fig. 9(b), published size", _PAPER_MNIST, MNIST_RATES,
        _FIG9B),
    "paper-fig10": lambda: _make(
        "paper-fig10", "RDC given P / RPC given D, Figs. 10(a)/11(a), published size",
        _PAPER_MNIST, MNIST_RATES, _FIG10),
    "paper-svhn": lambda: _make(
        "paper-svhn", "SVHN, Figs. 10(b)/11(b), published size", _PAPER_SVHN, SVHN_RATES,
        _SVHN),
    "cpu-fig9a": lambda: _make(
        "cpu-fig9a", "RDC tradeoff, Fig. 9(a) grid, CPU-sized MLP codec", _CPU_MNIST,
        MNIST_RATES, _FIG9A),
    "cpu-fig9b": lambda: _make(
        "cpu-fig9b", "RPC tradeoff, Fig. 9(b) grid, CPU-sized MLP codec", _CPU_MNIST,
        MNIST_RATES, _FIG9B),
    "cpu-fig10": lambda: _make(
        "cpu-fig10", "Figs. 10(a)/11(a) grid, CPU-sized MLP codec", _CPU_MNIST, MNIST_RATES,
        _FIG10),
    "cpu-svhn": lambda: _make(
        "cpu-svhn", "SVHN Figs. 10(b)/11(b) grid, CPU-sized MLP codec", _CPU_SVHN,
        SVHN_RATES, _SVHN),
    "cpu-fig9a-universal": lambda: _make(
        "cpu-fig9a-universal",
        "Fig. 9(a) grid with one frozen encoder per rate (uRDP); compare with cpu-fig9a",
        _CPU_MNIST, MNIST_RATES, _FIG9A, universal=True),
    "cpu-fig9a-universal-task": lambda: _make(
        "cpu-fig9a-universal-task",
        "as cpu-fig9a-universal, but the frozen encoder is the rate's largest-lambda_c run",
        _CPU_MNIST, MNIST_RATES, _FIG9A, universal=True,
        base_lambdas=(1.0, 0.0, max(_FIG9A["lambda_c"]))),
    "paper-fig9a-universal": lambda: _make(
        "paper-fig9a-universal",
        "Fig. 9(a) grid with one frozen encoder per rate (uRDP), published size",
        _PAPER_MNIST, MNIST_RATES, _FIG9A, universal=True),
}  # fmt: skip

PRESETS: tuple[str, ...] = tuple(_BUILDERS)


def preset_names() -> tuple[str, ...]:
    """All preset names."""
    return PRESETS


def get_preset(name: str) -> Preset:
    """The preset called `name` (``ValueError`` listing the names otherwise).

    >>> len(get_preset("cpu-fig9a")), len(get_preset("paper-fig9b"))
    (128, 168)
    >>> len(get_preset("paper-fig10")), len(get_preset("paper-svhn"))
    (252, 120)
    """
    if name not in _BUILDERS:
        raise ValueError(f"`preset` must be one of {', '.join(PRESETS)}; got {name!r}.")
    return _BUILDERS[name]()
