"""What the training loop needs besides the models: data, distortion, label loss, metrics.

A task bundles the data (:class:`~rdpc_neural.data.TensorSplits`: tensors X and labels S),
the registry names of the model family, the distortion, the "label loss" in bits that the
``lambda_c`` term weights, and the label metrics. The loop in :mod:`rdpc_neural.kinds.image` only
talks to this interface, so other sources (e.g. i.i.d. vectors X with a label S and an MLP
codec) plug in by providing another task object with the same methods.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .classifiers import load_or_train_classifier
from .data import TensorSplits, load_splits
from .kinds.image_config import RunConfig

__all__ = [
    "Task",
    "ImageClassificationTask",
    "build_task",
    "data_identity",
    "task_key",
    "exact_w1",
]

_LN2 = math.log(2.0)


class Task(Protocol):
    """Interface of a task (see the module docstring)."""

    splits: TensorSplits

    def model_name(self, config: RunConfig) -> str:
        """Registry name of the encoder/decoder/critic family for `config`."""
        ...

    def distortion(self, x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        """Mean distortion of a batch (a scalar tensor, differentiable in `x_hat`)."""
        ...

    def label_loss_bits(self, x_hat: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Mean label loss of a batch in bits (the ``lambda_c`` term)."""
        ...

    def label_sums(self, x_hat: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
        """Sums over a batch of the label metrics (``ce_bits``, ``acc``, ``acc_heldout``)."""
        ...

    def info(self) -> dict[str, Any]:
        """JSON-able facts about the task (e.g. clean classifier accuracies)."""
        ...


def exact_w1(x: torch.Tensor, y: torch.Tensor, *, num_iter_max: int = 10_000_000) -> float:
    """Exact W1 between two equal-weight empirical distributions, Euclidean cost.

    ``W1 = min over couplings pi of sum_ij pi_ij ||x_i - y_j||_2`` (pixels flattened), solved
    by network simplex (POT ``ot.emd2``). Raises ``RuntimeError`` if the solver does not
    report convergence (never a silent approximation).
    """
    import ot

    a = x.reshape(len(x), -1).double().cpu().numpy()
    b = y.reshape(len(y), -1).double().cpu().numpy()
    cost = ot.dist(a, b, metric="euclidean")
    wa = np.full(len(a), 1.0 / len(a))
    wb = np.full(len(b), 1.0 / len(b))
    value, log = ot.emd2(wa, wb, cost, numItermax=num_iter_max, log=True)
    if log.get("warning"):
        raise RuntimeError(f"exact W1 (ot.emd2) did not converge: {log['warning']}")
    return float(value)


@dataclass
class ImageClassificationTask:
    """Images with class labels; MSE distortion; CE (bits) of a frozen classifier.

    Attributes
    ----------
    splits : TensorSplits
        The data, on the training device.
    classifier, heldout : nn.Module
        Frozen training classifier (in the loss) and independent held-out scorer.
    classifier_info, heldout_info : dict
        Their cached training facts (clean validation/test accuracy, ...).
    """

    splits: TensorSplits
    classifier: nn.Module
    heldout: nn.Module
    classifier_info: dict[str, Any] = field(default_factory=dict)
    heldout_info: dict[str, Any] = field(default_factory=dict)

    def model_name(self, config: RunConfig) -> str:
        return f"{config.dataset}-{config.size}"

    def distortion(self, x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(x_hat, x)

    def label_loss_bits(self, x_hat: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.classifier(x_hat), s) / _LN2

    @torch.no_grad()
    def label_sums(self, x_hat: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
        logits = self.classifier(x_hat)
        return {
            "ce_bits": float(F.cross_entropy(logits, s, reduction="sum")) / _LN2,
            "acc": float((logits.argmax(1) == s).sum()),
            "acc_heldout": float((self.heldout(x_hat).argmax(1) == s).sum()),
        }

    def info(self) -> dict[str, Any]:
        return {
            "classifier_val_acc": self.classifier_info.get("val_acc"),
            "classifier_test_acc": self.classifier_info.get("test_acc"),
            "heldout_val_acc": self.heldout_info.get("val_acc"),
            "heldout_test_acc": self.heldout_info.get("test_acc"),
        }


def build_task(
    config: RunConfig,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    splits: TensorSplits | None = None,
    download: bool = True,
    progress: bool = False,
) -> ImageClassificationTask:
    """Load the data of `config` (unless `splits` is given) and its frozen classifiers."""
    if splits is None:
        splits = load_splits(
            config.dataset,
            data_dir,
            val_size=config.val_size,
            split_seed=config.split_seed,
            train_subset=config.train_subset,
            test_subset=config.test_subset,
            download=download,
        )
    if device != "cpu":
        splits = TensorSplits(splits.name, *(getattr(splits, f).to(device) for f in _TENSOR_FIELDS))
    data_id = data_identity(config, splits)
    clf, clf_info = load_or_train_classifier(
        config.classifier, splits, data_id, cache_dir=cache_dir, device=device, progress=progress
    )
    held, held_info = load_or_train_classifier(
        config.heldout_classifier,
        splits,
        data_id,
        cache_dir=cache_dir,
        device=device,
        progress=progress,
    )
    return ImageClassificationTask(splits, clf, held, clf_info, held_info)


_TENSOR_FIELDS = ("x_train", "s_train", "x_val", "s_val", "x_test", "s_test")


def data_identity(config: Any, splits: TensorSplits) -> dict[str, Any]:
    """What identifies the classifiers' training data (part of their cache key); `config` is
    any run config with ``dataset``, ``val_size``, ``split_seed`` and ``train_subset`` (image
    and features runs on the same split share their cached classifiers)."""
    return {
        "dataset": config.dataset,
        "val_size": config.val_size,
        "split_seed": config.split_seed,
        "train_subset": config.train_subset,
        "n_train": len(splits.x_train),
        "n_test": len(splits.x_test),
    }


def task_key(config: RunConfig) -> str:
    """What determines the task of `config` (data split and frozen classifiers): runs with
    the same key share one task in a process."""
    keys = ("dataset", "val_size", "split_seed", "train_subset", "test_subset")
    d: dict[str, Any] = {k: getattr(config, k) for k in keys}
    d["clf"] = dataclasses.asdict(config.classifier)
    d["held"] = dataclasses.asdict(config.heldout_classifier)
    return json.dumps(d, sort_keys=True)
