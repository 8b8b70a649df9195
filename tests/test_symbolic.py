"""Sympy derivations (rdpc_theory.symbolic) against the hand-typed Gaussian closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdpc_theory import GaussianSource
from rdpc_theory.symbolic import (
    _equal,
    derive_gaussian_forms,
    gaussian_identities,
    gaussian_symbols,
    numeric_function,
)

VAR_X, VAR_S, COV = 1.0, 0.5, 0.9 * math.sqrt(0.5)


def test_every_identity_is_proved() -> None:
    ids = gaussian_identities()
    assert len(ids) >= 10
    failed = [i.name for i in ids if not i.holds]
    assert not failed


def test_equality_test_rejects_false_identities() -> None:
    s = gaussian_symbols()
    f = derive_gaussian_forms()
    assert not _equal(f.rate_classification, f.rate_classification + math.log(2) / 2)
    assert not _equal(f.d_rate_d_distortion, -1 / s.D)


def test_paper_figure_contour_corner() -> None:
    # Corner of the R = 0.6 nats contour of the Gaussian theory figure of Wang et al. (JSAC 2025,
    # arXiv:2405.04144, Sec. IV; docs/references.md): D = 0.3012, C = 0.6550.
    f = derive_gaussian_forms()
    kw = dict(var_x=VAR_X, var_s=VAR_S, cov=COV)
    assert float(numeric_function(f.corner_distortion, "R", **kw)(0.6)) == pytest.approx(
        0.3012, abs=5e-5
    )
    assert float(numeric_function(f.corner_classification, "R", **kw)(0.6)) == pytest.approx(
        0.6550, abs=5e-5
    )


def test_derived_forms_match_gaussian_source() -> None:
    f = derive_gaussian_forms()
    g = GaussianSource(VAR_X, VAR_S, COV)
    kw = dict(var_x=VAR_X, var_s=VAR_S, cov=COV)
    c = np.linspace(g.label_noise_entropy(base=math.e) + 1e-3, g.label_entropy(base=math.e), 50)
    rc = numeric_function(f.rate_classification, "C", **kw)(c)
    np.testing.assert_allclose(rc, g.rc(c, base=math.e), atol=1e-12)
    d_c = numeric_function(f.distortion_for_classification, "C", **kw)(c)
    np.testing.assert_allclose(d_c, g.distortion_for_classification(c, base=math.e), atol=1e-12)
    # Derivative against a central difference of the library's closed form.
    h = 1e-6
    fd = (g.rc(c[1:-1] + h, base=math.e) - g.rc(c[1:-1] - h, base=math.e)) / (2 * h)
    deriv = numeric_function(f.d_rate_d_classification, "C", **kw)(c[1:-1])
    np.testing.assert_allclose(deriv, fd, rtol=1e-5)


def test_two_variable_function_matches_library_rdp() -> None:
    # The perception-bound W2 branch, inside its regime D_switch < D < var_x + s^2.
    f = derive_gaussian_forms()
    g = GaussianSource(VAR_X, VAR_S, COV)
    fn = numeric_function(f.rdp_w2_binding, "D", "P", var_x=VAR_X, var_s=VAR_S, cov=COV)
    p = np.linspace(0.01, 0.8, 30)
    s = 1.0 - np.sqrt(p)
    d = (1.0 - s**2) + 0.5 * ((1.0 + s**2) - (1.0 - s**2))
    np.testing.assert_allclose(fn(d, p), g.rdp(d, p, base=math.e), atol=1e-12)


def test_numeric_function_validation() -> None:
    f = derive_gaussian_forms()
    with pytest.raises(ValueError, match="`variables` must be one or more of"):
        numeric_function(f.rate_distortion, "X", var_x=1.0, var_s=0.5, cov=0.5)
    with pytest.raises(ValueError, match="`var_s` must be > 0.25; got 0.25"):
        numeric_function(f.rate_distortion, "D", var_x=1.0, var_s=0.25, cov=0.5)
