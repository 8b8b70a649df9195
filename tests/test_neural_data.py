"""Data loaders: data-root resolution, IDX reading and verification, clear errors, SVHN .mat."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from neural_support import data_root, require_mnist
from scipy.io import savemat

from rdpc_neural import data
from rdpc_neural.data import (
    DataNotFoundError,
    load_mnist,
    load_splits,
    load_svhn,
    load_svhn_mat,
    read_idx,
    resolve_data_root,
    split_train_val,
)


def test_data_root_precedence(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RDPC_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert resolve_data_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv("RDPC_DATA")
    assert resolve_data_root() == (tmp_path / "xdg" / "rdpc" / "data").resolve()
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resolve_data_root() == (Path.home() / ".cache" / "rdpc" / "data").resolve()


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    path = tmp_path / ("x.gz" if compress else "x")
    _write_idx(path, arr, compress)
    assert np.array_equal(read_idx(path), arr)
    with pytest.raises(ValueError, match="MD5 of the uncompressed data is"):
        read_idx(path, expected_md5="0" * 32)


def test_read_idx_rejects_bad_files(tmp_path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x01\x02")
    with pytest.raises(ValueError, match="header says"):
        read_idx(short)


def test_missing_mnist_names_expected_paths(tmp_path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path, download=False)
    msg = str(info.value)
    for name in data.MNIST_FILES:
        assert str(tmp_path / "mnist" / f"{name}.gz") in msg
    assert "RDPC_DATA" in msg and "Put the files here" in msg


def test_failed_download_becomes_the_clear_error(tmp_path, monkeypatch) -> None:
    import torchvision.datasets as tvd

    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise OSError("network unreachable")

    monkeypatch.setattr(tvd, "MNIST", offline)
    with pytest.raises(DataNotFoundError, match="download failed: OSError: network unreachable"):
        load_mnist(tmp_path, download=True)
    assert calls  # the download was attempted


def test_svhn_mat_loader(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 7
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9], [5], [3]], dtype=np.uint8)
    (tmp_path / "svhn").mkdir()
    for split in ("train", "test"):
        savemat(tmp_path / "svhn" / f"{split}_32x32.mat", {"X": x, "y": y})
    images, labels = load_svhn_mat(tmp_path / "svhn" / "train_32x32.mat")
    assert images.shape == (n, 3, 32, 32) and images.dtype == torch.float32
    assert labels.tolist() == [0, 1, 2, 0, 9, 5, 3]
    # pixel (row 4, col 7, channel 2) of image 3
    assert float(images[3, 2, 4, 7]) == pytest.approx(x[4, 7, 2, 3] / 255.0)
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    x_tr, s_tr, x_te, s_te = load_svhn(tmp_path, download=False)
    assert torch.equal(x_tr, x_te) and torch.equal(s_tr, s_te)
    savemat(tmp_path / "bad.mat", {"X": x[:, :, :, :3], "y": y})
    with pytest.raises(ValueError, match="32x32x3xN with N = len"):
        load_svhn_mat(tmp_path / "bad.mat")


def test_missing_svhn_names_expected_paths(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match=r"svhn/train_32x32\.mat"):
        load_svhn(tmp_path, download=False)


def test_split_is_fixed_and_disjoint() -> None:
    a_tr, a_va = split_train_val(1000, 100, seed=3)
    b_tr, b_va = split_train_val(1000, 100, seed=3)
    assert torch.equal(a_va, b_va) and torch.equal(a_tr, b_tr)
    assert len(set(a_tr.tolist()) | set(a_va.tolist())) == 1000
    assert not set(a_tr.tolist()) & set(a_va.tolist())
    with pytest.raises(ValueError, match="`val_size` must be in"):
        split_train_val(10, 10, seed=0)


def test_mnist_from_shared_data() -> None:
    root = require_mnist()
    x_tr, s_tr, x_te, s_te = load_mnist(root, download=False)  # MD5-verified
    assert x_tr.shape == (60000, 1, 28, 28) and x_te.shape == (10000, 1, 28, 28)
    assert s_tr.shape == (60000,) and s_te.dtype == torch.int64
    assert float(x_tr.min()) == 0.0 and float(x_tr.max()) == 1.0
    assert torch.bincount(s_te).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    splits = load_splits("mnist", root, val_size=5000, split_seed=0, download=False)
    assert len(splits.x_train) == 55000 and len(splits.x_val) == 5000
    assert splits.sample_shape == (1, 28, 28)


def test_env_var_data_root(monkeypatch) -> None:
    require_mnist()
    monkeypatch.setenv("RDPC_DATA", str(data_root()))
    x_tr, *_ = load_mnist(download=False, verify=False)
    assert len(x_tr) == 60000
