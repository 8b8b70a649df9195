"""Encoders, decoders, critics and classifiers in strict registries.

Names are ``<dataset>-<size>`` for codec parts and critics (``mnist-reference``,
``mnist-cpu``, ``mnist-tiny``, ``svhn-reference``, ...) and architecture names for
classifiers (``mnist-mlp``, ``mnist-cnn``, ...). Registering a name twice, or building an
unknown name, raises ``ValueError``.

Shapes: images are ``(B, C, H, W)`` in [0, 1]; encoders return ``(B, d)`` in [-1, 1]
(``tanh``); decoders map ``(B, d)`` to images (``sigmoid``); critics return ``(B, 1)``;
classifiers return logits ``(B, 10)``.

``reference`` sizes are the published networks (Wang et al., JSAC 2025, Sec. VI;
docs/references.md; the official RDPC / uRDP code): MNIST encoder MLP 784-512-256-128-128-d
(BatchNorm + LeakyReLU(0.01), BatchNorm + tanh on the latent), decoder d-128-512 -> 32x4x4 ->
ConvT(32,64,k5,s2) -> ConvT(64,128,k5,s2) -> ConvT(128,1,k4,s1) -> sigmoid, WGAN critic
Conv(1,64,128,256; k5 s2 p2) -> Linear(4096, 1); classifier MLP 784-128-64-10. SVHN: conv
encoder (3-64-128-256, k5 s2 p2) -> Linear -> tanh, decoder with ConvT 32-64-108-128-3, the
same critic on 3 channels, and a VGG-style classifier. ``cpu`` sizes are small MLPs chosen by
measurement (see ``benchmarks/train_speed.py``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "Registry",
    "ENCODERS",
    "DECODERS",
    "CRITICS",
    "CLASSIFIERS",
    "mlp_encoder",
    "mlp_decoder",
    "mlp_critic",
    "count_parameters",
    "count_flops",
]

Builder = Callable[..., nn.Module]


class Registry:
    """A strict name -> builder map (no silent overwrite, no fallback to ``None``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._builders: dict[str, Builder] = {}

    def register(self, name: str) -> Callable[[Builder], Builder]:
        """Decorator registering `name`; a second registration raises ``ValueError``."""

        def deco(fn: Builder) -> Builder:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is already registered.")
            self._builders[name] = fn
            return fn

        return deco

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._builders))

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def build(self, name: str, **kwargs: Any) -> nn.Module:
        """Instantiate `name` (``ValueError`` listing the registered names if unknown)."""
        if name not in self._builders:
            raise ValueError(
                f"`{self.kind}` must be one of {', '.join(map(repr, self.names()))}; got {name!r}."
            )
        return self._builders[name](**kwargs)


ENCODERS = Registry("encoder")
DECODERS = Registry("decoder")
CRITICS = Registry("critic")
CLASSIFIERS = Registry("classifier")

_SLOPE = 0.01  # LeakyReLU slope of the reference networks (torch default)


def _numel(shape: Sequence[int]) -> int:
    return int(math.prod(shape))


def mlp_encoder(
    sample_shape: Sequence[int], latent_dim: int, hidden: Sequence[int]
) -> nn.Sequential:
    """Flatten -> [Linear, BatchNorm, LeakyReLU] per hidden width -> Linear, BatchNorm, tanh."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = _numel(sample_shape)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.LeakyReLU(_SLOPE)]
        width = h
    layers += [nn.Linear(width, latent_dim), nn.BatchNorm1d(latent_dim), nn.Tanh()]
    return nn.Sequential(*layers)


def mlp_decoder(
    sample_shape: Sequence[int], latent_dim: int, hidden: Sequence[int]
) -> nn.Sequential:
    """[Linear, BatchNorm, LeakyReLU] per hidden width -> Linear -> sigmoid -> reshape."""
    layers: list[nn.Module] = []
    width = latent_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.LeakyReLU(_SLOPE)]
        width = h
    layers += [
        nn.Linear(width, _numel(sample_shape)),
        nn.Sigmoid(),
        nn.Unflatten(1, tuple(sample_shape)),
    ]
    return nn.Sequential(*layers)


def mlp_critic(sample_shape: Sequence[int], hidden: Sequence[int]) -> nn.Sequential:
    """Flatten -> [Linear, LeakyReLU] per hidden width -> Linear(., 1); no normalisation."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = _numel(sample_shape)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(_SLOPE)]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _conv_critic(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Conv2d(128, 256, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Flatten(),
        nn.Linear(4096, 1),
    )


def _bn_lrelu2d(c: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(c), nn.LeakyReLU(_SLOPE)]


def _expand(latent_dim: int) -> list[nn.Module]:
    return [
        nn.Linear(latent_dim, 128),
        nn.BatchNorm1d(128),
        nn.LeakyReLU(_SLOPE),
        nn.Linear(128, 512),
        nn.BatchNorm1d(512),
        nn.LeakyReLU(_SLOPE),
        nn.Unflatten(1, (32, 4, 4)),
    ]


# ----------------------------------------------------------------------------- MNIST
_MNIST = (1, 28, 28)
_SVHN = (3, 32, 32)
# cpu sizes: chosen by measurement on 2 cores (700 steps of batch 256 in ~10 s per run).
_CPU_HIDDEN = {"mnist": (256, 128), "svhn": (512, 256)}
_TINY_HIDDEN = (32,)


@ENCODERS.register("mnist-reference")
def _enc_mnist_ref(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_encoder(_MNIST, latent_dim, (512, 256, 128, 128))


@DECODERS.register("mnist-reference")
def _dec_mnist_ref(latent_dim: int, **_: Any) -> nn.Module:
    return nn.Sequential(
        *_expand(latent_dim),
        nn.ConvTranspose2d(32, 64, 5, stride=2),  # 4 -> 11
        *_bn_lrelu2d(64),
        nn.ConvTranspose2d(64, 128, 5, stride=2),  # 11 -> 25
        *_bn_lrelu2d(128),
        nn.ConvTranspose2d(128, 1, 4, stride=1),  # 25 -> 28
        nn.Sigmoid(),
    )


@CRITICS.register("mnist-reference")
def _critic_mnist_ref(**_: Any) -> nn.Module:
    return _conv_critic(1)


@ENCODERS.register("mnist-cpu")
def _enc_mnist_cpu(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_encoder(_MNIST, latent_dim, _CPU_HIDDEN["mnist"])


@DECODERS.register("mnist-cpu")
def _dec_mnist_cpu(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_decoder(_MNIST, latent_dim, _CPU_HIDDEN["mnist"][::-1])


@CRITICS.register("mnist-cpu")
def _critic_mnist_cpu(**_: Any) -> nn.Module:
    return mlp_critic(_MNIST, (256, 128))


@ENCODERS.register("mnist-tiny")
def _enc_mnist_tiny(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_encoder(_MNIST, latent_dim, _TINY_HIDDEN)


@DECODERS.register("mnist-tiny")
def _dec_mnist_tiny(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_decoder(_MNIST, latent_dim, _TINY_HIDDEN)


@CRITICS.register("mnist-tiny")
def _critic_mnist_tiny(**_: Any) -> nn.Module:
    return mlp_critic(_MNIST, _TINY_HIDDEN)


@CLASSIFIERS.register("mnist-mlp")
def _clf_mnist_mlp(**_: Any) -> nn.Module:
    """The paper's frozen classifier: MLP 784-128-64-10 (ReLU)."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


@CLASSIFIERS.register("mnist-cnn")
def _clf_mnist_cnn(**_: Any) -> nn.Module:
    """Held-out scorer of another architecture: two strided convolutions, then an MLP head.

    Strided (not pooled) convolutions keep it cheap enough to score 10,000 images per run.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2),  # 14
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),  # 7
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


@CLASSIFIERS.register("mnist-tiny-mlp")
def _clf_mnist_tiny(**_: Any) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


# ----------------------------------------------------------------------------- SVHN
@ENCODERS.register("svhn-reference")
def _enc_svhn_ref(latent_dim: int, **_: Any) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Conv2d(128, 256, 5, stride=2, padding=2),
        nn.LeakyReLU(_SLOPE),
        nn.Flatten(),
        nn.Linear(4096, latent_dim),
        nn.Tanh(),
    )


@DECODERS.register("svhn-reference")
def _dec_svhn_ref(latent_dim: int, **_: Any) -> nn.Module:
    return nn.Sequential(
        *_expand(latent_dim),
        nn.ConvTranspose2d(32, 64, 5, stride=2),  # 4 -> 11
        *_bn_lrelu2d(64),
        nn.ConvTranspose2d(64, 108, 5, stride=2),  # 11 -> 25
        *_bn_lrelu2d(108),
        nn.ConvTranspose2d(108, 128, 5, stride=1),  # 25 -> 29
        *_bn_lrelu2d(128),
        nn.ConvTranspose2d(128, 3, 4, stride=1),  # 29 -> 32
        nn.Sigmoid(),
    )


@CRITICS.register("svhn-reference")
def _critic_svhn_ref(**_: Any) -> nn.Module:
    return _conv_critic(3)


@ENCODERS.register("svhn-cpu")
def _enc_svhn_cpu(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_encoder(_SVHN, latent_dim, _CPU_HIDDEN["svhn"])


@DECODERS.register("svhn-cpu")
def _dec_svhn_cpu(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_decoder(_SVHN, latent_dim, _CPU_HIDDEN["svhn"][::-1])


@CRITICS.register("svhn-cpu")
def _critic_svhn_cpu(**_: Any) -> nn.Module:
    return mlp_critic(_SVHN, (256, 128))


@ENCODERS.register("svhn-tiny")
def _enc_svhn_tiny(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_encoder(_SVHN, latent_dim, _TINY_HIDDEN)


@DECODERS.register("svhn-tiny")
def _dec_svhn_tiny(latent_dim: int, **_: Any) -> nn.Module:
    return mlp_decoder(_SVHN, latent_dim, _TINY_HIDDEN)


@CRITICS.register("svhn-tiny")
def _critic_svhn_tiny(**_: Any) -> nn.Module:
    return mlp_critic(_SVHN, _TINY_HIDDEN)


@CLASSIFIERS.register("svhn-cnn")
def _clf_svhn_cnn(**_: Any) -> nn.Module:
    """The paper's SVHN classifier: three VGG-style blocks (3x3 convs, max-pool), MLP head."""

    def block(cin: int, cmid: int, cout: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cmid, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cmid, cout, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]

    return nn.Sequential(
        *block(3, 32, 64),  # 16
        *block(64, 128, 128),  # 8
        *block(128, 256, 256),  # 4
        nn.Flatten(),
        nn.Linear(256 * 4 * 4, 1024),
        nn.ReLU(),
        nn.Linear(1024, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )


@CLASSIFIERS.register("svhn-small-cnn")
def _clf_svhn_small(**_: Any) -> nn.Module:
    """Held-out SVHN scorer: two 5x5 conv + pool layers and an MLP head."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 8
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


@CLASSIFIERS.register("svhn-tiny-mlp")
def _clf_svhn_tiny(**_: Any) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(3072, 32), nn.ReLU(), nn.Linear(32, 10))


# ----------------------------------------------------------------------------- accounting
def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (optionally only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def count_flops(fn: Callable[[], torch.Tensor], *, backward: bool = True) -> int:
    """Floating-point operations of ``fn()`` (+ a backward pass of its sum) counted by torch.

    Every aten op that runs is looked up in torch's own FLOP formulas
    (``torch.utils.flop_counter.flop_registry``: matrix multiplications and convolutions,
    2 FLOPs per multiply-add, forward and backward); element-wise ops are not counted (a
    small share here). Written as a dispatch mode rather than with ``FlopCounterMode``
    because the latter's module hooks fail on ``torch.autograd.grad`` with a double backward,
    which the WGAN-GP gradient penalty uses.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class _Counter(TorchDispatchMode):  # type: ignore[no-untyped-call]
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.total += int(formula(*args, **kwargs, out_val=out))
            return out

    counter = _Counter()  # type: ignore[no-untyped-call]
    with counter:
        out = fn()
        if backward:
            out.sum().backward()  # type: ignore[no-untyped-call]
    return counter.total
