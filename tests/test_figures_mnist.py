"""The MNIST figures draw from run-table rows: every run a point, every band named, units.

Checked on the figure objects (what is drawn), plus one PNG + PDF write.
"""

from __future__ import annotations

import itertools

import pytest

from figures import mnist


def _rows() -> list[dict[str, object]]:
    rows = []
    rates = (4.754887502163468, 6.0, 8.0, 10.0)
    for k, (rate, ld, lp, lc) in enumerate(
        itertools.product(rates, (0.0, 1.0), (0.0, 0.005), (0.0025, 0.01))
    ):
        rows.append({
            "status": "finished", "rate_bits": rate, "lambda_d": ld, "lambda_p": lp,
            "lambda_c": lc, "mse": 0.06 - rate / 400 + lc, "w1": 5.0 + lp * 100,
            "acc": 0.8 + rate / 100 + lc, "acc_heldout": 0.78 + rate / 100 + lc, "k": k,
        })  # fmt: skip
    rows.append({"status": "partial", "rate_bits": 6.0, "lambda_d": 1.0, "lambda_p": 0.0,
                 "lambda_c": 0.0, "mse": None})  # fmt: skip
    return rows


def _points(ax) -> int:
    """Scatter points drawn on `ax` (filled and hollow)."""
    from matplotlib.collections import PathCollection

    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_fig9a_draws_every_run_and_names_every_band() -> None:
    rows = _rows()
    fig = mnist.fig9a(rows)
    ax = fig.axes[0]
    finished = [r for r in rows if r["status"] == "finished" and r["lambda_p"] == 0.0]
    assert _points(ax) == 2 * len(finished)  # training and held-out accuracy per run
    assert "mse" in ax.get_xlabel() and "per pixel" in ax.get_xlabel()
    assert "fraction" in ax.get_ylabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(labels) == len(mnist.PAPER_FIG9A_BANDS) == 4  # one entry per shaded band
    for rate in ("10", "8", "6", "4.75"):
        assert any(f"R = {rate} bits" in lab and "paper" in lab for lab in labels)
    band_marks = {t.get_text() for t in ax.texts}
    assert {"10", "8", "6", "4.75"} <= band_marks  # each band says its rate on the plot
    _close(fig)


def test_fig9b_w1_axis_has_a_unit_and_legend_is_off_the_axes() -> None:
    fig = mnist.fig9b(_rows())
    ax = fig.axes[0]
    assert "[" in ax.get_xlabel() and "pixels in [0, 1]" in ax.get_xlabel()
    assert ax.get_legend() is None and len(fig.legends) == 1  # the legend sits outside
    assert len(fig.legends[0].get_texts()) == 4
    _close(fig)


@pytest.mark.parametrize("draw", [mnist.fig10, mnist.fig11])
def test_per_rate_panels_one_curve_per_lambda_p(draw) -> None:
    fig = draw(_rows())
    panels = [ax for ax in fig.axes if ax.get_title().startswith("R = ")]
    assert len(panels) == 4
    for ax in panels:
        assert len(ax.get_lines()) == 2  # lambda_p in {0, 0.005}
        assert all(len(line.get_xdata()) == 2 for line in ax.get_lines())  # two lambda_c
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 2
    _close(fig)


def test_png_and_pdf_written(tmp_path):
    from figures.style import paper_style, save_figure

    with paper_style():
        paths = save_figure(mnist.fig9a(_rows()), tmp_path, "fig9a")
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    assert paths[0].read_bytes()[:4] in (b"\x89PNG", b"%PDF")


def test_universal_figure_draws_every_pair():
    table = [{"rate_bits": r, "mse_e2e": 0.04, "mse_universal": 0.045, "acc_e2e": 0.95,
              "acc_universal": 0.94, "encoder": enc}
             for r in (6.0, 10.0) for enc in ("(1, 0, 0)", "(1, 0, 0.015)")]  # fmt: skip
    fig = mnist.universal_figure(table)
    for ax in fig.axes:
        assert _points(ax) == len(table)
        assert "[" in ax.get_xlabel() and "[" in ax.get_ylabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sum(lab.startswith("encoder") for lab in labels) == 2
    _close(fig)


def test_frontier_keeps_best_accuracy_per_cost():
    pts = [(0.05, 0.9), (0.04, 0.8), (0.06, 0.85), (0.07, 0.95)]
    assert mnist.pareto_frontier(pts) == [(0.04, 0.8), (0.05, 0.9), (0.07, 0.95)]


def test_mnist_figures_rejects_unknown_prefix(tmp_path):
    with pytest.raises(ValueError, match="`prefix` must be 'cpu' or 'paper'; got 'x'"):
        mnist.mnist_figures(tmp_path, tmp_path, prefix="x")


def test_mnist_figures_empty_runs_dir_writes_nothing(tmp_path):
    assert mnist.mnist_figures(tmp_path / "runs", tmp_path / "out") == []


def test_figures_commands_honour_rdpc_runs(tmp_path, monkeypatch, capsys):
    """`rdpc figures mnist|overlay` read $RDPC_RUNS like train/sweep/runs (no literal `runs`)."""
    from rdpc.cli import main

    monkeypatch.setenv("RDPC_RUNS", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    for figure_set in ("mnist", "overlay"):
        assert main(["figures", figure_set, "--out", str(tmp_path / "out")]) == 1
        assert str(tmp_path / "elsewhere") in capsys.readouterr().err
