"""Bad inputs, table-driven: every one answered by a clear message naming the parameter or file.

Two tables, one row per case; append rows to extend them (the neural CLI's cases belong in
``CLI_CASES`` too: ``rdpc train``, ``sweep``, ``runs``, ``synthetic`` go through the same
``rdpc.cli.main``).

* ``API_CASES``: ``(id, call, pattern)``.  ``call()`` must raise ``ValueError`` whose one-line
  message matches the regular expression ``pattern`` (which names the parameter in
  backticks, and usually its range and the value received: ``"`D` must be >= 0; got -0.1."``).
* ``CLI_CASES``: :class:`CliCase` rows run in-process through ``main(argv)``: the exit status
  (2 for usage errors only; 1 for a file or folder that cannot be used) and exactly one line
  on stderr, no traceback, containing every string of ``names`` (the option, parameter or path).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from paper_checks.cli import main as checks_main
from rdpc.cli import main as rdpc_main
from rdpc_theory import BinarySource, GaussianSource
from rdpc_theory.brute_force import binary_brute_force, gaussian_brute_force
from rdpc_theory.entropy import (
    binary_convolution,
    binary_entropy,
    binary_entropy_inv,
    gaussian_entropy,
)
from rdpc_theory.quantization import DitheredQuantizer
from rdpc_theory.restoration import BinaryRestoration, GaussianRestoration
from rdpc_theory.units import log_base

NAN = float("nan")
B = BinarySource(0.3, 0.1)
G = GaussianSource(1.0, 0.5, 0.6)
Q = DitheredQuantizer(levels=3)
BR = BinaryRestoration(0.3, 0.1, 0.1)
GR = GaussianRestoration(1.0, 0.5, 0.6, var_noise=0.2)

_SHAPES_DC = r"`D`, `C` must have shapes that broadcast together.*`D` \(2,\), `C` \(3,\)\."
_PSD = r"`cov` must satisfy \|cov\| <= sqrt\(var_x \* var_s\) = 0\.707107 \(positive semi-definite"
API_CASES: list[tuple[str, Callable[[], object], str]] = [
    # Binary source parameters
    ("p<0", lambda: BinarySource(-0.1, 0.1), r"`p` must be in \[0, 1\]; got -0\.1\."),
    ("p>1", lambda: BinarySource(1.5, 0.1), r"`p` must be in \[0, 1\]; got 1\.5\."),
    ("p=nan", lambda: BinarySource(NAN, 0.1), r"`p` must not be NaN; got nan\."),
    ("p array", lambda: BinarySource([0.3, 0.2], 0.1), r"`p` must be a scalar"),  # type: ignore[arg-type]
    ("eps=1/2", lambda: BinarySource(0.3, 0.5), r"`eps` must be in \[0, 0\.5\); got 0\.5\."),
    ("eps<0", lambda: BinarySource(0.3, -0.1), r"`eps` must be in \[0, 0\.5\); got -0\.1\."),
    ("eps=nan", lambda: BinarySource(0.3, NAN), r"`eps` must not be NaN; got nan\."),
    # Binary bounds
    ("rd D<0", lambda: B.rd(-0.1), r"`D` must be >= 0; got -0\.1\."),
    ("rdc D array<0", lambda: B.rdc([0.1, -0.3], 0.5), r"`D` must be >= 0; got -0\.3\."),
    ("rdc D=nan", lambda: B.rdc(NAN, 0.5), r"`D` must not be NaN"),
    ("rdp P<0", lambda: B.rdp(0.1, -0.2), r"`P` must be >= 0; got -0\.2\."),
    ("rpc P<0", lambda: B.rpc(-0.2, 0.8), r"`P` must be >= 0; got -0\.2\."),
    ("rdpc P=nan", lambda: B.rdpc(0.1, NAN, 0.8), r"`P` must not be NaN"),
    ("rc C<0", lambda: B.rc(-0.5), r"`C` must be >= 0; got -0\.5\."),
    ("rdpc C=nan", lambda: B.rdpc(0.1, 0.1, NAN), r"`C` must not be NaN"),
    ("rd D=str", lambda: B.rd("abc"), r"`D` must be a real number"),  # type: ignore[arg-type]
    ("base=1", lambda: B.rd(0.1, base=1), r"`base` must be > 0 and != 1; got 1\."),
    ("base<0", lambda: B.rdc(0.1, 0.8, base=-2), r"`base` must be > 0; got -2\."),
    ("base=nan", lambda: B.rc(0.8, base=NAN), r"`base` must not be NaN"),
    # Gaussian source parameters
    ("var_x=0", lambda: GaussianSource(0.0, 1.0, 0.0), r"`var_x` must be > 0; got 0\."),
    ("var_x<0", lambda: GaussianSource(-1.0, 1.0, 0.0), r"`var_x` must be > 0; got -1\."),
    ("var_x=inf", lambda: GaussianSource(math.inf, 1.0, 0.0), r"`var_x` must be finite; got inf"),
    ("var_s=0", lambda: GaussianSource(1.0, 0.0, 0.0), r"`var_s` must be > 0; got 0\."),
    ("var_s=nan", lambda: GaussianSource(1.0, NAN, 0.0), r"`var_s` must not be NaN"),
    ("cov not PSD", lambda: GaussianSource(1.0, 0.5, 0.8), _PSD + r".*got 0\.8\."),
    ("cov not PSD<0", lambda: GaussianSource(1.0, 0.5, -0.8), _PSD + r".*got -0\.8\."),
    ("cov=nan", lambda: GaussianSource(1.0, 0.5, NAN), r"`cov` must not be NaN"),
    # Gaussian bounds and options
    ("g rd D<0", lambda: G.rd(-1.0), r"`D` must be >= 0; got -1\."),
    ("g rdc D<0", lambda: G.rdc(-1.0, 1.0), r"`D` must be >= 0; got -1\."),
    ("g rc C=nan", lambda: G.rc(NAN), r"`C` must not be NaN"),
    ("g rdp P<0", lambda: G.rdp(0.5, -0.1), r"`P` must be >= 0; got -0\.1\."),
    ("g rpc P<0", lambda: G.rpc(-0.1, 1.0, perception="kl"), r"`P` must be >= 0; got -0\.1\."),
    ("g rdpc D<0", lambda: G.rdpc(-0.5, 0.1, 1.0), r"`D` must be >= 0; got -0\.5\."),
    (
        "perception=tv",
        lambda: G.rdp(0.1, 0.1, perception="tv"),
        r"`perception` must be one of 'w2', 'kl'; got 'tv'\.",
    ),
    ("perception=W2", lambda: G.rpc(0.1, 1.0, perception="W2"), r"`perception`.*got 'W2'\."),
    ("perception rdpc", lambda: G.rdpc(0.1, 0.1, 1.0, perception=""), r"`perception`.*got ''\."),
    ("g base=1", lambda: G.rd(0.5, base=1.0), r"`base` must be > 0 and != 1; got 1\."),
    # Entropy helpers
    ("Hb p>1", lambda: binary_entropy(1.2), r"`p` must be in \[0, 1\]; got 1\.2\."),
    ("Hb p=nan", lambda: binary_entropy(NAN), r"`p` must not be NaN"),
    ("Hb^-1 h>1", lambda: binary_entropy_inv(1.5), r"`h` must be in \[0, 1\]; got 1\.5\."),
    ("Hb^-1 h<0", lambda: binary_entropy_inv(-0.1), r"`h` must be in \[0, 1\]; got -0\.1\."),
    ("Hb^-1 nats", lambda: binary_entropy_inv(0.7, base=math.e), r"`h` must be in \[0, 0\.69"),
    ("conv b>1", lambda: binary_convolution(0.3, 2.0), r"`b` must be in \[0, 1\]; got 2\."),
    ("conv a<0", lambda: binary_convolution(-0.3, 0.2), r"`a` must be in \[0, 1\]; got -0\.3\."),
    ("h(var<0)", lambda: gaussian_entropy(-1.0), r"`var` must be >= 0; got -1\."),
    ("log_base(0)", lambda: log_base(0.0), r"`base` must be > 0; got 0\."),
    # Brute force (same policy)
    ("bf p>1", lambda: binary_brute_force(1.2, 0.1), r"`p` must be in \[0, 1\]; got 1\.2\."),
    ("bf D<0", lambda: binary_brute_force(0.3, 0.1, D=-1.0), r"`D` must be >= 0; got -1\."),
    ("bf P<0", lambda: binary_brute_force(0.3, 0.1, P=-1.0), r"`P` must be >= 0; got -1\."),
    ("bf C=nan", lambda: binary_brute_force(0.3, 0.1, C=NAN), r"`C` must not be NaN"),
    ("bf cov", lambda: gaussian_brute_force(1.0, 0.5, 0.8), _PSD + r".*got 0\.8\."),
    ("bf var_s", lambda: gaussian_brute_force(1.0, -0.5, 0.0), r"`var_s` must be > 0; got -0\.5"),
    (
        "bf perception",
        lambda: gaussian_brute_force(1.0, 0.5, 0.6, perception="x"),
        r"`perception` must be one of 'w2', 'kl'; got 'x'\.",
    ),
    (
        "bf base",
        lambda: gaussian_brute_force(1.0, 0.5, 0.6, base=1),
        r"`base` must be > 0 and != 1",
    ),
    # Broadcast-incompatible arguments: both names and both shapes
    ("rdc shapes", lambda: B.rdc([0.1, 0.2], [0.5, 0.6, 0.7]), _SHAPES_DC),
    ("rdp shapes", lambda: B.rdp([0.1, 0.2], [0.0, 0.1, 0.2]), r"`D`, `P` .*\(2,\).*\(3,\)"),
    ("rpc shapes", lambda: B.rpc([0.1, 0.2], [0.5, 0.6, 0.7]), r"`P` \(2,\), `C` \(3,\)"),
    ("rdpc shapes", lambda: B.rdpc([0.1, 0.2], 0.0, [0.5, 0.6, 0.7]), r"`D` \(2,\).*`C`"),
    ("g rdc shapes", lambda: G.rdc([0.1, 0.2], [0.5, 0.6, 0.7]), _SHAPES_DC),
    ("g rdp shapes", lambda: G.rdp([0.1, 0.2], [0.0, 0.1, 0.2]), r"`D` \(2,\), `P` \(3,\)"),
    ("g rpc shapes", lambda: G.rpc([0.1, 0.2], [0.5, 0.6, 0.7]), r"`P` \(2,\), `C` \(3,\)"),
    ("g rdpc shapes", lambda: G.rdpc([0.1, 0.2], 0.1, [0.5, 0.6, 0.7]), r"`D` \(2,\).*`C`"),
    ("conv shapes", lambda: binary_convolution([0.1, 0.2], [0.1] * 3), r"`a` \(2,\), `b` \(3"),
    ("g sample shape", lambda: G.sample(-1), r"`shape` must be a non-negative integer"),
    ("sample shape", lambda: B.sample((2, 1.5)), r"`shape` must be .*got \(2, 1\.5\)\."),  # type: ignore[arg-type]
    ("g D_C nan", lambda: G.distortion_for_classification(NAN), r"`C` must not be NaN"),
    ("g rdp kl", lambda: G.rdp(0.5, 0.1, perception="kl", base=0), r"`base` must be > 0"),
    # Quantization
    ("levels=1", lambda: DitheredQuantizer(1), r"`levels` must be >= 2; got 1\."),
    ("levels=2.5", lambda: DitheredQuantizer(2.5), r"`levels` must be an integer >= 2; got 2\.5"),  # type: ignore[arg-type]
    ("levels=nan", lambda: DitheredQuantizer(NAN), r"`levels` must not be NaN"),  # type: ignore[arg-type]
    ("encode x>1", lambda: Q.encode(2.0), r"`x` must be in \[-1, 1\]; got 2\."),
    ("encode dither", lambda: Q.encode(0.1, 0.7), r"`dither` must be in \[-0\.5, 0\.5\); got 0\.7"),
    ("encode shapes", lambda: Q.encode([0.1, 0.2], [0.0] * 3), r"`x` \(2,\), `dither` \(3,\)"),
    ("decode index<0", lambda: Q.decode(-1), r"`index` must be integers in \[0, 2\]; got -1\."),
    ("decode float", lambda: Q.decode(1.0), r"`index` must be integers in \[0, 2\]"),
    ("decode shapes", lambda: Q.decode([1, 2], [0.0] * 3), r"`index` \(2,\), `dither` \(3,\)"),
    # Restoration
    ("br p>1", lambda: BinaryRestoration(2.0, 0.1, 0.1), r"`p` must be in \[0, 1\]; got 2\."),
    ("br eps", lambda: BinaryRestoration(0.3, 0.6, 0.1), r"`eps` must be in \[0, 0\.5\]; got 0\.6"),
    ("br noise", lambda: BinaryRestoration(0.3, 0.1, -0.1), r"`noise` must be in \[0, 0\.5\]"),
    ("br P<0", lambda: BR.solve(-1.0), r"`P` must be >= 0; got -1\."),
    ("br P array", lambda: BR.solve([0.1, 0.2]), r"`P` must be a scalar"),  # type: ignore[arg-type]
    ("br method", lambda: BR.solve(0.1, method="x"), r"`method` must be one of 'vertices'"),
    ("br grid", lambda: BR.solve(0.1, method="grid", grid=1), r"`grid` must be >= 2; got 1\."),
    ("br base", lambda: BR.solve(0.1, base=0), r"`base` must be > 0; got 0\."),
    ("br C_min P", lambda: BR.min_label_entropy([0.1, -2.0]), r"`P` must be >= 0; got -2\."),
    ("gr var_noise", lambda: GaussianRestoration(1, 0.5, 0.5, -1), r"`var_noise` must be >= 0"),
    ("gr cov", lambda: GaussianRestoration(1, 0.5, 0.9, 0.1), _PSD + r".*got 0\.9\."),
    ("gr var_x", lambda: GaussianRestoration(0, 0.5, 0, 0.1), r"`var_x` must be > 0; got 0\."),
    ("gr perception", lambda: GR.solve(0.1, perception="tv"), r"`perception`.*got 'tv'\."),
    ("gr method", lambda: GR.solve(0.1, method="exact"), r"`method` must be one of 'closed_form'"),
    (
        "gr n_starts",
        lambda: GR.solve(0.1, method="numeric", n_starts=0),
        r"`n_starts` must be >= 1",
    ),
    ("gr base", lambda: GR.solve(0.1, base=1), r"`base` must be > 0 and != 1; got 1\."),
    ("gr C_min P", lambda: GR.min_label_entropy(NAN), r"`P` must not be NaN"),
    ("log_base str", lambda: log_base("e"), r"`base` must be a real number"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("case", "call", "pattern"), API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input_raises_naming_the_parameter(
    case: str, call: Callable[[], object], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    text = str(info.value)
    assert text.startswith("`") and text.endswith(".")  # one sentence, a parameter first
    assert "\n" not in text


@dataclass(frozen=True)
class CliCase:
    """One command line: `argv` for `main`, the exit status, strings the error line must hold.

    ``{file}`` in `argv` or `names` stands for a regular file and ``{tmp}`` for an empty
    folder, both created per case (paths that must not be folders, or must not be files).
    """

    id: str
    argv: Sequence[str]
    status: int
    names: Sequence[str]
    main: Callable[[list[str]], int] = rdpc_main


def _theory(*extra: str) -> list[str]:
    return ["theory", "rdc", "--D", "0.1", "--C", "0.8", *extra]


CLI_CASES: list[CliCase] = [
    # rdpc theory: usage errors (status 2)
    CliCase("theory needs C", ["theory", "rdc", "--D", "0.1"], 2, ["--C"]),
    CliCase("theory extra P", ["theory", "rd", "--D", "0.1", "--P", "0"], 2, ["--P", "--D"]),
    CliCase("theory D<0", ["theory", "rdc", "--D", "-0.1", "--C", "0.8"], 2, ["`D`", "-0.1"]),
    CliCase("theory D=nan", ["theory", "rd", "--D", "nan"], 2, ["`D`", "NaN"]),
    CliCase("theory D text", ["theory", "rd", "--D", "abc"], 2, ["--D", "abc"]),
    CliCase("theory p>1", _theory("--p", "1.5"), 2, ["`p`", "1.5"]),
    CliCase("theory eps", _theory("--eps", "0.5"), 2, ["`eps`", "0.5"]),
    CliCase("theory base=1", _theory("--base", "1"), 2, ["`base`"]),
    CliCase("theory base text", _theory("--base", "two"), 2, ["--base", "two"]),
    CliCase("theory source", _theory("--source", "poisson"), 2, ["--source", "poisson"]),
    CliCase("theory function", ["theory", "rdx"], 2, ["rdx"]),
    CliCase("theory var_x", _theory("--source", "gaussian", "--var-x", "0"), 2, ["`var_x`"]),
    CliCase("theory cov", _theory("--source", "gaussian", "--cov", "5"), 2, ["`cov`", "5"]),
    CliCase(
        "theory perception",
        ["theory", "rdp", "--source", "gaussian", "--D", "0.1", "--P", "0", "--perception", "tv"],
        2,
        ["--perception", "tv"],
    ),
    # rdpc theory: a CSV file that cannot be written (status 1, the path named)
    CliCase(
        "csv no folder",
        _theory("--csv", "/nonexistent/dir/x.csv"),
        1,
        ["--csv", "/nonexistent/dir/x.csv", "does not exist"],
    ),  # fmt: skip
    CliCase("csv is folder", _theory("--csv", "{tmp}"), 1, ["--csv", "{tmp}", "is a folder"]),
    CliCase("csv under file", _theory("--csv", "{file}/x.csv"), 1, ["{file}", "is a file"]),
    # rdpc figures
    CliCase("figures no set", ["figures"], 2, ["theory, mnist, overlay"]),
    CliCase("figures set", ["figures", "maps"], 2, ["maps"]),
    CliCase(
        "figures out file",
        ["figures", "theory", "--out", "{file}"],
        1,
        ["--out", "{file}", "is a file"],
    ),  # fmt: skip
    CliCase(
        "figures out under file",
        ["figures", "theory", "--out", "{file}/sub"],
        1,
        ["{file}", "is a file"],
    ),  # fmt: skip
    CliCase(
        "figures grid", ["figures", "theory", "--grid", "1", "--out", "{tmp}"], 2, ["`--grid`", "1"]
    ),  # fmt: skip
    CliCase("figures grid text", ["figures", "theory", "--grid", "many"], 2, ["--grid", "many"]),
    CliCase("figures format", ["figures", "theory", "--format", "gif"], 2, ["--format", "gif"]),
    CliCase("figures unit", ["figures", "theory", "--unit", "hartley"], 2, ["--unit", "hartley"]),
    CliCase(
        "figures mnist runs",
        ["figures", "mnist", "--runs-dir", "/nonexistent/runs", "--out", "{tmp}"],
        1,
        ["/nonexistent/runs"],
    ),  # fmt: skip
    CliCase(
        "figures overlay runs",
        ["figures", "overlay", "--runs-dir", "/nonexistent/runs", "--out", "{tmp}"],
        1,
        ["/nonexistent/runs"],
    ),  # fmt: skip
    CliCase(
        "figures overlay out", ["figures", "overlay", "--out", "{file}"], 1, ["--out", "{file}"]
    ),  # fmt: skip
    CliCase(
        "figures mnist presets", ["figures", "mnist", "--presets", "gpu"], 2, ["--presets", "gpu"]
    ),  # fmt: skip
    # rdpc check (and python -m paper_checks, the same options)
    CliCase("check only", ["check", "--only", "no_such_check"], 2, ["no_such_check"]),
    CliCase("check json folder", ["check", "--json", "{tmp}"], 1, ["--json", "{tmp}", "folder"]),
    CliCase(
        "check json under file",
        ["check", "--json", "{file}/c.json"],
        1,
        ["--json", "{file}", "is a file"],
    ),  # fmt: skip
    CliCase("check seed", ["check", "--seed", "x"], 2, ["--seed", "x"]),
    CliCase("check format", ["check", "--format", "html"], 2, ["--format", "html"]),
    CliCase("paper_checks only", ["--only", "nope"], 2, ["nope"], main=checks_main),
    CliCase("paper_checks json", ["--json", "{tmp}"], 1, ["--json", "{tmp}"], main=checks_main),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_bad_input_is_one_line_naming_it(
    case: CliCase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    regular = tmp_path / "a_file"
    regular.write_text("not a folder")

    def fill(text: str) -> str:
        return text.replace("{tmp}", str(folder)).replace("{file}", str(regular))

    status = case.main([fill(a) for a in case.argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == case.status, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for name in case.names:
        assert fill(name) in lines[0], (name, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "empty"]  # nothing written
    assert not any(folder.iterdir())


def test_the_table_is_large() -> None:
    assert len(API_CASES) + len(CLI_CASES) >= 80
