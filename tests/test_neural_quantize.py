"""Dithered uniform quantizer: universal-quantization error, symbols, gradient modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rdpc_neural.quantize import UniformQuantizer


@pytest.mark.parametrize("levels", [2, 3, 4, 8])
def test_dithered_error_is_uniform_and_independent_of_input(levels: int) -> None:
    """Schuchman/Ziv: with subtractive dither U[-D/2, D/2) and no overload the error
    z_hat - z is U[-D/2, D/2], whatever z is. Checked by a KS test at several fixed inputs
    (including the edges +-1) and by the correlation between input and error."""
    q = UniformQuantizer(levels)
    step = 2.0 / (levels - 1)
    g = torch.Generator().manual_seed(1234)
    n = 20_000
    uniform = stats.uniform(loc=-step / 2, scale=step)
    for z0 in (-1.0, -0.731, 0.0, 0.2, 1.0 / 3.0, 0.999, 1.0):
        z = torch.full((n, 1), z0, dtype=torch.float64)
        u = q.dither(z.shape, g).double()
        err = (q(z, u)["z_hat"] - z).numpy().ravel()
        assert np.all(np.abs(err) <= step / 2 + 1e-12)
        assert stats.kstest(err, uniform.cdf).pvalue > 1e-3, z0
    z = torch.rand((n, 1), generator=g, dtype=torch.float64) * 2 - 1
    u = q.dither(z.shape, g).double()
    err = (q(z, u)["z_hat"] - z).numpy().ravel()
    assert abs(np.corrcoef(z.numpy().ravel(), err)[0, 1]) < 4 / np.sqrt(n)
    assert np.var(err) == pytest.approx(step**2 / 12, rel=0.03)


def test_shared_seed_reproduces_dither() -> None:
    q = UniformQuantizer(4)
    a = q.dither((5, 3), torch.Generator().manual_seed(7))
    b = q.dither((5, 3), torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    assert float(a.min()) >= -q.step / 2 and float(a.max()) < q.step / 2


@settings(max_examples=60, deadline=None)
@given(
    levels=st.integers(2, 16),
    z=st.floats(-1.0, 1.0, allow_nan=False),
    u01=st.floats(0.0, 1.0, exclude_max=True, allow_nan=False),
)
def test_symbols_are_nearest_center_and_decoder_inverts(levels: int, z: float, u01: float) -> None:
    q = UniformQuantizer(levels)
    u = torch.tensor([[(u01 - 0.5) * q.step]], dtype=torch.float64)
    zt = torch.tensor([[z]], dtype=torch.float64)
    out = q(zt, u)
    k = int(out["symbols"])
    centers = np.linspace(-1, 1, levels)
    dist = np.abs(centers - (z + float(u)))
    assert 0 <= k < levels
    assert dist[k] <= dist.min() + 1e-12  # nearest center (ties either way)
    assert float(q.dequantize(out["symbols"], u)) == pytest.approx(float(out["z_hat"]), abs=1e-12)


def test_gradient_modes() -> None:
    z = torch.tensor([[-0.9, -0.2, 0.1, 0.6]], dtype=torch.float64, requires_grad=True)
    u = torch.zeros_like(z)
    q = UniformQuantizer(4, grad_mode="straight-through")
    q(z, u)["z_hat"].sum().backward()
    assert torch.equal(z.grad, torch.ones_like(z))  # identity backward

    z2 = z.detach().clone().requires_grad_(True)
    q2 = UniformQuantizer(4, grad_mode="soft-to-hard", soft_sigma=1.0)
    out = q2(z2, u)
    out["z_hat"].sum().backward()
    # Independent check: the derivative of sum_k c_k softmax_k(-|v - c_k|) by finite differences.
    c = np.linspace(-1, 1, 4)

    def soft(v: float) -> float:
        w = np.exp(-np.abs(v - c))
        return float((w * c).sum() / w.sum())

    fd = [(soft(v + 1e-5) - soft(v - 1e-5)) / 2e-5 for v in z.detach().numpy().ravel()]
    assert z2.grad.numpy().ravel() == pytest.approx(fd, rel=1e-6, abs=1e-7)
    # The forward value stays the hard one.
    assert torch.allclose(out["z_hat"], q(z.detach(), u)["z_hat"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": 1}, "`levels` must be an integer >= 2"),
        ({"levels": 4, "grad_mode": "noise"}, "`grad_mode` must be one of"),
        ({"levels": 4, "soft_sigma": 0.0}, "`soft_sigma` must be > 0"),
    ],
)
def test_quantizer_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        UniformQuantizer(**kwargs)
