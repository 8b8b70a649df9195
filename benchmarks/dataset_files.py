"""Dataset files: whole-file size vs the coding model's estimate, encode/decode throughput on
one core, and linear-probe accuracy on decoded files.

Two parts, both through the functions behind ``rdpc compress`` / ``rdpc decompress``
(:func:`~rdpc_neural.compression.compress_items`, :func:`~rdpc_neural.compression.
decompress_items`):

* **MNIST-sized latents** (no run needed): a factorized prior and a mean-scale hyperprior
  over ``--channels`` dims, fitted briefly to the synthetic latents of
  ``benchmarks/entropy_coding.py``, code ``--latent-items`` held-out items with 10-class
  labels.
  The inputs are the latents themselves, so no encoder network runs; the hyperprior's
  ``h_a``/``h_s`` networks are part of its entropy model and are timed.
* **RDPC MNIST codecs** (``--image-runs``): the run's test split at each
  ``--latent-items``, encoder network included in the encode time.
* **Trained runs** (``invariant`` runs of ``--presets`` under ``--runs-dir``): the banana
  test split at each ``--items`` (chunks of ``--chunk-items``, and in one chunk), encoder
  network included in the encode time; probes
  (logistic regression and LinearSVC on the decoded codes and reconstructions, rotation-
  invariant 4-class task) on train/test files of the largest item count.

Per file: ``file_over_estimated`` = 8 x (header + chunks) bytes / the coding model's
``sum -log2 p`` of the coded symbols (labels section reported on its own, ``label_bytes``);
throughputs are the best of ``--repeats`` on one thread: encode = (encoder) + quantization +
entropy coding + writing the file, decode = reading and verifying the file + entropy
decoding + the representation (no decoder network). The load average is recorded.

Usage::

    python benchmarks/dataset_files.py --runs-dir runs --presets banana-quick
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json

_KEEP = ("items", "symbols_per_item", "chunk_items", "chunks", "file_bytes", "header_bytes",
         "label_bytes", "bits_per_item", "payload_bits_per_item", "estimated_bits_per_item",
         "file_over_estimated", "label_bits_per_item")  # fmt: skip


def _measure(
    codec: Any, x: Any, labels: Any, path: Path, chunk: int, repeats: int
) -> dict[str, Any]:
    from rdpc_neural.compression import compress_items, decompress_items

    enc = [compress_items(codec, x, labels, path, chunk_items=chunk) for _ in range(repeats)]
    dec = [decompress_items(codec, path)[2] for _ in range(repeats)]
    row = {k: enc[0][k] for k in _KEEP}
    row["encode_items_per_s"] = max(f["encode_items_per_s"] for f in enc)
    row["coding_items_per_s"] = max(f["coding_items_per_s"] for f in enc)
    row["decode_items_per_s"] = max(f["decode_items_per_s"] for f in dec)
    row["load_avg_after"] = os.getloadavg()[0]
    return row


def latent_rows(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Rows of the MNIST-sized latent models (module notes)."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from entropy_coding import fitted_prior, latents

    from rdpc_neural.compression import latent_codec

    rows = []
    for channels in args.channels:
        for kind in ("factorized", "hyperprior"):
            model = fitted_prior(kind, channels, args.fit_steps)
            codec = latent_codec(model, f"{kind}-{channels}")
            for items in args.latent_items:
                y = latents(items, channels, seed=1).numpy()
                labels = np.random.default_rng(2).integers(0, 10, items)
                row = {"model": kind, "channels": channels, "fit_steps": args.fit_steps}
                row.update(_measure(codec, y, labels, tmp / "latents.rdpcz", args.chunk_items,
                                    args.repeats))  # fmt: skip
                print(row, flush=True)
                rows.append(row)
    return rows


def run_rows(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Rows of the trained ``invariant`` runs (module notes)."""
    from rdpc_neural.compression import decompress_file, load_split, open_codec
    from rdpc_neural.kinds.invariant_results import invariant_runs_table
    from rdpc_neural.probes import PROBES, linear_probe_accuracy

    rows = []
    for preset in args.presets:
        for run in invariant_runs_table(args.runs_dir, preset):
            codec = open_codec(run["path"])
            sizes = [(n, args.chunk_items) for n in args.items]
            sizes += [(n, n) for n in args.items if n > args.chunk_items]  # one chunk
            for items, chunk in sizes:
                files = {s: tmp / f"{run['hash']}-{s}.rdpcz" for s in ("train", "test")}
                x, labels = load_split(codec, "banana", "test", items)
                row: dict[str, Any] = {
                    "preset": preset, "hash": run["hash"], "compressor": run["compressor"],
                    "invariance": run["invariance"], "beta": run["beta"],
                }  # fmt: skip
                row.update(_measure(codec, x, labels, files["test"], chunk, args.repeats))
                if (items, chunk) == (max(args.items), args.chunk_items):
                    xt, lt = load_split(codec, "banana", "train", items)
                    _measure(codec, xt, lt, files["train"], args.chunk_items, 1)
                    whats = ["representation"]
                    if run["compressor"] != "bince":
                        whats.append("reconstruction")
                    for what in whats:
                        tr_x, tr_y, _ = decompress_file(files["train"], run["path"], what=what)
                        te_x, te_y, _ = decompress_file(files["test"], run["path"], what=what)
                        assert tr_y is not None and te_y is not None  # written with labels
                        for probe in PROBES:
                            row[f"{probe}_{what}_accuracy"] = linear_probe_accuracy(
                                tr_x, tr_y, te_x, te_y, probe
                            )
                print(row, flush=True)
                rows.append(row)
    return rows


def image_rows(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Rows of finished ``image`` runs (RDPC MNIST codecs): their dithered symbols coded with
    their refit categorical model, encoder network included in the encode time."""
    from rdpc_neural.compression import load_split, open_codec

    rows = []
    for run in args.image_runs:
        codec = open_codec(run, args.data_dir)
        for items in args.latent_items:
            x, labels = load_split(codec, codec.config.dataset, "test", items)
            row: dict[str, Any] = {
                "model": "image", "run": Path(run).name, "channels": codec.config.latent_dim,
                "levels": codec.config.levels,
            }  # fmt: skip
            row.update(_measure(codec, x, labels, tmp / "image.rdpcz", args.chunk_items,
                                args.repeats))  # fmt: skip
            print(row, flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--presets", nargs="*", default=["banana-quick"])
    parser.add_argument("--items", type=int, nargs="+", default=[1_000, 10_000, 20_000])
    parser.add_argument("--latent-items", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--channels", type=int, nargs="*", default=[32, 64, 128])
    parser.add_argument("--fit-steps", type=int, default=300)
    parser.add_argument("--chunk-items", type=int, default=4096)
    parser.add_argument("--image-runs", nargs="*", default=[], help="finished image run dirs")
    parser.add_argument("--data-dir", default=None, help="MNIST root of the image runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "dataset_files.json")
    )
    args = parser.parse_args(argv)

    import torch

    from rdpc_neural.datafile import FORMAT_VERSION

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        latents = latent_rows(args, Path(tmp)) + image_rows(args, Path(tmp))
        runs = run_rows(args, Path(tmp))
    result = {
        "benchmark": "dataset_files",
        "command": "python benchmarks/dataset_files.py " + " ".join(argv or sys.argv[1:]),
        "format_version": FORMAT_VERSION,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": 1,
        "cpu_count": os.cpu_count(),
        "load_avg_after": list(os.getloadavg()),
        "latents": latents,
        "results": runs,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
