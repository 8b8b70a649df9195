r"""Invariant compressors (VC, VIC, BINCE) on augmented MNIST, with real coding and a linear probe.

The ``invariant`` kind with ``source="mnist"`` (config, objective and the beta convention:
:mod:`~rdpc_neural.kinds.invariant_config`; networks:
:mod:`~rdpc_neural.kinds.invariant_nets`). The invariance is the random affine group of
:mod:`rdpc_neural.augment` (rotation 45°, translation 0.25, scale 0.6-1.4, shear 25°), applied
at training and at evaluation:

* **VC** encodes the augmented image and decodes it (Bernoulli NLL in bits per image);
* **VIC** encodes the augmented image and decodes the *un-augmented* digit, the canonical
  representative of its orbit;
* **BINCE** encodes two augmented views of each digit and scores their quantized codes with
  the InfoNCE loss of the banana (:func:`~rdpc_neural.kinds.invariant.infonce_bits`, learned
  temperature).

Training uses additive uniform noise (factorized prior) or the hyperprior's noisy relaxation,
with the rate weight ramped up over ``rate_warmup`` of the steps; step ``t`` draws its images,
augmentations and noise from generators seeded by ``(seed, t)`` (exact resume).

Evaluation rounds the latents, codes them for real (chunked constriction stream, checked by
decoding) and works on the **decoded** codes: ``coded_bits`` is the stream's size per image,
the distortion is measured on reconstructions from the decoded codes, and at the final row
``probe_accuracy`` is the test accuracy of a logistic regression
(:func:`rdpc_neural.probes.linear_probe_accuracy`) fit on the decoded codes of ``fit_items``
augmented training images and scored on the decoded codes of ``test_items`` augmented test
images (augmentations seeded by ``test_seed``: the same for every run).

References
----------
.. [1] Y. Dubois, B. Bloem-Reddy, K. Ullrich, C. J. Maddison, "Lossy compression for lossless
   prediction", NeurIPS 2021, arXiv:2106.10800 (Sec. 5.2, augmented MNIST).
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..augment import augment
from ..core.lifecycle import RunContext
from ..core.seeding import numpy_rng
from ..data import TensorSplits, load_splits, resolve_data_root
from ..entropy import FactorizedPrior
from ..probes import linear_probe_accuracy

# The banana's seed streams and clamp of BINCE's learned inverse temperature (same kind).
from .invariant import (
    _MAX_INV_TEMPERATURE,
    _SPLIT_FIT,
    _SPLIT_TEST,
    _SPLIT_VAL,
    _SPLIT_VIEWS,
    _STREAM_STEP,
    _TAG_TEST,
    _TAG_TRAIN,
    InvariantCompressor,
    InvariantExperiment,
    infonce_bits,
)
from .invariant_config import InvariantConfig

__all__ = [
    "ImageInvariantExperiment",
    "build",
    "mnist_splits",
    "torch_generator",
    "heldout_views",
    "encode_batched",
    "distortion_bits",
    "noisy_latents",
    "dataset_views",
]

_LN2 = math.log(2.0)
_BATCH = 1000  # images per forward pass at evaluation


@functools.lru_cache(maxsize=1)
def mnist_splits(root: str) -> TensorSplits:
    """MNIST under `root` (read and checked once per process: every run of a sweep worker and
    every test shares the tensors, which nothing modifies)."""
    return load_splits("mnist", root)


def torch_generator(*key: int) -> torch.Generator:
    """A torch generator seeded from the project's numpy stream of `key`."""
    return torch.Generator().manual_seed(int(numpy_rng(*key).integers(2**62)))


def heldout_views(images: torch.Tensor, count: int, *key: int) -> torch.Tensor:
    """The first `count` of `images`, augmented with the generator of the held-out stream
    `key` (e.g. ``(test_seed, split)``): the same augmented images for every run."""
    return augment(images[:count], torch_generator(_TAG_TEST, *key))


@torch.no_grad()
def encode_batched(model: InvariantCompressor, images: torch.Tensor) -> torch.Tensor:
    """Continuous latents of `images`, in batches (eval mode)."""
    return torch.cat([model.encode(images[i : i + _BATCH]) for i in range(0, len(images), _BATCH)])


def distortion_bits(
    config: InvariantConfig, logits: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Per-image distortion: Bernoulli NLL in bits (``"bce"``) or squared error (``"mse"``),
    summed over the pixels."""
    if config.distortion == "bce":
        nll = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return nll.flatten(1).sum(1) / _LN2
    return ((torch.sigmoid(logits) - target) ** 2).flatten(1).sum(1)


def noisy_latents(
    model: InvariantCompressor, y: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(noisy latents, bits per item)`` of the training relaxation, noise from `generator`."""
    if isinstance(model.prior, FactorizedPrior):
        return model.noisy(y, torch.rand(y.shape, generator=generator) - 0.5)
    # The hyperprior draws its noise from the global torch RNG: seed a private copy of it.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        out = model.prior(y, mode="noise")
    return out["y_hat"], out["bits"]


class ImageInvariantExperiment(InvariantExperiment):
    """One augmented-MNIST invariant run (training loop, schedule and checkpoints of
    :class:`~rdpc_neural.kinds.invariant.InvariantExperiment`; data, loss and evaluation
    here)."""

    def __init__(self, config: InvariantConfig, context: RunContext | None = None) -> None:
        super().__init__(config, context)
        self.data: TensorSplits = mnist_splits(str(resolve_data_root()))
        self._heldout: dict[tuple[int, bool], torch.Tensor] = {}

    def _views(self, split: int, *, final: bool) -> torch.Tensor:
        """Augmented held-out images of `split` (BINCE's second views: the evaluation images
        again, augmented from their own stream)."""
        key = (split, final)
        if key not in self._heldout:
            c, d = self.config, self.data
            images, count = {
                _SPLIT_VAL: (d.x_val, c.val_items),
                _SPLIT_TEST: (d.x_test, c.test_items),
                _SPLIT_FIT: (d.x_train, c.fit_items),
                _SPLIT_VIEWS: (d.x_test, c.test_items) if final else (d.x_val, c.val_items),
            }[split]
            self._heldout[key] = heldout_views(images, count, c.test_seed, split, int(final))
        return self._heldout[key]

    def loss_terms(self, step: int) -> dict[str, torch.Tensor]:
        c = self.config
        g = torch_generator(_TAG_TRAIN, c.seed, _STREAM_STEP, step)
        x = self.data.x_train[torch.randint(len(self.data.x_train), (c.batch_size,), generator=g)]
        if c.compressor == "bince":
            codes, rates = [], []
            for _ in range(2):
                z, bits = noisy_latents(self.model, self.model.encode(augment(x, g)), g)
                codes.append(z)
                rates.append(bits.mean())
            rate = 0.5 * (rates[0] + rates[1])
            scale = self.model.log_inv_temperature.exp().clamp(max=_MAX_INV_TEMPERATURE)
            dist = infonce_bits(self.model.project(codes[0]), self.model.project(codes[1]), scale)
        else:
            x_aug = augment(x, g)
            z, bits = noisy_latents(self.model, self.model.encode(x_aug), g)
            rate = bits.mean()
            target = x_aug if c.compressor == "vc" else x
            dist = distortion_bits(c, self.model.decode(z), target).mean()
        warm = c.rate_warmup * c.steps
        weight = min(1.0, (step + 1) / warm) if warm > 0 else 1.0
        return {"loss": weight * rate + c.beta * dist, "rate_bits": rate, "distortion": dist}

    @torch.no_grad()
    def _decoded(self, images: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        """``(decoded codes, coded bits per image, estimated bits per image)`` of `images`
        through the real chunked stream."""
        c, prior = self.config, self.model.prior
        y = encode_batched(self.model, images)
        if isinstance(prior, FactorizedPrior):
            estimated = float(prior.estimate_bits(y).mean())
        else:
            estimated = float(prior.estimate_bits(y, chunk_items=c.chunk_items).mean())
        stream = prior.compress(y, chunk_items=c.chunk_items, check=True)
        coded = 8 * len(stream.to_bytes()) / len(images)
        return prior.decompress(stream), coded, estimated

    @torch.no_grad()
    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        c, model = self.config, self.model
        model.eval()
        split = _SPLIT_TEST if final else _SPLIT_VAL
        x_aug = self._views(split, final=final)
        y = encode_batched(model, x_aug)
        _, noise_bits = noisy_latents(model, y, torch_generator(_TAG_TEST, c.test_seed, split))
        model.prior.update()
        z_hat, coded, estimated = self._decoded(x_aug)
        row: dict[str, Any] = {
            "step": step,
            "split": "test" if final else "val",
            "n_items": len(x_aug),
            "noise_rate_bits": float(noise_bits.mean()),
            "estimated_bits": estimated,
            "coded_bits": coded,
            "coded_over_estimated": coded / estimated if estimated > 0 else None,
            "cells": int(len(torch.unique(z_hat, dim=0))),
        }
        if c.compressor == "bince":
            z2, _, _ = self._decoded(self._views(_SPLIT_VIEWS, final=final))
            scale = model.log_inv_temperature.exp().clamp(max=_MAX_INV_TEMPERATURE)
            parts = [
                float(infonce_bits(model.project(z_hat[i : i + c.batch_size]),
                                   model.project(z2[i : i + c.batch_size]), scale))
                for i in range(0, len(z_hat) - c.batch_size + 1, c.batch_size)
            ]  # fmt: skip
            row["distortion"] = float(np.mean(parts)) if parts else None
        else:
            originals = (self.data.x_test if final else self.data.x_val)[: len(x_aug)]
            target = x_aug if c.compressor == "vc" else originals
            dist = torch.cat([
                distortion_bits(c, model.decode(z_hat[i : i + _BATCH]), target[i : i + _BATCH])
                for i in range(0, len(z_hat), _BATCH)
            ])  # fmt: skip
            row["distortion"] = float(dist.mean())
        if final:
            z_fit, _, _ = self._decoded(self._views(_SPLIT_FIT, final=True))
            labels = self.data.s_test
            row["probe_accuracy"] = linear_probe_accuracy(
                z_fit.numpy(),
                self.data.s_train[: c.fit_items].numpy(),
                z_hat.numpy(),
                labels[: len(x_aug)].numpy(),
            )
        model.train()
        if not final:
            return row, {}
        facts = {"compressor": c.compressor, "invariance": c.invariance, "beta": c.beta,
                 "source": c.source}  # fmt: skip
        return row, facts


def dataset_views(
    config: InvariantConfig,
    split: str,
    items: int,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[torch.Tensor, NDArray[np.int64]]:
    """Augmented images and digit labels of the MNIST `split` for a dataset file.

    The first `items` images of the split (``"train"``: the images the final probe is fit on;
    ``"test"``: the test images), augmented from the held-out streams of the run's final
    evaluation, so a file of ``config.test_items`` test images codes exactly the images whose
    coded bits and probe accuracy the run's summary reports.
    """
    data = mnist_splits(str(resolve_data_root(data_dir)))
    images, labels, stream = {
        "train": (data.x_train, data.s_train, _SPLIT_FIT),
        "test": (data.x_test, data.s_test, _SPLIT_TEST),
    }[split]
    views = heldout_views(images, items, config.test_seed, stream, 1)
    return views, labels[:items].numpy().astype(np.int64)


def build(config: InvariantConfig, context: RunContext) -> InvariantExperiment:
    """The ``invariant`` kind's builder (registered in :mod:`rdpc_neural.kinds`): augmented
    MNIST here, the banana in :class:`~rdpc_neural.kinds.invariant.InvariantExperiment`."""
    if config.source == "mnist":
        return ImageInvariantExperiment(config, context)
    return InvariantExperiment(config, context)
