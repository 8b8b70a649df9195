"""Entropy models (factorized prior, Gaussian conditional, mean-scale hyperprior, the
piecewise-linear density) and the one coder wrapper.

References are independent of the code under test: numerical integration of a model's
density (scipy.integrate.quad), scipy.stats.norm interval masses, the Elias-gamma lengths
from Python's ``int.bit_length``, and bitstreams decoded by a fresh decoder that sees only
the stream and what it has already decoded.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from rdpc_neural.entropy import (
    CategoricalTables,
    ChunkDecoder,
    ChunkedStream,
    ChunkEncoder,
    FactorizedPrior,
    GaussianConditional,
    IntegerTables,
    MeanScaleHyperprior,
    PiecewiseLinearDensity,
    compress_symbols,
    decompress_symbols,
    symbol_probabilities,
)


def _perturbed_prior(channels: int, seed: int) -> FactorizedPrior:
    """A factorized prior with random (non-initial) parameters: skewed, bumpy densities."""
    torch.manual_seed(seed)
    prior = FactorizedPrior(channels, init_scale=4.0)
    with torch.no_grad():
        for p in prior.parameters():
            p.add_(0.7 * torch.randn_like(p))
    return prior


def _density(prior: FactorizedPrior, channel: int, x: float) -> float:
    """dF_c/dx by autograd, in float64 (a reference that does not use interval masses)."""
    t = torch.zeros(1, prior.channels, dtype=torch.float64)
    t[0, channel] = x
    t.requires_grad_(True)
    torch.sigmoid(prior.logits_cdf(t))[0, channel].backward()
    assert t.grad is not None
    return float(t.grad[0, channel])


# ------------------------------------------------------------------------- coder wrapper
def test_chunk_coder_round_trips_mixed_operations_and_serialized_streams() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=300)
    sym = np.array([rng.choice(5, p=p) for p in probs])
    shared = [rng.dirichlet(np.ones(k)) for k in (2, 7, 3)]
    idx = rng.integers(0, 3, size=500)
    shared_sym = np.array([rng.integers(0, len(shared[t])) for t in idx])
    enc = ChunkEncoder()
    enc.categorical(sym, probs)
    tables = CategoricalTables(shared)
    enc.shared(shared_sym, tables, idx)
    enc.uniform(np.array([0, 5, 1023]), np.array([2, 8, 1024]))
    stream = ChunkedStream((enc.finish(),), (1,))
    back = ChunkedStream.from_bytes(stream.to_bytes())
    dec = ChunkDecoder(back.chunks[0])
    assert np.array_equal(dec.categorical(probs), sym)
    assert np.array_equal(dec.shared(tables, idx), shared_sym)
    assert dec.uniform(np.array([2, 8, 1024])).tolist() == [0, 5, 1023]
    dec.finish()
    with pytest.raises(ValueError, match="`data` must be"):
        ChunkedStream.from_bytes(stream.to_bytes()[:-4])
    with pytest.raises(ValueError, match=r"`symbols` must be in \[0, 4\]"):
        ChunkEncoder().categorical(np.array([5]), probs[:1])


# -------------------------------------------------------------------- factorized prior
def test_factorized_prior_tables_match_integrated_density_and_sum_to_one() -> None:
    """Every table entry is the integral of the learned density over the symbol's interval
    (quad), the escape mass the integral over both tails, and together they make one."""
    prior = _perturbed_prior(2, seed=1)
    tables = prior.update()
    double = copy.deepcopy(prior).double()
    for c in range(2):
        lo, width = int(tables.lower[c]), int(tables.widths[c])
        hi = lo + width - 1

        def f(x: float, c: int = c) -> float:
            return _density(double, c, x)

        pmf = tables.pmfs[c]
        for k in np.linspace(lo, hi, 4).round().astype(int):
            ref, _ = integrate.quad(f, k - 0.5, k + 0.5, epsabs=1e-12)
            # rel 3e-5: the escape floor 2^-16 rescales the support's masses by 1 - 2^-16.
            assert pmf[k - lo] == pytest.approx(ref, rel=3e-5, abs=1e-10)
        left, _ = integrate.quad(f, -np.inf, lo - 0.5, epsabs=1e-13)
        right, _ = integrate.quad(f, hi + 0.5, np.inf, epsabs=1e-13)
        inside, _ = integrate.quad(f, lo - 0.5, hi + 0.5, limit=500, epsabs=1e-12)
        assert left + right <= prior.tail_mass  # the stated tail mass
        assert left + inside + right == pytest.approx(1.0, abs=1e-7)
        assert pmf.sum() + tables.escape[c] == pytest.approx(1.0, abs=1e-12)
        assert tables.escape[c] == pytest.approx(max(left + right, 2.0**-16), rel=1e-3)
        assert pmf.sum() == pytest.approx(inside, abs=2e-5)


def test_factorized_prior_code_length_and_causal_decode_from_bytes() -> None:
    """10,000 symbols: real stream within 0.5% of the coding model's -log2 likelihoods (and
    those within 0.1% of the evaluation-mode bits); a fresh model, loaded from the state
    dict and given only the bytes, decodes the symbols (also chunk by chunk)."""
    prior = _perturbed_prior(10, seed=2).eval()
    prior.update()
    y = torch.randn(1000, 10) * torch.linspace(0.5, 6.0, 10)
    stream = prior.compress(y, chunk_items=250)
    estimate = float(prior.estimate_bits(y).sum())
    with torch.no_grad():
        eval_bits = float(prior(y)["bits"].double().sum())
    assert estimate > 20_000
    assert estimate <= stream.payload_bits <= 1.005 * estimate
    assert estimate == pytest.approx(eval_bits, rel=1e-3)

    decoder = FactorizedPrior(10, init_scale=4.0)
    decoder.load_state_dict(copy.deepcopy(prior.state_dict()))
    data = stream.to_bytes()
    decoded = decoder.decompress_symbols(ChunkedStream.from_bytes(data))
    assert np.array_equal(decoded, np.round(y.numpy()).astype(np.int64))
    third = decoder.decompress_symbols(ChunkedStream.from_bytes(data).select([2]))
    assert np.array_equal(third, decoded[500:750])


def test_factorized_prior_escapes_round_trip_with_their_stated_bits() -> None:
    prior = _perturbed_prior(2, seed=3).eval()
    tables = prior.update()
    lo, hi = tables.lower, tables.lower + tables.widths - 1
    values = np.array(
        [[lo[0] - 1, hi[1] + 1], [hi[0] + 1, lo[1] - 2], [-(10**6), 70_000], [2**30, -(2**30)],
         [lo[0], hi[1]], [0, 0]]
    )  # fmt: skip
    y = torch.from_numpy(values.astype(np.float64)).float()
    stream = prior.compress(y, check=True)
    assert np.array_equal(prior.decompress_symbols(stream), values)
    # Escape probability: escape mass x 2^-(6 + g), g = floor(log2(m + 1)) for the excess m.
    lik = prior.coding_likelihoods(values)
    for i, j in [(0, 0), (1, 1), (2, 0), (3, 1)]:
        m = (lo[j] - 1 - values[i, j]) if values[i, j] < lo[j] else (values[i, j] - hi[j] - 1)
        g = (int(m) + 1).bit_length() - 1
        assert lik[i, j] == pytest.approx(tables.escape[j] * 2.0 ** -(6 + g), rel=1e-12)
    stated = float(-np.log2(lik).sum())
    assert stated <= stream.payload_bits <= stated + 64


def test_escape_payload_probabilities_sum_to_the_escape_mass() -> None:
    """Brute force over every excess up to 2^16 on both sides: k / 64 per side for the k
    lengths covered, the whole escape mass in the limit (32 lengths per side)."""
    t = IntegerTables([0], [np.array([0.75])], [0.25])
    m = np.arange(0, 2**16 - 1)
    lik = t.probabilities(np.concatenate([-1 - m, 1 + m]), np.zeros(2 * m.size, dtype=int))
    assert lik.sum() == pytest.approx(0.25 * 2 * 16 / 64, rel=1e-12)


def test_factorized_prior_training_likelihood_has_gradients_and_stale_tables_refuse() -> None:
    prior = FactorizedPrior(4).train()
    y = (torch.randn(64, 4) * 3).requires_grad_(True)
    out = prior(y)
    assert set(out) == {"y_hat", "likelihoods", "bits"}
    assert not torch.equal(out["y_hat"], torch.round(y))  # noise, not rounding
    out["bits"].mean().backward()
    assert y.grad is not None and torch.all(torch.isfinite(y.grad)) and y.grad.abs().sum() > 0
    for p in prior.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    assert sum(float(p.grad.abs().sum()) for p in prior.parameters() if p.grad is not None) > 0
    prior.update()
    with torch.no_grad():
        prior.biases[0].add_(0.1)
    with pytest.raises(RuntimeError, match="stale"):
        prior.compress(torch.zeros(3, 4))


# ---------------------------------------------------------------- Gaussian conditional
def test_gaussian_tables_are_normal_interval_masses_and_sum_to_one() -> None:
    g = GaussianConditional(scale_levels=16, tail_mass=1e-6)
    tables = g.update()
    for t, s in enumerate(g.scale_table):
        lo, width = int(tables.lower[t]), int(tables.widths[t])
        k = np.arange(lo, lo + width)
        ref = stats.norm.cdf(k + 0.5, scale=s) - stats.norm.cdf(k - 0.5, scale=s)
        np.testing.assert_allclose(tables.pmfs[t], ref, rtol=2e-5, atol=1e-15)
        tails = 2 * stats.norm.sf(lo + width - 0.5, scale=s)
        assert tails <= 1e-6  # the stated tail mass
        assert tables.escape[t] == pytest.approx(max(tails, 2.0**-16), rel=1e-6)
        assert tables.pmfs[t].sum() + tables.escape[t] == pytest.approx(1.0, abs=1e-12)


def test_gaussian_training_likelihood_matches_scipy_far_in_the_tails() -> None:
    g = GaussianConditional()
    y = torch.tensor([0.3, 2.0, -7.5, 40.0, 0.0], dtype=torch.float64)
    mean = torch.tensor([0.1, -1.0, 0.2, 1.0, 0.0], dtype=torch.float64)
    scale = torch.tensor([1.0, 0.5, 2.0, 3.0, 0.01], dtype=torch.float64)  # last: floored
    lik = g.likelihood(y, mean, scale).numpy()
    s = np.maximum(scale.numpy(), 0.11)
    d = (y - mean).numpy()
    # Reference: upper-tail form for d > 0 (survival function keeps precision there).
    ref = np.where(d > 0, stats.norm.sf((d - 0.5) / s) - stats.norm.sf((d + 0.5) / s),
                   stats.norm.cdf((d + 0.5) / s) - stats.norm.cdf((d - 0.5) / s))  # fmt: skip
    np.testing.assert_allclose(lik, ref, rtol=1e-9)
    assert lik[3] < 1e-30 and lik[3] > 0  # 13 sigma away, still a relative-precision value


# ------------------------------------------------------------------------- hyperprior
def _trained_hyperprior(channels: int, steps: int, seed: int) -> tuple[MeanScaleHyperprior, ...]:
    torch.manual_seed(seed)
    model = MeanScaleHyperprior(channels, hyper_channels=4, hidden=16)
    spread = torch.linspace(0.3, 4.0, channels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        z = torch.randn(256, 1)
        y = spread * torch.randn(256, channels) + 2.0 * z  # a shared factor: z helps
        loss = model(y)["bits"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (model.eval(),)


def test_hyperprior_code_length_causal_decode_and_gradients() -> None:
    (model,) = _trained_hyperprior(16, steps=40, seed=4)
    model.update()
    gen = torch.Generator().manual_seed(5)
    spread = torch.linspace(0.3, 4.0, 16)
    y = spread * torch.randn(625, 16, generator=gen) + 2.0 * torch.randn(625, 1, generator=gen)
    # 10,000 y symbols (625 items x 16 channels) plus the side information.
    stream = model.compress(y, chunk_items=625)
    estimate = float(model.estimate_bits(y, chunk_items=625).sum())
    assert estimate > 20_000
    assert estimate <= stream.payload_bits <= 1.005 * estimate

    # A fresh decoder with the weights (and tables) only, fed the bytes only: it decodes z
    # first, computes (mu, sigma) from it, then y.
    decoder = MeanScaleHyperprior(16, hyper_channels=4, hidden=16)
    decoder.load_state_dict(copy.deepcopy(model.state_dict()))
    decoder.eval()
    y_hat = decoder.decompress(ChunkedStream.from_bytes(stream.to_bytes()))
    with torch.no_grad():
        ref = model(y)["y_hat"]
    assert torch.equal(y_hat, ref)
    assert torch.all((y_hat - y).abs() <= 0.5 + 1e-5)

    model.train()
    y_train = y[:64].clone().requires_grad_(True)
    out = model(y_train)
    assert set(out) == {"y_hat", "z_hat", "y_likelihoods", "z_likelihoods", "bits"}
    out["bits"].mean().backward()
    assert y_train.grad is not None and y_train.grad.abs().sum() > 0
    for part in (model.hyper_encoder, model.hyper_decoder, model.z_prior):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0


def test_hyperprior_random_access_and_escapes() -> None:
    model = MeanScaleHyperprior(8).eval()
    model.update()
    y = torch.randn(300, 8) * 2
    y[7, 3] = 5e4  # far outside every table: escape
    stream = model.compress(y, chunk_items=100, check=True)
    full = model.decompress_symbols(stream)
    middle = model.decompress_symbols(stream.select([1]))
    assert np.array_equal(middle, full[100:200])
    with torch.no_grad():
        assert torch.allclose(model.decompress(stream)[7, 3], y[7, 3], atol=0.5)


# --------------------------------------------------------- piecewise-linear density
def _pl_codec(levels: int) -> SimpleNamespace:
    torch.manual_seed(6)
    dens = PiecewiseLinearDensity(dims=4, bins=12, context_hidden=16)
    with torch.no_grad():
        dens.logits.normal_()
        assert dens.context is not None
        for p in dens.context.parameters():
            p.normal_(std=0.5)
    quantizer = SimpleNamespace(levels=levels, step=2.0 / (levels - 1))
    return SimpleNamespace(density=dens, quantizer=quantizer)


def test_piecewise_symbol_probabilities_match_integrated_density() -> None:
    """p(k | u) = (1 - eps) * integral of the piecewise-constant density over the dithered
    cell clipped to [-1, 1] + eps / L (quad on the bin masses, no CDF code)."""
    levels = 5
    codec = _pl_codec(levels)
    step = 2.0 / (levels - 1)
    u = torch.tensor([[0.1, -0.2, 0.05, 0.2]]) * step
    y_hat = torch.tensor([[0.3, -0.6, 0.9, 0.0]])
    probs = symbol_probabilities(codec, u, y_hat)
    double = copy.deepcopy(codec.density).double()
    masses = double.masses(y_hat.double()).detach().numpy()[0]  # (d, bins)
    bins = masses.shape[1]
    for j in range(4):

        def f(x: float, j: int = j) -> float:
            i = min(int((x + 1.0) * bins / 2.0), bins - 1)
            return float(masses[j, i] * bins / 2.0) if -1.0 <= x <= 1.0 else 0.0

        edges = list(np.linspace(-1, 1, bins + 1))
        for k in range(levels):
            a = -1.0 + k * step - float(u[0, j]) - step / 2
            pts = [e for e in edges if a < e < a + step]
            ref, _ = integrate.quad(f, a, a + step, points=pts or None, epsabs=1e-13)
            expected = (1 - 1e-6) * ref + 1e-6 / levels
            assert probs[0, j, k] == pytest.approx(expected, rel=1e-7)
        assert probs[0, j].sum() == pytest.approx(1.0, abs=1e-12)


def test_piecewise_density_causal_decode_and_code_length() -> None:
    """Symbols drawn from the model itself, coordinate by coordinate; the decoder rebuilds
    each coordinate's table from the symbols it has decoded (no encoder table)."""
    levels = 9
    codec = _pl_codec(levels)
    step = 2.0 / (levels - 1)
    gen = np.random.default_rng(7)
    n = 2500  # x 4 coordinates = 10,000 symbols
    u = torch.from_numpy(((gen.random((n, 4)) - 0.5) * step).astype(np.float32))
    centers = torch.linspace(-1.0, 1.0, levels)
    k = np.zeros((n, 4), dtype=np.int64)
    y_hat = torch.zeros(n, 4)
    for j in range(4):  # ancestral sampling
        p = symbol_probabilities(codec, u, y_hat)[:, j]
        k[:, j] = (gen.random((n, 1)) > np.cumsum(p, -1)).sum(-1).clip(0, levels - 1)
        y_hat[:, j] = centers[torch.from_numpy(k[:, j])] - u[:, j]
    stream = compress_symbols(codec.density, k, u, levels, chunk_items=1000)
    probs = symbol_probabilities(codec, u, y_hat)
    estimate = float(-np.log2(np.take_along_axis(probs, k[..., None], -1)).sum())
    assert estimate > 10_000
    assert estimate * 0.999 <= stream.payload_bits <= 1.005 * estimate
    decoder_density = copy.deepcopy(codec.density)
    back = ChunkedStream.from_bytes(stream.to_bytes())
    assert np.array_equal(decompress_symbols(decoder_density, back, u, levels), k)
