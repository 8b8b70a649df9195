r"""Primal–dual interior-point method for :math:`\min_r -\sum_x p(x)\log (K r)(x)` on the simplex.

This is the dual form of a slope problem (:mod:`.slope`).  Variables: r > 0, slacks
s > 0 (multipliers of r >= 0) and ν (of :math:`\sum r = 1`); KKT conditions
:math:`-c(r) - s + \nu = 0`, :math:`r s = 0`, :math:`1^T r = 1` with
:math:`c = K^T (p / K r)`.  Mehrotra predictor–corrector steps solve Newton systems in the
scaled variable :math:`\delta = \Delta r / r`, whose matrix is

.. math::
    M = R H R + \mathrm{diag}(r s), \qquad H = K^T \mathrm{diag}(p / Z^2) K .

Two ways to solve with M:

* **dense**: form M and factor it (Cholesky), :math:`O(n m^2 + m^3)` per step;
* **low rank**: kernels of smooth distortions (squared error on a fine grid) have a small
  numerical rank ℓ (about 50 for a Gaussian grid at slope 1.7, whatever n), so
  :math:`K \approx U B` with U an orthonormal n x ℓ basis of its range (a cross
  approximation [3]_ checked on random probes, else the randomized range finder [2]_).
  Then :math:`R H R \approx G^T G` with :math:`G = L^T B R`,
  :math:`L L^T = U^T \mathrm{diag}(p/Z^2) U`, and the Woodbury identity solves with M in
  :math:`O((n + m)\ell^2)`.  Only the Newton matrix is approximated: gradients, the
  stopping test and the certificate use the exact K, so an imprecise basis can slow the
  iteration but never falsify a bound.  Kernels given as operators (:mod:`.product`) bring
  their own low-rank Newton system (:class:`NewtonSystem`).

Written by hand: no library solves this simplex-constrained log-likelihood with a
low-rank Newton system; cvxpy/CLARABEL is orders of magnitude slower at m = 256 already.

References
----------
.. [1] S. Mehrotra, "On the implementation of a primal-dual interior point method", SIAM
   J. Optim. 2(4), 1992.
.. [2] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness",
   SIAM Review 53(2), 2011, Alg. 4.2 (adaptive range finder), Lemma 4.1 (probes).
.. [3] M. Bebendorf, "Approximation of boundary element matrices", Numer. Math. 86(4),
   2000 (adaptive cross approximation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.linalg import qr
from scipy.linalg.blas import dsyrk, dtrmm
from scipy.linalg.lapack import dpotrf, dpotrs

from .dual_bound import certified_gap
from .kernel import FloatArray

__all__ = [
    "RangeBasis",
    "range_basis",
    "cross_approximation",
    "sketched_range_basis",
    "interior_point_solve",
    "LOW_RANK_MIN_COLUMNS",
    "NewtonSystem",
    "low_rank_solver",
    "contracted_factor",
]

LOW_RANK_MIN_COLUMNS = 256
"""Below this many columns the dense Newton system is as cheap as the low-rank one."""
RANK_RTOL = 1e-13
"""Relative singular-value cut-off of the randomized range finder."""
ACA_RTOL = 1e-10
"""The cross approximation stops after two rank-one terms in a row below this relative size."""
PROBE_RTOL = 1e-6
"""Largest relative error of a cross approximation on random probes (:func:`range_basis`).
Newton steps were the same with bases cut anywhere from 1e-13 to 1e-6 (n = 4,096, R(D) at
slopes 1.7 to 50 and a TV barrier); measured probe errors at ``ACA_RTOL`` were 4e-13 to
1e-7 (n = 256 to 4,096, slopes 0.3 to 200)."""
_PROBES = 4
_BLOCK = 32
_TINY = 1e-300
_FLOOR_ZONE = 30.0
"""`patience` counts steps without halving the gap once it is below this many `tol`."""
_IDLE_STEP = 1e-3
"""Newton steps shorter than this do not count towards `patience`."""
_LIFT_CAP = 1e4
"""The centered start lifts slacks to at most this many ν (see `centered`)."""


class NewtonSystem(Protocol):
    """A factorization of the kernel that solves the Newton systems (module docstring)."""

    def solver(
        self, weights: FloatArray, ru: FloatArray, diag: FloatArray
    ) -> Callable[[FloatArray], FloatArray] | None:
        r"""A solve with :math:`R K^T \mathrm{diag}(weights) K R + \mathrm{diag}(diag)`, or
        None when it cannot be factored."""
        ...


@dataclass(frozen=True)
class RangeBasis:
    """Orthonormal basis U (n x ℓ) of the numerical range of a kernel, with B ≈ Uᵀ K
    (K ≈ U B)."""

    U: FloatArray
    B: FloatArray

    @property
    def rank(self) -> int:
        return int(self.U.shape[1])

    def solver(
        self, weights: FloatArray, ru: FloatArray, diag: FloatArray
    ) -> Callable[[FloatArray], FloatArray] | None:
        r"""Woodbury solve with the low-rank Newton matrix (module docstring), through the
        contracted :math:`S = I + L^T Q L`, :math:`Q = B\,\mathrm{diag}(r^2/D)\,B^T`
        (:func:`contracted_factor`), or the explicit G of :func:`low_rank_solver` when
        rounding makes that S indefinite."""
        # Uᵀ diag(weights) U and Q by symmetric products (syrk: half the flops of general
        # ones), and no ℓ x m factor G: at n = 4,096, ℓ = 220 a Newton system took 17.5
        # ms instead of 24 ms with G.
        scaled = self.U * np.sqrt(weights)[:, None]
        L, info = dpotrf(dsyrk(1.0, scaled.T, trans=0, lower=1), lower=1, clean=1)
        if info != 0:
            return None
        inv_diag = 1.0 / diag
        Q = dsyrk(1.0, (self.B * (ru * np.sqrt(inv_diag))[None, :]).T, trans=1, lower=1)
        chol = contracted_factor(L, Q + np.tril(Q, -1).T)
        if chol is None:
            return low_rank_solver(L, self.B, ru, diag)
        B, scale = self.B, inv_diag * ru

        def solve(y: FloatArray) -> FloatArray:
            z = inv_diag * y
            corr = dpotrs(chol, L.T @ (B @ (ru * z)), lower=0)[0]
            out: FloatArray = z - scale * (B.T @ (L @ corr))
            return out

        return solve


def range_basis(
    K: FloatArray, previous: FloatArray | None = None, *, seed: int = 0
) -> RangeBasis | None:
    r"""Orthonormal basis of the numerical range of K, with B ≈ Uᵀ K (K ≈ U B).

    First a cross approximation (:func:`cross_approximation`): K ≈ Aᵀ Bₓ from rows and
    columns of K alone, U from a QR of Aᵀ and B = R Bₓ.  It is accepted when four random
    probes ω find :math:`\max \lVert \omega^T (K - U B) \rVert \le`
    ``PROBE_RTOL`` :math:`\max \lVert \omega^T K \rVert` (by [2]_ Lemma 4.1,
    :math:`\lVert K - U B \rVert_2` is then below 8 times that with probability 1 −
    10⁻⁴; and an imprecise basis only slows the interior point, module docstring).
    Otherwise the randomized range finder (:func:`sketched_range_basis`) extends the cross
    approximation's basis and `previous` (the basis of a nearby kernel, when given).
    Returns ``None`` when the rank is not small (> m / 3): then the dense Newton system
    is cheaper.

    At n = 4,096 (Gaussian grid, slopes 1.7 / 10 / 50): ranks 50 / 111 / 220 in 0.03 /
    0.05 / 0.15 CPU-s, against ranks 53 / 117 / 254 in 0.18 / 0.34 / 0.87 s for the range
    finder alone, whose products with K (≈ 2 rank + 30 columns in all) cost as much as
    ~60 matrix–vector pairs at the largest rank.
    """
    n, m = K.shape
    limit = max(m // 3, 1)
    rng = np.random.default_rng(seed)  # fixed seed: the same kernel gives the same basis
    cross = cross_approximation(K, limit)
    if cross is None:
        return None
    Q, R = qr(cross[0].T, mode="economic", overwrite_a=True, check_finite=False)
    basis = RangeBasis(Q, R @ cross[1])
    probes = rng.standard_normal((_PROBES, n))
    exact = probes @ K
    error = exact - (probes @ basis.U) @ basis.B
    if np.linalg.norm(error, axis=1).max() <= PROBE_RTOL * np.linalg.norm(exact, axis=1).max():
        return basis
    start = Q if previous is None else np.hstack([previous, Q])
    return sketched_range_basis(K, start, seed=seed)


def cross_approximation(
    K: FloatArray, max_rank: int, *, rtol: float | None = None
) -> tuple[FloatArray, FloatArray] | None:
    """Adaptive cross approximation with partial pivoting [3]_: K ≈ Aᵀ Bₓ (A: k x n,
    Bₓ: k x m) from k rows and k columns of K, or ``None`` when k would exceed `max_rank`.

    Step k takes the residual of a row i of K, its largest entry (column j) as pivot, the
    residual of column j divided by it, and the next row where that column is largest;
    it stops when two steps in a row add a rank-one term (zero for a row represented
    exactly) below `rtol` (default ``ACA_RTOL``) times the Frobenius norm of the
    approximation (stopping at the first such step had left probe errors up to 4,000
    times larger: n = 1,024, slope 50), or when every row is used.  O((n + m) k²) flops
    and k rows and k columns of K read, against O(n m k) for a sketch K Ω.

    Written by hand: no library offers it (scipy.linalg.interpolative's randomized
    interpolative decomposition took 1.1 s at n = 4,096, rank 256, more than the range
    finder).  The stopping rule is a heuristic: :func:`range_basis` checks the result.
    """
    n, m = K.shape
    rtol = ACA_RTOL if rtol is None else rtol
    size = min(64, max_rank + 1)
    A, Bx = np.empty((size, n)), np.empty((size, m))
    row_used, col_used = np.zeros(n, dtype=bool), np.zeros(m, dtype=bool)
    i = n // 2
    norm2 = 0.0
    k = small = 0
    while True:
        row = K[i] - A[:k, i] @ Bx[:k]
        row_used[i] = True
        magnitude = np.abs(row)
        magnitude[col_used] = -1.0
        j = int(np.argmax(magnitude))
        if magnitude[j] <= 0.0:
            # Row i is represented exactly (e.g. a repeated letter): a zero term; go on
            # from the unused row where the last column is largest.
            small += 1
            last = np.abs(A[k - 1]) if k else np.ones(n)
            last[row_used] = -1.0
            i = int(np.argmax(last))
            if small == 2 or last[i] < 0.0:
                break
            continue
        if k == max_rank:
            return None
        if k == size:
            size = min(2 * size, max_rank + 1)
            A = np.vstack([A, np.empty((size - k, n))])
            Bx = np.vstack([Bx, np.empty((size - k, m))])
        col = K[:, j] - Bx[:k, j] @ A[:k]
        col /= row[j]
        col_used[j] = True
        # ‖S‖_F² estimated by the sum of the terms' squared norms, without the cross
        # terms 2 (A c)·(Bₓ r): those cost two more k x n products a step (half of this
        # function's time), and the estimate only feeds a heuristic that is checked.
        term = float(col @ col) * float(row @ row)
        norm2 += term
        A[k], Bx[k] = col, row
        k += 1
        small = small + 1 if term <= rtol * rtol * norm2 else 0
        if small == 2:
            break
        magnitude = np.abs(col)
        magnitude[row_used] = -1.0
        i = int(np.argmax(magnitude))
        if magnitude[i] < 0.0:
            break  # every row used
    return A[:k], Bx[:k]


def sketched_range_basis(
    K: FloatArray, start: FloatArray | None = None, *, seed: int = 0
) -> RangeBasis | None:
    r"""Adaptive randomized range finder for K (Halko et al. [2]_ Alg. 4.2, in blocks).

    Sketches :math:`K\Omega` with Gaussian Ω in blocks of at least 32 columns growing by half
    (after the basis `start`, when given: any basis of a subspace to extend) until at
    least 16 sampled directions are redundant: singular values below ``RANK_RTOL`` times
    the largest.  Returns ``None`` when the rank is not small (> m / 3).
    """
    n, m = K.shape
    rng = np.random.default_rng(seed)
    limit = max(m // 3, 1)
    # The sketch Y = Q R is kept factored and each block is orthogonalized against Q
    # (classical Gram–Schmidt, twice) before its own QR: refactoring all of Y after every
    # block had cost three QRs of up to 4,096 x 144 (68 ms, a fifth of the range finder).
    if start is None:
        Q, R = np.empty((n, 0)), np.empty((0, 0))
    else:
        Q, R = np.linalg.qr(start)
    while True:
        width = Q.shape[1]
        # A first block of 64 (32 after a `start` basis), then growing by half the width
        # (64, 96, 144, 216, ...): K @ Ω (the cost here) overshoots the rank by < 50%, and
        # each block is one pass over K (n = 4,096: one product with 64 columns and one
        # with 32 took 98 ms against 118 ms for three with 32).
        block = max(_BLOCK, width // 2) if width else 2 * _BLOCK
        Yb = K @ rng.standard_normal((m, block))
        C = Q.T @ Yb
        Yb -= Q @ C
        C2 = Q.T @ Yb
        Yb -= Q @ C2
        Qb, Rb = np.linalg.qr(Yb)
        # Once Q holds nearly all of K's range, Yb is mostly rounding noise and its
        # normalized columns lean on Q (by 5e-3 from a start that spans all but an isolated
        # entry: the basis then missed a 1e-5 direction); one more pass over the normalized
        # columns restores orthogonality, Yb = Q C3 Rb + Qb' R3 Rb.
        C3 = Q.T @ Qb
        Qb -= Q @ C3
        Qb, R3 = np.linalg.qr(Qb)
        Q = np.hstack([Q, Qb])
        R = np.block([[R, C + C2 + C3 @ Rb], [np.zeros((block, width)), R3 @ Rb]])
        U_r, sv, _ = np.linalg.svd(R)
        rank = int(np.count_nonzero(sv > RANK_RTOL * sv[0]))
        if rank <= Q.shape[1] - _BLOCK // 2:
            break  # 16 oversampled directions are (numerically) in the span already
        if Q.shape[1] > limit:
            return None
    U = Q @ U_r[:, :rank]
    # Re-truncate on the singular values of B = Uᵀ K itself: drops directions of a
    # `start` basis that this kernel does not need, and sketched directions below the
    # cut-off.  (Skipping it for cold starts saved 30 ms at rank 117 but cost the TV
    # barrier, whose solves also use B, 12 more Newton steps at n = 4,096, D = 0.3.)
    Ub, sb, Vbt = np.linalg.svd(U.T @ K, full_matrices=False)
    keep = int(np.count_nonzero(sb > RANK_RTOL * sb[0]))
    return RangeBasis(U @ Ub[:, :keep], sb[:keep, None] * Vbt[:keep])


@dataclass(frozen=True)
class InteriorPointResult:
    """Final output weights, Newton steps taken and the best certified gap (nats), with
    the two kernel products at r (``Z = K @ r``, ``c = K.T @ (p / Z)``): callers bound
    the slope from them without forming them again (one pair, 13 ms at 4,096 letters)."""

    r: FloatArray
    n_iter: int
    gap: float
    Z: FloatArray
    c: FloatArray


def interior_point_solve(
    p: FloatArray,
    K: FloatArray | Any,
    r: FloatArray,
    tol: float,
    max_iter: int,
    basis: NewtonSystem | None = None,
    *,
    centered: bool = False,
    patience: int | None = None,
) -> InteriorPointResult:
    """Mehrotra predictor–corrector from weights `r` (columns of K all usable; K a matrix,
    or an operator with ``K @ v`` and ``K.T @ y`` together with its `basis`).

    ``centered=True`` starts from slacks lifted towards :math:`s \\ge \\mu / r` (at most
    10^4 ν) instead of the dual-feasible :math:`s = \\nu - c` (product grids, module
    :mod:`.product`: 64 x 64, a warm start 1e-4 away in log β then takes 6–9 steps instead
    of 12–34, but one 1–20% away takes more, so that module starts far slopes cold).

    Stops when the certified gap (:func:`.dual_bound.certified_gap`: Blahut's
    :math:`\\log\\max c` or its repaired dual point) is at most `tol` (nats), after
    `max_iter` Newton steps, or, with `patience`, when that many steps in a row have not
    halved the gap once it is below 30 `tol` (three times as many above: early steps
    may idle while centering) — the floor of an approximate Newton system, from which
    the caller can go on with a finer one.  Returns the iterate with the smallest gap
    seen.
    """
    k = r.size
    ru = np.maximum(r, 1e-200)
    ru /= ru.sum()
    Z = K @ ru
    cu = K.T @ (p / Z)
    nu = float(cu.max()) + 1e-3
    s = nu - cu
    if centered:
        # Lift each slack to the mean complementarity over its weight, so that r s >= μ:
        # from a Blahut–Arimoto iterate or a neighbour's solution r spans tens of decades
        # and r s as much, and the first Mehrotra steps were cut to ~1e-8 by the ratio
        # test (64 x 64, β = 5: 4–10 such steps).  The cap keeps cells of negligible
        # weight from slacks ~1e20 (64 x 64, ρ = 0.9, β = 5: 43 steps uncapped, 17 at
        # 1e4 ν; a cap of 1 to 1e3 ν cost ρ = 0.6 three times the time).  Weights whose
        # capped slack still leaves r s below 1e-3 of the mean (corner cells of weight
        # ~1e-100) are lifted to it: their Newton steps had cut the dual step to 1e-90,
        # 7–9 idle steps a slope (ρ = 0.9, β = 5: 22 -> 15 steps; lifting to the mean
        # slowed ρ = 0.6).  The dual residual the lifts create is removed by the Newton
        # steps.
        mean = float(ru @ s) / k
        s = np.maximum(s, np.minimum(mean / ru, _LIFT_CAP * nu))
        ru = np.maximum(ru, 1e-3 * mean / s)
        ru /= ru.sum()
        Z = K @ ru
        cu = K.T @ (p / Z)
    best_r, best_Z, best_c, best_gap = ru, Z, cu, math.inf
    it = since_halved = 0
    halved_at = math.inf  # the gap the patience counter compares with
    step = 1.0
    while True:
        gap = certified_gap(p, K, Z, cu, tol)
        if gap < best_gap:
            best_gap, best_r, best_Z, best_c = gap, ru, Z, cu
        if gap <= 0.5 * halved_at:
            halved_at, since_halved = gap, 0
        elif step >= _IDLE_STEP:
            # Steps the ratio test cut to nothing (slacks of tiny weights still
            # centering) are no sign of a floor: a warm slope idled 9 steps at 1.1e-7
            # nats, just above its target, before converging (64 x 64, ρ = 0.9).
            since_halved += 1
        if gap <= tol or it >= max_iter:
            break
        if patience is not None:
            # Near the target (a floor), `patience` steps without halving; farther, where
            # early steps may idle while centering, three times as many.
            wait = patience if best_gap <= _FLOOR_ZONE * tol else 3 * patience
            if since_halved >= wait:
                break
        it += 1
        weights = p / (Z * Z)
        diag = ru * s
        solve = (
            _dense_solver(K, weights, ru, diag)
            if basis is None
            else basis.solver(weights, ru, diag)
        )
        if solve is None:
            break
        mu = float(ru @ s) / k
        resid = -cu - s + nu
        b_vec = solve(ru)

        def newton(
            rc: FloatArray,
            solve: Callable[[FloatArray], FloatArray] = solve,
            ru: FloatArray = ru,
            s: FloatArray = s,
            resid: FloatArray = resid,
            b_vec: FloatArray = b_vec,
        ) -> tuple[FloatArray, FloatArray, float]:
            a_vec = solve(-ru * resid + rc)
            dnu = float(ru @ a_vec) / float(ru @ b_vec)
            dr = ru * (a_vec - dnu * b_vec)
            ds = (rc - s * dr) / ru
            return dr, ds, dnu

        dr, ds, dnu = newton(-ru * s)
        a_p, a_d = _max_step(ru, dr), _max_step(s, ds)
        mu_aff = float((ru + a_p * dr) @ (s + a_d * ds)) / k
        sigma = (mu_aff / mu) ** 3 if mu > 0 else 0.0
        dr, ds, dnu = newton(sigma * mu - ru * s - dr * ds)
        step = min(0.99 * _max_step(ru, dr), 0.99 * _max_step(s, ds), 1.0)
        ru = np.maximum(ru + step * dr, _TINY)
        ru /= ru.sum()
        s = s + step * ds
        nu = nu + step * dnu
        if not (np.all(np.isfinite(ru)) and np.all(np.isfinite(s))):
            break
        Z = K @ ru
        cu = K.T @ (p / Z)
    # best_r sums to one up to rounding (normalized where formed): returned as is, so
    # that best_Z and best_c are its products exactly.
    return InteriorPointResult(best_r, it, best_gap, best_Z, best_c)


def _max_step(x: FloatArray, dx: FloatArray) -> float:
    """Largest step in [0, 1] keeping x + step * dx >= 0."""
    neg = dx < 0
    if not neg.any():
        return 1.0
    return min(1.0, float((-x[neg] / dx[neg]).min()))


def _dense_solver(
    K: FloatArray, weights: FloatArray, ru: FloatArray, diag: FloatArray
) -> Callable[[FloatArray], FloatArray] | None:
    A = K * ru[None, :]
    A *= np.sqrt(weights)[:, None]
    M = A.T @ A
    M[np.diag_indices_from(M)] += diag
    # LAPACK Cholesky directly: this runs ~10^4 times per surface at small m, where the
    # scipy.linalg wrappers cost more than the factorization itself.
    chol, info = dpotrf(M, lower=0, clean=0)
    if info != 0:
        M[np.diag_indices_from(M)] += 1e-12 * float(np.abs(np.diag(M)).max()) + _TINY
        chol, info = dpotrf(M, lower=0, clean=0)
        if info != 0:
            return None

    def solve(y: FloatArray) -> FloatArray:
        out: FloatArray = dpotrs(chol, y, lower=0)[0]
        return out

    return solve


def contracted_factor(L: FloatArray, Q: FloatArray) -> FloatArray | None:
    """Upper Cholesky factor of :math:`S = I + L^T Q L` (L lower triangular, Q symmetric
    positive semidefinite), or ``None`` when rounding leaves S indefinite.

    Q is PSD only up to rounding relative to its largest entries, and the weights r²/D it
    carries span many decades near an optimum (r·s ~ 1e-13 on cells that keep a weight
    ~1e-12): then Lᵀ Q L can lose definiteness, and callers fall back to the explicit
    factor G = Lᵀ B R of :func:`low_rank_solver` (S = I + G D⁻¹ Gᵀ, a Gram matrix plus I).
    """
    # Two triangular products (ℓ³ flops each), symmetrized against rounding.
    S = dtrmm(1.0, L, dtrmm(1.0, L, Q, side=1, lower=1), side=0, lower=1, trans_a=1)
    S = 0.5 * (S + S.T)
    S[np.diag_indices_from(S)] += 1.0
    chol, info = dpotrf(S, lower=0, clean=0)
    return None if info != 0 else chol


def low_rank_solver(
    L: FloatArray, B: FloatArray, ru: FloatArray, diag: FloatArray, *, syrk: bool = False
) -> Callable[[FloatArray], FloatArray] | None:
    """Solve (Gᵀ G + D) x = y by Woodbury: x = D⁻¹y − D⁻¹Gᵀ (I + G D⁻¹ Gᵀ)⁻¹ G D⁻¹ y, for
    K ≈ A B, L the lower Cholesky factor of C = Aᵀ diag(weights) A (its callers have it
    already) and G = Lᵀ B R.  G D⁻¹ Gᵀ is a general product unless ``syrk=True`` (a
    symmetric BLAS product, half the flops: it stalled a 1e-10 nats target in a 1-D test,
    and serves product grids' late steps at ~1e-8 nats)."""
    # A triangular BLAS product (trmm): half the flops of a general ℓ x ℓ x m product, a
    # third of a Newton step's cost at large ranks.  Gᵀ = (B R)ᵀ L is formed transposed so
    # that no array is copied into Fortran order.
    G = dtrmm(1.0, L, B.T * ru[:, None], side=1, lower=1).T
    inv_diag = 1.0 / diag
    if syrk:
        S = dsyrk(1.0, G.T * np.sqrt(inv_diag)[:, None], trans=1, lower=0)
    else:
        S = (G * inv_diag[None, :]) @ G.T
    S[np.diag_indices_from(S)] += 1.0
    chol, info = dpotrf(S, lower=0, clean=0)
    if info != 0:
        return None

    def solve(y: FloatArray) -> FloatArray:
        z = inv_diag * y
        corr = dpotrs(chol, G @ z, lower=0)[0]
        out: FloatArray = z - inv_diag * (G.T @ corr)
        return out

    return solve
