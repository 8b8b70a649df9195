"""Invariant compressors on augmented MNIST: reconstructions of VC vs VIC vs BINCE for the
same augmented test inputs, and linear-probe accuracy against real coded bits per image.

Reconstructions are decoded from the codes after real rounding. BINCE has no decoder: its
row shows, for each input, the augmented training image (of the probe's fit set) whose
quantized code is nearest to the input's code (Euclidean), i.e. what its code keeps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .style import FORMATS, TEXT_WIDTH_IN, paper_style, save_figure

__all__ = ["mnist_invariant_figures", "accuracy_vs_bits_panel"]

_LABELS = {"vc": "VC", "vic": "VIC", "bince": "BINCE"}
_COLORS = {"vc": "tab:red", "vic": "tab:blue", "bince": "tab:green"}


def accuracy_vs_bits_panel(ax: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Probe test accuracy (%) against real coded bits per image, one marker per run, VC's
    runs joined in order of rate (its frontier)."""
    bits = [r["coded_bits"] for r in rows if r.get("probe_accuracy") is not None]
    for comp in ("vc", "vic", "bince"):
        mine = [r for r in rows if r["compressor"] == comp and r.get("probe_accuracy") is not None]
        pts = sorted((r["coded_bits"], 100 * r["probe_accuracy"], r["beta"]) for r in mine)
        if not pts:
            continue
        xs, ys, betas = zip(*pts, strict=True)
        ax.plot(xs, ys, "o-" if comp == "vc" else "o", color=_COLORS[comp], ms=4,
                label=_LABELS[comp])  # fmt: skip
        for i, (x, y, b) in enumerate(pts):  # labels alternate below/above: neighbours
            ax.annotate(f"β={b:g}", (x, y), textcoords="offset points",
                        xytext=(3, -8) if i % 2 == 0 else (-8, 5), fontsize=6)  # fmt: skip
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    # Decades, and their 3x when the rates span under two decades (27-120 bits would get one
    # labelled tick otherwise); over wider spans (a collapsed code is ~0.01 bit) the 3x
    # labels would run into each other.
    narrow = bool(bits) and max(bits) < 100 * max(min(bits), 1e-12)
    ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 3.0) if narrow else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.2, y=0.1)
    ax.set_xlabel("real coded bits per image")
    ax.set_ylabel("linear-probe test accuracy (%)")
    ax.set_title("augmented MNIST: accuracy vs rate")
    ax.legend(frameon=False, fontsize=7)


def _pick_runs(runs_dir: str | os.PathLike[str], preset: str | None) -> dict[str, Any]:
    """For each compressor, the finished MNIST run with the highest probe accuracy."""
    from rdpc_neural.core.runs import iter_runs

    best: dict[str, Any] = {}
    for rec in iter_runs(runs_dir, preset, "invariant"):
        if not rec.finished or rec.final is None or rec.config.source != "mnist":
            continue
        acc = rec.final.get("probe_accuracy") or 0.0
        comp = rec.config.compressor
        if comp not in best or acc > (best[comp].final.get("probe_accuracy") or 0.0):
            best[comp] = rec
    return best


def mnist_invariant_figures(
    runs_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    preset: str | None = None,
    n_images: int = 10,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """``mnist_invariant_<preset>``: reconstructions (left) and accuracy vs coded bits
    (right) of the finished MNIST invariant runs; `rows` from
    :func:`rdpc_neural.kinds.invariant_results.invariant_runs_table`."""
    import matplotlib.pyplot as plt
    import torch

    from rdpc_neural.augment import augment
    from rdpc_neural.data import resolve_data_root
    from rdpc_neural.kinds.invariant import load_compressor
    from rdpc_neural.kinds.invariant_images import encode_batched, mnist_splits

    runs = _pick_runs(runs_dir, preset)
    if not runs:
        return []
    data = mnist_splits(str(resolve_data_root()))
    originals = data.x_test[:n_images]
    inputs = augment(originals, torch.Generator().manual_seed(2021))
    pool = augment(data.x_train[:5000], torch.Generator().manual_seed(2022))
    grid: list[tuple[str, np.ndarray]] = [("input (augmented)", inputs[:, 0].numpy()),
                                          ("original digit", originals[:, 0].numpy())]  # fmt: skip
    with torch.no_grad():
        for comp in ("vc", "vic", "bince"):
            if comp not in runs:
                continue
            rec = runs[comp]
            _, model = load_compressor(rec.path)
            z = model.prior.decompress(model.prior.compress(encode_batched(model, inputs)))
            bits = rec.final["coded_bits"]
            if comp == "bince":
                z_pool = model.prior.decompress(model.prior.compress(encode_batched(model, pool)))
                nearest = torch.cdist(z, z_pool).argmin(1)
                shown = pool[nearest, 0].numpy()
                label = f"BINCE nearest ({bits:.0f} b)"
            else:
                shown = torch.sigmoid(model.decode(z))[:, 0].numpy()
                label = f"{_LABELS[comp]} β={rec.config.beta:g} ({bits:.0f} b)"
            grid.append((label, shown))
    with paper_style():
        fig = plt.figure(figsize=(TEXT_WIDTH_IN * 1.6, 0.62 * len(grid) + 0.6))
        sub = fig.add_gridspec(1, 2, width_ratios=(1.7, 1.0), wspace=0.25)
        left = sub[0].subgridspec(len(grid), n_images, wspace=0.05, hspace=0.05)
        for r, (label, images) in enumerate(grid):
            for i in range(n_images):
                ax = fig.add_subplot(left[r, i])
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
        accuracy_vs_bits_panel(fig.add_subplot(sub[1]), rows)
        name = f"mnist_invariant_{preset}" if preset else "mnist_invariant"
        return save_figure(fig, out_dir, name, formats)
