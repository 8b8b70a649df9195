"""Training speed of the codecs: images/s and the share of the machine's matmul FLOP rate.

For each model size (``reference`` = the published MNIST networks, ``cpu`` = the small MLP
codec of the CPU presets) and thread count, time full generator steps (encoder, dithered
quantizer, decoder, frozen classifier, loss ``lambda_d MSE + lambda_c CE``, backward, Adam)
and, with ``--critic``, steps that also train the WGAN-GP critic (``lambda_p > 0``).
FLOPs per step are counted by torch's ``FlopCounterMode`` (matmuls and convolutions,
forward + backward, including the gradient-penalty double backward); the reference rate is
a dense float32 ``torch.mm`` of 2048 x 2048 matrices on the same threads.

``--compare`` instead measures the cost per generator step of a real run of the published-size
MNIST model (Fig. 9(a) setting, ``paper-fig9a``, one thread, real MNIST batches, the preset's
learning-rate schedule, and its validation evaluation amortised over ``eval_every`` steps) with
``memory_format`` ``contiguous`` (the default) and ``channels_last`` (opt-in), alternating the
two in one process and timing CPU time (``time.process_time``), so that the ratio holds on a
busy machine. Both start from the same initialisation and see the same batches; the step-0
loss and gradient differences and the per-step losses are recorded too. The frozen
classifiers are untrained networks of the preset's architectures (training them costs
minutes and does not change the time of a step).

Usage::

    python benchmarks/train_speed.py                 # writes benchmarks/results/train_speed.json
    python benchmarks/train_speed.py --threads 1 2 --seconds 5 --out my.json
    RDPC_DATA=../shared/data python benchmarks/train_speed.py --compare
        # writes benchmarks/results/train_speed_compare.json

Timings on a shared machine are contaminated by other processes: the JSON records the
load average before and after each measurement.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rdpc_common.atomic import atomic_write_text
from rdpc_neural.core.lifecycle import RunContext
from rdpc_neural.core.registry import get_preset
from rdpc_neural.core.seeding import torch_generator
from rdpc_neural.data import TensorSplits, load_splits
from rdpc_neural.kinds.image import (
    ImageExperiment,
    build_codec,
    build_critic,
    critic_step,
    generator_step,
)
from rdpc_neural.kinds.image_config import RunConfig
from rdpc_neural.models import CLASSIFIERS, count_flops, count_parameters
from rdpc_neural.tasks import ImageClassificationTask

__all__ = ["main", "matmul_gflops", "bench_size", "compare_memory_formats", "layer_floor"]


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


def _paper_experiments(data_dir: str | None, formats: tuple[str, ...]) -> dict[str, Any]:
    """One :class:`ImageExperiment` per memory format, sharing one task (data, classifiers)."""
    presets = [c for c in get_preset("paper-fig9a").configs() if c.lambda_c > 0]
    base = presets[len(presets) // 2]  # a middle point of the Fig. 9(a) grid
    splits = load_splits("mnist", data_dir, val_size=base.val_size, split_seed=base.split_seed)
    clf = CLASSIFIERS.build(base.classifier.arch).eval().requires_grad_(False)
    held = CLASSIFIERS.build(base.heldout_classifier.arch).eval().requires_grad_(False)
    task = ImageClassificationTask(splits, clf, held)
    context = RunContext(Path("/nonexistent"), "bench")
    return {
        f: ImageExperiment(dataclasses.replace(base, memory_format=f), task, context)
        for f in formats
    }


def compare_memory_formats(
    data_dir: str | None, rounds: int, steps_per_round: int
) -> dict[str, Any]:
    """Cost per generator step (CPU seconds, evaluation amortised) of the published-size model
    with contiguous vs channels-last convolution weights, measured alternately."""
    torch.set_num_threads(1)
    names = ("contiguous", "channels_last")
    exps = _paper_experiments(data_dir, names)
    cfg = exps["channels_last"].config
    step_cpu: dict[str, list[float]] = {n: [] for n in names}
    losses: dict[str, list[float]] = {n: [] for n in names}
    done = dict.fromkeys(names, 0)
    for n in names:  # warm-up (oneDNN primitive creation), not timed; same steps for both
        losses[n].append(exps[n].train_step(done[n])["loss"])
        done[n] += 1
    # Step 0 started from the same parameters: its loss and gradient differ by rounding only
    # (channels-last BatchNorm rounds differently, see RunConfig.memory_format). Later steps
    # drift apart further: Adam turns the rounding noise of gradients that are zero in exact
    # arithmetic, e.g. of biases followed by BatchNorm, into steps of size lr.
    grads = [
        torch.cat([q.grad.flatten() for q in exps[n].codec.parameters() if q.grad is not None])
        for n in names
    ]
    grad_diff = float((grads[0] - grads[1]).norm() / grads[1].norm())
    loss0_diff = abs(losses["contiguous"][0] - losses["channels_last"][0]) / abs(
        losses["channels_last"][0]
    )
    load0 = os.getloadavg()
    for _ in range(rounds):
        for n in names:
            c0 = time.process_time()
            for _ in range(steps_per_round):
                losses[n].append(exps[n].train_step(done[n])["loss"])
                done[n] += 1
            step_cpu[n].append((time.process_time() - c0) / steps_per_round)
    eval_cpu: dict[str, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    for n in names:
        c0 = time.process_time()
        rows[n] = exps[n].evaluate(done[n], final=False)[0]
        eval_cpu[n] = time.process_time() - c0
    load1 = os.getloadavg()
    per_step = {n: min(step_cpu[n]) + eval_cpu[n] / cfg.eval_every for n in names}
    loss_diff = max(
        abs(x - y) / max(abs(y), 1e-30)
        for x, y in zip(losses["contiguous"], losses["channels_last"], strict=True)
    )
    return {
        "preset": "paper-fig9a",
        "config": cfg.to_dict(),
        "threads": 1,
        "steps_per_variant": done["channels_last"],
        "rounds": rounds,
        "steps_per_round": steps_per_round,
        "step_cpu_seconds": step_cpu,
        "val_eval_cpu_seconds": eval_cpu,
        "eval_images": cfg.eval_size,
        "eval_every": cfg.eval_every,
        "cpu_seconds_per_step_with_eval": per_step,
        "images_per_cpu_second": {n: cfg.batch_size / per_step[n] for n in names},
        "speedup": per_step["contiguous"] / per_step["channels_last"],
        "step0_relative_loss_difference": loss0_diff,
        "step0_relative_gradient_difference_l2": grad_diff,
        "losses": losses,
        "max_relative_loss_difference_over_steps": loss_diff,
        "val_rows": rows,
        "load_avg_before": list(load0),
        "load_avg_after": list(load1),
        "cpu_seconds_per_run_estimate": {n: per_step[n] * cfg.steps for n in names},
    }


def _min_cpu_seconds(fn: Any, reps: int = 5) -> float:
    fn()  # warm-up (oneDNN primitive creation)
    best = math.inf
    for _ in range(reps):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def layer_floor(step_cpu_seconds: float, batch: int = 128) -> dict[str, Any]:
    """How much faster a generator step of the published-size MNIST model could get.

    Times, on one thread, forward + backward of each transposed convolution of the decoder
    (``mnist-reference``) at the batch's shapes: torch's layer in the contiguous and the
    channels-last layout, and the layer's three products written as dense matrix products
    (forward ``(B h w, c_in) x (c_in, c_out k^2)``, and the two gradient products of the same
    size; the scatter of the k^2 shifted outputs is left out, so this is a lower bound on any
    im2col-style implementation). With ``step`` the measured CPU time of a step
    (``--compare``), the best speedup if every transposed convolution ran at its fastest
    measured variant and nothing else changed is ``step / (step - sum(torch) + sum(best))``;
    if, in addition, everything else in the step cost nothing, ``step / sum(best)``.
    """
    torch.set_num_threads(1)
    from rdpc_neural.models import DECODERS

    decoder = DECODERS.build("mnist-reference", latent_dim=4)
    shapes: list[tuple[torch.nn.ConvTranspose2d, tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda mod, inp, out: shapes.append((mod, tuple(inp[0].shape))))
        for m in decoder.modules()
        if isinstance(m, torch.nn.ConvTranspose2d)
    ]
    decoder(torch.zeros(batch, 4))
    for h in hooks:
        h.remove()
    rows = []
    for mod, shape in shapes:
        b, cin, h, w = shape
        cout, (k, _) = mod.out_channels, mod.kernel_size
        macs = b * h * w * cin * cout * k * k
        x = torch.randn(shape, requires_grad=True)

        def fwd_bwd(m: torch.nn.Module, x: torch.Tensor) -> Any:
            def run() -> None:
                m(x).sum().backward()

            return run

        xl = x.detach().to(memory_format=torch.channels_last).requires_grad_(True)
        ml = copy.deepcopy(mod).to(memory_format=torch.channels_last)
        cols = torch.randn(b * h * w, cin)
        wmat = torch.randn(cin, cout * k * k)
        grad = torch.randn(b * h * w, cout * k * k)

        def gemms(
            cols: torch.Tensor = cols, wmat: torch.Tensor = wmat, grad: torch.Tensor = grad
        ) -> None:
            cols @ wmat  # forward
            grad @ wmat.T  # gradient of the input
            cols.T @ grad  # gradient of the weight

        t = {
            "contiguous": _min_cpu_seconds(fwd_bwd(mod, x)),
            "channels_last": _min_cpu_seconds(fwd_bwd(ml, xl)),
            "dense_gemms": _min_cpu_seconds(gemms),
        }
        rows.append({
            "layer": f"ConvTranspose2d({cin}, {cout}, k={k}, stride={mod.stride[0]}) "
                     f"{h}x{w} -> {h * mod.stride[0] + k - mod.stride[0]}",
            "gflop_fwd_bwd": 6 * macs / 1e9,
            "cpu_seconds": t,
            "gflops": {n: 6 * macs / 1e9 / v for n, v in t.items()},
        })  # fmt: skip
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    mm = 2 * 2048**3 / _min_cpu_seconds(lambda: a @ b) / 1e9
    step = step_cpu_seconds
    torch_conv = sum(row["cpu_seconds"]["contiguous"] for row in rows)
    best_conv = sum(min(row["cpu_seconds"].values()) for row in rows)
    return {
        "batch": batch,
        "threads": 1,
        "matmul_gflops_cpu_time": mm,
        "layers": rows,
        "step_cpu_seconds_contiguous": step,
        "transposed_conv_cpu_seconds": torch_conv,
        "max_speedup_conv_only": step / (step - torch_conv + best_conv),
        "max_speedup_rest_free": step / best_conv,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["reference", "cpu"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, os.cpu_count() or 1])
    p.add_argument("--seconds", type=float, default=5.0, help="timing window per measurement")
    p.add_argument("--critic", action="store_true", help="also time steps with a critic")
    p.add_argument(
        "--compare",
        action="store_true",
        help="time a real published-size run, old vs current memory format (see the docstring)",
    )
    p.add_argument("--rounds", type=int, default=4, help="--compare: alternations")
    p.add_argument("--steps-per-round", type=int, default=3, help="--compare: steps per turn")
    p.add_argument(
        "--out",
        default=None,
        help="JSON output (default: benchmarks/results/train_speed.json, or "
        "train_speed_compare.json with --compare)",
    )
    args = p.parse_args(argv)
    results = Path(__file__).resolve().parent / "results"
    default = "train_speed_compare.json" if args.compare else "train_speed.json"
    out = Path(args.out) if args.out else results / default
    if args.compare:
        r = compare_memory_formats(os.environ.get("RDPC_DATA"), args.rounds, args.steps_per_round)
        step = min(r["step_cpu_seconds"]["contiguous"])
        r["layer_floor"] = floor = layer_floor(step, r["config"]["batch_size"])
        print(
            f"transposed convolutions: {floor['transposed_conv_cpu_seconds']:.3f} of "
            f"{step:.3f} CPU s per step; at their "
            f"fastest measured variant the step is at most {floor['max_speedup_conv_only']:.2f}x "
            f"faster ({floor['max_speedup_rest_free']:.2f}x if all else were free)",
            flush=True,
        )
        per = r["cpu_seconds_per_step_with_eval"]
        print(
            f"published-size MNIST, 1 thread, CPU s per generator step incl. evaluation: "
            f"contiguous {per['contiguous']:.3f}, channels-last {per['channels_last']:.3f} "
            f"-> {r['speedup']:.2f}x; step 0 relative differences: loss "
            f"{r['step0_relative_loss_difference']:.1e}, gradient "
            f"{r['step0_relative_gradient_difference_l2']:.1e}",
            flush=True,
        )
        _write(out, {"benchmark": "train_speed --compare", **_meta(), "result": r})
        return 0
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
    _write(out, {"benchmark": "train_speed", **_meta(), "results": rows})
    return 0


def _meta() -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpu": torch.cuda.is_available(),
    }


def _write(out: Path, data: dict[str, Any]) -> None:
    atomic_write_text(out, json.dumps(data, indent=2, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
