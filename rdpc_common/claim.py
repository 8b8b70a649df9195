"""Exclusive claims on a folder (a run directory) that hold on network file systems.

``fcntl.flock`` is unreliable on NFS and similar shared file systems, where cluster workers
meet. A claim here is a small JSON file, ``<folder>/claim.json``, created atomically with
``os.link`` (the classic NFS-safe exclusive create: it fails if the name exists). It records
its owner (host, pid, a random token, start time). The owner refreshes the file's mtime from a
heartbeat thread; a claim whose owner process is gone (same host) or whose heartbeat stopped
for ``stale_after`` seconds (any host) is stale and may be broken by the next claimant.

Breaking a stale claim renames it away and re-checks its token. Two claimants that break the
same stale claim at the same moment can, rarely, both believe they hold the folder for a
moment; the heartbeat of the loser then notices that the file is no longer its own
(:attr:`Claim.lost`). The worst outcome is duplicated work, never a corrupt result: run files
are written atomically and training is deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CLAIM_FILE", "Claim", "ClaimHeld", "acquire_claim", "read_claim", "claim_is_stale"]

CLAIM_FILE = "claim.json"


class ClaimHeld(RuntimeError):
    """The folder is claimed by a live owner (raised when not waiting)."""


def read_claim(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The owner record of `folder`'s claim, with its ``mtime``; ``None`` if unclaimed."""
    path = Path(folder) / CLAIM_FILE
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    try:
        owner = json.loads(text)
    except json.JSONDecodeError:
        owner = {}  # unreadable: judged by its age alone
    if not isinstance(owner, dict):
        owner = {}
    owner["mtime"] = mtime
    return owner


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def claim_is_stale(owner: dict[str, Any], stale_after: float, now: float | None = None) -> bool:
    """True if the owner's process is gone (same host) or its heartbeat is older than
    `stale_after` seconds."""
    now = time.time() if now is None else now
    if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
        if not _pid_alive(owner["pid"]):
            return True
    return now - float(owner.get("mtime", 0.0)) > stale_after


@dataclass
class Claim:
    """A held claim; use as a context manager (heartbeat while inside, release at exit)."""

    folder: Path
    token: str
    stale_after: float
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    lost: bool = False

    @property
    def path(self) -> Path:
        return self.folder / CLAIM_FILE

    def is_mine(self) -> bool:
        owner = read_claim(self.folder)
        return owner is not None and owner.get("token") == self.token

    def refresh(self) -> bool:
        """Touch the claim (heartbeat); False (and :attr:`lost`) if it is no longer ours."""
        if not self.is_mine():
            self.lost = True
            return False
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path)
        return True

    def release(self) -> None:
        """Stop the heartbeat and remove the claim if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self.is_mine():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _beat(self) -> None:
        interval = max(self.stale_after / 4.0, 0.05)
        while not self._stop.wait(interval):
            if not self.refresh():
                return

    def __enter__(self) -> Claim:
        self._thread = threading.Thread(target=self._beat, name="rdpc-claim", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_create(folder: Path, record: dict[str, Any]) -> bool:
    tmp = folder / f".claim.{record['token']}.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    try:
        os.link(tmp, folder / CLAIM_FILE)  # atomic; fails if a claim exists
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: exclusive create instead
        try:
            fd = os.open(folder / CLAIM_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(record))
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _break_stale(folder: Path, owner: dict[str, Any]) -> None:
    aside = folder / f".claim.stale.{uuid.uuid4().hex}"
    try:
        os.rename(folder / CLAIM_FILE, aside)
    except FileNotFoundError:
        return  # someone else broke or released it
    try:
        moved = json.loads(aside.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        moved = {}
    if isinstance(moved, dict) and moved.get("token") != owner.get("token"):
        # We moved a fresh claim that replaced the stale one meanwhile: put it back.
        with contextlib.suppress(FileExistsError):
            os.link(aside, folder / CLAIM_FILE)
    with contextlib.suppress(FileNotFoundError):
        aside.unlink()


def acquire_claim(
    folder: str | os.PathLike[str],
    *,
    stale_after: float = 120.0,
    wait: bool = True,
    poll: float = 0.5,
    timeout: float | None = None,
) -> Claim:
    """Claim `folder` (created if needed) for this process.

    Parameters
    ----------
    stale_after : float
        Seconds without a heartbeat after which another host's claim is considered dead
        (> 0). A claim of a dead process on this host is stale at once.
    wait : bool
        Wait for a live owner to release (default); if False raise :class:`ClaimHeld`.
    poll, timeout : float
        Polling interval while waiting, and the longest wait (``None``: no limit), seconds.

    Returns
    -------
    Claim
        Use it as a context manager so that its heartbeat runs and it is released.
    """
    if not stale_after > 0:
        raise ValueError(f"`stale_after` must be > 0 seconds; got {stale_after!r}.")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    record = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "token": token,
        "since": time.time(),
    }
    t0 = time.monotonic()
    while True:
        if _try_create(path, record):
            return Claim(path, token, stale_after)
        owner = read_claim(path)
        if owner is None:
            continue  # released meanwhile
        if claim_is_stale(owner, stale_after):
            _break_stale(path, owner)
            continue
        if not wait:
            raise ClaimHeld(f"{path} is claimed by pid {owner.get('pid')} on {owner.get('host')!r}")
        if timeout is not None and time.monotonic() - t0 > timeout:
            raise ClaimHeld(f"{path} is still claimed after {timeout:g} s")
        time.sleep(poll)
