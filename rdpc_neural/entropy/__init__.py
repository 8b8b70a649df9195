"""Entropy models and real entropy coding, all through one ``constriction`` coder.

Layout (one idea per module, imports flow downwards):

* :mod:`.coder`: the coder wrapper (chunks of ANS-coded categorical symbols with per-symbol,
  shared or uniform tables; independently decodable chunked streams).
* :mod:`.tables`: integer coding models with finite supports and an escape path.
* :mod:`.likelihood`: quantization modes and the one place likelihoods become bits.
* :mod:`.empirical`: empirical entropies and a categorical model fit on training symbols
  (the MNIST codecs' ``coded_bits``).
* :mod:`.piecewise`: the learned piecewise-linear density of the synthetic codecs.
* :mod:`.factorized`: factorized prior (Balle et al. 2018).
* :mod:`.gaussian`: Gaussian conditional with a scale table.
* :mod:`.hyperprior`: mean-scale hyperprior (Minnen et al. 2018).

A new entropy model is one new module here: a ``forward`` that returns its quantized tensor
and likelihoods, ``update()`` building its coding tables, and ``compress``/``decompress``
through :mod:`.coder`.
"""

from .coder import (
    WORD_BITS,
    CategoricalTables,
    ChunkDecoder,
    ChunkedStream,
    ChunkEncoder,
    chunk_slices,
    code_with_constriction,
    decode_chunks,
    encode_chunks,
)
from .empirical import (
    FactorizedCategorical,
    coded_bits_per_item,
    empirical_entropy_bits,
    joint_entropy_bits,
)
from .factorized import FactorizedPrior
from .gaussian import GaussianConditional, gaussian_interval_mass
from .hyperprior import MeanScaleHyperprior
from .likelihood import QUANTIZATION_MODES, likelihood_bits
from .piecewise import (
    UNIFORM_MIX,
    PiecewiseLinearDensity,
    compress_symbols,
    decompress_symbols,
    symbol_probabilities,
)
from .tables import IntegerTables

__all__ = [
    "WORD_BITS",
    "CategoricalTables",
    "ChunkEncoder",
    "ChunkDecoder",
    "ChunkedStream",
    "chunk_slices",
    "encode_chunks",
    "decode_chunks",
    "code_with_constriction",
    "IntegerTables",
    "QUANTIZATION_MODES",
    "likelihood_bits",
    "FactorizedCategorical",
    "coded_bits_per_item",
    "empirical_entropy_bits",
    "joint_entropy_bits",
    "UNIFORM_MIX",
    "PiecewiseLinearDensity",
    "symbol_probabilities",
    "compress_symbols",
    "decompress_symbols",
    "FactorizedPrior",
    "GaussianConditional",
    "gaussian_interval_mass",
    "MeanScaleHyperprior",
]
