"""``rdpc reproduce`` stage: the paper checks (``rdpc check``) -> ``checks.json``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from paper_checks.framework import Profile as CheckProfile
    from paper_checks.framework import format_table, report_dict, run_checks, select_checks
    from paper_checks.framework import write_json as write_checks_json

    check_profile = CheckProfile(name=settings["checks"], show_progress=env.progress)
    t0 = time.perf_counter()
    records = run_checks(select_checks(None), check_profile, announce=True)
    report = report_dict(records, check_profile, time.perf_counter() - t0)
    write_checks_json(env.out / "checks.json", report)
    stage.ok = bool(report["consistent"])
    stage.numbers = {"verdicts": report["verdict_counts"], "consistent": stage.ok}
    if not stage.ok:
        stage.error = "the implementation disagrees with itself (see checks.json)"
    stage.markdown += [
        f"Profile `{settings['checks']}`; implementation self-consistent: "
        f"**{'yes' if stage.ok else 'NO'}**. A verdict `fails` is a finding about the "
        "paper's claim, not an error of rdpc. Full evidence: `checks.json`.",
        "",
        format_table(records, style="markdown"),
    ]


register_stage(
    StageSpec(
        key="checks",
        title="Paper checks",
        order=10,
        run=run,
        settings={
            "tiny": {"checks": "quick"},
            "quick": {"checks": "quick"},
            "full": {"checks": "full"},
        },
    )
)
