"""Restoration without a rate limit (rdpc_theory.restoration).

References here are computed independently of the module: joint laws by explicit sums
over the alphabet, Gaussian conditional variances from the textbook formula.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rdpc_theory.restoration import BinaryRestoration, GaussianRestoration


def _h_s_given_y_bits(p: float, eps: float, w: float) -> float:
    """H(S|Y) by explicit enumeration of (x, s, y)."""
    joint = np.zeros((2, 2))
    for x, s, y in itertools.product((0, 1), repeat=3):
        px = p if x else 1 - p
        ps = eps if s != x else 1 - eps
        py = w if y != x else 1 - w
        joint[s, y] += px * ps * py
    h = 0.0
    for y in (0, 1):
        col = joint[:, y]
        for s in (0, 1):
            if col[s] > 0:
                h -= col[s] * math.log2(col[s] / col.sum())
    return h


def _hb(x: float) -> float:
    return 0.0 if x in (0.0, 1.0) else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


@pytest.mark.parametrize("p,eps,w", [(0.3, 0.1, 0.1), (0.2, 0.05, 0.25), (0.45, 0.3, 0.02)])
def test_binary_unconstrained_is_h_s_given_y(p: float, eps: float, w: float) -> None:
    # Data processing: H(S|Xhat) >= H(S|Y), with equality at Xhat = Y.
    r = BinaryRestoration(p, eps, w).solve(math.inf)
    assert r.label_entropy == pytest.approx(_h_s_given_y_bits(p, eps, w), abs=1e-12)


@pytest.mark.parametrize(
    "p,eps,w,P",
    [(0.3, 0.1, 0.1, 0.0), (0.3, 0.1, 0.1, 0.01), (0.2, 0.05, 0.25, 0.03), (0.45, 0.3, 0.2, 0.0)],
)
def test_binary_vertices_match_grid_search(p: float, eps: float, w: float, P: float) -> None:
    r = BinaryRestoration(p, eps, w)
    exact = r.solve(P)
    grid = r.solve(P, method="grid", grid=801)
    assert exact.exact and not grid.exact
    assert exact.label_entropy <= grid.label_entropy + 1e-12  # the grid is an upper bound
    assert grid.label_entropy - exact.label_entropy < 1e-5
    assert exact.perception <= P + 1e-12


@pytest.mark.parametrize("p,eps", [(0.3, 0.1), (0.1, 0.4)])
def test_binary_no_noise_no_tradeoff(p: float, eps: float) -> None:
    c = BinaryRestoration(p, eps, 0.0).min_label_entropy([0.0, 0.05, math.inf])
    np.testing.assert_allclose(c, _hb(eps), atol=1e-12)  # Xhat = X reaches H(S|X) = H_b(eps)


def test_binary_noise_creates_tradeoff_unless_p_half() -> None:
    noisy = BinaryRestoration(0.3, 0.1, 0.1)
    c = noisy.min_label_entropy(np.linspace(0.0, 0.05, 11))
    assert c[0] > c[-1] + 0.01
    assert np.all(np.diff(c) <= 1e-12)  # looser perception bound never hurts
    half = BinaryRestoration(0.5, 0.1, 0.1).min_label_entropy([0.0, math.inf])
    assert half[0] == pytest.approx(half[1], abs=1e-12)


def test_binary_validation() -> None:
    with pytest.raises(ValueError, match=r"`noise` must be in \[0, 0.5\]; got 0.7"):
        BinaryRestoration(0.3, 0.1, 0.7)
    with pytest.raises(ValueError, match="`P` must be >= 0; got -0.1"):
        BinaryRestoration(0.3, 0.1, 0.1).solve(-0.1)
    with pytest.raises(ValueError, match="`method` must be one of"):
        BinaryRestoration(0.3, 0.1, 0.1).solve(0.1, method="magic")


@pytest.mark.parametrize("perception", ["w2", "kl"])
@pytest.mark.parametrize("var_noise", [0.0, 0.5, 2.0])
def test_gaussian_closed_form_vs_numeric(perception: str, var_noise: float) -> None:
    var_x, var_s, cov = 1.0, 0.5, 0.9 * math.sqrt(0.5)
    r = GaussianRestoration(var_x, var_s, cov, var_noise)
    # h(S|Y) from the textbook conditional variance of jointly Gaussian (S, Y).
    expected = 0.5 * math.log(2 * math.pi * math.e * (var_s - cov**2 / (var_x + var_noise)))
    for P in (0.0, 0.05, math.inf):
        exact = r.solve(P, perception=perception, base=math.e)
        numeric = r.solve(P, perception=perception, method="numeric", base=math.e, seed=1)
        assert exact.label_entropy == pytest.approx(expected, abs=1e-12)
        assert exact.perception == pytest.approx(0.0, abs=1e-12)
        assert numeric.label_entropy == pytest.approx(expected, abs=1e-6)
        assert numeric.perception <= P + 1e-8


def test_gaussian_validation() -> None:
    with pytest.raises(ValueError, match="`var_noise` must be >= 0; got -1"):
        GaussianRestoration(1.0, 0.5, 0.5, -1.0)
    with pytest.raises(ValueError, match="`cov` must satisfy"):
        GaussianRestoration(1.0, 0.5, 0.9, 0.1)
    with pytest.raises(ValueError, match="`perception` must be one of"):
        GaussianRestoration(1.0, 0.5, 0.5, 0.1).solve(0.1, perception="tv")
