"""Banana VC/VIC/BINCE: real coded rates, theory gaps and VIC/VC at equal invariant error.

Reads the finished ``invariant`` runs of the given presets (train them first with
``rdpc sweep --preset banana-quick`` / ``banana-frontier``), and writes one JSON with

* every run's final test row (coded bits from the real chunked stream, estimated bits,
  distortion, held-out invariant error, cells) and its training CPU seconds;
* each VC point against the numerical R(D) of the banana and each VIC point against the R(D)
  of its maximal invariant (:func:`rdpc_neural.kinds.invariant_results.theory_gaps`), at two
  grid sizes (the discretization error), with the Shannon lower bound;
* VIC's rate over VC's at equal rotation-invariant error (VC interpolated on its frontier);
* the figures (quantization maps, points over R(D)) in ``--figures``.

Usage::

    rdpc sweep --preset banana-quick --runs-dir runs
    rdpc sweep --preset banana-frontier --runs-dir runs
    python benchmarks/invariant_banana.py --runs-dir runs --figures results/figures
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--presets", nargs="+", default=["banana-quick", "banana-frontier"])
    parser.add_argument("--cells", nargs=2, type=float, default=[0.3, 0.4],
                        help="cell sides of the fine and coarse banana grids")  # fmt: skip
    parser.add_argument("--bins", nargs=2, type=int, default=[256, 128],
                        help="bins of the fine and coarse maximal-invariant grids")  # fmt: skip
    parser.add_argument("--figures", default=None, help="folder for the figures (PNG + PDF)")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "invariant_banana.json")
    )
    args = parser.parse_args(argv)

    from rdpc_neural.kinds.invariant_results import (
        equal_error_ratio,
        invariant_runs_table,
        theory_gaps,
    )

    result: dict[str, Any] = {
        "benchmark": "invariant_banana",
        "command": "python benchmarks/invariant_banana.py " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_avg_before": list(os.getloadavg()),
        "presets": {},
    }
    for preset in args.presets:
        rows = invariant_runs_table(args.runs_dir, preset)
        if not rows:
            print(f"no finished runs of {preset} under {args.runs_dir}", file=sys.stderr)
            return 1
        t0 = time.process_time()
        gaps = theory_gaps(
            rows, cells=(args.cells[0], args.cells[1]), bins=(args.bins[0], args.bins[1])
        )
        entry = {
            "runs": [{k: v for k, v in r.items() if k != "path"} for r in rows],
            # Sum of the runs' own training times (summary.json; wall-clock seconds).
            "train_seconds_total": sum(r.get("train_seconds") or 0.0 for r in rows),
            "theory": gaps,
            "theory_cpu_seconds": time.process_time() - t0,
            "vic_over_vc_at_equal_rotation_error": equal_error_ratio(rows, "rotation"),
        }
        result["presets"][preset] = entry
        if args.figures:
            from figures.invariant import invariant_figures, theory_panels

            paths = invariant_figures(args.runs_dir, args.figures, preset=preset)
            paths += theory_panels(gaps, args.figures, name=f"banana_rd_{preset}")
            entry["figures"] = [str(p) for p in paths if p.suffix == ".png"]
        print(json.dumps({k: v for k, v in entry.items() if k != "theory"}, indent=1))
        print(json.dumps(gaps["points"], indent=1))
    result["load_avg_after"] = list(os.getloadavg())
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
