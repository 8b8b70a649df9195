"""Theory figures: files are written, and the drawn data sit where the theory says."""

from __future__ import annotations

from pathlib import Path

import contourpy
import numpy as np
import pytest

from figures.theory import GAUSSIAN_LEVELS_NATS, gaussian_panels, theory_figures
from rdpc.cli import main

STEMS = (
    "gaussian_rdc_rpc",
    "binary_rdc_rpc",
    "rdp_comparison",
    "gaussian_rdc_contour",
    "gaussian_rpc_contour",
    "gaussian_rdp_contour",
    "binary_rdc_contour",
    "binary_rpc_contour",
    "binary_rdp_contour",
)


def test_cli_writes_png_and_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["figures", "theory", "--out", str(tmp_path), "--grid", "9"]) == 0
    for stem in STEMS:
        png = (tmp_path / f"{stem}.png").read_bytes()
        pdf = (tmp_path / f"{stem}.pdf").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    assert len(capsys.readouterr().out.splitlines()) == 2 * len(STEMS)


def test_paper_contour_corner_and_units() -> None:
    # REFERENCE.md: the R = 0.6 nats contour of the Gaussian RDC map turns at
    # D = 0.3012, C = 0.6550 (sigma_X^2 = 1, sigma_S^2 = .5, rho = .9).
    panel = gaussian_panels(181)["rdc"]
    assert panel.unit == "nats" and "nats" in panel.zlabel and "nats" in panel.xlabel
    assert GAUSSIAN_LEVELS_NATS == pytest.approx(np.arange(0.3, 2.11, 0.3))
    z = np.where(np.isinf(panel.rate), np.nan, panel.rate)
    lines = contourpy.contour_generator(panel.x, panel.y, z).lines(0.6)
    pts = np.vstack(lines)
    assert np.min(np.hypot(pts[:, 0] - 0.6550, pts[:, 1] - 0.3012)) < 0.01
    right = pts[pts[:, 0] > 0.7]  # horizontal branch: distortion binds
    up = pts[pts[:, 1] > 0.35]  # vertical branch: classification binds
    assert np.abs(right[:, 1] - 0.3012).max() < 2e-3
    assert np.abs(up[:, 0] - 0.6550).max() < 2e-3


def test_grid_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`grid` must be an integer >= 5; got 2"):
        theory_figures(tmp_path, grid=2)
