"""The README's tables of results match the committed result files they are generated from.

Each table sits between ``<!-- table NAME ... -->`` markers and is rendered by
``docs/results/build_tables.py`` from ``benchmarks/results/*.json`` or ``docs/results/*.json``
(run it with ``--write`` after regenerating a result file).  The expected values here are
read from those files, independently of the README text.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _build_tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_tables", ROOT / "docs" / "results" / "build_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_tables()
BLOCKS = BUILD.readme_blocks(README)


def test_every_table_is_in_the_readme() -> None:
    assert set(BLOCKS) == set(BUILD.TABLES)


@pytest.mark.parametrize("name", sorted(BUILD.TABLES))
def test_readme_table_matches_its_result_file(name: str) -> None:
    assert BLOCKS[name] == BUILD.render(name), (
        f"README table {name!r} is stale: run python docs/results/build_tables.py --write"
    )


def test_every_result_table_in_the_readme_is_generated() -> None:
    """No hand-written table of results: every table row sits inside a generated block."""
    outside = README
    for name in BLOCKS:
        outside = re.sub(rf"<!-- table {name}:.*?<!-- end {name} -->", "", outside, flags=re.S)
    assert not [line for line in outside.splitlines() if line.startswith("|")]


def _row(name: str, first_cell: str) -> list[str]:
    for line in BLOCKS[name].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in {name}")


def test_mnist_rows_agree_with_the_runs_file() -> None:
    """Independent of the renderer: recompute a few cells from the raw runs."""
    data = json.loads((ROOT / "docs/results/cpu_fig9a.json").read_text(encoding="utf-8"))
    assert data["versions"]["torch"] and data["versions"]["numpy"]
    runs = [r for r in data["runs"] if r["status"] == "finished" and r["lambda_p"] == 0.0]
    for rate, label in ((4.754887502163468, "4.75"), (6.0, "6"), (8.0, "8"), (10.0, "10")):
        rr = [r for r in runs if abs(r["rate_bits"] - rate) < 1e-9]
        if not rr:
            continue
        cells = _row("mnist_fig9a", label)
        assert int(cells[1]) == len(rr)
        lo, hi = (float("0" + x) for x in cells[2].split("–"))
        assert lo == pytest.approx(min(r["mse"] for r in rr), abs=5e-5)
        assert hi == pytest.approx(max(r["mse"] for r in rr), abs=5e-5)
        best = float("0" + cells[3].split(" ")[0])
        assert best == pytest.approx(max(r["acc"] for r in rr), abs=5e-4)


def test_synthetic_rows_agree_with_the_gaps_file() -> None:
    data = json.loads((ROOT / "docs/results/synthetic_quick.json").read_text(encoding="utf-8"))
    below = sum(r["below_bound"] for r in data["gaps"])
    table_below = sum(
        int(line.strip("|").split("|")[4])
        for line in BLOCKS["synthetic_gaps"].splitlines()
        if line.startswith("| binary") or line.startswith("| gaussian")
    )
    assert table_below == below


def _results(name: str) -> dict:
    return json.loads((ROOT / "benchmarks/results" / name).read_text(encoding="utf-8"))


def test_certified_rows_agree_with_the_raw_points() -> None:
    """Counts and largest gap per alphabet size, from the per-point rows (not the summary)."""
    rows = _results("discrete_certified.json")["rows"]
    for n_x in sorted({r["n_x"] for r in rows}):
        rr = [r for r in rows if r["n_x"] == n_x]
        cells = _row("discrete_certified", str(n_x))
        assert int(cells[1]) == len(rr)
        assert int(cells[2]) == sum(r["converged"] for r in rr)
        largest = float(cells[3].split(" ")[0])
        assert largest == pytest.approx(max(r["gap_bits"] for r in rr if r["converged"]), rel=0.06)
        assert largest <= max(r["tol_bits"] for r in rr)  # a converged gap is within tolerance


def test_training_cost_follows_from_the_step_time() -> None:
    """Images/s = batch / step time and CPU-hours = steps x step time, from the raw numbers."""
    result = _results("train_speed_compare.json")["result"]
    steps, batch = result["config"]["steps"], result["config"]["batch_size"]
    per_step = result["cpu_seconds_per_step_with_eval"]
    images = _row("train_speed_compare", "encoder/decoder images per CPU-second")
    hours = _row("train_speed_compare", "CPU-hours per run")
    for column, layout in ((1, "contiguous"), (2, "channels_last")):
        assert float(images[column]) == pytest.approx(batch / per_step[layout], abs=0.5)
        assert float(hours[column]) == pytest.approx(steps * per_step[layout] / 3600, abs=0.05)


def test_banana_gaps_are_coded_bits_minus_rd() -> None:
    """The gap column is the coded-bits column minus the R(D) column, and the coded bits are
    those of the runs themselves (each table cell is rounded to 2 decimals)."""
    frontier = _results("invariant_banana.json")["presets"]["banana-frontier"]
    cells = _row("banana_gaps", "VC")
    coded, rd, gap = ([float(x) for x in cells[i].split(" / ")] for i in (4, 5, 8))
    for c, r, g in zip(coded, rd, gap, strict=True):
        assert g == pytest.approx(c - r, abs=0.011)
    vc_runs = sorted(
        (r for r in frontier["runs"] if r["compressor"] == "vc"), key=lambda r: r["beta"]
    )
    assert coded == pytest.approx([r["coded_bits"] for r in vc_runs], abs=0.005)
    banana_coded = [float(x.strip("*")) for x in _row("banana_coded", "VC")[2].split(" / ")]
    assert banana_coded == coded
