"""Claim 1: the closed forms of RDC and RPC (binary and Gaussian) are right.

    Binary RDC R(D, C) = H_b(p) - H_b(min{D, delta_C, p}); binary RPC = R_C(C) above
    P*(C) and a one-dimensional problem below; Gaussian RDC
    R(D, C) = 1/2 log(sigma_X^2 / min{D, D_C(C), sigma_X^2}); Gaussian RPC = R_C(C)
    (Wang et al., Sec. III-IV; RDP from Blau & Michaeli 2019 and Zhang et al. 2021).

Every closed form in :class:`~rdpc_theory.BinarySource` and
:class:`~rdpc_theory.GaussianSource` (rdc, rpc, rdp, rdpc; Gaussian with W2 and KL) is
compared with the brute-force optimizer of the definition
(:mod:`rdpc_theory.brute_force`) on parameter grids, with the reference values of the
paper's closed forms (Wang et al., JSAC 2025, arXiv:2405.04144, Secs. III-IV; listed in
``docs/references.md``), and, when it exists, with the discrete solver.  The full profile includes
the grid boundaries (D = 0, P = 0, C = H(S|X), C >= H(S)).  Any disagreement beyond
tolerance is an implementation inconsistency (exit status 1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from rdpc_theory import BinarySource, GaussianSource

from ._common import (
    BINARY_SOURCES,
    GAUSSIAN_SOURCES,
    PAPER_BINARY,
    PAPER_GAUSSIAN,
    brute_force_rate,
    describe,
    discrete_source,
    fmt,
    optional_module,
)
from .framework import CheckResult, Profile, progress

__all__ = ["CLAIM", "WHERE", "run", "KNOWN_VALUES"]

CLAIM = "Closed forms of RDC and RPC (and RDP, RDPC), binary and Gaussian, match the definition"
WHERE = "binary RDC/RPC (Sec. III), Gaussian (Sec. IV)"

#: Brute force vs closed form, bits.  Both solve the same problem to ~1e-12.
CROSS_TOL = 1e-6
#: Discrete solver vs closed form (iterative; its own bounds are used when certified), bits.
SOLVER_TOL = 1e-4

#: Reference values (docs/references.md): (function, args, value), bits for binary (p=.3,
#: eps=.1), nats for the Gaussian figure source (R = 0.6 at its contour corner).
KNOWN_VALUES: tuple[tuple[str, tuple[float, ...], float], ...] = (
    ("binary rdc", (0.05, 0.90), 0.594894),
    ("binary rdc", (0.25, 0.60), 0.563335),
    ("binary rpc", (0.20, 0.80), 0.203945),
    ("binary rdp", (0.10, 0.02), 0.417674),
    ("binary rpc", (0.125, 0.89), 0.0564299),
    ("binary rpc", (0.05, 0.92), 0.00795496),
    ("binary rpc", (0.0875, 0.905), 0.0323669),
    ("gaussian rdc (nats)", (0.3012, 0.6550), 0.6),
)


def _known_values() -> float:
    worst = 0.0
    for name, args, value in KNOWN_VALUES:
        if name.startswith("binary"):
            fn = getattr(PAPER_BINARY, name.split()[1])
            got = float(fn(*args))
            decimals = len(repr(value).split(".")[1])
            tol = 0.5 * 10.0**-decimals * (1 + 1e-9)  # half a unit in the last stated digit
        else:
            got = float(PAPER_GAUSSIAN.rdc(*args, base=math.e))
            tol = 1e-4  # D and C are given to 4 decimals: |dR| <= ~8e-5 nats
        worst = max(worst, abs(got - value) / tol)
    return worst  # in units of each value's stated precision; <= 1 agrees


def _f(x: object) -> str:
    return fmt(float(x), 6)  # type: ignore[arg-type]


def _err(a: float, b: float) -> float:
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    return abs(a - b)


Point = tuple[str, float, float, float, str]  # (function, D, P, C, perception)


def _binary_points(src: BinarySource, n: int, edges: bool) -> list[Point]:
    h_lo, h_hi = src.label_noise_entropy(), src.label_entropy()
    p = min(src.p, 1 - src.p)
    d = list(np.linspace(0.0, p, n + 2)[1:-1])
    pp = list(np.linspace(0.0, p, n + 2)[1:-1])
    c = list(np.linspace(h_lo, h_hi, n + 2)[1:-1])
    if edges:
        d += [0.0, p, 0.6]
        pp += [0.0, 0.5]
        c += [h_lo, h_hi, 1.0]
    inf = math.inf
    pts: list[Point] = []
    pts += [("rdc", x, inf, y, "tv") for x, y in itertools.product(d, c)]
    pts += [("rpc", inf, x, y, "tv") for x, y in itertools.product(pp, c)]
    pts += [("rdp", x, y, inf, "tv") for x, y in itertools.product(d, pp)]
    pts += [("rdpc", x, y, z, "tv") for x, y, z in zip(d, pp[::-1], c, strict=False)]
    return pts


def _gaussian_points(g: GaussianSource, n: int, edges: bool) -> list[Point]:
    h_lo, h_hi = g.label_noise_entropy(), g.label_entropy()
    d = list(np.linspace(0.0, 1.5 * g.var_x, n + 2)[1:-1])
    p_w2 = list(np.linspace(0.0, 0.8 * g.var_x, n + 2)[1:-1])
    p_kl = list(np.linspace(0.0, 1.0, n + 2)[1:-1])
    c = list(np.linspace(h_lo, h_hi, n + 2)[1:-1])
    if edges:
        d += [g.var_x, 2.0 * g.var_x]
        p_w2 += [0.0]
        p_kl += [0.0]
        c += [h_hi, h_hi + 1.0]
    inf = math.inf
    pts: list[Point] = []
    pts += [("rdc", x, inf, y, "w2") for x, y in itertools.product(d, c)]
    for perception, pp in (("w2", p_w2), ("kl", p_kl)):
        pts += [("rpc", inf, x, y, perception) for x, y in itertools.product(pp, c[:n])]
        pts += [("rdp", x, y, inf, perception) for x, y in itertools.product(d, pp)]
        pts += [("rdpc", x, y, z, perception) for x, y, z in zip(d, pp[::-1], c, strict=False)]
    return pts


def _closed(src: BinarySource | GaussianSource, pt: Point) -> float:
    name, d, p, c, perception = pt
    calls: dict[str, Callable[[], object]]
    if isinstance(src, BinarySource):
        b = src
        calls = {
            "rdc": lambda: b.rdc(d, c),
            "rpc": lambda: b.rpc(p, c),
            "rdp": lambda: b.rdp(d, p),
            "rdpc": lambda: b.rdpc(d, p, c),
        }
    else:
        g = src
        calls = {
            "rdc": lambda: g.rdc(d, c),
            "rpc": lambda: g.rpc(p, c, perception=perception),
            "rdp": lambda: g.rdp(d, p, perception=perception),
            "rdpc": lambda: g.rdpc(d, p, c, perception=perception),
        }
    return float(calls[name]())  # type: ignore[arg-type]


def _versus_brute_force(profile: Profile) -> tuple[dict[str, float], list[dict[str, object]], int]:
    """Max |closed - brute force| per (model, function) and the worst disagreements."""
    n_bin = profile.pick(3, 5)
    n_gauss = profile.pick(3, 6)
    edges = not profile.quick
    jobs: list[tuple[BinarySource | GaussianSource, Point]] = []
    for b in BINARY_SOURCES[: profile.pick(1, 2)]:
        jobs += [(b, pt) for pt in _binary_points(b, n_bin, edges)]
    for g in GAUSSIAN_SOURCES[: profile.pick(1, 2)]:
        jobs += [(g, pt) for pt in _gaussian_points(g, n_gauss, edges)]
    errors: dict[str, float] = {}
    bad: list[dict[str, object]] = []
    for src, pt in progress(jobs, profile, desc="closed form vs brute force", total=len(jobs)):
        name, d, p, c, perception = pt
        ref = brute_force_rate(src, D=d, P=p, C=c, perception=perception)
        got = _closed(src, pt)
        err = _err(got, ref)
        model = "binary" if isinstance(src, BinarySource) else f"gaussian/{perception}"
        key = f"{model} {name}"
        errors[key] = max(errors.get(key, 0.0), err)
        if err > CROSS_TOL:
            bad.append(
                {
                    "source": describe(src),
                    "function": name,
                    "D": d,
                    "P": p,
                    "C_bits": c,
                    "perception": perception,
                    "closed_form": got,
                    "brute_force": ref,
                }
            )
    return errors, bad, len(jobs)


def _versus_solver(profile: Profile) -> tuple[str, float] | None:
    src = PAPER_BINARY
    ds = discrete_source(
        np.array([1 - src.p, src.p]),
        np.array([[1 - src.eps, src.eps], [src.eps, 1 - src.eps]]),
        np.array([[0.0, 1.0], [1.0, 0.0]]),
    )
    if ds is None:
        return None
    pts = [
        (0.05, math.inf, 0.90),
        (0.25, math.inf, 0.60),
        (math.inf, 0.20, 0.80),
        (math.inf, 0.0, 0.8),
    ]
    pts = pts[: profile.pick(2, 4)]
    worst = 0.0
    for d, p, c in pts:
        kw: dict[str, object] = {}
        if math.isfinite(d):
            kw["D"] = d
        if math.isfinite(p):
            kw["P"] = p
            kw["perception"] = "tv"
        kw["C"] = c
        r = ds.solve(**kw)
        closed = float(src.rdpc(d, p, c))
        # Outside the solver's certified bracket, or far from its estimate, is a disagreement.
        below = float(r.lower) - SOLVER_TOL - closed
        above = closed - float(r.upper) - SOLVER_TOL
        worst = max(worst, below, above, abs(float(r.rate) - closed))
    return f"discrete solver at {len(pts)} binary points: max |diff| {fmt(worst)} bits", worst


def run(profile: Profile) -> CheckResult:
    known = _known_values()
    known_ok = known <= 1.0
    details: dict[str, object] = {"known_values_worst_in_units_of_precision": known}
    if optional_module("rdpc_theory.brute_force") is None:
        return CheckResult(
            "not-checked",
            f"reference values: {'agree' if known_ok else 'DISAGREE'} "
            f"({len(KNOWN_VALUES)} values); brute force (rdpc_theory.brute_force) not available, "
            "so the closed forms are not checked against the definition.",
            consistent=known_ok,
            details=details,
        )
    errors, bad, count = _versus_brute_force(profile)
    details.update({"max_abs_error_bits": errors, "disagreements": bad, "points": count})
    solver = _versus_solver(profile)
    solver_ok = True
    if solver is not None:
        solver_text, solver_err = solver
        solver_ok = solver_err <= SOLVER_TOL
        details["discrete_solver_max_error_bits"] = solver_err
    else:
        solver_text = "discrete solver: not available"
    worst_key = max(errors, key=lambda k: errors[k])
    consistent = not bad and known_ok and solver_ok
    per_model: dict[str, float] = {}
    for k, v in errors.items():
        model = k.split()[0].split("/")[0]
        per_model[model] = max(per_model.get(model, 0.0), v)
    bad_text = ""
    if bad:
        b = bad[0]
        bad_text = (
            f" DISAGREEMENTS: {len(bad)}, e.g. {b['source']} {b['function']}"
            f"(D={_f(b['D'])}, P={_f(b['P'])}, C={_f(b['C_bits'])}): closed form "
            f"{_f(b['closed_form'])} vs brute force {_f(b['brute_force'])}."
        )
    evidence = (
        f"{count} grid points{' incl. boundaries' if not profile.quick else ''} vs brute force "
        f"from the definition (rdc, rpc, rdp, rdpc; Gaussian W2 and KL): max |error| binary "
        f"{fmt(per_model.get('binary', 0.0))}, Gaussian {fmt(per_model.get('gaussian', 0.0))} bits "
        f"(worst: {worst_key}; tolerance {fmt(CROSS_TOL)}). Reference values "
        f"({len(KNOWN_VALUES)}): {'agree' if known_ok else 'DISAGREE'}; {solver_text}.{bad_text}"
    )
    return CheckResult(
        "holds" if consistent else "fails", evidence, consistent=consistent, details=details
    )
