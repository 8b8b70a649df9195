"""Run configs: validation before training, JSON round-trip, hashing, presets, CLI errors."""

from __future__ import annotations

import json
import math

import pytest

from rdpc.cli import main
from rdpc_neural.core.registry import config_hash
from rdpc_neural.core.schema import apply_overrides, parse_override
from rdpc_neural.kinds.image_config import ClassifierConfig, RunConfig
from rdpc_neural.kinds.image_presets import MNIST_RATES, get_preset, preset_names


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"levels": 1}, r"`levels` must be >= 2; got 1\."),
        ({"latent_dim": 0}, r"`latent_dim` must be >= 1; got 0\."),
        ({"lambda_c": -0.1}, r"`lambda_c` must be >= 0; got -0\.1\."),
        ({"lambda_d": -1.0}, r"`lambda_d` must be >= 0; got -1\."),
        ({"lambda_p": math.nan}, r"`lambda_p` must be finite"),
        ({"lambda_d": 0.0, "lambda_c": 0.0}, r"at least one of `lambda_d`"),
        ({"grad_mode": "noise"}, r"`grad_mode` must be one of 'soft-to-hard'"),
        ({"memory_format": "nhwc"}, r"`memory_format` must be one of 'contiguous'"),
        ({"dataset": "cifar"}, r"`dataset` must be one of"),
        ({"size": "huge"}, r"`size` must be one of"),
        ({"steps": 0}, r"`steps` must be >= 1"),
        ({"batch_size": 1}, r"`batch_size` must be >= 2"),
        ({"levels": 2.5}, r"`levels` must be an integer"),
        ({"betas": (0.5, 1.0)}, r"`betas\[1\]` must be in \[0, 1\)"),
        ({"mode": "universal"}, r"`base_encoder` must be the RunConfig"),
        ({"dataset": "svhn"}, r"`classifier.arch` must be one of 'svhn-cnn'"),
    ],
)
def test_bad_configs_fail_with_named_parameter(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RunConfig(**changes)


def test_heldout_classifier_must_differ() -> None:
    clf = ClassifierConfig(arch="mnist-mlp")
    with pytest.raises(ValueError, match="must differ"):
        RunConfig(classifier=clf, heldout_classifier=clf)


def test_universal_base_must_match_rate() -> None:
    base = RunConfig(latent_dim=4)
    with pytest.raises(ValueError, match=r"`base_encoder.latent_dim` must equal `latent_dim`"):
        RunConfig(latent_dim=5, mode="universal", base_encoder=base)
    ok = RunConfig(latent_dim=4, mode="universal", base_encoder=base, lambda_c=0.01)
    assert ok.base_encoder == base


def test_json_round_trip_and_hash() -> None:
    base = RunConfig(latent_dim=3, levels=3, lambda_c=0.013)
    cfg = RunConfig(
        latent_dim=3, levels=3, lambda_c=0.01, mode="universal", base_encoder=base, betas=(0.4, 0.8)
    )
    text = json.dumps(cfg.to_dict())
    back = RunConfig.from_dict(json.loads(text))
    assert back == cfg
    assert isinstance(back.betas, tuple) and isinstance(back.base_encoder, RunConfig)
    assert config_hash(back) == config_hash(cfg)
    # Indented JSON (as in config.json) reads back too; any field change changes the hash.
    assert RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict(), indent=2))) == cfg
    assert config_hash(cfg.replace(seed=1)) != config_hash(cfg)
    # ints given for float fields are accepted and normalised (same hash as the float).
    assert config_hash(RunConfig.from_dict({"lambda_d": 1})) == config_hash(RunConfig())


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown RunConfig key\(s\) lamda_c"):
        RunConfig.from_dict({"lamda_c": 0.1})
    with pytest.raises(ValueError, match=r"unknown ClassifierConfig key\(s\) classifier.depth"):
        RunConfig.from_dict({"classifier": {"depth": 3}})
    with pytest.raises(ValueError, match="unknown config key 'lamda_c'"):
        apply_overrides(RunConfig(), ["lamda_c=0.1"])
    with pytest.raises(ValueError, match="key=value"):
        parse_override("lambda_c")


def test_overrides_parse_json_values() -> None:
    cfg = apply_overrides(
        RunConfig(), ["lambda_c=0.015", "grad_mode=straight-through", "betas=[0.5, 0.99]"]
    )
    assert cfg.lambda_c == 0.015 and cfg.grad_mode == "straight-through"
    assert cfg.betas == (0.5, 0.99)


def test_nominal_rate() -> None:
    assert [RunConfig(latent_dim=d, levels=L).rate_bits for d, L in MNIST_RATES] == pytest.approx(
        [3 * math.log2(3), 6.0, 8.0, 10.0]
    )


def test_presets_match_published_grids() -> None:
    expected = {
        "paper-fig9a": 128,
        "paper-fig9b": 168,
        "paper-fig10": 252,
        "paper-svhn": 120,
        "cpu-fig9a": 128,
        "cpu-fig9b": 168,
        "cpu-fig10": 252,
        "cpu-svhn": 120,
    }
    for name, n in expected.items():
        configs = get_preset(name).configs()
        assert len(configs) == n
        assert len({config_hash(c) for c in configs}) == n
    fig9a = get_preset("cpu-fig9a").configs()
    assert {c.lambda_d for c in fig9a} == {0.5, 0.8, 1.0, 1.2}
    assert {c.lambda_p for c in fig9a} == {0.0}
    assert sorted({c.lambda_c for c in fig9a}) == [
        0.0025, 0.005, 0.006, 0.008, 0.01, 0.011, 0.013, 0.015
    ]  # fmt: skip
    assert sorted({c.rate_bits for c in fig9a}) == pytest.approx([4.7549, 6, 8, 10], abs=1e-4)
    # CPU presets keep the grid, change only sizes/schedules.
    paper = {(c.latent_dim, c.levels, c.lambda_d, c.lambda_p, c.lambda_c)
             for c in get_preset("paper-fig9a").configs()}  # fmt: skip
    cpu = {(c.latent_dim, c.levels, c.lambda_d, c.lambda_p, c.lambda_c) for c in fig9a}
    assert paper == cpu
    ref = get_preset("paper-fig9a").base
    assert (ref.size, ref.batch_size, ref.lr, ref.lr_critic, ref.gp_weight) == (
        "reference", 128, 1e-2, 2e-4, 10.0
    )  # fmt: skip
    svhn = get_preset("paper-svhn").configs()
    assert sorted({c.rate_bits for c in svhn}) == [30.0, 45.0, 60.0]
    assert set(preset_names()) >= set(expected)


def test_universal_preset_shares_one_encoder_per_rate() -> None:
    configs = get_preset("cpu-fig9a-universal").configs()
    bases = {config_hash(c.base_encoder) for c in configs}
    assert len(bases) == len(MNIST_RATES)
    assert all(c.mode == "universal" for c in configs)


def test_unknown_preset() -> None:
    with pytest.raises(ValueError, match="`preset` must be one of"):
        get_preset("fig9a")


def test_cli_rejects_bad_config_before_training(tmp_path, capsys) -> None:
    rc = main(["train", "--set", "levels=1", "--runs-dir", str(tmp_path), "--no-progress"])
    assert rc == 2
    assert "`levels` must be >= 2; got 1." in capsys.readouterr().err
    rc = main(["sweep", "--preset", "cpu-fig9a", "--set", "lambda_c=-1", "--runs-dir",
               str(tmp_path)])  # fmt: skip
    assert rc == 2
    assert "`lambda_c` must be >= 0" in capsys.readouterr().err
    rc = main(["train", "--set", "nope=1", "--runs-dir", str(tmp_path)])
    assert rc == 2
    assert "unknown config key 'nope'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing was written


def test_cli_lists_presets_and_dry_run(tmp_path, capsys) -> None:
    assert main(["sweep", "--list"]) == 0
    assert "cpu-fig9a" in capsys.readouterr().out
    assert main(["sweep", "--preset", "cpu-fig9a", "--dry-run", "--runs-dir", str(tmp_path)]) == 0
    assert "128 runs, 0 finished, 128 to run" in capsys.readouterr().err
    only = ["--only", "rate_bits=10", "--only", "lambda_d=1"]
    assert main(["sweep", "--preset", "cpu-fig9a", *only, "--dry-run", "--runs-dir",
                 str(tmp_path)]) == 0  # fmt: skip
    assert "8 runs, 0 finished, 8 to run" in capsys.readouterr().err
    assert main(["sweep", "--preset", "cpu-fig9a", "--only", "rate=1", "--dry-run"]) == 2
    assert "unknown `--only` key 'rate'" in capsys.readouterr().err
