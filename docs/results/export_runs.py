"""Export a finished sweep's summary as a committed JSON file (the source of a README table).

Reads the run folders only through the ``rdpc`` command line (``rdpc runs --csv`` for MNIST
presets, ``rdpc synthetic --gaps`` for synthetic ones), so the export does not depend on
``rdpc_neural`` internals; records the command, the date and the numpy/torch versions.
Checkpoints are not exported: the file holds per-run summaries only.

Usage::

    python docs/results/export_runs.py --preset cpu-fig9a --runs-dir runs \\
        --out docs/results/cpu_fig9a.json
    python docs/results/export_runs.py --preset synthetic-quick --runs-dir runs \\
        --out docs/results/synthetic_quick.json
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from rdpc_common.atomic import atomic_write_text

#: Per-run columns kept for an MNIST preset (`rdpc runs --csv`); the rest are timings.
MNIST_COLUMNS = ("hash", "status", "latent_dim", "levels", "lambda_d", "lambda_p", "lambda_c",
                 "step", "rate_bits", "coded_bits", "entropy_bits", "mse", "w1", "ce_bits",
                 "acc", "acc_heldout")  # fmt: skip


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _rdpc(*args: str) -> str:
    cmd = [sys.executable, "-m", "rdpc", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _number(text: str) -> object:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def export(preset: str, runs_dir: str) -> dict[str, object]:
    """The summary of `preset` under `runs_dir`, with provenance."""
    if preset.startswith("synthetic"):
        args = ("synthetic", "--preset", preset, "--runs-dir", runs_dir, "--gaps")
        body: dict[str, object] = {"gaps": json.loads(_rdpc(*args))}
    else:
        args = ("runs", "--preset", preset, "--runs-dir", runs_dir, "--csv", "-")
        rows = list(csv.DictReader(io.StringIO(_rdpc(*args))))
        body = {"runs": [{k: _number(r[k]) for k in MNIST_COLUMNS if k in r} for r in rows]}
    return {
        "preset": preset,
        "command": "rdpc " + " ".join(args),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "versions": {
            "python": platform.python_version(),
            "numpy": _version("numpy"),
            "torch": _version("torch"),
            "rdpc": _version("rdpc"),
        },  # fmt: skip
        **body,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, help="e.g. cpu-fig9a, synthetic-quick")
    parser.add_argument("--runs-dir", default="runs", help="root of <preset>/<hash>/ runs")
    parser.add_argument("--out", required=True, help="JSON file to write (atomically)")
    args = parser.parse_args(argv)
    data = export(args.preset, args.runs_dir)
    atomic_write_text(Path(args.out), json.dumps(data, indent=1) + "\n")
    count = len(data.get("runs", data.get("gaps", [])))  # type: ignore[arg-type]
    print(f"{args.out}: {count} rows from {args.preset}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
