"""Dataset files of the banana runs: bits per item from the file size, coded vs estimated,
encode/decode throughput on one core, and linear-probe accuracy on the decoded files.

For every finished ``invariant`` run of the presets: the train and test splits
(``--items`` each) are written with ``rdpc compress``'s function, decoded, and probed
(logistic regression and LinearSVC on the decoded codes, and on the reconstructions of VC and
VIC runs) for the rotation-invariant 4-class task (quartile of the radius). Throughputs are
the best of ``--repeats`` on one thread (load average recorded).

Usage::

    python benchmarks/dataset_files.py --runs-dir runs --presets banana-quick banana-frontier
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--presets", nargs="+", default=["banana-quick", "banana-frontier"])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "dataset_files.json")
    )
    args = parser.parse_args(argv)

    import torch

    from rdpc_neural.compression import compress_split, decompress_file
    from rdpc_neural.kinds.invariant_results import invariant_runs_table
    from rdpc_neural.probes import PROBES, linear_probe_accuracy

    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets:
            for run in invariant_runs_table(args.runs_dir, preset):
                files = {s: Path(tmp) / f"{run['hash']}-{s}.rdpcz" for s in ("train", "test")}
                enc = []
                for _ in range(args.repeats):
                    for split, path in files.items():
                        facts = compress_split(run["path"], "banana", split, path, items=args.items)
                        if split == "test":
                            enc.append(facts)
                dec = [decompress_file(files["test"], run["path"])[2] for _ in range(args.repeats)]
                row: dict[str, Any] = {
                    "preset": preset, "hash": run["hash"], "compressor": run["compressor"],
                    "invariance": run["invariance"], "beta": run["beta"], "items": args.items,
                    "file_bits_per_item": enc[0]["bits_per_item"],
                    "payload_bits_per_item": enc[0]["payload_bits_per_item"],
                    "estimated_bits_per_item": enc[0]["estimated_bits_per_item"],
                    "payload_over_estimated": enc[0]["payload_bits_per_item"]
                    / enc[0]["estimated_bits_per_item"],
                    "encode_items_per_s": max(f["encode_items_per_s"] for f in enc),
                    "decode_items_per_s": max(f["decode_items_per_s"] for f in dec),
                }  # fmt: skip
                whats = ["representation"] + (["reconstruction"] if run["compressor"] != "bince"
                                              else [])  # fmt: skip
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
    result = {
        "benchmark": "dataset_files",
        "command": "python benchmarks/dataset_files.py " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": 1,
        "cpu_count": os.cpu_count(),
        "load_avg_after": list(os.getloadavg()),
        "results": rows,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
