"""``rdpc compress``: code a dataset split with a trained run into one file.

Example::

    rdpc compress --run runs/banana-quick/<hash> --data banana --split test --out test.rdpcz
"""

from __future__ import annotations

import argparse
import json

from rdpc_common.cli import positive_int

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="finished run directory (the model)")
    parser.add_argument(
        "--data-dir", default=None, help="data root of image runs (default: $RDPC_DATA)"
    )
    parser.add_argument(
        "--data",
        required=True,
        help="dataset: banana (invariant runs) or the run's dataset (mnist: image, features)",
    )
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--out", required=True, help="output file")
    parser.add_argument("--items", type=positive_int, default=10_000, help="items to code")
    parser.add_argument(
        "--chunk-items",
        type=positive_int,
        default=None,
        help="items per independently decodable chunk (default: the run's)",
    )


def run(args: argparse.Namespace) -> int:
    from ..compression import compress_split

    facts = compress_split(
        args.run,
        args.data,
        args.split,
        args.out,
        items=args.items,
        chunk_items=args.chunk_items,
        data_dir=args.data_dir,
    )
    print(json.dumps(facts, indent=1))
    return 0
