"""Atomic result writes: complete or absent, readable like an ordinary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rdpc_common.atomic import atomic_write, atomic_write_text


def test_writes_text_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    assert atomic_write_text(target, "x,y\r\n1,2\n") == target
    assert target.read_bytes() == b"x,y\r\n1,2\n"  # newlines untranslated
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]  # no temp file left


def test_permissions_follow_umask_not_mkstemp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = atomic_write_text(tmp_path / "r.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failure_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "metrics.csv"
    target.write_text("old\n")

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise KeyboardInterrupt  # an interrupt mid-write

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_run_config_is_written_once_and_guarded(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import json

    from rdpc_neural.core.rundir import write_run_config

    path = tmp_path / "run" / "config.json"
    write_run_config(path, {"config": {"a": 1}, "hash": "h1", "preset": "p"})
    meta = json.loads(path.read_text())
    assert meta["config"] == {"a": 1} and {"rdpc_version", "git_sha"} <= set(meta)
    write_run_config(path, {"config": {"a": 1}, "hash": "h1", "preset": "p"})  # resume: no-op
    assert json.loads(path.read_text()) == meta
    with pytest.raises(ValueError, match="holds another config"):
        write_run_config(path, {"config": {"a": 2}, "hash": "h2", "preset": "p"})
