r"""Certified lower bound on R(D, P, C) from a linear program over posteriors.

A test channel is a mixture of *atoms*: a reproduction letter :math:`\hat x` with weight
:math:`r(\hat x)` and the posterior :math:`q = p(x \mid \hat x)` of the source given it.
In these coordinates every quantity of the RDPC problem is linear in the weights:

.. math::
    I(X;\hat X) = H(X) - \sum_k w_k H(q_k), \qquad
    E\,d = \sum_k w_k \sum_x q_k(x)\, d(x, \hat x_k), \qquad
    H(S\mid\hat X) = \sum_k w_k H(q_k W),

:math:`p_{\hat X}(\hat x) = \sum_{k: \hat x_k = \hat x} w_k` (so the TV ball is a set of
linear constraints) and :math:`\sum_k w_k q_k = p_X`, where :math:`W = p(s\mid x)` and
:math:`q W` is the law of S given the atom.  Allowing any number of atoms per letter
relaxes the problem into a linear program over measures on
:math:`\hat{\mathcal X} \times \Delta_{\mathcal X}`; its value
:math:`R^{\mathrm{LP}}(D, P, C) \le R(D, P, C)`.  The relaxation is tight whenever an
optimal measure uses one posterior per letter (then it *is* a channel); otherwise the
optimum needs more posteriors than letters and :math:`R^{\mathrm{LP}}` is strictly smaller.

The relaxation is solved by column generation: a finite master LP over the atoms found so
far (HiGHS through :func:`scipy.optimize.linprog`) and a *global* pricing step over the
whole simplex that both proposes new atoms and certifies the bound (see
:func:`posterior_lower_bound` for the proof).  The pricing minimizes a difference of
convex functions by branch and bound over simplices with a rigorous bound
(:func:`min_reduced_cost`); no library offers certified global minimization of such a
function, hence the hand-written branch and bound.

Everything here is in nats and unchecked (callers pass a source law `p` with positive
entries, a distortion matrix `d`, label channel `W` with rows on the simplex).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.special import entr, logsumexp

from .._channel import support_function

__all__ = [
    "PricingResult",
    "PosteriorBound",
    "min_reduced_cost",
    "posterior_lower_bound",
    "atom_channel",
    "local_minima",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Relative safety margin on every branch-and-bound bound: covers the rounding of a few
# dozen float64 operations on numbers of order one.
_ROUNDING = 1e-12


def _entropy_rows(x: FloatArray) -> FloatArray:
    """Entropy (nats) of each row of `x` along the last axis."""
    out: FloatArray = entr(x).sum(axis=-1)
    return out


@dataclass(frozen=True)
class PricingResult:
    """Global minimum of a reduced cost over the simplex (nats).

    Attributes
    ----------
    lower : float
        Certified lower bound on the minimum.
    value : float
        The function at `point` (an upper bound on the minimum); ``value - lower <= eps``
        unless the node budget ran out.
    point : ndarray, shape (n,)
        Best point found.
    n_nodes : int
        Simplices examined.
    """

    lower: float
    value: float
    point: FloatArray
    n_nodes: int


def reduced_cost(q: FloatArray, a: FloatArray, W: FloatArray, mu_c: float) -> FloatArray:
    r""":math:`\phi(q) = a\cdot q - H(q) + \mu_C H(qW)` (nats) for each row of `q`."""
    out: FloatArray = q @ a - _entropy_rows(q) + mu_c * _entropy_rows(q @ W)
    return out


def _simplex_bounds(
    V: FloatArray, HV: FloatArray, a: FloatArray, W: FloatArray, mu_c: float, basis: FloatArray
) -> FloatArray:
    """Certified lower bounds of the reduced cost on each simplex (rows of `V` are the
    vertices, `HV` the concave term there); the larger of the two bounds proved in
    :func:`min_reduced_cost`, less a rounding margin."""
    c = V.mean(axis=1)
    log_c = np.log(np.maximum(c, 1e-300))
    # Gibbs + concavity: a convex combination of vertex terms.
    L = V @ a + np.einsum("nkx,nx->nk", V, log_c) + HV
    gibbs: FloatArray = L.min(axis=1) - _ROUNDING * (1.0 + np.abs(L).max(axis=1))
    if mu_c <= 0.0:
        return gibbs
    # Second order: phi(q) >= phi(c) + g.(q - c) + lam/2 |q - c|^2 with lam a lower bound
    # of the Hessian diag(1/q) - mu_C W diag(1/(qW)) W^T over the simplex.
    cW = c @ W
    g = a + log_c - mu_c * (np.log(np.maximum(cW, 1e-300)) @ W.T)
    g = g - g.mean(axis=1, keepdims=True)
    q_max = V.max(axis=1)
    s_min = (V @ W).min(axis=1)
    finite = (s_min > 0) | (W.sum(axis=0) == 0)[None, :]
    inv_s = np.where(s_min > 0, 1.0 / np.where(s_min > 0, s_min, 1.0), 0.0)
    M = np.einsum("xi,nx,xj->nij", np.eye(a.size), 1.0 / q_max, np.eye(a.size))
    M = M - mu_c * np.einsum("xs,ns,ys->nxy", W, inv_s, W)
    lam = np.linalg.eigvalsh(np.einsum("xi,nxy,yj->nij", basis, M, basis))[:, 0]
    dz = V - c[:, None, :]
    lin = np.einsum("nkx,nx->nk", dz, g).min(axis=1)
    r2 = (dz * dz).sum(axis=2).max(axis=1)
    gn2 = (g * g).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.where(lam > 0, np.maximum(lin, -gn2 / (2.0 * lam)), lin + 0.5 * lam * r2)
    f_c = reduced_cost(c, a, W, mu_c)
    second = f_c + quad
    second = second - _ROUNDING * (1.0 + np.abs(f_c) + gn2 + np.abs(lam) * r2 + np.abs(lin))
    second = np.where(finite.all(axis=1), second, -np.inf)
    out: FloatArray = np.maximum(gibbs, second)
    return out


def min_reduced_cost(
    a: FloatArray,
    W: FloatArray,
    mu_c: float,
    *,
    eps: float,
    floor: float = math.inf,
    max_nodes: int = 400_000,
) -> PricingResult:
    r"""Certified global minimum over the simplex of :math:`\phi(q) = a\cdot q - H(q) +
    \mu_C H(qW)`.

    Parameters
    ----------
    a : ndarray, shape (n,)
        Linear coefficients (nats).
    W : ndarray, shape (n, |S|)
        Label channel; :math:`qW` is the label law under the posterior q.
    mu_c : float
        Multiplier of the concave term, >= 0.
    eps : float
        Absolute accuracy (nats): the search stops when ``value - lower <= eps`` or
        ``lower >= floor - eps``.
    floor : float
        Level below which the caller needs the minimum; simplices whose bound is at least
        ``floor - eps`` are not refined further (default: find the minimum to `eps`).
    max_nodes : int
        Budget of simplices; when it runs out, `lower` is still certified (looser).

    Returns
    -------
    PricingResult

    Notes
    -----
    For :math:`\mu_C = 0` the minimum is :math:`-\log\sum_x e^{-a_x}` (Gibbs), exactly.
    Otherwise the simplex is cut into sub-simplices T (longest-edge bisection) and each
    gets the lower bound

    .. math::
        \phi(q) \ge \min_{i} \big[a\cdot v_i + v_i\cdot\log c + \mu_C H(v_i W)\big]
        \qquad (q \in T = \mathrm{conv}\{v_0, \dots, v_{n-1}\}),

    where c is the centroid of T.  Proof: write :math:`q = \sum_i \beta_i v_i`.  Gibbs'
    inequality :math:`\mathrm{KL}(q\|c) \ge 0` gives :math:`-H(q) \ge q\cdot\log c =
    \sum_i \beta_i\, v_i\cdot\log c` (c > 0 wherever q can be positive, since T is full
    dimensional), and concavity of the entropy gives :math:`H(qW) \ge \sum_i \beta_i
    H(v_i W)`; so :math:`\phi(q)` is at least a convex combination of the bracketed terms,
    hence at least their minimum.  The bound is exact at :math:`q = c` up to the concave
    term and its error is :math:`O(\mathrm{diam}(T)^2)` away from the boundary, so a
    simplex whose bound exceeds the best value found minus `eps` is discarded and the rest
    are split.  The returned `lower` is the smallest bound of any discarded or remaining
    simplex (they cover the simplex), reduced by a relative rounding margin of 1e-12.
    """
    n = a.size
    if n == 1:
        q = np.ones(1)
        val = float(reduced_cost(q[None, :], a, W, mu_c)[0])
        return PricingResult(val, val, q, 1)
    if mu_c <= 0.0:
        shift = -a
        q = np.exp(shift - logsumexp(shift))
        val = float(reduced_cost(q[None, :], a, W, 0.0)[0])
        low = -float(logsumexp(shift))
        return PricingResult(min(low, val), val, q, 1)
    V = np.eye(n)[None, :, :]  # (N, n vertices, n coordinates)
    HV = mu_c * _entropy_rows(V @ W)  # concave term at each vertex
    # Orthonormal basis of the tangent space {z : sum z = 0} of the simplex.
    basis = np.linalg.qr(np.eye(n)[:, 1:] - 1.0 / n)[0]
    best_val, best_q = math.inf, np.full(n, 1.0 / n)
    certified = math.inf
    nodes = 0
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    pa = np.array([i for i, _ in pairs])
    pb = np.array([j for _, j in pairs])
    while V.shape[0]:
        nodes += V.shape[0]
        lb = _simplex_bounds(V, HV, a, W, mu_c, basis)
        # Incumbents: the function at the centroids and at the vertices.
        c = V.mean(axis=1)
        fc = reduced_cost(c, a, W, mu_c)
        lin = V @ a
        fv = lin - _entropy_rows(V) + HV
        ic = int(np.argmin(fc))
        if fc[ic] < best_val:
            best_val, best_q = float(fc[ic]), c[ic].copy()
        iv = np.unravel_index(int(np.argmin(fv)), fv.shape)
        if fv[iv] < best_val:
            best_val, best_q = float(fv[iv]), V[iv[0], iv[1]].copy()
        done = lb >= min(best_val, floor) - eps
        if done.any():
            certified = min(certified, float(lb[done].min()))
        V, HV = V[~done], HV[~done]
        if not V.shape[0]:
            break
        if nodes >= max_nodes:
            certified = min(certified, float(lb[~done].min()))
            break
        # Longest-edge bisection of every remaining simplex.
        diff = V[:, pa, :] - V[:, pb, :]
        e = np.argmax((diff * diff).sum(axis=2), axis=1)
        ia, ib = pa[e], pb[e]
        rows = np.arange(V.shape[0])
        mid = 0.5 * (V[rows, ia] + V[rows, ib])
        h_mid = mu_c * _entropy_rows(mid @ W)
        V1, V2 = V.copy(), V.copy()
        H1, H2 = HV.copy(), HV.copy()
        V1[rows, ia], H1[rows, ia] = mid, h_mid
        V2[rows, ib], H2[rows, ib] = mid, h_mid
        V = np.concatenate([V1, V2])
        HV = np.concatenate([H1, H2])
    return PricingResult(min(certified, best_val), best_val, best_q, nodes)


def local_minima(
    a: FloatArray, W: FloatArray, mu_c: float, starts: FloatArray, n_iter: int = 300
) -> tuple[FloatArray, FloatArray]:
    r"""Stationary points of :math:`\phi(q) = a\cdot q - H(q) + \mu_C H(qW)` from each row
    of `starts`, by the difference-of-convex algorithm (not certified; it proposes columns).

    Linearizing the concave term at :math:`q_t` and minimizing the convex rest exactly
    gives the Gibbs step :math:`q_{t+1} \propto \exp(-a + \mu_C W \log(q_t W))`, which
    never increases :math:`\phi`.  Returns the points and their values.
    """
    q = starts
    with np.errstate(divide="ignore"):
        for _ in range(n_iter):
            z = -a[None, :] + mu_c * (np.log(q @ W) @ W.T)
            z = np.where(np.isnan(z), -np.inf, z)
            q_new = np.exp(z - z.max(axis=1, keepdims=True))
            q_new = q_new / q_new.sum(axis=1, keepdims=True)
            if np.abs(q_new - q).max() < 1e-13:
                q = q_new
                break
            q = q_new
    return q, reduced_cost(q, a, W, mu_c)


@dataclass(frozen=True)
class PosteriorBound:
    """Result of :func:`posterior_lower_bound` (nats).

    Attributes
    ----------
    lower : float
        Certified lower bound on the relaxation, hence on R(D, P, C).
    relaxed : float
        Value of the final master LP: an upper bound on the relaxation's optimum (not on
        R(D, P, C)); ``relaxed - lower`` is the certified accuracy of the relaxation.
    symbols : ndarray of int, shape (K,)
        Reproduction letter of each atom with positive weight.
    posteriors : ndarray, shape (K, n)
        Their posteriors p(x | atom).
    weights : ndarray, shape (K,)
        Their weights (summing to 1).
    split : bool
        Whether some letter carries posteriors more than 1e-3 apart in TV: the
        relaxation then needs more posteriors than letters (not a channel).
    n_rounds : int
        Column-generation rounds.
    n_nodes : int
        Simplices examined by the pricing, all rounds together.
    """

    lower: float
    relaxed: float
    symbols: IntArray
    posteriors: FloatArray
    weights: FloatArray
    split: bool
    n_rounds: int
    n_nodes: int


def posterior_lower_bound(
    p: FloatArray,
    d: FloatArray,
    W: FloatArray,
    D: float,
    C: float,
    P: float | None = None,
    p_ball: FloatArray | None = None,
    *,
    tol: float,
    channels: tuple[FloatArray, ...] = (),
    max_rounds: int = 200,
) -> PosteriorBound:
    r"""Certified lower bound on R(D, P, C) (TV perception) by column generation.

    Parameters
    ----------
    p : ndarray, shape (n,)
        Source law (positive entries).
    d : ndarray, shape (n, m)
        Distortion matrix.
    W : ndarray, shape (n, |S|)
        Label channel p(s|x).
    D : float
        Distortion bound (``inf``: none).
    C : float
        Bound on :math:`H(S\mid\hat X)` in nats (>= H(S|X): the caller checks).
    P : float, optional
        TV perception bound around `p_ball` (needs m = len(p_ball)).
    p_ball : ndarray, shape (m,), optional
        Centre of the TV ball (the law of X on the full alphabet).
    tol : float
        Target ``relaxed - lower`` in nats.
    channels : tuple of ndarray
        Channels whose posteriors seed the master problem (e.g. a good feasible channel).
    max_rounds : int
        Cap on column-generation rounds.

    Returns
    -------
    PosteriorBound

    Notes
    -----
    **Weak duality over the whole simplex.**  Let w be any feasible measure of the
    relaxation (see the module docstring), so :math:`\sum_k w_k q_k = p`, hence
    :math:`\sum_k w_k = 1`.  For any :math:`\lambda \in \mathbb R^n`,
    :math:`\mu_D, \mu_C \ge 0` and :math:`\pi \in \mathbb R^m` define the reduced cost of
    an atom :math:`(\hat x, q)`

    .. math::
        \rho_{\hat x}(q) = -H(q) - \lambda\cdot q + \mu_D\, q\cdot d_{\hat x}
        + \mu_C H(qW) + \pi_{\hat x}

    and :math:`\underline m \le \min_{\hat x}\min_{q \in \Delta} \rho_{\hat x}(q)`.  Then

    .. math::
        -\sum_k w_k H(q_k) = \sum_k w_k\big[\rho_{\hat x_k}(q_k) + \lambda\cdot q_k
          - \mu_D q_k\cdot d_{\hat x_k} - \mu_C H(q_k W) - \pi_{\hat x_k}\big]
        \ge \underline m + \lambda\cdot p - \mu_D D - \mu_C C - \pi\cdot r,

    using :math:`\sum_k w_k = 1`, :math:`\sum_k w_k q_k = p`, the two inequality
    constraints (with nonnegative multipliers) and :math:`r(\hat x) = \sum_{k:\hat x_k =
    \hat x} w_k`.  Since r lies in the TV ball :math:`\mathcal P`,
    :math:`\pi\cdot r \le \sigma_{\mathcal P}(\pi) = \max_{r' \in \mathcal P} \pi\cdot r'`
    (computed exactly by sorting).  Hence every channel, being such a measure, has

    .. math::
        I(X;\hat X) \ge H(X) + \lambda\cdot p - \mu_D D - \mu_C C
        - \sigma_{\mathcal P}(\pi) + \underline m,

    whatever the multipliers; without D or P the corresponding terms are absent
    (:math:`\mu_D = 0`, :math:`\pi = 0`).  The multipliers are the master LP's duals
    (their quality only affects tightness), and :math:`\underline m` is certified by
    :func:`min_reduced_cost` per letter (the minimum over q of :math:`\rho` is a
    difference of convex functions of q).  At an optimum of the relaxation with exact
    duals the bound equals the LP value (LP duality), so it closes to the relaxation's
    optimum as column generation adds the pricing minimizers as atoms.
    """
    n, m = d.shape
    h_x = float(entr(p).sum())
    has_d = math.isfinite(D)
    has_p = P is not None
    if has_p and p_ball is None:
        raise ValueError("`p_ball` is needed with a perception bound.")
    # Initial atoms: point masses on each letter reproduced by each letter (with them the
    # master is feasible whenever the problem is), the prior at each letter, and the
    # posteriors of the given channels.
    sym: list[int] = []
    post: list[FloatArray] = []
    eye = np.eye(n)
    for j in range(m):
        for i in range(n):
            sym.append(j)
            post.append(eye[i])
        sym.append(j)
        post.append(p.copy())
    for Q in channels:
        J = p[:, None] * Q
        r = J.sum(axis=0)
        for col in np.flatnonzero(r > 1e-12):
            sym.append(int(col))
            post.append(J[:, col] / r[col])
    best_lower = -math.inf
    n_nodes = 0
    eps = max(tol / 4.0, 1e-13)
    relaxed = math.inf
    w = np.zeros(0)
    rounds = 0
    rng = np.random.default_rng(0)  # fixed: the same call gives the same bound
    for rounds in range(1, max_rounds + 1):
        S = np.array(sym)
        Qk = np.array(post)
        K = S.size
        f = -_entropy_rows(Qk)
        cost_d = np.einsum("kx,xk->k", Qk, d[:, S])
        cost_c = _entropy_rows(Qk @ W)
        # Variables: w (K) [, r (m), u (m)].
        n_var = K + (2 * m if has_p else 0)
        c_obj = np.concatenate([f, np.zeros(n_var - K)])
        A_eq = np.zeros((n + (m if has_p else 0), n_var))
        A_eq[:n, :K] = Qk.T
        b_eq = [p]
        ub_rows: list[FloatArray] = []
        b_ub: list[float] = []
        if has_d:
            ub_rows.append(np.concatenate([cost_d, np.zeros(n_var - K)]))
            b_ub.append(D)
        ub_rows.append(np.concatenate([cost_c, np.zeros(n_var - K)]))
        b_ub.append(C)
        if has_p:
            assert p_ball is not None and P is not None
            A_eq[n + S, np.arange(K)] = 1.0
            A_eq[n:, K : K + m] = -np.eye(m)
            b_eq.append(np.zeros(m))
            # u_j >= |r_j - p_ball_j|, sum u <= 2P.
            for j in range(m):
                row = np.zeros(n_var)
                row[K + j], row[K + m + j] = 1.0, -1.0
                ub_rows.append(row)
                b_ub.append(float(p_ball[j]))
                row = np.zeros(n_var)
                row[K + j], row[K + m + j] = -1.0, -1.0
                ub_rows.append(row)
                b_ub.append(-float(p_ball[j]))
            row = np.zeros(n_var)
            row[K + m :] = 1.0
            ub_rows.append(row)
            b_ub.append(2.0 * P)
        res = linprog(
            c_obj,
            A_ub=np.array(ub_rows),
            b_ub=np.array(b_ub),
            A_eq=A_eq,
            b_eq=np.concatenate(b_eq),
            bounds=[(0, None)] * n_var,
            method="highs",
            options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
        )
        if res.status != 0:
            break
        relaxed = h_x + float(res.fun)
        w = np.asarray(res.x[:K], dtype=np.float64)
        lam = np.asarray(res.eqlin.marginals[:n], dtype=np.float64)
        y_ub = np.asarray(res.ineqlin.marginals, dtype=np.float64)
        mu_d = max(-float(y_ub[0]), 0.0) if has_d else 0.0
        mu_c = max(-float(y_ub[1 if has_d else 0]), 0.0)
        pi = -np.asarray(res.eqlin.marginals[n:], dtype=np.float64) if has_p else np.zeros(m)
        dual = h_x + float(lam @ p) - mu_d * (D if has_d else 0.0) - mu_c * C
        if has_p:
            assert p_ball is not None and P is not None
            dual -= support_function(pi, p_ball, P, "tv")
        active = w > 1e-13
        # Columns: stationary points of the reduced cost (DCA) from the active atoms of
        # each letter and from random posteriors; the certified global pricing runs once
        # they stop improving the master, or every fifth round.
        new: list[tuple[int, FloatArray]] = []
        local_best = 0.0
        starts_rng = rng.dirichlet(np.ones(n), size=8)
        for j in range(m):
            a = -lam + mu_d * d[:, j]
            mine = np.array(post)[: w.size][active & (np.array(sym)[: w.size] == j)]
            pts, vals = local_minima(a, W, mu_c, np.vstack([mine, starts_rng]))
            vals = vals + pi[j]
            order = np.argsort(vals)
            taken: list[FloatArray] = []
            for i in order[:4]:
                if vals[i] < -1e-13 and all(np.abs(pts[i] - t).max() > 1e-9 for t in taken):
                    taken.append(pts[i])
                    new.append((j, pts[i]))
            local_best = min(local_best, float(vals[order[0]]))
        if local_best > -eps or rounds % 5 == 0:
            m_low = math.inf
            priced: dict[bytes, PricingResult] = {}  # letters with the same column of d
            for j in range(m):
                a = -lam + mu_d * d[:, j]
                key = a.tobytes()
                if key not in priced:
                    priced[key] = min_reduced_cost(a, W, mu_c, eps=eps, floor=-float(pi[j]))
                    n_nodes += priced[key].n_nodes
                pr = priced[key]
                m_low = min(m_low, pi[j] + pr.lower)
                if pi[j] + pr.value < -eps:
                    new.append((j, pr.point))
            best_lower = max(best_lower, dual + m_low)
        if relaxed - best_lower <= tol or not new:
            break
        for j, q in new:
            sym.append(j)
            post.append(q)
    keep = w > 1e-13
    S_all = np.array(sym)[: w.size][keep]
    Q_all = np.array(post)[: w.size][keep]
    w_keep = w[keep]
    split = False
    for j in np.unique(S_all):
        rows = Q_all[S_all == j]
        if rows.shape[0] > 1:
            mean = (w_keep[S_all == j] @ rows) / w_keep[S_all == j].sum()
            split = split or bool((0.5 * np.abs(rows - mean).sum(axis=1)).max() > 1e-3)
    return PosteriorBound(
        lower=max(best_lower, 0.0),
        relaxed=relaxed,
        symbols=S_all.astype(np.int64),
        posteriors=Q_all,
        weights=w_keep,
        split=split,
        n_rounds=rounds,
        n_nodes=n_nodes,
    )


def atom_channel(
    bound: PosteriorBound, p: FloatArray, d: FloatArray, *, spread: bool
) -> FloatArray:
    r"""A channel built from the atoms of `bound` (a starting point for the upper bound).

    Atoms of one letter whose posteriors lie within 1e-4 in TV are merged (their
    weighted mean).  When a letter keeps several distinct posteriors, the lighter ones
    move to the unused letters of least expected distortion under them if `spread` (this
    keeps every posterior, but can change E d and the marginal), and are merged
    otherwise (this keeps E d and the marginal, but raises :math:`H(S\mid\hat X)`).
    Either way the caller restores feasibility.
    """
    n, m = d.shape
    groups: list[tuple[int, FloatArray, float]] = []  # (letter, posterior, weight)
    for j in np.unique(bound.symbols):
        idx = np.flatnonzero(bound.symbols == j)
        rows, wts = bound.posteriors[idx], bound.weights[idx]
        clusters: list[list[int]] = []
        for i in np.argsort(-wts, kind="stable"):
            for cl in clusters:
                if 0.5 * np.abs(rows[i] - rows[cl[0]]).sum() <= 1e-4:
                    cl.append(int(i))
                    break
            else:
                clusters.append([int(i)])
        for cl in clusters:
            wt = float(wts[cl].sum())
            groups.append((int(j), (wts[cl] @ rows[cl]) / wt, wt))
    used = {g[0] for g in groups}
    seen: set[int] = set()
    J = np.zeros((n, m))
    for j, q, wt in sorted(groups, key=lambda g: -g[2]):
        free = [k for k in range(m) if k not in used]
        if j in seen and spread and free:
            j = min(free, key=lambda k: float(q @ d[:, k]))
            used.add(j)
        seen.add(j)
        J[:, j] += wt * q
    Q = J / p[:, None]
    out: FloatArray = Q / Q.sum(axis=1, keepdims=True)
    return out
