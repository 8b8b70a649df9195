"""Real bitstreams (constriction), empirical entropies and the exact W1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from rdpc_neural.entropy import (
    FactorizedCategorical,
    coded_bits_per_item,
    empirical_entropy_bits,
    joint_entropy_bits,
)
from rdpc_neural.tasks import exact_w1


def test_bitstream_decodes_with_the_model_alone_and_costs_its_cross_entropy() -> None:
    """Fit on training symbols, code independent test symbols; a decoder holding only the
    model's table and the stream decodes them, and the stream costs the cross-entropy of the
    test counts under the add-1/2 training estimate (counted here with np.unique)."""
    rng = np.random.default_rng(0)
    p = np.array([[0.7, 0.2, 0.05, 0.05], [0.25, 0.25, 0.25, 0.25], [0.1, 0.1, 0.1, 0.7]])
    n = 20_000
    train, test = (np.stack([rng.choice(4, size=n, p=p[j]) for j in range(3)], axis=1)
                   for _ in range(2))  # fmt: skip
    model = FactorizedCategorical.fit(train, 4)
    stream = model.encode(test)
    decoder = FactorizedCategorical(model.probs.copy())
    assert np.array_equal(decoder.decode(stream.copy(), n), test)
    ideal = 0.0
    for j in range(3):
        values, train_counts = np.unique(train[:, j], return_counts=True)
        q = dict(zip(values.tolist(), ((train_counts + 0.5) / (n + 2.0)).tolist(), strict=True))
        ideal -= sum(np.log2(q[v]) for v in test[:, j].tolist())
    ideal /= n
    coded = 32.0 * stream.size / n
    # ANS overhead: at most a few 32-bit words for the whole stream + quantized probabilities.
    assert ideal <= coded <= ideal * 1.003 + 64 / n
    true_h = -sum(float(np.sum(q * np.log2(q))) for q in p)
    # Plug-in entropy: 5 standard errors of the mean of -log2 p, plus its O(1/n) bias.
    var = sum(float(np.sum(q * np.log2(q) ** 2)) - float(np.sum(q * np.log2(q))) ** 2 for q in p)
    tol = 5 * np.sqrt(var / n) + 3 * 3 / (2 * n * np.log(2))
    assert empirical_entropy_bits(test, 4) == pytest.approx(true_h, abs=tol)


@settings(max_examples=40, deadline=None)
@given(
    levels=st.integers(2, 6),
    dims=st.integers(1, 3),
    items=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    fit_on_test=st.booleans(),
)
def test_coded_rate_is_never_below_the_empirical_entropy(
    levels, dims, items, seed, fit_on_test
) -> None:
    """A real code of the test symbols under any model fit elsewhere costs at least their
    empirical entropy (Gibbs' inequality per coordinate; the stream is never shorter than
    its information content): ``coded >= entropy`` with no slack, even for a model fit on
    the test symbols themselves."""
    rng = np.random.default_rng(seed)
    train, test = (rng.choice(levels, size=(items, dims), p=rng.dirichlet(np.ones(levels)))
                   for _ in range(2))  # fmt: skip
    if fit_on_test:  # the closest case: a model fit on the coded symbols themselves
        train = test
    assert coded_bits_per_item(train, test, levels) >= empirical_entropy_bits(test, levels)


def test_coded_rate_pays_for_train_test_mismatch() -> None:
    rng = np.random.default_rng(1)
    train = rng.choice(2, size=(5000, 1), p=[0.9, 0.1])
    test = rng.choice(2, size=(5000, 1), p=[0.5, 0.5])
    coded = coded_bits_per_item(train, test, 2)
    # Cross-entropy of the test frequencies under the add-1/2 estimate from the train set.
    p1 = (train.sum() + 0.5) / (len(train) + 1.0)
    f1 = test.mean()
    ideal = -(1 - f1) * np.log2(1 - p1) - f1 * np.log2(p1)
    assert ideal == pytest.approx(0.5 * (-np.log2(0.9) - np.log2(0.1)), rel=0.05)
    assert ideal <= coded <= ideal * 1.003 + 64 / len(test)
    assert coded > empirical_entropy_bits(test, 2)


def test_entropies_by_hand() -> None:
    sym = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [2, 2], [2, 2], [2, 2], [2, 2]])
    # coordinate 0: p = (1/4, 1/4, 1/2) -> 1.5 bits; coordinate 1 the same
    assert empirical_entropy_bits(sym, 3) == pytest.approx(3.0)
    # joint: four singletons (1/8) and one pair of mass 1/2 -> 4*(3/8) + 1/2 = 2 bits
    assert joint_entropy_bits(sym, 3) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"`symbols` must be in \[0, 1\]"):
        empirical_entropy_bits(sym, 2)


def test_exact_w1_equals_assignment_problem() -> None:
    """For two uniform empirical measures of equal size, optimal transport is an assignment
    problem (Birkhoff): solve it independently with scipy's Hungarian algorithm."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand((60, 1, 4, 4), generator=g)
    y = torch.rand((60, 1, 4, 4), generator=g) ** 2
    cost = cdist(x.reshape(60, -1).numpy(), y.reshape(60, -1).numpy())
    rows, cols = linear_sum_assignment(cost)
    assert exact_w1(x, y) == pytest.approx(cost[rows, cols].mean(), rel=1e-9)
    assert exact_w1(x, x) == pytest.approx(0.0, abs=1e-12)
