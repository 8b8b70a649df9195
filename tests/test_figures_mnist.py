"""The MNIST figures draw from run-table rows and write PNG + PDF (drawing only, no numbers)."""

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


@pytest.mark.parametrize("draw", [mnist.fig9a, mnist.fig9b, mnist.fig10, mnist.fig11])
def test_mnist_figures_draw(tmp_path, draw):
    from figures.style import paper_style, save_figure

    with paper_style():
        paths = save_figure(draw(_rows()), tmp_path, draw.__name__)
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_universal_figure_draws(tmp_path):
    from figures.style import paper_style, save_figure

    table = [{"rate_bits": r, "mse_e2e": 0.04, "mse_universal": 0.045, "acc_e2e": 0.95,
              "acc_universal": 0.94, "encoder": enc}
             for r in (6.0, 10.0) for enc in ("(1, 0, 0)", "(1, 0, 0.015)")]  # fmt: skip
    with paper_style():
        paths = save_figure(mnist.universal_figure(table), tmp_path, "u", ["png"])
    assert paths[0].stat().st_size > 1000


def test_frontier_keeps_best_accuracy_per_cost():
    pts = [(0.05, 0.9), (0.04, 0.8), (0.06, 0.85), (0.07, 0.95)]
    assert mnist._frontier(pts) == [(0.04, 0.8), (0.05, 0.9), (0.07, 0.95)]


def test_mnist_figures_rejects_unknown_prefix(tmp_path):
    with pytest.raises(ValueError, match="`prefix` must be 'cpu' or 'paper'; got 'x'"):
        mnist.mnist_figures(tmp_path, tmp_path, prefix="x")


def test_mnist_figures_empty_runs_dir_writes_nothing(tmp_path):
    assert mnist.mnist_figures(tmp_path / "runs", tmp_path / "out") == []
