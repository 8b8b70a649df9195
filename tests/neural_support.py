"""Helpers shared by the tests/test_neural_*.py files (data location, tiny configs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MNIST_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def data_root() -> Path:
    """``$RDPC_DATA`` (relative to the project root, as in CI), else ``../shared/data``."""
    env = os.environ.get("RDPC_DATA", "")
    path = Path(env) if env else Path("../shared/data")
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def require_mnist() -> Path:
    """The data root holding MNIST, or skip the test with the reason."""
    root = data_root()
    missing = [n for n in MNIST_NAMES if not (root / "mnist" / f"{n}.gz").is_file()]
    if missing:
        pytest.skip(f"MNIST not found under {root}/mnist (set RDPC_DATA); missing {missing}")
    return root


def tiny_overrides(**changes: object) -> dict[str, object]:
    """A run that trains in about a second: tiny MLP codec on an MNIST subset."""
    base: dict[str, object] = {
        "size": "tiny",
        "latent_dim": 3,
        "levels": 4,
        "lambda_d": 1.0,
        "lambda_c": 0.01,
        "steps": 24,
        "batch_size": 64,
        "eval_every": 8,
        "eval_size": 300,
        "w1_samples": 200,
        "val_size": 500,
        "train_subset": 3000,
        "test_subset": 600,
        "classifier": {"arch": "mnist-tiny-mlp", "epochs": 2, "seed": 0},
        "heldout_classifier": {"arch": "mnist-cnn", "epochs": 1, "seed": 1, "subset": 1500},
    }
    base.update(changes)
    return base


def tiny_config(**changes: object):  # -> RunConfig
    from rdpc_neural.kinds.image_config import RunConfig

    return RunConfig.from_dict(tiny_overrides(**changes))


def micro_synthetic(**changes: object):  # -> SyntheticConfig
    """A synthetic-source run that trains in a second or two (n = 2, 30 steps)."""
    from rdpc_neural.kinds.synthetic_config import SyntheticConfig

    base: dict[str, object] = {
        "block_length": 2, "latent_dim": 2, "hidden": 16, "steps": 30, "eval_every": 10,
        "batch_size": 128, "val_blocks": 256, "test_blocks": 1024, "fit_blocks": 1024,
        "coded_blocks": 256, "lambda_d": 3.0, "lambda_c": 1.0,
    }  # fmt: skip
    base.update(changes)
    return SyntheticConfig(**base)  # type: ignore[arg-type]
