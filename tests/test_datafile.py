"""Dataset files: round trip, corrupted/truncated/mismatched files, linear probes, CLI."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from rdpc.cli import main
from rdpc_common.errors import FileProblem
from rdpc_neural.kinds.invariant_config import InvariantConfig

TINY = {"steps": 20, "eval_every": 10, "batch_size": 128, "hidden": 16, "val_items": 256,
        "test_items": 512, "fit_items": 512, "chunk_items": 300}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from rdpc_neural.kinds.invariant import train_invariant_run

    root = tmp_path_factory.mktemp("datafile_runs")
    return {
        c: train_invariant_run(InvariantConfig(compressor=c, seed=s, **TINY), root, "t").path
        for c, s in (("vc", 0), ("vic", 1))
    }


@pytest.fixture(scope="module")
def coded(runs, tmp_path_factory):
    from rdpc_neural.compression import compress_split

    out = tmp_path_factory.mktemp("files") / "test.rdpcz"
    facts = compress_split(runs["vc"], "banana", "test", out, items=1000)
    return out, facts


def test_round_trip_gives_the_encoders_codes_and_labels(runs, coded) -> None:
    from rdpc_neural.banana import invariant_classes
    from rdpc_neural.compression import decompress_file, load_split, open_codec
    from rdpc_neural.kinds.invariant import load_compressor

    path, facts = coded
    rep, labels, dec = decompress_file(path, runs["vc"])
    # Independent path: the trained model's encoder and rounding, no file involved.
    _, model = load_compressor(runs["vc"])
    x, _ = load_split(open_codec(runs["vc"]), "banana", "test", 1000)
    with torch.no_grad():
        expected = torch.round(model.encode(torch.from_numpy(x.astype(np.float32)))).numpy()
    np.testing.assert_array_equal(rep, expected)
    np.testing.assert_array_equal(labels, invariant_classes(x, "rotation"))
    rec, _, _ = decompress_file(path, runs["vc"], what="reconstruction")
    with torch.no_grad():
        np.testing.assert_allclose(rec, model.decode(torch.from_numpy(expected)).numpy())
    # 4 chunks of <= 300 items; bits per item from the file size (labels section excluded).
    assert facts["items"] == dec["items"] == 1000 and facts["chunks"] == 4
    size = path.stat().st_size
    assert facts["bits_per_item"] == pytest.approx((size - facts["label_bytes"]) * 8 / 1000)
    assert facts["payload_bits_per_item"] <= facts["bits_per_item"]
    # Header: 13 fixed bytes, 5 small varints, 4 chunk sizes, 5 CRC-32s.
    assert facts["header_bytes"] <= 13 + 5 * 3 + 4 * 2 + 5 * 4
    # Labels (4 classes) entropy-coded: at most 2 bits each plus the counts and a tail.
    assert facts["label_bytes"] <= 1000 * 2 / 8 + 32


def _damaged(path, tmp_path, name, edit):
    from rdpc_neural.datafile import read_data_file

    data = bytearray(path.read_bytes())
    out = tmp_path / name
    out.write_bytes(bytes(edit(data, read_data_file(path))))
    return out


def _flip(where):
    """Flip the byte at `where(data, intact DataFile)`."""

    def edit(data, f):
        data[where(data, f)] ^= 0xFF
        return data

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("magic", _flip(lambda d, f: 0), "not an rdpc dataset file: expected the magic"),
        (
            "version",
            lambda d, f: d[:4] + bytes([7]) + d[5:],
            "format version 7 .byte 4.; this rdpc reads version 2",
        ),
        (
            "version-1",
            lambda d, f: b"RDPCDATA" + struct.pack("<HI", 1, 300) + d[5:],
            "format version 1; this rdpc reads version 2",
        ),
        ("header", _flip(lambda d, f: 16), "header checksum mismatch .bytes 0-"),
        (
            "chunk",
            _flip(lambda d, f: f.chunk_offsets[0] + 9),
            r"chunk 0 of 4 \(bytes \d+-\d+\)|chunk 0 \(from byte",
        ),
        (
            "last-chunk",
            _flip(lambda d, f: f.chunk_offsets[3] + 5),
            "chunk 3 of 4|chunk 3 .from byte",
        ),
        ("labels", _flip(lambda d, f: len(d) - 5), r"labels \(bytes \d+-\d+\)"),
        ("truncated", lambda d, f: d[: len(d) - 300], "is truncated: expected"),
        ("trailing", lambda d, f: d + b"x", "longer than its header says"),
        ("truncated-header", lambda d, f: d[:12], "truncated in its header: expected the model id"),
    ],
)
def test_corrupted_files_give_one_clear_error(runs, coded, tmp_path, name, edit, message) -> None:
    from rdpc_neural.compression import decompress_file

    bad = _damaged(coded[0], tmp_path, f"{name}.rdpcz", edit)
    with pytest.raises(FileProblem, match=message) as info:
        decompress_file(bad, runs["vc"])
    assert str(bad) in str(info.value)


def test_another_models_file_is_refused(runs, coded, capsys) -> None:
    from rdpc_neural.compression import decompress_file

    with pytest.raises(FileProblem, match="written by another model: expected model id"):
        decompress_file(coded[0], runs["vic"])
    # The command line: one line naming the file, exit status 1.
    status = main(["decompress", str(coded[0]), "--run", str(runs["vic"])])
    err = capsys.readouterr().err.strip()
    assert status == 1 and str(coded[0]) in err and len(err.splitlines()) == 1


def test_probe_accuracy_on_separable_and_on_random_labels() -> None:
    from rdpc_neural.probes import PROBES, linear_probe_accuracy

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    noise = rng.integers(0, 2, 400)
    for probe in PROBES:
        assert linear_probe_accuracy(x[:200], y[:200], x[200:], y[200:], probe) >= 0.97
        chance = linear_probe_accuracy(x[:200], noise[:200], x[200:], noise[200:], probe)
        assert 0.35 <= chance <= 0.65
    with pytest.raises(ValueError, match="`probe` must be one of"):
        linear_probe_accuracy(x, y, x, y, "mlp")


def test_cli_compress_probe_round_trip(runs, tmp_path, capsys) -> None:
    import json

    files = {}
    for split in ("train", "test"):
        files[split] = tmp_path / f"{split}.rdpcz"
        assert main(["compress", "--run", str(runs["vic"]), "--data", "banana", "--split", split,
                     "--items", "400", "--out", str(files[split])]) == 0  # fmt: skip
    capsys.readouterr()
    out = tmp_path / "probe.json"
    assert main(["probe", "--run", str(runs["vic"]), "--train", str(files["train"]),
                 "--test", str(files["test"]), "--json", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert 0.0 <= result["logistic_accuracy"] <= 1.0 and result["test_items"] == 400
    assert main(["decompress", str(files["test"]), "--run", str(runs["vic"]),
                 "--out", str(tmp_path / "rep.npy")]) == 0  # fmt: skip
    assert np.load(tmp_path / "rep.npy").shape == (400, 2)
    assert np.load(tmp_path / "rep_labels.npy").shape == (400,)
