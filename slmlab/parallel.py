"""Several processes for one run: DDP or FSDP2, sharded checkpoints, changes of world size.

Under `torchrun --nproc_per_node=N` every rank reads a disjoint slice of one global batch
(`slmlab.train.Trainer._rank_slice`). How the model is spread over the ranks is the run's
`parallel` setting:
- `ddp`: a full replica per rank, gradients all-reduced (DistributedDataParallel).
- `fsdp`: FSDP2 `fully_shard` per decoder layer and at the root; parameters, gradients and
  optimizer state are sharded, so each rank holds 1/N of them. On GPU the layers compute in
  bf16 (`MixedPrecisionPolicy(param_dtype=bf16, reduce_dtype=fp32)`: gradients are reduced
  in fp32, master weights stay fp32). What the `1b` preset and anything larger need.
- `auto`: fsdp for the `1b` preset, ddp otherwise. One process: neither (a plain module).
Activation checkpointing (`TrainConfig.activation_checkpointing`) recomputes each decoder
layer in the backward pass (transformers' non-reentrant gradient checkpointing), trading
about a third more compute for activations that no longer grow with the layer count.

Checkpoints of an FSDP run are written by every rank at once with torch distributed
checkpointing (DCP), in safetensors only, and without gathering the full state anywhere:
- weights: each rank writes its shards (`HuggingFaceStorageWriter`, tensors' offsets in the
  safetensors header as JSON); rank 0 then merges them file by file from disk into
  `model-00001-of-00001.safetensors` + `model.safetensors.index.json`, which
  `from_pretrained` (so `slmlab.model.load_checkpoint`, evaluation, the demo) reads like any
  checkpoint. Merging streams tensor slices between files: its memory does not grow with the
  model (a 1b fp32 checkpoint is ~4 GB on disk, never in one process' memory at once).
- optimizer: `optim/shard-0000R-model-00001-of-00001.safetensors`, one file per saving rank
  (AdamW moments as saved by that rank, with their offsets), and the hyper-parameters of the
  parameter groups in the trainer state's JSON (`optimizer_groups`).
DCP's default `FileSystemWriter` pickles its `.metadata` file and `dcp.load` unpickles it;
this module never uses it: the HuggingFace storage reader rebuilds the layout from the
safetensors headers (JSON), so nothing read from a checkpoint dir is unpickled. (DCP's planning
collectives pickle small Python objects between ranks in memory; nothing of that is stored.)
All ranks must see the run dir (one machine, or a shared filesystem across machines).

Resuming on another world size: weights load from the merged file and are re-sharded by
`fully_shard`; the optimizer shards are read back by DCP into whatever layout the new run has
(FSDP on N ranks, DDP, one process). The data position is global (every rank walks the whole
stream, keeping only its slice), so a new world size only changes which slice a rank keeps;
`fit_batch` keeps the global batch (windows per optimizer step) of the checkpoint by
re-splitting it into per-rank micro-batches, so the loss curve continues as if unbroken.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

CHOICES = ("auto", "ddp", "fsdp")
LEGACY_FSDP = {"on": "fsdp", "off": "ddp", "auto": "auto"}  # TrainConfig.fsdp before `parallel`
OPTIM_DIR = "optim"  # optimizer shards of a DCP checkpoint
OPTIM_GROUPS = "optimizer_groups"  # trainer-state key: flattened param-group hyper-parameters
_FLAT = None  # StateDictOptions(flatten_optimizer_state_dict=True), built on first use


def resolve(choice: str, preset: str, world: int) -> str:
    """What a run does: "single" (one process), "ddp" or "fsdp"."""
    if world <= 1:
        return "single"
    if choice == "auto":
        return "fsdp" if preset == "1b" else "ddp"
    return choice


def from_legacy(fsdp: str | None) -> str:
    """The `parallel` value of an old config's `fsdp` field (on | off | auto)."""
    return LEGACY_FSDP.get(fsdp or "auto", "auto")


# ---------------------------------------------------------------- wrapping


def mixed_precision(amp: torch.dtype | None):
    """FSDP2 policy: compute in `amp` (bf16 on GPU), reduce gradients in fp32."""
    from torch.distributed.fsdp import MixedPrecisionPolicy

    if amp is None:
        return MixedPrecisionPolicy()
    return MixedPrecisionPolicy(param_dtype=amp, reduce_dtype=torch.float32)


def wrap(model: torch.nn.Module, kind: str, device: torch.device, amp: torch.dtype | None,
         activation_checkpointing: bool = False) -> torch.nn.Module:
    """`model` ready for `kind` ("single" | "ddp" | "fsdp"); FSDP shards it in place.

    Returns the module to call in the training step (a DDP wrapper, or `model` itself).
    """
    model.train()  # from_pretrained returns eval mode; checkpointing acts in training only
    if activation_checkpointing:
        # non-reentrant: works with FSDP2's hooks and with DDP, no need for inputs with grads
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if kind == "fsdp":
        from torch.distributed.fsdp import fully_shard

        mp = mixed_precision(amp)
        for layer in model.model.layers:  # one all-gather per layer, overlapped with compute
            fully_shard(layer, mp_policy=mp)
        fully_shard(model, mp_policy=mp)  # embeddings, final norm and (tied) head
        return model
    if kind == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        return DDP(model, device_ids=ids)
    return model


# ---------------------------------------------------------------- global batch on a new world


def global_batch(config: dict, world: int) -> int:
    """Windows per optimizer step of a run (config as in slmlab.json)."""
    return int(config["batch_size"]) * int(config.get("grad_accum", 1)) * int(world)


def split_batch(windows: int, world: int, max_micro: int) -> tuple[int, int]:
    """(micro-batch, grad_accum) per rank so that micro * accum * world == windows, with the
    largest micro-batch not above `max_micro` (fewest accumulation steps)."""
    if windows % world:
        raise ValueError(f"the checkpoint's global batch of {windows} windows per step cannot be "
                         f"split over {world} processes; resume with a process count dividing "
                         f"{windows}, or allow a new batch with --allow-change batch_size")
    per_rank = windows // world
    micro = max(d for d in range(1, min(per_rank, max(1, max_micro)) + 1) if per_rank % d == 0)
    return micro, per_rank // micro


def fit_batch(cfg: Any, info: dict, world: int) -> tuple[Any, dict, str | None]:
    """Keep the checkpoint's global batch when the world size changed.

    cfg: the new run's TrainConfig (per-rank batch_size/grad_accum as given on the command
    line); info: the checkpoint's slmlab.json. Returns (cfg with the per-rank split to use,
    the `parallel` record to save, a one-line note or None). The record remembers the flags
    the user gave (`requested`), so a later resume with the same flags on the same world size
    reuses the split instead of seeing a changed batch size.
    """
    saved = info.get("config") or {}
    record = info.get("parallel") if isinstance(info.get("parallel"), dict) else {}
    asked = {"batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum}
    if not saved.get("batch_size") or {"batch_size", "grad_accum"} & set(cfg.allow_change):
        return cfg, {"requested": asked}, None  # a new batch was asked for explicitly
    saved_world = int(info.get("world_size", 1))
    windows = global_batch(saved, saved_world)
    was_asked = record.get("requested") or {"batch_size": saved["batch_size"],
                                            "grad_accum": saved.get("grad_accum", 1)}
    allow = tuple(dict.fromkeys((*cfg.allow_change, "batch_size", "grad_accum")))
    if saved_world == world:
        if asked == was_asked:  # same flags as the run that made it: reuse its split
            kept = {"batch_size": saved["batch_size"], "grad_accum": saved.get("grad_accum", 1)}
            return dataclasses.replace(cfg, **kept), {"requested": asked}, None
        return cfg, {"requested": asked}, None  # another batch: the trainer's resume check
    if global_batch(asked, world) == windows:  # the flags already keep the global batch
        return dataclasses.replace(cfg, allow_change=allow), {"requested": asked}, None
    if asked != was_asked:
        return cfg, {"requested": asked}, None  # another batch: the trainer's resume check
    micro, accum = split_batch(windows, world, max(int(saved["batch_size"]), cfg.batch_size))
    new = dataclasses.replace(cfg, batch_size=micro, grad_accum=accum, allow_change=allow)
    note = (f"world size {saved_world} -> {world}: the global batch of {windows} windows per "
            f"step is kept, as {micro} x {accum} (micro-batch x accumulation) per process")
    return new, {"requested": was_asked}, note


# ---------------------------------------------------------------- sharded checkpoints


def _flat():
    global _FLAT
    if _FLAT is None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions

        _FLAT = StateDictOptions(flatten_optimizer_state_dict=True)
    return _FLAT


def _storage_key(t: torch.Tensor) -> tuple:
    local = t.to_local() if hasattr(t, "to_local") else t
    return (local.untyped_storage().data_ptr(), local.storage_offset(), tuple(local.shape))


def model_shards(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """This rank's shards of the weights by name (DTensors under FSDP), tied copies dropped.

    safetensors refuses two names for one storage; `from_pretrained` re-ties the head."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    reshard(model)
    state, seen = get_model_state_dict(model), set()
    for name in list(state):
        key = _storage_key(state[name])
        if key in seen:
            del state[name]
        seen.add(key)
    return state


def reshard(model: torch.nn.Module) -> None:
    """Put FSDP2 modules back to sharded parameters. After a forward without backward (the
    held-out loss) the root keeps its gathered weights, and the optimizer's names for its
    parameters (the DTensors) would no longer match the module's."""
    for module in model.modules():
        if hasattr(module, "reshard") and hasattr(module, "unshard"):  # an FSDPModule
            module.reshard()


def optimizer_shards(model: torch.nn.Module, opt: torch.optim.Optimizer
                     ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, hyper-parameters) of the optimizer, flattened by parameter name:
    `state.<param>.exp_avg` -> this rank's shard, `param_groups.<param>.lr` -> 1e-3, ..."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    reshard(model)
    flat = get_optimizer_state_dict(model, opt, options=_flat())
    tensors = {k: v for k, v in flat.items() if isinstance(v, torch.Tensor)}
    return tensors, {k: v for k, v in flat.items() if not isinstance(v, torch.Tensor)}


def _dist_on() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _shared_tmp(out: Path, step: int) -> Path:
    """A scratch dir all ranks agree on (rank 0's pid: a later run's prune removes leftovers)."""
    pid = [os.getpid()]
    if _dist_on():
        torch.distributed.broadcast_object_list(pid, src=0)
    return Path(out) / f".tmp-step-{step:06d}-shards-{pid[0]}"


class ShardedWeights:
    """Files written by every rank with DCP, placed into a checkpoint by `save_pretrained`.

    `slmlab.checkpoint.save_checkpoint` (rank 0) calls `model.save_pretrained(tmp, ...)`
    inside its atomic write; this stands in for the model there: it moves the merged
    weights and optimizer shards into `tmp` and writes the model's config files.
    """

    def __init__(self, model: torch.nn.Module, scratch: Path):
        self.model, self.scratch = model, scratch

    def save_pretrained(self, path: str | Path, **_: Any) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.config.save_pretrained(path)
        if getattr(self.model, "generation_config", None) is not None:
            self.model.generation_config.save_pretrained(path)
        shutil.rmtree(self.scratch / "weights" / "sharded", ignore_errors=True)
        for f in (self.scratch / "weights").iterdir():
            os.replace(f, path / f.name)
        os.replace(self.scratch / OPTIM_DIR, path / OPTIM_DIR)
        shutil.rmtree(self.scratch, ignore_errors=True)


def save_shards(model: torch.nn.Module, opt: torch.optim.Optimizer, out: Path, step: int
                ) -> tuple[ShardedWeights, dict[str, Any]]:
    """Collective: every rank writes its weight and optimizer shards under a scratch dir.

    Returns (the stand-in to hand to `save_checkpoint` as the model, the optimizer's
    hyper-parameters for the trainer state). Weights come back merged into consolidated
    safetensors (rank 0 merges from the shard files, after every rank has written).
    """
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import HuggingFaceStorageWriter

    scratch = _shared_tmp(out, step)
    if not _dist_on() or torch.distributed.get_rank() == 0:
        shutil.rmtree(scratch, ignore_errors=True)
    tensors, groups = optimizer_shards(model, opt)  # before any write: it is collective too
    dcp.save(model_shards(model), storage_writer=HuggingFaceStorageWriter(
        str(scratch / "weights"), save_distributed=True, enable_consolidation=True))
    dcp.save(tensors, storage_writer=HuggingFaceStorageWriter(
        str(scratch / OPTIM_DIR), save_distributed=True))
    return ShardedWeights(model, scratch), groups


def has_shards(ckpt: Path) -> bool:
    return (Path(ckpt) / OPTIM_DIR).is_dir()


def load_optimizer_shards(model: torch.nn.Module, opt: torch.optim.Optimizer, ckpt: Path,
                          groups: dict[str, Any]) -> None:
    """Fill `opt` from a DCP checkpoint, whatever the world size / wrapping that wrote it.

    Every rank asks DCP for the tensors of its own layout (FSDP shards, or whole tensors);
    DCP reads the matching slices of the saved shards (safetensors, no pickle).
    """
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import HuggingFaceStorageReader
    from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

    from torch.distributed.checkpoint.api import CheckpointException

    tensors, _ = optimizer_shards(model, opt)  # a template of this run's layout
    try:
        dcp.load(tensors, storage_reader=HuggingFaceStorageReader(str(Path(ckpt) / OPTIM_DIR)))
    except (Exception, CheckpointException) as err:  # the latter wraps every rank's error
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        why = lines[-1][:200] if lines else type(err).__name__  # the innermost error
        raise ValueError(f"{ckpt}/{OPTIM_DIR} cannot be read ({why}); resume from another "
                         "checkpoint, or start a new --out with --init-from this one") from None
    set_optimizer_state_dict(model, opt, {**tensors, **groups}, options=_flat())


def load_full_optimizer(model: torch.nn.Module, opt: torch.optim.Optimizer,
                        state: dict) -> None:
    """Fill a sharded (FSDP) `opt` from a whole `Optimizer.state_dict()` (a DDP / one-process
    checkpoint): ids are mapped to parameter names through `opt`'s own order, which
    `make_optimizer` builds the same way for every run of one preset."""
    from torch.distributed.checkpoint.state_dict import (StateDictOptions,
                                                         set_optimizer_state_dict)

    names = {id(p): n for n, p in model.named_parameters()}
    order = [names[id(p)] for g in opt.param_groups for p in g["params"]]
    by_name = {"state": {order[i]: s for i, s in state["state"].items()},
               "param_groups": [{**g, "params": [order[i] for i in g["params"]]}
                                for g in state["param_groups"]]}
    set_optimizer_state_dict(model, opt, by_name, options=StateDictOptions(full_state_dict=True))


def note(line: str) -> None:
    """A one-line notice from rank 0 (stderr: stdout carries the training log)."""
    if not _dist_on() or torch.distributed.get_rank() == 0:
        print(f"slmlab: {line}", file=sys.stderr, flush=True)


def describe(kind: str, world: int, shards: bool) -> dict:
    """The `parallel` record of slmlab.json (merged with fit_batch's record)."""
    return {"kind": kind, "world_size": world,
            "checkpoint": "dcp-safetensors" if shards else "full-safetensors"}

