"""``rdpc theory FUNCTION ...`` in-process: every function, both sources, CSV, units, errors."""

from __future__ import annotations

import csv
import io
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from rdpc.cli import main
from rdpc_theory import BinarySource, GaussianSource

ARGS = {
    "rd": ("D",),
    "rc": ("C",),
    "rdc": ("D", "C"),
    "rdp": ("D", "P"),
    "rpc": ("P", "C"),
    "rdpc": ("D", "P", "C"),
}
VALUES = {
    "binary": {"D": ["0.05", "0.2"], "P": ["0", "0.03"], "C": ["0.6", "0.85"]},
    "gaussian": {"D": ["0.3", "1.2"], "P": ["0", "0.05"], "C": ["0.8", "1.3"]},
}
COLUMN = {
    "binary": {"D": "D_hamming", "P": "P_tv", "C": "C_bits"},
    "gaussian": {"D": "D_mse", "P": "P_w2sq", "C": "C_bits"},
}


def _argv(function: str, source: str, *extra: str) -> list[str]:
    argv = ["theory", function, "--source", source]
    for name in ARGS[function]:
        argv += [f"--{name}", *VALUES[source][name]]
    return argv + list(extra)


def _expected(function: str, source: str, row: tuple[str, ...], **kw: object) -> float:
    src: BinarySource | GaussianSource
    if source == "binary":
        src = BinarySource(0.3, 0.1)  # the CLI defaults
    else:
        src = GaussianSource(1.0, 0.5, 0.9 * math.sqrt(0.5))
    return float(getattr(src, function)(*(float(v) for v in row), **kw))


@pytest.mark.parametrize("source", ["binary", "gaussian"])
@pytest.mark.parametrize("function", list(ARGS))
def test_table_output(function: str, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(function, source)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.strip().splitlines()
    header = lines[0].split()
    assert header == [COLUMN[source][n] for n in ARGS[function]] + ["rate_bits"]
    grid = list(itertools.product(*(VALUES[source][n] for n in ARGS[function])))
    assert len(lines) == 1 + len(grid)
    for line, row in zip(lines[1:], grid, strict=True):
        cells = line.split()
        assert [float(c) for c in cells[:-1]] == [float(v) for v in row]
        # The table prints 10 significant digits.
        assert float(cells[-1]) == pytest.approx(_expected(function, source, row), rel=1e-9)


@pytest.mark.parametrize("source", ["binary", "gaussian"])
@pytest.mark.parametrize("function", list(ARGS))
def test_csv_to_stdout_is_exact(
    function: str, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(function, source, "--csv")) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [COLUMN[source][n] for n in ARGS[function]] + ["rate_bits"]
    grid = list(itertools.product(*(VALUES[source][n] for n in ARGS[function])))
    for got, row in zip(rows[1:], grid, strict=True):
        assert float(got[-1]) == _expected(function, source, row)  # repr round-trips


def test_csv_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rdc.csv"
    assert main(_argv("rdc", "binary", "--csv", str(target))) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0] == ["D_hamming", "C_bits", "rate_bits"]
    assert len(rows) == 1 + 4
    assert float(rows[1][2]) == float(BinarySource(0.3, 0.1).rdc(0.05, 0.6))


def test_base_e_gives_nats_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["theory", "rdpc", "--source", "gaussian", "--perception", "kl", "--base", "e"]
    argv += ["--D", "0.5", "--P", "0.02", "--C", "0.6", "--csv"]
    assert main(argv) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["D_mse", "P_kl_nats", "C_nats", "rate_nats"]
    g = GaussianSource(1.0, 0.5, 0.9 * math.sqrt(0.5))
    nats = float(g.rdpc(0.5, 0.02, 0.6, perception="kl", base=math.e))
    assert float(rows[1][3]) == nats
    # The same point in bits: P (KL) and C converted too.
    bits = float(g.rdpc(0.5, 0.02 / math.log(2), 0.6 / math.log(2), perception="kl"))
    assert nats == pytest.approx(bits * math.log(2), rel=1e-12)


def test_binary_base_e_and_source_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["theory", "rc", "--p", "0.7", "--eps", "0.05", "--C", "0.4", "--base", "e", "--csv"]
    assert main(argv) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["C_nats", "rate_nats"]
    assert float(rows[1][1]) == float(BinarySource(0.7, 0.05).rc(0.4, base=math.e))


def test_infinite_rate_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "rc", "--C", "0.3", "--csv"]) == 0  # below H_b(0.1): infeasible
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert float(rows[1][1]) == math.inf


BAD = [
    ("missing --C", ["theory", "rdc", "--D", "0.1"]),
    ("extra --P", ["theory", "rdc", "--D", "0.1", "--C", "0.8", "--P", "0.1"]),
    ("p out of range", ["theory", "rd", "--p", "2", "--D", "0.1"]),
    ("eps = 1/2", ["theory", "rd", "--eps", "0.5", "--D", "0.1"]),
    ("negative D", ["theory", "rd", "--D", "-0.1"]),
    ("negative P", ["theory", "rdp", "--D", "0.1", "--P", "-1"]),
    ("nan C", ["theory", "rc", "--C", "nan"]),
    ("cov not PSD", ["theory", "rd", "--source", "gaussian", "--cov", "5", "--D", "0.1"]),
    ("var_x = 0", ["theory", "rd", "--source", "gaussian", "--var-x", "0", "--D", "0.1"]),
    ("perception", ["theory", "rdp", "--source", "gaussian", "--perception", "tv", "--D", "1"]),
    ("unknown function", ["theory", "foo"]),
    ("unknown source", ["theory", "rd", "--source", "poisson", "--D", "0.1"]),
    ("not a number", ["theory", "rd", "--D", "abc"]),
    ("base 1", ["theory", "rd", "--D", "0.1", "--base", "1"]),
    ("base word", ["theory", "rd", "--D", "0.1", "--base", "ten"]),
    ("no function", ["theory"]),
]


@pytest.mark.parametrize(("case", "argv"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_exit_2_with_one_line(
    case: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "error" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "rdpc", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--D", "--P", "--C", "--csv", "--base", "--perception"):
        assert flag in out


def test_broadcast_grid_matches_library(capsys: pytest.CaptureFixture[str]) -> None:
    d = ["0", "0.1", "0.2", "0.35"]
    c = ["0.47", "0.7", "0.95"]
    assert main(["theory", "rdc", "--D", *d, "--C", *c, "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    grid = BinarySource(0.3, 0.1).rdc(np.array(d, float)[:, None], np.array(c, float)[None, :])
    assert [float(r[2]) for r in rows] == grid.ravel().tolist()
