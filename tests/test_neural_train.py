"""Training: smoke run, run directory contents, exact resume, universal mode, critic, sweep."""

from __future__ import annotations

import json

import pytest
import torch
from neural_support import require_mnist, tiny_config, tiny_overrides

from rdpc.cli import main
from rdpc_neural.core.registry import config_hash
from rdpc_neural.core.rundir import read_metrics_csv
from rdpc_neural.kinds.image import train_run
from rdpc_neural.kinds.image_config import METRIC_COLUMNS
from rdpc_neural.tasks import build_task


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Data root, a classifier cache shared by the tests of this module, and the task."""
    root = require_mnist()
    cache = tmp_path_factory.mktemp("cache")
    torch.set_num_threads(1)  # same arithmetic in every test (and fair to other processes)
    task = build_task(tiny_config(), data_dir=root, cache_dir=cache, download=False)
    return {"data": root, "cache": cache, "task": task}


def _strip(rows):
    return [dict(r) for r in rows]


def test_smoke_run_writes_run_directory(env, tmp_path) -> None:
    cfg = tiny_config()
    result = train_run(cfg, tmp_path, "smoke", task=env["task"])
    assert result.finished and result.path == tmp_path / "smoke" / config_hash(cfg)
    files = {p.name for p in result.path.iterdir()}
    assert {"config.json", "metrics.csv", "summary.json", "checkpoint.pt"} <= files
    assert not [f for f in files if f.endswith(".tmp")]
    meta = json.loads((result.path / "config.json").read_text())
    assert meta["hash"] == config_hash(cfg) and meta["config"] == cfg.to_dict()
    assert "rdpc_version" in meta and "git_sha" in meta
    header = (result.path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == METRIC_COLUMNS
    rows = read_metrics_csv(result.path / "metrics.csv", ("step", "n_images"))
    assert [r["step"] for r in rows] == [8, 16, 24, 24]
    assert [r["split"] for r in rows] == ["val", "val", "val", "test"]
    final = rows[-1]
    assert final["n_images"] == 600 and final["rate_bits"] == pytest.approx(6.0)
    for key in ("coded_bits", "entropy_bits", "mse", "w1", "ce_bits", "acc", "acc_heldout"):
        assert final[key] is not None and final[key] == final[key], key
    assert rows[0]["w1"] is None and rows[0]["coded_bits"] is None  # final-only metrics
    assert final["w1_critic"] is None  # lambda_p = 0: no critic trained
    assert 0 < final["entropy_bits"] <= 6.0 + 1e-9
    # Gibbs: any code of the test symbols (model fit on training symbols) costs at least
    # their empirical entropy, exactly.
    assert final["coded_bits"] >= final["entropy_bits"]
    assert 0.0 < final["mse"] < 0.2 and 0.0 <= final["acc"] <= 1.0
    summary = json.loads((result.path / "summary.json").read_text())
    assert summary["final"] == pytest.approx(final)
    assert summary["classifier_test_acc"] > 0.5
    # Rerunning a finished run reads it back without training.
    again = train_run(cfg, tmp_path, "smoke", task=env["task"])
    assert again.finished and again.rows == rows


def test_resume_after_interruption_equals_uninterrupted_run(env, tmp_path) -> None:
    cfg = tiny_config(seed=3)
    whole = train_run(cfg, tmp_path / "a", "r", task=env["task"])
    # Interrupted run: stops after 13 steps (checkpoint at step 8, steps 9..13 lost) ...
    part = train_run(cfg, tmp_path / "b", "r", task=env["task"], max_steps_this_call=13)
    assert not part.finished and part.step == 13
    rows_b = read_metrics_csv(part.path / "metrics.csv", ("step", "n_images"))
    assert [r["step"] for r in rows_b] == [8]
    assert not (part.path / "summary.json").exists()
    # ... a second interruption, then the rerun of the same command finishes it.
    part2 = train_run(cfg, tmp_path / "b", "r", task=env["task"], max_steps_this_call=10)
    rows_b2 = read_metrics_csv(part2.path / "metrics.csv", ("step", "n_images"))
    assert [r["step"] for r in rows_b2] == [8, 16]
    assert rows_b2[0] == rows_b[0]  # finished evaluations are kept
    done = train_run(cfg, tmp_path / "b", "r", task=env["task"])
    assert done.finished
    assert read_metrics_csv(done.path / "metrics.csv", ("step", "n_images")) == read_metrics_csv(
        whole.path / "metrics.csv"
    )
    a = torch.load(whole.path / "checkpoint.pt", weights_only=True)["codec"]
    b = torch.load(done.path / "checkpoint.pt", weights_only=True)["codec"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_perception_term_trains_a_critic(env, tmp_path) -> None:
    cfg = tiny_config(lambda_p=0.01, n_critic=2, steps=8, eval_every=8)
    result = train_run(cfg, tmp_path, "p", task=env["task"])
    final = result.final
    assert final is not None and final["w1_critic"] is not None
    state = torch.load(result.path / "checkpoint.pt", weights_only=True)
    assert "critic" in state


def test_universal_mode_freezes_the_base_encoder(env, tmp_path) -> None:
    base = tiny_config(lambda_c=0.0)
    cfg = tiny_config(mode="universal", base_encoder=base.to_dict(), lambda_c=0.015)
    result = train_run(cfg, tmp_path, "u", task=env["task"])
    assert result.finished and result.summary["base_encoder_hash"] == config_hash(base)
    base_dir = tmp_path / "u" / config_hash(base)
    assert (base_dir / "summary.json").is_file()  # the base run was trained first
    enc_base = torch.load(base_dir / "checkpoint.pt", weights_only=True)["codec"]
    enc_uni = torch.load(result.path / "checkpoint.pt", weights_only=True)["codec"]
    enc_keys = [k for k in enc_base if k.startswith("encoder.")]
    assert enc_keys
    # weights and BatchNorm running statistics are unchanged (encoder in eval mode)
    assert all(torch.equal(enc_base[k], enc_uni[k]) for k in enc_keys)
    assert not all(torch.equal(enc_base[k], enc_uni[k]) for k in enc_base if k.startswith("dec"))
    # The penalty table pairs it with its end-to-end twin (same lambdas, own encoder).
    from rdpc_neural.kinds.image_results import universal_penalty_table

    assert universal_penalty_table(tmp_path) == []  # no twin yet
    twin = train_run(cfg.replace(mode="end-to-end", base_encoder=None), tmp_path, "e2e",
                     task=env["task"])  # fmt: skip
    (row,) = universal_penalty_table(tmp_path)
    assert row["mse_e2e"] == twin.final["mse"] and row["mse_universal"] == result.final["mse"]
    assert row["d_mse"] == pytest.approx(result.final["mse"] - twin.final["mse"])
    assert row["d_acc"] == pytest.approx(result.final["acc"] - twin.final["acc"])
    assert row["encoder"] == f"({base.lambda_d:g}, {base.lambda_p:g}, 0)"  # trained with lambda_c=0


def test_cli_train_and_runs_table(env, tmp_path, capsys) -> None:
    sets = []
    for k, v in tiny_overrides(steps=8, eval_every=4).items():
        sets += ["--set", f"{k}={json.dumps(v)}"]
    common = ["--runs-dir", str(tmp_path), "--data-dir", str(env["data"]),
              "--cache-dir", str(env["cache"]), "--no-progress"]  # fmt: skip
    assert main(["train", *sets, *common, "--max-steps", "5"]) == 0
    assert "stopped at step 5/8" in capsys.readouterr().out
    assert main(["train", *sets, *common]) == 0
    out = capsys.readouterr().out
    assert "coded_bits=" in out and "acc_heldout=" in out
    assert main(["runs", "--runs-dir", str(tmp_path), "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("preset,kind,hash,status") and len(lines) == 2
    assert ",finished," in lines[1]


def test_sweep_runs_missing_runs_only(env, tmp_path) -> None:
    from rdpc_neural.core.plan import plan_sweep
    from rdpc_neural.core.sweep import run_sweep

    sets = [f"{k}={json.dumps(v)}" for k, v in tiny_overrides(steps=6, eval_every=6).items()
            if k not in ("latent_dim", "levels", "lambda_d", "lambda_c")]  # fmt: skip
    kw = {"overrides": sets, "data_dir": env["data"], "cache_dir": env["cache"],
          "progress": False}  # fmt: skip
    report = run_sweep("cpu-fig9a", tmp_path, limit=2, **kw)
    assert (report.total, report.skipped, report.finished, report.failed) == (128, 0, 2, {})
    plan = plan_sweep("cpu-fig9a", tmp_path, sets)
    assert (plan.total, plan.skipped, len(plan.runs)) == (128, 2, 126)
    # The two frozen classifiers are prerequisite jobs every run depends on.
    prereqs = [j for j in plan.jobs if not j.is_run]
    assert len(prereqs) == 2 and all(
        set(j.depends_on) == {p.id for p in prereqs} for j in plan.runs
    )
    report = run_sweep("cpu-fig9a", tmp_path, limit=1, **kw)
    assert (report.skipped, report.finished) == (2, 1)
    assert json.loads((tmp_path / "cpu-fig9a" / "sweep.json").read_text())["finished"] == 1


def test_reference_size_with_critic_runs(env, tmp_path) -> None:
    """The published MNIST networks (conv decoder, conv WGAN-GP critic) train and evaluate."""
    cfg = tiny_config(size="reference", lambda_p=0.005, steps=2, batch_size=16, eval_every=2,
                      eval_size=64, w1_samples=64)  # fmt: skip
    result = train_run(cfg, tmp_path, "ref", task=env["task"])
    assert result.finished and result.final["w1_critic"] is not None
    assert result.final["mse"] > 0 and result.final["coded_bits"] > 0


def test_svhn_pipeline_on_a_tiny_mat_file(tmp_path) -> None:
    """SVHN end to end (loader, split, classifiers, codec, metrics) on random 32x32x3 images
    written with scipy.io.savemat; numbers are meaningless, the plumbing is the point."""
    import numpy as np
    from scipy.io import savemat

    from rdpc_neural.kinds.image_config import RunConfig

    rng = np.random.default_rng(0)
    (tmp_path / "data" / "svhn").mkdir(parents=True)
    for split, n in (("train", 400), ("test", 120)):
        x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
        y = rng.integers(1, 11, size=(n, 1), dtype=np.uint8)
        savemat(tmp_path / "data" / "svhn" / f"{split}_32x32.mat", {"X": x, "y": y})
    cfg = RunConfig.from_dict({
        "dataset": "svhn", "size": "tiny", "latent_dim": 4, "levels": 8, "lambda_c": 0.001,
        "steps": 4, "batch_size": 32, "eval_every": 2, "eval_size": 50, "w1_samples": 50,
        "val_size": 100,
        "classifier": {"arch": "svhn-tiny-mlp", "epochs": 1},
        "heldout_classifier": {"arch": "svhn-small-cnn", "epochs": 1, "seed": 1},
    })  # fmt: skip
    result = train_run(cfg, tmp_path / "runs", "svhn", data_dir=tmp_path / "data",
                       cache_dir=tmp_path / "cache")  # fmt: skip
    final = result.final
    assert result.finished and final["n_images"] == 120 and final["rate_bits"] == 12.0
    assert 0 < final["mse"] < 1 and 0 <= final["acc_heldout"] <= 1


def test_the_coding_model_is_fitted_on_training_symbols(env, tmp_path, monkeypatch) -> None:
    """coded_bits codes the test symbols with a model fitted on the *training* symbols: a
    model fitted on the test symbols themselves would understate the rate."""
    from rdpc_neural import entropy

    calls = []
    real = entropy.coded_bits_per_item

    def spy(train, test, levels, **kw):
        calls.append((train, test))
        return real(train, test, levels, **kw)

    monkeypatch.setattr(entropy, "coded_bits_per_item", spy)
    cfg = tiny_config(seed=11)
    result = train_run(cfg, tmp_path, "fit", task=env["task"])
    ((train_sym, test_sym),) = calls
    splits = env["task"].splits
    assert len(train_sym) == len(splits.x_train) and len(test_sym) == len(splits.x_test)
    assert result.final["coded_bits"] == real(train_sym, test_sym, cfg.levels)
    assert result.final["coded_bits"] > real(test_sym, test_sym, cfg.levels)
