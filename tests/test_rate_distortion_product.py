"""R(D) on product grids (rdpc_theory.rate_distortion.product) against independent computations:
the Kronecker operator against numpy's kron, the channel-free certified R(D) against the
dense solver of DiscreteSource on the same small grids (full and with cells dropped)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdpc_theory import DiscreteSource
from rdpc_theory.discrete.discretize import gaussian_grid_2d, product_grid_of
from rdpc_theory.rate_distortion import product
from rdpc_theory.rate_distortion.dual_bound import kernel_rows
from rdpc_theory.rate_distortion.product import (
    KroneckerBasis,
    ProductKernel,
    product_rate_distortion,
)

LN2 = math.log(2.0)
COV = [[1.0, 0.6], [0.6, 1.0]]


def test_product_kernel_matches_kron_on_subsets() -> None:
    rng = np.random.default_rng(0)
    F = [rng.random((3, 4)), rng.random((5, 2))]
    rows, cols = np.array([0, 2, 3, 7, 14]), np.array([1, 2, 5, 7])
    K = ProductKernel(F, rows, cols)
    dense = np.kron(F[0], F[1])[np.ix_(rows, cols)]
    v, y = rng.random(4), rng.random(5)
    assert np.allclose(K @ v, dense @ v, rtol=1e-13, atol=0)
    assert np.allclose(K.T @ y, dense.T @ y, rtol=1e-13, atol=0)
    assert np.allclose(K.hadamard(F) @ v, dense**2 @ v, rtol=1e-13, atol=0)
    idx = np.array([3, 0, 2])  # positions among the kept columns, any order
    assert np.array_equal(K.columns(idx), dense[:, idx])
    assert np.array_equal(kernel_rows(K, np.array([4, 0, 2])), dense[[4, 0, 2]])


def test_product_kernel_with_three_axes_matches_kron() -> None:
    # Two axes take a shortcut (two matrix products); more axes the general contraction.
    rng = np.random.default_rng(2)
    F = [rng.random((3, 2)), rng.random((2, 4)), rng.random((4, 3))]
    K = ProductKernel(F)
    dense = np.kron(np.kron(F[0], F[1]), F[2])
    v, y = rng.random(24), rng.random(24)
    assert np.allclose(K @ v, dense @ v, rtol=1e-13, atol=0)
    assert np.allclose(K.T @ y, dense.T @ y, rtol=1e-13, atol=0)
    assert np.allclose(K.H @ y, dense.T @ y, rtol=1e-13, atol=0)


def _dense_distortion(costs: list[np.ndarray]) -> np.ndarray:
    """The n x n squared error of the grid, built independently of the product code."""
    n1, n2 = costs[0].shape[0], costs[1].shape[0]
    out: np.ndarray = np.add.outer(costs[0], costs[1]).transpose(0, 2, 1, 3).reshape(n1 * n2, -1)
    return out


@pytest.mark.parametrize("D", [0.3, 0.8])
def test_product_rd_matches_dense_solver(D: float) -> None:
    p, costs, _ = gaussian_grid_2d(COV, 8)
    res = product_rate_distortion(p, costs, D)
    assert res.converged and res.gap <= 1e-6 * LN2
    ref = DiscreteSource(p, np.ones((p.size, 1)), _dense_distortion(costs)).solve(D=D, tol=1e-7)
    # Certified intervals (nats vs bits) must overlap: the same R(D) from another solver.
    assert res.lower / LN2 <= ref.upper + 1e-9 and ref.lower <= res.upper / LN2 + 1e-9
    assert abs(res.upper / LN2 - ref.rate) <= 2e-6


def test_product_rd_on_a_subset_of_cells() -> None:
    p, costs, axes = gaussian_grid_2d(COV, 8)
    keep = np.flatnonzero(p > 2e-3)  # drop low-mass cells, as grid discretizers do
    assert 0 < keep.size < p.size
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)[keep]
    grid_axes, flat = product_grid_of(pts[::-1])  # any order of the letters
    assert np.array_equal(np.sort(flat), keep)
    q = p[keep] / p[keep].sum()
    res = product_rate_distortion(q, costs, 0.4, rows=keep, cols=keep)
    d = _dense_distortion(costs)[np.ix_(keep, keep)]
    ref = DiscreteSource(q, np.ones((q.size, 1)), d).solve(D=0.4, tol=1e-7)
    assert res.converged
    assert abs(res.upper / LN2 - ref.rate) <= 2e-6


@pytest.mark.parametrize("subset", [False, True])
def test_product_rd_is_infeasible_exactly_below_the_smallest_distortion(subset: bool) -> None:
    # Costs not smallest on the diagonal, so the nearest reproduction is not the letter;
    # the threshold is recomputed here from the dense n x m distortion matrix.
    rng = np.random.default_rng(4)
    costs = [rng.random((5, 4)), rng.random((3, 6))]
    p = rng.dirichlet(np.ones(15))
    rows = np.array([0, 3, 4, 8, 9, 14]) if subset else None
    q = p if rows is None else p[rows] / p[rows].sum()
    d = _dense_distortion(costs) if rows is None else _dense_distortion(costs)[rows]
    d_min = float(q @ d.min(axis=1))
    below = product_rate_distortion(q, costs, d_min * (1 - 1e-6), rows=rows)
    assert below.upper == below.lower == math.inf
    above = product_rate_distortion(q, costs, d_min + 0.05, rows=rows)
    assert math.isfinite(above.upper) and above.converged


def test_product_rd_rejects_bad_input() -> None:
    p, costs, _ = gaussian_grid_2d(COV, 4)
    with pytest.raises(ValueError, match="`D`"):
        product_rate_distortion(p, costs, math.nan)
    with pytest.raises(ValueError, match="`axis_costs`"):
        product_rate_distortion(p, costs * 2, 0.3)
    with pytest.raises(ValueError, match="`p`"):
        product_rate_distortion(p[:-1], costs, 0.3)
    with pytest.raises(ValueError, match="`D`"):
        product_rate_distortion(p, costs, 0.0)  # D_min = 0: an infinite slope
    keep = np.arange(1, 16)  # reproductions without cell 0: D_min > 0, and below it R = inf
    below = product_rate_distortion(p, costs, 1e-3, cols=keep)
    assert below.upper == below.lower == math.inf


@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("subset", [False, True])
def test_kronecker_newton_solve_matches_dense_system(subset: bool, explicit: bool) -> None:
    # With τ tiny the factorization keeps every pair, so the Woodbury solve must agree with
    # numpy's solve of the Newton matrix R Kᵀ W K R + diag built from np.kron directly.
    rng = np.random.default_rng(1)
    F = [np.exp(-rng.random((5, 5)) * 2.0), np.exp(-rng.random((4, 4)) * 2.0)]
    rows = np.array([0, 1, 3, 6, 7, 9, 12, 14, 15, 18, 19]) if subset else None
    cols = np.array([1, 2, 4, 5, 8, 11, 13, 17]) if subset else None
    K = ProductKernel(F, rows, cols)
    basis = KroneckerBasis(K, 1e-14)
    basis.explicit = explicit  # the explicit factor G = L^T B R (late steps at large slopes)
    n, m = K.shape
    w, r, diag = rng.random(n) + 0.1, rng.random(m) + 0.1, rng.random(m) + 0.5
    dense = np.kron(F[0], F[1])
    if subset:
        dense = dense[np.ix_(rows, cols)]
    M = (dense * r).T @ (w[:, None] * dense * r) + np.diag(diag)
    solve = basis.solver(w, r, diag)
    assert solve is not None
    y = rng.standard_normal(m)
    assert np.allclose(solve(y), np.linalg.solve(M, y), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("rho", "D"), [(0.6, 0.8), (0.9, 1.0)])
def test_product_rd_on_a_24x24_grid_takes_the_kronecker_newton_system(rho: float, D: float) -> None:
    # rho = 0.9: cells of mass ~1e-40 off the diagonal made A^T W A numerically singular,
    # and every slope stopped after its Blahut-Arimoto steps (here: 31 slopes, gap 1.5e-3 bits).
    p, costs, _ = gaussian_grid_2d([[1.0, rho], [rho, 1.0]], 24)
    res = product_rate_distortion(p, costs, D)
    K = ProductKernel([np.exp(-res.beta * c) for c in costs])
    assert KroneckerBasis(K).newton_flops() < p.size**3 * 4 / 3  # not the dense fallback
    ref = DiscreteSource(p, np.ones((p.size, 1)), _dense_distortion(costs)).solve(D=D, tol=1e-7)
    assert res.converged and res.gap <= 1e-6 * LN2
    assert res.lower / LN2 <= ref.upper + 1e-9 and ref.lower <= res.upper / LN2 + 1e-9


# ------------------------------------------------------------------ R(D, P) on product grids
@pytest.mark.parametrize(
    ("D", "P", "kind", "skips_rd"),
    [(0.3, 0.02, "tv", True), (1.0, 0.05, "tv", True), (0.3, 0.005, "kl", True),
     (0.3, 0.1, "tv", False)],
)  # fmt: skip
def test_product_rdp_matches_dense_solver(D: float, P: float, kind: str, skips_rd: bool) -> None:
    # Both routes: straight to the perception search where Blahut-Arimoto steps leave the
    # ball clearly, else R(D) first (here TV 0.115 after 10 steps, 0.116 at the optimum).
    p, costs, _ = gaussian_grid_2d(COV, 10)
    assert product._ball_binds_clearly(p, costs, 1.0 / D, None, P, kind) == skips_rd
    res = product_rate_distortion(p, costs, D, P=P, perception=kind)
    assert res.converged and res.gap <= 1e-6 * LN2
    assert res.message.startswith("R(D, P)")
    src = DiscreteSource(p, np.ones((p.size, 1)), _dense_distortion(costs))
    # DiscreteSource takes KL perception in bits; the product solver works in nats.
    ref = src.solve(D=D, P=P / LN2 if kind == "kl" else P, perception=kind, tol=1e-7)
    assert res.lower / LN2 <= ref.upper + 1e-9 and ref.lower <= res.upper / LN2 + 1e-9
    rd = src.solve(D=D, tol=1e-7)
    assert res.lower / LN2 > rd.upper + 1e-4  # the ball binds: R(D, P) > R(D)


def test_product_rdp_with_a_slack_ball_is_rd() -> None:
    p, costs, _ = gaussian_grid_2d(COV, 10)
    res = product_rate_distortion(p, costs, 0.5, P=5.0, perception="kl")
    assert res.converged and "slack" in res.message
    ref = DiscreteSource(p, np.ones((p.size, 1)), _dense_distortion(costs)).solve(D=0.5, tol=1e-7)
    assert res.lower / LN2 <= ref.upper + 1e-9 and ref.lower <= res.upper / LN2 + 1e-9


def test_product_perception_slope_matches_dense_sinkhorn() -> None:
    from rdpc_theory.rate_distortion import combined_cost, perception_slope_solve
    from rdpc_theory.rate_distortion.product import product_perception_slope_solve

    p, costs, _ = gaussian_grid_2d(COV, 8)
    w = combined_cost(_dense_distortion(costs), 2.0)
    ref = perception_slope_solve(p, w, p, 0.03, "tv", tol=1e-11, method="sinkhorn")
    sol = product_perception_slope_solve(p, costs, 2.0, 0.03, "tv", tol=1e-11)
    assert sol.feasible and sol.gap <= 1e-11 and sol.channel.size == 0
    assert sol.lower <= ref.value + 1e-9 and ref.lower <= sol.value + 1e-9
    # Its cost is E_Q d of the Gibbs channel of its weights, formed densely here.
    weights = sol.reference * sol.scaling
    Q = np.exp(-(w - w.min(axis=1, keepdims=True))) * weights
    Q /= Q.sum(axis=1, keepdims=True)
    assert sol.cost == pytest.approx(
        float(p @ (Q * _dense_distortion(costs)).sum(axis=1)), rel=1e-10
    )


def test_product_rdp_rejects_bad_perception_input() -> None:
    p, costs, _ = gaussian_grid_2d(COV, 4)
    for P in (math.nan, -0.1, math.inf):
        with pytest.raises(ValueError, match="`P`"):
            product_rate_distortion(p, costs, 0.3, P=P)
    with pytest.raises(ValueError, match="`P`"):
        product_rate_distortion(p, costs, 0.3, P=1.0, perception="tv")
    with pytest.raises(ValueError, match="`perception`"):
        product_rate_distortion(p, costs, 0.3, P=0.1, perception="w1")
    keep = np.arange(1, 16)
    q = p[keep] / p[keep].sum()
    with pytest.raises(ValueError, match="source cells"):
        product_rate_distortion(q, costs, 0.3, rows=keep, cols=np.arange(16), P=0.1)


@pytest.mark.parametrize("coarse", [1e-2, 1e-3])
def test_a_stalled_coarse_factorization_hands_over_to_the_fine_one(
    monkeypatch: pytest.MonkeyPatch, coarse: float
) -> None:
    # A coarse pair cut-off leaves a floor under the gap the Newton steps reach; the slope
    # must notice the stall and finish with the fine factorization, not stop short or run
    # out its steps.  The answer is checked against the dense solver.
    p, costs, _ = gaussian_grid_2d(COV, 24)
    cutoffs: list[float | None] = []

    class Spy(KroneckerBasis):
        def __init__(self, K: ProductKernel, rtol: float | None = None) -> None:
            cutoffs.append(rtol)
            super().__init__(K, rtol)

    monkeypatch.setattr(product, "PAIR_RTOL", coarse)
    monkeypatch.setattr(product, "KroneckerBasis", Spy)
    res = product_rate_distortion(p, costs, 0.3)
    assert product.POLISH_RTOL in cutoffs
    ref = DiscreteSource(p, np.ones((p.size, 1)), _dense_distortion(costs)).solve(D=0.3, tol=1e-7)
    assert res.converged and res.gap <= 1e-6 * LN2
    assert res.lower / LN2 <= ref.upper + 1e-9 and ref.lower <= res.upper / LN2 + 1e-9
