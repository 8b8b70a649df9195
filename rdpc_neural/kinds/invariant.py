r"""Invariant compressors (VC, VIC, BINCE) with a learned factorized prior and real coding.

The compressor (the ``invariant`` kind; config and loss in
:mod:`~rdpc_neural.kinds.invariant_config`)::

    x --MLP--> y in R^d --round--> z (integers) --MLP--> x_hat      (VC, VIC)
                                               \--MLP--> h on the unit sphere   (BINCE)

Rate and quantization
---------------------
The rate is the code length of ``z`` under a learned factorized prior
(:class:`~rdpc_neural.entropy.FactorizedPrior`, one monotone CDF per channel). Training uses
the **additive-uniform-noise** relaxation :math:`\tilde y = y + u`, :math:`u \sim U(-1/2,
1/2)^d` (the noise drawn from the run's seeded stream, so resumed runs are exact), whose
likelihood :math:`F(\tilde y + 1/2) - F(\tilde y - 1/2)` is the density of the noisy latent.
Evaluation rounds, :math:`z = \operatorname{round}(y)`, and codes ``z`` for real with one
fixed table per channel. Why noise and rounding rather than the dithered quantizer: the
theory of invariant compression is about a *deterministic* encoder (rate H[Z] with Z = f(X),
and the maximal invariant must be recoverable from Z alone), and rounding lets all items of a
channel share one coding table (fast chunked coding, no per-item dither table). The price is
a train/test mismatch of the rate (noise vs rounding), which every row measures:
``noise_rate_bits`` (the training relaxation on held-out data) beside ``estimated_bits``
(sum of -log2 coding probabilities of the rounded codes) and ``coded_bits`` (the size of the
real chunked stream, chunk index included, per item).

Distortion and downstream error
-------------------------------
VC and VIC reconstruct the input or its canonical representative
(:func:`rdpc_neural.banana.representative`), squared error summed over the coordinates.
BINCE encodes two independently transformed views of each item, projects the quantized
codes with an MLP head onto the unit sphere and scores the 2N x 2N cosine logits (self-pairs
masked) times a learned inverse temperature (clamped at 100); its distortion is the
cross-entropy of the positive pair in bits.

The downstream task is the regression of the maximal invariant M(X). ``invariant_mse`` is
the held-out squared error of the best predictor of M from the code alone, the per-code mean
of M fit on a separate training sample; it is
the same measurement for every compressor (a code unseen in the fit predicts the mean of
the nearest seen code). ``recon_invariant_mse`` is the plug-in error
:math:`(M(\hat x) - M(x))^2` of a reconstruction (VC, VIC).

References
----------
.. [1] Y. Dubois, B. Bloem-Reddy, K. Ullrich, C. J. Maddison, "Lossy compression for lossless
   prediction", NeurIPS 2021, arXiv:2106.10800.
.. [2] J. Balle, V. Laparra, E. P. Simoncelli, "End-to-end optimized image compression",
   ICLR 2017, arXiv:1611.01704 (additive uniform noise).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..banana import maximal_invariant, random_transform, representative, sample_banana
from ..core.lifecycle import RunContext, RunResult, run_experiment
from ..core.registry import ModelOptimizerState
from ..core.rundir import read_finished_run
from ..core.seeding import numpy_rng
from ..entropy import FactorizedPrior, MeanScaleHyperprior
from ..entropy.likelihood import bound_likelihood, likelihood_bits
from . import INVARIANT_COLUMNS
from .invariant_config import InvariantConfig
from .invariant_nets import ConvDecoder, ConvEncoder, resnet18_encoder

__all__ = [
    "METRIC_COLUMNS",
    "INT_COLUMNS",
    "InvariantCompressor",
    "build_compressor",
    "infonce_bits",
    "cell_mean_mse",
    "evaluate_invariant",
    "InvariantExperiment",
    "build",
    "load_compressor",
    "train_invariant_run",
    "quantization_map",
]

#: Columns of an invariant run's ``metrics.csv`` (units in the names; empty = not defined):
#: step; split ("val" periodic, "test" final); n_items; noise_rate_bits (training
#: relaxation -log2 p(y + u) per item); estimated_bits (-log2 coding probability of round(y)
#: per item); coded_bits (real chunked stream, index included, per item);
#: coded_over_estimated; distortion (VC/VIC squared error to the target, BINCE InfoNCE bits);
#: invariant_mse (held-out squared error of the per-code mean of M(X)); invariant_var
#: (variance of M(X), the error of a constant); recon_invariant_mse (VC/VIC mean
#: (M(x_hat) - M(x))^2); cells (distinct codes on the held-out set).
METRIC_COLUMNS = INVARIANT_COLUMNS
INT_COLUMNS: tuple[str, ...] = ("step", "n_items", "cells")

_LN2 = math.log(2.0)
_TAG_TRAIN, _TAG_TEST = 0x1A7, 0x7E57
_STREAM_INIT, _STREAM_STEP = 0, 1
_SPLIT_VAL, _SPLIT_TEST, _SPLIT_FIT, _SPLIT_VIEWS = 0, 1, 2, 3
_MAX_INV_TEMPERATURE = 100.0


# ------------------------------------------------------------------------------ models
def _mlp(n_in: int, n_out: int, hidden: int, depth: int) -> nn.Sequential:
    # Softplus gives smooth decision boundaries (as in Balle et al.'s toy-source models).
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.Softplus()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class InvariantCompressor(nn.Module):
    """Encoder, entropy model and decoder (VC, VIC) or projection head (BINCE).

    MLPs and a factorized prior for the banana; a CNN or ResNet-18 encoder, the CNN decoder
    (pixel logits) and a factorized prior or hyperprior for images
    (:mod:`~rdpc_neural.kinds.invariant_nets`)."""

    prior: FactorizedPrior | MeanScaleHyperprior

    def __init__(self, config: InvariantConfig) -> None:
        super().__init__()
        self.compressor = config.compressor
        d = config.latent_dim
        if config.architecture == "mlp":
            self.encoder: nn.Module = _mlp(2, d, config.hidden, config.depth)
        elif config.architecture == "cnn":
            self.encoder = ConvEncoder(d, config.width, config.hidden, config.conv_refine)
        else:
            self.encoder = resnet18_encoder(d)
        if config.entropy_model == "factorized":
            self.prior = FactorizedPrior(d)
        else:
            self.prior = MeanScaleHyperprior(d)
        if config.compressor == "bince":
            self.head = _mlp(d, config.projection_dim, config.hidden, 1)
            self.log_inv_temperature = nn.Parameter(torch.tensor(-math.log(config.temperature)))
        elif config.architecture == "mlp":
            self.decoder: nn.Module = _mlp(d, 2, config.hidden, config.depth)
        else:
            self.decoder = ConvDecoder(d, config.width, config.hidden)

    @property
    def factorized_prior(self) -> FactorizedPrior:
        """The entropy model when it is the factorized prior (the banana's: its symbols are
        ``round(y)``); ``TypeError`` for the hyperprior."""
        if not isinstance(self.prior, FactorizedPrior):
            raise TypeError("this compressor codes with a hyperprior, not a factorized prior")
        return self.prior

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Continuous latents y (before quantization), shape ``(n, d)``."""
        out: torch.Tensor = self.encoder(x)
        return out

    def noisy(self, y: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y + u, bits per item)`` of the training relaxation (factorized prior)."""
        y_tilde = y + u
        lik = self.factorized_prior.likelihood(y_tilde)
        return y_tilde, likelihood_bits(bound_likelihood(lik))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction (VC: of x; VIC: of its representative) from (noisy) codes."""
        out: torch.Tensor = self.decoder(z)
        return out

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """BINCE: unit-norm projections of (noisy) codes."""
        return nn.functional.normalize(self.head(z), dim=-1)


def build_compressor(config: InvariantConfig) -> InvariantCompressor:
    """The model of `config`, initialised from ``(seed, init stream)`` without touching the
    global torch RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(numpy_rng(_TAG_TRAIN, config.seed, _STREAM_INIT).integers(2**62)))
        return InvariantCompressor(config)


def infonce_bits(h1: torch.Tensor, h2: torch.Tensor, inv_temperature: torch.Tensor) -> torch.Tensor:
    """Mean InfoNCE cross-entropy in bits of the positive pairs ``(h1[i], h2[i])`` among the
    2N x 2N cosine logits (unit vectors in, self-pairs masked)."""
    h = torch.cat([h1, h2])
    n = len(h1)
    logits = inv_temperature * (h @ h.t())
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return nn.functional.cross_entropy(logits, target) / _LN2


def _to_torch(a: NDArray[np.float64]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _uniform(rng: np.random.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    return _to_torch(rng.random(shape) - 0.5)


def _target(config: InvariantConfig, x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x if config.compressor == "vc" else representative(x, config.invariance)


# --------------------------------------------------------------------------- measurement
def cell_mean_mse(
    fit_codes: NDArray[np.int64],
    fit_values: NDArray[np.float64],
    codes: NDArray[np.int64],
    values: NDArray[np.float64],
) -> float:
    """Held-out squared error of predicting `values` by the mean of `fit_values` over the fit
    items with the same code (row of `codes`): the empirical ``E[(M - E[M | Z])^2]`` of a
    code Z. A code not seen in the fit (a rare tail cell) predicts the mean of the nearest
    seen code (Euclidean in code space; the overall mean would be far off in the tails)."""
    from scipy.spatial import cKDTree

    seen, fit_idx = np.unique(fit_codes, axis=0, return_inverse=True)
    fit_idx = fit_idx.reshape(-1)
    means = np.bincount(fit_idx, weights=fit_values) / np.bincount(fit_idx)
    _, nearest = cKDTree(seen.astype(np.float64)).query(np.asarray(codes, dtype=np.float64))
    return float(np.mean((means[nearest] - values) ** 2))


@torch.no_grad()
def evaluate_invariant(
    model: InvariantCompressor, config: InvariantConfig, *, split: str, step: int
) -> dict[str, Any]:
    """One metrics row (:data:`METRIC_COLUMNS`) on the validation or test set."""
    model.eval()
    n = config.val_items if split == "val" else config.test_items
    rng = numpy_rng(_TAG_TEST, config.test_seed, _SPLIT_VAL if split == "val" else _SPLIT_TEST)
    x = sample_banana(n, rng)
    y = model.encode(_to_torch(x))
    _, noise_bits = model.noisy(y, _uniform(rng, tuple(y.shape)))
    model.prior.update()
    symbols = model.factorized_prior.symbols(y)
    estimated = float(model.prior.estimate_bits(y).mean())
    stream = model.prior.compress(y, chunk_items=config.chunk_items, check=True)
    coded = 8 * len(stream.to_bytes()) / n
    z = torch.from_numpy(symbols.astype(np.float32))

    m = maximal_invariant(x, config.invariance)
    fit_x = sample_banana(config.fit_items, numpy_rng(_TAG_TEST, config.test_seed, _SPLIT_FIT))
    fit_codes = model.factorized_prior.symbols(model.encode(_to_torch(fit_x)))
    row: dict[str, Any] = {
        "step": step,
        "split": split,
        "n_items": n,
        "noise_rate_bits": float(noise_bits.mean()),
        "estimated_bits": estimated,
        "coded_bits": coded,
        "coded_over_estimated": coded / estimated if estimated > 0 else None,
        "invariant_mse": cell_mean_mse(
            fit_codes, maximal_invariant(fit_x, config.invariance), symbols, m
        ),
        "invariant_var": float(m.var()),
        "cells": int(len(np.unique(symbols, axis=0))),
    }
    if config.compressor == "bince":
        views = numpy_rng(_TAG_TEST, config.test_seed, _SPLIT_VIEWS)
        x2 = random_transform(x, config.invariance, views)
        z2 = torch.from_numpy(
            model.factorized_prior.symbols(model.encode(_to_torch(x2))).astype(np.float32)
        )
        scale = model.log_inv_temperature.exp().clamp(max=_MAX_INV_TEMPERATURE)
        batch = config.batch_size  # the loss is defined per batch of the training size
        parts = [
            float(
                infonce_bits(
                    model.project(z[i : i + batch]), model.project(z2[i : i + batch]), scale
                )
            )  # fmt: skip
            for i in range(0, n - batch + 1, batch)
        ]
        row["distortion"] = float(np.mean(parts)) if parts else None
        row["recon_invariant_mse"] = None
    else:
        x_hat = model.decode(z).double().numpy()
        row["distortion"] = float(((x_hat - _target(config, x)) ** 2).sum(1).mean())
        row["recon_invariant_mse"] = float(
            np.mean((maximal_invariant(x_hat, config.invariance) - m) ** 2)
        )
    return row


# --------------------------------------------------------------------------- experiment
class InvariantExperiment(ModelOptimizerState):
    """One invariant-compressor run (the ``invariant`` kind's
    :class:`~rdpc_neural.core.registry.Experiment`). Step ``t`` draws its samples, noise and
    views from a generator seeded by ``(seed, t)``."""

    def __init__(self, config: InvariantConfig, context: RunContext | None = None) -> None:
        self.config = config
        self.model = build_compressor(config)
        prior = list(self.model.prior.parameters())
        nets = [p for name, p in self.model.named_parameters() if not name.startswith("prior.")]
        self.opt = torch.optim.Adam(
            [{"params": nets, "lr": config.lr}, {"params": prior, "lr": config.prior_lr}]
        )
        self.base_lrs = [config.lr, config.prior_lr]
        self.decay_at = round(config.lr_decay_at * config.steps)
        self.model.train()

    @property
    def steps(self) -> int:
        return self.config.steps

    def is_eval_step(self, step: int) -> bool:
        return step % self.config.eval_every == 0 and 0 < step < self.config.steps

    def loss_terms(self, step: int) -> dict[str, torch.Tensor]:
        """The training loss of step `step` and its parts (rate in bits per item)."""
        c = self.config
        rng = numpy_rng(_TAG_TRAIN, c.seed, _STREAM_STEP, step)
        x = sample_banana(c.batch_size, rng)
        if c.compressor == "bince":
            views = [random_transform(x, c.invariance, rng) for _ in range(2)]
            codes, rates = [], []
            for v in views:
                y = self.model.encode(_to_torch(v))
                z, bits = self.model.noisy(y, _uniform(rng, tuple(y.shape)))
                codes.append(z)
                rates.append(bits)
            rate = 0.5 * (rates[0].mean() + rates[1].mean())
            scale = self.model.log_inv_temperature.exp().clamp(max=_MAX_INV_TEMPERATURE)
            dist = infonce_bits(self.model.project(codes[0]), self.model.project(codes[1]), scale)
        else:
            y = self.model.encode(_to_torch(x))
            z, bits = self.model.noisy(y, _uniform(rng, tuple(y.shape)))
            rate = bits.mean()
            dist = ((self.model.decode(z) - _to_torch(_target(c, x))) ** 2).sum(1).mean()
        return {"loss": rate + c.beta * dist, "rate_bits": rate, "distortion": dist}

    def train_step(self, step: int) -> dict[str, float]:
        c = self.config
        if c.lr_schedule == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * step / c.steps))
        else:
            factor = c.lr_decay_factor if step >= self.decay_at else 1.0
        for group, lr in zip(self.opt.param_groups, self.base_lrs, strict=True):
            group["lr"] = lr * factor
        self.model.train()
        return self.optimizer_step(self.loss_terms(step))

    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        split = "test" if final else "val"
        row = evaluate_invariant(self.model, self.config, split=split, step=step)
        self.model.train()
        if not final:
            return row, {}
        c = self.config
        facts = {"compressor": c.compressor, "invariance": c.invariance, "beta": c.beta}
        return row, facts

    def describe(self) -> str:
        c = self.config
        return f"{c.compressor} {c.invariance} β={c.beta:g}"


def build(config: InvariantConfig, context: RunContext) -> InvariantExperiment:
    """The ``invariant`` kind's builder (registered in :mod:`rdpc_neural.kinds`)."""
    return InvariantExperiment(config, context)


def load_compressor(run_dir: str | os.PathLike[str]) -> tuple[InvariantConfig, InvariantCompressor]:
    """Config and trained model (eval mode, coding tables built) of a finished run directory.

    Raises :class:`~rdpc_common.errors.FileProblem` naming the file if the run is not a
    finished ``invariant`` run or its checkpoint is unreadable.
    """
    config, state = read_finished_run(run_dir, "invariant")
    model = build_compressor(config)
    model.load_state_dict(state["model"])
    model.eval()
    model.prior.update()
    return config, model


def train_invariant_run(
    config: InvariantConfig,
    runs_root: str | os.PathLike[str],
    preset: str = "custom",
    *,
    max_steps_this_call: int | None = None,
) -> RunResult:
    """Train (or resume, or read) the run of `config` in ``<runs_root>/<preset>/<hash>``."""
    context = RunContext(Path(runs_root).resolve(), preset)
    return run_experiment(
        config, runs_root, preset, context=context, max_steps_this_call=max_steps_this_call
    )


@torch.no_grad()
def quantization_map(
    model: InvariantCompressor, extent: tuple[float, float, float, float], grid: int
) -> dict[str, NDArray[Any]]:
    """The decision cells and reconstruction points of a trained 2-D compressor.

    Parameters
    ----------
    model : InvariantCompressor
        A trained model (any compressor; BINCE has no reconstructions).
    extent : (x_min, x_max, y_min, y_max)
        The window of the plane.
    grid : int
        Points per axis (>= 2).

    Returns
    -------
    dict
        ``"cell"``: ``(grid, grid)`` integer id of the code of each grid point (rows are y);
        ``"codes"``: ``(cells, d)`` the codes, in id order; ``"points"``: ``(cells, 2)``
        the decoded reconstruction of each code (absent for BINCE); ``"x"``, ``"y"``: the
        grid axes.
    """
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 2:
        raise ValueError(f"`grid` must be an integer >= 2; got {grid!r}.")
    model.eval()
    xs = np.linspace(extent[0], extent[1], grid)
    ys = np.linspace(extent[2], extent[3], grid)
    pts = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    codes = model.factorized_prior.symbols(model.encode(_to_torch(pts)))
    keys, cell = np.unique(codes, axis=0, return_inverse=True)
    out: dict[str, NDArray[Any]] = {"cell": cell.reshape(grid, grid), "codes": keys,
                                    "x": xs, "y": ys}  # fmt: skip
    if model.compressor != "bince":
        out["points"] = model.decode(torch.from_numpy(keys.astype(np.float32))).double().numpy()
    return out
