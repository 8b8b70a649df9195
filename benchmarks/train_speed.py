"""Training speed of the codecs: images/s and the share of the machine's matmul FLOP rate.

For each model size (``reference`` = the published MNIST networks, ``cpu`` = the small MLP
codec of the CPU presets) and thread count, time full generator steps (encoder, dithered
quantizer, decoder, frozen classifier, loss ``lambda_d MSE + lambda_c CE``, backward, Adam)
and, with ``--critic``, steps that also train the WGAN-GP critic (``lambda_p > 0``).
FLOPs per step are counted by torch's ``FlopCounterMode`` (matmuls and convolutions,
forward + backward, including the gradient-penalty double backward); the reference rate is
a dense float32 ``torch.mm`` of 2048 x 2048 matrices on the same threads.

Usage::

    python benchmarks/train_speed.py                 # writes benchmarks/results/train_speed.json
    python benchmarks/train_speed.py --threads 1 2 --seconds 5 --out my.json

Timings on a shared machine are contaminated by other processes: the JSON records the
load average before and after each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rdpc_neural.core.seeding import torch_generator
from rdpc_neural.data import TensorSplits
from rdpc_neural.kinds.image import build_codec, build_critic, critic_step, generator_step
from rdpc_neural.kinds.image_config import RunConfig
from rdpc_neural.models import CLASSIFIERS, count_flops, count_parameters
from rdpc_neural.tasks import ImageClassificationTask

__all__ = ["main", "matmul_gflops", "bench_size"]


def matmul_gflops(n: int = 2048, seconds: float = 2.0) -> float:
    """Dense float32 matmul rate (GFLOP/s, 2 n^3 per product) on the current threads."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def _fake_task(config: RunConfig, n: int = 4096) -> ImageClassificationTask:
    g = torch.Generator().manual_seed(0)
    shape = (1, 28, 28) if config.dataset == "mnist" else (3, 32, 32)
    x = torch.rand((n, *shape), generator=g)
    s = torch.randint(0, 10, (n,), generator=g)
    splits = TensorSplits(config.dataset, x, s, x[:256], s[:256], x[:256], s[:256])
    clf = CLASSIFIERS.build(config.classifier.arch).eval().requires_grad_(False)
    held = CLASSIFIERS.build(config.heldout_classifier.arch).eval().requires_grad_(False)
    return ImageClassificationTask(splits, clf, held)


def bench_size(size: str, batch: int, threads: int, seconds: float, critic: bool) -> dict[str, Any]:
    """Images/s and FLOP rate of training steps for one model size."""
    torch.set_num_threads(threads)
    cfg = RunConfig(size=size, latent_dim=5, levels=4, lambda_c=0.01, batch_size=batch,
                    lambda_p=0.01 if critic else 0.0)  # fmt: skip
    task = _fake_task(cfg)
    codec = build_codec(cfg, task).train()
    crit = build_critic(cfg, task)
    opt_g = torch.optim.Adam(codec.parameters(), lr=1e-3, fused=True)
    opt_c = torch.optim.Adam(crit.parameters(), lr=1e-4, fused=True) if crit is not None else None
    idx = torch.arange(batch)

    def step(i: int) -> None:
        if crit is not None and opt_c is not None:
            critic_step(codec, crit, opt_c, task, cfg, torch_generator(0, 3, i))
        generator_step(codec, crit, opt_g, task, cfg, idx, torch_generator(0, 2, i))

    # FLOPs of one step: count a forward+backward of each part as the loop runs it.
    def counted() -> torch.Tensor:
        step(0)
        return torch.zeros((), requires_grad=True)

    flops = count_flops(counted, backward=False)
    for i in range(3):  # warm-up
        step(i)
    load0 = os.getloadavg()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step(n)
        n += 1
    dt = time.perf_counter() - t0
    mm = matmul_gflops()
    achieved = flops * n / dt / 1e9
    return {
        "size": size,
        "critic": critic,
        "batch": batch,
        "threads": threads,
        "steps": n,
        "images_per_s": batch * n / dt,
        "steps_per_s": n / dt,
        "gflop_per_step": flops / 1e9,
        "achieved_gflops": achieved,
        "matmul_gflops": mm,
        "fraction_of_matmul": achieved / mm,
        "params_codec": count_parameters(codec),
        "params_critic": count_parameters(crit) if crit is not None else 0,
        "load_avg_before": list(load0),
        "load_avg_after": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["reference", "cpu"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, os.cpu_count() or 1])
    p.add_argument("--seconds", type=float, default=5.0, help="timing window per measurement")
    p.add_argument("--critic", action="store_true", help="also time steps with a critic")
    p.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "train_speed.json")
    )
    args = p.parse_args(argv)
    batches = {"reference": 128, "cpu": 256, "tiny": 64}
    rows = []
    for size in args.sizes:
        for threads in sorted(set(args.threads)):
            for critic in (False, True) if args.critic else (False,):
                r = bench_size(size, batches[size], threads, args.seconds, critic)
                rows.append(r)
                print(
                    f"{size:9s} critic={critic!s:5s} threads={threads} batch={r['batch']:3d}: "
                    f"{r['images_per_s']:8.0f} img/s  {r['gflop_per_step']:.3f} GFLOP/step  "
                    f"{r['achieved_gflops']:6.1f} GFLOP/s = {100 * r['fraction_of_matmul']:.1f}% "
                    f"of matmul ({r['matmul_gflops']:.0f} GFLOP/s)",
                    flush=True,
                )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "benchmark": "train_speed",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "results": rows,
    }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
