"""`rdpc reproduce`: a tiny end-to-end run on the synthetic sources, and the MNIST skip path."""

from __future__ import annotations

import json

import pytest

from rdpc.cli import main


def test_reproduce_tiny_synthetic_only(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["reproduce", "--profile", "tiny", "--skip-mnist", "--no-progress",
                   "--jobs", "1", "--out", str(out)])  # fmt: skip
    assert status == 0
    report = (out / "report.md").read_text()
    headings = ("## 1. Paper checks", "## 2. Theory figures",
                "## 3. Neural codecs on the theoretical sources", "## 4. MNIST codecs")  # fmt: skip
    for heading in headings:
        assert heading in report
    assert "points below their bound: **0**" in report
    assert "_Skipped:_ --skip-mnist" in report
    checks = json.loads((out / "checks.json").read_text())
    assert checks["consistent"] is True and len(checks["checks"]) >= 9
    for name in (
        "gaussian_rdc_rpc",
        "binary_rdc_rpc",
        "overlay_gaussian",
        "synthetic_rate_vs_bound",
    ):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"figures/{name}.png" in report
    numbers = json.loads((out / "report.json").read_text())
    assert numbers["Neural codecs on the theoretical sources"]["below_bound"] == 0
    # Re-running reuses the finished synthetic runs (nothing retrained, same numbers).
    status = main(["reproduce", "--profile", "tiny", "--skip-mnist", "--no-progress",
                   "--jobs", "1", "--out", str(out)])  # fmt: skip
    assert status == 0
    again = json.loads((out / "report.json").read_text())
    assert (
        again["Neural codecs on the theoretical sources"]
        == numbers["Neural codecs on the theoretical sources"]
    )


def test_mnist_stage_skips_with_a_clear_message_when_data_is_missing(tmp_path, monkeypatch):
    import rdpc_neural.data as data
    from rdpc.reproduce.stages import StageEnv, StageOutcome, registered_stages

    def missing(*args, **kwargs):
        raise data.DataNotFoundError("MNIST files not found; put them in /somewhere/mnist")

    monkeypatch.setattr(data, "load_mnist", missing)
    spec = next(s for s in registered_stages() if s.key == "mnist")
    stage = StageOutcome(spec.title)
    env = StageEnv(tmp_path, tmp_path / "runs", None, 1, "cpu", False, "tiny")
    spec.run(stage, spec.settings["tiny"], env)
    assert stage.skipped is not None and "put them in /somewhere/mnist" in stage.skipped
    assert stage.ok


def test_reproduce_rejects_bad_arguments(capsys):
    assert main(["reproduce", "--quick", "--profile", "full"]) == 2
    assert "`--quick` conflicts with `--profile full`" in capsys.readouterr().err
    with pytest.raises(ValueError, match="`jobs` must be an integer >= 1; got 0"):
        from rdpc.reproduce import reproduce

        reproduce("tiny", "unused", jobs=0)
