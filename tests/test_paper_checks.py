"""``rdpc check``: the quick profile end to end, and the framework's contracts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from paper_checks import framework
from paper_checks.cli import main as checks_main
from paper_checks.framework import CHECK_NAMES, VERDICTS, CheckResult, Profile
from rdpc.cli import main


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    out = tmp_path_factory.mktemp("checks") / "checks.json"
    code = main(["check", "--quick", "--no-progress", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_quick_profile_is_self_consistent(quick_run: tuple[int, dict[str, Any]]) -> None:
    code, report = quick_run
    bad = [c["name"] for c in report["checks"] if not c["consistent"]]
    assert code == 0, f"implementation inconsistent in {bad}"
    assert report["consistent"] is True
    assert report["profile"] == "quick"


def test_report_structure(quick_run: tuple[int, dict[str, Any]]) -> None:
    _, report = quick_run
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    for c in report["checks"]:
        assert set(c) >= {"name", "claim", "where", "verdict", "evidence", "consistent", "seconds"}
        assert c["verdict"] in VERDICTS
        assert c["verdict"] != "error", c["evidence"]
        assert c["claim"] and c["where"] and c["evidence"]
        assert c["seconds"] >= 0
    assert sum(report["verdict_counts"].values()) == len(CHECK_NAMES)


def test_paper_findings_are_reported_not_hidden(quick_run: tuple[int, dict[str, Any]]) -> None:
    # Binary RPC has a C-P tradeoff (p=.3, eps=.1, C=.8), against the claim in the abstract of
    # Wang et al., JSAC 2025 (arXiv:2405.04144), and is not jointly convex (docs/references.md,
    # "Findings"); both are findings with exit status 0.
    checks = {c["name"]: c for c in quick_run[1]["checks"]}
    binary = checks["rpc_tradeoff_binary"]
    assert binary["verdict"] == "fails"
    cx = binary["details"]["counterexample"]
    assert cx["R(0,C)_bits"] > cx["R(inf,C)_bits"] + 1e-3
    assert "0.207040" in binary["evidence"] and "0.203945" in binary["evidence"]
    assert checks["rpc_convexity"]["verdict"] == "fails"
    assert "0.0323669" in checks["rpc_convexity"]["evidence"]
    assert checks["rpc_tradeoff_gaussian"]["verdict"] in ("holds", "not-checked")


def test_only_selects_and_json_is_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    code = checks_main(["--quick", "--no-progress", "--only", "mono,common_r", "--json", str(out)])
    assert code == 0
    text = out.read_text()
    assert "Infinity" not in text and "NaN" not in text  # strict JSON
    assert [c["name"] for c in json.loads(text)["checks"]] == ["monotonicity", "common_randomness"]
    table = capsys.readouterr().out
    assert "monotonicity" in table and "closed_forms" not in table


def test_select_checks() -> None:
    assert framework.select_checks(None) == list(CHECK_NAMES)
    assert framework.select_checks(["symbolic", "mono"]) == ["monotonicity", "symbolic_gaussian"]
    with pytest.raises(ValueError, match="matches no check"):
        framework.select_checks(["nope"])
    with pytest.raises(ValueError, match="ambiguous"):
        framework.select_checks(["rpc_"])
    assert main(["check", "--only", "nope"]) == 2


def test_inconsistency_and_errors_give_exit_status_1(monkeypatch: pytest.MonkeyPatch) -> None:
    module = framework.load_check("monotonicity")
    monkeypatch.setattr(
        module, "run", lambda profile: CheckResult("holds", "made up", consistent=False)
    )
    assert main(["check", "--quick", "--no-progress", "--only", "monotonicity"]) == 1

    def boom(profile: Profile) -> CheckResult:
        raise RuntimeError("kaput")

    monkeypatch.setattr(module, "run", boom)
    records = framework.run_checks(["monotonicity"], Profile("quick"))
    assert records[0].verdict == "error" and not records[0].consistent
    assert "kaput" in records[0].evidence
    # A failing paper claim alone keeps exit status 0.
    monkeypatch.setattr(module, "run", lambda profile: CheckResult("fails", "counterexample"))
    assert main(["check", "--quick", "--no-progress", "--only", "monotonicity"]) == 0


def test_table_formats() -> None:
    rec = framework.CheckRecord(
        "demo", "a claim", "Sec. 1", "holds-with-conditions", "x | y " * 40, True, 1.25, {}
    )
    text = framework.format_table([rec])
    assert "demo" in text and "holds-with-conditions" in text
    assert max(len(line) for line in text.splitlines()) < 160
    md = framework.format_table([rec], style="markdown")
    assert md.splitlines()[0].startswith("| claim") and "\\|" in md
    with pytest.raises(ValueError, match="`style` must be one of"):
        framework.format_table([rec], style="html")


def test_json_sanitizes_non_finite(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    framework.write_json(out, {"a": math.inf, "b": [float("nan"), 1.0], "c": (1, 2)})
    assert json.loads(out.read_text()) == {"a": "inf", "b": ["nan", 1.0], "c": [1, 2]}


def test_verdict_is_validated() -> None:
    with pytest.raises(ValueError, match="`verdict` must be one of"):
        CheckResult("maybe", "x")
    with pytest.raises(ValueError, match="`profile` must be one of"):
        Profile("slow")


def test_every_check_quotes_its_claim() -> None:
    for name in CHECK_NAMES:
        module = framework.load_check(name)
        assert module.__doc__ and len(module.__doc__) > 200, name
        assert module.CLAIM and module.WHERE, name
