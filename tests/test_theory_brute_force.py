"""The brute-force reference itself: returned channels are feasible and self-consistent.

The quantities of each returned channel are recomputed here from its joint law with
scipy.stats.entropy (binary) or from second moments (Gaussian), independently of
rdpc_theory.brute_force's own bookkeeping.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.stats import entropy

from rdpc_theory.brute_force import (
    FEASIBILITY_TOL,
    BruteForceResult,
    binary_brute_force,
    gaussian_brute_force,
)

INF = math.inf


def _binary_recompute(p: float, eps: float, alpha: float, beta: float) -> tuple[float, ...]:
    """(I bits, distortion, TV, H(S|Xhat) bits) from the joint law of (X, S, Xhat)."""
    joint = np.zeros((2, 2, 2))  # x, s, xhat
    for x, px in ((0, 1 - p), (1, p)):
        q1 = alpha if x == 0 else beta
        for s in (0, 1):
            ps = 1 - eps if s == x else eps
            joint[x, s] = px * ps * np.array([1 - q1, q1])
    j_x_xhat = joint.sum(axis=1)
    j_s_xhat = joint.sum(axis=0)
    h_xhat = entropy(j_x_xhat.sum(axis=0), base=2)
    mi = entropy(j_x_xhat.sum(axis=1), base=2) + h_xhat - entropy(j_x_xhat.ravel(), base=2)
    dist = j_x_xhat[0, 1] + j_x_xhat[1, 0]
    tv = abs(j_x_xhat[:, 1].sum() - p)
    h_s_given = entropy(j_s_xhat.ravel(), base=2) - h_xhat
    return float(mi), float(dist), float(tv), float(h_s_given)


BINARY_CASES = [
    (0.3, 0.1, 0.05, INF, 0.9),
    (0.3, 0.1, INF, 0.05, 0.85),
    (0.3, 0.1, 0.1, 0.02, INF),
    (0.7, 0.2, 0.15, 0.03, 0.9),
    (0.5, 0.0, 0.2, 0.1, 0.5),
    (0.3, 0.1, 0.5, INF, 0.95),  # zero rate
]


@pytest.mark.parametrize(("p", "eps", "D", "P", "C"), BINARY_CASES)
def test_binary_channel_is_feasible_and_consistent(
    p: float, eps: float, D: float, P: float, C: float
) -> None:
    res = binary_brute_force(p, eps, D, P, C)
    assert res.feasible and res.base == 2.0
    alpha, beta = res.channel
    assert 0.0 <= alpha <= 1.0 and 0.0 <= beta <= 1.0
    mi, dist, tv, h = _binary_recompute(p, eps, alpha, beta)
    assert res.rate == pytest.approx(mi, abs=1e-12)
    assert (res.distortion, res.perception) == pytest.approx((dist, tv), abs=1e-14)
    assert res.conditional_entropy == pytest.approx(h, abs=1e-12)
    assert dist <= D + FEASIBILITY_TOL and tv <= P + FEASIBILITY_TOL
    assert h <= C + 2 * FEASIBILITY_TOL
    if res.rate == 0.0:
        assert alpha == pytest.approx(beta, abs=1e-12)  # Xhat independent of X


GAUSSIAN_CASES = [
    (1.0, 0.5, 0.6, 0.3, INF, 1.0, "w2"),
    (1.0, 0.5, 0.6, 0.5, 0.0, INF, "w2"),
    (2.0, 3.0, -1.5, 2.5, 0.05, 1.85 / math.log(2), "kl"),
    (1.0, 0.5, 0.6, 2.5, 0.0, INF, "kl"),  # zero rate
]


@pytest.mark.parametrize(("vx", "vs", "cov", "D", "P", "C", "per"), GAUSSIAN_CASES)
def test_gaussian_channel_is_feasible_and_consistent(
    vx: float, vs: float, cov: float, D: float, P: float, C: float, per: str
) -> None:
    res = gaussian_brute_force(vx, vs, cov, D, P, C, perception=per)
    a, b = res.channel
    var_hat = a * a * vx + b * b
    mse = vx - 2 * a * vx + var_hat  # E(X - aX - bZ)^2
    cond_var = vs - (a * cov) ** 2 / var_hat
    h = 0.5 * math.log2(2 * math.pi * math.e * cond_var)
    sd = math.sqrt(var_hat)
    if per == "w2":
        perc = (math.sqrt(vx) - sd) ** 2
    else:
        perc = (math.log(math.sqrt(vx) / sd) + var_hat / (2 * vx) - 0.5) / math.log(2)
    rate = 0.0 if a == 0 else 0.5 * math.log2(1 + a * a * vx / (b * b))
    assert res.rate == pytest.approx(rate, rel=1e-12, abs=1e-15)
    assert res.distortion == pytest.approx(mse, rel=1e-12)
    assert res.conditional_entropy == pytest.approx(h, rel=1e-12)
    assert res.perception == pytest.approx(perc, rel=1e-9, abs=1e-15)
    assert mse <= D * (1 + 1e-12) and perc <= P + 1e-12 and h <= C + 1e-12


def test_infeasible_and_infinite_results() -> None:
    bad = binary_brute_force(0.3, 0.1, C=0.3)  # below H_b(0.1)
    assert not bad.feasible and bad.rate == INF and all(math.isnan(x) for x in bad.channel)
    bad_g = gaussian_brute_force(1.0, 0.5, 0.6, C=0.0)  # below h(S|X)
    assert not bad_g.feasible and bad_g.rate == INF
    exact = gaussian_brute_force(1.0, 0.5, 0.6, D=0.0)  # only Xhat = X: feasible, rate inf
    assert exact.feasible and exact.rate == INF and exact.channel == (1.0, 0.0)
    assert binary_brute_force(0.3, 0.1, D=0.0).rate == pytest.approx(entropy([0.3, 0.7], base=2))


def test_result_is_frozen_and_units_follow_base() -> None:
    res = binary_brute_force(0.3, 0.1, D=0.1, base=math.e)
    assert isinstance(res, BruteForceResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.rate = 0.0  # type: ignore[misc]
    bits = binary_brute_force(0.3, 0.1, D=0.1)
    assert res.rate == pytest.approx(bits.rate * math.log(2), rel=1e-12)
    assert res.conditional_entropy == pytest.approx(bits.conditional_entropy * math.log(2))
