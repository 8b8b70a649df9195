"""Certified lower bounds of the classification-constrained solvers (posterior LP).

References are independent of the code under test: the closed forms of `BinarySource`,
the exhaustive binary search of `rdpc_theory.brute_force`, a multistart SLSQP search
over 3-letter channels written here, and dense sampling of the simplex for the pricing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import linprog, minimize
from scipy.special import entr

from rdpc_theory import BinarySource, DiscreteSource
from rdpc_theory.brute_force import binary_brute_force
from rdpc_theory.discrete.certificate import (
    PosteriorBound,
    atom_channel,
    ball_channel,
    local_minima,
    min_eigenvalue_3x3,
    min_reduced_cost,
    posterior_lower_bound,
    price_letters,
)
from rdpc_theory.discrete.master import MasterLP

LN2 = math.log(2.0)


# -- the pricing step -----------------------------------------------------------------


def simplex_grid(n: int, steps: int) -> np.ndarray:
    """Every point of the simplex with coordinates in multiples of 1/steps."""

    def compositions(k: int, total: int) -> list[list[int]]:
        if k == 1:
            return [[total]]
        return [[i, *rest] for i in range(total + 1) for rest in compositions(k - 1, total - i)]

    return np.array(compositions(n, steps), dtype=np.float64) / steps


def phi_direct(q, a, W, mu):
    """a.q - H(q) + mu H(qW), written out independently."""
    h = -sum(x * math.log(x) for x in q if x > 0)
    s = q @ W
    hs = -sum(x * math.log(x) for x in s if x > 0)
    return float(a @ q) - h + mu * hs


@pytest.mark.parametrize("n, seed", [(2, 0), (3, 1), (3, 2), (4, 3)])
def test_pricing_lower_bound_is_below_every_sampled_value(n, seed):
    rng = np.random.default_rng(seed)
    W = rng.dirichlet(np.ones(3), size=n)
    a = rng.normal(size=n)
    mu = float(rng.uniform(0.5, 5.0))
    res = min_reduced_cost(a, W, mu, eps=1e-7)
    grid = simplex_grid(n, 40 if n < 4 else 24)
    sampled = min(phi_direct(q, a, W, mu) for q in grid)
    assert res.lower <= sampled + 1e-12
    assert res.value - res.lower <= 1e-7 + 1e-12
    assert abs(res.value - phi_direct(res.point, a, W, mu)) < 1e-12
    # The minimum is at most the grid's, and close to it (the grid is only so fine).
    assert res.value <= sampled + 1e-12
    assert sampled - res.value < 0.05


def test_pricing_without_the_concave_term_is_the_gibbs_free_energy():
    a = np.array([0.3, -1.0, 2.0])
    res = min_reduced_cost(a, np.eye(3), 0.0, eps=1e-9)
    exact = -math.log(sum(math.exp(-x) for x in a))
    assert abs(res.lower - exact) < 1e-12 and abs(res.value - exact) < 1e-12


def test_pricing_node_budget_keeps_a_valid_bound():
    rng = np.random.default_rng(5)
    W = rng.dirichlet(np.ones(2), size=4)
    a = rng.normal(size=4)
    full = min_reduced_cost(a, W, 3.0, eps=1e-8)
    cut = min_reduced_cost(a, W, 3.0, eps=1e-8, max_nodes=50)
    assert cut.lower <= full.value + 1e-12
    assert cut.lower <= full.lower + 1e-12


@pytest.mark.parametrize("a", [[6.0, 0.0, -0.5, 0.3], [2.0, 2.0, 0.0, 0.0]])
def test_pricing_certifies_a_minimum_near_the_boundary(a):
    # Minimizers with entries ~1e-3 (where -H curves like 1/q): Euclidean bisection needed
    # ~60,000 simplices here and still missed eps; the chi-square edge length certifies.
    W = np.array([[0.88, 0.08, 0.04], [0.04, 0.10, 0.86], [0.22, 0.375, 0.405], [0.24, 0.17, 0.59]])
    a = np.asarray(a)
    res = min_reduced_cost(a, W, 5.0, eps=1e-5, max_nodes=20_000)
    assert res.value - res.lower <= 1e-5 + 1e-12
    # An independent local search (SLSQP on the simplex, from many starts) finds nothing
    # below the certified bound.
    rng = np.random.default_rng(0)
    found = math.inf
    for q0 in rng.dirichlet(np.ones(4), size=12):
        out = minimize(
            lambda q: phi_direct(np.clip(q, 0, 1), a, W, 5.0),
            q0,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * 4,
            constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1.0}],
        )
        found = min(found, phi_direct(np.clip(out.x, 0, 1) / np.clip(out.x, 0, 1).sum(), a, W, 5.0))
    assert res.lower <= found + 1e-12
    assert found - res.lower < 1e-3


def test_joint_pricing_of_several_letters_is_below_every_sampled_value():
    # Three reduced costs with offsets, one restricted to a sub-simplex: the joint bound is
    # below the smallest sampled value of any of them, and within eps of the best found.
    rng = np.random.default_rng(7)
    W = rng.dirichlet(np.ones(3), size=3)
    A = rng.normal(size=(3, 3))
    offsets = np.array([0.0, -0.3, 0.2])
    region = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    res = price_letters(A, offsets, W, 2.5, eps=1e-7, vertices=[None, region, None])
    grid = simplex_grid(3, 60)
    sampled = []
    for k in range(3):
        pts = grid if k != 1 else grid @ region  # barycentric grid mapped into the region
        sampled.append(offsets[k] + min(phi_direct(q, A[k], W, 2.5) for q in pts))
        assert abs(res.values[k] - phi_direct(res.points[k], A[k], W, 2.5)) < 1e-12
    assert np.all(res.points[1] @ np.linalg.inv(region) >= -1e-12)  # inside its region
    assert res.lower <= min(sampled) + 1e-12
    assert float(np.min(offsets + res.values)) - res.lower <= 1e-7 + 1e-12
    # Each reduced cost alone (min_reduced_cost) agrees on the joint minimum.
    alone = min(
        offsets[k] + min_reduced_cost(A[k], W, 2.5, eps=1e-7, vertices=v).lower
        for k, v in enumerate([None, region, None])
    )
    assert abs(alone - res.lower) <= 2e-7
    # A second search with moved coefficients, started from the first one's final
    # simplices (they still cover each domain), certifies the same as a fresh search.
    A2 = A + 0.05 * rng.normal(size=A.shape)
    warm = price_letters(
        A2, offsets, W, 2.5, eps=1e-7, vertices=[None, region, None], cover=res.leaves
    )
    cold = price_letters(A2, offsets, W, 2.5, eps=1e-7, vertices=[None, region, None])
    sampled2 = min(
        offsets[k] + min(phi_direct(q, A2[k], W, 2.5) for q in (grid if k != 1 else grid @ region))
        for k in range(3)
    )
    assert warm.lower <= sampled2 + 1e-12 and cold.lower <= sampled2 + 1e-12
    assert abs(warm.lower - cold.lower) <= 2e-7


def test_closed_form_3x3_eigenvalue_is_a_lower_bound_close_to_lapack():
    rng = np.random.default_rng(3)
    B = rng.normal(size=(2000, 3, 3))
    B = B + B.transpose(0, 2, 1)
    B[::7] *= 1e5
    B[::5] = 3.0 * np.eye(3)  # triple and double eigenvalues: arccos at its steepest
    B[::11] = np.diag([1.0, 2.0, 2.0])
    ref = np.linalg.eigvalsh(B)[:, 0]
    lam = min_eigenvalue_3x3(B.reshape(-1, 9))
    scale = np.abs(B).reshape(-1, 9).max(axis=1)
    assert np.all(lam <= ref)
    assert np.all(ref - lam <= 1e-5 * scale)


def test_local_minima_never_increase_the_reduced_cost():
    rng = np.random.default_rng(2)
    W = rng.dirichlet(np.ones(3), size=3)
    a = rng.normal(size=3)
    starts = rng.dirichlet(np.ones(3), size=6)
    pts, vals = local_minima(a, W, 2.0, starts)
    before = [phi_direct(q, a, W, 2.0) for q in starts]
    assert np.all(vals <= np.array(before) + 1e-12)
    assert np.allclose(pts.sum(axis=1), 1.0)


# -- the master LP --------------------------------------------------------------------


def linprog_master(p, letters, Q, W, d, D, C, P, p_ball):
    """The master LP written out for scipy's linprog (cold start, dense): value, duals."""
    n, K, m = p.size, letters.size, d.shape[1]
    h = lambda x: entr(x).sum(axis=-1)  # noqa: E731
    c = np.concatenate([-h(Q), np.zeros(2 * m)])
    A_eq = np.zeros((n + m, K + 2 * m))
    A_eq[:n, :K] = Q.T
    A_eq[n + letters, np.arange(K)] = 1.0
    A_eq[n:, K : K + m] = -np.eye(m)
    rows, b = [], []
    rows.append(np.concatenate([np.einsum("kx,xk->k", Q, d[:, letters]), np.zeros(2 * m)]))
    b.append(D)
    rows.append(np.concatenate([h(Q @ W), np.zeros(2 * m)]))
    b.append(C)
    for j in range(m):
        for sign in (1.0, -1.0):
            row = np.zeros(K + 2 * m)
            row[K + j], row[K + m + j] = sign, -1.0
            rows.append(row)
            b.append(sign * p_ball[j])
    row = np.zeros(K + 2 * m)
    row[K + m :] = 1.0
    rows.append(row)
    b.append(2.0 * P)
    res = linprog(c, A_ub=np.array(rows), b_ub=b, A_eq=A_eq, b_eq=np.r_[p, np.zeros(m)])
    return res


def test_master_lp_grown_column_by_column_matches_linprog():
    # Atoms added in three batches and re-solved from the last basis each time give the
    # value and the prices of a cold linprog solve of the full LP (TV, D and C rows).
    rng = np.random.default_rng(11)
    h = lambda x: entr(x).sum(axis=-1)  # noqa: E731
    n, m = 3, 3
    p = rng.dirichlet(np.full(n, 3.0))
    W = rng.dirichlet(np.ones(2), size=n)
    d = 1.0 - np.eye(n)
    letters = np.concatenate([np.repeat(np.arange(m), n), rng.integers(0, m, size=30)])
    Q = np.concatenate([np.tile(np.eye(n), (m, 1)), rng.dirichlet(np.ones(n), size=30)])
    h_sx, h_s = float(p @ h(W)), float(h(p @ W))
    D, C, P = 0.3, h_sx + 0.4 * (h_s - h_sx), 0.05  # C binds
    master = MasterLP(p, m, D, C, P, p)
    for part in (slice(0, 9), slice(9, 25), slice(25, 39)):
        master.add_atoms(
            letters[part],
            Q[part],
            -h(Q[part]),
            np.einsum("kx,xk->k", Q[part], d[:, letters[part]]),
            h(Q[part] @ W),
        )
        sol = master.solve()
        ref = linprog_master(p, letters[: part.stop], Q[: part.stop], W, d, D, C, P, p)
        assert sol is not None and ref.status == 0
        assert abs(sol.value - ref.fun) < 1e-9
        assert np.allclose(sol.weights @ Q[: part.stop], p, atol=1e-9)

    # Strong duality: the prices certify the value (the certificate's dual; with P below
    # every p_j the support function of the TV ball moves mass P between two letters,
    # found here by trying every pair).
    assert P < p.min()

    def support(pi):
        best = -math.inf
        for i in range(m):
            for j in range(m):
                r = p.copy()
                moved = min(P, p[j]) if i != j else 0.0
                r[i] += moved
                r[j] -= moved
                best = max(best, float(pi @ r))
        return best

    dual = sol.lam @ p - sol.mu_d * D - sol.mu_c * C - support(sol.pi)
    assert sol.mu_d >= 0 and sol.mu_c >= 0
    assert abs(dual - sol.value) < 1e-8


def test_master_lp_reports_an_infeasible_start():
    p = np.array([0.5, 0.5])
    master = MasterLP(p, 2, math.inf, 0.1)
    # Atoms whose label entropy is above C everywhere: no feasible weights.
    Q = np.array([[0.5, 0.5], [0.5, 0.5]])
    master.add_atoms(np.array([0, 1]), Q, -np.log(2.0) * np.ones(2), np.zeros(2), np.full(2, 0.6))
    assert master.solve() is None and master.infeasible


# -- the bound on R(D, P, C) ----------------------------------------------------------


BIN_CASES = [
    dict(D=0.05, C=0.9),
    dict(D=0.1, C=0.6),
    dict(D=0.2, C=0.55),
    dict(C=0.6),
    dict(P=0.05, C=0.6),
    dict(D=0.15, P=0.02, C=0.6),
]


def closed_form(b: BinarySource, D=None, P=None, C=None) -> float:
    if D is None and P is None:
        return float(b.rc(C))
    if P is None:
        return float(b.rdc(D, C))
    if D is None:
        return float(b.rpc(P, C))
    return float(b.rdpc(D, P, C))


@pytest.mark.parametrize("kw", BIN_CASES)
def test_binary_lower_bound_meets_the_closed_form(kw):
    b = BinarySource(0.3, 0.1)
    src = DiscreteSource.from_binary(0.3, 0.1)
    res = src.solve(**kw, tol=1e-7)
    ref = closed_form(b, **kw)
    assert res.converged and res.gap <= 1e-7
    assert abs(res.lower - ref) < 1e-6
    assert res.lower <= ref + 1e-9 <= res.upper + 2e-9
    assert "posterior-LP" in res.message or "slack" in res.message


@pytest.mark.parametrize("p, eps, D, C", [(0.2, 0.05, 0.1, 0.5), (0.45, 0.2, 0.2, 0.85)])
def test_binary_bounds_bracket_the_exhaustive_search(p, eps, D, C):
    src = DiscreteSource.from_binary(p, eps)
    res = src.solve(D=D, C=C)
    brute = binary_brute_force(p, eps, D=D, C=C).rate
    assert res.lower <= brute + 1e-9
    assert res.upper <= brute + 1e-6


def rate_3(p, Q):
    J = p[:, None] * Q
    r = J.sum(axis=0)
    return float(entr(p).sum() + entr(r).sum() - entr(J).sum())


def cond_entropy_3(p, Q, W):
    J = (p[:, None] * Q).T @ W  # (xhat, s)
    return float(entr(J).sum() - entr(J.sum(axis=1)).sum())


def slsqp_best(p, W, d, D, C, P=None, n_starts=25, seed=0):
    """Smallest rate over a multistart SLSQP search on the channel entries (nats): an
    independent estimate of R(D, P, C) from above."""
    n, m = d.shape
    rng = np.random.default_rng(seed)
    best = math.inf

    def unpack(z):
        Q = np.abs(z.reshape(n, m)) + 1e-15
        return Q / Q.sum(axis=1, keepdims=True)

    cons = [{"type": "ineq", "fun": lambda z: C - cond_entropy_3(p, unpack(z), W)}]
    if D is not None:
        cons.append({"type": "ineq", "fun": lambda z: D - float(p @ (unpack(z) * d).sum(1))})
    if P is not None:
        cons.append({"type": "ineq", "fun": lambda z: P - 0.5 * np.abs(p @ unpack(z) - p).sum()})
    for _ in range(n_starts):
        z0 = rng.dirichlet(np.full(m, 0.5), size=n).ravel()
        out = minimize(
            lambda z: rate_3(p, unpack(z)),
            z0,
            method="SLSQP",
            constraints=cons,
            options={"maxiter": 400, "ftol": 1e-12},
        )
        Q = unpack(out.x)
        ok = cond_entropy_3(p, Q, W) <= C + 1e-9
        if D is not None:
            ok &= float(p @ (Q * d).sum(1)) <= D + 1e-9
        if P is not None:
            ok &= 0.5 * np.abs(p @ Q - p).sum() <= P + 1e-9
        if ok:
            best = min(best, rate_3(p, Q))
    return best


def three_letter_cases(seed):
    rng = np.random.default_rng(100 + seed)
    p = rng.dirichlet(np.full(3, 2.0))
    W = rng.dirichlet(np.ones(2), size=3)
    src = DiscreteSource(p, W, "hamming")
    h_sx, h_s = src.label_noise_entropy(), src.label_entropy()
    C = h_sx + 0.4 * (h_s - h_sx)
    D_max = src.distortion_range()[1]
    return p, W, src, C, [dict(C=C), dict(D=0.5 * D_max, C=C), dict(D=0.5 * D_max, P=0.1, C=C)]


def test_three_letter_rdc_brackets_a_multistart_search():
    p, W, src, C, cases = three_letter_cases(0)
    kw = cases[1]
    res = src.solve(**kw, tol=1e-6)
    nat = slsqp_best(p, W, src.distortion, kw["D"], C * LN2, n_starts=8) / LN2
    assert res.lower <= nat + 1e-9
    assert res.upper <= nat + 1e-6
    assert res.converged and res.gap <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_letter_bounds_bracket_a_multistart_search(seed):
    p, W, src, C, cases = three_letter_cases(seed)
    for kw in cases:
        res = src.solve(**kw, tol=1e-6)
        nat = slsqp_best(p, W, src.distortion, kw.get("D"), C * LN2, kw.get("P")) / LN2
        assert res.lower <= nat + 1e-9, kw
        assert res.upper <= nat + 1e-6, kw
        if res.converged:
            assert res.gap <= 1e-6


def test_certificate_is_below_the_rate_of_every_feasible_channel():
    # Weak duality: the bound is below the rate of any channel meeting the constraints.
    src = DiscreteSource([0.5, 0.3, 0.2], [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], "hamming")
    D, C = 0.3, 0.8 * LN2
    bound = posterior_lower_bound(src.p_x, src.distortion, src.p_s_given_x, D, C, tol=1e-7)
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(3000):
        Q = rng.dirichlet(np.full(3, 0.3), size=3)
        v = src.evaluate(Q, base=math.e)
        if v["distortion"] <= D and v["conditional_entropy"] <= C:
            found += 1
            assert v["rate"] >= bound.lower - 1e-12
    assert found > 10
    Q = atom_channel(bound, src.p_x, src.distortion, spread=True)
    assert np.allclose(Q.sum(axis=1), 1.0)
    assert bound.relaxed - bound.lower <= 1e-7


def test_ball_channel_spreads_posteriors_over_letters_within_the_ball():
    # Three posteriors on four letters, labelled so that the output law is far from p:
    # posterior k must take several letters (weights in proportion to p) to meet TV 0.05.
    Qs = np.array([[0.97, 0.01, 0.01, 0.01], [0.01, 0.6, 0.3, 0.09], [0.01, 0.09, 0.2, 0.7]])
    w = np.array([0.1, 0.6, 0.3])
    p = w @ Qs
    W = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.3, 0.7]])
    bound = PosteriorBound(0.0, 0.0, np.array([0, 0, 1]), Qs, w, True, 1, 1)
    Q = ball_channel(bound, p, np.zeros((4, 4)), W, p, 0.05)
    assert Q is not None and np.allclose(Q.sum(axis=1), 1.0)
    r = p @ Q
    assert 0.5 * np.abs(r - p).sum() <= 0.05 + 1e-12
    # Every posterior is kept, so I and H(S|Xhat) are those of the mixture of atoms.
    h = lambda v: float(entr(v).sum())  # noqa: E731
    i_atoms = h(p) - sum(wk * h(q) for wk, q in zip(w, Qs, strict=True))
    hs_atoms = sum(wk * h(q @ W) for wk, q in zip(w, Qs, strict=True))
    J = p[:, None] * Q
    post = [J[:, j] / r[j] for j in range(4) if r[j] > 0]
    i_q = h(p) - sum(r[j] * h(J[:, j] / r[j]) for j in range(4) if r[j] > 0)
    hs_q = sum(r[j] * h(J[:, j] / r[j] @ W) for j in range(4) if r[j] > 0)
    assert abs(i_q - i_atoms) < 1e-12 and abs(hs_q - hs_atoms) < 1e-12
    assert len(post) == 4


def test_converged_means_certified():
    # The case of the issue: converged only when upper - lower <= tol.
    src = DiscreteSource.from_binary(0.3, 0.1)
    res = src.solve(C=0.9)
    assert res.converged == (res.gap <= 1e-7)
    tight = src.solve(D=0.1, C=0.6, tol=1e-9)
    assert tight.converged == (tight.gap <= 1e-9)
