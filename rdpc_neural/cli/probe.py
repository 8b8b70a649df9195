"""``rdpc probe``: linear probes (logistic regression, LinearSVC) on decompressed files.

Example::

    rdpc probe --run RUN_DIR --train train.rdpcz --test test.rdpcz
"""

from __future__ import annotations

import argparse
import json

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="the run directory that wrote the files")
    parser.add_argument(
        "--data-dir", default=None, help="data root of image runs (default: $RDPC_DATA)"
    )
    parser.add_argument("--train", required=True, help="dataset file of the training split")
    parser.add_argument("--test", required=True, help="dataset file of the test split")
    parser.add_argument(
        "--what", choices=("representation", "reconstruction"), default="representation"
    )
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularization")
    parser.add_argument("--json", default=None, help="also write the result here")


def run(args: argparse.Namespace) -> int:
    from rdpc_common.atomic import atomic_write_json
    from rdpc_common.cli import CliError

    from ..compression import decompress_file
    from ..probes import PROBES, linear_probe_accuracy

    train_x, train_y, _ = decompress_file(
        args.train, args.run, what=args.what, data_dir=args.data_dir
    )
    test_x, test_y, facts = decompress_file(
        args.test, args.run, what=args.what, data_dir=args.data_dir
    )
    if train_y is None or test_y is None:
        raise CliError("rdpc probe: error: both files must hold labels")
    result = {
        "run": args.run,
        "what": args.what,
        "test_bits_per_item": facts["bits_per_item"],
        "train_items": len(train_x),
        "test_items": len(test_x),
    }
    for probe in PROBES:
        result[f"{probe}_accuracy"] = linear_probe_accuracy(
            train_x, train_y, test_x, test_y, probe, C=args.C
        )
    print(json.dumps(result, indent=1))
    if args.json:
        atomic_write_json(args.json, result)
    return 0
