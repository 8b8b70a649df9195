"""The `rdpc` dispatcher: subcommands, and a clear message when the neural extra is absent."""

from __future__ import annotations

import sys

from rdpc.cli import main


def test_help_lists_the_subcommands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("theory", "check", "figures", "train", "sweep", "runs", "synthetic", "reproduce"):
        assert name in out


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: rdpc" in capsys.readouterr().out


def test_missing_neural_extra_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    assert main(["train", "--preset", "cpu-fig9a", "--max-steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "needs the optional module 'torch'" in err[0] and "rdpc[neural]" in err[0]
