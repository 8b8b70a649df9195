"""Internals of the discrete solvers, each against an independent computation."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.special import rel_entr

from rdpc_theory import BinarySource, DiscreteSource
from rdpc_theory._channel import (
    conditional_entropy,
    mutual_information,
    project_kl,
    project_marginal,
    project_tv,
    support_function,
    tv_repair,
)
from rdpc_theory.convex import ConvexProgram
from rdpc_theory.discrete.problem import Problem
from rdpc_theory.discrete.validation import check_distribution, optional_bound


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tv_support_function_matches_a_linear_program(seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(5))
    mu = rng.normal(size=5)
    P = 0.15
    # max mu.r s.t. r >= 0, sum r = 1, r - p <= u, p - r <= u, sum u <= 2P.
    n = p.size
    c = np.concatenate([-mu, np.zeros(n)])
    A_ub = np.block(
        [[np.eye(n), -np.eye(n)], [-np.eye(n), -np.eye(n)], [np.zeros((1, n)), np.ones((1, n))]]
    )
    b_ub = np.concatenate([p, -p, [2 * P]])
    A_eq = np.concatenate([np.ones(n), np.zeros(n)])[None, :]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], method="highs")
    assert abs(support_function(mu, p, P, "tv") - (-res.fun)) < 1e-9


@pytest.mark.parametrize("kind", ["tv", "kl"])
def test_marginal_projection_matches_cvxpy(kind):
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4))
    s = rng.dirichlet(np.ones(4) * 0.5)
    P = 0.05
    r = cp.Variable(4, nonneg=True)
    ball = 0.5 * cp.norm1(r - p) <= P if kind == "tv" else cp.sum(cp.rel_entr(r, p)) <= P
    prob = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(r, s))), [cp.sum(r) == 1, ball])
    prob.solve(solver=cp.CLARABEL)
    ours = project_marginal(s, p, P, kind)
    assert np.abs(ours - r.value).max() < 1e-5
    if kind == "kl":
        # On the feasible side of the ball's boundary, whatever the warm start.
        kl = float(rel_entr(ours, p).sum())
        assert P - 1e-9 <= kl <= P
        for t0 in (0.05, 0.5, 0.95):
            warm, _ = project_kl(s, p, P, t0)
            assert np.abs(warm - ours).max() < 1e-9 and float(rel_entr(warm, p).sum()) <= P


def test_tv_projection_does_not_depend_on_its_order_hint():
    # The hint only speeds the sort up: a stale order (a neighbour's), a random permutation
    # and one of the wrong size give the projection computed from scratch.
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(300))
    s = rng.dirichlet(np.ones(300) * 0.3)
    ref, order = project_tv(s, p, 0.05)
    assert order is not None and np.array_equal(np.sort(order), np.arange(300))
    near = s * np.exp(1e-3 * rng.standard_normal(300))
    for hint in (order, rng.permutation(300), np.arange(7)):
        assert np.abs(project_tv(s, p, 0.05, hint)[0] - ref).max() < 1e-15
    assert np.abs(project_tv(near, p, 0.05, order)[0] - project_tv(near, p, 0.05)[0]).max() < 1e-15
    assert np.array_equal(ref, project_marginal(s, p, 0.05, "tv"))


def test_channel_measures_on_a_textbook_case():
    # Binary symmetric channel with crossover 0.1 on a uniform input: I = 1 - H_b(0.1) bits.
    p = np.array([0.5, 0.5])
    Q = np.array([[0.9, 0.1], [0.1, 0.9]])
    hb = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert abs(mutual_information(p, Q) - (math.log(2) - hb)) < 1e-12
    # Label = X: H(S|Xhat) = H(X|Xhat) = H_b(0.1).
    assert abs(conditional_entropy(p, Q, np.eye(2)) - hb) < 1e-12


def test_convex_program_rd_matches_the_closed_form():
    b = BinarySource(0.3, 0.1)
    prog = ConvexProgram(np.array([0.7, 0.3]), 1.0 - np.eye(2), None)
    sol = prog.solve(0.1)
    ref = float(b.rd(0.1)) * math.log(2)
    assert sol.feasible
    assert sol.lower - 1e-9 <= ref <= sol.upper + 1e-9
    assert sol.upper - ref < 1e-6


def test_validation_helpers():
    assert optional_bound("D", None) == math.inf
    assert optional_bound("D", math.inf) == math.inf
    with pytest.raises(ValueError, match="`D` must not be NaN"):
        optional_bound("D", math.nan)
    with pytest.raises(ValueError, match="`C` must be >= 0; got -inf"):
        optional_bound("C", -math.inf)
    with pytest.raises(ValueError, match="`p_x` must sum to 1"):
        check_distribution("p_x", [0.5, 0.6])


@pytest.mark.parametrize("seed", range(3))
def test_tv_min_distortion_lp_and_its_cheap_bounds(seed):
    # The sparse HiGHS LP of D_min(P) against a cvxpy LP written here from the definition;
    # D_min(inf) and the post-processed nearest-letter channel must bracket it.
    rng = np.random.default_rng(seed)
    n = 7
    p, d = rng.dirichlet(np.ones(n)), rng.random((n, n))
    src = DiscreteSource(p, rng.dirichlet(np.ones(2), size=n), d)
    prob = Problem(src, "tv", 1e-9, "ba")
    for P in (0.0, 0.05, 0.3):
        Q = cp.Variable((n, n), nonneg=True)
        lp = cp.Problem(
            cp.Minimize(cp.sum(cp.multiply(p[:, None] * d, Q))),
            [cp.sum(Q, axis=1) == 1, 0.5 * cp.norm1(p @ Q - p) <= P],
        )
        lp.solve(solver=cp.CLARABEL)
        exact = prob.min_distortion(P)
        assert exact == pytest.approx(lp.value, abs=1e-7)
        assert prob.min_distortion(None) <= exact + 1e-12
        assert exact <= prob.feasible_distortion(P) + 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_tv_repair_lands_in_the_ball_moving_the_least_mass(seed):
    rng = np.random.default_rng(seed)
    r, q = rng.dirichlet(np.ones(9) * 0.3), rng.dirichlet(np.ones(9))
    r[0] = 0.0
    r /= r.sum()
    tv = 0.5 * np.abs(r - q).sum()
    for P in (0.0, 0.5 * tv, 2.0 * tv):
        keep, dest = tv_repair(r, q, P)
        T = np.diag(keep) + np.outer(1.0 - keep, dest)  # the kernel as a matrix
        assert np.allclose(T.sum(axis=1), 1.0) and (T >= 0).all()
        image = r @ T
        assert 0.5 * np.abs(image - q).sum() <= P + 1e-12
        assert float(r @ (1.0 - keep)) == pytest.approx(max(0.0, tv - P), abs=1e-12)
