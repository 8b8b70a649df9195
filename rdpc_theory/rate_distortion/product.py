r"""R(D) on product grids with a separable distortion, without an n x n matrix.

A source on (a subset of) a product grid :math:`\mathcal X_1 \times \dots \times \mathcal X_k`
(a 2-D source on a 64 x 64 grid: n = 4,096 letters) with reproductions on (a subset of) a
product grid and a separable distortion :math:`d(x, \hat x) = \sum_i d_i(x_i, \hat x_i)`
(squared error) has the Gibbs kernel

.. math::
    e^{-\beta d} = \bigotimes_i e^{-\beta d_i},

so :math:`K v` is k small matrix products on the grid-shaped v, :math:`O(n \sum_i m_i)`
instead of :math:`O(n m)` (64 x 64: 2 x 64^3 = 0.5 MFlop against 33 MFlop for the dense
product), and no n x m matrix is ever formed: memory is O(n + Σ n_i m_i).  Cells outside
the subsets (e.g. grid cells of negligible mass dropped by a discretizer) are zeros of the
grid-shaped vectors.

The slope problems are solved by Blahut–Arimoto steps and then the interior-point method
of :mod:`.interior_point`, whose Newton matrix :math:`R K^T W K R + \mathrm{diag}(r s)`
(W = diag(p/Z²)) uses a Kronecker low-rank factorization (:class:`KroneckerBasis`): with
the SVDs :math:`F_i = U_i S_i V_i^T` of the two axis factors, keep the pairs of singular
values with :math:`s_{1a} s_{2b} \ge \tau s_{11} s_{21}`, so
:math:`K \approx A B` with :math:`A = (U_1 \otimes U_2)_{\text{rows, pairs}}` and
:math:`B = (S_1 V_1^T \otimes S_2 V_2^T)_{\text{pairs, cols}}` (rank ℓ ≈ 1,000 at
64 x 64, D = 0.3, τ = 1e-6).  The Woodbury solve needs :math:`L L^T = A^T W A` and
:math:`S = I + L^T B\,\mathrm{diag}(r^2/(rs))\,B^T L`; both ℓ x ℓ Grams are Kronecker
contractions over the grid, :math:`O(\ell_1^2 \ell_2^2 (n_1 + m_1))` instead of
:math:`O(m \ell^2)`, and B is applied axis by axis, so a Newton step costs
:math:`O(\ell^3)` and no ℓ x m factor is formed.  Only the Newton matrix is approximated:
the certified gap is Blahut's (:mod:`.slope`) from exact kernel products, so a coarse τ can
slow the iteration but never falsify a bound.  Where rounding makes S indefinite (late
steps at large slopes, where every cell keeps a weight ~1e-12 and r·s falls to ~1e-13) the
rest of that slope uses the explicit ℓ x m factor G = Lᵀ B R, whose S = I + G D⁻¹ Gᵀ is a
Gram matrix plus I and stays definite (O(ℓ² m) a step).  When the dense n x m Newton
system costs fewer flops (few kept cells
of a large grid, a kernel of nearly full rank) it is used instead.  The search over slopes
is :mod:`.target`'s with the chord upper bound (channel-free).

The gap is the repaired dual point's of :mod:`.dual_bound`.  Near β = 5 (64 x 64, ρ =
0.6) the largest c sit at tail cells of mass 1e-8 to 1e-11, where the interior point's dual
residual stays ~1e-2: Blahut's :math:`\log \max c` wandered between 1e-6 and 5e-4 nats for
tens of steps while f(r) was within 1e-9 nats of the optimum (12–62 s a point, with the
exact Newton matrix too); the repaired gap follows f(r) (2e-8 nats at the 13th Newton
step), and a cold slope takes 15–22 steps.  The truncation leaves a floor under what the
Newton steps reach (β = 5, τ = 1e-6: f(r) stalls ~4e-10 nats above the optimum, a
certified ~5e-9 nats, against a slope target of ~1e-7); where they stall above the target,
the slope goes on with a finer factorization (τ = 1e-8, ℓ ≈ 1,950: 0.5–0.8 s a step), and
a slope within 2e-3 in log β of one that needed it starts with it.  Slopes farther than
that start cold (uniform weights, 5 Blahut–Arimoto steps): the interior point's centered
start takes 6–9 steps from a neighbour 1e-4 away but more from one 1% away than from
nothing.

Cost at 64 x 64 (Gaussian, ρ = 0.6): ℓ ≈ 1,000 at D = 0.3 and 1,450 at D = 0.2, a
contracted Newton step ≈ 0.2 s and an explicit one ≈ 0.4 s; the kernel products
themselves are ~0.05 ms.  Memory: the per-axis factors, a few ℓ x ℓ matrices (8 MB each
at ℓ = 1,000) and the (ℓ1 ℓ2)² pair Gram, plus B and G (ℓ x m, 33 MB each at ℓ = 1,000)
once a slope goes explicit; no n x m array unless the dense fallback above is taken.

R(D, P) (:func:`product_rate_distortion` with ``P``): the perception slopes are generalized
Sinkhorn on the operator (:func:`.perception.sinkhorn_scaling_solve`): only kernel products
and a projection per step, so no Newton system at all; KL balls take 10^2 steps, TV balls
10^3–10^5.  All quantities in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dpotrf, dpotrs
from scipy.sparse.linalg import LinearOperator

from .._channel import perception_value
from ..threads import solver_threads
from .interior_point import contracted_factor, interior_point_solve, low_rank_solver
from .kernel import FloatArray, gibbs_value_at
from .perception import sinkhorn_scaling_solve
from .slope import NO_CHANNEL, SlopeSolution, blahut_steps, blahut_upper
from .target import TargetSolution, solve_target

__all__ = [
    "ProductKernel",
    "KroneckerBasis",
    "product_slope_solve",
    "product_perception_slope_solve",
    "product_rate_distortion",
]

IntArray = NDArray[np.intp]
PAIR_RTOL = 1e-6
"""τ: pairs of axis singular values kept in the Newton matrix's factorization.  A coarser
τ is cheaper a step but leaves a floor under the reachable gap that grows with τ (64 x 64,
D = 0.3: τ = 1e-4 gives ℓ = 652 against 995, and τ = 3e-4 stalls near 2e-6 bits)."""


POLISH_RTOL = 1e-8
"""τ of the finer factorization a slope goes on with once the PAIR_RTOL steps stall (rank
1,947 against 1,450 at 64 x 64, β = 5: ~1 s a step, so only for the last few)."""
PATIENCE = 3
"""Newton steps in a row without halving the gap after which the coarse factorization hands
over to the fine one."""
MAX_STEPS = 200
"""Blahut–Arimoto and Newton steps of one slope problem, at most."""
BA_STEPS = 5
"""Blahut–Arimoto steps before the interior point."""


class ProductKernel(LinearOperator):  # type: ignore[misc]  # scipy ships no type stubs
    r"""The matrix :math:`(\bigotimes_i F_i)[\text{rows}, \text{cols}]` as a linear operator.

    Parameters
    ----------
    factors : sequence of ndarray, shapes (n_i, m_i)
        Per-axis factors; grid cells are flattened in C order (last axis fastest).
    rows, cols : ndarray of int, optional
        Flat indices of the rows / columns kept (default: all), increasing.
    """

    def __init__(
        self,
        factors: Sequence[FloatArray],
        rows: IntArray | None = None,
        cols: IntArray | None = None,
    ) -> None:
        self.factors = [np.ascontiguousarray(f, dtype=np.float64) for f in factors]
        self.grid_rows = tuple(f.shape[0] for f in self.factors)
        self.grid_cols = tuple(f.shape[1] for f in self.factors)
        self.rows, self.cols = rows, cols
        n = math.prod(self.grid_rows) if rows is None else rows.size
        m = math.prod(self.grid_cols) if cols is None else cols.size
        super().__init__(np.float64, (n, m))

    def _apply(
        self, v: FloatArray, factors: list[FloatArray], shape_in: tuple[int, ...]
    ) -> FloatArray:
        V = v.reshape(shape_in)
        if len(factors) == 2:
            # Two matrix products, no copies: tensordot's transposes took 45–60 µs of a
            # 20 µs product at 64 x 64, where generalized Sinkhorn makes 10^4 per slope.
            out2: FloatArray = (factors[0] @ V @ factors[1].T).reshape(-1)
            return out2
        for axis, F in enumerate(factors):
            # F along `axis`: tensordot puts the new axis first; move it back.
            V = np.moveaxis(np.tensordot(F, V, axes=([1], [axis])), 0, axis)
        out: FloatArray = V.reshape(-1)
        return out

    def _matvec(self, v: FloatArray) -> FloatArray:
        v = np.ravel(v)
        if self.cols is not None:
            full = np.zeros(math.prod(self.grid_cols))
            full[self.cols] = v
            v = full
        out = self._apply(v, self.factors, self.grid_cols)
        return out if self.rows is None else out[self.rows]

    def _rmatvec(self, y: FloatArray) -> FloatArray:
        y = np.ravel(y)
        if self.rows is not None:
            full = np.zeros(math.prod(self.grid_rows))
            full[self.rows] = y
            y = full
        out = self._apply(y, [f.T for f in self.factors], self.grid_rows)
        return out if self.cols is None else out[self.cols]

    @cached_property
    def _transposed(self) -> ProductKernel:
        # Built once: `K.T @ y` runs at every Sinkhorn step, and scipy's default transpose
        # wraps each product in conjugations (copies).
        return ProductKernel([f.T for f in self.factors], self.cols, self.rows)

    def _adjoint(self) -> LinearOperator:
        return self._transposed

    def _transpose(self) -> LinearOperator:
        return self._transposed

    def columns(self, idx: IntArray) -> FloatArray:
        """Columns `idx` (positions among the kept columns) as an (n, len(idx)) array:
        each a Kronecker product of one column per axis factor, nothing n x m formed."""
        flat = idx if self.cols is None else self.cols[idx]
        out = np.ones((1, idx.size))
        for f, axis_idx in zip(self.factors, np.unravel_index(flat, self.grid_cols), strict=True):
            out = (out[:, None, :] * f[:, axis_idx][None, :, :]).reshape(-1, idx.size)
        return out if self.rows is None else out[self.rows]

    def hadamard(self, others: Sequence[FloatArray]) -> ProductKernel:
        r"""The entrywise product with :math:`\bigotimes_i A_i`: :math:`\bigotimes_i (F_i
        \odot A_i)` on the same rows and columns."""
        products = [f * a for f, a in zip(self.factors, others, strict=True)]
        return ProductKernel(products, self.rows, self.cols)


def _pair_gram(W: FloatArray, P1: FloatArray, P2: FloatArray, keep: IntArray) -> FloatArray:
    r""":math:`G_{(a,b),(c,d)} = \sum_{i,j} P_1[i,a] P_1[i,c] P_2[j,b] P_2[j,d] W[i,j]` on the
    kept pairs (flat indices into ℓ1 x ℓ2): :math:`(P_1 \otimes P_2)^T \mathrm{diag}(W)
    (P_1 \otimes P_2)` by two contractions, ℓ1²ℓ2²n1 flops instead of n ℓ²."""
    l1, l2 = P1.shape[1], P2.shape[1]
    T = np.einsum("ij,jb,jd->ibd", W, P2, P2, optimize=True).reshape(W.shape[0], l2 * l2)
    outer1 = (P1[:, :, None] * P1[:, None, :]).reshape(P1.shape[0], l1 * l1)
    full = (outer1.T @ T).reshape(l1, l1, l2, l2).transpose(0, 2, 1, 3).reshape(l1 * l2, -1)
    out: FloatArray = full[np.ix_(keep, keep)]
    return out


class KroneckerBasis:
    r"""Kronecker low-rank factorization :math:`K \approx A B` of a two-axis
    :class:`ProductKernel` and its Woodbury Newton solve (module docstring)."""

    def __init__(self, K: ProductKernel, rtol: float | None = None) -> None:
        rtol = PAIR_RTOL if rtol is None else rtol
        if len(K.factors) != 2:
            raise ValueError(f"`K` must have 2 axis factors; got {len(K.factors)}.")
        svds = [np.linalg.svd(f, full_matrices=False) for f in K.factors]
        s1, s2 = svds[0][1], svds[1][1]
        l1 = int(np.count_nonzero(s1 * s2[0] >= rtol * s1[0] * s2[0]))
        l2 = int(np.count_nonzero(s2 * s1[0] >= rtol * s1[0] * s2[0]))
        self.U = [svds[0][0][:, :l1], svds[1][0][:, :l2]]
        self.B = [s1[:l1, None] * svds[0][2][:l1], s2[:l2, None] * svds[1][2][:l2]]
        self.keep = np.flatnonzero(np.outer(s1[:l1], s2[:l2]) >= rtol * s1[0] * s2[0])
        self.K = K
        self.explicit = False  # set at the first indefinite S: later steps go explicit

    @cached_property
    def B_dense(self) -> FloatArray:
        """B as an explicit ℓ x m matrix (ℓ m floats: 48 MB at ℓ = 1,450, m = 4,096), formed
        only for the explicit Newton system (:meth:`solver`)."""
        l1, l2 = self.B[0].shape[0], self.B[1].shape[0]
        full = np.einsum("ai,bj->abij", self.B[0], self.B[1]).reshape(l1 * l2, -1)[self.keep]
        return full if self.K.cols is None else np.ascontiguousarray(full[:, self.K.cols])

    @property
    def rank(self) -> int:
        return int(self.keep.size)

    @property
    def pairs(self) -> int:
        """ℓ1 ℓ2: the pair Gram matrices are formed on all pairs before keeping ℓ."""
        return int(self.U[0].shape[1] * self.U[1].shape[1])

    def newton_flops(self) -> float:
        """Flops of one Newton system (two pair Grams, two Cholesky, two triangular products)."""
        grams = self.pairs**2 * (self.K.grid_rows[0] + self.K.grid_cols[0])
        return float(grams + (2.0 + 2.0 / 3.0) * self.rank**3)

    def _grid(self, v: FloatArray, idx: IntArray | None, shape: tuple[int, ...]) -> FloatArray:
        if idx is None:
            return v.reshape(shape)
        full = np.zeros(math.prod(shape))
        full[idx] = v
        return full.reshape(shape)

    def _apply_B(self, v: FloatArray) -> FloatArray:
        V = self._grid(v, self.K.cols, self.K.grid_cols)
        out: FloatArray = (self.B[0] @ V @ self.B[1].T).reshape(-1)[self.keep]
        return out

    def _apply_BT(self, u: FloatArray) -> FloatArray:
        core = np.zeros(self.B[0].shape[0] * self.B[1].shape[0])
        core[self.keep] = u
        V: FloatArray = (self.B[0].T @ core.reshape(self.B[0].shape[0], -1) @ self.B[1]).ravel()
        return V if self.K.cols is None else V[self.K.cols]

    def solver(
        self, weights: FloatArray, ru: FloatArray, diag: FloatArray
    ) -> Callable[[FloatArray], FloatArray] | None:
        r"""Solve :math:`(R B^T A^T W A B R + D) x = y` by Woodbury with :math:`L L^T = A^T W
        A`: :math:`x = D^{-1}y - D^{-1} R B^T L S^{-1} L^T B R D^{-1} y`, :math:`S = I + L^T
        Q L`, :math:`Q = B\,\mathrm{diag}(r^2/D)\,B^T`.

        Both ℓ x ℓ Grams (:math:`A^T W A` and Q) are Kronecker contractions over the grid
        (:func:`_pair_gram`), and B is applied axis by axis, so nothing ℓ x m is formed:
        the cost is :math:`O(\ell_1^2 \ell_2^2 (n_1 + m_1) + \ell^3)` instead of the
        :math:`O(\ell^2 m)` of a dense factor B (module docstring: measured costs).
        """
        W = self._grid(weights, self.K.rows, self.K.grid_rows)
        C = _pair_gram(W, self.U[0], self.U[1], self.keep)
        L, info = dpotrf(C, lower=1, clean=1)
        if info != 0:
            # Numerically singular when W is negligible where some basis vectors live
            # (fewer kept rows than pairs; cells of mass ~1e-40 off the diagonal of a
            # correlated Gaussian): a relative 1e-13 ridge changes the Newton matrix only.
            C[np.diag_indices_from(C)] += 1e-13 * float(np.abs(np.diag(C)).max())
            L, info = dpotrf(C, lower=1, clean=1)
            if info != 0:
                return None
        if self.explicit:
            return low_rank_solver(L, self.B_dense, ru, diag, syrk=True)
        inv_diag = 1.0 / diag
        V = self._grid(ru * ru * inv_diag, self.K.cols, self.K.grid_cols)
        Q = _pair_gram(V, self.B[0].T, self.B[1].T, self.keep)
        chol = contracted_factor(L, Q)
        if chol is None:
            # Lᵀ Q L lost definiteness (:func:`.interior_point.contracted_factor`; at large
            # slopes every cell keeps a weight ~1e-12).  From then on (this slope's later
            # steps) the explicit factor G = Lᵀ B R: O(ℓ² m) a step instead of O(ℓ³).
            # (Stopping the interior point there instead left 64 x 64, D = 0.2
            # unconverged after 31 slopes on one CPU, converged after 9 on another.)
            self.explicit = True
            return low_rank_solver(L, self.B_dense, ru, diag, syrk=True)
        scale = inv_diag * ru

        def solve(y: FloatArray) -> FloatArray:
            z = inv_diag * y
            corr = dpotrs(chol, L.T @ self._apply_B(ru * z), lower=0)[0]
            out: FloatArray = z - scale * self._apply_BT(L @ corr)
            return out

        return solve


def _check_grid(
    p: FloatArray, axis_costs: Sequence[FloatArray], rows: IntArray | None, cols: IntArray | None
) -> None:
    if len(axis_costs) != 2 or any(np.ndim(c) != 2 for c in axis_costs):
        raise ValueError(
            "`axis_costs` must be two 2-D arrays (one distortion matrix per axis); got "
            f"{len(axis_costs)} of dimensions {[np.ndim(c) for c in axis_costs]}."
        )
    n_grid = math.prod(c.shape[0] for c in axis_costs)
    m_grid = math.prod(c.shape[1] for c in axis_costs)
    for name, idx, size in (("rows", rows, n_grid), ("cols", cols, m_grid)):
        if idx is not None and (
            idx.ndim != 1 or idx.size == 0 or idx[0] < 0 or idx[-1] >= size
            or np.any(np.diff(idx) <= 0)
        ):  # fmt: skip
            raise ValueError(
                f"`{name}` must be increasing flat grid indices in [0, {size}); got {idx!r}."
            )
    n = n_grid if rows is None else rows.size
    if p.shape != (n,):
        raise ValueError(f"`p` must have shape ({n},) (one entry per row letter); got {p.shape}.")
    if not all(np.all(np.isfinite(c)) for c in axis_costs):
        raise ValueError("`axis_costs` must be finite; got a non-finite entry.")


def _kernel(
    axis_costs: Sequence[FloatArray], beta: float, rows: IntArray | None, cols: IntArray | None
) -> tuple[ProductKernel, FloatArray]:
    """Row-stabilized product kernel of β d and the shift of each row (nats)."""
    factors = [np.exp(-beta * (c - c.min(axis=1)[:, None])) for c in axis_costs]
    return ProductKernel(factors, rows, cols), beta * _row_minima(axis_costs, rows)


def _row_minima(axis_costs: Sequence[FloatArray], rows: IntArray | None) -> FloatArray:
    """Each kept source cell's distortion to its nearest cell of the full reproduction
    grid: the sum of the per-axis row minima, since d is separable."""
    grids = np.meshgrid(*[c.min(axis=1) for c in axis_costs], indexing="ij")
    nearest: FloatArray = np.sum(grids, axis=0).reshape(-1)
    return nearest if rows is None else nearest[rows]


def _cost_of(
    p: FloatArray, K: ProductKernel, axis_costs: Sequence[FloatArray], r: FloatArray
) -> float:
    r""":math:`E_Q d = \sum_x \frac{p(x)}{Z(x)} ((K \odot d) r)(x)` of the Gibbs channel of r,
    with :math:`K \odot d = \sum_i K \odot (1 \otimes \dots \otimes d_i \otimes \dots 1)`."""
    Z = K @ r
    Kd_r = np.zeros_like(Z)
    for i, c in enumerate(axis_costs):
        others = [np.ones_like(f) if j != i else c for j, f in enumerate(K.factors)]
        Kd_r += K.hadamard(others) @ r
    return float((p / Z) @ Kd_r)


def product_slope_solve(
    p: FloatArray,
    axis_costs: Sequence[FloatArray],
    beta: float,
    r0: FloatArray | None = None,
    *,
    rows: IntArray | None = None,
    cols: IntArray | None = None,
    tol: float = 1e-10,
    max_iter: int = MAX_STEPS,
    ba_steps: int = BA_STEPS,
) -> SlopeSolution:
    r"""Minimize :math:`I(X;\hat X) + \beta E_Q d` for a separable d on a product grid (nats).

    Parameters
    ----------
    p : ndarray (n,)
        Source law on the kept rows (positive, summing to 1).
    axis_costs : sequence of ndarray (n_i, m_i)
        Per-axis distortions :math:`d_i` (finite), :math:`d = \sum_i d_i`.
    beta : float
        Slope, finite and >= 0.
    r0 : ndarray (m,), optional
        Warm start of the output weights.
    rows, cols : ndarray of int, optional
        Flat grid indices of the source letters / reproductions kept (default all).
    tol : float
        Target certified gap (nats).
    max_iter : int
        Newton steps at most.
    ba_steps : int
        Blahut–Arimoto steps before the interior point.

    Returns
    -------
    SlopeSolution
        Without a channel (``channel`` is empty: the n x m channel is what this avoids);
        ``cost`` is :math:`E_Q d` of the Gibbs channel of ``reference``, ``value`` its
        :math:`I + \beta E_Q d`, ``lower`` Blahut's certified bound.
    """
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"`beta` must be finite and >= 0; got {beta!r}.")
    _check_grid(p, axis_costs, rows, cols)
    return _slope_solve(p, axis_costs, beta, r0, rows, cols, tol, max_iter, ba_steps)[0]


def _slope_solve(
    p: FloatArray,
    axis_costs: Sequence[FloatArray],
    beta: float,
    r0: FloatArray | None,
    rows: IntArray | None,
    cols: IntArray | None,
    tol: float,
    max_iter: int = MAX_STEPS,
    ba_steps: int = BA_STEPS,
    fine: bool = False,
) -> tuple[SlopeSolution, bool]:
    """:func:`product_slope_solve` on checked inputs; also says whether the fine
    factorization was used.  `fine`: start with it (a warm start from a slope that
    needed it: the coarse steps would stall at the same floor)."""
    K, shift = _kernel(axis_costs, beta, rows, cols)
    base = float(p @ shift)
    m = K.shape[1]
    r = np.full(m, 1.0 / m) if r0 is None else np.maximum(r0, 0.0) + 1e-12 / m
    r /= r.sum()
    r, upper, lower, Z, c, it = blahut_steps(p, K, base, r, ba_steps, tol)
    used_fine = False
    for rtol in (POLISH_RTOL,) if fine else (PAIR_RTOL, POLISH_RTOL):
        if upper - lower <= tol or m <= 1 or it >= max_iter:
            break
        used_fine = rtol == POLISH_RTOL
        basis = KroneckerBasis(K, rtol)
        if basis.newton_flops() < p.size * m * m + m**3 / 3.0:
            # The coarse factorization's Newton steps stall at a floor (64 x 64, β = 5,
            # τ = 1e-6: a certified ~5e-9 nats); where that is above the target,
            # patience hands over to the finer one (module docstring).
            res = interior_point_solve(
                p, K, r, tol, max_iter - it, basis, centered=True,
                patience=None if used_fine else PATIENCE,
            )  # fmt: skip
        else:
            # Few kept cells of a large grid, or a kernel of nearly full rank: the dense
            # n x m kernel (forming and factoring R Kᵀ W K R) is the cheaper Newton system,
            # and exact: no finer one to go on with.
            res = interior_point_solve(p, K @ np.eye(m), r, tol, max_iter - it, centered=True)
            used_fine = True
        it += res.n_iter
        if res.gap < upper - lower:
            r, Z, c = res.r, res.Z, res.c
            upper = blahut_upper(p, base, Z)
            lower = upper - res.gap
        if used_fine:
            break
    # Blahut's upper bound -sum p log Z is I + beta E d of the Gibbs channel only at a
    # fixed point; the exact value of the channel (module kernel's gibbs_value) is below.
    cost = _cost_of(p, K, axis_costs, r)
    value = gibbs_value_at(p, base, r, Z, c)
    sol = SlopeSolution(NO_CHANNEL, value, min(lower, value), r, None, it, True, None, cost)
    return sol, used_fine


def product_perception_slope_solve(
    p: FloatArray,
    axis_costs: Sequence[FloatArray],
    beta: float,
    P: float,
    kind: str,
    warm: SlopeSolution | None = None,
    *,
    rows: IntArray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> SlopeSolution:
    r"""Minimize :math:`I(X;\hat X) + \beta E_Q d` subject to :math:`d_{kind}(p_{\hat X}, p_X)
    \le P` on a product grid whose reproductions are its source cells (nats).

    Generalized Sinkhorn (:func:`.perception.sinkhorn_scaling_solve`) on the Kronecker
    operator: each step is one pair of kernel products (~0.05 ms at 64 x 64) and one
    projection onto the ball, so the 10^3–10^4 steps a TV ball can need cost seconds, and
    the certificate is the μ-dual bound of :mod:`.perception` from exact products.  No
    channel is returned (``channel`` empty); ``cost`` is :math:`E_Q d` of the Gibbs channel
    of ``reference * scaling``.  `warm`: a nearby slope's solution (its reference and
    scaling).
    """
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"`beta` must be finite and >= 0; got {beta!r}.")
    _check_grid(p, axis_costs, rows, rows)
    K, shift = _kernel(axis_costs, beta, rows, rows)
    start = None if warm is None or warm.scaling is None else (warm.reference, warm.scaling)
    sol = sinkhorn_scaling_solve(p, K, float(p @ shift), p, P, kind, start, tol, max_iter)
    assert sol.scaling is not None  # the scaling solver always returns one
    cost = _cost_of(p, K, axis_costs, sol.reference * sol.scaling)
    return replace(sol, cost=cost)


def product_rate_distortion(
    p: FloatArray,
    axis_costs: Sequence[FloatArray],
    D: float,
    *,
    rows: IntArray | None = None,
    cols: IntArray | None = None,
    tol: float = 1e-6 * math.log(2.0),
    beta0: float | None = None,
    warm: SlopeSolution | None = None,
    threads: int | None = None,
    P: float | None = None,
    perception: str = "tv",
) -> TargetSolution:
    r"""R(D) or R(D, P) in nats of a source on a product grid with :math:`d = \sum_i d_i`,
    certified.

    The search over slopes of :func:`~rdpc_theory.rate_distortion.solve_target` with
    :func:`product_slope_solve` at each slope; upper bound by the chord of the two slope
    channels bracketing D (module :mod:`.target`), so ``channel`` of the result is empty.
    ``tol`` is the target gap in nats (default 1e-6 bits).  ``beta0`` / ``warm``: the slope
    and slope solution of a nearby point (curve warm start).  D below the smallest
    achievable distortion is infeasible: ``upper = lower = inf``.

    With ``P`` (TV in [0, 1), or KL in nats, by ``perception``): R(D, P) with the ball
    around p_X on the output marginal, which needs the reproductions to be the source cells
    (square axis costs, ``cols`` equal to ``rows``) and each axis cost smallest on its
    diagonal (squared error): then X̂ = X is a channel of least distortion inside every
    ball, so the smallest distortion is that of R(D).  First R(D); if every slope channel
    it solved has its output marginal in the ball, the chord's mixture has too (the ball
    is convex) and R(D, P) = R(D), certified.  Otherwise a second search over slopes with
    :func:`product_perception_slope_solve`; its lower bound is also bounded below by R(D)'s.
    Where a few Blahut–Arimoto steps already leave the ball by twice its radius
    (:func:`_ball_binds_clearly`), the R(D) search is skipped and the perception search
    alone certifies the answer.
    """
    D = float(D)
    if not (math.isfinite(D) and D >= 0):
        raise ValueError(f"`D` must be finite and >= 0; got {D!r}.")
    _check_grid(p, axis_costs, rows, cols)
    if P is not None:
        _check_perception(axis_costs, rows, cols, P, perception)
    b_min = _min_cost(p, axis_costs, rows, cols)
    if abs(D - b_min) <= 1e-12 * max(abs(b_min), 1e-300):
        raise ValueError(
            f"`D` must differ from the smallest achievable distortion {b_min:g} (its slope is "
            f"infinite, which this solver does not take); got {D:g}."
        )
    marginals_in_ball = True
    if beta0 is None and D > b_min:
        # Squared error, high resolution: D - D_min = k / (2 β) over k axes.
        beta0 = len(axis_costs) / (2.0 * (D - b_min))
    # (slope, output weights, whether its solve needed the fine factorization)
    solved: list[tuple[float, FloatArray, bool]] = []
    if warm is not None and beta0 is not None:
        solved.append((beta0, warm.reference, False))

    def slope(beta: float, near: SlopeSolution | None) -> SlopeSolution:
        nonlocal marginals_in_ball
        close = _close_solve(beta, solved)
        start, fine = (None, False) if close is None else close[1:]
        sol, used_fine = _slope_solve(p, axis_costs, beta, start, rows, cols, tol / 8.0, fine=fine)
        solved.append((beta, sol.reference, used_fine))
        if P is not None and marginals_in_ball:
            K, _ = _kernel(axis_costs, beta, rows, cols)
            out = sol.reference * (K.T @ (p / (K @ sol.reference)))
            marginals_in_ball = perception_value(out, p, perception) <= P
        return sol

    n = p.size
    with solver_threads(n * max(c.shape[1] for c in axis_costs), threads):
        rd: TargetSolution | None = None
        if (
            P is None
            or beta0 is None
            or not _ball_binds_clearly(p, axis_costs, beta0, rows, P, perception)
        ):
            rd = solve_target(
                p, None, D, slope, _no_objective, b_min=b_min, tol=tol, beta0=beta0, warm=warm
            )
            if P is None or D < b_min or marginals_in_ball:
                if P is not None and math.isfinite(rd.upper):
                    return replace(rd, message=f"R(D, P) = R(D): the ball is slack ({rd.message})")
                return rd
        assert P is not None  # for mypy: narrowed above

        def perception_slope(beta: float, near: SlopeSolution | None) -> SlopeSolution:
            # Cold starts: warm-started from the neighbouring slope's scaling, a TV slope 6%
            # away took 100,000 Sinkhorn steps without reaching its gap, 7,500 from cold
            # (64 x 64, D = 0.3, P = 0.02).
            return product_perception_slope_solve(
                p, axis_costs, beta, P, perception, None, rows=rows, tol=tol / 8.0
            )

        start = rd.beta if rd is not None and 0.0 < rd.beta < math.inf else beta0
        tsol = solve_target(
            p, None, D, perception_slope, _no_objective, b_min=b_min, tol=tol, beta0=start
        )
    if rd is None:
        return replace(tsol, message=f"R(D, P): {tsol.message}")
    lower = max(tsol.lower, rd.lower)
    return replace(
        tsol,
        lower=lower,
        n_iter=tsol.n_iter + rd.n_iter,
        n_slopes=tsol.n_slopes + rd.n_slopes,
        converged=tsol.upper - lower <= tol,
        message=f"R(D, P): {tsol.message}",
    )


BINDS_CLEARLY = 2.0
"""R(D, P) skips the R(D) search when Blahut–Arimoto steps from the source law already
leave the ball by this factor (:func:`_ball_binds_clearly`)."""


def _ball_binds_clearly(
    p: FloatArray,
    axis_costs: Sequence[FloatArray],
    beta: float,
    rows: IntArray | None,
    P: float,
    kind: str,
) -> bool:
    """Whether 10 Blahut–Arimoto steps at slope β from the output law p_X reach an output
    law farther than BINDS_CLEARLY·P from p_X (~1 ms at 64 x 64).

    A guess, which only chooses the route: R(D, P) first solves R(D) in case the ball is
    slack (then R(D, P) = R(D)), which cost a third of the time where it binds (64 x 64,
    D = 0.3: 4.7 of 14 s).  On the Gaussian grids the steps' distance grows towards one
    below the R(D) optimum's (TV 0.12 after 10 steps against 0.79 at 64 x 64, D = 0.3), so
    a clear excess means the ball binds; if it did not, the perception search alone still
    certifies R(D, P), only more slowly.
    """
    K, shift = _kernel(axis_costs, beta, rows, rows)
    r = blahut_steps(p, K, float(p @ shift), p, 10, 0.0)[0]  # r ⊙ c: the output law
    return perception_value(r, p, kind) > BINDS_CLEARLY * P


def _check_perception(
    axis_costs: Sequence[FloatArray],
    rows: IntArray | None,
    cols: IntArray | None,
    P: float,
    kind: str,
) -> None:
    if kind not in ("tv", "kl"):
        raise ValueError(f"`perception` must be 'tv' or 'kl'; got {kind!r}.")
    top = 1.0 if kind == "tv" else math.inf
    if not (isinstance(P, (int, float)) and math.isfinite(P) and 0.0 <= P < top):
        raise ValueError(f"`P` must be a finite number in [0, {top}); got {P!r}.")
    same = (rows is None and cols is None) or (
        rows is not None and cols is not None and np.array_equal(rows, cols)
    )
    square = all(c.shape[0] == c.shape[1] for c in axis_costs)
    diagonal = square and all(
        np.all(np.diag(c) <= c.min(axis=1) + 1e-12 * max(1.0, float(np.abs(c).max())))
        for c in axis_costs
    )
    if not (same and diagonal):
        raise ValueError(
            "R(D, P) on a product grid needs the reproductions to be the source cells "
            "(square `axis_costs`, `cols` equal to `rows`) and each axis cost smallest on its "
            "diagonal (e.g. squared error); got "
            f"{'different rows and cols' if not same else 'a cost not smallest on its diagonal'}."
        )


WARM_RADIUS = 2e-3
"""A slope solve starts from a solved slope's output weights only within this distance in
log β; farther, it starts cold.  The interior point's centered start (64 x 64, ρ = 0.9,
D = 0.3) took 14 steps cold, 6–9 from a slope 1e-4 away, but 27–64 from one 1–20% away,
where the neighbour's tiny weights sit on the wrong cells.  (The search's second slope
is often this close: its first step is a Newton step on the multiplier, at least 1e-3.)"""


def _close_solve(
    beta: float, solved: list[tuple[float, FloatArray, bool]]
) -> tuple[float, FloatArray, bool] | None:
    """The solved slope nearest β in log β, if within WARM_RADIUS."""
    if not solved or not 0.0 < beta < math.inf:
        return None
    near = min(solved, key=lambda t: abs(math.log(t[0] / beta)) if t[0] > 0 else math.inf)
    return near if near[0] > 0 and abs(math.log(near[0] / beta)) <= WARM_RADIUS else None


def _no_objective(Q: FloatArray) -> float:
    raise AssertionError("channel-free search: the chord bound needs no objective")


def _min_cost(
    p: FloatArray, axis_costs: Sequence[FloatArray], rows: IntArray | None, cols: IntArray | None
) -> float:
    """Smallest achievable E d: each letter's nearest kept reproduction (no n x m matrix:
    rows of d built one letter at a time in blocks; with every grid cell kept,
    :func:`_row_minima`)."""
    if cols is None:
        return float(p @ _row_minima(axis_costs, rows))
    m_grids = np.meshgrid(*[np.arange(c.shape[1]) for c in axis_costs], indexing="ij")
    col_idx = [g.reshape(-1)[cols] for g in m_grids]
    n_grids = np.meshgrid(*[np.arange(c.shape[0]) for c in axis_costs], indexing="ij")
    row_idx = [g.reshape(-1) if rows is None else g.reshape(-1)[rows] for g in n_grids]
    best = np.empty(p.size)
    block = 256
    for start in range(0, p.size, block):
        stop = min(start + block, p.size)
        d = np.zeros((stop - start, col_idx[0].size))
        for c, ri, ci in zip(axis_costs, row_idx, col_idx, strict=True):
            d += c[ri[start:stop]][:, ci]
        best[start:stop] = d.min(axis=1)
    return float(p @ best)
