"""Augmented MNIST for the ``invariant`` kind: seeded augmentation, VIC's canonical target,
tiny VC/VIC/BINCE runs through real coding, config errors, the GPU-sized preset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpc_neural.augment import AffineRanges, apply_affine, augment, sample_affine
from rdpc_neural.kinds.invariant_config import InvariantConfig, get_invariant_preset
from tests.neural_support import require_mnist


def _images(n: int = 6) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    return (torch.rand(n, 1, 28, 28, generator=g) > 0.7).float()


def test_augmentation_is_reproducible_by_seed() -> None:
    x = _images()
    a = augment(x, torch.Generator().manual_seed(5))
    b = augment(x, torch.Generator().manual_seed(5))
    c = augment(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # Each image gets its own map: no two outputs are the same warp of the same image.
    same = augment(x[:1].expand(4, -1, -1, -1), torch.Generator().manual_seed(5))
    assert len({tuple(v.flatten().tolist()) for v in same}) == 4


def test_augmentation_parameters_cover_the_reference_ranges() -> None:
    p = sample_affine(20_000, (28, 28), torch.Generator().manual_seed(0)).numpy()
    r = AffineRanges()
    for col, (low, high) in enumerate([(-45, 45), (-7, 7), (-7, 7), r.scale, (-25, 25)]):
        assert low <= p[:, col].min() < low + 0.05 * (high - low)
        assert high - 0.05 * (high - low) < p[:, col].max() <= high
    assert np.array_equal(p[:, 1], np.round(p[:, 1]))  # whole-pixel shifts


def test_identity_and_quarter_turn_against_exact_pixel_maps() -> None:
    # Identity parameters give the image back (the canonical representative); a 90° turn
    # and a whole-pixel shift are exact pixel permutations (torch.rot90 / roll).
    x = _images(2)
    ident = torch.tensor([[0.0, 0, 0, 1, 0]] * 2, dtype=torch.float64)
    assert torch.allclose(apply_affine(x, ident), x, atol=1e-5)
    quarter = torch.tensor([[90.0, 0, 0, 1, 0]] * 2, dtype=torch.float64)
    assert torch.allclose(apply_affine(x, quarter), torch.rot90(x, -1, dims=(-2, -1)), atol=1e-5)
    pad = torch.zeros_like(x)
    pad[..., 4:24, 4:24] = x[..., 4:24, 4:24]
    shift = torch.tensor([[0.0, 3, -2, 1, 0]] * 2, dtype=torch.float64)
    expected = torch.roll(pad, shifts=(-2, 3), dims=(-2, -1))
    assert torch.allclose(apply_affine(pad, shift), expected, atol=1e-5)


def test_batched_warp_matches_torchvision_image_by_image() -> None:
    # The batched grid_sample warp against torchvision's affine, one call per image (an
    # independent implementation: its own inverse matrix and sampling grid).
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as tvf

    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    params = sample_affine(16, (28, 28), torch.Generator().manual_seed(4))
    expected = torch.stack([
        tvf.affine(img, angle=a, translate=[int(tx), int(ty)], scale=s, shear=[sh, 0.0],
                   interpolation=InterpolationMode.BILINEAR)
        for img, (a, tx, ty, s, sh) in zip(x, params.tolist(), strict=True)
    ])  # fmt: skip
    assert torch.allclose(apply_affine(x, params), expected, atol=1e-5)


def test_cosine_schedule_matches_torch_scheduler() -> None:
    # The kind's cosine learning rates against torch's CosineAnnealingLR (eta_min = 0).
    from rdpc_neural.kinds.invariant import InvariantExperiment

    config = InvariantConfig(steps=7, batch_size=4, hidden=4, lr_schedule="cosine", lr=0.01)
    exp = InvariantExperiment(config)
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=config.steps)
    for step in range(config.steps):
        exp.train_step(step)
        assert exp.opt.param_groups[0]["lr"] == pytest.approx(reference.param_groups[0]["lr"])
        reference.step()
        sched.step()


def test_refined_encoder_keeps_the_latent_shape() -> None:
    from rdpc_neural.kinds.invariant_nets import ConvEncoder

    plain, refined = ConvEncoder(5, 4, 8), ConvEncoder(5, 4, 8, refine=2)
    convs = [m for m in refined.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 + 2 * 2
    assert refined(torch.zeros(3, 1, 28, 28)).shape == plain(torch.zeros(3, 1, 28, 28)).shape
    # refine = 0 is the original network, layer for layer (old checkpoints still load): the
    # parameters sit at the indices of conv, BN, ReLU, conv, BN, ReLU, flatten, dense, ReLU, dense.
    assert {k.split(".")[0] for k in plain.state_dict()} == {"0", "1", "3", "4", "7", "9"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": "mnist"}, "`invariance` must be one of 'affine' for source 'mnist'"),
        ({"source": "mnist", "invariance": "affine"}, "`architecture` must be one of 'cnn'"),
        ({"invariance": "affine"}, "`invariance` must be one of 'rotation'"),
        ({"architecture": "cnn"}, "`architecture` must be one of 'mlp' for source 'banana'"),
        ({"distortion": "bce"}, "`distortion` must be one of 'mse' for"),
        ({"distortion": "l1"}, "`distortion` must be one of 'mse', 'bce'; got 'l1'"),
        ({"rate_warmup": 1.5}, r"`rate_warmup` must be in \[0, 1\]"),
        ({"width": 0}, "`width` must be >= 1"),
        ({"conv_refine": -1}, "`conv_refine` must be >= 0"),
        ({"lr_schedule": "linear"}, "`lr_schedule` must be one of 'step', 'cosine'; got 'linear'"),
        (
            {
                "source": "mnist",
                "invariance": "affine",
                "architecture": "cnn",
                "val_items": 1000,
                "test_items": 10_001,
            },
            "`test_items` must be in",
        ),  # fmt: skip
    ],
)
def test_config_validation_names_parameter(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        InvariantConfig(**changes)


def test_mnist_presets_keep_the_banana_identities() -> None:
    # New fields have defaults: the banana presets' configs (and run hashes) are unchanged.
    banana = get_invariant_preset("banana-quick").configs()[0]
    assert "architecture" not in banana.to_dict() or banana.architecture == "mlp"
    cpu = get_invariant_preset("mnist-invariant-cpu").configs()
    assert {c.compressor for c in cpu} == {"vc", "vic", "bince"}
    assert all(c.source == "mnist" and c.distortion == "bce" for c in cpu)


@pytest.fixture(scope="module")
def mnist_env():
    root = require_mnist()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RDPC_DATA", str(root))
        yield root


def test_vic_decodes_the_unaugmented_digit(mnist_env, monkeypatch) -> None:
    # The distortion's target: VIC the training digits themselves, VC their warped copies.
    from rdpc_neural.kinds import invariant_images

    seen: list[torch.Tensor] = []
    original = invariant_images.distortion_bits

    def spy(config, logits, target):
        seen.append(target.clone())
        return original(config, logits, target)

    monkeypatch.setattr(invariant_images, "distortion_bits", spy)
    tiny = get_invariant_preset("mnist-invariant-tiny").configs()
    for config in tiny[:2]:  # vc, vic
        exp = invariant_images.ImageInvariantExperiment(config)
        exp.loss_terms(0)
        train = exp.data.x_train.flatten(1)
        hits = [(train == t.flatten()).all(1).any().item() for t in seen.pop()]
        if config.compressor == "vic":
            assert all(hits)
        else:
            assert not any(hits)


@pytest.fixture(scope="module")
def tiny_runs(mnist_env, tmp_path_factory):
    from rdpc_neural.kinds.invariant import train_invariant_run

    root = tmp_path_factory.mktemp("mnist_invariant_runs")
    configs = get_invariant_preset("mnist-invariant-tiny").configs()
    return root, [train_invariant_run(c, root, "tiny") for c in configs]


def test_tiny_runs_round_trip_through_compress_decompress(tiny_runs) -> None:
    from rdpc_neural.entropy import ChunkedStream
    from rdpc_neural.kinds.invariant import load_compressor
    from rdpc_neural.kinds.invariant_images import encode_batched

    x = augment(_images(20), torch.Generator().manual_seed(1))
    for res in tiny_runs[1]:
        assert res.finished and res.final is not None
        assert 0.0 <= res.final["probe_accuracy"] <= 1.0
        assert res.final["coded_bits"] > 0
        config, model = load_compressor(res.path)
        y = encode_batched(model, x)
        stream = model.prior.compress(y, chunk_items=7, check=True)
        decoded = ChunkedStream.from_bytes(stream.to_bytes())
        np.testing.assert_array_equal(
            model.prior.decompress_symbols(decoded), model.prior.symbols(y)
        )
        if config.compressor != "bince":
            assert model.decode(model.prior.decompress(decoded)).shape == x.shape


def test_rdpc_compress_codes_the_runs_own_test_images(tiny_runs, tmp_path, capsys) -> None:
    """`rdpc compress --data mnist` on an augmented-MNIST run: the file holds the MNIST test
    labels, decodes, and its payload is what the run's own final evaluation coded for the same
    augmented test images (its ``coded_bits`` and ``estimated_bits``: the experiment's path)."""
    from rdpc.cli import main
    from rdpc_neural.data import load_splits

    labels = load_splits("mnist", None).s_test.numpy()
    compared = 0
    for res in tiny_runs[1]:
        out = tmp_path / f"{res.path.name}.rdpcz"
        items = res.config.test_items
        args = ["--run", str(res.path), "--data", "mnist", "--split", "test", "--out", str(out)]
        assert main(["compress", *args, "--items", str(items)]) == 0
        npy = tmp_path / f"{res.path.name}.npy"
        assert main(["decompress", str(out), "--run", str(res.path), "--out", str(npy)]) == 0
        decoded_labels = np.load(npy.with_name(npy.stem + "_labels.npy"))
        np.testing.assert_array_equal(decoded_labels, labels[:items])
        assert np.load(npy).shape[0] == items
        from rdpc_neural.datafile import read_data_file

        f = read_data_file(out)
        payload_bits = 32 * sum(c.size for c in f.chunks) / items  # uint32 words
        # The run's stream is the same chunks plus its own framing; the estimate is the float
        # model's -log2 p of the same symbols (integer tables may code a little below it).
        assert 0.95 * res.final["estimated_bits"] <= payload_bits <= res.final["coded_bits"]
        compared += 1
    assert compared >= 1
    capsys.readouterr()


def test_mnist_figure_and_equal_accuracy_ratio(tiny_runs, tmp_path) -> None:
    from figures.invariant_mnist import mnist_invariant_figures
    from rdpc_neural.kinds.invariant_results import equal_error_ratio, invariant_runs_table

    root, _ = tiny_runs
    rows = invariant_runs_table(root, "tiny")
    assert {r["compressor"] for r in rows} == {"vc", "vic", "bince"}
    paths = mnist_invariant_figures(root, tmp_path, rows, preset="tiny", n_images=3,
                                    formats=("png",))  # fmt: skip
    assert [p.name for p in paths] == ["mnist_invariant_tiny.png"]
    # One VC run: no frontier to interpolate on, so no ratio (never an extrapolation).
    (ratio,) = equal_error_ratio(rows, "affine", error="probe_error")
    assert ratio["vc_bits_at_equal_error"] is None and ratio["ratio"] is None


def test_paper_preset_builds_and_takes_one_step(mnist_env) -> None:
    # The GPU-sized preset (ResNet-18, z = 128, hyperprior): built and one step, not trained.
    from rdpc_neural.kinds.invariant_images import ImageInvariantExperiment

    config = get_invariant_preset("mnist-invariant-paper").configs()[1]
    config = config.replace(batch_size=4)
    exp = ImageInvariantExperiment(config)
    assert config.latent_dim == 128 and config.entropy_model == "hyperprior"
    before = [p.detach().clone() for p in exp.model.encoder.parameters()]
    terms = exp.train_step(0)
    assert np.isfinite(terms["loss"]) and terms["rate_bits"] > 0
    after = list(exp.model.encoder.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
