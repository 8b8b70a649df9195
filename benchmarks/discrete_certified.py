"""Certified gaps and CPU time of DiscreteSource.solve when H(S|X̂) <= C binds.

For sources with |X| = 2, 3, 4 (the binary model of BinarySource, a fixed 3-letter and a
fixed 4-letter source, and seeded random 3- and 4-letter sources) and the problems R(C),
R(D, C), R(P, C) (TV) and R(D, P, C), each point is solved once with the requested
tolerance (1e-6 bits for |X| = 2, 1e-4 bits otherwise) and records the upper bound (rate
of a feasible channel), the certified lower bound (posterior-LP duality bound), the gap,
``converged``, whether the message reports a relaxation that is not tight, and the CPU
time (``time.process_time``, one BLAS thread).  Binary points are also compared with the
closed forms of BinarySource.

Usage (one core)::

    OMP_NUM_THREADS=1 python benchmarks/discrete_certified.py \\
        [--out benchmarks/results/discrete_certified.json] [--quick]

Results go to a JSON file (written atomically; the load average is recorded since the
machine is shared) and a markdown summary on stdout.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rdpc_common.atomic import atomic_write_text  # noqa: E402
from rdpc_theory import BinarySource, DiscreteSource  # noqa: E402


def instances(quick: bool) -> list[tuple[str, DiscreteSource]]:
    out = [
        ("binary(0.3, 0.1)", DiscreteSource.from_binary(0.3, 0.1)),
        (
            "3-letter fixed",
            DiscreteSource([0.5, 0.3, 0.2], [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], "hamming"),
        ),
        (
            "4-letter fixed",
            DiscreteSource(
                [0.4, 0.3, 0.2, 0.1],
                [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.05, 0.15, 0.8]],
                "squared",
            ),
        ),
    ]
    rng = np.random.default_rng(2026)
    for n in (3, 4):
        for k in range(1 if quick else 2):
            p = rng.dirichlet(np.full(n, 2.0))
            W = rng.dirichlet(np.ones(3), size=n)
            out.append((f"{n}-letter random #{k}", DiscreteSource(p, W, "hamming")))
    return out


def problems(src: DiscreteSource) -> list[dict[str, float]]:
    h_sx, h_s = src.label_noise_entropy(), src.label_entropy()
    C = h_sx + 0.4 * (h_s - h_sx)  # binds for every instance here
    D = 0.5 * src.distortion_range()[1]
    return [dict(C=C), dict(D=D, C=C), dict(P=0.05, C=C), dict(D=D, P=0.05, C=C)]


def kind(kw: dict[str, float]) -> str:
    return "R(" + ",".join(k for k in ("D", "P", "C") if k in kw) + ")"


def closed_form(b: BinarySource, kw: dict[str, float]) -> float:
    D, P, C = kw.get("D"), kw.get("P"), kw["C"]
    if D is None and P is None:
        return float(b.rc(C))
    if P is None:
        return float(b.rdc(D, C))
    if D is None:
        return float(b.rpc(P, C))
    return float(b.rdpc(D, P, C))


def run(quick: bool) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    cases = [(name, src, kw) for name, src in instances(quick) for kw in problems(src)]
    for name, src, kw in tqdm(cases, desc="certified RDPC points"):
        tol = 1e-6 if src.n_x == 2 else 1e-4
        t0 = time.process_time()
        res = src.solve(**kw, tol=tol)
        cpu = time.process_time() - t0
        row: dict[str, Any] = {
            "source": name,
            "n_x": src.n_x,
            "problem": kind(kw),
            **{k: float(v) for k, v in kw.items()},
            "tol_bits": tol,
            "upper_bits": res.upper,
            "lower_bits": res.lower,
            "gap_bits": res.gap,
            "converged": res.converged,
            "relaxation_not_tight": "not tight" in res.message,
            "cpu_s": cpu,
            "message": res.message,
        }
        if src.n_x == 2:
            ref = closed_form(BinarySource(0.3, 0.1), kw)
            row["closed_form_bits"] = ref
            row["lower_error_bits"] = ref - res.lower
        rows.append(row)
    load_after = os.getloadavg()
    summary: dict[str, Any] = {}
    for n in (2, 3, 4):
        sel = [r for r in rows if r["n_x"] == n]
        tight = [r for r in sel if not r["relaxation_not_tight"]]
        summary[f"n={n}"] = {
            "points": len(sel),
            "converged": sum(r["converged"] for r in sel),
            "not_tight": len(sel) - len(tight),
            "max_gap_bits_tight": max((r["gap_bits"] for r in tight), default=None),
            "max_gap_bits_all": max(r["gap_bits"] for r in sel),
            "median_cpu_s": statistics.median(r["cpu_s"] for r in sel),
            "max_cpu_s": max(r["cpu_s"] for r in sel),
        }
    return {
        "command": "OMP_NUM_THREADS=1 python benchmarks/discrete_certified.py"
        + (" --quick" if quick else ""),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "time_measure": "time.process_time per point, one BLAS thread",
        "summary": summary,
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    out = [
        "| source | problem | upper (bits) | lower (bits) | gap | conv. | tight | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        out.append(
            f"| {r['source']} | {r['problem']} | {r['upper_bits']:.7f} | "
            f"{r['lower_bits']:.7f} | {r['gap_bits']:.1e} | {r['converged']} | "
            f"{not r['relaxation_not_tight']} | {r['cpu_s']:.2f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/discrete_certified.json")
    parser.add_argument("--quick", action="store_true", help="one random source per size")
    args = parser.parse_args(argv)
    result = run(args.quick)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(json.dumps(result["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
