"""Dataset files of latent models (factorized prior, mean-scale hyperprior): file size against
the coding model's estimate, chunk-by-chunk decoding of side and main latents, and decoding
from stored integer tables only (portability)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rdpc_common.errors import FileProblem
from rdpc_neural.compression import compress_items, decompress_items, latent_codec
from rdpc_neural.datafile import read_data_file
from rdpc_neural.entropy import ChunkDecoder, FactorizedPrior, MeanScaleHyperprior
from rdpc_neural.entropy import gaussian as gaussian_module


def _latents(items: int, channels: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    scales = torch.linspace(0.3, 6.0, channels)
    return torch.randn(items, channels, generator=g) * scales


def _hyperprior(channels: int, seed: int) -> MeanScaleHyperprior:
    torch.manual_seed(seed)
    model = MeanScaleHyperprior(channels, hyper_channels=4, hidden=16).eval()
    model.update()
    return model


def _labels(items: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 10, items)


@pytest.mark.parametrize("kind", ["factorized", "hyperprior"])
def test_whole_file_within_one_percent_of_the_estimate_at_1000_items(kind, tmp_path) -> None:
    """Header + chunks vs the coding model's sum of -log2 p (labels reported apart), and
    the decoded latents equal the encoder's, computed here without any file."""
    if kind == "factorized":
        torch.manual_seed(0)
        prior: torch.nn.Module = FactorizedPrior(32, init_scale=3.0).eval()
        prior.update()
    else:
        prior = _hyperprior(32, seed=0)
    codec = latent_codec(prior, "m")
    y = _latents(1000, 32, seed=1)
    facts = compress_items(codec, y.numpy(), _labels(1000), tmp_path / "f.rdpcz", chunk_items=1000)
    estimate = facts["estimated_bits_per_item"] * 1000
    # Independent estimate: -log2 of the coding probabilities, summed here.
    assert estimate == pytest.approx(-np.log2(prior.coding_likelihoods(prior.symbols(y))).sum())
    assert 1.0 <= facts["file_over_estimated"] <= 1.01
    assert facts["label_bytes"] > 0 and facts["bits_per_item"] * 1000 / 8 == (
        facts["file_bytes"] - facts["label_bytes"]
    )
    rep, labels, _ = decompress_items(codec, tmp_path / "f.rdpcz")
    with torch.no_grad():
        expected = prior(y, mode="dequantize")["y_hat"].numpy()
    np.testing.assert_array_equal(rep, expected)
    np.testing.assert_array_equal(labels, _labels(1000))


def test_hyperprior_chunks_decode_alone_with_side_and_main_latents(tmp_path) -> None:
    model = _hyperprior(16, seed=2)
    codec = latent_codec(model, "h")
    y = _latents(250, 16, seed=3)
    compress_items(codec, y.numpy(), None, tmp_path / "h.rdpcz", chunk_items=100)
    f = read_data_file(tmp_path / "h.rdpcz")
    assert f.chunk_sizes == (100, 100, 50) and f.width == 4 + 16 and f.labels is None
    # Chunk 1 alone: z first, then y given h_s(z); equal to the encoder's symbols.
    dec = ChunkDecoder(f.chunks[1])
    part = codec.decode_chunk(dec, 100)
    dec.finish()
    np.testing.assert_array_equal(part, model.symbols(y[100:200]))
    f.check_chunk(1, part)


def test_decoding_uses_stored_integer_tables_not_floats(tmp_path, monkeypatch) -> None:
    """A decoder loaded from the state dict decodes identically even when its Gaussian
    table function gives other floats (another platform's erfc) or is never callable;
    changed weights are refused as another model; a hyper-decoder that computes other
    scales (with the same id) fails the chunk checksum instead of giving garbage."""
    model = _hyperprior(16, seed=4)
    state = copy.deepcopy(model.state_dict())
    y = _latents(300, 16, seed=5)
    path = tmp_path / "p.rdpcz"
    compress_items(latent_codec(model, "p"), y.numpy(), _labels(300), path, chunk_items=128)
    reference, _, _ = decompress_items(latent_codec(model, "p"), path)

    def other_floats(offset: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return torch.full_like(offset * scale, 0.25)  # nothing like a Gaussian

    monkeypatch.setattr(gaussian_module, "gaussian_interval_mass", other_floats)
    monkeypatch.setattr(gaussian_module.GaussianConditional, "update", None)
    fresh = MeanScaleHyperprior(16, hyper_channels=4, hidden=16).eval()
    fresh.load_state_dict(state)
    decoded, _, _ = decompress_items(latent_codec(fresh, "p"), path)
    np.testing.assert_array_equal(decoded, reference)

    changed = copy.deepcopy(fresh)
    with torch.no_grad():
        changed.hyper_decoder[2].bias.add_(3.0)
    with pytest.raises(FileProblem, match="written by another model: expected model id"):
        decompress_items(latent_codec(changed, "p"), path)

    same_id = latent_codec(changed, "p")
    identity = latent_codec(fresh, "p").identity
    monkeypatch.setattr(type(same_id), "identity", property(lambda _: identity))
    with pytest.raises(FileProblem, match="chunk 0 .*does not|chunk 0 of 3"):
        decompress_items(same_id, path)
