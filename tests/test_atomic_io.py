"""Atomic result writes: complete or absent, readable like an ordinary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rdpc_theory.atomic_io import atomic_write, atomic_write_text


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
