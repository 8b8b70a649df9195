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
far (:class:`~rdpc_theory.discrete.master.MasterLP`: one HiGHS model grown column by
column and re-solved from its last basis) and a *global* pricing step over the
whole simplex that both proposes new atoms and certifies the bound (see
:func:`posterior_lower_bound` for the proof).  The pricing minimizes a difference of
convex functions by branch and bound over simplices with a rigorous bound
(:func:`min_reduced_cost`); no library offers certified global minimization of such a
function, hence the hand-written branch and bound.  Where the relaxation needs more
posteriors than letters, :func:`certified_bound` branches over regions of each letter's
posterior (spatial branch and bound), which closes the gap as the regions shrink.  Atoms
among interchangeable letters (same distortion column, output law still within the
perception bound) are relabelled first, since that changes no constraint.

All work limits (pricing simplices, column-generation rounds, branch nodes) are counts,
never clocks, so the same call gives the same bound; when a limit ends the search the
bound stays certified, only looser.

Everything here is in nats and unchecked (callers pass a source law `p` with positive
entries, a distortion matrix `d`, label channel `W` with rows on the simplex).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import entr, logsumexp

from .._channel import support_function
from .master import MasterLP

__all__ = [
    "PricingResult",
    "PosteriorBound",
    "LetterPrices",
    "min_reduced_cost",
    "price_letters",
    "posterior_lower_bound",
    "atom_channel",
    "CertifiedBound",
    "certified_bound",
    "local_minima",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Relative safety margin on every branch-and-bound bound: covers the rounding of a few
# dozen float64 operations on numbers of order one.
_ROUNDING = 1e-12
# Largest pricing cover kept from one search to the next (simplices per letter).
_MAX_COVER = 4000


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
    r""":math:`\phi(q) = a\cdot q - H(q) + \mu_C H(qW)` (nats) for each row of `q`; `a` is
    one vector or one per row."""
    out: FloatArray = (q * a).sum(axis=-1) - _entropy_rows(q) + mu_c * _entropy_rows(q @ W)
    return out


def min_eigenvalue_3x3(B: FloatArray) -> FloatArray:
    r"""Lower bounds on the smallest eigenvalue of symmetric 3 x 3 matrices (rows of `B`,
    flattened), by the trigonometric closed form (Smith 1961), ten times faster than
    :func:`numpy.linalg.eigvalsh` on many small matrices.

    With :math:`q = \mathrm{tr} B / 3`, :math:`p = \|B - qI\|_F / \sqrt 6` and
    :math:`r = \det((B - qI)/p) / 2 \in [-1, 1]`, the eigenvalues are
    :math:`q + 2p\cos(\arccos(r)/3 + 2\pi k/3)`, the smallest at k = 1.  Rounding moves r
    by a few ulps, hence the angle by at most :math:`\sqrt{2\cdot 10^{-15}} < 10^{-7}`
    (arccos is steepest at ±1), hence the eigenvalue by at most :math:`2p \cdot 10^{-7}`:
    subtracting :math:`10^{-6} p + 10^{-12}|q|` leaves a lower bound.
    """
    q = (B[:, 0] + B[:, 4] + B[:, 8]) / 3.0
    d0, d1, d2 = B[:, 0] - q, B[:, 4] - q, B[:, 8] - q
    b01, b02, b12 = B[:, 1], B[:, 2], B[:, 5]
    p = np.sqrt((d0 * d0 + d1 * d1 + d2 * d2 + 2.0 * (b01 * b01 + b02 * b02 + b12 * b12)) / 6.0)
    safe = np.where(p > 0, p, 1.0)
    c0, c1, c2, e01, e02, e12 = d0 / safe, d1 / safe, d2 / safe, b01 / safe, b02 / safe, b12 / safe
    det = c0 * (c1 * c2 - e12 * e12) - e01 * (e01 * c2 - e12 * e02) + e02 * (e01 * e12 - c1 * e02)
    angle = np.arccos(np.clip(0.5 * det, -1.0, 1.0)) / 3.0
    out: FloatArray = q + 2.0 * p * np.cos(angle + 2.0 * np.pi / 3.0) - 1e-6 * p - 1e-12 * np.abs(q)
    return out


def _simplex_bounds(
    V: FloatArray, HV: FloatArray, a: FloatArray, W: FloatArray, mu_c: float, basis: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Certified lower bounds of the reduced cost on each simplex (rows of `V` are the
    vertices, `HV` the concave term there, `a` the linear coefficients of each simplex's
    reduced cost); the larger of the two bounds proved in :func:`min_reduced_cost`, less a
    rounding margin.  Also returns the centroids and the reduced cost there."""
    c = V.mean(axis=1)
    log_c = np.log(np.maximum(c, 1e-300))
    # Gibbs + concavity: a convex combination of vertex terms.
    L = (V @ (a + log_c)[:, :, None])[..., 0] + HV
    gibbs: FloatArray = L.min(axis=1) - _ROUNDING * (1.0 + np.abs(L).max(axis=1))
    f_c = reduced_cost(c, a, W, mu_c)
    if mu_c <= 0.0:
        return gibbs, c, f_c
    # Second order: phi(q) >= phi(c) + g.(q - c) + lam/2 |q - c|^2 with lam a lower bound
    # of the Hessian diag(1/q) - mu_C W diag(1/(qW)) W^T over the simplex.
    cW = c @ W
    g = a + log_c - mu_c * (np.log(np.maximum(cW, 1e-300)) @ W.T)
    g = g - g.mean(axis=1, keepdims=True)
    q_max = V.max(axis=1)
    s_min = (V @ W).min(axis=1)
    finite = (s_min > 0) | (W.sum(axis=0) == 0)[None, :]
    inv_s = np.where(s_min > 0, 1.0 / np.where(s_min > 0, s_min, 1.0), 0.0)
    # basis^T M basis = sum_x b_x b_x^T / q_max_x - mu_C sum_s u_s u_s^T / s_min_s, with b_x
    # the rows of the basis and u_s the columns of basis^T W: two small matrix products.
    k = basis.shape[1]
    BB = (basis[:, :, None] * basis[:, None, :]).reshape(basis.shape[0], k * k)
    U = basis.T @ W
    UU = (U.T[:, :, None] * U.T[:, None, :]).reshape(W.shape[1], k * k)
    B = (1.0 / q_max) @ BB - mu_c * (inv_s @ UU)
    if k == 1:
        lam = B[:, 0]
    elif k == 2:  # |X| = 3: the smaller eigenvalue of a symmetric 2 x 2 matrix, in closed form
        lam = 0.5 * (B[:, 0] + B[:, 3]) - np.hypot(0.5 * (B[:, 0] - B[:, 3]), B[:, 1])
    elif k == 3:  # |X| = 4: closed form, less a margin (see min_eigenvalue_3x3)
        lam = min_eigenvalue_3x3(B)
    else:
        lam = np.linalg.eigvalsh(B.reshape(-1, k, k))[:, 0]
    dz = V - c[:, None, :]
    lin = (dz @ g[:, :, None])[..., 0].min(axis=1)
    r2 = (dz * dz).sum(axis=2).max(axis=1)
    gn2 = (g * g).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.where(lam > 0, np.maximum(lin, -gn2 / (2.0 * lam)), lin + 0.5 * lam * r2)
    second = f_c + quad
    second = second - _ROUNDING * (1.0 + np.abs(f_c) + gn2 + np.abs(lam) * r2 + np.abs(lin))
    second = np.where(finite.all(axis=1), second, -np.inf)
    out: FloatArray = np.maximum(gibbs, second)
    return out, c, f_c


def min_reduced_cost(
    a: FloatArray,
    W: FloatArray,
    mu_c: float,
    *,
    eps: float,
    floor: float = math.inf,
    max_nodes: int = 100_000,
    vertices: FloatArray | None = None,
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
    vertices : ndarray, shape (n, n), optional
        Rows: the vertices of a full-dimensional sub-simplex to minimize over instead of
        the whole simplex.

    Returns
    -------
    PricingResult

    Notes
    -----
    For :math:`\mu_C = 0` the minimum is :math:`-\log\sum_x e^{-a_x}` (Gibbs), exactly.
    Otherwise the simplex is cut into sub-simplices T (bisection of the longest edge in the
    chi-square metric at the centroid, :math:`\sum_x (u_x - v_x)^2 / c_x`) and each
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
    out = price_letters(
        a[None, :],
        np.zeros(1),
        W,
        mu_c,
        eps=eps,
        floor=floor,
        max_nodes=max_nodes,
        vertices=[vertices],
    )
    return PricingResult(out.lower, float(out.values[0]), out.points[0], out.n_nodes)


@dataclass(frozen=True)
class LetterPrices:
    r"""Result of :func:`price_letters` (nats).

    Attributes
    ----------
    lower : float
        Certified lower bound on :math:`\min_k [o_k + \min_q \phi_k(q)]`.
    values : ndarray, shape (k,)
        :math:`\phi_k` at `points` (upper bounds on each :math:`\min_q \phi_k`).
    points : ndarray, shape (k, n)
        Best point found for each reduced cost.
    n_nodes : int
        Simplices examined, all reduced costs together.
    leaves : list
        For each reduced cost, the final simplices of its search, shape (N, n, n) (they
        cover its domain: a `cover` for the next search there), or None where its minimum
        is exact.
    """

    lower: float
    values: FloatArray
    points: FloatArray
    n_nodes: int
    leaves: list[FloatArray | None]


def price_letters(
    A: FloatArray,
    offsets: FloatArray,
    W: FloatArray,
    mu_c: float,
    *,
    eps: float,
    floor: float = math.inf,
    max_nodes: int = 100_000,
    vertices: list[FloatArray | None] | None = None,
    cover: list[FloatArray | None] | None = None,
) -> LetterPrices:
    r"""Certified :math:`\min_k [o_k + \min_q \phi_k(q)]` for several reduced costs
    :math:`\phi_k(q) = A_k\cdot q - H(q) + \mu_C H(qW)` at once (one per letter).

    Parameters
    ----------
    A : ndarray, shape (k, n)
        Linear coefficients of each reduced cost (nats).
    offsets : ndarray, shape (k,)
        Constants :math:`o_k` added to each (nats).
    W, mu_c, eps, max_nodes
        As in :func:`min_reduced_cost` (`eps` and `max_nodes` for all together).
    floor : float
        Simplices whose bound (offset included) is at least ``floor - eps`` are not refined.
    vertices : list, optional
        For each reduced cost, None (the whole simplex) or the (n, n) vertices of the
        sub-simplex it is minimized over.
    cover : list, optional
        For each reduced cost, None or simplices (N, n, n) whose union is its domain
        (e.g. the `leaves` of an earlier search there): the search starts from them
        instead of the whole domain, which skips the coarse levels.

    Returns
    -------
    LetterPrices

    Notes
    -----
    One branch and bound over the simplices of all reduced costs together, each with the
    bounds of :func:`min_reduced_cost` plus its offset; a simplex is discarded when its
    bound is at least the best value found over all reduced costs (or `floor`) less
    `eps`.  Bisection keeps a cover a cover, so the simplices discarded or left over
    cover every domain (given `cover`: provided the given simplices do), and the smallest of
    their bounds (and of the exact minima below) is a lower bound on the joint minimum.
    A reduced cost with :math:`\mu_C = 0` on the whole simplex (or with n = 1) has the
    exact minimum :math:`-\log\sum_x e^{-A_x}` (Gibbs) and needs no search.  Pruning
    against the joint best (rather than each letter's own) does the least work the joint
    bound needs; each letter's best point is still returned as a column.
    """
    k, n = A.shape
    verts: list[FloatArray | None] = [None] * k if vertices is None else list(vertices)
    covers: list[FloatArray | None] = [None] * k if cover is None else list(cover)
    values = np.full(k, math.inf)
    points = np.full((k, n), 1.0 / n)
    exact = math.inf  # smallest exact minimum, offset included
    searched: list[int] = []
    for i in range(k):
        if n == 1:
            points[i] = 1.0
            values[i] = float(reduced_cost(points[i : i + 1], A[i], W, mu_c)[0])
            exact = min(exact, offsets[i] + values[i])
        elif mu_c <= 0.0 and verts[i] is None and covers[i] is None:
            shift = -A[i]
            points[i] = np.exp(shift - logsumexp(shift))
            values[i] = float(reduced_cost(points[i : i + 1], A[i], W, 0.0)[0])
            exact = min(exact, offsets[i] - float(logsumexp(shift)), offsets[i] + values[i])
        else:
            searched.append(i)
    if not searched:
        return LetterPrices(exact, values, points, k, [None] * k)
    eye = np.eye(n)
    start: list[FloatArray] = []
    for i in searched:
        given, domain = covers[i], verts[i]
        start.append(given if given is not None else (eye if domain is None else domain)[None])
    owner = np.concatenate([np.full(len(S), i) for i, S in zip(searched, start, strict=True)])
    V: FloatArray = np.concatenate(start)  # (N, n, n): simplices of all searches
    HV = mu_c * _entropy_rows(V @ W)  # concave term at each vertex
    NV = -_entropy_rows(V)  # convex term at each vertex
    # Orthonormal basis of the tangent space {z : sum z = 0} of the simplex.
    basis = np.linalg.qr(np.eye(n)[:, 1:] - 1.0 / n)[0]
    best = float(np.min(offsets + values))  # joint best value, offset included
    certified = exact
    nodes = k - len(searched)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    pa = np.array([i for i, _ in pairs])
    pb = np.array([j for _, j in pairs])
    leaf_V: list[FloatArray] = []
    leaf_owner: list[IntArray] = []
    while V.shape[0]:
        nodes += V.shape[0]
        a = A[owner]
        off = offsets[owner]
        lb, c, fc = _simplex_bounds(V, HV, a, W, mu_c, basis)
        lb = lb + off
        # Incumbents: the function at the centroids and at the vertices.
        fv = (V @ a[:, :, None])[..., 0] + NV + HV
        # Best of each simplex (centroid or a vertex), then best simplex of each owner.
        iv = np.argmin(fv, axis=1)
        rows = np.arange(V.shape[0])
        at_vertex = fv[rows, iv] < fc
        f_cell = np.where(at_vertex, fv[rows, iv], fc)
        order = np.lexsort((f_cell, owner))
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        for cell in first:
            i = owner[cell]
            if f_cell[cell] < values[i]:
                values[i] = float(f_cell[cell])
                points[i] = V[cell, iv[cell]] if at_vertex[cell] else c[cell]
        best = min(best, float(np.min(offsets + values)))
        done = lb >= min(best, floor) - eps
        if done.any():
            certified = min(certified, float(lb[done].min()))
            leaf_V.append(V[done])
            leaf_owner.append(owner[done])
        V, HV, NV, owner = V[~done], HV[~done], NV[~done], owner[~done]
        if not V.shape[0]:
            break
        if nodes >= max_nodes:
            certified = min(certified, float(lb[~done].min()))
            leaf_V.append(V)
            leaf_owner.append(owner)
            break
        # Bisect every remaining simplex along its longest edge.
        diff = V[:, pa, :] - V[:, pb, :]
        # Edge length in the Fisher metric at the centroid (chi-square): the Gibbs bound
        # loses KL(q || c) ~ chi^2(q, c) / 2, so near the boundary edges across small
        # coordinates are cut first.
        cen = np.maximum(c[~done], 1e-300)[:, None, :]  # centroids of the kept simplices
        e = np.argmax((diff * diff / cen).sum(axis=2), axis=1)
        ia, ib = pa[e], pb[e]
        rows = np.arange(V.shape[0])
        mid = 0.5 * (V[rows, ia] + V[rows, ib])
        h_mid = mu_c * _entropy_rows(mid @ W)
        V1, V2 = V.copy(), V.copy()
        n_mid = -_entropy_rows(mid)
        H1, H2 = HV.copy(), HV.copy()
        N1, N2 = NV.copy(), NV.copy()
        V1[rows, ia], H1[rows, ia], N1[rows, ia] = mid, h_mid, n_mid
        V2[rows, ib], H2[rows, ib], N2[rows, ib] = mid, h_mid, n_mid
        V = np.concatenate([V1, V2])
        HV = np.concatenate([H1, H2])
        NV = np.concatenate([N1, N2])
        owner = np.concatenate([owner, owner])
    all_V, all_owner = np.concatenate(leaf_V), np.concatenate(leaf_owner)
    leaves: list[FloatArray | None] = [None] * k
    for i in searched:
        leaves[i] = all_V[all_owner == i]
    return LetterPrices(min(certified, best), values, points, nodes, leaves)


def local_minima(
    a: FloatArray, W: FloatArray, mu_c: float, starts: FloatArray, n_iter: int = 80
) -> tuple[FloatArray, FloatArray]:
    r"""Stationary points of :math:`\phi(q) = a\cdot q - H(q) + \mu_C H(qW)` from each row
    of `starts`, by the difference-of-convex algorithm (not certified; it proposes columns).

    `a` is one vector (n,) or one per start (rows of shape (len(starts), n)), so the
    reduced costs of several letters run as one array.  Linearizing the concave term at
    :math:`q_t` and minimizing the convex rest exactly gives the Gibbs step
    :math:`q_{t+1} \propto \exp(-a + \mu_C W \log(q_t W))`, which never increases
    :math:`\phi`.  Returns the points and their values.
    """
    q = starts
    a_rows = np.atleast_2d(a)
    with np.errstate(divide="ignore"):
        for _ in range(n_iter):
            z = -a_rows + mu_c * (np.log(q @ W) @ W.T)
            z = np.where(np.isnan(z), -np.inf, z)
            q_new = np.exp(z - z.max(axis=1, keepdims=True))
            q_new = q_new / q_new.sum(axis=1, keepdims=True)
            if np.abs(q_new - q).max() < 1e-12:
                q = q_new
                break
            q = q_new
    return q, reduced_cost(q, a, W, mu_c)


@dataclass(frozen=True)
class PosteriorBound:
    r"""Result of :func:`posterior_lower_bound` (nats).

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
        Whether merging each letter's atoms would cost more than ``tol / 4`` in rate
        (estimated as :math:`\mu_C` times the rise of :math:`H(S\mid\hat X)`): the
        relaxation then uses more posteriors than letters (not a channel).
    n_rounds : int
        Column-generation rounds.
    n_nodes : int
        Simplices examined by the pricing, all rounds together.
    worst_letter : int
        The letter whose merge would cost most (-1: none is split).
    assigned : ndarray of int, shape (K,), optional
        A letter for each atom after relabelling among interchangeable letters (same
        distortion column, no perception bound), one cluster of nearby posteriors per
        letter where that is possible.
    covers : dict, optional
        Letter -> the final simplices of its last pricing search (a cover of its region,
        passed on to child nodes whose region for that letter is the same).
    """

    lower: float
    relaxed: float
    symbols: IntArray
    posteriors: FloatArray
    weights: FloatArray
    split: bool
    n_rounds: int
    n_nodes: int
    worst_letter: int = -1
    assigned: IntArray | None = None
    covers: dict[int, FloatArray] | None = None


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
    max_rounds: int = 50,
    regions: dict[int, FloatArray] | None = None,
    atoms: tuple[IntArray, FloatArray] | None = None,
    covers: dict[int, FloatArray] | None = None,
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
    regions : dict, optional
        Letter -> (n, n) array whose rows are the vertices of a full-dimensional simplex:
        atoms of that letter are restricted to it (a node of :func:`certified_bound`).
        The restricted relaxation is a lower bound on R(D, P, C) over the channels whose
        posteriors lie in these regions.  ``lower = relaxed = inf`` when it is infeasible
        (with its vertices as atoms the master is feasible whenever any measure on the
        regions is: replacing an atom by its barycentric split over the vertices keeps
        every linear quantity and lowers :math:`H(S|\hat X)`, by concavity).
    atoms : tuple of (letters, posteriors), optional
        Extra initial atoms (e.g. those of a parent node); the ones outside `regions`
        are dropped.
    covers : dict, optional
        Letter -> simplices (N, n, n) covering that letter's region (the whole simplex
        where it has none), e.g. a parent node's `covers` for the letters whose region
        is unchanged: the pricing starts from them (see :func:`price_letters`).

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
    regions = {} if regions is None else regions
    sym: list[int] = []
    post: list[FloatArray] = []
    eye = np.eye(n)
    inverse = {j: np.linalg.inv(V) for j, V in regions.items()}

    def inside(j: int, q: FloatArray) -> bool:
        return j not in inverse or bool((q @ inverse[j]).min() >= -1e-12)

    for j in range(m):
        Vj = regions.get(j, eye)
        for i in range(n):
            sym.append(j)
            post.append(Vj[i].copy())
        sym.append(j)
        post.append(p.copy() if j not in regions else Vj.mean(axis=0))
    if atoms is not None:
        for col, q in zip(*atoms, strict=True):
            if inside(int(col), q):
                sym.append(int(col))
                post.append(q)
    for Q in channels:
        J = p[:, None] * Q
        r = J.sum(axis=0)
        for col in np.flatnonzero(r > 1e-12):
            if inside(int(col), J[:, col] / r[col]):
                sym.append(int(col))
                post.append(J[:, col] / r[col])
    best_lower = -math.inf
    # Final simplices of each letter's last pricing search: the next search there starts
    # from them (a finer cover than needed costs one vectorized pass; past _MAX_COVER
    # simplices a fresh search is cheaper).
    leaf_cover = {} if covers is None else dict(covers)
    n_nodes = 0
    eps = max(tol / 2.0, 1e-13)
    relaxed = math.inf
    w = np.zeros(0)
    rounds = 0
    last_mu_c = 0.0
    history: list[float] = []
    rng = np.random.default_rng(0)  # fixed: the same call gives the same bound
    master = MasterLP(p, m, D, C, P, p_ball)
    for rounds in range(1, max_rounds + 1):
        S = np.array(sym)
        Qk = np.array(post)
        K = S.size
        fresh = slice(master.n_atoms, K)  # atoms added since the last solve
        master.add_atoms(
            S[fresh],
            Qk[fresh],
            -_entropy_rows(Qk[fresh]),
            np.einsum("kx,xk->k", Qk[fresh], d[:, S[fresh]]),
            _entropy_rows(Qk[fresh] @ W),
        )
        sol = master.solve()
        if sol is None and master.infeasible and rounds == 1:
            empty = np.zeros(0)
            return PosteriorBound(
                math.inf, math.inf, empty.astype(np.int64), np.zeros((0, n)), empty, False, 1, 0
            )
        if sol is None:
            break
        relaxed = h_x + sol.value
        history.append(relaxed)
        w = sol.weights
        lam, mu_d, mu_c, pi = sol.lam, sol.mu_d, sol.mu_c, sol.pi
        last_mu_c = mu_c
        # The dual value is a sum of terms of either sign: math.fsum makes it exact up to
        # one rounding, and `slack` covers the rounding of each term (a few ulps of its
        # size), so the bound does not depend on a summation order.
        terms = [h_x, *(lam * p), -mu_d * (D if has_d else 0.0), -mu_c * C]
        if has_p:
            assert p_ball is not None and P is not None
            terms.append(-support_function(pi, p_ball, P, "tv"))
        dual = math.fsum(terms)
        slack = _ROUNDING * (1.0 + math.fsum(abs(t) for t in terms))
        active = w > 1e-13
        # Columns: stationary points of the reduced cost (DCA) from the active atoms of
        # each letter and from random posteriors; the certified global pricing runs once
        # they stop improving the master, or every fifth round.
        new: list[tuple[int, FloatArray]] = []
        local_best = 0.0
        starts_rng = rng.dirichlet(np.ones(n), size=8)
        A_letters = -lam[None, :] + mu_d * d.T  # (m, n): linear part of each letter's cost
        # One DCA run for all letters: starts are each letter's active atoms and the
        # random posteriors.
        letter_of = np.concatenate(
            [np.full(int((active & (S == j)).sum()) + starts_rng.shape[0], j) for j in range(m)]
        )
        starts_all = np.vstack(
            [np.vstack([Qk[: w.size][active & (S == j)], starts_rng]) for j in range(m)]
        )
        pts_all, vals_all = local_minima(A_letters[letter_of], W, mu_c, starts_all)
        for j in range(m):
            pts = pts_all[letter_of == j]
            vals = vals_all[letter_of == j] + pi[j]
            if j in regions:
                vals = np.where([inside(j, q) for q in pts], vals, np.inf)
            order = np.argsort(vals)
            taken: list[FloatArray] = []
            for i in order[:4]:
                if vals[i] < -1e-13 and all(np.abs(pts[i] - t).max() > 1e-9 for t in taken):
                    taken.append(pts[i])
                    new.append((j, pts[i]))
            if np.isfinite(vals[order[0]]):
                local_best = min(local_best, float(vals[order[0]]))
        if local_best > -eps or rounds % 5 == 0:
            # Letters with the same reduced cost and region are priced once (the smallest
            # offset pi_j of the group stands for it).
            groups: dict[bytes, list[int]] = {}
            for j in range(m):
                key = A_letters[j].tobytes() + (regions[j].tobytes() if j in regions else b"")
                groups.setdefault(key, []).append(j)
            reps = [min(g, key=lambda j: pi[j]) for g in groups.values()]
            priced = price_letters(
                A_letters[reps],
                pi[reps],
                W,
                mu_c,
                eps=eps,
                floor=0.0,
                vertices=[regions.get(j) for j in reps],
                cover=[
                    next((leaf_cover[j] for j in g if j in leaf_cover), None)
                    for g in groups.values()
                ],
            )
            n_nodes += priced.n_nodes
            for g, value, point, leaves in zip(
                groups.values(), priced.values, priced.points, priced.leaves, strict=True
            ):
                for j in g:
                    if pi[j] + value < -eps:
                        new.append((j, point))
                    if leaves is not None and leaves.shape[0] <= _MAX_COVER:
                        leaf_cover[j] = leaves
                    else:
                        leaf_cover.pop(j, None)
            best_lower = max(best_lower, dual + priced.lower - slack)
        if relaxed - best_lower <= tol or not new:
            break
        # Stagnation: the master moved by less than tol / 10 over five rounds, so the
        # remaining gap is the pricing bound's (its node budget), not missing columns.
        if len(history) > 5 and history[-6] - relaxed < 0.1 * tol:
            break
        for j, q in new:
            sym.append(j)
            post.append(q)
    keep = w > 1e-13
    S_all = np.array(sym)[: w.size][keep]
    Q_all = np.array(post)[: w.size][keep]
    w_keep = w[keep]

    # Merging a letter's atoms into their mean posterior raises H(S|Xhat) by the
    # concavity gap; restoring C then costs about mu_C times that in rate.
    def merge_gap(sel: NDArray[np.bool_]) -> float:
        wj = float(w_keep[sel].sum())
        mean = (w_keep[sel] @ Q_all[sel]) / wj
        gap = wj * float(_entropy_rows(mean @ W)) - float(
            w_keep[sel] @ _entropy_rows(Q_all[sel] @ W)
        )
        return last_mu_c * max(gap, 0.0)

    # Letters with the same distortion column (all letters without a distortion bound)
    # are interchangeable: their atoms may be relabelled, provided the relabelled output
    # law still meets the perception bound.
    h_atoms = _entropy_rows(Q_all @ W) if S_all.size else np.zeros(0)

    def assess(classes: list[list[int]]) -> tuple[float, int, IntArray]:
        merge_cost, worst, worst_cost = 0.0, -1, 0.0
        assigned = S_all.copy()
        for cls in classes:
            idx = np.flatnonzero(np.isin(S_all, cls))
            # Greedy clustering: an atom joins the cluster where merging costs least, if that
            # costs under tol / 16 (cluster: weight, mean posterior, total merge gap).
            clusters: list[tuple[list[int], float, FloatArray, float]] = []
            for i in idx[np.argsort(-w_keep[idx], kind="stable")]:
                best_k, best_inc = -1, math.inf
                for k, (_, wc, qc, _) in enumerate(clusters):
                    mix = (wc * qc + w_keep[i] * Q_all[i]) / (wc + w_keep[i])
                    inc = (
                        (wc + w_keep[i]) * float(_entropy_rows(mix @ W))
                        - wc * float(_entropy_rows(qc @ W))
                        - w_keep[i] * float(h_atoms[i])
                    )
                    if inc < best_inc:
                        best_k, best_inc = k, inc
                if best_k >= 0 and last_mu_c * best_inc < tol / 16.0:
                    members, wc, qc, gap = clusters[best_k]
                    mix = (wc * qc + w_keep[i] * Q_all[i]) / (wc + w_keep[i])
                    clusters[best_k] = (members + [int(i)], wc + w_keep[i], mix, gap + best_inc)
                else:
                    clusters.append(([int(i)], float(w_keep[i]), Q_all[i].copy(), 0.0))
            if len(cls) > 1 and len(clusters) <= len(cls):
                # Relabel: one cluster per letter of the class (heaviest keep their letters).
                # One cluster per letter: keep letters where possible, or (with a
                # perception bound) minimize the TV of the output law, which is separable
                # over letters: cost |w_cluster - p_letter| - p_letter.
                cost = np.zeros((len(clusters), len(cls)))
                for a_, (members, wc, _, _) in enumerate(clusters):
                    for b_, letter in enumerate(cls):
                        if has_p:
                            assert p_ball is not None
                            cost[a_, b_] = abs(wc - p_ball[letter]) - p_ball[letter]
                        else:
                            cost[a_, b_] = 0.0 if letter in S_all[members] else 1.0
                rows_, cols_ = linear_sum_assignment(cost)
                for a_, b_ in zip(rows_, cols_, strict=True):
                    assigned[clusters[a_][0]] = cls[b_]
                merge_cost += last_mu_c * sum(max(c[3], 0.0) for c in clusters)
                continue
            for j in cls:
                sel = S_all == j
                if sel.sum() > 1:
                    gap_j = merge_gap(sel)
                    if gap_j > worst_cost:
                        worst, worst_cost = int(j), gap_j
                    merge_cost += gap_j
        return merge_cost, worst, assigned

    keys = [b"" if not has_d else d[:, j].tobytes() for j in range(m)]
    merge_cost, worst, assigned = assess(
        [[j for j in range(m) if keys[j] == k] for k in dict.fromkeys(keys)]
    )
    if has_p and merge_cost > 0.25 * tol:
        pass
    elif has_p:
        assert p_ball is not None and P is not None
        r_new = np.bincount(assigned, weights=w_keep, minlength=m)
        if 0.5 * float(np.abs(r_new - p_ball).sum()) > P + 1e-12:
            merge_cost, worst, assigned = assess([[j] for j in range(m)])
    split = merge_cost > 0.25 * tol
    return PosteriorBound(
        lower=max(best_lower, 0.0),
        relaxed=relaxed,
        symbols=S_all.astype(np.int64),
        posteriors=Q_all,
        weights=w_keep,
        split=split,
        n_rounds=rounds,
        n_nodes=n_nodes,
        worst_letter=worst,
        assigned=assigned.astype(np.int64),
        covers=leaf_cover,
    )


def _split_region(V: FloatArray, q_a: FloatArray, q_b: FloatArray) -> tuple[FloatArray, ...]:
    """Two simplices covering conv(V) whose common facet separates q_a from q_b.

    In barycentric coordinates b (q = b V) pick the vertices i, k where b(q_a) - b(q_b)
    is largest and smallest; the facet through the other vertices and the point z of edge
    [v_i, v_k] with the ratio b_k / (b_i + b_k) of the midpoint m splits conv(V) into
    {ratio <= that of m} (v_k replaced by z) and {ratio >= it} (v_i replaced by z); the
    ratio, linear-fractional, is monotone on [q_a, q_b], so the two posteriors fall on
    opposite sides.
    """
    inv = np.linalg.inv(V)
    ba_, bb_ = q_a @ inv, q_b @ inv
    i, k = int(np.argmax(ba_ - bb_)), int(np.argmin(ba_ - bb_))
    bm = 0.5 * (ba_ + bb_)
    t = float(bm[k] / (bm[i] + bm[k]))
    z = V[i] + t * (V[k] - V[i])
    V1, V2 = V.copy(), V.copy()
    V1[k], V2[i] = z, z
    return V1, V2


def _most_split(bound: PosteriorBound) -> tuple[int, FloatArray, FloatArray]:
    """The letter whose merge costs most, and its two atoms farthest apart (TV)."""
    j = bound.worst_letter
    rows = bound.posteriors[bound.symbols == j]
    best = (-1.0, rows[0], rows[-1])
    for a in range(rows.shape[0]):
        for b in range(a + 1, rows.shape[0]):
            dist = 0.5 * float(np.abs(rows[a] - rows[b]).sum())
            if dist > best[0]:
                best = (dist, rows[a], rows[b])
    return j, best[1], best[2]


@dataclass(frozen=True)
class CertifiedBound:
    """Result of :func:`certified_bound` (nats).

    Attributes
    ----------
    lower : float
        Certified lower bound on R(D, P, C): the smallest bound over the open nodes.
    best : PosteriorBound
        The node relaxation with the smallest bound (its atoms seed the upper bound).
    n_nodes : int
        Nodes solved (1: the relaxation was tight at the root).
    closed : bool
        Whether the smallest node relaxation uses one posterior per letter (then its
        atoms form a channel whose rate is within the node's accuracy of `lower`).
    """

    lower: float
    best: PosteriorBound
    n_nodes: int
    closed: bool


def certified_bound(
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
    upper: float = math.inf,
    max_nodes: int = 9,
    incumbent: Callable[[PosteriorBound], float] | None = None,
    gap: float | None = None,
) -> CertifiedBound:
    r"""Certified lower bound on R(D, P, C) that closes the relaxation gap by branching.

    The root is the relaxation of :func:`posterior_lower_bound`.  While the node with the
    smallest bound has a letter carrying two distinct posteriors, that letter's region
    of the simplex is split in two (:func:`_split_region`) and both children are bounded
    with their atoms restricted to their regions.

    Notes
    -----
    Every channel has, for each letter, one posterior, which lies in one of the leaf
    regions of that letter; so the leaves cover all channels and the smallest leaf bound
    is a lower bound on R(D, P, C) (leaves whose bound exceeds `upper`, the rate of a known
    feasible channel, can be left unexplored).  As regions shrink, merging a letter's
    atoms changes :math:`H(S\mid\hat X)` by at most the concavity gap of the entropy over
    the region, so the node relaxations approach the rates of channels; a node whose
    relaxation uses one posterior per letter is a channel, and the search stops there.
    `max_nodes` caps the work (the bound stays certified, possibly looser).

    `incumbent`, if given, maps the root's relaxation to the rate of a feasible channel
    built from its atoms (``inf``: none); with `upper` it stops the search as soon as
    the smallest bound is within `gap` (default `tol`) of the best known rate.
    """
    import heapq

    stop_gap = tol if gap is None else gap

    def solve(
        regions: dict[int, FloatArray], parent: PosteriorBound | None = None, changed: int = -1
    ) -> PosteriorBound:
        seeds = None if parent is None else (parent.symbols, parent.posteriors)
        # The parent's pricing covers stay covers for the letters whose region is unchanged.
        kept = None
        if parent is not None and parent.covers is not None:
            kept = {j: V for j, V in parent.covers.items() if j != changed}
        return posterior_lower_bound(
            p,
            d,
            W,
            D,
            C,
            P,
            p_ball,
            tol=tol,
            channels=channels,
            regions=regions,
            atoms=seeds,
            covers=kept,
            max_rounds=50 if parent is None else 20,  # children start from the parent's atoms
        )

    root = solve({})
    if incumbent is not None:
        upper = min(upper, incumbent(root))
    heap: list[tuple[float, int, dict[int, FloatArray], PosteriorBound]] = [
        (root.lower, 0, {}, root)
    ]
    count = 1
    while True:
        low, _, regions, node = heap[0]
        if not node.split or low >= upper - stop_gap or count >= max_nodes:
            return CertifiedBound(low, node, count, not node.split)
        heapq.heappop(heap)
        j, q_a, q_b = _most_split(node)
        for V in _split_region(regions.get(j, np.eye(p.size)), q_a, q_b):
            child = {**regions, j: V}
            sol = solve(child, node, j)
            count += 1
            if math.isfinite(sol.lower):
                # A child covers part of its parent: the parent's bound holds for it too.
                heapq.heappush(heap, (max(sol.lower, low), count, child, sol))
        if not heap:  # every child infeasible: cannot happen for a feasible problem
            return CertifiedBound(math.inf, node, count, False)


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
    letters = bound.symbols if bound.assigned is None or not spread else bound.assigned
    for j in np.unique(letters):
        idx = np.flatnonzero(letters == j)
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
    sums = Q.sum(axis=1, keepdims=True)
    # A letter no atom carries (numerically zero mass) gets a uniform row, never NaN: the
    # channel is only a starting point that is made feasible and polished afterwards.
    out: FloatArray = np.where(sums > 0, Q / np.where(sums > 0, sums, 1.0), 1.0 / m)
    return out


def _best_spread(
    groups: list[tuple[FloatArray, float]], d: FloatArray, p_ball: FloatArray, P: float
) -> tuple[float, FloatArray]:
    """(TV, shares) of the best map of letters onto `groups` (see :func:`ball_channel`);
    ``shares[k, j]`` is the weight of posterior k at letter j."""
    m = d.shape[1]
    K = len(groups)
    w = np.array([g[1] for g in groups])
    cost = np.array([g[0] for g in groups]) @ d  # (K, m): E d of posterior k at letter j
    maps = np.array(np.meshgrid(*[np.arange(K)] * m, indexing="ij")).reshape(m, -1).T
    maps = maps[np.array([np.unique(s).size == K for s in maps])]  # onto maps only
    onehot = maps[:, None, :] == np.arange(K)[None, :, None]  # (maps, K, m)
    mass = (onehot * p_ball).sum(axis=2)  # p_ball(L_k)
    tv = 0.5 * np.abs(w - mass).sum(axis=1)
    share = np.where(onehot, p_ball * (w / np.maximum(mass, 1e-300))[:, :, None], 0.0)
    dist = (share * cost[None, :, :]).sum(axis=(1, 2))
    feasible = tv <= P + 1e-12
    pick = int(np.argmin(np.where(feasible, dist, np.inf) if feasible.any() else tv))
    return float(tv[pick]), share[pick]


def ball_channel(
    bound: PosteriorBound,
    p: FloatArray,
    d: FloatArray,
    W: FloatArray,
    p_ball: FloatArray,
    P: float,
) -> FloatArray | None:
    r"""A channel from the distinct posteriors of `bound`, each spread over one or more
    letters so that the output law stays within TV `P` of `p_ball` (None: more than 6
    letters).

    Every letter gets one posterior k, and the letters :math:`L_k` of posterior k share
    its weight :math:`w_k` in proportion to `p_ball`, which gives the output law the TV
    distance :math:`\tfrac12\sum_k |w_k - p_{ball}(L_k)|` (the least for that partition).
    All maps from letters onto the posteriors are tried (at most :math:`K^m \le 6^6`);
    the feasible one of least expected distortion is kept.  Posteriors within 1e-4 in TV
    are merged first (weighted mean) whatever their letters; while there are more
    posteriors than letters or no map is feasible, the pair whose merge raises
    :math:`\sum_k w_k H(q_k W) = H(S\mid\hat X)` least is merged (`W`: the label
    channel).  Without merges this keeps every posterior, hence the rate and
    :math:`H(S\mid\hat X)`, where the relaxation's letters were only a labelling; the
    caller restores the bounds (merges raise :math:`H(S\mid\hat X)`).
    """
    n, m = d.shape
    if m > 6:
        return None
    groups: list[tuple[FloatArray, float]] = []
    for i in np.argsort(-bound.weights, kind="stable"):
        q, wt = bound.posteriors[i], float(bound.weights[i])
        for g, (qg, wg) in enumerate(groups):
            if 0.5 * float(np.abs(q - qg).sum()) <= 1e-4:
                groups[g] = ((wg * qg + wt * q) / (wg + wt), wg + wt)
                break
        else:
            groups.append((q, wt))
    best: tuple[float, list[tuple[FloatArray, float]], FloatArray] | None = None
    while True:
        if len(groups) <= m:
            tv, share = _best_spread(groups, d, p_ball, P)
            if best is None or tv < best[0]:
                best = (tv, list(groups), share)
            if tv <= P + 1e-12 or len(groups) == 1:
                break
        best_inc, pair = math.inf, (0, 1)
        for a_ in range(len(groups)):
            for b_ in range(a_ + 1, len(groups)):
                (qa, wa), (qb, wb) = groups[a_], groups[b_]
                mix = (wa * qa + wb * qb) / (wa + wb)
                inc = float(
                    (wa + wb) * _entropy_rows(mix @ W)
                    - wa * _entropy_rows(qa @ W)
                    - wb * _entropy_rows(qb @ W)
                )
                if inc < best_inc:
                    best_inc, pair = inc, (a_, b_)
        (qa, wa), (qb, wb) = groups[pair[0]], groups[pair[1]]
        groups[pair[0]] = ((wa * qa + wb * qb) / (wa + wb), wa + wb)
        del groups[pair[1]]
    assert best is not None
    J = sum(q[:, None] * best[2][k][None, :] for k, (q, _) in enumerate(best[1]))
    Q = np.asarray(J) / p[:, None]
    out: FloatArray = Q / Q.sum(axis=1, keepdims=True)
    return out
