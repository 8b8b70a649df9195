"""Property tests of the closed-form RDPC functions (hypothesis, derandomized).

Each property is a theorem about the operational problem
``min I(X;Xhat) s.t. E d <= D, d_p <= P, H(S|Xhat) <= C``:

* Loosening a constraint cannot raise the minimum: R is non-increasing in D, P and C.
* Adding a constraint cannot lower it: R(D,P,C) >= max(R(D,P), R(P,C), R(D,C)); an
  infinite bound is no constraint.
* RDC is convex in (D, C) [Wang et al. 2025, Thm. 1] and R(D,C) = max(R(D), R_C(C))
  (distortion and classification do not trade off; their Sec. III-IV).
* Units: a rate in nats is ln 2 times the rate in bits, when C (and KL perception) are
  converted too.
* Regimes: +inf when C is below H(S|X), 0 when every bound is slack at a zero-rate channel.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdpc_theory import BinarySource, GaussianSource

INF = math.inf
LN2 = math.log(2.0)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)
MONO_TOL = 1e-10  # the RPC/RDPC root finding is accurate to ~1e-13 bits

# Exact edge values plus the interior; no subnormal-scale p or eps (their label entropies
# are ~1e-250 and only slow down the inverse binary entropy without adding coverage).
probs = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(1e-9, 1.0 - 1e-9))
noises = st.one_of(st.just(0.0), st.floats(1e-9, 0.45))
# Positions inside each bound's range; no sub-1e-9 fractions (a C of 1e-300 bits only
# exercises the slow tail of the inverse binary entropy, reported separately).
unit = st.one_of(st.just(0.0), st.floats(1e-9, 1.0))


@st.composite
def binary_sources(draw: st.DrawFn) -> BinarySource:
    return BinarySource(draw(probs), draw(noises))


@st.composite
def gaussian_sources(draw: st.DrawFn) -> GaussianSource:
    vx = draw(st.floats(0.1, 10.0))
    vs = draw(st.floats(0.1, 10.0))
    rho = draw(st.floats(-1.0, 1.0))
    return GaussianSource(vx, vs, rho * math.sqrt(vx * vs))


def _c_range(src: BinarySource | GaussianSource) -> tuple[float, float]:
    """A range of C around the feasible one: from below H(S|X) to above H(S)."""
    lo, hi = src.label_noise_entropy(), src.label_entropy()
    if not math.isfinite(lo):
        lo = hi - 4.0
    if isinstance(src, BinarySource):
        return max(lo - 0.1, 0.0), hi + 0.1
    return lo - 0.3, hi + 0.3


def _ranges(src: BinarySource | GaussianSource) -> dict[str, tuple[float, float]]:
    if isinstance(src, BinarySource):
        return {"D": (0.0, 0.6), "P": (0.0, 0.6), "C": _c_range(src)}
    return {"D": (0.0, 3.0 * src.var_x), "P": (0.0, 2.0 * src.var_x), "C": _c_range(src)}


ARGS = {
    "rd": ("D",),
    "rc": ("C",),
    "rdc": ("D", "C"),
    "rdp": ("D", "P"),
    "rpc": ("P", "C"),
    "rdpc": ("D", "P", "C"),
}


def _call(
    src: BinarySource | GaussianSource, method: str, perception: str, base: float = 2, **kw: object
) -> object:
    """Call `method` with the bounds it takes from `kw` (perception only where it applies)."""
    extra: dict[str, object] = {"base": base}
    if isinstance(src, GaussianSource) and "P" in ARGS[method]:
        extra["perception"] = perception
    return getattr(src, method)(*(kw[n] for n in ARGS[method]), **extra)


def _non_increasing(values: np.ndarray) -> bool:
    v = np.asarray(values, dtype=float)
    prev, nxt = v[:-1], v[1:]
    return bool(np.all((prev == INF) | (nxt <= prev + MONO_TOL)))


SOURCES = {"binary": binary_sources(), "gaussian": gaussian_sources()}


@pytest.mark.parametrize("kind", ["binary", "gaussian"])
@pytest.mark.parametrize("method", list(ARGS))
def test_monotone_non_increasing_in_each_bound(kind: str, method: str) -> None:
    @SETTINGS
    @given(
        src=SOURCES[kind],
        fixed=st.lists(unit, min_size=3, max_size=3),
        per=st.sampled_from(["w2", "kl"]),
    )
    def check(src: BinarySource | GaussianSource, fixed: list[float], per: str) -> None:
        ranges = _ranges(src)
        point = {
            n: lo + f * (hi - lo) for f, (n, (lo, hi)) in zip(fixed, ranges.items(), strict=True)
        }
        for name in ARGS[method]:
            lo, hi = ranges[name]
            sweep = dict(point)
            sweep[name] = np.linspace(lo, hi, 41)
            values = _call(src, method, per, **sweep)
            assert _non_increasing(values), (name, point, values)

    check()


def _grid(lo: float, hi: float, t: float) -> float:
    return lo + t * (hi - lo)


@pytest.mark.parametrize("kind", ["binary", "gaussian"])
def test_rdc_is_midpoint_convex(kind: str) -> None:
    @SETTINGS
    @given(src=SOURCES[kind], ts=st.lists(unit, min_size=4, max_size=4))
    def check(src: BinarySource | GaussianSource, ts: list[float]) -> None:
        r = _ranges(src)
        d1, d2 = _grid(*r["D"], ts[0]), _grid(*r["D"], ts[1])
        c1, c2 = _grid(*r["C"], ts[2]), _grid(*r["C"], ts[3])
        f1, f2 = float(src.rdc(d1, c1)), float(src.rdc(d2, c2))
        if math.isfinite(f1) and math.isfinite(f2):
            mid = float(src.rdc((d1 + d2) / 2, (c1 + c2) / 2))
            assert mid <= (f1 + f2) / 2 + 1e-9

    check()


@pytest.mark.parametrize("kind", ["binary", "gaussian"])
def test_rdc_is_max_of_rd_and_rc(kind: str) -> None:
    @SETTINGS
    @given(src=SOURCES[kind], ts=st.lists(unit, min_size=2, max_size=2))
    def check(src: BinarySource | GaussianSource, ts: list[float]) -> None:
        r = _ranges(src)
        d, c = _grid(*r["D"], ts[0]), _grid(*r["C"], ts[1])
        both = float(src.rdc(d, c))
        assert both == pytest.approx(max(float(src.rdc(d, INF)), float(src.rdc(INF, c))), abs=1e-12)
        assert float(src.rdc(d, INF)) == float(src.rd(d))
        assert float(src.rdc(INF, c)) == float(src.rc(c))

    check()


@pytest.mark.parametrize("kind", ["binary", "gaussian"])
def test_more_constraints_never_lower_the_rate(kind: str) -> None:
    @SETTINGS
    @given(
        src=SOURCES[kind],
        ts=st.lists(unit, min_size=3, max_size=3),
        per=st.sampled_from(["w2", "kl"]),
    )
    def check(src: BinarySource | GaussianSource, ts: list[float], per: str) -> None:
        r = _ranges(src)
        v = {n: _grid(*r[n], t) for n, t in zip("DPC", ts, strict=True)}

        def f(method: str, **kw: float) -> float:
            return float(_call(src, method, per, **kw))  # type: ignore[arg-type]

        D, P, C = v["D"], v["P"], v["C"]
        full = f("rdpc", D=D, P=P, C=C)
        for part in (f("rdp", D=D, P=P), f("rpc", P=P, C=C), f("rdc", D=D, C=C)):
            assert full >= part - 1e-12 or full == INF
        assert f("rdp", D=D, P=P) >= f("rd", D=D) - 1e-12
        assert f("rpc", P=P, C=C) >= f("rc", C=C) - 1e-12 or f("rpc", P=P, C=C) == INF
        # An infinite bound is no constraint.
        assert f("rdpc", D=D, P=P, C=INF) == pytest.approx(f("rdp", D=D, P=P), abs=1e-12)
        assert f("rdpc", D=INF, P=P, C=C) == pytest.approx(f("rpc", P=P, C=C), abs=1e-12)
        assert f("rdpc", D=D, P=INF, C=C) == pytest.approx(f("rdc", D=D, C=C), abs=1e-12)

    check()


@pytest.mark.parametrize("kind", ["binary", "gaussian"])
@pytest.mark.parametrize("method", list(ARGS))
def test_units_bits_vs_nats(kind: str, method: str) -> None:
    @SETTINGS
    @given(
        src=SOURCES[kind],
        ts=st.lists(unit, min_size=3, max_size=3),
        per=st.sampled_from(["w2", "kl"]),
    )
    def check(src: BinarySource | GaussianSource, ts: list[float], per: str) -> None:
        r = _ranges(src)
        v = {n: _grid(*r[n], t) for n, t in zip("DPC", ts, strict=True)}
        bits = float(_call(src, method, per, **v))  # type: ignore[arg-type]
        nat_args = dict(v)
        nat_args["C"] = v["C"] * LN2
        if isinstance(src, GaussianSource) and per == "kl":
            nat_args["P"] = v["P"] * LN2
        nats = float(_call(src, method, per, base=math.e, **nat_args))  # type: ignore[arg-type]
        if math.isinf(bits):
            assert nats == INF
        else:
            assert nats == pytest.approx(bits * LN2, rel=1e-9, abs=1e-12)
        hart_args = dict(v)
        hart_args["C"] = v["C"] * math.log10(2.0)
        if isinstance(src, GaussianSource) and per == "kl":
            hart_args["P"] = v["P"] * math.log10(2.0)
        hart = float(_call(src, method, per, base=10, **hart_args))  # type: ignore[arg-type]
        if math.isfinite(bits):
            assert hart == pytest.approx(bits * math.log10(2.0), rel=1e-9, abs=1e-12)

    check()


# --------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------

SHAPE_SOURCES = [BinarySource(0.3, 0.1), BinarySource(0.8, 0.0), GaussianSource(1.0, 0.5, 0.6)]


@pytest.mark.parametrize("src", SHAPE_SOURCES, ids=repr)
@pytest.mark.parametrize("method", list(ARGS))
def test_scalars_give_numpy_floats_and_arrays_broadcast(
    src: BinarySource | GaussianSource, method: str
) -> None:
    names = ARGS[method]
    pools = {
        "D": np.array([0.0, 0.05, 0.2, 1.5]),
        "P": np.array([0.0, 0.02, 0.3]),
        "C": np.array([0.3, 0.6, 0.9, 1.2, 2.0]),
    }
    scalar = _call(src, method, "w2", **{n: float(pools[n][1]) for n in names})
    assert isinstance(scalar, np.floating) and np.ndim(scalar) == 0
    # Arguments of shapes (k1, 1, 1), (1, k2, 1), (1, 1, k3) broadcast to an outer grid.
    shaped = {}
    for i, n in enumerate(names):
        shape = [1] * len(names)
        shape[i] = len(pools[n])
        shaped[n] = pools[n].reshape(shape)
    grid = np.asarray(_call(src, method, "w2", **shaped))
    assert grid.shape == tuple(len(pools[n]) for n in names)
    for idx in np.ndindex(grid.shape):
        one = float(
            _call(
                src,
                method,
                "w2",
                **{n: float(pools[n][k]) for n, k in zip(names, idx, strict=True)},
            )
        )
        assert grid[idx] == one or (math.isinf(one) and grid[idx] == one)
    # Lists work like arrays; a 0-d array like a scalar.
    as_list = _call(
        src,
        method,
        "w2",
        **{n: pools[n].tolist() for n in names[:1]},
        **{n: float(pools[n][0]) for n in names[1:]},
    )
    assert np.shape(as_list) == (len(pools[names[0]]),)
    zero_d = _call(src, method, "w2", **{n: np.asarray(pools[n][1]) for n in names})
    assert np.ndim(zero_d) == 0


# --------------------------------------------------------------------------------------
# Regimes: infinite and zero rates
# --------------------------------------------------------------------------------------


@SETTINGS
@given(src=binary_sources(), t=unit, d=st.floats(0.0, 1.0), pp=st.floats(0.0, 0.6))
def test_binary_infeasible_below_label_noise_entropy(
    src: BinarySource, t: float, d: float, pp: float
) -> None:
    h_eps = src.label_noise_entropy()
    if h_eps == 0.0:
        return  # eps = 0: every C >= 0 is feasible
    c = t * h_eps * (1 - 1e-9)
    assert float(src.rc(c)) == INF
    assert float(src.rdc(d, c)) == INF
    assert float(src.rpc(pp, c)) == INF
    assert float(src.rdpc(d, pp, c)) == INF
    # At and above it, finite (H(S|X) is reached by Xhat = X).
    assert math.isfinite(float(src.rdpc(d, pp, h_eps + 1e-12)))


@SETTINGS
@given(src=binary_sources(), d=st.floats(0.0, 1.0), pp=st.floats(0.0, 0.6), t=unit)
def test_binary_zero_rate_regimes(src: BinarySource, d: float, pp: float, t: float) -> None:
    pm = min(src.p, 1 - src.p)
    h_s = src.label_entropy()
    assert float(src.rd(pm + t * 0.5)) == 0.0
    if h_s > src.label_noise_entropy() + 1e-9:  # else C = H(S) = H(S|X): a jump, rounding
        assert abs(float(src.rc(h_s))) <= 1e-12  # at H(S) itself, up to rounding of C
    assert float(src.rc(h_s + 1e-9 + t)) == 0.0
    assert float(src.rdc(pm + t * 0.5, h_s + 1e-9 + t)) == 0.0
    # A zero-rate channel is Xhat ~ Bern(q) independent of X, with TV |q - p| <= P and
    # distortion p + q (1 - 2p) (p <= 1/2): smallest at q = max(p - P, 0).
    d0 = pm + max(pm - pp, 0.0) * (1 - 2 * pm)
    assert float(src.rdp(d0 + t * 0.1 + 1e-12, pp)) == 0.0
    assert abs(float(src.rdpc(d0 + t * 0.1 + 1e-12, pp, h_s + 1e-9 + t))) <= 1e-15
    if d0 > 1e-6:
        assert float(src.rdp(d0 * (1 - 1e-6), pp)) > 0.0
    # Finite rates never exceed H(X).
    for v in (src.rd(d), src.rdp(d, pp), src.rdpc(d, pp, h_s * t + (1 - t) * 1.0)):
        if math.isfinite(float(v)):
            assert -1e-15 <= float(v) <= float(src.rd(0.0)) + 1e-12


@SETTINGS
@given(src=gaussian_sources(), t=unit, pp=st.floats(0.0, 5.0))
def test_gaussian_infinite_and_zero_regimes(src: GaussianSource, t: float, pp: float) -> None:
    h_s, h_sx = src.label_entropy(), src.label_noise_entropy()
    if math.isfinite(h_sx):
        c_bad = h_sx - 1e-9 - t
        for per in ("w2", "kl"):
            assert float(src.rpc(pp, c_bad, perception=per)) == INF
            assert float(src.rdpc(1.0, pp, c_bad, perception=per)) == INF
        assert float(src.rc(c_bad)) == INF and float(src.rdc(1.0, c_bad)) == INF
    assert float(src.rd(0.0)) == INF  # D = 0 needs Xhat = X
    assert float(src.rd(src.var_x * (1 + t))) == 0.0
    assert float(src.rc(h_s + 1e-9 + t)) == 0.0
    for per in ("w2", "kl"):
        assert float(src.rdp(src.var_x * 2, 0.0, perception=per)) <= 1e-15
        assert float(src.rdp(src.var_x * (2 + 1e-9 + t), 0.0, perception=per)) == 0.0
        assert float(src.rdp(src.var_x * (2 - 1e-6), 0.0, perception=per)) > 0.0
    # W2: a constant Xhat = 0 (W2^2 = var_x) has MSE var_x.  KL forbids a point mass, so
    # zero rate needs D > var_x (Xhat independent of X with a small variance).
    assert float(src.rdp(src.var_x * (1 + t), src.var_x + pp, perception="w2")) == 0.0
    assert float(src.rdp(src.var_x, src.var_x * (1 - 1e-6), perception="w2")) > 0.0
    assert float(src.rdp(src.var_x * (1.01 + t), 10.0 + pp, perception="kl")) == 0.0
    assert float(src.rdp(src.var_x, 10.0 + pp, perception="kl")) > 0.0
    if src.cov == 0.0:  # the label says nothing about X: C < h(S) is infeasible
        assert float(src.rc(h_s - 0.01 - t)) == INF
