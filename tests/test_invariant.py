"""The ``invariant`` kind: banana source, VC/VIC/BINCE training, real coding, figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rdpc_neural.banana import (
    banana_log_density,
    maximal_invariant,
    random_transform,
    representative,
    sample_banana,
)
from rdpc_neural.kinds.invariant_config import (
    INVARIANT_PRESETS,
    InvariantConfig,
    beta_from_reference_code,
    get_invariant_preset,
)

TINY = {"steps": 30, "eval_every": 15, "batch_size": 128, "hidden": 16, "val_items": 256,
        "test_items": 2048, "fit_items": 1024, "chunk_items": 512}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"compressor": "vae"}, "`compressor` must be one of"),
        ({"beta": 0.0}, "`beta` must be > 0"),
        ({"invariance": "scale"}, "`invariance` must be one of"),
        ({"latent_dim": 0}, "`latent_dim` must be >= 1"),
    ],
)
def test_config_validation_names_parameter(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        InvariantConfig(**changes)


def test_presets_are_valid_and_distinct() -> None:
    for name in INVARIANT_PRESETS:
        configs = get_invariant_preset(name).configs()
        assert len(configs) == len(set(configs))


def test_beta_conversion_matches_the_loss_rescaling() -> None:
    # The reference code's D + b R_nats, divided by b ln 2, is R_bits + D / (b ln 2).
    b = 0.07
    r_bits, d = 3.0, 0.4
    ref = d + b * (r_bits * math.log(2))
    assert ref / (b * math.log(2)) == pytest.approx(r_bits + beta_from_reference_code(b) * d)


def test_banana_density_matches_its_samples() -> None:
    # The exact density integrates to 1 and has the samples' mean and covariance
    # (numerical quadrature on a grid vs Monte Carlo).
    xs = np.linspace(-20, 18, 761)
    xx, yy = np.meshgrid(xs, xs)
    pts = np.stack([xx, yy], -1)
    w = np.exp(banana_log_density(pts)) * (xs[1] - xs[0]) ** 2
    assert w.sum() == pytest.approx(1.0, abs=1e-3)
    mean = (w[..., None] * pts).sum((0, 1))
    x = sample_banana(200_000, np.random.default_rng(1))
    np.testing.assert_allclose(x.mean(0), mean, atol=0.03)
    cov = np.einsum("ij,ijk,ijl->kl", w, pts - mean, pts - mean)
    np.testing.assert_allclose(np.cov(x.T), cov, rtol=0.02, atol=0.02)


@pytest.mark.parametrize("invariance", ["rotation", "x-translation", "y-translation"])
def test_representatives_are_invariant_and_keep_the_maximal_invariant(invariance) -> None:
    rng = np.random.default_rng(2)
    x = sample_banana(500, rng)
    moved = random_transform(x, invariance, rng)
    np.testing.assert_allclose(representative(moved, invariance), representative(x, invariance),
                               atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(maximal_invariant(moved, invariance),
                               maximal_invariant(x, invariance), atol=1e-9)  # fmt: skip
    # Distances between representatives are distances between maximal invariants.
    rep = representative(x, invariance)
    m = maximal_invariant(x, invariance)
    np.testing.assert_allclose(np.linalg.norm(rep[:-1] - rep[1:], axis=1),
                               np.abs(m[:-1] - m[1:]), atol=1e-9)  # fmt: skip


def test_cell_mean_mse_against_a_loop() -> None:
    from rdpc_neural.kinds.invariant import cell_mean_mse

    rng = np.random.default_rng(3)
    fit_codes = rng.integers(0, 3, (200, 2))
    fit_values = rng.normal(size=200)
    codes = rng.integers(0, 4, (50, 2))  # some codes never seen in the fit
    values = rng.normal(size=50)
    expected = []
    for code, v in zip(codes, values, strict=True):
        same = np.all(fit_codes == code, axis=1)
        if not same.any():  # the nearest code seen in the fit
            dist = ((fit_codes - code) ** 2).sum(1)
            same = np.all(fit_codes == fit_codes[dist.argmin()], axis=1)
        pred = fit_values[same].mean()
        expected.append((pred - v) ** 2)
    assert cell_mean_mse(fit_codes, fit_values, codes, values) == pytest.approx(np.mean(expected))


def test_infonce_bits_against_explicit_softmax() -> None:
    from rdpc_neural.kinds.invariant import infonce_bits

    g = torch.Generator().manual_seed(0)
    h1 = torch.nn.functional.normalize(torch.randn(5, 3, generator=g), dim=1)
    h2 = torch.nn.functional.normalize(torch.randn(5, 3, generator=g), dim=1)
    scale = torch.tensor(4.0)
    h = torch.cat([h1, h2]).double().numpy()
    total = 0.0
    for i in range(10):
        others = [j for j in range(10) if j != i]
        logits = 4.0 * np.array([h[i] @ h[j] for j in others])
        pos = others.index((i + 5) % 10)
        total += -(logits[pos] - np.log(np.exp(logits).sum())) / math.log(2)
    assert float(infonce_bits(h1, h2, scale)) == pytest.approx(total / 10, rel=1e-5)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    from rdpc_neural.kinds.invariant import train_invariant_run

    root = tmp_path_factory.mktemp("invariant_runs")
    out = {}
    for c in ("vc", "vic", "bince"):
        out[c] = train_invariant_run(InvariantConfig(compressor=c, **TINY), root, "tiny")
    return out


def test_tiny_runs_train_and_code_for_real(tiny_runs) -> None:
    for compressor, res in tiny_runs.items():
        assert res.finished, compressor
        final = res.final
        assert final["step"] == TINY["steps"]
        assert np.isfinite(final["distortion"])
        assert final["coded_bits"] > 0 and final["cells"] >= 1
        # Real stream vs the coding model's estimate: chunk index and ANS tails only.
        assert final["coded_over_estimated"] == pytest.approx(1.0, abs=0.15)
        assert (final["recon_invariant_mse"] is None) == (compressor == "bince")


def test_coded_bits_within_one_percent_of_the_estimate(tiny_runs) -> None:
    # 20,000 items in one chunk: the decoded stream's size against sum of -log2 p.
    from rdpc_neural.kinds.invariant import load_compressor

    _, model = load_compressor(tiny_runs["vc"].path)
    x = torch.from_numpy(sample_banana(20_000, np.random.default_rng(4)).astype(np.float32))
    with torch.no_grad():
        y = model.encode(x)
    stream = model.prior.compress(y, chunk_items=20_000, check=True)
    estimate = float(model.prior.estimate_bits(y).sum())
    assert stream.payload_bits == pytest.approx(estimate, rel=0.01)
    np.testing.assert_array_equal(model.prior.decompress_symbols(stream), model.prior.symbols(y))


def test_resumed_run_equals_uninterrupted_run(tmp_path) -> None:
    from rdpc_neural.kinds.invariant import train_invariant_run

    config = InvariantConfig(compressor="vic", **TINY)
    whole = train_invariant_run(config, tmp_path / "a", "p")
    part = train_invariant_run(config, tmp_path / "b", "p", max_steps_this_call=15)
    assert not part.finished
    resumed = train_invariant_run(config, tmp_path / "b", "p")
    assert resumed.final == whole.final


def test_quantization_map_figure_draws_cells_and_points(tiny_runs, tmp_path) -> None:
    from figures.invariant import invariant_figures

    paths = invariant_figures(tiny_runs["vc"].path.parents[1], tmp_path, grid=60,
                              formats=("png",))  # fmt: skip
    assert [p.name for p in paths] == ["banana_maps_rotation_beta8.png"]
    assert paths[0].stat().st_size > 10_000
