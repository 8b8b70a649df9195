"""Bad input to the neural commands: one line naming the option, value or file, and an exit
status by cause (2: usage error; 1: a missing or corrupt file). Table-driven: one row each."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from neural_support import data_root, micro_synthetic

from rdpc.cli import main

# (id, argv with {tmp} / {file} / {data} placeholders, exit status, text the error must contain)
CLI_CASES: list[tuple[str, list[str], int, str]] = [
    ("train-max-steps-negative", ["train", "--max-steps", "-5"], 2, "--max-steps: must be >= 1"),
    ("train-max-steps-zero", ["train", "--max-steps", "0"], 2, "--max-steps: must be >= 1"),
    ("train-max-steps-text", ["train", "--max-steps", "ten"], 2, "must be an integer; got 'ten'"),
    ("train-threads-zero", ["train", "--threads", "0"], 2, "--threads: must be >= 1; got 0"),
    ("train-unknown-key", ["train", "--set", "lamda_c=0.1"], 2, "unknown config key 'lamda_c'"),
    ("train-bad-levels", ["train", "--set", "levels=1"], 2, "`levels` must be >= 2; got 1"),
    ("train-nan-lambda", ["train", "--set", "lambda_c=NaN"], 2, "`lambda_c` must be finite"),
    ("train-bad-set-form", ["train", "--set", "lambda_c"], 2, "`--set` must look like key=value"),
    ("train-unknown-kind", ["train", "--kind", "audio"], 2, "`kind` must be one of"),
    ("train-unknown-preset", ["train", "--preset", "cpu-fig99"], 2, "`preset` must be one of"),
    ("train-kind-preset-clash", ["train", "--kind", "synthetic", "--preset", "cpu-fig9a"], 2,
     "`--kind` 'synthetic' conflicts"),
    ("train-bad-device", ["train", "--device", "tpu:x"], 2, "`--device` must be a torch device"),
    ("train-runs-dir-is-file", ["train", "--kind", "synthetic", "--runs-dir", "{file}"], 1,
     "runs folder {file} is a file"),
    ("train-no-data", ["train", "--set", "size=tiny", "--data-dir", "{tmp}/nodata",
                       "--cache-dir", "{tmp}/cache", "--runs-dir", "{tmp}/runs"], 1,
     "MNIST files not found under the data root {tmp}/nodata"),
    ("train-corrupt-mnist", ["train", "--set", "size=tiny", "--data-dir", "{tmp}/baddata",
                             "--cache-dir", "{tmp}/cache", "--runs-dir", "{tmp}/runs"], 1,
     "{tmp}/baddata/mnist/t10k-labels-idx1-ubyte.gz is corrupt"),
    ("sweep-limit-negative", ["sweep", "--preset", "cpu-fig9a", "--limit", "-1"], 2,
     "--limit: must be >= 1; got -1"),
    ("sweep-jobs-zero", ["sweep", "--preset", "cpu-fig9a", "--jobs", "0"], 2,
     "--jobs: must be >= 1; got 0"),
    ("sweep-no-preset", ["sweep"], 2, "`--preset` is required"),
    ("sweep-unknown-preset", ["sweep", "--preset", "fig9a"], 2, "`preset` must be one of"),
    ("sweep-unknown-only-key", ["sweep", "--preset", "cpu-fig9a", "--only", "rate=10",
                                "--dry-run"], 2, "unknown `--only` key 'rate'"),
    ("sweep-bad-override", ["sweep", "--preset", "cpu-fig9a", "--set", "steps=0",
                            "--dry-run"], 2, "`steps` must be >= 1; got 0"),
    ("sweep-unknown-launcher", ["sweep", "--preset", "synthetic-tiny", "--launcher", "mpi",
                                "--runs-dir", "{tmp}/runs"], 2,
     "argument --launcher: invalid choice: 'mpi'"),
    ("sweep-runs-dir-is-file", ["sweep", "--preset", "synthetic-tiny", "--runs-dir", "{file}"],
     1, "runs folder {file} is a file"),
    ("synthetic-image-preset", ["synthetic", "--preset", "cpu-fig9a"], 2,
     "not a synthetic preset"),
    ("synthetic-bad-p", ["synthetic", "--preset", "synthetic-tiny", "--set", "p=2",
                         "--dry-run"], 2, "`p` must be"),
    ("synthetic-unknown-source", ["synthetic", "--preset", "synthetic-tiny", "--set",
                                  "source=laplace", "--dry-run"], 2,
     "`source.name` must be one of"),
    ("train-foreign-param", ["train", "--kind", "synthetic", "--set", "p=0.2"], 2,
     "`--set p=0.2` applies to none of the runs"),
    ("runs-dir-is-file", ["runs", "--runs-dir", "{file}"], 1, "runs folder {file} is a file"),
    ("runs-unknown-kind", ["runs", "--runs-dir", "{tmp}", "--kind", "audio"], 2,
     "`kind` must be one of"),
    ("reproduce-jobs-zero", ["reproduce", "--profile", "tiny", "--jobs", "0"], 2,
     "--jobs: must be >= 1; got 0"),
    ("reproduce-out-is-file", ["reproduce", "--profile", "tiny", "--out", "{file}"], 2,
     "`--out` {file} is a file"),
]  # fmt: skip


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a_file").write_text("not a folder\n")
    mnist = data_root() / "mnist"
    if mnist.is_dir():
        bad = tmp_path / "baddata" / "mnist"
        shutil.copytree(mnist, bad)
        with gzip.open(bad / "t10k-labels-idx1-ubyte.gz", "rb") as f:
            head = f.read(100)
        (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(head)[:-12])  # truncated
    return {"tmp": str(tmp_path), "file": str(tmp_path / "a_file")}


@pytest.mark.parametrize(("argv", "status", "message"), [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])  # fmt: skip
def test_bad_command_line_input(places, capsys, argv, status, message) -> None:
    if "{tmp}/baddata" in " ".join(argv) and not (Path(places["tmp"]) / "baddata").exists():
        pytest.skip("MNIST test data not available")
    got = main([a.format(**places) for a in argv])
    err = capsys.readouterr().err
    assert got == status, err
    assert message.format(**places) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 12


def test_a_corrupt_checkpoint_is_named_with_the_remedy(tmp_path, capsys) -> None:
    from rdpc_neural import train_synthetic_run

    cfg = micro_synthetic(steps=20, eval_every=10)
    part = train_synthetic_run(cfg, tmp_path, "custom", max_steps_this_call=5)
    ckpt = part.path / "checkpoint.pt"
    good = ckpt.read_bytes()
    for damage in ("truncated", "garbage", "folder"):
        ckpt.write_bytes(good)
        if damage == "truncated":
            ckpt.write_bytes(good[: len(good) // 3])
        elif damage == "garbage":
            ckpt.write_bytes(b"\x00not a checkpoint" * 10)
        else:
            ckpt.unlink()
            ckpt.mkdir()
        argv = ["train", "--kind", "synthetic", "--runs-dir", str(tmp_path), "--no-progress"]
        for key, value in cfg.to_dict().items():
            if key != "source":
                argv += ["--set", f"{key}={json.dumps(value)}"]
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert str(ckpt) in err and "delete it to train the run again" in err
        assert "weights_only=False" not in err and "Traceback" not in err
        if ckpt.is_dir():
            ckpt.rmdir()


def test_a_closed_pipe_ends_the_listing_quietly(tmp_path) -> None:
    """`rdpc runs | head -1` behaves like a Unix tool: no traceback, no error message."""
    import subprocess
    import sys

    runs = tmp_path / "runs"
    shutil.copytree(Path(__file__).parent / "data" / "legacy_runs", runs)
    for i in range(400):  # enough rows that the listing outgrows the pipe's buffer
        shutil.copytree(runs / "synthetic-tiny", runs / f"copy-{i:03d}")
    cmd = f"{sys.executable} -m rdpc runs --runs-dir {runs} | head -1"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                          text=True, cwd=root, timeout=300)  # fmt: skip
    assert done.stdout.startswith("image runs (2):")
    # 141 if the pipe closed while rdpc wrote, 0 if head drained it all first: never an error.
    assert done.stderr == "" and done.returncode in (0, 141)
