"""Killing a parallel sweep leaves no worker behind, and the workers' runs keep a checkpoint.

A ``--jobs 2`` sweep of long synthetic runs is started in its own session with a marker in
its environment; once both workers train, the parent gets SIGTERM (default suite) or SIGKILL
(slow). Five seconds later no process carrying the marker may be left, and every started run
must have a checkpoint at the step its worker reached.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

PROJECT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")


def _marked(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment holds `marker`."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.append(int(entry.name))
    return out


def _sweep_and_kill(tmp_path: Path, sig: int) -> tuple[int, list[int], list[Path]]:
    marker = f"rdpc-orphan-test-{uuid.uuid4().hex}"
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "rdpc", "sweep", "--preset", "synthetic-tiny",
           "--set", "steps=1000000", "--set", "eval_every=500000", "--jobs", "2",
           "--threads", "1", "--runs-dir", str(runs), "--no-progress"]  # fmt: skip
    env = {**os.environ, "RDPC_ORPHAN_MARKER": marker}
    log = open(tmp_path / "sweep.log", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        claims: list[Path] = []
        while time.monotonic() < deadline and len(claims) < 2:
            assert proc.poll() is None, (tmp_path / "sweep.log").read_text()
            claims = list(runs.glob("synthetic-tiny/*/claim.json"))
            time.sleep(0.2)
        assert len(claims) == 2, "the two workers did not start their runs"
        time.sleep(2.0)  # both are training now
        os.kill(proc.pid, sig)
        t0 = time.monotonic()
        left = _marked(marker)
        while left and time.monotonic() - t0 < 5.0:
            time.sleep(0.1)
            left = _marked(marker)
        status = proc.wait(timeout=60) if sig == signal.SIGTERM else -sig
        return status, left, [c.parent for c in claims]
    finally:
        for pid in _marked(marker):  # never leave anything behind, even on failure
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _assert_checkpoints(run_dirs: list[Path]) -> None:
    for run in run_dirs:
        state = torch.load(run / "checkpoint.pt", weights_only=True)
        assert 0 < state["step"] < 1_000_000  # written at the step reached, mid-run
        assert not (run / "summary.json").exists()


def test_sigterm_to_a_parallel_sweep_leaves_no_worker(tmp_path: Path) -> None:
    status, left, runs = _sweep_and_kill(tmp_path, signal.SIGTERM)
    assert left == [], f"processes still running 5 s after SIGTERM: {left}"
    assert status == 143, (tmp_path / "sweep.log").read_text()
    _assert_checkpoints(runs)


@pytest.mark.slow
def test_sigkill_to_a_parallel_sweep_leaves_no_worker(tmp_path: Path) -> None:
    _, left, runs = _sweep_and_kill(tmp_path, signal.SIGKILL)
    assert left == [], f"processes still running 5 s after SIGKILL: {left}"
    _assert_checkpoints(runs)
