"""The numpy subtractive-dither quantizer (rdpc_theory.quantization)."""

from __future__ import annotations

import numpy as np
import pytest

from rdpc_theory.quantization import DitheredQuantizer


@pytest.mark.parametrize("levels", [2, 3, 4, 8])
def test_encode_is_nearest_center(levels: int) -> None:
    q = DitheredQuantizer(levels)
    assert q.step == pytest.approx(2 / (levels - 1))
    x = np.random.default_rng(0).uniform(-1, 1, 2000)
    nearest = np.argmin(np.abs(x[:, None] - q.centers[None, :]), axis=1)
    np.testing.assert_array_equal(q.encode(x), nearest)
    np.testing.assert_array_equal(q.decode(q.encode(x)), q.centers[nearest])


@pytest.mark.parametrize("levels", [2, 3, 4])
def test_subtractive_error_is_a_shifted_uniform_for_every_input(levels: int) -> None:
    # For fixed x the map u -> error is a translation of [-D/2, D/2) onto itself modulo D,
    # so a uniform grid of dithers maps onto a (shifted) uniform grid of errors.
    q = DitheredQuantizer(levels)
    half = q.step / 2
    n = 4096
    u = -half + q.step * (np.arange(n) + 0.5) / n
    for x in (-1.0, -0.77, -0.5, 0.0, 0.123, 0.999, 1.0):
        err = np.sort(q.decode(q.encode(np.full(n, x), u), u) - x)
        assert np.all((-half <= err) & (err < half))
        np.testing.assert_allclose(err, np.sort(u), atol=q.step / n + 1e-12)
    # Without subtracting the dither the error depends on x: not the same set.
    err0 = q.decode(q.encode(np.full(n, 0.3 * q.step), u)) - 0.3 * q.step
    assert np.abs(np.sort(err0) - np.sort(u)).max() > 0.1 * q.step


def test_validation() -> None:
    with pytest.raises(ValueError, match="`levels` must be >= 2; got 1"):
        DitheredQuantizer(1)
    with pytest.raises(ValueError, match="`levels` must be an integer"):
        DitheredQuantizer(2.5)  # type: ignore[arg-type]
    q = DitheredQuantizer(3)
    with pytest.raises(ValueError, match=r"`x` must be in \[-1, 1\]; got 1.5"):
        q.encode([1.5])
    with pytest.raises(ValueError, match=r"`dither` must be in \[-0.5, 0.5\); got 0.5"):
        q.encode([0.0], [0.5])
    with pytest.raises(ValueError, match="`index` must be integers"):
        q.decode([3])
