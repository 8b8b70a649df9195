"""Dataset files of an RDPC image codec (kind ``image``): round trip with its dither and model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neural_support import require_mnist, tiny_config

from rdpc_common.errors import FileProblem


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    from rdpc_neural.kinds.image import train_run
    from rdpc_neural.tasks import build_task

    root = require_mnist()
    cache = tmp_path_factory.mktemp("cache")
    torch.set_num_threads(1)
    task = build_task(tiny_config(), data_dir=root, cache_dir=cache, download=False)
    res = train_run(tiny_config(), tmp_path_factory.mktemp("runs"), "img", task=task)
    return res.path, root


def test_image_codec_file_round_trip(image_run, tmp_path) -> None:
    from rdpc_neural.compression import compress_split, decompress_file, open_codec
    from rdpc_neural.entropy import FactorizedCategorical

    run, data = image_run
    out = tmp_path / "test.rdpcz"
    facts = compress_split(run, "mnist", "test", out, items=300, chunk_items=128, data_dir=data)
    z, labels, _ = decompress_file(out, run, data_dir=data)
    rec, _, _ = decompress_file(out, run, what="reconstruction", data_dir=data)
    # Independent path: the codec's own encoder + dithered quantizer with the file's dither.
    codec = open_codec(run, data)
    x, s = codec.splits.x_test[:300], codec.splits.s_test[:300]
    with torch.no_grad():
        from rdpc_neural.core.seeding import torch_generator
        from rdpc_neural.image_coding import FILE_DITHER_STREAM

        g = torch_generator(codec.config.seed, FILE_DITHER_STREAM, 0)
        u = codec.codec.quantizer.dither((300, codec.config.latent_dim), g)
        q = codec.codec.quantizer(codec.codec.encoder(x), u)
        np.testing.assert_allclose(z, q["z_hat"].numpy(), atol=1e-6)
        np.testing.assert_allclose(rec, codec.codec.decoder(q["z_hat"]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(labels, s.numpy())
    assert facts["items"] == 300 and facts["bits_per_item"] > 0
    assert isinstance(codec.model, FactorizedCategorical)
    # Real ANS stream vs the model's estimate: within 1% plus at most two 32-bit words of
    # tail per chunk (3 chunks of <= 128 items).
    payload, estimate = 300 * facts["payload_bits_per_item"], 300 * facts["estimated_bits_per_item"]
    assert 0.999 * estimate <= payload <= 1.01 * estimate + 3 * 64


def test_image_file_refused_by_an_invariant_run(image_run, tmp_path) -> None:
    from rdpc_neural.compression import compress_split, decompress_file
    from rdpc_neural.kinds.invariant import train_invariant_run
    from rdpc_neural.kinds.invariant_config import InvariantConfig

    run, data = image_run
    out = tmp_path / "t.rdpcz"
    compress_split(run, "mnist", "test", out, items=50, data_dir=data)
    tiny = InvariantConfig(
        steps=2, eval_every=1, hidden=8, val_items=64, test_items=64, fit_items=64
    )
    other = train_invariant_run(tiny, tmp_path, "b").path
    with pytest.raises(FileProblem, match=r"written by another model: .*kind 'invariant'"):
        decompress_file(out, other)
