r"""Neural codecs on the theoretical sources, with honest rates and per-letter bounds.

The source is :class:`rdpc_theory.BinarySource` or :class:`rdpc_theory.GaussianSource`,
coded in blocks of n i.i.d. symbols (samples drawn by the sources' own ``sample``). The codec::

    x (n) --MLP--> tanh --> y in [-1, 1]^d --(+u, round to L centers)--> k --> y_hat = c_k - u
        --MLP--> x_hat (Gaussian)  or  pi = P(Xhat_i = 1 | k, u) (binary; Xhat_i ~ Bern(pi_i)
                                        drawn with shared randomness)

with the subtractive dither ``u ~ U[-step/2, step/2)^d`` shared by encoder and decoder
(:class:`~rdpc_neural.quantize.UniformQuantizer`).

Rate
----
A learned density model of the latents (:class:`PiecewiseLinearDensity`: a CDF F_j on
[-1, 1] per coordinate, autoregressive over the coordinates) gives every symbol, given the
dither and the coordinates already decoded, the probability

.. math:: p(k_j \mid u_j, \hat y_{<j}) = F_j(c_k - u_j + \Delta/2) - F_j(c_k - u_j - \Delta/2),

which sums to one over the L symbols because the cells tile [-1, 1] (no overload). An
arithmetic/ANS coder with this model and the shared dither spends ``-log2 p`` bits per
symbol; the held-out mean of that code length (model fit on training samples only) is an
unbiased estimate of a cross-entropy :math:`\ge H(K \mid U) \ge I(X^n; \hat X^n)`. In training
the same formula is evaluated at ``y_hat = y + e`` (the quantization error e is uniform and
independent of y), so the training rate is the real code length in distribution. A real
``constriction`` bitstream checks the estimate at the end of every run (``coded_bits``).
Since K is a function of (X^n, U), ``H(K|U) = I(X^n; K|U)``: with a perfect density model the
rate is exactly the mutual information of the additive-uniform-noise channel
``y(X^n) -> y + E`` [1]_. With pre/post scaling such a scalar dithered quantizer comes within
``1/2 log2(2 pi e / 12) = 0.2546`` bit of R(D) per coordinate at every rate (Zamir and Feder);
for a Gaussian source it does not get much closer above ~0.5 bit (0.198 bit at R(D) = 0.32,
0.248 at 0.78, by numerical integration), the space-filling loss of the cubic cell.

Measurements and bounds (held-out, per position i = 1..n)
---------------------------------------------------------
* D_i: Hamming distortion as the exact expectation ``pi (1 - x) + (1 - pi) x`` (binary), or
  squared error (Gaussian).
* P_i: ``|E pi_i - p|`` (binary TV, exact given the code), or
  :math:`W_2^2(N(0, \sigma_X^2), \hat\mu_i)` between the exact source marginal and the
  empirical law of ``Xhat_i`` on each of 16 chunks of the test set (closed form, see
  :func:`w2sq_to_gaussian`); W2^2 is convex in the measure, so its expectation over the chunk
  is an upper bound on the true W2^2 and the chunk mean with its t interval is conservative.
* C_i: log-loss in bits of a predictor of S_i from Xhat_i fit on *training* samples and
  scored on held-out samples: a smoothed 2x2 table (binary; expectation over Xhat given the
  code) or a linear-Gaussian regression (Gaussian). Any fixed predictor's expected log-loss
  is :math:`\ge H(S_i \mid \hat X_i)` (resp. :math:`h(S_i \mid \hat X_i)`).

The converse per letter for an i.i.d. source,
:math:`I(X^n;\hat X^n) \ge \sum_i I(X_i;\hat X_i) \ge \sum_i R(D_i, P_i, C_i)`, gives the bound
``(1/n) sum_i R(D_i, P_i, C_i)`` with R the run family's function (R(D, C), R(P, C) or
R(D, P, C) from :mod:`rdpc_theory`). ``above_bound`` compares the rate's lower 95% end with
the bound evaluated at the upper ends (Bonferroni over the 3n constraints) of D_i, P_i, C_i
(R is non-increasing in each). A point below its bound would be a bug, never a result.

References
----------
.. [1] J. Ziv, "On universal quantization", IEEE Trans. IT 31(3), 1985; R. Zamir, M. Feder,
   "On universal quantization by randomized uniform/lattice quantizers", IEEE Trans. IT
   38(2), 1992 (dithered quantization: ``H(K|U) = I(X; X + E)``).
.. [2] J. Balle et al., "Nonlinear transform coding", IEEE JSTSP 15(2), 2021,
   arXiv:2007.03034 (uniform-noise training of learned entropy models).
.. [3] C. Wang, Y. Wu, S. Ma, P. Zhang, "Rate-distortion-perception-classification
   tradeoff", IEEE JSAC 2025, arXiv:2405.04144.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from scipy import stats
from torch import nn

from ..core.lifecycle import RunContext, RunResult, run_experiment
from ..core.seeding import numpy_rng
from ..entropy import UNIFORM_MIX as _UNIFORM_MIX
from ..entropy import PiecewiseLinearDensity, code_with_constriction, symbol_probabilities
from ..quantize import UniformQuantizer
from .synthetic_config import SyntheticConfig

__all__ = [
    "PiecewiseLinearDensity",
    "SyntheticCodec",
    "build_synthetic_codec",
    "w2sq_to_gaussian",
    "symbol_probabilities",
    "code_with_constriction",
    "evaluate_synthetic",
    "SyntheticExperiment",
    "build",
    "train_synthetic_run",
]

_LN2 = math.log(2.0)
_W2_CHUNKS = 16
_ALPHA = 0.05
_Z95 = float(stats.norm.ppf(1 - _ALPHA / 2))
# Tags of the random streams: the held-out sets use (TEST, test_seed, ...), training uses
# (TRAIN, seed, stream, index): independent SeedSequence entropy, never a global seed.
_TAG_TRAIN, _TAG_TEST = 0x5EED, 0x7E57
_STREAM_INIT, _STREAM_STEP, _STREAM_FIT = 0, 1, 2
_SPLIT_VAL, _SPLIT_TEST, _SPLIT_VAL_DITHER, _SPLIT_TEST_DITHER = 0, 1, 2, 3
_EVAL_BATCH = 16384


# ------------------------------------------------------------------------------ models
class _SkipMLP(nn.Module):
    """``linear(x) + mlp(x)`` (``skip``) or ``mlp(x)``: with the linear skip path the
    near-linear maps that are good codes for the Gaussian source are learned at once (without
    it the n = 16 codecs were at a 0.35 bit gap after 1000 steps instead of 0.26)."""

    def __init__(self, n_in: int, n_out: int, hidden: int, depth: int, skip: bool) -> None:
        super().__init__()
        self.skip = nn.Linear(n_in, n_out) if skip else None
        layers: list[nn.Module] = []
        width = n_in
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, n_out))
        self.mlp = nn.Sequential(*layers) if depth > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip is None:
            assert self.mlp is not None
            out: torch.Tensor = self.mlp(x)
            return out
        out = self.skip(x) if self.mlp is None else self.skip(x) + self.mlp(x)
        return out


class SyntheticCodec(nn.Module):
    """MLP encoder -> tanh -> dithered L-level quantizer -> MLP decoder, plus the density.

    ``forward(x, u)`` returns ``{"y", "symbols", "y_hat", "out", "code_bits"}`` where ``out``
    is ``x_hat`` (Gaussian) or ``pi = P(Xhat_i = 1 | code)`` (binary) and ``code_bits`` the
    code length ``sum_j -log2 p(k_j | u_j)`` of each block.
    """

    def __init__(self, config: SyntheticConfig) -> None:
        super().__init__()
        n, d = config.block_length, config.latent_dim
        self.binary = config.binary
        self.scale = 1.0 if self.binary else math.sqrt(config.source.params["var_x"])
        self.encoder = _SkipMLP(n, d, config.hidden, config.depth, config.skip)
        self.quantizer = UniformQuantizer(config.levels, config.grad_mode)
        self.density = PiecewiseLinearDensity(d, config.density_bins, config.density_hidden)
        self.decoder = _SkipMLP(d, n, config.hidden, config.depth, config.skip)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents y in [-1, 1]^d."""
        inp = 2.0 * x - 1.0 if self.binary else x / self.scale
        return torch.tanh(self.encoder(inp))

    def decode(self, y_hat: torch.Tensor) -> torch.Tensor:
        """``x_hat`` (Gaussian) or ``pi`` (binary) from the dequantized latents."""
        out = self.decoder(y_hat)
        return torch.sigmoid(out) if self.binary else out * self.scale

    def forward(self, x: torch.Tensor, u: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.encode(x)
        q = self.quantizer(y, u)
        y_hat = q["z_hat"]
        prob = self.density.interval_probability(y_hat, self.quantizer.step)
        levels = self.quantizer.levels
        prob = (1.0 - _UNIFORM_MIX) * prob + _UNIFORM_MIX / levels
        code_bits = -(torch.log2(prob)).sum(-1)
        return {"y": y, "symbols": q["symbols"], "y_hat": y_hat, "out": self.decode(y_hat),
                "code_bits": code_bits}  # fmt: skip


def build_synthetic_codec(config: SyntheticConfig) -> SyntheticCodec:
    """The codec of `config`, initialised from ``(seed, init stream)`` without touching the
    global torch RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(numpy_rng(_TAG_TRAIN, config.seed, _STREAM_INIT).integers(2**62)))
        return SyntheticCodec(config)


# ------------------------------------------------------------------------------- losses
def _entropy_bits(p: torch.Tensor) -> torch.Tensor:
    # -p log2 p, with a zero gradient where p == 0 (a deterministic label position: S = X
    # when eps = 0): the derivative log p + 1 is -inf there and 0 * inf would make the whole
    # step NaN. The double `where` keeps values and gradients bit-identical wherever p > 0.
    positive = p > 0
    safe = torch.where(positive, p, torch.ones_like(p))
    out: torch.Tensor = torch.where(positive, -torch.special.xlogy(safe, safe) / _LN2, 0.0)
    return out


def _loss_terms(config: SyntheticConfig, x: torch.Tensor, s: torch.Tensor,
                fwd: dict[str, torch.Tensor], rate_weight: float = 1.0
                ) -> dict[str, torch.Tensor]:  # fmt: skip
    """Per-symbol batch terms of the loss (see :mod:`rdpc_neural.kinds.synthetic_config`)."""
    out = fwd["out"]
    rate = fwd["code_bits"].mean() / config.block_length
    if config.binary:
        pi = out
        dist = (pi * (1 - x) + (1 - pi) * x).mean()
        bce_weight = max(1.0 - rate_weight, config.bce_weight)
        if bce_weight > 0:
            # The expected Hamming loss is linear in pi, so a sigmoid decoder that starts
            # predicting the majority symbol saturates and never learns to read the latents
            # (zero-rate collapse, seen at n = 16). The cross-entropy in bits has gradients
            # that do not vanish: it is blended in during the warm-up, and with weight
            # `bce_weight` after it.
            p_clamped = pi.clamp(1e-6, 1 - 1e-6)
            bce = -(x * torch.log2(p_clamped) + (1 - x) * torch.log2(1 - p_clamped)).mean()
            dist = (1.0 - bce_weight) * dist + bce_weight * bce
        perc = (pi.mean(0) - x.mean(0)).abs().mean()
        joint = torch.stack([((1 - s) * (1 - pi)).mean(0), ((1 - s) * pi).mean(0),
                             (s * (1 - pi)).mean(0), (s * pi).mean(0)])  # fmt: skip
        marg = torch.stack([joint[0] + joint[2], joint[1] + joint[3]])
        clf = (_entropy_bits(joint).sum(0) - _entropy_bits(marg).sum(0)).mean()
    else:
        dist = ((out - x) ** 2).mean()
        perc = ((out.sort(0).values - x.sort(0).values) ** 2).mean()
        oc, sc = out - out.mean(0), s - s.mean(0)
        var_o = (oc**2).mean(0)
        resid = (sc**2).mean(0) - (oc * sc).mean(0) ** 2 / (var_o + 1e-12)
        clf = (0.5 * torch.log2(2 * math.pi * math.e * resid.clamp_min(1e-12))).mean()
    loss = rate_weight * rate + config.lambda_d * dist + config.lambda_p * perc
    loss = loss + config.lambda_c * clf
    if config.binary and config.lambda_d == 0 and rate_weight < 1.0:
        # RPC runs have no distortion term, and the plug-in H(S|Xhat) has zero gradient at
        # a decoder that ignores the latents (a stationary point: every binary RPC run
        # collapsed there). During the warm-up the decoder first learns to reconstruct X.
        p_clamped = pi.clamp(1e-6, 1 - 1e-6)
        bce = -(x * torch.log2(p_clamped) + (1 - x) * torch.log2(1 - p_clamped)).mean()
        loss = loss + (1.0 - rate_weight) * bce
    return {"loss": loss, "rate": rate, "D": dist, "P": perc, "C": clf}


# --------------------------------------------------------------------------- sampling
def _sample(config: SyntheticConfig, source: Any, blocks: int,
            rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    x, s = source.sample((blocks, config.block_length), rng=rng)
    return (torch.from_numpy(np.asarray(x, dtype=np.float32)),
            torch.from_numpy(np.asarray(s, dtype=np.float32)))  # fmt: skip


def _dither(config: SyntheticConfig, blocks: int, rng: np.random.Generator) -> torch.Tensor:
    step = 2.0 / (config.levels - 1)
    u = (rng.random((blocks, config.latent_dim)) - 0.5) * step
    return torch.from_numpy(u.astype(np.float32))


def _held_out(config: SyntheticConfig, source: Any, split: str) -> tuple[torch.Tensor, ...]:
    """(x, s, u) of the validation or test set: fixed by ``test_seed``, shared by all runs."""
    blocks = config.val_blocks if split == "val" else config.test_blocks
    data_id, dither_id = (
        (_SPLIT_VAL, _SPLIT_VAL_DITHER) if split == "val" else (_SPLIT_TEST, _SPLIT_TEST_DITHER)
    )
    x, s = _sample(config, source, blocks, numpy_rng(_TAG_TEST, config.test_seed, data_id))
    u = _dither(config, blocks, numpy_rng(_TAG_TEST, config.test_seed, dither_id))
    return x, s, u


# ------------------------------------------------------------------------- measurement
def w2sq_to_gaussian(samples: NDArray[np.float64], var: float) -> NDArray[np.float64]:
    r"""Exact :math:`W_2^2(N(0, \sigma^2), \hat\mu)` for the empirical law of each column.

    With sorted atoms :math:`x_{(1)} \le \dots \le x_{(m)}` (weights 1/m), the optimal
    coupling is monotone; with :math:`z_k = \Phi^{-1}(k/m)` and
    :math:`\int z^2 \phi = \Phi(z) - z\phi(z)`, :math:`\int z \phi = -\phi(z)`:

    .. math:: W_2^2 = \sigma^2 - 2\sigma \sum_k x_{(k)} (\phi(z_{k-1}) - \phi(z_k))
              + \frac1m \sum_k x_{(k)}^2.

    Parameters
    ----------
    samples : numpy.ndarray, shape (m,) or (m, n)
        Samples (one empirical law per column).
    var : float
        :math:`\sigma^2 > 0` of the Gaussian.

    Examples
    --------
    >>> float(w2sq_to_gaussian(np.array([0.5]), 1.0))  # E (Z - 0.5)^2
    1.25
    """
    x = np.sort(np.asarray(samples, dtype=np.float64), axis=0)
    m = x.shape[0]
    sigma = math.sqrt(var)
    z = stats.norm.ppf(np.arange(m + 1) / m)
    phi = stats.norm.pdf(z)  # 0 at both infinite ends
    weights = (phi[:-1] - phi[1:]).reshape((m,) + (1,) * (x.ndim - 1))
    value = var - 2.0 * sigma * (weights * x).sum(0) + (x**2).mean(0)
    out: NDArray[np.float64] = np.maximum(value, 0.0)
    return out


def _mean_ci(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-column mean and standard error."""
    m = values.shape[0]
    return values.mean(0), values.std(0, ddof=1) / math.sqrt(m)


@torch.no_grad()
def _forward_all(codec: SyntheticCodec, x: torch.Tensor,
                 u: torch.Tensor) -> dict[str, Any]:  # fmt: skip
    codec.eval()
    parts: dict[str, list[Any]] = {"out": [], "symbols": [], "y_hat": []}
    for i in range(0, len(x), _EVAL_BATCH):
        y = codec.encode(x[i : i + _EVAL_BATCH])
        q = codec.quantizer(y, u[i : i + _EVAL_BATCH])
        parts["out"].append(codec.decode(q["z_hat"]).double().numpy())
        parts["symbols"].append(q["symbols"].numpy())
        parts["y_hat"].append(q["z_hat"])
    codec.train()
    return {"out": np.concatenate(parts["out"]), "symbols": np.concatenate(parts["symbols"]),
            "y_hat": torch.cat(parts["y_hat"])}  # fmt: skip


def _all_probabilities(codec: SyntheticCodec, u: torch.Tensor,
                       y_hat: torch.Tensor) -> NDArray[np.float64]:  # fmt: skip
    chunk = 4096
    return np.concatenate([symbol_probabilities(codec, u[i : i + chunk], y_hat[i : i + chunk])
                           for i in range(0, len(u), chunk)])  # fmt: skip


def _code_lengths(codec: SyntheticCodec, symbols: NDArray[np.int64], u: torch.Tensor,
                  y_hat: torch.Tensor) -> NDArray[np.float64]:  # fmt: skip
    """``sum_j -log2 p(k_j | u_j, y_hat_{<j})`` per block (float64)."""
    out = np.empty(len(symbols))
    chunk = 4096
    for i in range(0, len(symbols), chunk):
        probs = symbol_probabilities(codec, u[i : i + chunk], y_hat[i : i + chunk])
        k = symbols[i : i + chunk]
        p = np.take_along_axis(probs, k[..., None], -1)[..., 0]
        out[i : i + chunk] = -np.log2(p).sum(-1)
    return out


def _per_letter_bound(config: SyntheticConfig, source: Any, family: str, d: NDArray[Any],
                      p: NDArray[Any], c: NDArray[Any]) -> NDArray[np.float64]:  # fmt: skip
    kw = {} if config.binary else {"perception": "w2"}
    if family == "rdc":
        return np.asarray(source.rdc(d, c), dtype=np.float64)
    if family == "rpc":
        return np.asarray(source.rpc(p, c, **kw), dtype=np.float64)
    return np.asarray(source.rdpc(d, p, c, **kw), dtype=np.float64)


def evaluate_synthetic(
    codec: SyntheticCodec,
    config: SyntheticConfig,
    *,
    split: str,
    step: int,
    code: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure the codec on the held-out `split` (``"val"`` or ``"test"``).

    Returns
    -------
    row : dict
        One metrics row (:data:`~rdpc_neural.kinds.synthetic_results.SYNTHETIC_COLUMNS`).
    per_letter : dict
        Per-position arrays (lists) of D, P, C, their standard errors and the bounds.
    """
    source = config.theory_source()
    n = config.block_length
    x, s, u = _held_out(config, source, split)
    res = _forward_all(codec, x, u)
    out, symbols = res["out"], res["symbols"]
    xn, sn = x.double().numpy(), s.double().numpy()
    lengths = _code_lengths(codec, symbols, u, res["y_hat"])
    rate = float(lengths.mean()) / n
    rate_se = float(lengths.std(ddof=1)) / math.sqrt(len(lengths)) / n

    # The label predictor is fit on training samples (the training stream), never held-out.
    fit_rng = numpy_rng(_TAG_TRAIN, config.seed, _STREAM_FIT)
    x_fit, s_fit = _sample(config, source, config.fit_blocks, fit_rng)
    u_fit = _dither(config, config.fit_blocks, fit_rng)
    out_fit = _forward_all(codec, x_fit, u_fit)["out"]
    sf = s_fit.double().numpy()

    binary = config.binary
    # Upper ends of the 3n per-letter constraints (one-sided, Bonferroni) for the bound.
    z_bonf = float(stats.norm.ppf(1 - _ALPHA / (3 * n)))
    if binary:
        d_samples = out * (1 - xn) + (1 - out) * xn
        d_mean, d_se = _mean_ci(d_samples)
        q_mean, q_se = _mean_ci(out)
        p_mean = np.abs(q_mean - config.source.params["p"])
        p_se, p_hi = q_se, p_mean + z_bonf * q_se
        p_ci = _Z95 * q_se
        # Soft 2x2 table of (S_i, Xhat_i) on the fit set, add-1/2 smoothing.
        counts = np.stack([((1 - sf) * (1 - out_fit)).sum(0), ((1 - sf) * out_fit).sum(0),
                           (sf * (1 - out_fit)).sum(0), (sf * out_fit).sum(0)]) + 0.5  # fmt: skip
        q_s1_given_0 = counts[2] / (counts[0] + counts[2])
        q_s1_given_1 = counts[3] / (counts[1] + counts[3])

        def nll(q1: NDArray[Any], sv: NDArray[Any]) -> NDArray[Any]:
            out: NDArray[Any] = -(sv * np.log2(q1) + (1 - sv) * np.log2(1 - q1))
            return out

        c_samples = out * nll(q_s1_given_1, sn) + (1 - out) * nll(q_s1_given_0, sn)
    else:
        d_samples = (out - xn) ** 2
        d_mean, d_se = _mean_ci(d_samples)
        chunks = np.stack([w2sq_to_gaussian(c, config.source.params["var_x"])
                           for c in np.array_split(out, _W2_CHUNKS, axis=0)])  # fmt: skip
        p_mean, p_se = _mean_ci(chunks)
        dof = _W2_CHUNKS - 1
        p_hi = p_mean + float(stats.t.ppf(1 - _ALPHA / (3 * n), dof)) * p_se
        p_ci = float(stats.t.ppf(1 - _ALPHA / 2, dof)) * p_se
        # Linear-Gaussian predictor S_i ~ N(a Xhat_i + b, sigma^2) by least squares.
        oc = out_fit - out_fit.mean(0)
        var_o = (oc**2).mean(0)
        a = np.where(var_o > 0, (oc * (sf - sf.mean(0))).mean(0) / np.maximum(var_o, 1e-300), 0.0)
        b = sf.mean(0) - a * out_fit.mean(0)
        sigma2 = np.maximum(((sf - a * out_fit - b) ** 2).mean(0), 1e-300)
        resid = sn - a * out - b
        c_samples = 0.5 * np.log2(2 * math.pi * sigma2) + resid**2 / (2 * sigma2 * _LN2)
    c_mean, c_se = _mean_ci(c_samples)
    d_hi = d_mean + z_bonf * d_se
    c_hi = c_mean + z_bonf * c_se
    # H(S_i|Xhat_i) >= H(S|X) for every channel: an estimate below it (a lossless position,
    # up to sampling noise) is moved up to it for the bound at the measured values.
    c_floor = np.maximum(c_mean, source.label_noise_entropy())
    family = config.family
    bound_i = _per_letter_bound(config, source, family, d_mean, p_mean, c_floor)
    bound_lo_i = _per_letter_bound(config, source, family, d_hi, p_hi, c_hi)
    rdpc_i = _per_letter_bound(config, source, "rdpc", d_mean, p_mean, c_floor)
    bound, bound_lo = float(bound_i.mean()), float(bound_lo_i.mean())
    rate_ci = _Z95 * rate_se
    # CIs of the per-block means (positions of one block are not independent).
    d_ci = _Z95 * float(d_samples.mean(1).std(ddof=1)) / math.sqrt(len(d_samples))
    c_ci = _Z95 * float(c_samples.mean(1).std(ddof=1)) / math.sqrt(len(c_samples))
    row: dict[str, Any] = {
        "step": step,
        "split": split,
        "n_blocks": len(xn),
        "rate_bits": rate,
        "rate_ci_bits": rate_ci,
        "nominal_bits": config.nominal_bits,
        "D_hamming" if binary else "D_mse": float(d_mean.mean()),
        "D_ci": d_ci,
        "P_tv" if binary else "P_w2sq": float(p_mean.mean()),
        "P_ci": float(np.max(p_ci)),
        "C_bits": float(c_mean.mean()),
        "C_ci_bits": c_ci,
        "bound_bits": bound,
        "bound_lo_bits": bound_lo,
        "bound_rdpc_bits": float(rdpc_i.mean()),
        "gap_bits": rate - bound if math.isfinite(bound) else None,
        "above_bound": int(rate - rate_ci >= bound_lo),
    }
    if code:
        m = config.coded_blocks
        probs = _all_probabilities(codec, u[:m], res["y_hat"][:m])
        bits, _ = code_with_constriction(probs, symbols[:m])
        row["coded_bits"] = bits / (m * n)
        row["coded_estimate_bits"] = float(lengths[:m].sum()) / (m * n)
    per_letter = {
        "D": d_mean.tolist(), "D_se": d_se.tolist(), "D_hi": d_hi.tolist(),
        "P": p_mean.tolist(), "P_se": np.broadcast_to(p_se, p_mean.shape).tolist(),
        "P_hi": p_hi.tolist(), "C": c_mean.tolist(), "C_se": c_se.tolist(),
        "C_hi": c_hi.tolist(), "bound": bound_i.tolist(), "bound_lo": bound_lo_i.tolist(),
        "bound_rdpc": rdpc_i.tolist(), "z_bonferroni": z_bonf,
    }  # fmt: skip
    return row, per_letter


# --------------------------------------------------------------------------- experiment
class SyntheticExperiment:
    """One synthetic-source codec run (the ``synthetic`` kind's
    :class:`~rdpc_neural.core.registry.Experiment`). Every step draws fresh blocks from the
    source with a generator seeded by ``(seed, step)``."""

    def __init__(self, config: SyntheticConfig, context: RunContext) -> None:
        self.config = config
        self.source = config.theory_source()
        self.codec = build_synthetic_codec(config)
        nets = [p for name, p in self.codec.named_parameters() if not name.startswith("density.")]
        self.opt = torch.optim.Adam([{"params": nets, "lr": config.lr},
                                     {"params": list(self.codec.density.parameters()),
                                      "lr": config.density_lr}])  # fmt: skip
        self.base_lrs = [config.lr, config.density_lr]
        self.decay_at = round(config.lr_decay_at * config.steps)
        self.warmup = round(config.rate_warmup * config.steps)
        self.codec.train()

    @property
    def steps(self) -> int:
        return self.config.steps

    def is_eval_step(self, step: int) -> bool:
        return step % self.config.eval_every == 0 and step < self.config.steps

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        factor = config.lr_decay_factor if step >= self.decay_at else 1.0
        for group, lr in zip(self.opt.param_groups, self.base_lrs, strict=True):
            group["lr"] = lr * factor
        rng = numpy_rng(_TAG_TRAIN, config.seed, _STREAM_STEP, step)
        x, s = _sample(config, self.source, config.batch_size, rng)
        u = _dither(config, config.batch_size, rng)
        rate_weight = min(1.0, (step + 1) / self.warmup) if self.warmup > 0 else 1.0
        terms = _loss_terms(config, x, s, self.codec(x, u), rate_weight)
        self.opt.zero_grad(set_to_none=True)
        terms["loss"].backward()  # type: ignore[no-untyped-call]
        self.opt.step()
        return {k: float(v.item()) for k, v in terms.items()}

    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        if not final:
            return evaluate_synthetic(self.codec, self.config, split="val", step=step)[0], {}
        row, per_letter = evaluate_synthetic(self.codec, self.config, split="test", step=step,
                                             code=True)  # fmt: skip
        c = self.config
        facts = {"family": c.family, "source": c.source.name, "block_length": c.block_length,
                 "per_letter": per_letter}  # fmt: skip
        return row, facts

    def state_dict(self, *, final: bool) -> dict[str, Any]:
        state: dict[str, Any] = {"codec": self.codec.state_dict()}
        if not final:
            state["opt"] = self.opt.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.codec.load_state_dict(state["codec"])
        if "opt" in state:
            self.opt.load_state_dict(state["opt"])

    def describe(self) -> str:
        c = self.config
        return (f"{c.source.name[0]} n={c.block_length} λ=({c.lambda_d:g},{c.lambda_p:g},"
                f"{c.lambda_c:g})")  # fmt: skip


def build(config: SyntheticConfig, context: RunContext) -> SyntheticExperiment:
    """The ``synthetic`` kind's builder (registered in :mod:`rdpc_neural.kinds`)."""
    return SyntheticExperiment(config, context)


def train_synthetic_run(
    config: SyntheticConfig,
    runs_root: str | os.PathLike[str],
    preset: str = "custom",
    *,
    max_steps_this_call: int | None = None,
    progress: bool = False,
    position: int = 0,
) -> RunResult:
    """Train (or resume, or just read) the run of `config` in ``<runs_root>/<preset>/<hash>``
    (:func:`~rdpc_neural.core.lifecycle.run_experiment`)."""
    from pathlib import Path

    context = RunContext(Path(runs_root).resolve(), preset, progress=progress, position=position)
    return run_experiment(config, runs_root, preset, context=context,
                          max_steps_this_call=max_steps_this_call)  # fmt: skip
