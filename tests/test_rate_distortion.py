"""rdpc_theory.rate_distortion internals against independent computations.

References: textbook closed forms (binary Hamming R(D) = h(p) - h(D) and its slope
D = 1/(1 + e^beta); Gaussian R(D) = 0.5 log(var/D)), an independent cvxpy program written
here from the definition of I(X;X̂), and numpy's own linear algebra (norms, ranks).
Default tests use n <= 512; n = 4,096 is ``slow``.
"""

from __future__ import annotations

import math
import os
import time

import cvxpy as cp
import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator
from scipy.special import entr
from threadpoolctl import threadpool_info

from rdpc_theory import BinarySource, DiscreteSource
from rdpc_theory._channel import expected_cost, mutual_information
from rdpc_theory.rate_distortion import (
    LocalSolution,
    combined_cost,
    gibbs_kernel,
    interior_point,
    interior_point_solve,
    lagrangian_point,
    perception_slope_solve,
    range_basis,
    slope_solve,
    solve_target,
    tv_barrier,
)
from rdpc_theory.rate_distortion.dual_bound import certified_gap, kernel_columns, kernel_rows
from rdpc_theory.rate_distortion.interior_point import (
    cross_approximation,
    low_rank_solver,
    sketched_range_basis,
)
from rdpc_theory.rate_distortion.kernel import slope_objective
from rdpc_theory.threads import ENV_VAR, PARALLEL_MIN_ENTRIES, solver_thread_count, solver_threads

LN2 = math.log(2.0)


def h_nats(q: float) -> float:
    return 0.0 if q in (0.0, 1.0) else -q * math.log(q) - (1 - q) * math.log(1 - q)


def hamming(p1: float) -> tuple[np.ndarray, np.ndarray]:
    return np.array([1 - p1, p1]), 1.0 - np.eye(2)


def gaussian(n: int) -> DiscreteSource:
    return DiscreteSource.from_gaussian(1.0, 0.5, 0.6, n=n, n_s=4)


def rd_target(p: np.ndarray, d: np.ndarray, D: float, tol: float, **kw):
    def slope(beta, warm):
        return slope_solve(
            p,
            combined_cost(d, beta),
            None if warm is None else warm.reference,
            tol=tol / 8,
            basis=None if warm is None else warm.basis,
            **kw,
        )

    return solve_target(
        p,
        d,
        D,
        slope,
        lambda Q: mutual_information(p, Q),
        b_min=float(p @ d.min(axis=1)),
        tol=tol,
    )


def cvxpy_slope_value(p: np.ndarray, w: np.ndarray) -> float:
    """min_Q I(X;X̂) + E w written from the definition (no code shared with the solvers)."""
    n, m = w.shape
    Q = cp.Variable((n, m), nonneg=True)
    joint = cp.multiply(p[:, None], Q)
    r = cp.sum(joint, axis=0)
    info = cp.sum(cp.rel_entr(joint, p[:, None] @ cp.reshape(r, (1, m), order="C")))
    prob = cp.Problem(cp.Minimize(info + cp.sum(cp.multiply(joint, w))), [cp.sum(Q, axis=1) == 1])
    prob.solve(solver=cp.CLARABEL)
    return float(prob.value)


# -- slope problems -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["ipm", "ba"])
def test_slope_bounds_bracket_cvxpy(seed, method):
    rng = np.random.default_rng(seed)
    n, m = 3 + seed, 2 + seed
    p = rng.dirichlet(np.ones(n))
    w = 3.0 * rng.random((n, m))
    ref = cvxpy_slope_value(p, w)
    sol = slope_solve(p, w, tol=1e-9, method=method, max_iter=200 if method == "ipm" else 50000)
    assert sol.lower <= ref + 1e-7 <= sol.value + 2e-7
    assert sol.value - ref < 1e-6
    # The returned value is the objective of the returned channel.
    Q = sol.channel
    assert sol.value == pytest.approx(mutual_information(p, Q) + expected_cost(p, Q, w), abs=1e-12)


def gaussian_grid_slope(beta: float) -> tuple[np.ndarray, np.ndarray]:
    """(p, w) of a slope problem on an 81-point Gaussian grid on ±5σ (tail cells of mass
    ~1e-7, where Blahut–Arimoto's weights converge slowly)."""
    x = np.linspace(-5.0, 5.0, 81)
    p = np.exp(-0.5 * x**2)
    return p / p.sum(), combined_cost((x[:, None] - x[None, :]) ** 2, beta)


def slope_value(p: np.ndarray, K: np.ndarray, base: float, r: np.ndarray) -> float:
    return base - float(p @ np.log(K @ r))


@pytest.mark.parametrize("beta", [2.0, 10.0])
def test_repaired_dual_bound_holds_and_beats_blahut_on_ba_iterates(beta):
    p, w = gaussian_grid_slope(beta)
    K, w_min = gibbs_kernel(w.copy())
    base = float(p @ w_min)
    # Reference: an interior-point optimum whose Blahut gap, computed here from its
    # definition, is below 1e-10 nats: F lies within 1e-10 below f_ref.
    r_ref = slope_solve(p, w, tol=1e-13).reference
    f_ref = slope_value(p, K, base, r_ref)
    assert math.log((K.T @ (p / (K @ r_ref))).max()) < 1e-10
    r = np.full(p.size, 1.0 / p.size)
    for k in range(1, 3001):
        Z = K @ r
        c = K.T @ (p / Z)
        if k in (30, 300, 3000):
            f = slope_value(p, K, base, r)
            gap = certified_gap(p, K, Z, c)
            blahut = math.log(c.max())
            assert f - gap <= f_ref + 1e-12  # a lower bound never exceeds a feasible value
            assert f - f_ref <= gap <= blahut / 20.0
        r = r * c
        r /= r.sum()


@pytest.mark.parametrize("seed", range(20))
def test_repaired_dual_bound_holds_near_random_optima(seed):
    # Near-optimal weights with a few columns pushed over c = 1 by a random perturbation,
    # on sources with tiny letters: the repaired gap must still bound f(r) - F from above.
    rng = np.random.default_rng(seed)
    n, m = 12, 10
    p = rng.dirichlet(np.ones(n)) + 10.0 ** rng.uniform(-12, -6, n) * (rng.random(n) < 0.3)
    p /= p.sum()
    w = 4.0 * rng.random((n, m))
    sol = slope_solve(p, w, tol=1e-13)
    K, w_min = gibbs_kernel(w.copy())
    base = float(p @ w_min)
    f_ref = slope_value(p, K, base, sol.reference)
    assert math.log((K.T @ (p / (K @ sol.reference))).max()) < 1e-10
    for scale in (1e-2, 1e-4):
        r = sol.reference * np.exp(scale * rng.standard_normal(m)) + 1e-9 * rng.random(m)
        r /= r.sum()
        Z = K @ r
        c = K.T @ (p / Z)
        gap = certified_gap(p, K, Z, c)
        assert slope_value(p, K, base, r) - gap <= f_ref + 1e-12
        assert gap <= math.log(c.max())


def test_kernel_columns_and_rows_of_an_operator_match_the_matrix():
    rng = np.random.default_rng(1)
    K = rng.random((6, 5))
    idx = np.array([4, 1, 1])
    assert np.array_equal(kernel_columns(aslinearoperator(K), idx), K[:, idx])
    assert np.array_equal(kernel_columns(K, idx), K[:, idx])
    assert np.array_equal(kernel_rows(aslinearoperator(K), idx), K[idx])
    assert np.array_equal(kernel_rows(K, idx), K[idx])
    F = np.asfortranarray(K)  # strided for rows: indexed, not taken
    assert np.array_equal(kernel_columns(F.T, idx[:2]), K.T[:, idx[:2]])
    assert np.array_equal(kernel_rows(F, idx), K[idx])


def test_slope_forbidden_pairs_get_no_mass():
    p = np.array([0.5, 0.3, 0.2])
    w = np.array([[0.0, np.inf, 1.0], [1.0, 0.0, np.inf], [np.inf, 1.0, 0.0]])
    sol = slope_solve(p, w, tol=1e-10)
    assert np.all(sol.channel[np.isinf(w)] == 0.0)
    assert sol.gap <= 1e-10


def test_binary_hamming_rd_matches_closed_form():
    p, d = hamming(0.3)
    for D in (0.02, 0.1, 0.2, 0.29):
        sol = rd_target(p, d, D, tol=1e-9)
        exact = h_nats(0.3) - h_nats(D)
        assert sol.converged, sol.message
        assert sol.lower - 1e-12 <= exact <= sol.upper + 1e-12
        assert sol.upper - sol.lower <= 1e-9
        assert expected_cost(p, sol.channel, d) <= D + 1e-9


def test_binary_slope_solution_has_textbook_distortion():
    # Hamming R(D) has slope -beta at D = 1/(1 + e^beta) (for D below min(p, 1-p)).
    p, d = hamming(0.3)
    beta = 2.5
    sol = slope_solve(p, beta * d, tol=1e-12)
    D = 1.0 / (1.0 + math.exp(beta))
    assert expected_cost(p, sol.channel, d) == pytest.approx(D, abs=1e-7)
    assert mutual_information(p, sol.channel) == pytest.approx(h_nats(0.3) - h_nats(D), abs=1e-7)


def _hamming_search_from(offset, tol):
    """R(D = 0.1) of the Bernoulli(0.3) Hamming source, the search started a relative
    `offset` from the textbook slope log((1 - D)/D): the result, the slopes solved and the
    closed-form rate (nats)."""
    p, d = hamming(0.3)
    D = 0.1
    beta = math.log((1 - D) / D) * (1 + offset)
    solves = []

    def slope(b, warm):
        solves.append(b)
        return slope_solve(p, combined_cost(d, b), None, tol=1e-12)

    sol = solve_target(
        p, d, D, slope, lambda Q: mutual_information(p, Q), b_min=0.0, tol=tol, beta0=beta
    )
    return sol, solves, h_nats(0.3) - h_nats(D)


def test_a_slope_landing_inside_the_bound_certifies_the_point_by_itself():
    # Started at the textbook slope of D (slightly steeper, so the channel's distortion
    # falls just inside D), the first slope's channel bounds R(D) from above by its own
    # rate, which is within beta * (D - E d) of its dual bound: one slope problem suffices.
    # (The upper bound was once that channel's I + beta E d, loose by beta E d.)
    sol, solves, exact = _hamming_search_from(1e-9, tol=1e-8)
    assert sol.converged and len(solves) == 1
    assert sol.lower - 1e-12 <= exact <= sol.upper + 1e-12
    p, _ = hamming(0.3)
    assert sol.upper == pytest.approx(mutual_information(p, sol.channel), abs=1e-12)


@pytest.mark.parametrize("offset", [1e-4, -1e-4])
def test_a_slope_landing_near_the_bound_is_bracketed_by_a_near_one(offset):
    # Started a relative `offset` from the textbook slope of D, the first slope's
    # distortion misses D by 2e-5; the bracket step (at least 1e-3 in log beta) puts a
    # second slope 2e-4 away in distortion, and the chord of the two certifies (its gap
    # is about R''/2 times the product of the two misses: 2e-8 nats).  The minimum step
    # was once 1%: the second slope 2e-3 away, a chord gap of ~2e-7, and a third slope.
    sol, solves, exact = _hamming_search_from(offset, tol=1e-7)
    assert sol.converged and len(solves) == 2
    assert abs(math.log(solves[1] / solves[0])) < 2e-3
    assert sol.lower - 1e-12 <= exact <= sol.upper + 1e-12


def test_warm_started_curve_matches_closed_form_with_fewer_slopes():
    p, d = hamming(0.3)
    Ds = np.linspace(0.02, 0.28, 14)

    def run_curve(warm_start: bool) -> int:
        solves = 0

        def slope(beta, warm):
            nonlocal solves
            solves += 1
            return slope_solve(p, combined_cost(d, beta), None if warm is None else warm.reference)

        beta0 = warm = D0 = e0 = None
        for D in Ds:
            sol = solve_target(
                p,
                d,
                D,
                slope,
                lambda Q: mutual_information(p, Q),
                b_min=0.0,
                tol=1e-9,
                beta0=beta0,
                warm=warm,
                b0=D0,
                elasticity0=e0,
            )
            exact = h_nats(0.3) - h_nats(D)
            assert sol.converged and sol.lower - 1e-12 <= exact <= sol.upper + 1e-12
            if warm_start:
                beta0, warm, D0, e0 = sol.beta, sol.slope_solution, D, sol.elasticity
            # Elasticity of the Hamming slope curve D = 1/(1 + e^beta): -beta e^beta D.
            if math.isfinite(sol.elasticity):
                b = sol.beta
                assert sol.elasticity == pytest.approx(
                    -b * math.exp(b) * (1 / (1 + math.exp(b))), rel=0.05
                )
        return solves

    assert run_curve(True) < 0.8 * run_curve(False)


def test_target_below_smallest_cost_is_infeasible():
    p, d = hamming(0.3)
    d = d + 0.1
    sol = rd_target(p, d, 0.05, tol=1e-9)
    assert math.isinf(sol.upper) and math.isinf(sol.lower)


def test_gaussian_grid_converges_to_closed_form():
    D = 0.3
    exact = 0.5 * math.log(1.0 / D)
    errors = []
    for n in (16, 64, 256):
        sol = rd_target(gaussian(n).p_x, gaussian(n).distortion, D, tol=1e-9)
        assert sol.converged
        errors.append(abs(0.5 * (sol.upper + sol.lower) - exact))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4


# -- the interior point and its low-rank Newton system ---------------------------------------


def test_range_basis_captures_a_smooth_kernel():
    src = gaussian(400)
    K, _ = gibbs_kernel(src.distortion / 0.6)
    basis = range_basis(K)
    assert basis is not None
    assert basis.rank < 100  # numerical rank of a smooth kernel, far below n
    err = np.linalg.norm(K - basis.U @ basis.B, 2)
    assert err <= 1e-11 * np.linalg.norm(K, 2)
    assert np.allclose(basis.U.T @ basis.U, np.eye(basis.rank), atol=1e-12)


def test_randomized_range_finder_extends_a_neighbours_basis():
    # The fallback of range_basis extends a given basis (a nearby kernel's, or the cross
    # approximation's); any basis of that span will do (here mixed by a random
    # invertible matrix, so not orthonormal).
    src = gaussian(400)
    rng = np.random.default_rng(1)
    near = range_basis(gibbs_kernel(src.distortion / 0.7)[0])
    assert near is not None
    mixed = near.U @ (np.eye(near.rank) + 0.3 * rng.standard_normal((near.rank, near.rank)))
    K, _ = gibbs_kernel(src.distortion / 0.6)
    basis = sketched_range_basis(K, mixed)
    assert basis is not None
    err = np.linalg.norm(K - basis.U @ basis.B, 2)
    assert err <= 1e-11 * np.linalg.norm(K, 2)
    assert np.allclose(basis.U.T @ basis.U, np.eye(basis.rank), atol=1e-12)
    # Directions of the neighbour's basis that this kernel does not need are dropped:
    # the rank is that of K's singular values above the cut-off, up to a few.
    sv = np.linalg.svd(K, compute_uv=False)
    assert abs(basis.rank - int(np.count_nonzero(sv > 1e-13 * sv[0]))) <= 3


def test_range_basis_declines_a_full_rank_kernel():
    rng = np.random.default_rng(0)
    assert range_basis(rng.random((300, 300))) is None
    assert sketched_range_basis(rng.random((300, 300))) is None


def test_cross_approximation_recovers_an_exactly_low_rank_matrix():
    # A positive rank-7 matrix: 7 crosses reproduce it; the stopping rule then takes up
    # to two terms of rounding noise.
    rng = np.random.default_rng(2)
    M = rng.random((300, 7)) @ rng.random((7, 280))
    assert np.linalg.matrix_rank(M) == 7
    A, Bx = cross_approximation(M, 100)
    assert 7 <= A.shape[0] <= 9
    assert np.abs(M - A[:7].T @ Bx[:7]).max() <= 1e-12 * np.abs(M).max()
    assert np.abs(M - A.T @ Bx).max() <= 1e-12 * np.abs(M).max()
    assert cross_approximation(M, 5) is None  # more than max_rank terms needed


def test_range_basis_falls_back_when_the_crosses_miss_part_of_the_kernel():
    # A smooth kernel plus one entry far from where the pivots go: partial pivoting never
    # reads row 3 or column 390 again once the smooth part is captured, so the cross
    # approximation misses the spike; the probes see it and the range finder recovers it.
    src = gaussian(400)
    K, _ = gibbs_kernel(src.distortion / 0.6)
    K[3, 390] += 0.5
    A, Bx = cross_approximation(K, 133)
    assert abs((K - A.T @ Bx)[3, 390]) > 0.4  # the heuristic alone misses it
    basis = range_basis(K)  # extends the crosses' basis, which spans all but the spike
    assert basis is not None
    err = np.linalg.norm(K - basis.U @ basis.B, 2)
    assert err <= 1e-11 * np.linalg.norm(K, 2)
    assert np.allclose(basis.U.T @ basis.U, np.eye(basis.rank), atol=1e-12)


@pytest.mark.parametrize("explicit", [False, True])
def test_low_rank_newton_solve_matches_numpy(explicit: bool, monkeypatch):
    # The Woodbury solve (contracted S = I + Lᵀ Q L, or, where rounding makes that S
    # indefinite, the explicit factor G: forced here) against numpy's solve of
    # R (UB)ᵀ W (UB) R + diag formed as a dense matrix.
    src = gaussian(300)
    K, _ = gibbs_kernel(src.distortion / 0.6)
    basis = range_basis(K)
    assert basis is not None
    rng = np.random.default_rng(4)
    w, r, diag, y = rng.random(300) + 0.1, rng.random(300) + 0.1, rng.random(300), rng.random(300)
    KB = basis.U @ basis.B
    M = (KB * r[None, :]).T @ (w[:, None] * KB * r[None, :]) + np.diag(diag)
    if explicit:
        monkeypatch.setattr(interior_point, "contracted_factor", lambda L, Q: None)
        monkeypatch.setattr(interior_point, "low_rank_solver", counted(low_rank_solver))
    solve = basis.solver(w, r, diag)
    assert solve is not None
    ref = np.linalg.solve(M, y)
    assert np.allclose(solve(y), ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max())
    if explicit:
        assert interior_point.low_rank_solver.calls == 1


def counted(f):
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return f(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


def test_low_rank_and_dense_newton_reach_the_same_optimum():
    src = gaussian(300)
    p = src.p_x
    K, _ = gibbs_kernel(src.distortion / 0.6)
    r0 = np.full(300, 1 / 300)
    dense = interior_point_solve(p, K, r0, 1e-10, 200)
    low = interior_point_solve(p, K, r0, 1e-10, 200, range_basis(K))
    assert dense.gap <= 1e-10 and low.gap <= 1e-10

    def dual_value(r):
        return -float(p @ np.log(K @ r))

    assert dual_value(dense.r) == pytest.approx(dual_value(low.r), abs=2e-10)


def test_accelerated_beats_plain_ba_on_a_grid():
    src = gaussian(256)
    w = src.distortion / 0.6
    acc = slope_solve(src.p_x, w, tol=1e-8)
    plain = slope_solve(src.p_x, w, tol=1e-8, method="ba", max_iter=acc.n_iter * 20)
    assert acc.gap <= 1e-8 < plain.gap  # BA is sublinear on discretized sources
    assert acc.lower <= plain.value and plain.lower <= acc.value


# -- perception ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["barrier", "sinkhorn"])
@pytest.mark.parametrize(("D", "P"), [(0.1, 0.02), (0.05, 0.01)])
def test_binary_rdp_tv_matches_closed_form(D, P, method):
    p, d = hamming(0.3)

    def slope(beta, warm):
        start = None if warm is None else (warm.reference, warm.scaling)
        w = combined_cost(d, beta)
        return perception_slope_solve(p, w, p, P, "tv", start, tol=1e-11, method=method)

    sol = solve_target(p, d, D, slope, lambda Q: mutual_information(p, Q), b_min=0.0, tol=1e-9)
    exact = float(BinarySource(0.3, 0.1).rdp(D, P, base=math.e))
    assert sol.lower - 1e-9 <= exact <= sol.upper + 1e-9


def random_tv_instance(seed: int):
    rng = np.random.default_rng(seed)
    n, m = (int(k) for k in rng.integers(3, 30, size=2))
    return rng.dirichlet(np.ones(n)), 3.0 * rng.random((n, m)), rng.dirichlet(np.ones(m))


@pytest.mark.parametrize("seed", range(4))
def test_tv_barrier_and_generalized_sinkhorn_certify_the_same_value(seed):
    # Two algorithms (barrier on the dual, generalized Sinkhorn on the primal), each with its
    # own certificate: each lower bound must sit below the other's feasible value.  Values of
    # channels feasible only to FEASIBILITY_TOL = 1e-9 in TV may undercut by ~1e-9 * slope.
    p, d, q = random_tv_instance(seed)
    for beta, P in [(0.3, 0.05), (2.0, 0.002), (8.0, 0.3)]:
        w = combined_cost(d, beta)
        a = perception_slope_solve(p, w, q, P, "tv", tol=1e-9, method="barrier")
        b = perception_slope_solve(p, w, q, P, "tv", tol=1e-9, method="sinkhorn", max_iter=10**5)
        assert a.feasible and a.gap <= 1e-9 and b.feasible
        assert a.lower <= b.value + 1e-8 and b.lower <= a.value + 1e-8
        assert 0.5 * np.abs(p @ a.channel - q).sum() <= P + 1e-9
        assert a.value == pytest.approx(slope_objective(p, a.channel, w), abs=1e-9)


def test_tv_barrier_low_rank_newton_on_a_grid():
    src = gaussian(256)  # 256 columns: the Newton systems go through the range basis
    w = combined_cost(src.distortion, 1.0 / 0.6)
    a = perception_slope_solve(src.p_x, w, src.p_x, 0.02, "tv", tol=1e-8, method="barrier")
    b = perception_slope_solve(src.p_x, w, src.p_x, 0.02, "tv", tol=1e-8, method="sinkhorn")
    assert a.basis is not None and a.gap <= 1e-8 and b.gap <= 1e-8
    assert a.lower <= b.value + 1e-9 and b.lower <= a.value + 1e-9
    assert a.n_iter < b.n_iter / 10  # Newton steps against Sinkhorn steps


def test_tv_barrier_repair_keeps_the_bound():
    # Perturb a barrier point so that the channel read off it leaves the ball: the
    # post-processed channel must be inside it, and the reported value must bound its
    # objective computed directly from the matrix.
    p, d, q = random_tv_instance(7)
    P = 0.01
    w = combined_cost(d, 2.0)
    K, w_min = gibbs_kernel(w)
    base = float(p @ w_min) + float(entr(p).sum())
    barrier = tv_barrier._Barrier(p, K, w, base, q, P, None)
    g, s, lo = barrier.start(None)
    _, c, v = barrier.dual(g)
    rng = np.random.default_rng(0)
    for _ in range(20):
        s_bad = s + rng.random(s.size)  # any point: rho read off it is far from the ball
        lower, value, channel = barrier.certify(g, s_bad, c, v, 1e-3)
        if channel.keep is not None:
            break
    assert channel.keep is not None
    Q = channel.matrix(K)
    assert np.allclose(Q.sum(axis=1), 1.0)
    assert 0.5 * np.abs(p @ Q - q).sum() <= P + 1e-12
    assert value >= slope_objective(p, Q, w) - 1e-12


# -- classification ------------------------------------------------------------------------


def test_lagrangian_point_without_label_term_is_the_rd_point():
    p, d = hamming(0.3)
    W = np.array([[0.9, 0.1], [0.1, 0.9]])
    beta = 2.0
    out = lagrangian_point(
        p,
        d,
        W,
        beta,
        0.0,
        np.full((2, 2), 0.5),
        slope=lambda w, warm: slope_solve(p, w, None if warm is None else warm.reference),
    )
    assert isinstance(out, LocalSolution) and out.converged
    D = 1.0 / (1.0 + math.exp(beta))
    assert expected_cost(p, out.channel, d) == pytest.approx(D, abs=1e-7)


# -- threads -------------------------------------------------------------------------------


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_thread_rule_by_size_and_overrides(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert solver_thread_count(256 * 256) == 1
    cores = os.cpu_count() or 1
    assert solver_thread_count(PARALLEL_MIN_ENTRIES) == 1
    assert solver_thread_count(64 * PARALLEL_MIN_ENTRIES) == max(1, cores // 2)
    assert solver_thread_count(256 * 256, threads=2) == 2
    monkeypatch.setenv(ENV_VAR, "3")
    assert solver_thread_count(256 * 256) == 3
    assert solver_thread_count(256 * 256, threads=1) == 1
    monkeypatch.setenv(ENV_VAR, "auto")
    assert solver_thread_count(256 * 256) == 1


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_thread_env_var_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv(ENV_VAR, bad)
    with pytest.raises(ValueError, match="`RDPC_NUM_THREADS` must be an integer >= 1"):
        solver_thread_count(10)


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_thread_keyword_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="`threads` must be an integer >= 1"):
        solver_thread_count(10, threads=bad)


def test_solver_threads_sets_and_restores_blas_limit(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS visible to threadpoolctl")
    with solver_threads(100):
        assert blas_threads() == {1}
    assert blas_threads() == before


# -- large alphabets -----------------------------------------------------------------------


@pytest.mark.slow
def test_n4096_rd_certified_in_seconds():
    src = DiscreteSource.from_gaussian(1.0, 0.5, 0.6, n=4096, n_s=4)
    t0 = time.process_time()
    sol = rd_target(src.p_x, src.distortion, 0.3, tol=1e-6 * LN2)
    cpu = time.process_time() - t0
    assert sol.converged and sol.upper - sol.lower <= 1e-6 * LN2
    assert abs(0.5 * (sol.upper + sol.lower) - 0.5 * math.log(1 / 0.3)) < 1e-5
    assert cpu < 30.0  # target 10 s on an idle core; slack for a shared machine
