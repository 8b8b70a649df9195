"""Run configurations of the neural RDPC experiments: frozen, validated, JSON round-trip.

This module is torch-free (the CLI imports it to validate configs before any training).

A :class:`RunConfig` fixes everything that can change a run's results: data split, model
family and size, rate (``latent_dim`` x ``log2 levels``), loss weights, optimisation,
evaluation and the frozen classifiers. Its :func:`config_hash` names the run directory
``runs/<preset>/<hash>/``.

Loss weights and their scale (per training step, on a batch)::

    loss = lambda_d * MSE + lambda_p * W1_critic + lambda_c * CE_bits

* ``MSE``: mean squared error per pixel, pixels in [0, 1] (``torch.nn.functional.mse_loss``).
* ``W1_critic``: the generator's WGAN term ``-mean critic(x_hat)`` (the critic's estimate of
  W1(p_X, p_Xhat) up to a constant); the critic is trained only when ``lambda_p > 0``.
* ``CE_bits``: cross-entropy of the frozen training classifier on ``x_hat`` against the true
  label, in bits (natural-log CE divided by ln 2).

References
----------
[1] Y. Wang, Y. Wu, S. Ma, Y.-J. A. Zhang, "Task-oriented lossy compression with data,
    perception, and classification constraints", IEEE JSAC 2025, arXiv:2405.04144, Sec. VI.
[2] G. Zhang, J. Qian, J. Chen, A. Khisti, "Universal rate-distortion-perception
    representations for lossy compression", NeurIPS 2021, arXiv:2106.10311.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..core.schema import (
    ConfigBase,
    check_betas,
    check_choice,
    check_float,
    check_int,
    check_loss_weights,
)

__all__ = [
    "KIND",
    "SCHEMA_VERSION",
    "METRIC_COLUMNS",
    "DATASETS",
    "SIZES",
    "MODES",
    "GRAD_MODES",
    "MEMORY_FORMATS",
    "CLASSIFIER_ARCHS",
    "ClassifierConfig",
    "RunConfig",
    "default_classifiers",
    "migrate",
    "legacy_dict",
]

#: ``kind`` of these runs in config.json and run identities.
KIND = "image"
#: 1: rdpc 0.1.0 (flat config hash); 2: canonical identity.
SCHEMA_VERSION = 2

#: Columns of an image run's ``metrics.csv`` (units in the names; empty = not computed):
#: ``step`` generator steps done; ``split`` ``val`` (periodic, ``eval_size`` validation
#: images) or ``test`` (final); ``n_images`` evaluated; ``rate_bits`` nominal rate
#: d log2 L per image; ``coded_bits`` real bitstream size per image (constriction ANS,
#: categorical model per latent coordinate fit on the *training* symbols; final row only);
#: ``entropy_bits`` sum over coordinates of the empirical symbol entropy per image;
#: ``joint_entropy_bits`` plug-in entropy of the whole symbol tuple per image; ``mse`` mean
#: squared error per pixel (pixels in [0, 1]); ``w1`` exact empirical W1 (POT ``emd2``,
#: Euclidean pixel cost) between ``w1_samples`` test images and their reconstructions (final
#: only); ``w1_critic`` the critic's estimate ``mean f(x) - mean f(x_hat)`` (only if
#: ``lambda_p > 0``); ``ce_bits`` cross-entropy of the training classifier on x_hat, bits;
#: ``acc`` / ``acc_heldout`` accuracy of the training / independent held-out classifier.
METRIC_COLUMNS: tuple[str, ...] = (
    "step",
    "split",
    "n_images",
    "rate_bits",
    "coded_bits",
    "entropy_bits",
    "joint_entropy_bits",
    "mse",
    "w1",
    "w1_critic",
    "ce_bits",
    "acc",
    "acc_heldout",
)

DATASETS: tuple[str, ...] = ("mnist", "svhn")
SIZES: tuple[str, ...] = ("reference", "cpu", "tiny")
MODES: tuple[str, ...] = ("end-to-end", "universal")
GRAD_MODES: tuple[str, ...] = ("soft-to-hard", "straight-through")
MEMORY_FORMATS: tuple[str, ...] = ("contiguous", "channels_last")
# Classifier architectures per dataset (the registry in models.py must provide them).
CLASSIFIER_ARCHS: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist-mlp", "mnist-cnn", "mnist-tiny-mlp"),
    "svhn": ("svhn-cnn", "svhn-small-cnn", "svhn-tiny-mlp"),
}


@dataclass(frozen=True)
class ClassifierConfig(ConfigBase):
    """A frozen classifier that rdpc trains itself (cached by this config and the data split).

    Parameters
    ----------
    arch : str
        Registry name (see :data:`CLASSIFIER_ARCHS`), e.g. ``"mnist-mlp"`` (the paper's
        784-128-64-10 MLP) or ``"mnist-cnn"`` (the held-out scorer of another architecture).
    epochs : int
        Passes over the training split (>= 1).
    batch_size : int
        Mini-batch size (>= 1).
    lr : float
        Adam learning rate (> 0); multiplied by 0.1 for the last third of the epochs.
    seed : int
        Initialisation and batch-order seed (>= 0).
    subset : int
        Train on the first ``subset`` training images only (0: all); for smoke tests.
    """

    arch: str = "mnist-mlp"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    subset: int = 0

    def __post_init__(self) -> None:
        archs = tuple(a for group in CLASSIFIER_ARCHS.values() for a in group)
        check_choice("classifier.arch", self.arch, archs)
        check_int("classifier.epochs", self.epochs, 1)
        check_int("classifier.batch_size", self.batch_size, 1)
        check_float("classifier.lr", self.lr, 0.0, low_open=True)
        check_int("classifier.seed", self.seed, 0)
        check_int("classifier.subset", self.subset, 0)

    @property
    def dataset(self) -> str:
        """The dataset this architecture is built for."""
        return next(d for d, archs in CLASSIFIER_ARCHS.items() if self.arch in archs)


def default_classifiers(dataset: str) -> tuple[ClassifierConfig, ClassifierConfig]:
    """The (training, held-out) classifier pair used by the presets for `dataset`.

    The training classifier is the paper's architecture; the held-out one is a different
    architecture trained independently (other seed), used only to score accuracy.
    """
    if dataset == "mnist":
        return (
            ClassifierConfig(arch="mnist-mlp", epochs=10, lr=1e-3, seed=0),
            ClassifierConfig(arch="mnist-cnn", epochs=3, lr=2e-3, seed=1),
        )
    if dataset == "svhn":
        return (
            ClassifierConfig(arch="svhn-cnn", epochs=10, lr=1e-3, seed=0),
            ClassifierConfig(arch="svhn-small-cnn", epochs=8, lr=1e-3, seed=1),
        )
    check_choice("dataset", dataset, DATASETS)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RunConfig(ConfigBase):
    """One neural codec run: data, model, rate, loss weights, optimisation, evaluation.

    Parameters
    ----------
    dataset : {"mnist", "svhn"}
        Image dataset (pixels in [0, 1]).
    size : {"reference", "cpu", "tiny"}
        Model family size: ``reference`` is the published architecture (Wang et al., JSAC
        2025, Sec. VI), ``cpu`` a small MLP codec that trains in seconds on one core,
        ``tiny`` for tests.
    latent_dim : int
        Latent dimension d (>= 1).
    levels : int
        Quantizer levels L (>= 2), uniform on [-1, 1]. Nominal rate ``d * log2(L)`` bits.
    lambda_d, lambda_p, lambda_c : float
        Weights (>= 0, not all 0) of MSE, critic W1 and CE (bits); see the module docstring.
    mode : {"end-to-end", "universal"}
        ``universal`` freezes the encoder of the run ``base_encoder`` (BatchNorm in eval
        mode) and trains only a new decoder (+ critic) for this tradeoff point.
    base_encoder : RunConfig or None
        The end-to-end run whose encoder a universal run reuses (same dataset, size, d, L).
    grad_mode : {"soft-to-hard", "straight-through"}
        Quantizer gradient: the published soft-to-hard surrogate (softmax over
        ``-soft_sigma * |v - c|``) or the identity (straight-through).
    soft_sigma : float
        Sharpness of the soft-to-hard surrogate (> 0); the paper uses 1 (MNIST), 2/L (SVHN).
    steps : int
        Generator (encoder/decoder) optimisation steps (>= 1).
    batch_size : int
        Mini-batch size (>= 2, BatchNorm needs two samples).
    lr, betas : float, (float, float)
        Adam settings of encoder and decoder.
    lr_critic, critic_betas : float, (float, float)
        Adam settings of the critic.
    lr_decay_at, lr_decay_factor : float
        All learning rates are multiplied by ``lr_decay_factor`` after
        ``round(lr_decay_at * steps)`` steps (paper: x1/5 after 20 of 30 epochs).
    n_critic : int
        Critic steps per generator step (>= 1; only when ``lambda_p > 0``).
    gp_weight : float
        WGAN-GP two-sided gradient-penalty weight (paper: 10).
    eval_every : int
        Evaluate on the validation subset (and checkpoint) every this many steps (>= 1).
    eval_size : int
        Validation images used by the periodic evaluations (>= 2).
    w1_samples : int
        Test images (and their reconstructions) in the exact W1 of the final evaluation.
    val_size : int
        Images carved from the training set as the validation split (>= 2).
    split_seed : int
        Seed of the (fixed) validation split, shared by all runs and the classifiers.
    train_subset, test_subset : int
        Use only that many training / test images (0: all); for smoke tests.
    seed : int
        Seed of initialisation, batch order, dither and critic interpolation.
    classifier, heldout_classifier : ClassifierConfig
        The frozen classifier in the loss, and the independent classifier of another
        architecture that scores ``acc_heldout``.
    memory_format : {"contiguous", "channels_last"}
        Layout of the convolution weights and activations (models with convolutions only:
        the ``reference`` sizes). ``channels_last`` trains the published MNIST model 1.2-1.3x
        faster per step on one CPU core (``benchmarks/train_speed.py --compare``), but torch's
        channels-last BatchNorm computes the batch statistics with larger rounding errors
        (checked per layer against float64: ~1e-4 instead of ~1e-6 absolute), so results
        differ from the default beyond reassociation; hence off by default, and part of the
        run identity.
    """

    dataset: str = "mnist"
    size: str = "cpu"
    latent_dim: int = 5
    levels: int = 4
    lambda_d: float = 1.0
    lambda_p: float = 0.0
    lambda_c: float = 0.0
    mode: str = "end-to-end"
    base_encoder: RunConfig | None = None
    grad_mode: str = "soft-to-hard"
    soft_sigma: float = 1.0
    steps: int = 600
    batch_size: int = 256
    lr: float = 1e-2
    betas: tuple[float, float] = (0.5, 0.9)
    lr_critic: float = 2e-4
    critic_betas: tuple[float, float] = (0.5, 0.9)
    lr_decay_at: float = 2.0 / 3.0
    lr_decay_factor: float = 0.2
    n_critic: int = 1
    gp_weight: float = 10.0
    eval_every: int = 300
    eval_size: int = 2000
    w1_samples: int = 1000
    val_size: int = 5000
    split_seed: int = 0
    train_subset: int = 0
    test_subset: int = 0
    seed: int = 0
    classifier: ClassifierConfig = field(default_factory=lambda: default_classifiers("mnist")[0])
    heldout_classifier: ClassifierConfig = field(
        default_factory=lambda: default_classifiers("mnist")[1]
    )
    memory_format: str = "contiguous"

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("size", self.size, SIZES)
        check_int("latent_dim", self.latent_dim, 1)
        check_int("levels", self.levels, 2)
        check_loss_weights(self, ("lambda_d", "lambda_p", "lambda_c"))
        check_choice("mode", self.mode, MODES)
        check_choice("grad_mode", self.grad_mode, GRAD_MODES)
        check_choice("memory_format", self.memory_format, MEMORY_FORMATS)
        check_float("soft_sigma", self.soft_sigma, 0.0, low_open=True)
        check_int("steps", self.steps, 1)
        check_int("batch_size", self.batch_size, 2)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_betas("betas", self.betas)
        check_float("lr_critic", self.lr_critic, 0.0, low_open=True)
        check_betas("critic_betas", self.critic_betas)
        check_float("lr_decay_at", self.lr_decay_at, 0.0, 1.0)
        check_float("lr_decay_factor", self.lr_decay_factor, 0.0, 1.0, low_open=True)
        check_int("n_critic", self.n_critic, 1)
        check_float("gp_weight", self.gp_weight, 0.0)
        check_int("eval_every", self.eval_every, 1)
        check_int("eval_size", self.eval_size, 2)
        check_int("w1_samples", self.w1_samples, 2)
        check_int("val_size", self.val_size, 2)
        check_int("split_seed", self.split_seed, 0)
        check_int("train_subset", self.train_subset, 0)
        check_int("test_subset", self.test_subset, 0)
        check_int("seed", self.seed, 0)
        if self.train_subset and self.train_subset <= self.val_size:
            raise ValueError(
                f"`train_subset` must be 0 or > `val_size` ({self.val_size}); "
                f"got {self.train_subset}."
            )
        for name in ("classifier", "heldout_classifier"):
            clf = getattr(self, name)
            if not isinstance(clf, ClassifierConfig):
                raise ValueError(f"`{name}` must be a ClassifierConfig; got {clf!r}.")
            check_choice(f"{name}.arch", clf.arch, CLASSIFIER_ARCHS[self.dataset])
        if self.classifier == self.heldout_classifier:
            raise ValueError("`heldout_classifier` must differ from `classifier`; got the same.")
        if self.mode == "universal":
            base = self.base_encoder
            if not isinstance(base, RunConfig):
                raise ValueError(
                    "`base_encoder` must be the RunConfig of an end-to-end run when "
                    f"`mode` is 'universal'; got {base!r}."
                )
            if base.mode != "end-to-end":
                raise ValueError(f"`base_encoder.mode` must be 'end-to-end'; got {base.mode!r}.")
            for name in ("dataset", "size", "latent_dim", "levels", "val_size", "split_seed"):
                if getattr(base, name) != getattr(self, name):
                    raise ValueError(
                        f"`base_encoder.{name}` must equal `{name}` ({getattr(self, name)!r}); "
                        f"got {getattr(base, name)!r}."
                    )
        elif self.base_encoder is not None:
            raise ValueError("`base_encoder` must be None unless `mode` is 'universal'.")

    @property
    def rate_bits(self) -> float:
        """Nominal rate ``d * log2(L)`` in bits per image (fixed-length code of the symbols)."""
        return self.latent_dim * math.log2(self.levels)


def migrate(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Config dict of schema `version` -> the current schema (1 -> 2: same fields)."""
    return dict(data)


#: Fields added after rdpc 0.1.0: absent from its directory hashes.
_NEW_FIELDS: tuple[str, ...] = ("memory_format",)


def legacy_dict(config: RunConfig) -> dict[str, Any] | None:
    """The flat dict whose hash named this config's directory in rdpc 0.1.0 (``None`` if the
    config uses a field rdpc 0.1.0 did not have, so no such directory can exist)."""
    default = RunConfig()
    if any(getattr(config, f) != getattr(default, f) for f in _NEW_FIELDS):
        return None
    out = config.to_dict()
    for f in _NEW_FIELDS:
        out.pop(f)
    if config.base_encoder is not None:
        base = legacy_dict(config.base_encoder)
        if base is None:
            return None
        out["base_encoder"] = base
    return out
