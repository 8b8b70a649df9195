"""Entropy coding: real coded bits vs the models' estimates, and coding speed on one core.

For each entropy model of :mod:`rdpc_neural.entropy` and each latent width (64 and 128
channels by default), a model is fitted briefly (Adam, uniform-noise likelihood) to
synthetic latents, its coding tables are built (``update()``), and 10,000 held-out items are

* compressed (chunks of 4,096 items) and decompressed, and the round trip checked;
* measured: the coded size (``32 x`` words, and the serialized stream with its chunk index),
  the coding model's estimate ``sum -log2 p`` and, for the learned priors, the evaluation-
  mode (rounded) training likelihood, all in bits per item;
* timed: compress and decompress items/s on one thread (best of ``--repeats``), model
  forward passes and table look-ups included.

Latents: ``y = s_c * g + 2 * f`` with ``g ~ N(0, I)``, a factor ``f ~ N(0, 1)`` shared by the
channels of an item, and scales ``s_c`` from 0.3 to 4 (integers after rounding); for the
piecewise-linear density (bounded latents of the synthetic codecs, dithered quantizer with
16 levels) ``tanh`` of those latents scaled by 1/4.

Usage::

    python benchmarks/entropy_coding.py            # writes benchmarks/results/entropy_coding.json
    python benchmarks/entropy_coding.py --channels 64 --items 2000 --out my.json

Timings on a shared machine are contaminated by other processes: the JSON records the load
average before and after each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdpc_common.atomic import atomic_write_text
from rdpc_neural.entropy import (
    UNIFORM_MIX,
    ChunkedStream,
    FactorizedPrior,
    MeanScaleHyperprior,
    PiecewiseLinearDensity,
    compress_symbols,
    decompress_symbols,
    symbol_probabilities,
)

__all__ = ["main", "latents", "fitted_prior", "bench_model"]

LEVELS = 16  # piecewise-linear density: quantizer levels on [-1, 1]


def latents(items: int, channels: int, seed: int) -> torch.Tensor:
    """Synthetic latents (see the module notes), float32 ``(items, channels)``."""
    g = torch.Generator().manual_seed(seed)
    scales = torch.linspace(0.3, 4.0, channels)
    shared = torch.randn(items, 1, generator=g)
    return scales * torch.randn(items, channels, generator=g) + 2.0 * shared


def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _fit(model: torch.nn.Module, loss: Callable[[torch.Tensor], torch.Tensor], channels: int,
         steps: int) -> None:  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for step in range(steps):
        y = latents(512, channels, seed=10_000 + step)
        value = loss(y)
        opt.zero_grad()
        value.backward()
        opt.step()
    model.eval()


def fitted_prior(kind: str, channels: int, steps: int) -> Any:
    """A factorized prior or mean-scale hyperprior fitted for `steps` Adam steps to
    :func:`latents`, with its coding tables built (eval mode)."""
    torch.manual_seed(0)
    model: Any = (
        FactorizedPrior(channels) if kind == "factorized" else MeanScaleHyperprior(channels)
    )
    _fit(model, lambda v: model(v)["bits"].mean(), channels, steps)
    model.update()
    return model


def bench_model(kind: str, channels: int, items: int, steps: int, repeats: int) -> dict[str, Any]:
    """Fit, code and time one model (``kind`` in factorized, hyperprior, piecewise)."""
    torch.manual_seed(0)
    y = latents(items, channels, seed=1)
    load_before = os.getloadavg()
    row: dict[str, Any] = {"model": kind, "channels": channels, "items": items, "fit_steps": steps}
    if kind in ("factorized", "hyperprior"):
        model = fitted_prior(kind, channels, steps)
        encode_s, stream = _best_time(lambda: model.compress(y), repeats)
        decode_s, y_hat = _best_time(lambda: model.decompress(stream), repeats)
        with torch.no_grad():
            reference = model(y)["y_hat"]
            eval_bits = float(model(y)["bits"].double().sum())
        row["round_trip_ok"] = bool(torch.allclose(y_hat, reference, atol=1e-5))
        estimate = float(model.estimate_bits(y).sum())
        row["training_model_bits_per_item"] = eval_bits / items
    elif kind == "piecewise":
        density = PiecewiseLinearDensity(channels, bins=32, context_hidden=32)
        step = 2.0 / (LEVELS - 1)
        codec = _Codec(density)
        gen = torch.Generator().manual_seed(2)

        def dither(n: int) -> torch.Tensor:
            return (torch.rand(n, channels, generator=gen) - 0.5) * step

        def quantized(v: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            k = torch.round((torch.tanh(v / 4) + u + 1.0) / step).clamp(0, LEVELS - 1).long()
            return k, torch.linspace(-1.0, 1.0, LEVELS)[k] - u

        def pl_loss(v: torch.Tensor) -> torch.Tensor:
            y_hat = quantized(v, dither(len(v)))[1]
            # As the synthetic codecs train it: the uniform mix bounds the code length.
            prob = density.interval_probability(y_hat, step)
            prob = (1.0 - UNIFORM_MIX) * prob + UNIFORM_MIX / LEVELS
            return -torch.log2(prob).sum(-1).mean()

        _fit(density, pl_loss, channels, steps)
        u = dither(items)
        k, y_hat_ref = quantized(y, u)
        symbols = k.numpy()
        encode_s, stream = _best_time(
            lambda: compress_symbols(density, symbols, u, LEVELS), repeats
        )
        decode_s, decoded = _best_time(
            lambda: decompress_symbols(density, stream, u, LEVELS), repeats
        )
        row["round_trip_ok"] = bool(np.array_equal(decoded, symbols))
        probs = symbol_probabilities(codec, u, y_hat_ref)
        estimate = float(-np.log2(np.take_along_axis(probs, symbols[..., None], -1)).sum())
    else:
        raise ValueError(f"`kind` must be factorized, hyperprior or piecewise; got {kind!r}.")
    assert isinstance(stream, ChunkedStream)
    row.update({
        "estimated_bits_per_item": estimate / items,
        "coded_bits_per_item": stream.payload_bits / items,
        "file_bits_per_item": 8 * len(stream.to_bytes()) / items,
        "coded_over_estimated": stream.payload_bits / estimate,
        "chunks": len(stream.chunks),
        "encode_items_per_s": items / encode_s,
        "decode_items_per_s": items / decode_s,
        "load_avg_before": list(load_before),
        "load_avg_after": list(os.getloadavg()),
    })  # fmt: skip
    return row


class _Codec:
    """The (density, quantizer) pair :func:`symbol_probabilities` reads."""

    def __init__(self, density: PiecewiseLinearDensity) -> None:
        self.density = density
        self.quantizer = type("Q", (), {"levels": LEVELS, "step": 2.0 / (LEVELS - 1)})()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--fit-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["factorized", "hyperprior", "piecewise"])
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "entropy_coding.json")
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for channels in args.channels:
        for kind in args.models:
            row = bench_model(kind, channels, args.items, args.fit_steps, args.repeats)
            print(json.dumps(row), flush=True)
            rows.append(row)
    meta = {
        "benchmark": "entropy_coding",
        "command": "python benchmarks/entropy_coding.py " + " ".join(argv or sys.argv[1:]),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": 1,
        "results": rows,
    }
    out = atomic_write_text(args.out, json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
