"""Speed of the closed forms: 10^6-point evaluations against the bare numpy formula.

For every closed form this times (best of ``--repeat`` runs) the public method on 10^6
random arguments and the same formula written as a bare numpy expression (no validation,
no broadcasting, no unit handling), in the same process, and reports the ratio.  Binary
R(P, C) and R(D, P, C) have no elementary closed form where the perception bound binds:
for them it reports points per second in that region.

Usage::

    python benchmarks/theory_speed.py [--n 1000000] [--repeat 3] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import entr, lambertw

from rdpc_common.atomic import atomic_write_text
from rdpc_theory import BinarySource, GaussianSource
from rdpc_theory.entropy import binary_entropy_inv_nats

LN2 = math.log(2.0)


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def hb(x: np.ndarray) -> np.ndarray:
    return entr(x) + entr(1.0 - x)


def cases(
    n: int, rng: np.random.Generator
) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(name, library call, bare numpy expression of the same formula) triples."""
    b = BinarySource(p=0.3, eps=0.1)
    p, eps = 0.3, 0.1
    D = rng.uniform(0.0, 0.4, n)
    C = rng.uniform(0.47, 1.0, n)  # bits; H_b(0.1) = 0.469
    tv_p = rng.uniform(0.0, 0.3, n)

    def bare_delta(c_bits: np.ndarray) -> np.ndarray:
        # H_b^{-1} has no numpy expression; both sides use the same unchecked inverse.
        return np.clip((binary_entropy_inv_nats(c_bits * LN2) - eps) / (1 - 2 * eps), 0.0, p)

    def bare_binary_rdp() -> np.ndarray:
        d1 = tv_p / (1 - 2 * (p - tv_p))
        d3 = 2 * p * (1 - p) - (1 - 2 * p) * tv_p
        dm = np.clip(D, tv_p, np.maximum(d3, tv_p))
        a, bb = (dm - tv_p) / 2, (dm + tv_p) / 2
        hj = entr(1 - p - a) + entr(a) + entr(bb) + entr(p - bb)
        mid = hb(np.float64(p)) + hb(np.clip(p - tv_p, 0, 1)) - hj
        rd = hb(np.float64(p)) - hb(np.minimum(D, p))
        return np.where((tv_p < p) & (D > d1), np.where(D >= d3, 0.0, mid), rd) / LN2

    g = GaussianSource(var_x=1.0, var_s=0.5, cov=0.9 * math.sqrt(0.5))
    vx, vs, th = 1.0, 0.5, 0.9 * math.sqrt(0.5)
    vsx = vs - th**2 / vx
    GD = rng.uniform(0.0, 2.5, n)
    GP = rng.uniform(0.0, 1.0, n)
    GC = rng.uniform(0.2, 2.0, n)  # bits; h(S|X) = 0.349 bits

    def bare_dc(c_bits: np.ndarray) -> np.ndarray:
        excess = np.exp(2 * c_bits * LN2) / (2 * math.pi * math.e) - vsx
        return np.where(excess < 0, np.nan, np.minimum(vx**2 * excess / th**2, vx))

    def bare_g_rdp(s_lo: np.ndarray, s_hi: np.ndarray) -> np.ndarray:
        sx = math.sqrt(vx)
        s = np.clip(np.sqrt(np.maximum(vx - GD, 0.0)), s_lo, s_hi)
        one_minus_r = np.maximum((GD - (sx - s) ** 2) / (2 * sx * s), 0.0)
        rate = np.where(one_minus_r < 1.0, -0.5 * np.log(one_minus_r * (2.0 - one_minus_r)), 0.0)
        return np.where(s > 0, rate, 0.0) / LN2

    def bare_w2() -> np.ndarray:
        return bare_g_rdp(np.maximum(1 - np.sqrt(GP), 0), 1 + np.sqrt(GP))

    def bare_kl() -> np.ndarray:
        z = -np.exp(-1 - 2 * GP * LN2)
        return bare_g_rdp(np.sqrt(-lambertw(z, 0).real), np.sqrt(-lambertw(z, -1).real))

    def bare_g_rc() -> np.ndarray:
        dc = bare_dc(GC)
        return np.where(np.isnan(dc), np.inf, 0.5 * np.log(vx / dc)) / LN2

    return [
        ("binary.rd", lambda: b.rd(D), lambda: (hb(np.float64(p)) - hb(np.minimum(D, p))) / LN2),
        (
            "binary.rc",
            lambda: b.rc(C),
            lambda: (hb(np.float64(p)) - hb(np.minimum(bare_delta(C), p))) / LN2,
        ),
        (
            "binary.rdc",
            lambda: b.rdc(D, C),
            lambda: (hb(np.float64(p)) - hb(np.minimum(np.minimum(D, bare_delta(C)), p))) / LN2,
        ),
        ("binary.rdp", lambda: b.rdp(D, tv_p), bare_binary_rdp),
        ("gaussian.rd", lambda: g.rd(GD), lambda: 0.5 * np.log(vx / np.minimum(GD, vx)) / LN2),
        ("gaussian.rc", lambda: g.rc(GC), bare_g_rc),
        (
            "gaussian.rdc",
            lambda: g.rdc(GD, GC),
            lambda: (
                0.5 * np.log(vx / np.minimum(np.minimum(GD, np.nan_to_num(bare_dc(GC))), vx)) / LN2
            ),
        ),
        ("gaussian.rdp[w2]", lambda: g.rdp(GD, GP), bare_w2),
        ("gaussian.rdp[kl]", lambda: g.rdp(GD, GP, perception="kl"), bare_kl),
        ("gaussian.rpc", lambda: g.rpc(GP, GC), bare_g_rc),
        (
            "gaussian.rdpc[w2]",
            lambda: g.rdpc(GD, GP, GC),
            lambda: np.maximum(bare_w2(), bare_g_rc()),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="points per evaluation")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/theory_speed.json")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    rows = []
    print(f"{'function':20s} {'library s':>10s} {'bare s':>10s} {'ratio':>6s}  max |diff|")
    for name, lib, bare_expr in cases(args.n, rng):

        def bare(f: Callable[[], Any] = bare_expr) -> Any:
            with np.errstate(all="ignore"):  # the bare formula warns where the library guards
                return f()

        a, e = np.asarray(lib()), np.asarray(bare())
        both = np.isfinite(a) & np.isfinite(e)
        diff = float(np.max(np.abs(a[both] - e[both]), initial=0.0))
        same_inf = bool(np.array_equal(np.isinf(a), np.isinf(e)))
        t_lib, t_bare = best_time(lib, args.repeat), best_time(bare, args.repeat)
        rows.append(
            {
                "function": name,
                "n": args.n,
                "library_s": t_lib,
                "bare_numpy_s": t_bare,
                "ratio": t_lib / t_bare,
                "max_abs_diff_bits": diff,
                "same_inf": same_inf,
            }
        )
        print(f"{name:20s} {t_lib:10.4f} {t_bare:10.4f} {t_lib / t_bare:6.2f}  {diff:.1e}")

    # Binary R(P, C), R(D, P, C) where perception binds: a root-finding problem per point.
    b = BinarySource(p=0.3, eps=0.1)
    m = min(args.n, 100_000)
    P = rng.uniform(0.0, 0.05, m)
    C = rng.uniform(0.75, 0.85, m)
    D = rng.uniform(0.1, 0.3, m)
    solver_rows = []
    for name, fn in (("binary.rpc", lambda: b.rpc(P, C)), ("binary.rdpc", lambda: b.rdpc(D, P, C))):
        t = best_time(fn, args.repeat)
        solver_rows.append({"function": name, "n": m, "seconds": t, "points_per_s": m / t})
        print(f"{name:20s} {m} points (perception binding) in {t:.3f} s: {m / t:,.0f} points/s")

    result = {
        "benchmark": "theory_speed",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "closed_forms": rows,
        "one_dimensional_solves": solver_rows,
    }
    atomic_write_text(args.out, json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
