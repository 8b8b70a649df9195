"""Theory figures: files are written, and what is drawn is right and readable.

Checked on the figure objects: every axis label carries its unit (one unit per source, or
the one asked for), each map draws every contour level, visible contour labels neither
overlap each other nor leave their axes, surfaces cut at the colour limit say so, and the
drawn data sit where the theory says.
"""

from __future__ import annotations

from pathlib import Path

import contourpy
import numpy as np
import pytest

from figures.style import declutter, paper_style
from figures.theory import (
    GAUSSIAN_LEVELS_NATS,
    binary_panels,
    build_theory_figures,
    gaussian_panels,
    theory_figures,
)
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


def test_cli_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["figures", "theory", "--out", str(tmp_path), "--grid", "9", "--unit", "bits"]
    assert main([*argv, "--format", "png"]) == 0
    for stem in STEMS:
        assert (tmp_path / f"{stem}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    assert len(capsys.readouterr().out.splitlines()) == len(STEMS)


def test_pdf_output(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from figures.style import save_figure
    from figures.theory import draw_contour

    with paper_style():
        fig, ax = plt.subplots()
        draw_contour(ax, binary_panels(9)["rdc"])
        (path,) = save_figure(fig, tmp_path, "one", ["pdf"])
    assert path.read_bytes().startswith(b"%PDF")


def test_paper_contour_corner_and_units() -> None:
    # Wang et al. (JSAC 2025, arXiv:2405.04144, Sec. IV; docs/references.md): the R = 0.6 nats
    # contour of the Gaussian RDC map turns at D = 0.3012, C = 0.6550 (σ_X² = 1, σ_S² = .5, ρ = .9).
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


def _maps(fig):
    """The 2-D map axes of a theory figure (not the 3-D surfaces, not the colour bars)."""
    return [ax for ax in fig.axes if ax.name == "rectilinear" and ax.get_xlabel()]


@pytest.fixture(scope="module")
def drawn():
    import matplotlib.pyplot as plt

    with paper_style():
        figs = {"paper": build_theory_figures(grid=41)}
        for by_name in figs.values():
            for fig in by_name.values():
                declutter(fig)
        yield figs
    plt.close("all")


@pytest.mark.parametrize(("unit", "stem", "expect"), [
    ("paper", "gaussian_rdc_rpc", "nats"), ("paper", "binary_rdc_rpc", "bits"),
])  # fmt: skip
def test_every_axis_names_its_unit(drawn, unit, stem, expect) -> None:
    fig = drawn[unit][stem]
    maps = _maps(fig)
    assert len(maps) == 2
    for ax in maps:
        assert f"[{expect}]" in ax.get_xlabel()  # C in the rate's unit
        assert "[" in ax.get_ylabel()  # D / P: units of X^2 or probability
    colorbars = [ax for ax in fig.axes if ax.get_ylabel().startswith("rate R")]
    assert len(colorbars) == 2 and all(f"[{expect}]" in ax.get_ylabel() for ax in colorbars)
    surfaces = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(surfaces) == 2 and all(f"[{expect}]" in ax.get_zlabel() for ax in surfaces)


def test_gaussian_w2_axis_has_a_unit(drawn) -> None:
    ax = _maps(drawn["paper"]["gaussian_rdp_contour"])[0]
    assert "W_2^2" in ax.get_xlabel() and "[units of $X^2$]" in ax.get_xlabel()


def test_every_contour_level_is_drawn_and_on_the_colour_bar(drawn) -> None:
    fig = drawn["paper"]["gaussian_rdc_contour"]
    ax = _maps(fig)[0]
    levels = ax.collections[1].levels  # pcolormesh first, then the contour set
    assert list(levels) == pytest.approx(GAUSSIAN_LEVELS_NATS)
    bar = next(a for a in fig.axes if a.get_ylabel().startswith("rate R"))
    assert len(bar.collections) >= 1  # the levels as lines on the colour bar


@pytest.mark.parametrize("stem", ["gaussian_rdc_rpc", "rdp_comparison", "binary_rdc_rpc",
                                  "gaussian_rdc_contour", "gaussian_rdp_contour"])  # fmt: skip
def test_visible_contour_labels_do_not_overlap(drawn, stem) -> None:
    fig = drawn["paper"][stem]
    renderer = fig.canvas.get_renderer()
    for ax in _maps(fig):
        labels = [t for t in ax.texts if t.get_gid() == "rdpc-contour-label"]
        shown = [t.get_window_extent(renderer) for t in labels if t.get_visible()]
        assert len(shown) >= 4  # most levels stay labelled
        frame = ax.get_window_extent(renderer)
        for i, a in enumerate(shown):
            assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 <= frame.y1
            assert not any(a.overlaps(b) for b in shown[i + 1 :])


def test_surfaces_cut_at_the_colour_limit_say_so(drawn) -> None:
    fig = drawn["paper"]["gaussian_rdc_rpc"]  # R -> inf as D -> 0: cut
    notes = [t.get_text() for ax in fig.axes if ax.name == "3d" for t in ax.texts]
    assert len(notes) == 2 and all("cut at R = 2.42 nats" in n for n in notes)
    binary = drawn["paper"]["binary_rdc_rpc"]  # bounded by H(X) = 0.88 bits: no cut
    assert not [t for ax in binary.axes if ax.name == "3d" for t in ax.texts]


def test_one_unit_for_every_source_on_request() -> None:
    for unit in ("bits", "nats"):
        for panel in (
            *gaussian_panels(9, unit=unit).values(),
            *binary_panels(9, unit=unit).values(),
        ):
            assert panel.unit == unit and f"[{unit}]" in panel.zlabel
            if panel.name.endswith(("rdc", "rpc")):
                assert f"[{unit}]" in panel.xlabel
    # The same map in two units: rates differ by the factor ln 2.
    nats, bits = gaussian_panels(9)["rdp"].rate, gaussian_panels(9, unit="bits")["rdp"].rate
    finite = np.isfinite(nats)
    assert np.allclose(nats[finite], bits[finite] * np.log(2), rtol=1e-12)


def _synthetic_rows() -> list[dict[str, object]]:
    """Six Gaussian RDC runs (values in bits, as in a runs table), two pairs on one spot."""
    spots = [(0.6, 0.3), (0.6, 0.3), (0.9, 0.5), (0.9, 0.5), (1.2, 0.1), (0.5, 0.0)]
    return [{"status": "finished", "source": "gaussian", "family": "rdc", "block_length": 1,
             "C_bits": c, "D": d, "P": 0.0, "rate_bits": 1.0 + k / 10, "above_bound": 1}
            for k, (c, d) in enumerate(spots)]  # fmt: skip


def test_overlay_counts_distinct_points_and_keeps_markers_whole() -> None:
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    from figures.overlay import gaussian_overlay_panels, in_unit, overlay_figure

    rows = _synthetic_rows()
    with paper_style():
        panels = gaussian_overlay_panels(grid=41, unit="nats")
        fig = overlay_figure(panels, in_unit(rows, "nats"), "gaussian")
        declutter(fig)
    ax = fig.axes[0]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == 6 and not points.get_clip_on()  # whole at D = 0
    assert points.get_offsets()[0][0] == pytest.approx(0.6 * np.log(2))  # C drawn in nats
    legend = ax.get_legend()
    assert "6 runs at 4 distinct points" in [t.get_text() for t in legend.get_texts()][0]
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0  # below
    marks = points.get_offset_transform().transform(points.get_offsets())
    for t in ax.texts:  # no visible contour label under a marker
        if t.get_gid() == "rdpc-contour-label" and t.get_visible():
            box = t.get_window_extent(renderer)
            assert not any(box.contains(x, y) for x, y in marks)
    assert "[nats]" in ax.get_xlabel() and "[units of $X^2$]" in ax.get_ylabel()
    plt.close(fig)
