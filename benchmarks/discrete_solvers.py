"""Speed and accuracy of the discrete RDPC solvers (DiscreteSource) against dit and cvxpy.

Sections (``--only`` picks some):

``rd``
    R(D) on the binary Hamming source (n = 2) and Gaussian grids with squared error
    (n = 16, 64, 256): rdpc's Blahut–Arimoto + interior-point solver at certified gaps
    1e-6 and 1e-9 bits and at dit's own accuracy, dit's Blahut–Arimoto (default
    restarts=100, max_iters=100, and a single restart), and the cvxpy/CLARABEL program.
    The problem is posed at a slope β (dit's interface); every solver is scored at the
    distortion D that dit reaches, against a reference computed by rdpc to a certified gap
    of 1e-10 nats (the closed form for the binary source).  Times are the best of
    ``--repeat`` runs (cvxpy at n = 256: one run).
``surface``
    A 50-point R(D, C) slice of the Gaussian grid at n = 64 (C fixed, D swept), by the
    targeted convex–concave solver (rdc_surface defaults: the neighbouring solution as a
    warm start plus one fresh start) and by the
    Lagrangian (information-bottleneck) method at 50 slopes.
``accuracy``
    Largest disagreement with BinarySource over grids in each region (RD, RDP, RDC, RPC,
    RDPC), and the discretized Gaussian's error against GaussianSource.rd/.rdc at
    n = 16, 64, 256.

Usage (single core)::

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/discrete_solvers.py \\
        [--out benchmarks/results/discrete_solvers.json] [--only rd surface accuracy]

dit is optional (``pip install dit`` or the ``bench`` extra); without it those rows are
skipped.  Results go to a JSON file (written atomically) and a markdown table on stdout.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rdpc_common.atomic import atomic_write_text  # noqa: E402
from rdpc_theory import BinarySource, DiscreteSource, GaussianSource  # noqa: E402
from rdpc_theory.convex import ConvexProgram  # noqa: E402

LN2 = math.log(2.0)
GAUSS = dict(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))

try:  # optional benchmark dependency
    from dit.rate_distortion.blahut_arimoto import blahut_arimoto as dit_blahut_arimoto
except ImportError:  # pragma: no cover - depends on the environment
    dit_blahut_arimoto = None


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def problem(n: int) -> tuple[str, DiscreteSource, float]:
    """(name, source, slope in bits^-1 per unit distortion as dit's beta)."""
    if n == 2:
        # Hamming: slope log2((1-D)/D) at D = 0.1.
        return "binary Hamming (n=2)", DiscreteSource.from_binary(0.3, 0.1), math.log2(9.0)
    # Squared error: R'(D) = -1/(2D) nats for the Gaussian; aim at D = 0.3.
    src = DiscreteSource.from_gaussian(n=n, **GAUSS)
    return f"Gaussian grid (n={n})", src, 1.0 / (2 * 0.3) / LN2


def reference(src: DiscreteSource, D: float, n: int) -> tuple[float, float]:
    """R(D) in bits and the half-width of its certified interval."""
    if n == 2:
        return float(BinarySource(0.3, 0.1).rd(D)), 0.0
    res = src.solve(D=D, tol=1e-10 / LN2)
    return 0.5 * (res.upper + res.lower), 0.5 * res.gap


def bench_rd(sizes: list[int], repeat: int, cvxpy_max_n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in tqdm(sizes, desc="R(D)", leave=False):
        name, src, beta_bits = problem(n)
        p, d = np.array(src.p_x), np.array(src.distortion)
        dit_rows = []
        if dit_blahut_arimoto is not None:
            for label, restarts in (
                ("dit BA (restarts=100, default)", 100),
                ("dit BA (restarts=1)", 1),
            ):
                # dit draws its restarts from numpy's global generator: seed it for
                # reproducible timings (the library API offers no rng argument).
                np.random.seed(0)  # noqa: NPY002

                def run_dit(
                    restarts: int = restarts, p: Any = p, beta: float = beta_bits, d: Any = d
                ) -> Any:
                    return dit_blahut_arimoto(
                        p, beta, lambda _p, _q: d, max_iters=100, restarts=restarts
                    )

                t, (res, _) = best_time(run_dit, repeat)
                dit_rows.append((label, t, float(res.rate), float(res.distortion)))
            D = dit_rows[0][3]
        else:
            D = float(src.solve(D=0.1 if n == 2 else 0.3).distortion)
        ref, ref_hw = reference(src, D, n)
        for label, t, rate, _ in dit_rows:
            rows.append(
                dict(
                    problem=name,
                    n=n,
                    solver=label,
                    D=D,
                    time_s=t,
                    rate_bits=rate,
                    error_bits=abs(rate - ref),
                    certified_gap_bits=None,
                )
            )
        tols = [("rdpc BA+IPM (gap 1e-6)", 1e-6), ("rdpc BA+IPM (gap 1e-9)", 1e-9)]
        if dit_rows:
            tols.append(("rdpc BA+IPM (gap = dit's error)", max(abs(dit_rows[0][2] - ref), 1e-12)))
        for label, tol in tols:

            def run(tol: float = tol, src: DiscreteSource = src, D: float = D) -> Any:
                return src.solve(D=D, tol=tol)  # solve keeps no state between calls

            t, res = best_time(run, repeat)
            rows.append(
                dict(
                    problem=name,
                    n=n,
                    solver=label,
                    D=D,
                    time_s=t,
                    rate_bits=res.rate,
                    error_bits=abs(res.rate - ref),
                    certified_gap_bits=res.gap,
                )
            )
        if n <= cvxpy_max_n:
            prog = ConvexProgram(p[p > 0], d[p > 0], None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, sol = best_time(lambda prog=prog, D=D: prog.solve(D), 1 if n >= 256 else repeat)
            rate = sol.upper / LN2
            rows.append(
                dict(
                    problem=name,
                    n=n,
                    solver="cvxpy/CLARABEL",
                    D=D,
                    time_s=t,
                    rate_bits=rate,
                    error_bits=abs(rate - ref),
                    certified_gap_bits=(sol.upper - sol.lower) / LN2,
                    status=sol.status,
                )
            )
        for r in rows:
            r.setdefault("reference_halfwidth_bits", ref_hw)
    return rows


def bench_surface(repeat: int) -> list[dict[str, Any]]:
    g = GaussianSource(**GAUSS)
    src = DiscreteSource.from_gaussian(n=64, **GAUSS)
    C = 0.655  # nats: a contour corner of the paper's figure (R = 0.6 where C binds)
    c_n = src.label_entropy(base=math.e) - (g.label_entropy(base=math.e) - C)
    D = np.linspace(0.05, 0.9, 50)
    rows = []

    for label, starts in (
        ("convex-concave (warm start + 1, default)", 2),
        ("convex-concave (warm start only)", 1),
    ):

        def targeted(starts: int = starts) -> Any:
            return src.rdc_surface(D, [c_n], base=math.e, n_starts=starts)

        t, surf = best_time(targeted, repeat)
        err = float(np.max(np.abs(surf.rate[0] - g.rdc(D, C, base=math.e))))
        rows.append(
            dict(
                task="RDC slice, 50 (D, C) targets, n=64",
                solver=label,
                time_s=t,
                converged=bool(surf.converged.all()),
                max_error_vs_continuous_nats=err,
            )
        )
    betas = np.geomspace(0.5, 20.0, 50)
    t, lag = best_time(lambda: src.lagrangian_surface(betas, [2.0], base=math.e), repeat)
    rows.append(
        dict(
            task="RDC slice, 50 Lagrangian points (gamma=2), n=64",
            solver="Lagrangian / IB-style",
            time_s=t,
            converged=bool(lag.converged.all()),
            max_error_vs_continuous_nats=None,
        )
    )
    return rows


def bench_accuracy() -> dict[str, Any]:
    b = BinarySource(0.3, 0.1)
    src = DiscreteSource.from_binary(0.3, 0.1)
    Ds = np.linspace(0.0, 0.35, 8)
    Ps = [0.0, 0.05, 0.1, 0.2]
    Cs = [0.5, 0.6, 0.75, 0.9]
    regions: dict[str, list[tuple[float, float]]] = {
        k: [] for k in ("RD", "RDP", "RDC", "RPC", "RDPC")
    }
    tasks: list[tuple[str, dict[str, float], Callable[[], Any]]] = []
    for D in Ds:
        tasks.append(("RD", dict(D=D), lambda D=D: b.rd(D)))
        for P in Ps:
            tasks.append(("RDP", dict(D=D, P=P), lambda D=D, P=P: b.rdp(D, P)))
        for C in Cs:
            tasks.append(("RDC", dict(D=D, C=C), lambda D=D, C=C: b.rdc(D, C)))
    for P in Ps:
        for C in Cs:
            tasks.append(("RPC", dict(P=P, C=C), lambda P=P, C=C: b.rpc(P, C)))
            for D in (0.1, 0.2, 0.3):
                tasks.append(("RDPC", dict(D=D, P=P, C=C), lambda D=D, P=P, C=C: b.rdpc(D, P, C)))
    for region, kw, exact in tqdm(tasks, desc="binary regions", leave=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = src.solve(**kw)
        ex = float(exact())
        err = 0.0 if (math.isinf(ex) and math.isinf(res.rate)) else abs(res.rate - ex)
        regions[region].append((err, res.gap if math.isfinite(res.gap) else 0.0))
    binary = {
        k: dict(points=len(v), max_error_bits=max(e for e, _ in v)) for k, v in regions.items()
    }
    g = GaussianSource(**GAUSS)
    gauss = []
    for n in tqdm((16, 64, 256), desc="Gaussian grids", leave=False):
        s = DiscreteSource.from_gaussian(n=n, **GAUSS)
        t0 = time.perf_counter()
        rd = s.solve(D=0.3, base=math.e)
        t_rd = time.perf_counter() - t0
        c_n = s.label_entropy(base=math.e) - (g.label_entropy(base=math.e) - 0.655)
        t0 = time.perf_counter()
        rdc = s.solve(D=0.6, C=c_n, base=math.e, n_starts=1)
        t_rdc = time.perf_counter() - t0
        gauss.append(
            dict(
                n=n,
                rd_error_nats=abs(rd.rate - float(g.rd(0.3, base=math.e))),
                rd_time_s=t_rd,
                rdc_error_nats=abs(rdc.rate - float(g.rdc(0.6, 0.655, base=math.e))),
                rdc_time_s=t_rdc,
            )
        )
    return dict(binary=binary, gaussian=gauss)


def markdown(result: dict[str, Any]) -> str:
    out = []
    if "rd" in result:
        out += [
            "| problem | solver | time (s) | error (bits) | certified gap (bits) |",
            "|---|---|---:|---:|---:|",
        ]
        for r in result["rd"]:
            gap = "" if r["certified_gap_bits"] is None else f"{r['certified_gap_bits']:.1e}"
            out.append(
                f"| {r['problem']} | {r['solver']} | {r['time_s']:.4f} | "
                f"{r['error_bits']:.1e} | {gap} |"
            )
        out.append("")
    if "surface" in result:
        out += [
            "| task | solver | time (s) | max error vs continuous (nats) |",
            "|---|---|---:|---:|",
        ]
        for r in result["surface"]:
            e = r["max_error_vs_continuous_nats"]
            out.append(
                f"| {r['task']} | {r['solver']} | {r['time_s']:.2f} | "
                f"{'' if e is None else f'{e:.1e}'} |"
            )
        out.append("")
    if "accuracy" in result:
        acc = result["accuracy"]
        out += ["| binary region | points | max error vs BinarySource (bits) |", "|---|---:|---:|"]
        for k, v in acc["binary"].items():
            out.append(f"| {k} | {v['points']} | {v['max_error_bits']:.1e} |")
        out += [
            "",
            "| grid n | R(D=0.3) error (nats) | R(D=0.6, C=0.655) error (nats) |",
            "|---:|---:|---:|",
        ]
        for g in acc["gaussian"]:
            out.append(f"| {g['n']} | {g['rd_error_nats']:.1e} | {g['rdc_error_nats']:.1e} |")
    return "\n".join(out)


def write_json(path: str, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/discrete_solvers.json")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("rd", "surface", "accuracy"),
        default=["rd", "surface", "accuracy"],
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 16, 64, 256])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cvxpy-max-n",
        type=int,
        default=256,
        help="skip cvxpy above this size (n=256 takes about a minute)",
    )
    args = parser.parse_args(argv)
    result: dict[str, Any] = dict(
        machine=dict(
            python=platform.python_version(),
            processor=platform.processor(),
            omp_threads=os.environ.get("OMP_NUM_THREADS"),
            affinity=sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        ),
        dit_available=dit_blahut_arimoto is not None,
    )
    if "rd" in args.only:
        result["rd"] = bench_rd(args.sizes, args.repeat, args.cvxpy_max_n)
        write_json(args.out, result)
    if "surface" in args.only:
        result["surface"] = bench_surface(args.repeat)
        write_json(args.out, result)
    if "accuracy" in args.only:
        result["accuracy"] = bench_accuracy()
    write_json(args.out, result)
    print(markdown(result))
    if not result["dit_available"]:
        print("\n(dit is not installed: its rows are skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
