"""Slow neural tests (``pytest -m slow``): real-size CPU run, killed-process resume, parallel
sweep. Deselected by default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from neural_support import PROJECT_ROOT, require_mnist, tiny_overrides

from rdpc_neural.core.rundir import read_metrics_csv

pytestmark = pytest.mark.slow


def test_cpu_run_at_10_bits_reaches_the_papers_accuracy(tmp_path) -> None:
    """cpu-fig9a, R = 10 (d=5, L=4), lambda_d = 0.5, lambda_c = 0.015: the acceptance point
    (test accuracy >= 0.95 by the training classifier, MSE <= 0.045)."""
    import torch

    from rdpc_neural.kinds.image import train_run
    from rdpc_neural.kinds.image_presets import get_preset

    root = require_mnist()
    torch.set_num_threads(1)
    cfg = get_preset("cpu-fig9a").base.replace(latent_dim=5, levels=4, lambda_d=0.5, lambda_c=0.015)
    result = train_run(cfg, tmp_path, "cpu-fig9a", data_dir=root, cache_dir=tmp_path / "cache")
    final = result.final
    assert final is not None
    assert final["acc"] >= 0.95 and final["mse"] <= 0.045, final
    assert final["acc_heldout"] >= 0.9, final
    assert 9.0 < final["coded_bits"] <= 10.2


def _train_cmd(runs: str, cache: str, data: str, sets: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "rdpc", "train", "--runs-dir", runs, "--cache-dir", cache,
           "--data-dir", data, "--no-progress", "--threads", "1"]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    return cmd


def test_killed_process_resumes_to_the_uninterrupted_result(tmp_path) -> None:
    """Kill ``rdpc train`` (SIGKILL) after its first checkpoint, rerun the same command: the
    evaluations done before the kill are kept and the final metrics equal an uninterrupted
    run's."""
    root = str(require_mnist())
    cache = str(tmp_path / "cache")
    sets = [f"{k}={json.dumps(v)}" for k, v in
            tiny_overrides(steps=400, eval_every=100, batch_size=128).items()]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    # Reference: uninterrupted (also trains the cached classifiers).
    subprocess.run(_train_cmd(str(tmp_path / "a"), cache, root, sets), check=True, env=env)
    proc = subprocess.Popen(_train_cmd(str(tmp_path / "b"), cache, root, sets), env=env)
    run_dirs = tmp_path / "b" / "custom"
    deadline = time.time() + 300
    while time.time() < deadline:
        ckpts = list(run_dirs.glob("*/checkpoint.pt")) if run_dirs.is_dir() else []
        if ckpts or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run_b,) = list(run_dirs.iterdir())
    assert not (run_b / "summary.json").exists(), "killed too late: the run had finished"
    before = read_metrics_csv(run_b / "metrics.csv", ("step", "n_images"))
    assert before and before[-1]["split"] == "val"
    subprocess.run(_train_cmd(str(tmp_path / "b"), cache, root, sets), check=True, env=env)
    after = read_metrics_csv(run_b / "metrics.csv", ("step", "n_images"))
    assert after[: len(before)] == before
    (run_a,) = list((tmp_path / "a" / "custom").iterdir())
    assert after == read_metrics_csv(run_a / "metrics.csv", ("step", "n_images"))


def test_parallel_sweep_matches_serial_results(tmp_path) -> None:
    """jobs=2 (spawned workers, one thread each) gives the same metrics as jobs=1."""
    import torch

    from rdpc_neural.core.sweep import run_sweep

    root = require_mnist()
    sets = [f"{k}={json.dumps(v)}" for k, v in tiny_overrides(steps=16, eval_every=8).items()
            if k not in ("latent_dim", "levels", "lambda_d", "lambda_c")]  # fmt: skip
    kw = {"overrides": sets, "data_dir": root, "cache_dir": tmp_path / "cache",
          "progress": False, "limit": 4, "threads_per_job": 1}  # fmt: skip
    torch.set_num_threads(1)
    serial = run_sweep("cpu-fig9a", tmp_path / "s", jobs=1, **kw)
    parallel = run_sweep("cpu-fig9a", tmp_path / "p", jobs=2, **kw)
    assert serial.finished == parallel.finished == 4 and not parallel.failed
    for run in (tmp_path / "s" / "cpu-fig9a").iterdir():
        if run.is_dir():
            twin = tmp_path / "p" / "cpu-fig9a" / run.name
            assert read_metrics_csv(run / "metrics.csv", ("step", "n_images")) == read_metrics_csv(
                twin / "metrics.csv", ("step", "n_images")
            )
