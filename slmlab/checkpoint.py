"""Atomic training checkpoints: `<out>/step-NNNNNN/` plus a `latest` pointer file.

A checkpoint dir holds the transformers `save_pretrained` files (safetensors), `slmlab.json`
(vocab layout, tokenizer id, stage, step, tokens seen, data position, seed, config) and
`trainer_state.pt` (optimizer, scheduler, RNG states of python/numpy/torch/cuda).

Why atomic: a job killed mid-save must never leave a dir that looks complete. Everything is
written into `<out>/.tmp-step-N-<pid>/`, fsynced, then renamed into place (a rename within one
directory is atomic on POSIX); only then is `latest` replaced, itself via a fsynced temp file.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest"
STATE_FILE = "trainer_state.pt"
INFO_FILE = "slmlab.json"


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for f in path.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(path)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out: Path, step: int, model: Any, info: dict, trainer_state: dict,
                    keep_last: int = 2, state_dict: dict | None = None) -> Path:
    """Write step `step` atomically, point `latest` at it, keep the newest `keep_last`.

    model: an unwrapped transformers model; state_dict: a full state dict to save instead of
    the model's own (FSDP gathers one). Returns the checkpoint dir.
    """
    out.mkdir(parents=True, exist_ok=True)
    final = out / step_dir_name(step)
    tmp = out / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, state_dict=state_dict, safe_serialization=True)
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=1, default=str))
    torch.save(trainer_state, tmp / STATE_FILE)
    _fsync_tree(tmp)
    if final.exists():  # a re-run reached the same step: the new one replaces it
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync_dir(out)
    write_text_atomic(out / LATEST, final.name)
    prune(out, keep_last)
    return final


def latest_checkpoint(out: Path) -> Path | None:
    """The dir `latest` points at, or None when `out` holds no complete checkpoint."""
    pointer = Path(out) / LATEST
    if not pointer.exists():
        return None
    ckpt = Path(out) / pointer.read_text().strip()
    return ckpt if (ckpt / INFO_FILE).exists() else None


def prune(out: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` step dirs (never the one `latest` names) and
    leftovers of interrupted saves."""
    latest = latest_checkpoint(out)
    steps = sorted(p for p in out.glob("step-*") if p.is_dir())
    for p in steps[: max(0, len(steps) - keep_last)]:
        if latest is None or p.name != latest.name:
            shutil.rmtree(p, ignore_errors=True)
    for p in out.glob(".tmp-step-*"):
        if not p.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(p, ignore_errors=True)


def load_trainer_state(ckpt: Path) -> dict:
    return torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=False)
