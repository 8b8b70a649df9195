"""Model registry: strict names, shapes of every registered network, published sizes."""

from __future__ import annotations

import pytest
import torch

from rdpc_neural.kinds.image_config import CLASSIFIER_ARCHS, DATASETS, SIZES
from rdpc_neural.models import CLASSIFIERS, CRITICS, DECODERS, ENCODERS, Registry, count_flops

SHAPES = {"mnist": (1, 28, 28), "svhn": (3, 32, 32)}


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("size", SIZES)
def test_codec_and_critic_shapes(dataset: str, size: str) -> None:
    name = f"{dataset}-{size}"
    x = torch.rand((4, *SHAPES[dataset]))
    enc = ENCODERS.build(name, latent_dim=5).eval()
    dec = DECODERS.build(name, latent_dim=5).eval()
    critic = CRITICS.build(name)
    z = enc(x)
    assert z.shape == (4, 5) and float(z.detach().abs().max()) <= 1.0
    x_hat = dec(z).detach()
    assert x_hat.shape == x.shape
    assert 0.0 <= float(x_hat.min()) and float(x_hat.max()) <= 1.0
    assert critic(x).shape == (4, 1)


@pytest.mark.parametrize("dataset", DATASETS)
def test_classifier_shapes(dataset: str) -> None:
    x = torch.rand((3, *SHAPES[dataset]))
    for arch in CLASSIFIER_ARCHS[dataset]:
        assert CLASSIFIERS.build(arch)(x).shape == (3, 10), arch


def test_reference_mnist_sizes_follow_the_paper() -> None:
    enc = ENCODERS.build("mnist-reference", latent_dim=4)
    widths = [m.out_features for m in enc if isinstance(m, torch.nn.Linear)]
    assert widths == [512, 256, 128, 128, 4]
    dec = DECODERS.build("mnist-reference", latent_dim=4)
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0])
             for m in dec if isinstance(m, torch.nn.ConvTranspose2d)]  # fmt: skip
    assert convs == [(32, 64, 5, 2), (64, 128, 5, 2), (128, 1, 4, 1)]
    clf = CLASSIFIERS.build("mnist-mlp")
    assert [m.out_features for m in clf if isinstance(m, torch.nn.Linear)] == [128, 64, 10]
    critic = CRITICS.build("mnist-reference")
    assert [m.out_channels for m in critic if isinstance(m, torch.nn.Conv2d)] == [64, 128, 256]
    # Profiled on the published networks: ~90% of the decoder's cost is the 64->128
    # transposed convolution.
    dec.eval()
    total = count_flops(lambda: dec(torch.zeros(1, 4)), backward=False)
    big = [m for m in dec if isinstance(m, torch.nn.ConvTranspose2d)][1]
    assert big.out_channels == 128
    big_flops = 2 * 64 * 128 * 25 * 11 * 11  # every input pixel hits a 5x5 kernel
    assert 0.8 < big_flops / total < 0.95


def test_registry_is_strict() -> None:
    reg = Registry("thing")
    reg.register("a")(lambda: torch.nn.Identity())
    with pytest.raises(ValueError, match="thing 'a' is already registered"):
        reg.register("a")(lambda: torch.nn.Identity())
    with pytest.raises(ValueError, match=r"`thing` must be one of 'a'; got 'b'"):
        reg.build("b")
