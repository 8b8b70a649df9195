"""Claims on run directories: exclusive, released, and broken only when their owner is gone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rdpc_common.claim import CLAIM_FILE, ClaimHeld, acquire_claim, read_claim


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_is_exclusive_and_released(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with acquire_claim(folder) as claim:
        owner = read_claim(folder)
        assert owner is not None and owner["pid"] == os.getpid()
        assert owner["token"] == claim.token and owner["host"] == socket.gethostname()
        with pytest.raises(ClaimHeld, match=f"claimed by pid {os.getpid()}"):
            acquire_claim(folder, wait=False)
        with pytest.raises(ClaimHeld, match="still claimed after"):
            acquire_claim(folder, timeout=0.3, poll=0.05)
    assert not (folder / CLAIM_FILE).exists()
    assert [p.name for p in folder.iterdir()] == []  # no temporary files left
    with acquire_claim(folder, wait=False):  # free again
        pass


def test_a_waiting_claimant_gets_the_folder_when_the_owner_releases(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    order: list[str] = []
    first = acquire_claim(folder).__enter__()

    def second() -> None:
        with acquire_claim(folder, poll=0.02):
            order.append("second")

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.3)
    order.append("first releases")
    first.release()
    t.join(timeout=10)
    assert order == ["first releases", "second"]


def test_a_claim_of_a_dead_process_on_this_host_is_broken_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    stale = {"host": socket.gethostname(), "pid": _dead_pid(), "token": "old", "since": 0}
    (folder / CLAIM_FILE).write_text(json.dumps(stale))
    with acquire_claim(folder, wait=False, stale_after=3600) as claim:
        assert read_claim(folder)["token"] == claim.token  # type: ignore[index]


def test_another_hosts_claim_expires_only_without_heartbeat(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    other = {"host": "elsewhere.invalid", "pid": 1, "token": "theirs", "since": 0}
    (folder / CLAIM_FILE).write_text(json.dumps(other))
    with pytest.raises(ClaimHeld):  # fresh mtime: alive as far as we can tell
        acquire_claim(folder, wait=False, stale_after=60)
    old = time.time() - 120
    os.utime(folder / CLAIM_FILE, (old, old))  # no heartbeat for two minutes
    with acquire_claim(folder, wait=False, stale_after=60) as claim:
        assert read_claim(folder)["token"] == claim.token  # type: ignore[index]


def test_the_heartbeat_keeps_a_long_claim_fresh_and_notices_a_lost_one(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with acquire_claim(folder, stale_after=0.4) as claim:
        time.sleep(1.0)  # longer than stale_after: only the heartbeat keeps it alive
        assert time.time() - read_claim(folder)["mtime"] < 0.4  # type: ignore[index]
        with pytest.raises(ClaimHeld):
            acquire_claim(folder, wait=False, stale_after=0.4)
        (folder / CLAIM_FILE).write_text(json.dumps({"token": "someone else"}))
        time.sleep(0.5)
        assert claim.lost
    assert (folder / CLAIM_FILE).exists()  # not ours any more: left alone on release


def test_bad_stale_timeout_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`stale_after` must be > 0 seconds; got 0"):
        acquire_claim(tmp_path, stale_after=0)
