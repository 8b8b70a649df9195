"""``rdpc decompress``: decode a dataset file with the run that wrote it into ``.npy`` files.

Example::

    rdpc decompress test.rdpcz --run runs/banana-quick/<hash> --out test.npy
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="dataset file written by `rdpc compress`")
    parser.add_argument("--run", required=True, help="the run directory that wrote it")
    parser.add_argument(
        "--data-dir", default=None, help="data root of image runs (default: $RDPC_DATA)"
    )
    parser.add_argument(
        "--what",
        choices=("representation", "reconstruction"),
        default="representation",
        help="codes (float32) or decoder outputs",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output .npy (default: FILE with .npy); labels go to *_labels.npy",
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from rdpc_common.atomic import atomic_write

    from ..compression import decompress_file

    array, labels, facts = decompress_file(
        args.file, args.run, what=args.what, data_dir=args.data_dir
    )
    out = Path(args.out) if args.out else Path(args.file).with_suffix(".npy")
    atomic_write(out, lambda tmp: np.save(open(tmp, "wb"), array))  # noqa: SIM115
    facts["out"] = str(out)
    if labels is not None:
        lab = out.with_name(out.stem + "_labels.npy")
        atomic_write(lab, lambda tmp: np.save(open(tmp, "wb"), labels))  # noqa: SIM115
        facts["labels"] = str(lab)
    print(json.dumps(facts, indent=1))
    return 0
