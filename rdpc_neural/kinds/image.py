"""Train one codec run: one :class:`~rdpc_neural.kinds.image_config.RunConfig` -> one run directory.

The loop (per generator step; critic steps only when ``lambda_p > 0``)::

    for n_critic times:                       # WGAN-GP critic, two-sided penalty
        x ~ train, x_hat = codec(x) (no grad)
        L_f = mean f(x_hat) - mean f(x) + gp_weight * mean (||grad f(x_mix)|| - 1)^2
    x, s ~ train (epoch permutations), u ~ U[-step/2, step/2)^d (shared dither)
    x_hat = decoder(Q(encoder(x) + u) - u)
    L = lambda_d * distortion(x, x_hat) + lambda_p * (-mean f(x_hat))
        + lambda_c * label_loss_bits(x_hat, s)

Every ``eval_every`` steps the codec is evaluated on a fixed validation subset (same dither
each time) and a checkpoint is written; at the end the full test set gives the final row
(with the real coded rate and the exact W1) and ``summary.json`` marks the run finished.

Randomness is stateless per step: the batch order, dither, critic batches and penalty
interpolation of step ``t`` come from generators seeded by ``(seed, stream, t)``, and the
initialisation from ``seed``. So an interrupted run resumed from its last checkpoint
reproduces the uninterrupted run exactly (same process setup on CPU), and there is no global
seeding.

The loop only uses a :class:`~rdpc_neural.tasks.Task` (data tensors, distortion, label loss,
label metrics) and registry names, so other sources and model families plug in unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .. import entropy
from ..core.lifecycle import RunContext, RunResult, run_experiment
from ..core.registry import config_hash
from ..core.rundir import load_torch_file
from ..core.seeding import torch_generator
from ..models import CRITICS, DECODERS, ENCODERS
from ..quantize import UniformQuantizer
from ..tasks import Task, build_task, exact_w1, task_key
from .image_config import RunConfig

__all__ = [
    "Codec",
    "build_codec",
    "build_critic",
    "ImageExperiment",
    "build",
    "train_run",
    "evaluate",
    "critic_step",
    "generator_step",
    "prepare_classifier",
    "EVAL_BATCH",
    "STREAM_EVAL",
    "to_device",
]

# Random streams (seeded per step; see the module docstring).
STREAM_INIT, STREAM_PERM, STREAM_STEP, STREAM_CRITIC = 0, 1, 2, 3
STREAM_EVAL, STREAM_TRAIN_SYMBOLS = 4, 5
EVAL_BATCH = 1000


class Codec(nn.Module):
    """Encoder -> dithered quantizer -> decoder.

    With ``freeze_encoder`` (universal mode) the encoder stays in eval mode (BatchNorm uses
    its running statistics) and has no trainable parameters.
    """

    def __init__(
        self,
        encoder: nn.Module,
        quantizer: UniformQuantizer,
        decoder: nn.Module,
        *,
        freeze_encoder: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.quantizer = quantizer
        self.decoder = decoder
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    def train(self, mode: bool = True) -> Codec:
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()
        return self

    def forward(self, x: torch.Tensor, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"z": latents, "symbols": int64 symbols, "x_hat": reconstruction}``."""
        z = self.encoder(x)
        q = self.quantizer(z, u)
        return {"z": z, "symbols": q["symbols"], "x_hat": self.decoder(q["z_hat"])}


def _seeded_build(seed: int, stream: int, fn: Callable[[], nn.Module]) -> nn.Module:
    # nn.Module constructors draw from the global RNG; fork it so nothing leaks out.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed((seed * 1_000_003 + STREAM_INIT) * 31 + stream)
        return fn()


def build_codec(config: RunConfig, task: Task) -> Codec:
    """Encoder/decoder from the registries (``task.model_name(config)``), seeded."""
    name = task.model_name(config)
    enc = _seeded_build(config.seed, 0, lambda: ENCODERS.build(name, latent_dim=config.latent_dim))
    dec = _seeded_build(config.seed, 1, lambda: DECODERS.build(name, latent_dim=config.latent_dim))
    quant = UniformQuantizer(config.levels, config.grad_mode, config.soft_sigma)
    return Codec(enc, quant, dec, freeze_encoder=config.mode == "universal")


def build_critic(config: RunConfig, task: Task) -> nn.Module | None:
    """The critic, only when ``lambda_p > 0`` (else ``None``: no critic is trained)."""
    if config.lambda_p == 0:
        return None
    return _seeded_build(config.seed, 2, lambda: CRITICS.build(task.model_name(config)))


@torch.no_grad()
def _encode_symbols(codec: Codec, x: torch.Tensor, seed: int, stream: int) -> np.ndarray:
    codec.eval()
    g = torch_generator(seed, stream, 0)
    out = []
    for i in range(0, len(x), EVAL_BATCH):
        xb = x[i : i + EVAL_BATCH]
        z = codec.encoder(xb)
        u = codec.quantizer.dither(z.shape, g)
        out.append(codec.quantizer.symbols(z, u).cpu())
    codec.train()
    return torch.cat(out).numpy()


@torch.no_grad()
def evaluate(
    codec: Codec,
    critic: nn.Module | None,
    task: Task,
    x: torch.Tensor,
    s: torch.Tensor,
    *,
    config: RunConfig,
    step: int,
    split: str,
    final: bool = False,
) -> dict[str, Any]:
    """One metrics row (see :data:`~rdpc_neural.core.rundir.METRIC_COLUMNS`) on ``(x, s)``.

    The dither comes from a fixed stream, so evaluations at different steps are comparable.
    With ``final`` it adds the real coded rate (model fit on the training symbols) and the
    exact W1 between the first ``w1_samples`` images and their reconstructions.
    """
    codec.eval()
    g = torch_generator(config.seed, STREAM_EVAL, 0)
    n = len(x)
    sums = {"sq": 0.0, "ce_bits": 0.0, "acc": 0.0, "acc_heldout": 0.0, "f_real": 0.0, "f_fake": 0.0}
    symbols, kept = [], []
    n_w1 = min(config.w1_samples, n) if final else 0
    for i in range(0, n, EVAL_BATCH):
        xb, sb = x[i : i + EVAL_BATCH], s[i : i + EVAL_BATCH]
        z = codec.encoder(xb)
        u = codec.quantizer.dither(z.shape, g)
        q = codec.quantizer(z, u)
        x_hat = codec.decoder(q["z_hat"])
        symbols.append(q["symbols"].cpu())
        sums["sq"] += float(((x_hat - xb) ** 2).sum())
        for k, v in task.label_sums(x_hat, sb).items():
            sums[k] += v
        if critic is not None:
            sums["f_real"] += float(critic(xb).sum())
            sums["f_fake"] += float(critic(x_hat).sum())
        if i < n_w1:
            kept.append(x_hat[: n_w1 - i].cpu())
    codec.train()
    sym = torch.cat(symbols).numpy()
    levels = config.levels
    row: dict[str, Any] = {
        "step": step,
        "split": split,
        "n_images": n,
        "rate_bits": config.rate_bits,
        "entropy_bits": entropy.empirical_entropy_bits(sym, levels),
        "joint_entropy_bits": entropy.joint_entropy_bits(sym, levels),
        "mse": sums["sq"] / x[0].numel() / n,
        "w1_critic": (sums["f_real"] - sums["f_fake"]) / n if critic is not None else None,
        "ce_bits": sums["ce_bits"] / n,
        "acc": sums["acc"] / n,
        "acc_heldout": sums["acc_heldout"] / n,
    }
    if final:
        train_sym = _encode_symbols(codec, task.splits.x_train, config.seed, STREAM_TRAIN_SYMBOLS)
        row["coded_bits"] = entropy.coded_bits_per_item(train_sym, sym, levels)
        row["w1"] = exact_w1(x[:n_w1], torch.cat(kept))
    return row


def _lr_factor(config: RunConfig, step: int) -> float:
    return config.lr_decay_factor if step >= round(config.lr_decay_at * config.steps) else 1.0


class _BatchOrder:
    """Epoch permutations of the training set, regenerated from (seed, epoch) on demand."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if n < batch_size:
            raise ValueError(
                f"`batch_size` must be <= the training set size {n}; got {batch_size}."
            )
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = n // batch_size
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.int64)

    def indices(self, step: int) -> torch.Tensor:
        epoch, j = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch_generator(self.seed, STREAM_PERM, epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm[j * self.batch_size : (j + 1) * self.batch_size]


def critic_step(
    codec: Codec,
    critic: nn.Module,
    opt: torch.optim.Optimizer,
    task: Task,
    config: RunConfig,
    g: torch.Generator,
) -> float:
    x_all = task.splits.x_train
    idx = torch.randint(len(x_all), (config.batch_size,), generator=g)
    x = x_all[idx.to(x_all.device)]
    with torch.no_grad():
        u = codec.quantizer.dither((len(x), config.latent_dim), g)
        x_hat = codec(x, u)["x_hat"]
    alpha = torch.rand((len(x),) + (1,) * (x.dim() - 1), generator=g).to(x.device)
    mix = (alpha * x + (1 - alpha) * x_hat).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    loss = critic(x_hat).mean() - critic(x).mean() + config.gp_weight * penalty
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.item())


def generator_step(
    codec: Codec,
    critic: nn.Module | None,
    opt: torch.optim.Optimizer,
    task: Task,
    config: RunConfig,
    idx: torch.Tensor,
    g: torch.Generator,
) -> dict[str, float]:
    x = task.splits.x_train[idx.to(task.splits.x_train.device)]
    s = task.splits.s_train[idx.to(task.splits.s_train.device)]
    u = codec.quantizer.dither((len(x), config.latent_dim), g)
    x_hat = codec(x, u)["x_hat"]
    loss = x_hat.new_zeros(())
    terms: dict[str, float] = {}
    if config.lambda_d > 0:
        d = task.distortion(x, x_hat)
        loss = loss + config.lambda_d * d
        terms["mse"] = d.item()
    if config.lambda_p > 0 and critic is not None:
        critic.requires_grad_(False)
        p = -critic(x_hat).mean()
        critic.requires_grad_(True)
        loss = loss + config.lambda_p * p
        terms["w1"] = p.item()
    if config.lambda_c > 0:
        c = task.label_loss_bits(x_hat, s)
        loss = loss + config.lambda_c * c
        terms["ce"] = c.item()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    terms["loss"] = loss.item()
    return terms


_M = TypeVar("_M", bound=nn.Module)


def to_device(module: _M, device: str | torch.device, memory_format: str = "contiguous") -> _M:
    """`module` on `device`, its convolution weights (and so the activations that flow
    through them) in `memory_format` (``RunConfig.memory_format``)."""
    module = module.to(device)
    if memory_format == "channels_last":
        module = module.to(memory_format=torch.channels_last)
    return module


class ImageExperiment:
    """One image codec run (the ``image`` kind's :class:`~rdpc_neural.core.registry.Experiment`):
    codec, critic (only when ``lambda_p > 0``), optimizers and the task."""

    def __init__(self, config: RunConfig, task: Task, context: RunContext) -> None:
        self.config, self.task, self.device = config, task, context.device
        fmt = config.memory_format
        self.codec = to_device(build_codec(config, task), context.device, fmt)
        critic = build_critic(config, task)
        self.critic = to_device(critic, context.device, fmt) if critic is not None else None
        self.base_encoder_hash: str | None = None
        if config.mode == "universal":
            assert config.base_encoder is not None
            base = context.run_dependency(config.base_encoder)
            self.base_encoder_hash = config_hash(config.base_encoder)
            state = load_torch_file(
                base.path / "checkpoint.pt", map_location=context.device,
                remedy="delete the base encoder's run folder to retrain it",
            )  # fmt: skip
            enc_state = {
                k.removeprefix("encoder."): v
                for k, v in state["codec"].items()
                if k.startswith("encoder.")
            }
            self.codec.encoder.load_state_dict(enc_state)
            self.codec.encoder.eval()
        gen_params = [p for p in self.codec.parameters() if p.requires_grad]
        # Fused Adam (one kernel for all parameters) is ~1.5x faster for the small cpu models.
        fused = {"fused": True} if torch.device(context.device).type in ("cpu", "cuda") else {}
        self.opt_g = torch.optim.Adam(gen_params, lr=config.lr, betas=config.betas, **fused)
        self.opt_c = (
            torch.optim.Adam(
                self.critic.parameters(), lr=config.lr_critic, betas=config.critic_betas,
                **fused,
            )
            if self.critic is not None
            else None
        )  # fmt: skip
        self.order = _BatchOrder(len(task.splits.x_train), config.batch_size, config.seed)
        self.codec.train()

    @property
    def steps(self) -> int:
        return self.config.steps

    def is_eval_step(self, step: int) -> bool:
        return step % self.config.eval_every == 0 or step == self.config.steps

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        factor = _lr_factor(config, step)
        for group in self.opt_g.param_groups:
            group["lr"] = config.lr * factor
        if self.critic is not None and self.opt_c is not None:
            for group in self.opt_c.param_groups:
                group["lr"] = config.lr_critic * factor
            for k in range(config.n_critic):
                gc = torch_generator(config.seed, STREAM_CRITIC, step * config.n_critic + k)
                critic_step(self.codec, self.critic, self.opt_c, self.task, config, gc)
        g = torch_generator(config.seed, STREAM_STEP, step)
        return generator_step(self.codec, self.critic, self.opt_g, self.task, config,
                              self.order.indices(step), g)  # fmt: skip

    def evaluate(self, step: int, *, final: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        config, splits = self.config, self.task.splits
        if final:
            row = evaluate(self.codec, self.critic, self.task, splits.x_test, splits.s_test,
                           config=config, step=step, split="test", final=True)  # fmt: skip
            facts = {"base_encoder_hash": self.base_encoder_hash, **self.task.info()}
            return row, facts
        x_val, s_val = splits.x_val[: config.eval_size], splits.s_val[: config.eval_size]
        row = evaluate(self.codec, self.critic, self.task, x_val, s_val, config=config,
                       step=step, split="val")  # fmt: skip
        return row, {}

    def state_dict(self, *, final: bool) -> dict[str, Any]:
        # Final checkpoints carry no optimizer state: nothing is left to train.
        state: dict[str, Any] = {"codec": self.codec.state_dict()}
        if not final:
            state["opt_g"] = self.opt_g.state_dict()
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
            if not final and self.opt_c is not None:
                state["opt_c"] = self.opt_c.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.codec.load_state_dict(state["codec"])
        if self.critic is not None:
            self.critic.load_state_dict(state["critic"])
        if "opt_g" in state:
            self.opt_g.load_state_dict(state["opt_g"])
            if self.opt_c is not None:
                self.opt_c.load_state_dict(state["opt_c"])
        elif int(state["step"]) != self.config.steps:
            raise RuntimeError("checkpoint has no optimizer state before the last step")

    def describe(self) -> str:
        c = self.config
        return f"d={c.latent_dim} L={c.levels} λ=({c.lambda_d:g},{c.lambda_p:g},{c.lambda_c:g})"


def _task(config: RunConfig, context: RunContext) -> Task:
    """The task of `config` from the context's per-process resources (one dataset at a time
    per process), built on first use."""
    key = "image-task:" + task_key(config)
    if key not in context.resources:
        for k in [k for k in context.resources if k.startswith("image-task:")]:
            del context.resources[k]
        context.resources[key] = build_task(
            config, data_dir=context.data_dir, cache_dir=context.cache_dir,
            device=context.device, progress=context.progress,
        )  # fmt: skip
    task: Task = context.resources[key]
    return task


def build(config: RunConfig, context: RunContext) -> ImageExperiment:
    """The ``image`` kind's builder (registered in :mod:`rdpc_neural.kinds`)."""
    return ImageExperiment(config, _task(config, context), context)


def prepare_classifier(
    config_dict: dict[str, Any],
    which: str,
    *,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    device: str = "cpu",
) -> None:
    """Prerequisite job: train (or find cached) the frozen classifier `which` (``"clf"`` or
    ``"held"``) of the config `config_dict`."""
    from ..classifiers import load_or_train_classifier
    from ..data import load_splits
    from ..tasks import data_identity

    config = RunConfig.from_dict(config_dict)
    splits = load_splits(
        config.dataset, data_dir, val_size=config.val_size, split_seed=config.split_seed,
        train_subset=config.train_subset, test_subset=config.test_subset,
    )  # fmt: skip
    clf = config.classifier if which == "clf" else config.heldout_classifier
    load_or_train_classifier(clf, splits, data_identity(config, splits), cache_dir=cache_dir,
                             device="cpu")  # fmt: skip


def train_run(
    config: RunConfig,
    runs_root: str | os.PathLike[str],
    preset: str = "custom",
    *,
    task: Task | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    max_steps_this_call: int | None = None,
    progress: bool = False,
    position: int = 0,
) -> RunResult:
    """Train (or resume, or just read) the image run of `config` in
    ``<runs_root>/<preset>/<hash>``: :func:`~rdpc_neural.core.lifecycle.run_experiment` with
    an optional pre-built `task` (data + frozen classifiers)."""
    from pathlib import Path

    context = RunContext(
        Path(runs_root).resolve(), preset,
        data_dir=str(data_dir) if data_dir is not None else None,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        device=device, progress=progress, position=position,
    )  # fmt: skip
    if task is not None:
        context.resources["image-task:" + task_key(config)] = task
    return run_experiment(config, runs_root, preset, context=context,
                          max_steps_this_call=max_steps_this_call)  # fmt: skip
