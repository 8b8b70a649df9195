"""Frozen classifiers trained by rdpc itself, cached on disk by their config and data split.

The training classifier (used in the loss, paper: MLP 784-128-64-10) and the held-out
scorer (another architecture, another seed) are trained on the training split only (the
validation split is carved out first), then frozen. They are cached under
``<cache>/classifiers/<arch>-<key>.pt`` with a JSON sidecar holding the config and the clean
validation and test accuracies; concurrent processes share one training via a claim
(:mod:`rdpc_common.claim`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rdpc_common.atomic import atomic_write_json
from rdpc_common.claim import acquire_claim

from .core.rundir import atomic_torch_save, load_torch_file, read_json, resolve_cache_dir
from .data import TensorSplits
from .kinds.image_config import ClassifierConfig
from .models import CLASSIFIERS

__all__ = ["classifier_key", "train_classifier", "load_or_train_classifier", "accuracy"]


def classifier_key(config: ClassifierConfig, data_id: dict[str, Any]) -> str:
    """Cache key: hash of the classifier config, its architecture (the module's printed
    structure, so an edited architecture never loads stale weights) and the data split."""
    arch = repr(CLASSIFIERS.build(config.arch))
    payload = json.dumps(
        {"classifier": config.__dict__, "arch": arch, "data": data_id}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, s: torch.Tensor, batch: int = 2000) -> float:
    """Fraction of `x` whose argmax logit equals the label `s`."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += int((model(x[i : i + batch]).argmax(1) == s[i : i + batch]).sum())
    return correct / max(len(x), 1)


def train_classifier(
    config: ClassifierConfig, splits: TensorSplits, *, device: str = "cpu", progress: bool = False
) -> tuple[nn.Module, dict[str, Any]]:
    """Train `config` on ``splits.x_train`` (Adam, lr x0.1 for the last third); return it frozen.

    Deterministic for a given config and data on CPU (seeded initialisation and batch order).
    """
    g = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # parameter initialisation only, inside a forked RNG
        model = CLASSIFIERS.build(config.arch).to(device)
    x, s = splits.x_train, splits.s_train
    if config.subset:
        x, s = x[: config.subset], s[: config.subset]
    n = len(x)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = max(n // config.batch_size, 1)
    decay_epoch = math.ceil(2 * config.epochs / 3)
    t0 = time.perf_counter()
    model.train()
    it = range(config.epochs)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"classifier {config.arch}", leave=False)
    for epoch in it:
        for group in opt.param_groups:
            group["lr"] = config.lr * (0.1 if epoch >= decay_epoch and config.epochs > 1 else 1.0)
        perm = torch.randperm(n, generator=g)
        for i in range(steps_per_epoch):
            idx = perm[i * config.batch_size : (i + 1) * config.batch_size]
            xb, sb = x[idx].to(device), s[idx].to(device)
            loss = F.cross_entropy(model(xb), sb)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
    model.eval()
    model.requires_grad_(False)
    info = {
        "config": config.__dict__,
        "train_seconds": time.perf_counter() - t0,
        "val_acc": accuracy(model, splits.x_val.to(device), splits.s_val.to(device)),
        "test_acc": accuracy(model, splits.x_test.to(device), splits.s_test.to(device)),
    }
    return model, info


def load_or_train_classifier(
    config: ClassifierConfig,
    splits: TensorSplits,
    data_id: dict[str, Any],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """The frozen classifier for `config` from the cache, training (once) if missing.

    Parameters
    ----------
    data_id : dict
        Identifies the training data (dataset, split seed and sizes); part of the cache key.
    """
    folder = Path(resolve_cache_dir(cache_dir)) / "classifiers"
    key = classifier_key(config, data_id)
    weights = folder / f"{config.arch}-{key}.pt"
    sidecar = folder / f"{config.arch}-{key}.json"
    # One process trains, concurrent ones wait (a claim works on shared file systems too).
    with acquire_claim(folder / f".{config.arch}-{key}.claim"):
        if weights.exists() and sidecar.exists():
            remedy = f"delete {weights.name} and {sidecar.name} to train the classifier again"
            model = CLASSIFIERS.build(config.arch)
            model.load_state_dict(load_torch_file(weights, remedy=remedy))
            model.to(device).eval().requires_grad_(False)
            info: dict[str, Any] = read_json(sidecar)
            return model, info
        model, info = train_classifier(config, splits, device=device, progress=progress)
        info["data"] = data_id
        atomic_torch_save(weights, {k: v.cpu() for k, v in model.state_dict().items()})
        atomic_write_json(sidecar, info)
        return model, info
