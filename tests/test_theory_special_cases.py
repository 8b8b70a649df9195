"""Special cases of the RDPC closed forms, each checked against an independent computation.

* RDC with C slack is the rate–distortion function (textbook formulas, and the
  classification loss of the brute-force R(D) channel marks where C stops being slack).
* RDC with D slack is the information-bottleneck curve: binary via the self-consistent
  IB iterations of Tishby, Pereira & Bialek (1999); Gaussian via Chechik et al. (2005).
* RDP is Blau & Michaeli's (2019) binary TV formula and Zhang et al.'s (2021) Gaussian W2
  formula (both re-implemented here), and matches brute force.
* Gaussian RDP at P = 0 stays positive until D = 2 var_x.
* Binary RPC does not depend on P when eps = 0 or p = 1/2; p > 1/2 is the mirror of 1 - p.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import xlogy
from scipy.stats import entropy

from rdpc_theory import BinarySource, GaussianSource
from rdpc_theory.brute_force import binary_brute_force, gaussian_brute_force

INF = math.inf
TOL = 1e-8  # bits, against brute force / other algorithms


def hb(x: float) -> float:
    """Binary entropy in bits, via scipy.stats.entropy (independent of rdpc_theory)."""
    return float(entropy([x, 1.0 - x], base=2))


def conv(a: float, b: float) -> float:
    return a * (1 - b) + (1 - a) * b


# --------------------------------------------------------------------------------------
# RDC with C slack = R(D)
# --------------------------------------------------------------------------------------

SOURCES = [(0.3, 0.1), (0.5, 0.2), (0.1, 0.0), (0.45, 0.3), (0.8, 0.15)]


@pytest.mark.parametrize(("p", "eps"), SOURCES)
def test_rdc_with_slack_classification_is_rate_distortion(p: float, eps: float) -> None:
    src = BinarySource(p, eps)
    pm = min(p, 1 - p)
    d = np.linspace(0.0, 0.6, 25)
    textbook = np.array([hb(pm) - hb(min(x, pm)) for x in d])  # Cover & Thomas Thm 10.3.1
    h_s = hb(conv(p, eps))
    for c in (h_s, h_s + 0.1, INF):
        assert np.allclose(src.rdc(d, c), textbook, rtol=0, atol=1e-12)
    assert np.allclose(src.rd(d), textbook, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("p", "eps", "D"), [(0.3, 0.1, 0.1), (0.3, 0.1, 0.2), (0.5, 0.2, 0.05)])
def test_classification_stops_being_slack_at_the_rd_channel(p: float, eps: float, D: float) -> None:
    """C is slack down to H(S|Xhat) of the R(D)-optimal channel (found by brute force)."""
    src = BinarySource(p, eps)
    rd_channel = binary_brute_force(p, eps, D=D)
    c_star = rd_channel.conditional_entropy
    assert abs(float(src.rdc(D, c_star + 1e-12)) - float(src.rd(D))) <= 1e-9
    assert float(src.rdc(D, c_star - 1e-3)) > float(src.rd(D)) + 1e-4
    # Same conclusion from the brute force itself.
    below = binary_brute_force(p, eps, D=D, C=c_star - 1e-3).rate
    assert abs(float(src.rdc(D, c_star - 1e-3)) - below) <= TOL


def test_gaussian_rdc_with_slack_classification_is_rate_distortion() -> None:
    g = GaussianSource(2.0, 0.5, 0.8)
    d = np.linspace(0.05, 3.0, 30)
    textbook = np.maximum(0.5 * np.log2(2.0 / d), 0.0)  # Cover & Thomas Thm 10.3.2
    for c in (g.label_entropy(), g.label_entropy() + 1.0, INF):
        assert np.allclose(g.rdc(d, c), textbook, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------
# RDC with D slack = information bottleneck
# --------------------------------------------------------------------------------------


def _mutual_information(joint: np.ndarray) -> float:
    """I in nats from a joint probability table."""
    outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    return float(np.sum(xlogy(joint, joint) - xlogy(joint, outer)))


def information_bottleneck(
    p_x: np.ndarray, p_s_given_x: np.ndarray, beta: float, seed: int, n_t: int = 2
) -> tuple[float, float, float]:
    """Self-consistent IB equations (Tishby, Pereira & Bialek 1999), iterated to a fixed point.

    p(t|x) ∝ p(t) exp(-beta KL(p(s|x) || p(s|t))).  Returns (I(X;T), I(S;T), Lagrangian)
    in nats.
    """
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(n_t), size=len(p_x))
    ps = p_s_given_x[:, None, :]
    for _ in range(50_000):
        p_t = p_x @ q
        p_s_t = (p_x[:, None] * q / p_t).T @ p_s_given_x
        kl = np.sum(xlogy(ps, ps) - xlogy(ps, p_s_t[None]), axis=2)
        logits = np.log(p_t)[None, :] - beta * kl
        new = np.exp(logits - logits.max(1, keepdims=True))
        new /= new.sum(1, keepdims=True)
        done = np.max(np.abs(new - q)) < 1e-15
        q = new
        if done:
            break
    j_xt = p_x[:, None] * q
    i_xt = _mutual_information(j_xt)
    i_st = _mutual_information(p_s_given_x.T @ j_xt)
    return i_xt, i_st, i_xt - beta * i_st


@pytest.mark.parametrize(("p", "eps"), [(0.3, 0.1), (0.5, 0.2), (0.2, 0.05), (0.7, 0.25)])
def test_binary_rc_is_the_information_bottleneck_curve(p: float, eps: float) -> None:
    src = BinarySource(p, eps)
    p_x = np.array([1 - p, p])
    p_s_x = np.array([[1 - eps, eps], [eps, 1 - eps]])
    h_s = src.label_entropy(base=math.e)
    nontrivial = 0
    # Below beta_c = 1/(1 - 2 eps)^2 the bottleneck is trivial (T independent of X).
    beta_c = 1 / (1 - 2 * eps) ** 2
    for beta in beta_c * np.array([0.8, 1.1, 1.3, 1.6, 2.0, 3.0, 5.0, 20.0]):
        # Best of three seeded starts (the Lagrangian picks the global fixed point).
        i_xt, i_st, _ = min(
            (information_bottleneck(p_x, p_s_x, beta, seed) for seed in range(3)),
            key=lambda r: r[2],
        )
        rate = float(src.rc(h_s - i_st, base=math.e))  # C = H(S|T) = H(S) - I(S;T)
        assert rate == pytest.approx(i_xt, abs=1e-9)
        nontrivial += i_xt > 1e-3
    assert nontrivial >= 6


@pytest.mark.parametrize(("var_x", "var_s", "rho"), [(1.0, 0.5, 0.9), (2.0, 3.0, -0.6)])
def test_gaussian_rc_is_the_gaussian_information_bottleneck(
    var_x: float, var_s: float, rho: float
) -> None:
    """Chechik et al. (JMLR 2005): I(S;T) = -1/2 ln(1 - rho^2 (1 - e^{-2 I(X;T)}))."""
    g = GaussianSource(var_x, var_s, rho * math.sqrt(var_x * var_s))
    h_s = 0.5 * math.log(2 * math.pi * math.e * var_s)
    for i_xt in (0.01, 0.1, 0.5, 1.0, 2.0, 5.0):
        i_st = -0.5 * math.log(1 - rho**2 * (1 - math.exp(-2 * i_xt)))
        assert float(g.rc(h_s - i_st, base=math.e)) == pytest.approx(i_xt, rel=1e-9)
        assert float(g.rdc(INF, h_s - i_st, base=math.e)) == pytest.approx(i_xt, rel=1e-9)


# --------------------------------------------------------------------------------------
# RDP: Blau–Michaeli (binary TV) and Zhang et al. (Gaussian W2)
# --------------------------------------------------------------------------------------


def blau_michaeli_binary_tv(p: float, D: float, P: float) -> float:
    """Blau & Michaeli (ICML 2019), binary source, Hamming distortion, TV perception, p <= 1/2."""
    if P >= p:
        return hb(p) - hb(min(D, p))
    d1 = P / (1 - 2 * (p - P))
    d3 = 2 * p * (1 - p) - (1 - 2 * p) * P
    if D <= d1:
        return hb(p) - hb(D)
    if D >= d3:
        return 0.0
    joint = [1 - p - (D - P) / 2, (D - P) / 2, (D + P) / 2, p - (D + P) / 2]
    return hb(p) + hb(p - P) - float(entropy(joint, base=2))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.45])
def test_binary_rdp_matches_blau_michaeli(p: float) -> None:
    src = BinarySource(p, 0.1)
    for D in np.linspace(0.0, 0.55, 23):
        for P in (0.0, 0.01, 0.03, 0.08, 0.2, 0.5):
            assert float(src.rdp(D, P)) == pytest.approx(
                blau_michaeli_binary_tv(p, float(D), P), abs=1e-12
            )


@pytest.mark.parametrize(("D", "P"), [(0.05, 0.01), (0.15, 0.05), (0.25, 0.0), (0.35, 0.1)])
def test_binary_blau_michaeli_against_brute_force(D: float, P: float) -> None:
    assert binary_brute_force(0.3, 0.1, D=D, P=P).rate == pytest.approx(
        blau_michaeli_binary_tv(0.3, D, P), abs=TOL
    )


def zhang_gaussian_w2(var_x: float, D: float, P: float) -> float:
    """Zhang, Qian, Chen & Khisti (NeurIPS 2021), Thm. 2: Gaussian RDP with squared W2, bits."""
    sx = math.sqrt(var_x)
    if math.sqrt(P) >= sx - math.sqrt(abs(var_x - D)):
        return max(0.5 * math.log2(var_x / D), 0.0)
    s = sx - math.sqrt(P)
    return 0.5 * math.log2(var_x * s**2 / (var_x * s**2 - ((var_x + s**2 - D) / 2) ** 2))


@pytest.mark.parametrize("var_x", [1.0, 2.5])
def test_gaussian_rdp_w2_matches_zhang_et_al(var_x: float) -> None:
    g = GaussianSource(var_x, 1.0, 0.3)
    for D in np.linspace(0.05, 2.5 * var_x, 21):
        for P in (0.0, 0.01, 0.1, 0.3, 1.0):
            expected = zhang_gaussian_w2(var_x, float(D), P)
            assert float(g.rdp(D, P)) == pytest.approx(expected, abs=1e-12)


def test_gaussian_rdp_at_zero_perception_positive_until_twice_the_variance() -> None:
    """Perfect realism (Xhat ~ X) costs rate until D = 2 var_x (Blau & Michaeli, Thm. 2)."""
    var_x = 1.5
    g = GaussianSource(var_x, 1.0, 0.5)
    d = np.linspace(0.01, 2 * var_x, 60, endpoint=False)
    for perception in ("w2", "kl"):
        rates = g.rdp(d, 0.0, perception=perception)
        assert np.all(rates > 0)
        # Xhat ~ N(0, var_x) with correlation r = 1 - D/(2 var_x): R = -1/2 log2(1 - r^2).
        r = 1 - d / (2 * var_x)
        assert np.allclose(rates, -0.5 * np.log2(1 - r**2), rtol=0, atol=1e-12)
        beyond = g.rdp(np.array([2 * var_x, 2 * var_x + 0.1, 10.0]), 0.0, perception=perception)
        assert np.all(beyond == 0)
        # R(D) alone is already 0 at D = var_x, where perfect realism still costs rate.
        assert float(g.rd(var_x)) == 0.0 and float(g.rdp(var_x, 0.0, perception=perception)) > 0.2
    for D in (1.0, 2.9, 2.99):
        ref = gaussian_brute_force(var_x, 1.0, 0.5, D=D, P=0.0)
        assert ref.rate > 0 and float(g.rdp(D, 0.0)) == pytest.approx(ref.rate, abs=TOL)
    assert gaussian_brute_force(var_x, 1.0, 0.5, D=3.0, P=0.0).rate == 0.0


# --------------------------------------------------------------------------------------
# Binary RPC: no perception dependence for eps = 0 or p = 1/2; symmetry p <-> 1 - p
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "eps"), [(0.3, 0.0), (0.5, 0.1), (0.5, 0.3), (0.15, 0.0)])
def test_binary_rpc_independent_of_perception_without_noise_or_at_half(
    p: float, eps: float
) -> None:
    src = BinarySource(p, eps)
    c = np.linspace(hb(eps), hb(conv(p, eps)), 12)
    ref = src.rc(c)
    for P in (0.0, 0.001, 0.02, 0.1, 0.5):
        assert np.allclose(src.rpc(P, c), ref, rtol=0, atol=1e-12)
    # The brute force (no formula) agrees that P = 0 costs nothing extra.
    c_mid = float(c[5])
    assert binary_brute_force(p, eps, P=0.0, C=c_mid).rate == pytest.approx(
        binary_brute_force(p, eps, C=c_mid).rate, abs=TOL
    )


def test_binary_rpc_depends_on_perception_with_noise() -> None:
    """The contrast: with eps > 0 and p != 1/2 a tight P raises R(P, C)."""
    src = BinarySource(0.3, 0.1)
    assert float(src.rpc(0.0, 0.85)) > float(src.rc(0.85)) + 1e-3


@pytest.mark.parametrize("p", [0.55, 0.7, 0.9, 1.0])
def test_binary_mirror_symmetry(p: float) -> None:
    a, b = BinarySource(p, 0.1), BinarySource(1 - p, 0.1)
    d = np.array([0.0, 0.05, 0.1, 0.3])[:, None, None]
    pp = np.array([0.0, 0.02, 0.2])[None, :, None]
    c = np.array([0.47, 0.7, 0.9, 1.0])[None, None, :]
    for name, args in {
        "rd": (d,),
        "rc": (c,),
        "rdc": (d, c),
        "rdp": (d, pp),
        "rpc": (pp, c),
        "rdpc": (d, pp, c),
    }.items():
        assert np.array_equal(getattr(a, name)(*args), getattr(b, name)(*args)), name
    # The brute force does not fold p: searching the mirrored source directly agrees.
    if 0 < p < 1:
        direct = binary_brute_force(p, 0.1, D=0.1, P=0.02, C=0.85).rate
        assert float(a.rdpc(0.1, 0.02, 0.85)) == pytest.approx(direct, abs=TOL)
