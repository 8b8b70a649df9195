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
    import json

    from rdpc_common.errors import FileProblem
    from rdpc_neural.core.registry import get_kind
    from rdpc_neural.core.rundir import RunPaths, read_run_config, run_dir, write_run_config
    from rdpc_neural.kinds.synthetic_config import SyntheticConfig

    kind = get_kind("synthetic")
    config = SyntheticConfig(steps=7)
    paths = run_dir(tmp_path, "p", kind, config)
    write_run_config(paths, kind, config, "p")
    meta = json.loads(paths.config.read_text())
    assert meta["config"] == config.to_dict() and meta["kind"] == "synthetic"
    assert {"rdpc_version", "git_sha", "schema_version", "libraries"} <= set(meta)
    write_run_config(paths, kind, config, "p")  # resume: no-op
    assert json.loads(paths.config.read_text()) == meta
    with pytest.raises(FileProblem, match="holds another config"):
        # a directory name that does not match: written by hand into another run's folder
        other = RunPaths(tmp_path / "p" / paths.root.name)
        write_run_config(other, kind, config.replace(steps=8), "p")
    assert read_run_config(paths.root)[1] == config
