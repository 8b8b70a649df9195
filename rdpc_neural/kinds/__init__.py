"""The experiment kinds of rdpc_neural, registered with the core (torch-free to import).

=============  ==========================================================================
kind           what it trains
=============  ==========================================================================
``image``      RDPC codecs on MNIST/SVHN (Wang et al., JSAC 2025, Sec. VI): encoder,
               dithered quantizer, decoder, optional WGAN critic, frozen classifiers
               (:mod:`.image_config`, :mod:`.image_presets`, :mod:`.image`,
               :mod:`.image_results`)
``synthetic``  codecs on the theoretical binary/Gaussian sources, measured against the
               per-letter bounds (:mod:`.synthetic_config`, :mod:`.synthetic`,
               :mod:`.synthetic_results`)
``invariant``  invariant compressors (VC, VIC, BINCE) for prediction, Dubois et al. 2021
               on the banana and augmented MNIST (:mod:`.invariant_config`,
               :mod:`.invariant_nets`, :mod:`.invariant`, :mod:`.invariant_images`)
``features``   a learned entropy bottleneck on a frozen encoder's features (the reference's
               CLIP compressor recipe; :mod:`.features_config`, :mod:`.features`)
=============  ==========================================================================

A new kind is one module (config class + ``build(config, context)``) plus one
:func:`~rdpc_neural.core.registry.register_kind` call and its presets here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ..core.registry import ExperimentKind, Prerequisite, register_kind, register_preset
from . import (
    features_config,
    image_config,
    image_presets,
    image_results,
    invariant_config,
    synthetic_config,
    synthetic_results,
)

__all__ = ["IMAGE", "SYNTHETIC", "INVARIANT", "FEATURES"]


def _image_dependencies(config: image_config.RunConfig) -> list[image_config.RunConfig]:
    return [config.base_encoder] if config.base_encoder is not None else []


def _image_prerequisites(config: image_config.RunConfig) -> list[Prerequisite]:
    # The two frozen classifiers, trained once into the cache before any run needs them.
    data = {
        k: getattr(config, k)
        for k in ("dataset", "val_size", "split_seed", "train_subset", "test_subset")
    }
    out = []
    for which, clf in (("clf", config.classifier), ("held", config.heldout_classifier)):
        key = f"classifier {clf.to_dict()} on {data}"
        out.append(
            Prerequisite(
                key,
                "rdpc_neural.kinds.image:prepare_classifier",
                (which,),
                f"frozen classifier {clf.arch}",
            )
        )
    return out


IMAGE = register_kind(
    ExperimentKind(
        name=image_config.KIND,
        description="RDPC codecs on MNIST/SVHN images",
        config_class=image_config.RunConfig,
        schema_version=image_config.SCHEMA_VERSION,
        metric_columns=image_config.METRIC_COLUMNS,
        int_columns=("step", "n_images"),
        build="rdpc_neural.kinds.image:build",
        listing_columns=image_results.RUN_COLUMNS,
        listing_row=image_results.listing_row,
        dependencies=_image_dependencies,
        prerequisites=_image_prerequisites,
        migrate=image_config.migrate,
        legacy_dict=image_config.legacy_dict,
    )
)

SYNTHETIC = register_kind(
    ExperimentKind(
        name=synthetic_config.KIND,
        description="codecs on the theoretical binary/Gaussian sources vs their bounds",
        config_class=synthetic_config.SyntheticConfig,
        schema_version=synthetic_config.SCHEMA_VERSION,
        metric_columns=synthetic_results.SYNTHETIC_COLUMNS,
        int_columns=synthetic_results.SYNTHETIC_INT_COLUMNS,
        build="rdpc_neural.kinds.synthetic:build",
        listing_columns=synthetic_results.LISTING_COLUMNS,
        listing_row=synthetic_results.listing_row,
        migrate=synthetic_config.migrate,
        legacy_dict=synthetic_config.legacy_dict,
    )
)

for _name in image_presets.PRESETS:
    register_preset(_name, IMAGE.name, partial(image_presets.get_preset, _name))
for _name in synthetic_config.SYNTHETIC_PRESETS:
    register_preset(_name, SYNTHETIC.name, partial(synthetic_config.get_synthetic_preset, _name))

# Metric columns of the invariant kind (kept here, torch-free: the kind's module imports torch).
INVARIANT_COLUMNS: tuple[str, ...] = (
    "step", "split", "n_items", "noise_rate_bits", "estimated_bits", "coded_bits",
    "coded_over_estimated", "distortion", "invariant_mse", "invariant_var",
    "recon_invariant_mse", "cells", "probe_accuracy",
)  # fmt: skip


def _invariant_listing_row(config: invariant_config.InvariantConfig) -> dict[str, Any]:
    return {"source": config.source, "compressor": config.compressor,
            "invariance": config.invariance, "beta": config.beta,
            "latent_dim": config.latent_dim}  # fmt: skip


INVARIANT = register_kind(
    ExperimentKind(
        name=invariant_config.KIND,
        description="invariant compressors for prediction (VC, VIC, BINCE) with real coding",
        config_class=invariant_config.InvariantConfig,
        schema_version=invariant_config.SCHEMA_VERSION,
        metric_columns=INVARIANT_COLUMNS,
        int_columns=("step", "n_items", "cells"),
        build="rdpc_neural.kinds.invariant_images:build",
        listing_columns=(
            "preset",
            "hash",
            "status",
            "source",
            "compressor",
            "invariance",
            "beta",
            "latent_dim",
            "step",
            "coded_bits",
            "estimated_bits",
            "distortion",
            "invariant_mse",
            "probe_accuracy",
            "cells",
            "train_seconds",
        ),  # fmt: skip
        listing_row=_invariant_listing_row,
    )
)
for _name in invariant_config.INVARIANT_PRESETS:
    register_preset(_name, INVARIANT.name, partial(invariant_config.get_invariant_preset, _name))


def _features_listing_row(config: features_config.FeaturesConfig) -> dict[str, Any]:
    return {"encoder": config.encoder, "encoder_name": config.encoder_name, "beta": config.beta}


FEATURES = register_kind(
    ExperimentKind(
        name=features_config.KIND,
        description="entropy bottleneck on a frozen encoder's features, linear probes",
        config_class=features_config.FeaturesConfig,
        schema_version=features_config.SCHEMA_VERSION,
        metric_columns=features_config.METRIC_COLUMNS,
        int_columns=features_config.INT_COLUMNS,
        build="rdpc_neural.kinds.features:build",
        listing_columns=(
            "preset",
            "hash",
            "status",
            "encoder",
            "encoder_name",
            "beta",
            "step",
            "coded_bits",
            "estimated_bits",
            "l1_distortion",
            "logistic_acc",
            "linear_svc_acc",
            "train_seconds",
        ),  # fmt: skip
        listing_row=_features_listing_row,
    )
)
for _name in features_config.FEATURES_PRESETS:
    register_preset(_name, FEATURES.name, partial(features_config.get_features_preset, _name))
