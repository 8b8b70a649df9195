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

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import entropy
from ..core.rundir import (
    RunPaths,
    atomic_torch_save,
    atomic_write_json,
    file_lock,
    read_metrics_csv,
    run_paths,
    write_metrics_csv,
    write_run_config,
)
from ..models import CRITICS, DECODERS, ENCODERS
from ..quantize import UniformQuantizer
from ..tasks import Task, build_task, exact_w1
from .image_config import RunConfig, config_hash

__all__ = ["Codec", "build_codec", "build_critic", "RunResult", "train_run", "evaluate"]

# Random streams (seeded per step; see the module docstring).
_STREAM_INIT, _STREAM_PERM, _STREAM_STEP, _STREAM_CRITIC = 0, 1, 2, 3
_STREAM_EVAL, _STREAM_TRAIN_SYMBOLS = 4, 5
_EVAL_BATCH = 1000


def _generator(seed: int, stream: int, index: int) -> torch.Generator:
    """A CPU generator for (seed, stream, index): independent, reproducible streams."""
    mixed = (seed * 1_000_003 + stream) * 2_147_483_647 + index
    return torch.Generator().manual_seed(mixed % (2**63 - 1))


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
        torch.manual_seed((seed * 1_000_003 + _STREAM_INIT) * 31 + stream)
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


@dataclass(frozen=True)
class RunResult:
    """Outcome of :func:`train_run`: the run folder, whether it finished, its metric rows."""

    path: Path
    config: RunConfig
    finished: bool
    step: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def final(self) -> dict[str, Any] | None:
        """The final (test) metrics row, if finished."""
        return self.rows[-1] if self.finished and self.rows else None


@torch.no_grad()
def _encode_symbols(codec: Codec, x: torch.Tensor, seed: int, stream: int) -> np.ndarray:
    codec.eval()
    g = _generator(seed, stream, 0)
    out = []
    for i in range(0, len(x), _EVAL_BATCH):
        xb = x[i : i + _EVAL_BATCH]
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
    g = _generator(config.seed, _STREAM_EVAL, 0)
    n = len(x)
    sums = {"sq": 0.0, "ce_bits": 0.0, "acc": 0.0, "acc_heldout": 0.0, "f_real": 0.0, "f_fake": 0.0}
    symbols, kept = [], []
    n_w1 = min(config.w1_samples, n) if final else 0
    for i in range(0, n, _EVAL_BATCH):
        xb, sb = x[i : i + _EVAL_BATCH], s[i : i + _EVAL_BATCH]
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
        train_sym = _encode_symbols(codec, task.splits.x_train, config.seed, _STREAM_TRAIN_SYMBOLS)
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
            g = _generator(self.seed, _STREAM_PERM, epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm[j * self.batch_size : (j + 1) * self.batch_size]


def _critic_step(
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


def _generator_step(
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


def _write_config(paths: RunPaths, config: RunConfig, preset: str) -> None:
    write_run_config(paths.config, {
        "config": config.to_dict(),
        "hash": config_hash(config),
        "preset": preset,
        "rate_bits": config.rate_bits,
    })  # fmt: skip


def _finished_result(paths: RunPaths, config: RunConfig) -> RunResult:
    import json

    summary = json.loads(paths.summary.read_text())
    rows = read_metrics_csv(paths.metrics)
    return RunResult(paths.root, config, True, config.steps, rows, summary)


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
    """Train (or resume, or just read) the run of `config` in ``<runs_root>/<preset>/<hash>``.

    Parameters
    ----------
    config : RunConfig
        The run. Universal runs first make sure their ``base_encoder`` run is finished (in
        the same preset folder), then load and freeze its encoder.
    runs_root, preset : path, str
        Where the run directory goes.
    task : Task, optional
        Pre-built task (data + frozen classifiers); built from `config` if omitted.
    data_dir, cache_dir : path, optional
        Data root and classifier cache (see :func:`~rdpc_neural.data.resolve_data_root`,
        :func:`~rdpc_neural.core.rundir.resolve_cache_dir`).
    device : str
        ``"cpu"`` (default) or e.g. ``"cuda"``; never assumed.
    max_steps_this_call : int, optional
        Stop after this many steps of this call, as an interruption would: progress since
        the last checkpoint is lost, the run is left unfinished (for tests and time slicing).
    progress : bool
        Show a tqdm bar over the steps (at terminal line `position`).

    Returns
    -------
    RunResult
        ``finished`` is False when stopped by `max_steps_this_call`.
    """
    paths = run_paths(runs_root, preset, config)
    if paths.is_finished():
        return _finished_result(paths, config)
    if task is None:  # data problems surface before anything is written
        task = build_task(config, data_dir=data_dir, cache_dir=cache_dir, device=device)
    paths.root.mkdir(parents=True, exist_ok=True)
    with file_lock(paths.root / ".lock"):
        if paths.is_finished():  # another process finished it while we waited
            return _finished_result(paths, config)
        _write_config(paths, config, preset)
        return _train_locked(
            config, paths, preset, task, runs_root, data_dir, cache_dir, device,
            max_steps_this_call, progress, position,
        )  # fmt: skip


def _train_locked(
    config: RunConfig,
    paths: RunPaths,
    preset: str,
    task: Task,
    runs_root: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    device: str,
    max_steps_this_call: int | None,
    progress: bool,
    position: int,
) -> RunResult:
    codec = build_codec(config, task).to(device)
    critic = build_critic(config, task)
    if critic is not None:
        critic = critic.to(device)
    base_hash = None
    if config.mode == "universal":
        assert config.base_encoder is not None
        base = train_run(
            config.base_encoder, runs_root, preset, task=task, data_dir=data_dir,
            cache_dir=cache_dir, device=device, progress=progress, position=position,
        )  # fmt: skip
        base_hash = config_hash(config.base_encoder)
        state = torch.load(base.path / "checkpoint.pt", map_location=device, weights_only=True)
        enc_state = {
            k.removeprefix("encoder."): v
            for k, v in state["codec"].items()
            if k.startswith("encoder.")
        }
        codec.encoder.load_state_dict(enc_state)
        codec.encoder.eval()
    gen_params = [p for p in codec.parameters() if p.requires_grad]
    # Fused Adam (one kernel for all parameters) is ~1.5x faster for the small cpu models.
    fused = {"fused": True} if torch.device(device).type in ("cpu", "cuda") else {}
    opt_g = torch.optim.Adam(gen_params, lr=config.lr, betas=config.betas, **fused)
    opt_c = (
        torch.optim.Adam(
            critic.parameters(), lr=config.lr_critic, betas=config.critic_betas, **fused
        )
        if critic is not None
        else None
    )
    step, rows, train_seconds, train_cpu_seconds = 0, [], 0.0, 0.0
    if paths.checkpoint.is_file():
        ckpt = torch.load(paths.checkpoint, map_location=device, weights_only=True)
        codec.load_state_dict(ckpt["codec"])
        if critic is not None:
            critic.load_state_dict(ckpt["critic"])
        # Final checkpoints (step == steps) carry no optimizer state: nothing left to train.
        if "opt_g" in ckpt:
            opt_g.load_state_dict(ckpt["opt_g"])
            if opt_c is not None:
                opt_c.load_state_dict(ckpt["opt_c"])
        elif int(ckpt["step"]) != config.steps:
            raise RuntimeError(f"{paths.checkpoint}: no optimizer state before the last step")
        step, rows = int(ckpt["step"]), [r for r in ckpt["rows"] if r["split"] != "test"]
        train_seconds = float(ckpt.get("train_seconds", 0.0))
        train_cpu_seconds = float(ckpt.get("train_cpu_seconds", 0.0))

    def save_checkpoint() -> None:
        state: dict[str, Any] = {
            "step": step,
            "rows": rows,
            "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu_seconds,
            "codec": codec.state_dict(),
            "opt_g": opt_g.state_dict(),
        }
        if critic is not None and opt_c is not None:
            state["critic"] = critic.state_dict()
            state["opt_c"] = opt_c.state_dict()
        atomic_torch_save(paths.checkpoint, state)
        write_metrics_csv(paths.metrics, rows)

    order = _BatchOrder(len(task.splits.x_train), config.batch_size, config.seed)
    x_val = task.splits.x_val[: config.eval_size]
    s_val = task.splits.s_val[: config.eval_size]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        lam = f"d={config.latent_dim} L={config.levels} λ=({config.lambda_d:g},"
        lam += f"{config.lambda_p:g},{config.lambda_c:g})"
        bar = tqdm(
            total=config.steps, initial=step, desc=lam, position=position, leave=False,
            dynamic_ncols=True, mininterval=0.5,
        )  # fmt: skip
    codec.train()
    steps_this_call = 0
    t_start, c_start = time.perf_counter(), time.process_time()
    try:
        while step < config.steps:
            if max_steps_this_call is not None and steps_this_call >= max_steps_this_call:
                return RunResult(paths.root, config, False, step, rows)
            factor = _lr_factor(config, step)
            for group in opt_g.param_groups:
                group["lr"] = config.lr * factor
            if critic is not None and opt_c is not None:
                for group in opt_c.param_groups:
                    group["lr"] = config.lr_critic * factor
                for k in range(config.n_critic):
                    gc = _generator(config.seed, _STREAM_CRITIC, step * config.n_critic + k)
                    _critic_step(codec, critic, opt_c, task, config, gc)
            g = _generator(config.seed, _STREAM_STEP, step)
            terms = _generator_step(codec, critic, opt_g, task, config, order.indices(step), g)
            if not math.isfinite(terms["loss"]):
                raise FloatingPointError(f"loss became {terms['loss']} at step {step}")
            step += 1
            steps_this_call += 1
            if bar is not None:
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()}, refresh=False)
            if step % config.eval_every == 0 or step == config.steps:
                train_seconds += time.perf_counter() - t_start
                train_cpu_seconds += time.process_time() - c_start
                rows.append(
                    evaluate(
                        codec, critic, task, x_val, s_val, config=config, step=step, split="val"
                    )
                )
                save_checkpoint()
                t_start, c_start = time.perf_counter(), time.process_time()
    finally:
        if bar is not None:
            bar.close()

    t_eval, c_eval = time.perf_counter(), time.process_time()
    final = evaluate(
        codec, critic, task, task.splits.x_test, task.splits.s_test,
        config=config, step=step, split="test", final=True,
    )  # fmt: skip
    eval_seconds = time.perf_counter() - t_eval
    eval_cpu_seconds = time.process_time() - c_eval
    rows = [r for r in rows if r["split"] != "test"] + [final]
    write_metrics_csv(paths.metrics, rows)
    final_state: dict[str, Any] = {
        "step": step,
        "rows": rows,
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "codec": codec.state_dict(),
    }
    if critic is not None:
        final_state["critic"] = critic.state_dict()
    atomic_torch_save(paths.checkpoint, final_state)
    summary = {
        "status": "finished",
        "hash": config_hash(config),
        "preset": preset,
        "base_encoder_hash": base_hash,
        "steps": step,
        "train_seconds": train_seconds,
        "final_eval_seconds": eval_seconds,
        # CPU time of this process (all its threads): with one thread, the time the run
        # would take on an idle core; wall times above include waiting for a busy machine.
        "train_cpu_seconds": train_cpu_seconds,
        "final_eval_cpu_seconds": eval_cpu_seconds,
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "final": final,
        **task.info(),
    }
    atomic_write_json(paths.summary, summary)
    return RunResult(paths.root, config, True, step, rows, summary)
