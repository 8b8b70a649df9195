"""Neural codecs on the theoretical sources: run directories, honest rates, bounds, CLI.

The tiny end-to-end runs (the ``synthetic-tiny`` preset: Gaussian and binary, n = 4, 300
steps) are trained once per module and shared by the tests below.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from neural_support import micro_synthetic
from scipy import stats

from rdpc.cli import main
from rdpc_neural.core.registry import config_hash
from rdpc_neural.core.rundir import read_metrics_csv
from rdpc_neural.core.schema import apply_overrides
from rdpc_neural.entropy import ChunkedStream, compress_symbols, decompress_symbols
from rdpc_neural.kinds.synthetic import (
    PiecewiseLinearDensity,
    build_synthetic_codec,
    code_with_constriction,
    symbol_probabilities,
    train_synthetic_run,
    w2sq_to_gaussian,
)
from rdpc_neural.kinds.synthetic_config import SourceSpec, SyntheticConfig, get_synthetic_preset
from rdpc_neural.kinds.synthetic_results import (
    SYNTHETIC_COLUMNS,
    SYNTHETIC_INT_COLUMNS,
    best_gaps,
    synthetic_runs_table,
)

PRESET = "synthetic-tiny"


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """The two runs of the synthetic-tiny preset, trained through the CLI."""
    root = tmp_path_factory.mktemp("runs")
    torch.set_num_threads(1)
    assert main(["synthetic", "--preset", PRESET, "--jobs", "1", "--no-progress",
                 "--runs-dir", str(root)]) == 0  # fmt: skip
    return root


def _micro(**changes: object) -> SyntheticConfig:
    return micro_synthetic(**{"steps": 40, "eval_every": 20, **changes})


# ------------------------------------------------------------------------------ configs
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": "laplace"}, "`source.name` must be one of 'binary', 'gaussian'; got 'laplace'"),
        ({"block_length": 0}, "`block_length` must be >= 1; got 0"),
        ({"levels": 1}, "`levels` must be >= 2; got 1"),
        ({"lambda_d": -1.0}, "`lambda_d` must be >= 0; got -1"),
        ({"lambda_d": 0.0, "lambda_c": 0.0}, "at least one of `lambda_d`"),
        ({"grad_mode": "identity"}, "`grad_mode` must be one of"),
        ({"coded_blocks": 10**6}, "`coded_blocks` must be <= `test_blocks`"),
        ({"rate_warmup": 2.0}, r"`rate_warmup` must be in \[0, 1\]; got 2"),
        ({"source": SourceSpec("binary", {"p": 1.5})}, "`p` must be"),
        ({"source": SourceSpec("gaussian", {"cov": 5.0})}, "`cov` must satisfy"),
        ({"steps": 1.5}, "`steps` must be an integer; got 1.5"),
    ],
)
def test_config_validation_names_parameter(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticConfig(**changes)


def test_source_parameters_are_nested_and_checked() -> None:
    with pytest.raises(ValueError, match=r"unknown `source.params` key\(s\) var_x"):
        SyntheticConfig.from_dict({"source": {"name": "binary", "params": {"var_x": 1.0}}})
    c = apply_overrides(SyntheticConfig(), ["source=binary", "p=0.2"])
    assert c.source == SourceSpec("binary", {"p": 0.2, "eps": 0.1})
    assert apply_overrides(c, ["source.params.eps=0.05"]).source.params == {"p": 0.2, "eps": 0.05}


def test_config_round_trip_hash_and_overrides() -> None:
    c = SyntheticConfig(source="binary", lambda_p=2.0)
    assert SyntheticConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert config_hash(c) != config_hash(c.replace(seed=1))
    with pytest.raises(ValueError, match="unknown SyntheticConfig key"):
        SyntheticConfig.from_dict({**c.to_dict(), "dataset": "mnist"})
    with pytest.raises(ValueError, match="unknown config key 'stepz'"):
        apply_overrides(c, ["stepz=3"])
    assert apply_overrides(c, ["lambda_d=2"]).lambda_d == 2.0
    assert (c.family, c.replace(lambda_d=0.0).family, c.replace(lambda_p=0.0).family) == (
        "rdpc", "rpc", "rdc")  # fmt: skip
    assert c.replace(block_length=4, latent_dim=4, levels=16).nominal_bits == 4.0


def test_presets_are_valid_and_distinct() -> None:
    full = get_synthetic_preset("synthetic-full").configs()
    assert {c.block_length for c in full} == {1, 4, 16}
    assert {c.source.name for c in full} == {"binary", "gaussian"}
    assert {c.family for c in full} == {"rdc", "rpc", "rdpc"}
    assert len({config_hash(c) for c in full}) == len(full)
    with pytest.raises(ValueError, match="`preset` must be one of"):
        get_synthetic_preset("nope")


# ------------------------------------------------------------------------ measurements
def test_w2sq_to_gaussian_against_quantile_quadrature() -> None:
    rng = np.random.default_rng(0)
    atoms = rng.normal(0.3, 1.4, size=(50, 2))
    # Independent reference: the monotone coupling integrated on a fine quantile grid.
    m = 2_000_000
    t = (np.arange(m) + 0.5) / m
    q_gauss = 1.3 * stats.norm.ppf(t)
    for j in range(2):
        q_emp = np.sort(atoms[:, j])[np.minimum((t * 50).astype(int), 49)]
        ref = float(np.mean((q_gauss - q_emp) ** 2))
        assert w2sq_to_gaussian(atoms, 1.3**2)[j] == pytest.approx(ref, rel=2e-4)
    # One atom a: E (sigma Z - a)^2 = sigma^2 + a^2.
    assert float(w2sq_to_gaussian(np.array([-0.7]), 2.0)) == pytest.approx(2.49, rel=1e-12)


def test_density_probabilities_sum_to_one_and_respect_the_order() -> None:
    torch.manual_seed(0)
    dens = PiecewiseLinearDensity(dims=3, bins=16, context_hidden=8)
    with torch.no_grad():
        dens.logits.normal_()
        for p in dens.context.parameters():
            p.normal_()
    y = torch.rand(5, 3) * 2 - 1
    m = dens.masses(y)
    assert torch.allclose(m.sum(-1), torch.ones(5, 3))
    # Autoregressive: coordinate j's density depends on y_hat_{<j} only.
    y2 = y.clone()
    y2[:, 1] = -y2[:, 1]
    m2 = dens.masses(y2)
    assert torch.equal(m[:, :2], m2[:, :2]) and not torch.allclose(m[:, 2], m2[:, 2])
    # The L symbol probabilities given the dither form a distribution.
    cfg = _micro(block_length=3, latent_dim=3, levels=5)
    codec = build_synthetic_codec(cfg)
    codec.density = dens
    u = (torch.rand(5, 3) - 0.5) * codec.quantizer.step
    probs = symbol_probabilities(codec, u, y)
    assert probs.shape == (5, 3, 5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-12)
    assert probs.min() > 0


def test_code_length_matches_a_causally_decoded_bitstream(tiny_runs) -> None:
    """-log2 p(k|u) summed over the symbols is what an ANS coder spends (within 0.5%), and a
    decoder holding only the bytes, the shared dither and its own copy of the trained model
    decodes the symbols coordinate by coordinate (never the encoder's probability table)."""
    cfg = get_synthetic_preset(PRESET).configs()[0]
    state = torch.load(tiny_runs / PRESET / config_hash(cfg) / "checkpoint.pt",
                       weights_only=True)  # fmt: skip
    codec = build_synthetic_codec(cfg)
    codec.load_state_dict(state["codec"])
    x, _ = cfg.theory_source().sample((20000, cfg.block_length), rng=5)
    x = torch.from_numpy(x.astype(np.float32))
    u = torch.rand(20000, cfg.latent_dim, generator=torch.Generator().manual_seed(1)) - 0.5
    u = u * codec.quantizer.step
    with torch.no_grad():
        q = codec.quantizer(codec.encode(x), u)
    probs = symbol_probabilities(codec, u, q["z_hat"])
    k = q["symbols"].numpy()
    estimate = float(-np.log2(np.take_along_axis(probs, k[..., None], -1)).sum())
    stream = compress_symbols(codec.density, k, u, cfg.levels)
    decoder = build_synthetic_codec(cfg)
    decoder.load_state_dict(state["codec"])
    data = stream.to_bytes()
    decoded = decompress_symbols(decoder.density, ChunkedStream.from_bytes(data), u, cfg.levels)
    assert np.array_equal(decoded, k)
    assert estimate > 10_000  # a real test: tens of kilobits
    coded = stream.payload_bits
    assert coded == pytest.approx(estimate, rel=5e-3) and coded >= estimate * 0.999
    # The runs' `coded_bits` (one stream, the estimate's own tables) agrees with it.
    run_coded, run_stream = code_with_constriction(probs, k)
    assert run_coded == pytest.approx(coded, rel=5e-3) and run_stream.dtype == np.uint32


# ----------------------------------------------------------------------- end-to-end run
def test_tiny_runs_write_run_directories_and_lie_above_their_bounds(tiny_runs) -> None:
    rows = synthetic_runs_table(tiny_runs, PRESET)
    assert len(rows) == 2 and {r["source"] for r in rows} == {"binary", "gaussian"}
    for r in rows:
        path = tiny_runs / PRESET / r["hash"]
        assert {"config.json", "metrics.csv", "summary.json", "checkpoint.pt"} <= {
            p.name for p in path.iterdir()}  # fmt: skip
        meta = json.loads((path / "config.json").read_text())
        assert meta["kind"] == "synthetic" and "git_sha" in meta and "rdpc_version" in meta
        header = (path / "metrics.csv").read_text().splitlines()[0].split(",")
        assert tuple(header) == SYNTHETIC_COLUMNS
        metrics = read_metrics_csv(path / "metrics.csv", SYNTHETIC_INT_COLUMNS)
        assert [m["split"] for m in metrics] == ["val", "test"]
        final = metrics[-1]
        assert r["status"] == "finished" and final["n_blocks"] == 8192
        # Honest rate: above the per-letter converse, recomputed here from the per-letter
        # measurements with the closed forms of rdpc_theory (at the CI ends most favourable
        # to the bound), and below nominal.
        summary = json.loads((path / "summary.json").read_text())
        letters = summary["per_letter"]
        cfg = SyntheticConfig.from_dict(meta["config"])
        src = cfg.theory_source()
        bound_lo = float(np.mean(src.rdc(letters["D_hi"], letters["C_hi"])))
        assert final["rate_bits"] - final["rate_ci_bits"] >= bound_lo
        assert final["above_bound"] == 1 and final["bound_lo_bits"] == pytest.approx(bound_lo)
        assert 0 < final["rate_bits"] < final["nominal_bits"]
        # The real bitstream is within 0.5% of the estimate on the same blocks (plus the
        # final 32-bit word of the stream).
        slack = 32 / (2048 * 4)
        assert abs(final["coded_bits"] - final["coded_estimate_bits"]) <= (
            5e-3 * final["coded_estimate_bits"] + slack)  # fmt: skip
        src = meta["config"]["source"]["name"]
        if src == "binary":
            assert 0 <= final["D_hamming"] <= 1 and final["D_mse"] is None
            assert final["C_bits"] >= 0.469 - 3 * final["C_ci_bits"]  # H(S|X) = H_b(0.1)
        else:
            assert final["D_mse"] > 0 and final["P_w2sq"] >= 0
        assert len(letters["bound"]) == 4
    assert all(g["below_bound"] == 0 for g in best_gaps(rows))


def test_same_config_and_seed_give_the_same_metrics(tmp_path) -> None:
    cfg = _micro(source="binary", levels=4)
    a = train_synthetic_run(cfg, tmp_path / "a", "d")
    b = train_synthetic_run(cfg, tmp_path / "b", "d")
    assert a.rows == b.rows
    c = train_synthetic_run(cfg.replace(seed=1), tmp_path / "a", "d")
    assert c.rows[-1]["rate_bits"] != a.rows[-1]["rate_bits"]
    # A finished run is read back, not retrained.
    assert train_synthetic_run(cfg, tmp_path / "a", "d").rows == a.rows


def test_resumed_run_equals_uninterrupted_run(tmp_path) -> None:
    cfg = _micro()
    whole = train_synthetic_run(cfg, tmp_path / "a", "r")
    part = train_synthetic_run(cfg, tmp_path / "b", "r", max_steps_this_call=27)
    assert not part.finished and part.step == 27
    assert [
        r["step"] for r in read_metrics_csv(part.path / "metrics.csv", SYNTHETIC_INT_COLUMNS)
    ] == [20]
    done = train_synthetic_run(cfg, tmp_path / "b", "r")
    assert done.finished and done.rows == whole.rows


def test_cli_table_gaps_dry_run_and_errors(tiny_runs, capsys) -> None:
    assert main(["synthetic", "--list"]) == 0
    assert "synthetic-full" in capsys.readouterr().out
    assert main(["synthetic", "--preset", PRESET, "--runs-dir", str(tiny_runs)]) == 0
    assert "0 to run" in capsys.readouterr().err
    assert main(["synthetic", "--table", "--runs-dir", str(tiny_runs)]) == 0
    out = capsys.readouterr().out
    assert "gap_bits" in out and out.count("finished") == 2
    assert main(["synthetic", "--gaps", "--runs-dir", str(tiny_runs)]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert {g["source"] for g in gaps} == {"binary", "gaussian"}
    assert main(["synthetic", "--preset", PRESET, "--set", "stepz=1",
                 "--runs-dir", str(tiny_runs)]) == 2  # fmt: skip
    assert "unknown config key 'stepz'" in capsys.readouterr().err
    assert main(["synthetic", "--runs-dir", str(tiny_runs)]) == 2
    # The image-run listing skips synthetic run directories instead of failing on them.
    assert main(["runs", "--runs-dir", str(tiny_runs)]) == 0


def test_overlay_figures_from_the_tiny_runs(tiny_runs, tmp_path, capsys) -> None:
    out = tmp_path / "fig"
    assert main(["figures", "overlay", "--runs-dir", str(tiny_runs), "--out", str(out),
                 "--grid", "21", "--format", "png"]) == 0  # fmt: skip
    names = sorted(p.name for p in out.iterdir())
    assert names == ["overlay_binary.png", "overlay_gaussian.png", "synthetic_gaps.png",
                     "synthetic_rate_vs_bound.png"]  # fmt: skip
    assert all((out / n).stat().st_size > 5000 for n in names)
    capsys.readouterr()
    assert main(["figures", "overlay", "--runs-dir", str(tmp_path / "none"),
                 "--out", str(out)]) == 1  # fmt: skip
    assert "no finished synthetic runs" in capsys.readouterr().err


def test_gaussian_bound_is_the_textbook_rd_when_classification_is_loose() -> None:
    """An independent check of the bound's wiring: with C at h(S) the Gaussian RDC bound of a
    letter is 1/2 log2(var_x / D), and the binary one H_b(p) - H_b(D)."""
    from rdpc_neural.kinds.synthetic import _per_letter_bound

    g = SyntheticConfig()
    src = g.theory_source()
    d = np.array([0.1, 0.5])
    c = np.full(2, src.label_entropy())
    np.testing.assert_allclose(_per_letter_bound(g, src, "rdc", d, d * 0, c),
                               0.5 * np.log2(1 / d), rtol=1e-12)  # fmt: skip
    b = SyntheticConfig(source="binary")
    bsrc = b.theory_source()
    hb = lambda q: -q * math.log2(q) - (1 - q) * math.log2(1 - q)  # noqa: E731
    np.testing.assert_allclose(
        _per_letter_bound(b, bsrc, "rdc", d[:1], d[:1] * 0, np.ones(1)),
        [hb(0.3) - hb(0.1)], rtol=1e-12)  # fmt: skip


@pytest.mark.slow
def test_quick_preset_points_lie_above_their_bounds(tmp_path) -> None:
    """The synthetic-quick sweep (28 runs, n in {1, 4}; ~15 min on 2 busy cores): no point
    below its bound, and the Gaussian RDC codecs within 0.3 bit/symbol of R(D, C)."""
    assert main(["synthetic", "--preset", "synthetic-quick", "--jobs", "2", "--no-progress",
                 "--runs-dir", str(tmp_path)]) == 0  # fmt: skip
    rows = synthetic_runs_table(tmp_path, "synthetic-quick")
    assert len(rows) == 28 and all(r["status"] == "finished" for r in rows)
    gaps = best_gaps(rows)
    assert all(g["below_bound"] == 0 for g in gaps)
    for g in gaps:
        if g["source"] == "gaussian" and g["family"] == "rdc":
            assert g["best_gap_bits"] < 0.3
