"""``rdpc reproduce`` stage: the theory figures (``rdpc figures theory``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .stages import StageEnv, StageOutcome, StageSpec, register_stage


def run(stage: StageOutcome, settings: Mapping[str, Any], env: StageEnv) -> None:
    from figures.theory import theory_figures

    paths = theory_figures(env.out / "figures", grid=settings["grid"], formats=("png", "pdf"))
    stage.figures = [p for p in paths if p.suffix == ".png" and "contour" not in p.stem]
    stage.markdown.append(
        "Closed forms from `rdpc_theory`; Gaussian panels in nats (σ_X² = 1, σ_S² = 0.5, "
        "ρ = 0.9, the paper's figure), binary panels in bits (p = 0.3, ε = 0.1). "
        "PDFs and single-panel contour maps are next to the PNGs."
    )


register_stage(
    StageSpec(
        key="theory",
        title="Theory figures",
        order=20,
        run=run,
        settings={"tiny": {"grid": 21}, "quick": {"grid": 121}, "full": {"grid": 241}},
    )
)
