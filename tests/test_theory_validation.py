"""Edges of the theory API's domains, and the entropy helpers against independent code.

The table of out-of-domain inputs (each a ``ValueError`` naming the parameter, its range and
the value) is ``tests/test_bad_inputs.py``.  Here: valid edge inputs (integer parameters,
subnormal bounds, variances near 1e-300) give the right numbers, checked against mpmath; the
entropy helpers are compared with scipy.stats and with direct enumeration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import entropy, norm

from rdpc_theory import BinarySource, GaussianSource
from rdpc_theory.entropy import (
    binary_convolution,
    binary_entropy,
    binary_entropy_inv,
    gaussian_entropy,
)
from rdpc_theory.units import from_nats, log_base, to_nats

NAN = float("nan")
B = BinarySource(0.3, 0.1)
G = GaussianSource(1.0, 0.5, 0.6)


def test_in_domain_edges_are_accepted() -> None:
    """Edges of the domains are valid inputs, not errors (p > 1/2 by symmetry)."""
    for p in (0.0, 0.5, 0.7, 1.0):
        BinarySource(p, 0.0)
    BinarySource(0.3, 0.4999999)
    GaussianSource(1.0, 0.5, math.sqrt(0.5))  # |rho| = 1 is PSD
    GaussianSource(1.0, 0.5, -math.sqrt(0.5))
    assert float(G.rc(-5.0)) == math.inf  # a negative differential-entropy bound is valid
    assert float(B.rd(math.inf)) == 0.0  # an infinite bound is no constraint
    assert float(B.rdpc(0.0, 0.0, math.inf)) == pytest.approx(float(binary_entropy(0.3)))


def test_no_silent_nan_in_outputs() -> None:
    """Every output on a broad grid is a number or +inf, never NaN."""
    d = np.array([0.0, 1e-12, 0.1, 0.3, 1.0, 5.0, math.inf])
    for src in (B, BinarySource(0.5, 0.0), BinarySource(1.0, 0.2), G, GaussianSource(2, 1, 0)):
        for c in (0.0, 0.2, 0.5, 0.9, 1.5, math.inf):
            for pp in (0.0, 0.01, 0.5, math.inf):
                for out in (src.rdc(d, c), src.rdp(d, pp), src.rdpc(d, pp, c), src.rpc(pp, d)):
                    assert not np.isnan(out).any()
                    assert np.all(np.asarray(out) >= 0.0)


# --------------------------------------------------------------------------------------
# Entropy helpers and units
# --------------------------------------------------------------------------------------


def test_binary_entropy_matches_scipy() -> None:
    xs = np.concatenate([[0.0, 1.0, 1e-300, 1e-12, 0.5], np.linspace(0.001, 0.999, 97)])
    ref = np.array([entropy([x, 1 - x], base=2) for x in xs])
    assert np.allclose(binary_entropy(xs), ref, rtol=1e-14, atol=1e-300)
    ref_nats = np.array([entropy([x, 1 - x]) for x in xs])
    assert np.allclose(binary_entropy(xs, base=math.e), ref_nats, rtol=1e-14, atol=1e-300)
    assert float(binary_entropy(0.5)) == 1.0 and float(binary_entropy(0.0)) == 0.0


def test_binary_entropy_inverse_round_trips() -> None:
    xs = np.concatenate([[0.0, 1e-15, 1e-9, 0.5], np.linspace(0.0005, 0.4995, 200)])
    h = binary_entropy(xs)
    back = binary_entropy_inv(h)
    assert np.all((back >= 0) & (back <= 0.5))
    # H_b is flat at 1/2, so x is determined to ~sqrt(ulp) there, and to ~ulp elsewhere.
    tol = np.where(xs < 0.45, 1e-12 * np.maximum(xs, 1e-300) + 1e-300, 1e-7)
    assert np.all(np.abs(back - xs) <= tol)
    # The other composition is exact to rounding everywhere.
    hs = np.linspace(0.0, 1.0, 301)
    assert np.allclose(binary_entropy(binary_entropy_inv(hs)), hs, rtol=0, atol=4e-16)
    # Units: the same point in nats.
    assert np.allclose(binary_entropy_inv(hs * math.log(2), base=math.e), binary_entropy_inv(hs))


def test_binary_convolution_by_enumeration() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.uniform(size=50), rng.uniform(size=50)
    # P(A xor B = 1) summed over the four outcomes of independent A, B.
    ref = [
        sum((ai if u else 1 - ai) * (bi if v else 1 - bi) for u in (0, 1) for v in (0, 1) if u != v)
        for ai, bi in zip(a, b, strict=True)
    ]
    assert np.allclose(binary_convolution(a, b), ref, rtol=0, atol=1e-15)
    assert np.shape(binary_convolution(a[:, None], b[None, :])) == (50, 50)
    assert float(binary_convolution(0.3, 0.0)) == pytest.approx(0.3)
    assert float(binary_convolution(0.3, 0.5)) == pytest.approx(0.5)


def test_gaussian_entropy_matches_scipy() -> None:
    for var in (1e-6, 0.1, 1.0, 2.5, 1e6):
        nats = float(norm(scale=math.sqrt(var)).entropy())
        assert float(gaussian_entropy(var, base=math.e)) == pytest.approx(nats, rel=1e-13)
        assert float(gaussian_entropy(var)) == pytest.approx(nats / math.log(2), rel=1e-13)
    assert float(gaussian_entropy(0.0)) == -math.inf


def test_units() -> None:
    assert log_base(2) == math.log(2) and log_base(math.e) == 1.0
    x = np.array([0.0, 0.3, 1.7])
    for base in (2, math.e, 10, 0.5):
        assert np.allclose(from_nats(to_nats(x, base), base), x, rtol=1e-15)
    assert np.allclose(from_nats(x, 2), x / math.log(2))
    assert float(binary_entropy(0.3, base=10)) == pytest.approx(entropy([0.3, 0.7], base=10))


# --------------------------------------------------------------------------------------
# Valid inputs at the edges of floating point: integer parameters, subnormal bounds and
# tiny variances, against mpmath (arbitrary precision and exponent range).
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0, 1])
def test_integer_p_at_the_ends_is_a_deterministic_source(p: int) -> None:
    """X is constant, so every feasible rate is 0; C below H(S|X) = H_b(eps) is infeasible."""
    src = BinarySource(p, 0.1)  # an int, as a user types it
    h_eps = float(entropy([0.1, 0.9], base=2))
    cs = np.array([0.0, 0.2, h_eps * (1 - 1e-9), h_eps * (1 + 1e-9), 0.5, 1.0, 3])
    want = np.where(cs < h_eps, math.inf, 0.0)
    for got in (src.rc(cs), src.rdc(0.1, cs), src.rpc(0.05, cs), src.rdpc(0.0, 0.0, cs)):
        assert np.array_equal(got, want)
    for c in cs:  # scalars too (the original crash was on scalar C)
        assert float(src.rc(float(c))) == (math.inf if c < h_eps else 0.0)
    assert isinstance(src.p, float)


def test_gaussian_rate_at_a_subnormal_distortion_is_finite() -> None:
    import mpmath

    mpmath.mp.dps = 40
    d = 1e-310  # subnormal: 1/d overflows a float
    g = GaussianSource(1.0, 0.5, 0.5)
    want = float(mpmath.log(1 / mpmath.mpf(d), 2) / 2)  # 1/2 log2(var_x / D)
    assert 514 < want < 516
    assert float(g.rd(d)) == pytest.approx(want, rel=1e-13)
    assert float(g.rdc(d, 10.0)) == pytest.approx(want, rel=1e-13)
    # Perfect realism (P = 0): R = 1/2 log(var^2 / (var^2 - (var - D/2)^2)) (Zhang et al. 2021).
    with mpmath.workdps(400):  # the difference of squares cancels 310 digits
        var = mpmath.mpf(1)
        r0 = mpmath.log(var**2 / (var**2 - (var - mpmath.mpf(d) / 2) ** 2), 2) / 2
    assert float(g.rdp(d, 0.0)) == pytest.approx(float(r0), rel=1e-12)
    assert float(g.rd(0.0)) == math.inf


def test_gaussian_source_with_variances_near_1e300() -> None:
    """Tiny scales must not underflow: the rates equal mpmath's closed forms in logs."""
    import mpmath

    mpmath.mp.dps = 40
    vx, vs, cov = 1e-300, 1e-300, 5e-301
    g = GaussianSource(vx, vs, cov)  # var_x * var_s = 1e-600 underflows a float
    mx, ms, mc = (mpmath.mpf(v) for v in (vx, vs, cov))
    rho = mc / mpmath.sqrt(mx * ms)
    v_sx = ms - mc**2 / mx
    assert g.rho == pytest.approx(float(rho), rel=1e-14)
    assert g.var_s_given_x == pytest.approx(float(v_sx), rel=1e-14)
    h_s = mpmath.log(2 * mpmath.pi * mpmath.e * ms, 2) / 2
    assert g.label_entropy() == pytest.approx(float(h_s), rel=1e-14)
    for c in (h_s - mpmath.mpf("0.1"), h_s - mpmath.mpf("0.01"), h_s + 1):
        # R_C(C) = 1/2 log((var_s - v_sx) / (var_C - v_sx)), var_C = 2^(2C) / (2 pi e)
        var_c = mpmath.power(2, 2 * c) / (2 * mpmath.pi * mpmath.e)
        want = max(mpmath.log((ms - v_sx) / (var_c - v_sx), 2) / 2, 0)
        assert float(g.rc(float(c))) == pytest.approx(float(want), rel=1e-9, abs=1e-12)
    assert float(g.rd(vx / 4)) == pytest.approx(1.0, rel=1e-14)
    assert float(g.rc(float(h_s) - 5)) == math.inf  # below h(S|X): infeasible
