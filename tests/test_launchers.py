"""Sweeps on the cluster launchers (Ray, Slurm through submitit's local executor), failures and
retries.

The reference for every launcher is the same sweep run by the local launcher in this process:
a launcher only decides where ``run_job`` runs, so the final metrics must be identical. Killing
a worker is done by the PID recorded in the run's claim, as a dead node or an OOM kill would.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpc.cli import main
from rdpc_common.claim import read_claim
from rdpc_neural.core.launchers import LaunchOutcome, LaunchSettings
from rdpc_neural.core.plan import Job, Plan
from rdpc_neural.core.retries import launch_with_retries
from rdpc_neural.core.sweep import run_sweep

PRESET = "synthetic-tiny"
# Two runs (Gaussian, binary) of 120 steps with a checkpoint every 10: seconds each, and a
# long enough window to kill a worker between two checkpoints.
OVERRIDES = ("steps=120", "eval_every=10")


def sweep(root: Path, launcher: object = "local", **kw: object):
    return run_sweep(
        PRESET, root, overrides=OVERRIDES, jobs=2, threads_per_job=1, progress=False,
        launcher=launcher, **kw,
    )  # fmt: skip


def finals(root: Path) -> dict[str, dict]:
    """Run hash -> final test metrics, read from each run's summary.json."""
    out = {}
    for summary in sorted((root / PRESET).glob("*/summary.json")):
        out[summary.parent.name] = json.loads(summary.read_text())["final"]
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, dict]:
    """The sweep by the local launcher, in this process."""
    import torch

    root = tmp_path_factory.mktemp("local")
    old = torch.get_num_threads()
    try:
        report = run_sweep(PRESET, root, overrides=OVERRIDES, jobs=1, threads_per_job=1,
                           progress=False)  # fmt: skip
    finally:
        torch.set_num_threads(old)
    assert report.finished == 2 and not report.failed
    return finals(root)


class Watch:
    """Snapshots (hard links) of each run's ``summary.json`` when it first appears, so that a
    later rewrite (a second training of the run) is seen; optionally kills the owner of the
    first run seen mid-training (a checkpoint written, no summary yet)."""

    def __init__(self, root: Path, kill: bool = False) -> None:
        self.dir, self.kill = root / PRESET, kill
        self.snap = root / "snapshots"
        self.snap.mkdir(parents=True)
        self.killed: tuple[str, int] | None = None  # (run hash, validation rows at the kill)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.kill = False
        self._scan()  # summaries written since the last look

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._scan()

    def _scan(self) -> None:
        for rdir in self.dir.glob("*/"):
            summary, link = rdir / "summary.json", self.snap / rdir.name
            if summary.exists() and not link.exists():
                os.link(summary, link)
            if self.kill and self.killed is None and not summary.exists():
                owner = read_claim(rdir)
                metrics = rdir / "metrics.csv"
                if (rdir / "checkpoint.pt").exists() and metrics.exists() and owner:
                    if owner.get("pid") not in (None, os.getpid()):
                        rows = len(metrics.read_text().splitlines()) - 1
                        os.kill(owner["pid"], signal.SIGKILL)
                        self.killed = (rdir.name, rows)

    def written_once(self) -> bool:
        """Every summary.json is still the file first seen (not rewritten)."""
        summaries = sorted(self.dir.glob("*/summary.json"))
        return bool(summaries) and all(
            (self.snap / s.parent.name).exists() and os.path.samefile(s, self.snap / s.parent.name)
            for s in summaries
        )


# ------------------------------------------------------------------ the retry loop (no engine)
class ScriptedLauncher:
    """Fails jobs as scripted: ``script[job id]`` is the list of errors of its attempts."""

    name = "scripted"

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def launch(self, plan: Plan, settings: LaunchSettings, on_done) -> LaunchOutcome:
        self.calls.append([j.id for j in plan.jobs])
        out = LaunchOutcome()
        for layer in plan.layers():
            for job in layer:
                bad = [d for d in job.depends_on if d in out.failed]
                errors = self.script.get(job.id, [])
                if bad:
                    out.failed[job.id] = {"error": "RuntimeError: dependency failed"}
                elif errors:
                    out.failed[job.id] = {"error": errors.pop(0), "traceback": "..."}
                    on_done(job, False)
                else:
                    if job.is_run:
                        out.finished.append(job.id)
                    on_done(job, True)
        return out


def _plan(*jobs: Job) -> Plan:
    return Plan("p", "synthetic", total=len(jobs), skipped=0, jobs=list(jobs))


def _run(jid: str, *deps: str) -> Job:
    return Job(jid, {"type": "run"}, tuple(deps))


def test_retry_loop_retries_lost_workers_only_and_dependents_follow() -> None:
    pre = Job("pre", {"type": "prerequisite"})
    plan = _plan(pre, _run("a", "pre"), _run("b", "pre"), _run("c"), _run("d"))
    launcher = ScriptedLauncher({
        "pre": ["WorkerCrashedError: the worker died"],  # retried; a and b follow it
        "c": ["ValueError: `lr` must be > 0"],  # a bug in the job: never retried
        "d": ["UncompletedJobError: killed", "OSError: stale NFS handle", "OSError: again"],
    })  # fmt: skip
    seen: list[tuple[str, bool]] = []
    out = launch_with_retries(
        launcher, plan, LaunchSettings("/runs", retries=2), lambda j, ok: seen.append((j.id, ok))
    )
    # Attempt 1: pre, c, d fail (a, b blocked). Attempt 2: pre, a, b, d (d fails again).
    # Attempt 3: d fails a third time: out of retries.
    assert launcher.calls == [["pre", "a", "b", "c", "d"], ["pre", "a", "b", "d"], ["d"]]
    assert sorted(out.finished) == ["a", "b"]
    assert sorted(out.failed) == ["c", "d"] and out.failed["d"]["error"] == "OSError: again"
    assert out.retried == 3  # pre once, d twice
    # Each job reported once, failures only when final.
    assert sorted(seen) == [("a", True), ("b", True), ("c", False), ("d", False), ("pre", True)]


def test_a_launcher_that_breaks_fails_its_unreported_jobs() -> None:
    class Broken:
        name = "broken"
        calls = 0

        def launch(self, plan, settings, on_done):
            self.calls += 1
            if self.calls == 1:
                on_done(plan.jobs[0], True)
                from concurrent.futures.process import BrokenProcessPool

                raise BrokenProcessPool("a worker died")
            for job in plan.jobs:
                on_done(job, True)
            return LaunchOutcome(finished=[j.id for j in plan.jobs])

    out = launch_with_retries(
        Broken(), _plan(_run("a"), _run("b")), LaunchSettings("/r", retries=1), lambda j, ok: None
    )
    assert sorted(out.finished) == ["a", "b"] and out.retried == 1 and not out.failed


# ------------------------------------------------------------------- failures and the CLI
def test_missing_engine_is_one_line_naming_the_install_command(monkeypatch, capsys) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    assert main(["sweep", "--preset", PRESET, "--launcher", "ray", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'pip install -e ".[ray]"' in err


def test_options_of_another_launcher_are_usage_errors(capsys) -> None:
    assert main(["sweep", "--preset", PRESET, "--slurm-partition", "gpu", "--dry-run"]) == 2
    assert "`--slurm-partition` is an option of `--launcher slurm`" in capsys.readouterr().err


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, reference, capsys) -> None:
    # Plant a corrupt checkpoint in the Gaussian run's directory: resuming it raises.
    bad_hash = min(reference)
    bad = tmp_path / PRESET / bad_hash
    bad.mkdir(parents=True)
    (bad / "checkpoint.pt").write_bytes(b"not a checkpoint")
    argv = ["synthetic", "--preset", PRESET, "--jobs", "1", "--threads", "1", "--no-progress",
            "--runs-dir", str(tmp_path), "--retries", "2",
            *[a for o in OVERRIDES for a in ("--set", o)]]  # fmt: skip
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "finished 1, skipped 0, failed 1, retried 0" in out  # a bad file is not retried
    assert bad_hash in err and "FileProblem" in err
    failure = json.loads((bad / "failure.json").read_text())
    assert "checkpoint.pt" in failure["error"] and "Traceback" in failure["traceback"]
    sweep_json = json.loads((tmp_path / PRESET / "sweep.json").read_text())
    (record,) = sweep_json["failures"].values()
    assert "Traceback" in record["traceback"]
    assert finals(tmp_path) == {h: f for h, f in reference.items() if h != bad_hash}


@pytest.mark.slow  # two spawned pools (about a minute on a busy 2-core machine)
def test_local_pool_worker_killed_mid_run_is_retried(tmp_path, reference) -> None:
    with Watch(tmp_path, kill=True) as watch:
        report = sweep(tmp_path, "local", retries=1)
    assert watch.killed is not None, "no run was caught mid-training"
    # A dead worker breaks the whole process pool (concurrent.futures ends its other
    # workers too), so a run still training beside it is resubmitted as well.
    assert (report.finished, report.failed) == (2, {}) and report.retried in (1, 2)
    assert watch.written_once()
    assert finals(tmp_path) == reference


# ---------------------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """A private Ray instance on this machine with 2 CPUs (never another host's)."""
    ray = pytest.importorskip("ray")
    ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )  # fmt: skip
    yield
    ray.shutdown()


def test_ray_sweep_gives_the_local_metrics(tmp_path, reference, ray_instance) -> None:
    report = sweep(tmp_path, "ray")
    assert (report.launcher, report.finished, report.failed) == ("ray", 2, {})
    assert finals(tmp_path) == reference


def test_ray_worker_killed_mid_run_is_retried(tmp_path, reference, ray_instance) -> None:
    with Watch(tmp_path, kill=True) as watch:
        report = sweep(tmp_path, "ray", retries=1)
    assert watch.killed is not None, "no run was caught mid-training"
    assert (report.finished, report.failed, report.retried) == (2, {}, 1)
    assert watch.written_once()  # every run finished exactly once
    assert finals(tmp_path) == reference  # the resumed run equals the uninterrupted one


def test_a_failing_run_on_ray_keeps_its_own_error(tmp_path, reference, ray_instance) -> None:
    bad_hash = min(reference)
    (tmp_path / PRESET / bad_hash).mkdir(parents=True)
    (tmp_path / PRESET / bad_hash / "checkpoint.pt").write_bytes(b"not a checkpoint")
    report = sweep(tmp_path, "ray", retries=1)
    assert (report.finished, report.retried) == (1, 0)  # a bad file is not retried
    (failure,) = report.failures.values()
    assert failure["error"].startswith("FileProblem:") and "checkpoint.pt" in failure["error"]
    assert "rundir.py" in failure["traceback"]  # the worker's frames, down to the raise
    assert "\x1b[" not in failure["traceback"]


def test_two_ray_sweeps_at_once_do_not_duplicate_work(tmp_path, reference, ray_instance) -> None:
    reports: list[object] = []
    with Watch(tmp_path) as watch:
        threads = [
            threading.Thread(target=lambda: reports.append(sweep(tmp_path, "ray")))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [(r.finished, r.failed) for r in reports] == [(2, {}), (2, {})]  # type: ignore[attr-defined]
    assert watch.written_once()
    assert finals(tmp_path) == reference


# -------------------------------------------------------------------------------- Slurm
def _slurm(**kw: object) -> object:
    pytest.importorskip("submitit")
    from rdpc_neural.core.launchers import get_launcher

    return get_launcher("slurm", cluster="local", poll_seconds=0.2, **kw)


def test_slurm_killed_job_is_resubmitted_and_completes(tmp_path, reference) -> None:
    launcher = _slurm(time_min=5)
    with Watch(tmp_path, kill=True) as watch:
        report = sweep(tmp_path, launcher, retries=1)
    assert watch.killed is not None, "no run was caught mid-training"
    assert (report.launcher, report.finished, report.failed) == ("slurm", 2, {})
    assert report.retried == 1 and watch.written_once()
    assert finals(tmp_path) == reference
    logs = list((tmp_path / ".slurm-logs" / PRESET).glob("*/*.out"))
    assert len(logs) >= 3  # two array tasks, then the resubmitted one


def test_slurm_config_file_and_unknown_keys(tmp_path) -> None:
    from rdpc_neural.core.launch_slurm import read_slurm_config

    toml = tmp_path / "cluster.toml"
    toml.write_text('partition = "gpu"\ntime_min = 90\nadditional = { "mail-type" = "FAIL" }\n')
    conf = read_slurm_config(toml)
    assert conf == {"partition": "gpu", "time_min": 90, "additional": {"mail-type": "FAIL"}}
    bad = tmp_path / "bad.json"
    bad.write_text('{"partitoin": "gpu"}')
    with pytest.raises(ValueError, match="unknown key.*partitoin"):
        read_slurm_config(bad)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of this machine's processes that contain `text` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if text in args:
            found.append(args)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="process listing needs Linux /proc")
def test_ray_cli_starts_a_private_instance_and_stops_it(tmp_path, reference) -> None:
    """`rdpc sweep --launcher ray` without --address: a private local Ray instance is started
    for the sweep, gives the local launcher's metrics, and leaves no Ray process behind."""
    import shutil
    import subprocess
    import sys
    import tempfile

    pytest.importorskip("ray")
    # Ray puts Unix sockets under its temp folder (107-byte path limit): a short one, and a
    # name to find this instance's processes by.
    ray_tmp = tempfile.mkdtemp(prefix="rdpc-ray-", dir="/tmp")
    env = {**os.environ, "RAY_TMPDIR": ray_tmp, "PYTHONPATH": str(Path(__file__).parents[1])}
    args = [sys.executable, "-m", "rdpc", "sweep", "--preset", PRESET, "--launcher", "ray",
            "--jobs", "2", "--threads", "1", "--runs-dir", str(tmp_path), "--no-progress",
            *(a for o in OVERRIDES for a in ("--set", o))]  # fmt: skip
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "finished 2, skipped 0, failed 0" in done.stdout + done.stderr
        assert finals(tmp_path) == reference
        assert list(Path(ray_tmp).glob("ray/session_*")), "the sweep ran on another instance"
        assert _processes_mentioning(ray_tmp) == []
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
