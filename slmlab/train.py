"""One training loop for every stage: `train(TrainConfig) -> final checkpoint dir`.

What it does per step: `grad_accum` micro-batches of packed windows (bf16 autocast on GPU,
SDPA attention), grad clipping, (fused on CUDA) AdamW, cosine schedule with linear warmup.
Held-out loss on the corpus' heldout split at intervals, a log line every `log_every` steps
(loss, lr, tokens/s, MFU against 989 TFLOP/s per GPU), TensorBoard + metrics.jsonl, atomic
checkpoints (slmlab.checkpoint). An existing `out` dir resumes from its latest checkpoint with
the same data order, so the losses continue exactly as an uninterrupted run's would.

Several GPUs: `torchrun --nproc_per_node=N -m slmlab train ... --parallel ddp|fsdp`
(default: FSDP2 `fully_shard` for the 1b preset, DDP otherwise), each rank reading a disjoint
slice of the same global batch, so results match one process up to numerics. FSDP runs save
sharded checkpoints (DCP), and a run resumes on another number of processes with its global
batch re-split: see slmlab.parallel. Without WORLD_SIZE nothing distributed is initialised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from slmlab import checkpoint as ck
from slmlab import parallel
from slmlab.files import write_text_atomic
from slmlab.config import (ConfigError, check_choice, check_device, check_positive, check_range,
                           check_seed, progress_bar, to_dict)
from slmlab.interleave import (PackedDataset, Position, SequenceConfig, corpus_vocab,
                               load_corpus_dir, stories_from_corpus)
from slmlab.model import (PRESETS, build_model, count_params, flops_per_token, init_from_text_lm,
                          load_pretrained, read_info, resolve_checkpoint)

PEAK_FLOPS = 989e12  # H100 SXM dense bf16, the MFU reference
# what a resume compares with the checkpoint; each may differ only when named in allow_change
# (the vocabulary never may: the model's embedding is its size)
CHANGEABLE = ("corpus", "tokenizer", "lr", "batch_size", "grad_accum")


class TrainingDiverged(ValueError):
    """The loss became inf/NaN: the run stops before saving a broken checkpoint."""


@dataclass
class TrainConfig:
    """A training run; invalid values fail at construction naming the field."""

    corpus: str | Path  # corpus dir (slmlab.corpus output)
    out: str | Path  # run dir: step-N/ checkpoints, latest, metrics.jsonl, tb/
    preset: str = "tiny"  # model preset (slmlab.model.PRESETS)
    sequence: SequenceConfig = field(default_factory=SequenceConfig)  # how windows are built
    stage: str = "custom"  # recorded in slmlab.json: "1", "2", "3" or an arm name
    steps: int | None = None  # budget in optimizer steps (or give tokens)
    tokens: int | None = None  # budget in training tokens (rounded up to whole steps)
    batch_size: int = 8  # windows per micro-batch per process
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 1e-3  # peak learning rate
    warmup: int = 100  # linear warmup steps (capped at a tenth of the run)
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    weight_decay: float = 0.1  # on matrices only (not norms / biases)
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW betas
    clip: float = 1.0  # max grad norm (0 = off)
    eval_every: int = 0  # held-out loss every N steps (0 = only at the end)
    eval_at: tuple[int, ...] = ()  # extra steps with a held-out loss
    eval_batches: int = 4  # held-out micro-batches per evaluation (0 = no evaluation)
    log_every: int = 10  # a log line / metrics row every N steps
    save_every: int = 0  # checkpoint every N steps (0 = only at the end)
    keep_last: int = 2  # checkpoints kept in `out`
    seed: int = 0  # model init and RNGs (data order is sequence.seed)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # autocast: auto (bf16 on GPU, fp32 on CPU) | bf16 | fp32
    param_dtype: str = "fp32"  # weights and optimizer state: fp32 | bf16 (faster, coarser)
    compile: str = "auto"  # torch.compile: auto (on for GPU) | on | off
    parallel: str = "auto"  # with several processes: auto (fsdp for 1b, else ddp) | ddp | fsdp
    activation_checkpointing: bool = False  # recompute layers in backward (less activation memory)
    init_from: str | None = None  # slmlab checkpoint / run dir, or a local text LM dir
    stop_after: int | None = None  # stop (with a checkpoint) after N steps in this call
    progress: bool = False  # tqdm bar
    heldout_split: str = "heldout"  # corpus split for the held-out loss
    allow_change: tuple[str, ...] = ()  # on resume, fields that may differ (CHANGEABLE)

    def __post_init__(self) -> None:
        self.corpus, self.out = Path(self.corpus), Path(self.out)
        if not self.corpus.is_dir():
            raise ConfigError(f"corpus: {self.corpus} is not a directory; build a corpus first "
                              "(`slmlab corpus ...`)")
        check_choice("preset", self.preset, PRESETS)
        if isinstance(self.sequence, dict):
            self.sequence = SequenceConfig(**self.sequence)
        if (self.steps is None) == (self.tokens is None):
            raise ConfigError(f"steps/tokens: give exactly one budget; got steps={self.steps!r}, "
                              f"tokens={self.tokens!r}")
        check_positive("steps" if self.steps is not None else "tokens",
                       self.steps if self.steps is not None else self.tokens)
        for name in ("batch_size", "grad_accum", "lr", "log_every", "keep_last"):
            check_positive(name, getattr(self, name))
        for name in ("warmup", "weight_decay", "clip", "eval_every", "eval_batches", "save_every"):
            check_positive(name, getattr(self, name), allow_zero=True)
        check_range("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        check_choice("dtype", self.dtype, ("auto", "bf16", "fp32"))
        check_choice("param_dtype", self.param_dtype, ("fp32", "bf16"))
        check_choice("compile", self.compile, ("auto", "on", "off"))
        check_choice("parallel", self.parallel, parallel.CHOICES)
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N; got {self.device!r}")
        if self.stop_after is not None:
            check_positive("stop_after", self.stop_after)
        check_seed("seed", self.seed)
        self.eval_at, self.betas = tuple(self.eval_at), tuple(self.betas)
        self.allow_change = tuple(self.allow_change)
        for name in self.allow_change:
            check_choice("allow_change", name, CHANGEABLE)

    def total_steps(self, world: int = 1) -> int:
        if self.steps is not None:
            return int(self.steps)
        per_step = self.batch_size * self.grad_accum * world * self.sequence.context
        return max(1, math.ceil(self.tokens / per_step))

    def to_dict(self) -> dict:
        return to_dict(self)


# ---------------------------------------------------------------- runtime pieces


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Dist:
    """Init the process group only under torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(dist.get_rank(), world, local)


def resolve_device(cfg: TrainConfig, d: Dist) -> torch.device:
    check_device("--device", cfg.device)  # cuda on a CPU-only torch: one line, not a traceback
    if cfg.device == "auto":
        return torch.device(f"cuda:{d.local_rank}" if torch.cuda.is_available() else "cpu")
    if cfg.device == "cuda" and d.world > 1:
        return torch.device(f"cuda:{d.local_rank}")
    return torch.device(cfg.device)


def autocast_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    if cfg.dtype == "bf16" or (cfg.dtype == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def lr_lambda(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """Multiplier of the peak lr at optimizer step `step` (0-based): warmup, then cosine."""
    if step < warmup:
        return (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device):
    """AdamW with weight decay on matrices only; fused kernels on CUDA."""
    decay, no_decay = [], []
    seen = set()
    for p in model.parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=device.type == "cuda")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def initial_model(cfg: TrainConfig, vocab, resume: Path | None):
    """The model to start from: resumed checkpoint > init_from > fresh preset (fp32, CPU)."""
    if resume is not None:
        return load_pretrained(resume)
    if cfg.init_from:
        ckpt = resolve_checkpoint(Path(cfg.init_from))
        if (ckpt / ck.INFO_FILE).exists():  # an slmlab checkpoint: same vocabulary
            info = read_info(ckpt)
            if info.get("vocab", {}).get("size") != vocab.size:
                raise ValueError(f"init_from {ckpt} has vocab {info.get('vocab')}, the corpus "
                                 f"needs {vocab.to_dict()}; use a checkpoint of this tokenizer")
            return load_pretrained(ckpt)
        return init_from_text_lm(ckpt, vocab)  # a text LM: vocabulary swapped for units
    return build_model(cfg.preset, vocab)


# ---------------------------------------------------------------- the loop


class Trainer:
    """State of one run; `run()` is the loop. Kept small: each piece is a method."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.d = setup_distributed(cfg.device)
        self.device = resolve_device(cfg, self.d)
        self.amp = autocast_dtype(cfg, self.device)
        dataset, self.meta = load_corpus_dir(cfg.corpus)
        self.vocab = corpus_vocab(self.meta)
        stories = stories_from_corpus(dataset, "train")
        if not stories:
            raise ValueError(f"corpus {cfg.corpus} has no train stories")
        self.data = PackedDataset(stories, cfg.sequence, self.vocab)
        self.heldout = stories_from_corpus(dataset, cfg.heldout_split)
        self.total = cfg.total_steps(self.d.world)
        self.warmup = min(cfg.warmup, max(1, self.total // 10)) if cfg.warmup else 0
        self.resume_from = ck.latest_checkpoint(cfg.out)
        self.step, self.tokens_seen = 0, 0
        self.window = {"loss_sum": 0.0, "steps": 0}  # the log window open at the last save
        self.changes: list[dict] = []
        self._build()
        self._trim_metrics()  # with or without a checkpoint: rows past self.step are redone

    def _build(self) -> None:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" / "Writing model shards" bars
        cfg = self.cfg
        seed_everything(cfg.seed)
        self.model = initial_model(cfg, self.vocab, self.resume_from)
        if cfg.param_dtype == "bf16":
            self.model.to(torch.bfloat16)
        self.model.to(self.device)
        self.n_params = count_params(self.model)
        self.flops_tok = flops_per_token(self.model, cfg.sequence.context)
        self.parallel = parallel.resolve(cfg.parallel, cfg.preset, self.d.world)
        self.use_fsdp = self.parallel == "fsdp"
        self.parallel_record = {"requested": {"batch_size": cfg.batch_size,
                                              "grad_accum": cfg.grad_accum}}
        self.net = self._wrap(self.model)
        self.opt = make_optimizer(self.model, cfg, self.device)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: lr_lambda(s, self.total, self.warmup, cfg.min_lr_ratio))
        if self.resume_from is not None:
            self._load_state(self.resume_from)

    def _wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """DDP / FSDP2 under torchrun (slmlab.parallel), then torch.compile where it pays (GPU)."""
        net = parallel.wrap(model, self.parallel, self.device, self.amp,
                            self.cfg.activation_checkpointing)
        on = self.cfg.compile == "on" or (self.cfg.compile == "auto" and self.device.type == "cuda")
        return torch.compile(net) if on else net

    # ------------------------------------------------------------ state

    def _load_state(self, ckpt: Path) -> None:
        info = json.loads((ckpt / ck.INFO_FILE).read_text())
        saved = info.get("config", {})
        for key in ("preset",):
            if saved.get(key) not in (None, getattr(self.cfg, key)):
                raise ValueError(f"{self.cfg.out} holds a {key}={saved[key]!r} run; use another "
                                 f"--out or the same {key}")
        self._fit_world(info)  # another world size: same global batch, re-split
        self.changes = self._check_compatible(ckpt, info)
        state = ck.load_trainer_state(ckpt)
        if parallel.has_shards(ckpt):  # written by FSDP ranks: DCP reads any layout back
            parallel.load_optimizer_shards(self.model, self.opt, ckpt, state[parallel.OPTIM_GROUPS])
        elif self.use_fsdp:  # a whole optimizer state (DDP / one process) into shards
            parallel.load_full_optimizer(self.model, self.opt, state["optimizer"])
        else:
            self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        if "lr" in {c["field"] for c in self.changes}:
            self._set_peak_lr(self.cfg.lr)
        ck.set_rng_state(state["rng"])
        self.step, self.tokens_seen = info["step"], info["tokens_seen"]
        self.data.position = Position(**info["data_position"])
        self.window = info.get("window", self.window)

    def _check_compatible(self, ckpt: Path, info: dict) -> list[dict]:
        """What differs between the checkpoint's run and this config: an error unless each
        field is named in allow_change; the allowed ones are returned (and recorded)."""
        saved, now = _identity(info), _identity(self.info())
        if saved["vocab"] is not None and saved["vocab"] != now["vocab"]:
            raise ValueError(f"{self.cfg.out} holds a model of vocab {saved['vocab']}, the corpus "
                             f"needs {now['vocab']}: a model cannot change its vocabulary; give "
                             "another --out, or use a corpus of the checkpoint's tokenizer")
        diff = [k for k in CHANGEABLE if saved.get(k) is not None and saved[k] != now[k]]
        refused = [k for k in diff if k not in self.cfg.allow_change]
        if refused:
            what = "; ".join(f"{k} {saved[k]} -> {now[k]}" for k in refused)
            raise ValueError(f"{self.cfg.out} resumes {ckpt.name}, made with another {what}; "
                             f"rerun with the same settings, give another --out, or allow it "
                             f"with --allow-change {','.join(refused)}")
        step = info.get("step", 0)
        return info.get("changes", []) + [{"step": step, "field": k, "from": saved[k],
                                           "to": now[k]} for k in diff]

    def _set_peak_lr(self, lr: float) -> None:
        """A changed --lr takes effect from the resumed step on (same schedule shape)."""
        self.sched.base_lrs = [lr for _ in self.opt.param_groups]
        factor = lr_lambda(self.sched.last_epoch, self.total, self.warmup, self.cfg.min_lr_ratio)
        for group in self.opt.param_groups:
            group["initial_lr"], group["lr"] = lr, lr * factor
        self.sched._last_lr = [g["lr"] for g in self.opt.param_groups]  # what the log reports

    def _trim_metrics(self) -> None:
        """Drop metrics rows logged after the resumed step (they will be logged again) and
        a half-written last line (a kill mid-write); a damaged earlier line is named."""
        path = self.cfg.out / "metrics.jsonl"
        if not (self.d.main and path.exists()):
            return
        lines = path.read_text().splitlines()
        rows = []
        for i, line in enumerate(lines, 1):
            try:
                row = json.loads(line) if line.strip() else None
            except ValueError:
                if i < len(lines):
                    print(f"slmlab: warning: {path} line {i} is not JSON; dropped", file=sys.stderr)
                continue
            if row is not None and row.get("step", 0) <= self.step:
                rows.append(line)
        text = "".join(r + "\n" for r in rows)
        if text != "".join(line + "\n" for line in lines):
            write_text_atomic(path, text)

    def info(self, extra: dict | None = None) -> dict:
        return {"vocab": self.vocab.to_dict(), "tokenizer": self.meta.get("tokenizer", {}),
                "corpus": str(self.cfg.corpus), "corpus_id": corpus_id(self.meta),
                "stage": self.cfg.stage, "step": self.step,
                "total_steps": self.total, "tokens_seen": self.tokens_seen,
                "data_position": self.data.position.to_dict(), "seed": self.cfg.seed,
                "n_params": self.n_params, "world_size": self.d.world,
                "config": self.cfg.to_dict(), "window": self.window,
                "changes": self.changes, **(extra or {})}

    def save(self, extra: dict | None = None) -> Path:
        model, trainer_state = self.model, {"scheduler": self.sched.state_dict(),
                                            "rng": ck.rng_state()}
        if self.use_fsdp:  # every rank writes its shards (DCP, collective); rank 0 commits
            model, trainer_state[parallel.OPTIM_GROUPS] = parallel.save_shards(
                self.model, self.opt, self.cfg.out, self.step)
        else:
            trainer_state["optimizer"] = self.opt.state_dict()
        extra = {"parallel": {**parallel.describe(self.parallel, self.d.world, self.use_fsdp),
                              **self.parallel_record}, **(extra or {})}
        path = self.cfg.out / ck.step_dir_name(self.step)
        if self.d.main:
            path = ck.save_checkpoint(self.cfg.out, self.step, model, self.info(extra),
                                      trainer_state, self.cfg.keep_last)
        self._barrier()
        return path

    def _barrier(self) -> None:
        if self.d.world > 1:
            torch.distributed.barrier()

    # ------------------------------------------------------------ steps

    def _autocast(self):
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp)

    def _fit_world(self, info: dict) -> None:
        """Resuming on another world size: keep the checkpoint's global batch (windows per
        step), re-split per rank; the data position is global, so only the slices move."""
        self.cfg, record, line = parallel.fit_batch(self.cfg, info, self.d.world)
        self.parallel_record = record
        self.total = self.cfg.total_steps(self.d.world)
        self.warmup = min(self.cfg.warmup, max(1, self.total // 10)) if self.cfg.warmup else 0
        if line:
            parallel.note(line)

    def _rank_slice(self, data: PackedDataset):
        """This rank's windows int64 [B, L] of the next global micro-batch [world * B, L]."""
        b, r, w = self.cfg.batch_size, self.d.rank, self.d.world
        return data.next_batch(b, skip_before=r * b, skip_after=(w - 1 - r) * b)[0]

    def _micro_batch(self) -> torch.Tensor:
        return torch.from_numpy(self._rank_slice(self.data)).to(self.device, non_blocking=True)

    def train_step(self) -> torch.Tensor:
        """One optimizer step over grad_accum micro-batches; returns the mean loss (tensor)."""
        total = torch.zeros((), device=self.device)
        for i in range(self.cfg.grad_accum):
            x = self._micro_batch()
            sync = i == self.cfg.grad_accum - 1 or self.d.world == 1 or self.use_fsdp
            ctx = contextlib.nullcontext() if sync else self.net.no_sync()
            with ctx, self._autocast():
                loss = self.net(input_ids=x, labels=x).loss / self.cfg.grad_accum
            loss.backward()
            total += loss.detach()
        if self.cfg.clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip)
        self.lr = self.sched.get_last_lr()[0]  # the lr this step used
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        self.step += 1
        self.tokens_seen += self.cfg.batch_size * self.cfg.grad_accum * self.d.world \
            * self.cfg.sequence.context
        if self.d.world > 1:
            torch.distributed.all_reduce(total, op=torch.distributed.ReduceOp.AVG)
        return total

    @torch.no_grad()
    def weights_finite(self) -> float:
        """0.0 when every weight on every rank is finite, else inf; one sync."""
        local = [getattr(p, "_local_tensor", p).detach() for p in self.model.parameters()]
        bad = torch.zeros((), device=self.device)
        for x in local:
            bad = torch.maximum(bad, (~torch.isfinite(x)).any().float())
        if self.d.world > 1:
            torch.distributed.all_reduce(bad, op=torch.distributed.ReduceOp.MAX)
        return float("inf") if float(bad) else 0.0

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """Mean held-out loss over the first eval_batches windows of the heldout split."""
        if not self.heldout or not self.cfg.eval_batches:
            return None
        seq = dataclasses.replace(self.cfg.sequence, seed=12345)  # fixed, run-independent
        data = PackedDataset(self.heldout, seq, self.vocab)
        self.net.eval()
        losses = []
        for _ in range(self.cfg.eval_batches):  # each rank a slice of the same global batch
            x = torch.from_numpy(self._rank_slice(data)).to(self.device)
            with self._autocast():
                losses.append(self.net(input_ids=x, labels=x).loss.float())
        self.net.train()
        mean = torch.stack(losses).mean()
        if self.d.world > 1:
            torch.distributed.all_reduce(mean, op=torch.distributed.ReduceOp.AVG)
        return float(mean)


def corpus_id(meta: dict) -> str:
    """A short hash of what decides a corpus' content (tokenizer checksum, config, counts)."""
    import hashlib

    key = {"tokenizer": (meta.get("tokenizer") or {}).get("checksum"),
           "config": meta.get("config"), "counts": meta.get("counts")}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _identity(info: dict) -> dict:
    """The CHANGEABLE fields of a run, as recorded in slmlab.json."""
    cfg = info.get("config") or {}
    return {"corpus": info.get("corpus_id"), "tokenizer": (info.get("tokenizer") or {}).get("checksum"),
            "vocab": info.get("vocab"), "lr": cfg.get("lr"), "batch_size": cfg.get("batch_size"),
            "grad_accum": cfg.get("grad_accum")}


# ---------------------------------------------------------------- logging and the outer loop


class Logger:
    """Rank-0 log lines, metrics.jsonl rows and TensorBoard scalars."""

    def __init__(self, out: Path, enabled: bool, step: int = 0):
        self.enabled = enabled
        self.tb = None
        if enabled:
            out.mkdir(parents=True, exist_ok=True)
            self.metrics = open(out / "metrics.jsonl", "a")
            try:
                from torch.utils.tensorboard import SummaryWriter

                # purge_step hides events past the resumed step (logged again), as for metrics
                self.tb = SummaryWriter(str(out / "tb"), purge_step=step + 1)
            except ImportError:  # tensorboard is optional
                self.tb = None

    def log(self, row: dict, line: str | None = None) -> None:
        if not self.enabled:
            return
        self.metrics.write(json.dumps(row) + "\n")
        self.metrics.flush()
        if self.tb is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.tb.add_scalar(key, value, row["step"])
        if line:
            print(line, flush=True)

    def close(self) -> None:
        if self.enabled:
            self.metrics.close()
            if self.tb is not None:
                self.tb.close()


def _should(step: int, every: int) -> bool:
    return bool(every) and step % every == 0


def run(t: Trainer) -> Path:
    """Train from t.step to t.total; returns the final checkpoint dir."""
    cfg = t.cfg
    final = ck.latest_checkpoint(cfg.out)
    if final is not None and t.step >= t.total:
        return final  # already complete
    log = Logger(cfg.out, t.d.main, t.step)
    if t.d.main and t.step == 0:
        print(f"train {cfg.stage}: {cfg.preset} {t.n_params / 1e6:.1f}M params, {t.total} steps, "
              f"mode {cfg.sequence.mode} p={cfg.sequence.p}, device {t.device}, "
              f"world {t.d.world}", flush=True)
    bar = _progress(cfg, t)
    stop_at = t.step + cfg.stop_after if cfg.stop_after else t.total
    # a log window cut by a checkpoint continues from its saved sum: same averages as unbroken
    window_loss, window_steps = t.window["loss_sum"], t.window["steps"]
    window_t0, window_tok = time.perf_counter(), t.tokens_seen
    heldout = None
    while t.step < min(t.total, stop_at):
        window_loss = window_loss + t.train_step()  # stays on device: no sync per step
        window_steps += 1
        if _should(t.step, cfg.log_every) or t.step == t.total:
            window_loss = _finite(t, float(window_loss)) / window_steps  # syncs: log steps only
            dt = time.perf_counter() - window_t0
            tps = (t.tokens_seen - window_tok) / max(dt, 1e-9)
            mfu = tps * t.flops_tok / (PEAK_FLOPS * t.d.world) if t.device.type == "cuda" else None
            row = {"step": t.step, "loss": window_loss, "lr": t.lr,
                   "tokens": t.tokens_seen, "tokens_per_s": tps}
            if mfu is not None:
                row["mfu"] = mfu
            line = (f"step {t.step}/{t.total} | loss {window_loss:.4f} | lr {row['lr']:.2e} | "
                    f"{tps / 1e3:.1f}k tok/s" + (f" | mfu {mfu:.1%}" if mfu is not None else ""))
            log.log(row, None if cfg.progress else line)
            window_loss, window_steps, window_t0, window_tok = 0.0, 0, time.perf_counter(), t.tokens_seen
        if _should(t.step, cfg.eval_every) or t.step in cfg.eval_at or t.step == t.total:
            heldout = t.evaluate()
            if heldout is not None:
                log.log({"step": t.step, "heldout_loss": heldout},
                        f"step {t.step} | heldout loss {heldout:.4f}")
        if bar is not None:
            bar.update(1)
        if _should(t.step, cfg.save_every) and t.step < t.total and t.step < stop_at:
            t.window = {"loss_sum": _finite(t, float(window_loss)), "steps": window_steps}
            _finite(t, t.weights_finite(), "weights")
            t.save()
        if window_steps == 0:  # time only training in tokens/s, not eval or saving
            window_t0 = time.perf_counter()
    if bar is not None:
        bar.close()
    t.window = {"loss_sum": _finite(t, float(window_loss)), "steps": window_steps}
    _finite(t, t.weights_finite(), "weights")
    path = t.save({"heldout_loss": heldout} if heldout is not None else None)
    log.close()
    return path


def _finite(t: Trainer, value: float, what: str = "loss") -> float:
    """value (a loss sum, the largest |weight|), or stop the run (before any save) when it is
    inf/NaN: a NaN checkpoint is worse than none."""
    if math.isfinite(value):
        return value
    try:
        kept = ck.latest_checkpoint(t.cfg.out, warn=False)
    except ck.CheckpointError:
        kept = None
    where = f"the last good checkpoint {kept} is kept" if kept else "nothing was saved"
    raise TrainingDiverged(f"{what} became {value} by step {t.step} (lr {t.cfg.lr:g}); the run "
                           f"stopped, {where}; lower --lr or raise --warmup")


def _progress(cfg, t: Trainer):
    """A step bar on the main process when asked for (shown on a terminal only)."""
    if not (cfg.progress and t.d.main):
        return None
    return progress_bar(t.total, f"stage {cfg.stage}", initial=t.step, unit="step")


FINISHED_KEYS = ("preset", "lr", "batch_size", "grad_accum", "seed", "sequence", "init_from")


def finished_run(cfg: TrainConfig, world: int = 1) -> Path | None:
    """The final checkpoint of `cfg`'s run when it already trained its whole budget on the
    same corpus (its corpus_id: content and tokenizer) with the same settings (FINISHED_KEYS),
    else None. Builds no trainer and takes no lock: only meta.json is read, not the corpus, so
    experiments that share a finished stage 1 can all read it at once."""
    last = ck.latest_checkpoint(Path(cfg.out), warn=False)
    if last is None:
        return None
    info, total = read_info(last), cfg.total_steps(world)
    saved, now = info.get("config") or {}, cfg.to_dict()
    meta = Path(cfg.corpus) / "meta.json"
    same = (all(saved.get(k) == now.get(k) for k in FINISHED_KEYS) and meta.exists()
            and info.get("corpus_id") == corpus_id(json.loads(meta.read_text())))
    return last if same and info.get("total_steps") == total and info.get("step", 0) >= total else None


def train(cfg: TrainConfig) -> Path:
    """Train (or resume) the run `cfg` describes; returns the final checkpoint dir.

    Rank 0 holds the run dir's lock for the whole call: a second writer fails at once."""
    main = int(os.environ.get("RANK", "0")) == 0
    with ck.RunLock(cfg.out) if main else contextlib.nullcontext():
        return run(Trainer(cfg))
