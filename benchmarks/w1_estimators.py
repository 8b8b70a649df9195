"""Does the exact empirical W1 of the MNIST runs measure perception? Paired vs unpaired.

Each MNIST run reports ``w1``: the exact W1 (pixel L2 cost, POT network simplex) between the
first 1,000 test images and *their own* reconstructions. The identity matching is one
transport plan, so that value is at most the mean reconstruction error and mostly tracks
distortion. This script reloads finished runs and computes, with the run's own evaluation
dither (so the paired value must reproduce the recorded ``w1``):

* ``w1_paired``   W1(test[:1000], reconstructions of test[:1000])  (what runs record)
* ``w1_unpaired`` W1(test[1000:2000], reconstructions of test[:1000])  (no shared images)
* ``w1_floor``    W1(test[:1000], test[1000:2000])  (two real samples of the same size)

If reconstructions looked like data, ``w1_unpaired`` would approach ``w1_floor`` from above;
a value *below* the floor means the estimator prefers them to real images (e.g. blurry,
central images in pixel space), so it cannot rank perception.

The same unpaired pair and floor are also computed in a feature space: the penultimate layer
of the run's *held-out* classifier (never used in training), ``w1_feat_unpaired`` and
``w1_feat_floor``. Features are a common remedy for pixel-space distances; whether they rank
the runs by lambda_p here is what the numbers show.

Usage::

    RDPC_DATA=../shared/data python benchmarks/w1_estimators.py --runs-dir runs \\
        --preset cpu-fig10 --rate 10 --lambda-c 0 0.015 --out benchmarks/results/w1_estimators.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rdpc_neural.core.runs import iter_runs
from rdpc_neural.core.seeding import torch_generator
from rdpc_neural.kinds.image import EVAL_BATCH, STREAM_EVAL, build_codec
from rdpc_neural.tasks import build_task, exact_w1

__all__ = ["main"]

N = 1000  # the runs' w1_samples


def _reconstruct(codec: Any, x: torch.Tensor, seed: int) -> torch.Tensor:
    # Same dither as the run's final evaluation: the first eval batch of the eval stream.
    assert N <= EVAL_BATCH
    g = torch_generator(seed, STREAM_EVAL, 0)
    with torch.no_grad():
        z = codec.encoder(x[:EVAL_BATCH])
        q = codec.quantizer(z, codec.quantizer.dither(z.shape, g))
        return codec.decoder(q["z_hat"])[:N]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--preset", default="cpu-fig10")
    ap.add_argument("--rate", type=float, default=10.0, help="rate_bits of the runs to read")
    ap.add_argument("--lambda-c", type=float, nargs="*", default=None,
                    help="only these lambda_c values (default: all)")  # fmt: skip
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="benchmarks/results/w1_estimators.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    recs = [r for r in iter_runs(args.runs_dir, kind="image")
            if r.preset == args.preset and r.finished and r.summary is not None
            and math.isclose(r.config.rate_bits, args.rate)
            and (args.lambda_c is None or r.config.lambda_c in args.lambda_c)]  # fmt: skip
    if not recs:
        print(f"no finished {args.preset} runs at rate {args.rate} under {args.runs_dir}",
              file=sys.stderr)  # fmt: skip
        return 2
    recs.sort(key=lambda r: (r.config.lambda_d, r.config.lambda_c, r.config.lambda_p))
    task = build_task(recs[0].config, data_dir=args.data_dir)
    x = task.splits.x_test
    floor = exact_w1(x[:N], x[N : 2 * N])
    features = task.heldout[:-1]  # all layers but the last linear one
    with torch.no_grad():
        f_real = features(x[N : 2 * N])
        feat_floor = exact_w1(features(x[:N]), f_real)
    print(f"w1_floor (real vs real, {N} each): {floor:.4f}; in held-out features {feat_floor:.4f}")
    rows = []
    for rec in recs:
        c = rec.config
        codec = build_codec(c, task)
        codec.load_state_dict(torch.load(rec.path / "checkpoint.pt", weights_only=True)["codec"])
        codec.eval()
        t0 = time.perf_counter()
        x_hat = _reconstruct(codec, x, c.seed)
        row = {
            "run": f"{rec.preset}/{rec.hash}",
            "lambda_d": c.lambda_d, "lambda_p": c.lambda_p, "lambda_c": c.lambda_c,
            "mse": float(((x_hat - x[:N]) ** 2).mean()),
            "w1_recorded": rec.summary["final"]["w1"],
            "w1_paired": exact_w1(x[:N], x_hat),
            "w1_unpaired": exact_w1(x[N : 2 * N], x_hat),
            "w1_feat_unpaired": exact_w1(f_real, features(x_hat).detach()),
            "w1_critic": rec.summary["final"].get("w1_critic"),
            "seconds": time.perf_counter() - t0,
        }  # fmt: skip
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items() if v is not None))  # fmt: skip
    out = {"w1_floor": floor, "w1_feat_floor": feat_floor, "n": N, "preset": args.preset,
           "rate_bits": args.rate, "runs": rows}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
