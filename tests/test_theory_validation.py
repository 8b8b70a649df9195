"""Input validation of the theory API, and the entropy helpers against independent code.

Every out-of-domain input raises ``ValueError`` whose message names the parameter, its
valid range and the value received (``"`D` must be >= 0; got -0.1."``).  The entropy
helpers are compared with scipy.stats and with direct enumeration.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import entropy, norm

from rdpc_theory import BinarySource, GaussianSource
from rdpc_theory.brute_force import binary_brute_force, gaussian_brute_force
from rdpc_theory.entropy import (
    binary_convolution,
    binary_entropy,
    binary_entropy_inv,
    gaussian_entropy,
)
from rdpc_theory.units import from_nats, log_base, to_nats

NAN = float("nan")
B = BinarySource(0.3, 0.1)
G = GaussianSource(1.0, 0.5, 0.6)

_PSD = r"`cov` must satisfy \|cov\| <= sqrt\(var_x \* var_s\) = 0\.707107 \(positive semi-definite"
CASES: list[tuple[str, Callable[[], object], str]] = [
    # Binary source parameters
    ("p<0", lambda: BinarySource(-0.1, 0.1), r"`p` must be in \[0, 1\]; got -0\.1\."),
    ("p>1", lambda: BinarySource(1.5, 0.1), r"`p` must be in \[0, 1\]; got 1\.5\."),
    ("p=nan", lambda: BinarySource(NAN, 0.1), r"`p` must not be NaN; got nan\."),
    ("p array", lambda: BinarySource([0.3, 0.2], 0.1), r"`p` must be a scalar"),  # type: ignore[arg-type]
    ("eps=1/2", lambda: BinarySource(0.3, 0.5), r"`eps` must be in \[0, 0\.5\); got 0\.5\."),
    ("eps<0", lambda: BinarySource(0.3, -0.1), r"`eps` must be in \[0, 0\.5\); got -0\.1\."),
    ("eps=nan", lambda: BinarySource(0.3, NAN), r"`eps` must not be NaN; got nan\."),
    # Binary bounds
    ("rd D<0", lambda: B.rd(-0.1), r"`D` must be >= 0; got -0\.1\."),
    ("rdc D array<0", lambda: B.rdc([0.1, -0.3], 0.5), r"`D` must be >= 0; got -0\.3\."),
    ("rdc D=nan", lambda: B.rdc(NAN, 0.5), r"`D` must not be NaN"),
    ("rdp P<0", lambda: B.rdp(0.1, -0.2), r"`P` must be >= 0; got -0\.2\."),
    ("rpc P<0", lambda: B.rpc(-0.2, 0.8), r"`P` must be >= 0; got -0\.2\."),
    ("rdpc P=nan", lambda: B.rdpc(0.1, NAN, 0.8), r"`P` must not be NaN"),
    ("rc C<0", lambda: B.rc(-0.5), r"`C` must be >= 0; got -0\.5\."),
    ("rdpc C=nan", lambda: B.rdpc(0.1, 0.1, NAN), r"`C` must not be NaN"),
    ("rd D=str", lambda: B.rd("abc"), r"`D` must be a real number"),  # type: ignore[arg-type]
    ("base=1", lambda: B.rd(0.1, base=1), r"`base` must be > 0 and != 1; got 1\."),
    ("base<0", lambda: B.rdc(0.1, 0.8, base=-2), r"`base` must be > 0; got -2\."),
    ("base=nan", lambda: B.rc(0.8, base=NAN), r"`base` must not be NaN"),
    # Gaussian source parameters
    ("var_x=0", lambda: GaussianSource(0.0, 1.0, 0.0), r"`var_x` must be > 0; got 0\."),
    ("var_x<0", lambda: GaussianSource(-1.0, 1.0, 0.0), r"`var_x` must be > 0; got -1\."),
    ("var_x=inf", lambda: GaussianSource(math.inf, 1.0, 0.0), r"`var_x` must be finite; got inf"),
    ("var_s=0", lambda: GaussianSource(1.0, 0.0, 0.0), r"`var_s` must be > 0; got 0\."),
    ("var_s=nan", lambda: GaussianSource(1.0, NAN, 0.0), r"`var_s` must not be NaN"),
    ("cov not PSD", lambda: GaussianSource(1.0, 0.5, 0.8), _PSD + r".*got 0\.8\."),
    ("cov not PSD<0", lambda: GaussianSource(1.0, 0.5, -0.8), _PSD + r".*got -0\.8\."),
    ("cov=nan", lambda: GaussianSource(1.0, 0.5, NAN), r"`cov` must not be NaN"),
    # Gaussian bounds and options
    ("g rd D<0", lambda: G.rd(-1.0), r"`D` must be >= 0; got -1\."),
    ("g rdc D<0", lambda: G.rdc(-1.0, 1.0), r"`D` must be >= 0; got -1\."),
    ("g rc C=nan", lambda: G.rc(NAN), r"`C` must not be NaN"),
    ("g rdp P<0", lambda: G.rdp(0.5, -0.1), r"`P` must be >= 0; got -0\.1\."),
    ("g rpc P<0", lambda: G.rpc(-0.1, 1.0, perception="kl"), r"`P` must be >= 0; got -0\.1\."),
    ("g rdpc D<0", lambda: G.rdpc(-0.5, 0.1, 1.0), r"`D` must be >= 0; got -0\.5\."),
    (
        "perception=tv",
        lambda: G.rdp(0.1, 0.1, perception="tv"),
        r"`perception` must be one of 'w2', 'kl'; got 'tv'\.",
    ),
    ("perception=W2", lambda: G.rpc(0.1, 1.0, perception="W2"), r"`perception`.*got 'W2'\."),
    ("perception rdpc", lambda: G.rdpc(0.1, 0.1, 1.0, perception=""), r"`perception`.*got ''\."),
    ("g base=1", lambda: G.rd(0.5, base=1.0), r"`base` must be > 0 and != 1; got 1\."),
    # Entropy helpers
    ("Hb p>1", lambda: binary_entropy(1.2), r"`p` must be in \[0, 1\]; got 1\.2\."),
    ("Hb p=nan", lambda: binary_entropy(NAN), r"`p` must not be NaN"),
    ("Hb^-1 h>1", lambda: binary_entropy_inv(1.5), r"`h` must be in \[0, 1\]; got 1\.5\."),
    ("Hb^-1 h<0", lambda: binary_entropy_inv(-0.1), r"`h` must be in \[0, 1\]; got -0\.1\."),
    ("Hb^-1 nats", lambda: binary_entropy_inv(0.7, base=math.e), r"`h` must be in \[0, 0\.69"),
    ("conv b>1", lambda: binary_convolution(0.3, 2.0), r"`b` must be in \[0, 1\]; got 2\."),
    ("conv a<0", lambda: binary_convolution(-0.3, 0.2), r"`a` must be in \[0, 1\]; got -0\.3\."),
    ("h(var<0)", lambda: gaussian_entropy(-1.0), r"`var` must be >= 0; got -1\."),
    ("log_base(0)", lambda: log_base(0.0), r"`base` must be > 0; got 0\."),
    # Brute force (same policy)
    ("bf p>1", lambda: binary_brute_force(1.2, 0.1), r"`p` must be in \[0, 1\]; got 1\.2\."),
    ("bf D<0", lambda: binary_brute_force(0.3, 0.1, D=-1.0), r"`D` must be >= 0; got -1\."),
    ("bf P<0", lambda: binary_brute_force(0.3, 0.1, P=-1.0), r"`P` must be >= 0; got -1\."),
    ("bf C=nan", lambda: binary_brute_force(0.3, 0.1, C=NAN), r"`C` must not be NaN"),
    ("bf cov", lambda: gaussian_brute_force(1.0, 0.5, 0.8), _PSD + r".*got 0\.8\."),
    ("bf var_s", lambda: gaussian_brute_force(1.0, -0.5, 0.0), r"`var_s` must be > 0; got -0\.5"),
    (
        "bf perception",
        lambda: gaussian_brute_force(1.0, 0.5, 0.6, perception="x"),
        r"`perception` must be one of 'w2', 'kl'; got 'x'\.",
    ),
    (
        "bf base",
        lambda: gaussian_brute_force(1.0, 0.5, 0.6, base=1),
        r"`base` must be > 0 and != 1",
    ),
]


@pytest.mark.parametrize(("case", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_out_of_domain_inputs_raise_naming_parameter_range_value(
    case: str, call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        call()
    text = str(info.value)
    assert text.startswith("`") and text.endswith(".")  # one sentence, parameter first
    assert "\n" not in text


def test_in_domain_edges_are_accepted() -> None:
    """Edges of the domains are valid inputs, not errors (p > 1/2 by symmetry)."""
    for p in (0.0, 0.5, 0.7, 1.0):
        BinarySource(p, 0.0)
    BinarySource(0.3, 0.4999999)
    GaussianSource(1.0, 0.5, math.sqrt(0.5))  # |rho| = 1 is PSD
    GaussianSource(1.0, 0.5, -math.sqrt(0.5))
    assert float(G.rc(-5.0)) == math.inf  # a negative differential-entropy bound is valid
    assert float(B.rd(math.inf)) == 0.0  # an infinite bound is no constraint
    assert float(B.rdpc(0.0, 0.0, math.inf)) == pytest.approx(float(binary_entropy(0.3)))


def test_no_silent_nan_in_outputs() -> None:
    """Every output on a broad grid is a number or +inf, never NaN."""
    d = np.array([0.0, 1e-12, 0.1, 0.3, 1.0, 5.0, math.inf])
    for src in (B, BinarySource(0.5, 0.0), BinarySource(1.0, 0.2), G, GaussianSource(2, 1, 0)):
        for c in (0.0, 0.2, 0.5, 0.9, 1.5, math.inf):
            for pp in (0.0, 0.01, 0.5, math.inf):
                for out in (src.rdc(d, c), src.rdp(d, pp), src.rdpc(d, pp, c), src.rpc(pp, d)):
                    assert not np.isnan(out).any()
                    assert np.all(np.asarray(out) >= 0.0)


# --------------------------------------------------------------------------------------
# Entropy helpers and units
# --------------------------------------------------------------------------------------


def test_binary_entropy_matches_scipy() -> None:
    xs = np.concatenate([[0.0, 1.0, 1e-300, 1e-12, 0.5], np.linspace(0.001, 0.999, 97)])
    ref = np.array([entropy([x, 1 - x], base=2) for x in xs])
    assert np.allclose(binary_entropy(xs), ref, rtol=1e-14, atol=1e-300)
    ref_nats = np.array([entropy([x, 1 - x]) for x in xs])
    assert np.allclose(binary_entropy(xs, base=math.e), ref_nats, rtol=1e-14, atol=1e-300)
    assert float(binary_entropy(0.5)) == 1.0 and float(binary_entropy(0.0)) == 0.0


def test_binary_entropy_inverse_round_trips() -> None:
    xs = np.concatenate([[0.0, 1e-15, 1e-9, 0.5], np.linspace(0.0005, 0.4995, 200)])
    h = binary_entropy(xs)
    back = binary_entropy_inv(h)
    assert np.all((back >= 0) & (back <= 0.5))
    # H_b is flat at 1/2, so x is determined to ~sqrt(ulp) there, and to ~ulp elsewhere.
    tol = np.where(xs < 0.45, 1e-12 * np.maximum(xs, 1e-300) + 1e-300, 1e-7)
    assert np.all(np.abs(back - xs) <= tol)
    # The other composition is exact to rounding everywhere.
    hs = np.linspace(0.0, 1.0, 301)
    assert np.allclose(binary_entropy(binary_entropy_inv(hs)), hs, rtol=0, atol=4e-16)
    # Units: the same point in nats.
    assert np.allclose(binary_entropy_inv(hs * math.log(2), base=math.e), binary_entropy_inv(hs))


def test_binary_convolution_by_enumeration() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.uniform(size=50), rng.uniform(size=50)
    # P(A xor B = 1) summed over the four outcomes of independent A, B.
    ref = [
        sum((ai if u else 1 - ai) * (bi if v else 1 - bi) for u in (0, 1) for v in (0, 1) if u != v)
        for ai, bi in zip(a, b, strict=True)
    ]
    assert np.allclose(binary_convolution(a, b), ref, rtol=0, atol=1e-15)
    assert np.shape(binary_convolution(a[:, None], b[None, :])) == (50, 50)
    assert float(binary_convolution(0.3, 0.0)) == pytest.approx(0.3)
    assert float(binary_convolution(0.3, 0.5)) == pytest.approx(0.5)


def test_gaussian_entropy_matches_scipy() -> None:
    for var in (1e-6, 0.1, 1.0, 2.5, 1e6):
        nats = float(norm(scale=math.sqrt(var)).entropy())
        assert float(gaussian_entropy(var, base=math.e)) == pytest.approx(nats, rel=1e-13)
        assert float(gaussian_entropy(var)) == pytest.approx(nats / math.log(2), rel=1e-13)
    assert float(gaussian_entropy(0.0)) == -math.inf


def test_units() -> None:
    assert log_base(2) == math.log(2) and log_base(math.e) == 1.0
    x = np.array([0.0, 0.3, 1.7])
    for base in (2, math.e, 10, 0.5):
        assert np.allclose(from_nats(to_nats(x, base), base), x, rtol=1e-15)
    assert np.allclose(from_nats(x, 2), x / math.log(2))
    assert float(binary_entropy(0.3, base=10)) == pytest.approx(entropy([0.3, 0.7], base=10))
