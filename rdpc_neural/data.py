"""Datasets held in memory as tensors: MNIST (IDX files) and SVHN (``.mat`` files).

The data root is resolved by :func:`resolve_data_root` (argument > ``$RDPC_DATA`` >
``~/.cache/rdpc/data``). Expected layout::

    <root>/mnist/train-images-idx3-ubyte.gz   (or uncompressed, or <root>/MNIST/raw/...)
    <root>/mnist/train-labels-idx1-ubyte.gz
    <root>/mnist/t10k-images-idx3-ubyte.gz
    <root>/mnist/t10k-labels-idx1-ubyte.gz
    <root>/svhn/train_32x32.mat, <root>/svhn/test_32x32.mat

MNIST files are verified against the published MD5 sums of the uncompressed files. When
files are missing, a torchvision download into the data root is attempted (if allowed);
when that fails too, :class:`DataNotFoundError` names every expected path.

All images are float32 tensors of shape ``(N, C, H, W)`` with pixels in [0, 1]; labels are
int64 tensors of shape ``(N,)``. A fixed, seeded validation split is carved from the
training set (:func:`split_train_val`); the test set is used only for final evaluation.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rdpc_common.errors import FileProblem

__all__ = [
    "DataNotFoundError",
    "TensorSplits",
    "resolve_data_root",
    "read_idx",
    "load_mnist",
    "load_svhn",
    "load_svhn_mat",
    "split_train_val",
    "load_splits",
    "MNIST_FILES",
    "MNIST_MD5",
]

# File name -> MD5 of the *uncompressed* official file (published with MNIST; also in
# /work/shared/data/mnist/MD5SUMS.uncompressed).
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MNIST_FILES: tuple[str, ...] = tuple(MNIST_MD5)
SVHN_FILES: tuple[str, ...] = ("train_32x32.mat", "test_32x32.mat")


class DataNotFoundError(FileNotFoundError):
    """The dataset files are not in the data root (and could not be downloaded)."""


def resolve_data_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data root: `data_dir` if given, else ``$RDPC_DATA``, else ``~/.cache/rdpc/data``.

    Relative paths are taken relative to the current directory (CI runs from the project
    root with ``RDPC_DATA=../shared/data``).
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser().resolve()
    env = os.environ.get("RDPC_DATA", "")
    if env:
        return Path(env).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME", "") or "~/.cache"
    return (Path(cache).expanduser() / "rdpc" / "data").resolve()


@dataclass(frozen=True)
class TensorSplits:
    """Train / validation / test tensors of one dataset (inputs ``x_*``, labels ``s_*``).

    The training loop only needs this container, so synthetic sources (i.i.d. vectors X with
    a label S) plug in by building one directly.
    """

    name: str
    x_train: torch.Tensor
    s_train: torch.Tensor
    x_val: torch.Tensor
    s_val: torch.Tensor
    x_test: torch.Tensor
    s_test: torch.Tensor

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. ``(1, 28, 28)``."""
        return tuple(self.x_train.shape[1:])


def read_idx(path: str | os.PathLike[str], *, expected_md5: str | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if the name ends in ``.gz``) as a uint8 array.

    Format: big-endian ``0x0000 <dtype=0x08> <ndim>`` magic, ``ndim`` uint32 sizes, then
    the data. Only unsigned-byte data (type code 0x08) is supported (all MNIST files).
    If `expected_md5` is given, the MD5 of the uncompressed bytes must match.
    """
    path = Path(path)
    remedy = (
        "delete it and run again to download a fresh copy (where the network allows), or put a "
        "good copy of the official file there"
    )
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FileProblem(
            f"{path} is corrupt ({type(exc).__name__}: {exc or 'truncated'}); {remedy}."
        ) from exc
    if expected_md5 is not None:
        got = hashlib.md5(raw).hexdigest()
        if got != expected_md5:
            raise FileProblem(
                f"{path}: MD5 of the uncompressed data is {got}, expected {expected_md5} "
                f"(corrupt or not the official file); {remedy}."
            )
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise FileProblem(f"{path}: not an unsigned-byte IDX file (bad magic {raw[:4]!r}).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(dims)):
        raise FileProblem(
            f"{path}: header says {dims} ({np.prod(dims)} bytes), found {data.size}; {remedy}."
        )
    return data.reshape(dims)


def _mnist_candidates(root: Path, name: str) -> list[Path]:
    out = []
    for folder in (root / "mnist", root / "MNIST" / "raw", root):
        out += [folder / f"{name}.gz", folder / name]
    return out


def _find_mnist(root: Path) -> dict[str, Path] | None:
    found: dict[str, Path] = {}
    for name in MNIST_FILES:
        hit = next((p for p in _mnist_candidates(root, name) if p.is_file()), None)
        if hit is None:
            return None
        found[name] = hit
    return found


def _missing_message(dataset: str, root: Path, expected: list[Path], reason: str) -> str:
    lines = "\n  ".join(str(p) for p in expected)
    return (
        f"{dataset} files not found under the data root {root} ({reason}).\n"
        f"Put the files here:\n  {lines}\n"
        "or point --data-dir / the RDPC_DATA environment variable at a folder that has them."
    )


def _try_torchvision_download(dataset: str, root: Path) -> str | None:
    """Attempt a torchvision download into `root`; return an error text, None on success.

    A failed download leaves no empty folders behind (torchvision creates ``MNIST/raw``
    before it fetches anything)."""
    existed = {p for p in (root, root / "MNIST", root / "MNIST" / "raw", root / "svhn")
               if p.exists()}  # fmt: skip
    try:
        import torchvision.datasets as tvd

        if dataset == "mnist":
            tvd.MNIST(str(root), train=True, download=True)
            tvd.MNIST(str(root), train=False, download=True)
        else:
            for split in ("train", "test"):
                tvd.SVHN(str(root / "svhn"), split=split, download=True)
    except Exception as exc:  # no network, mirror down, permission, ...
        for folder in (root / "MNIST" / "raw", root / "MNIST", root / "svhn", root):
            if folder not in existed and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"download failed: {type(exc).__name__}: {first}"
    return None


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = True, verify: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Load MNIST as ``(x_train, s_train, x_test, s_test)``; images ``(N, 1, 28, 28)`` in [0, 1].

    Parameters
    ----------
    data_dir : path, optional
        Data root (see :func:`resolve_data_root`).
    download : bool
        If the files are missing, try a torchvision download into the root first.
    verify : bool
        Check the published MD5 of every (uncompressed) file.

    Raises
    ------
    DataNotFoundError
        Files missing (and not downloadable); the message lists the expected paths.
    """
    root = resolve_data_root(data_dir)
    found = _find_mnist(root)
    reason = "missing"
    if found is None and download:
        err = _try_torchvision_download("mnist", root)
        found = _find_mnist(root)
        if found is None:
            reason = err or "download gave no files"
    if found is None:
        expected = [root / "mnist" / f"{n}.gz" for n in MNIST_FILES]
        raise DataNotFoundError(_missing_message("MNIST", root, expected, reason))
    arrays = {
        name: read_idx(path, expected_md5=MNIST_MD5[name] if verify else None)
        for name, path in found.items()
    }

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    return (
        images(arrays["train-images-idx3-ubyte"]),
        labels(arrays["train-labels-idx1-ubyte"]),
        images(arrays["t10k-images-idx3-ubyte"]),
        labels(arrays["t10k-labels-idx1-ubyte"]),
    )


def load_svhn_mat(path: str | os.PathLike[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one SVHN ``.mat`` file: images ``(N, 3, 32, 32)`` in [0, 1], labels 0..9.

    The file holds ``X`` of shape 32 x 32 x 3 x N (uint8) and ``y`` of shape N x 1 with
    label 10 meaning digit 0.
    """
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except (ValueError, TypeError, OSError) as exc:  # scipy's MatReadError is a ValueError
        if isinstance(exc, FileNotFoundError):
            raise
        raise FileProblem(
            f"{path} is corrupt or not a MATLAB file ({type(exc).__name__}: {exc}); delete it "
            "and put a good copy of the official SVHN file there."
        ) from exc
    if "X" not in mat or "y" not in mat:
        raise FileProblem(f"{path}: expected variables 'X' and 'y'; found {sorted(mat)}.")
    x = np.asarray(mat["X"])
    y = np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != y.size:
        raise FileProblem(f"{path}: `X` must be 32x32x3xN with N = len(y); got {x.shape}.")
    if y.size and (y.min() < 0 or y.max() > 10):
        raise FileProblem(f"{path}: labels must be in 0..10; got {y.min()}..{y.max()}.")
    y[y == 10] = 0
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 2, 0, 1)).astype(np.float32))
    return images / 255.0, torch.from_numpy(y)


def load_svhn(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Load SVHN as ``(x_train, s_train, x_test, s_test)`` from ``<root>/svhn/*_32x32.mat``."""
    root = resolve_data_root(data_dir)
    paths = [root / "svhn" / n for n in SVHN_FILES]
    reason = "missing"
    if not all(p.is_file() for p in paths) and download:
        reason = _try_torchvision_download("svhn", root) or "download gave no files"
    if not all(p.is_file() for p in paths):
        raise DataNotFoundError(_missing_message("SVHN", root, paths, reason))
    x_tr, s_tr = load_svhn_mat(paths[0])
    x_te, s_te = load_svhn_mat(paths[1])
    return x_tr, s_tr, x_te, s_te


def split_train_val(
    n: int, val_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Indices ``(train, val)``: a fixed random partition of ``range(n)`` (seeded).

    >>> tr, va = split_train_val(10, 3, seed=0)
    >>> sorted(tr.tolist() + va.tolist()) == list(range(10)), len(va)
    (True, 3)
    """
    if not 2 <= val_size < n:
        raise ValueError(f"`val_size` must be in [2, {n - 1}]; got {val_size}.")
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def load_splits(
    dataset: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    val_size: int = 5000,
    split_seed: int = 0,
    train_subset: int = 0,
    test_subset: int = 0,
    download: bool = True,
) -> TensorSplits:
    """Load `dataset` and split it: ``train_subset``/``test_subset`` > 0 keep the first images.

    The validation split is carved (seeded) from the (possibly subset) training set.
    """
    if dataset == "mnist":
        x_tr, s_tr, x_te, s_te = load_mnist(data_dir, download=download)
    elif dataset == "svhn":
        x_tr, s_tr, x_te, s_te = load_svhn(data_dir, download=download)
    else:
        raise ValueError(f"`dataset` must be one of 'mnist', 'svhn'; got {dataset!r}.")
    if train_subset:
        x_tr, s_tr = x_tr[:train_subset], s_tr[:train_subset]
    if test_subset:
        x_te, s_te = x_te[:test_subset], s_te[:test_subset]
    tr, va = split_train_val(len(x_tr), val_size, split_seed)
    return TensorSplits(
        name=dataset,
        x_train=x_tr[tr].contiguous(),
        s_train=s_tr[tr].contiguous(),
        x_val=x_tr[va].contiguous(),
        s_val=s_tr[va].contiguous(),
        x_test=x_te.contiguous(),
        s_test=s_te.contiguous(),
    )
