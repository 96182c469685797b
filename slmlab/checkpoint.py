"""Training checkpoints you can trust: `<out>/step-NNNNNN/` plus a `latest` pointer file.

A checkpoint dir holds the transformers `save_pretrained` files (safetensors), `slmlab.json`
(vocab layout, tokenizer id, stage, step, tokens seen, data position, seed, config) and the
trainer state (optimizer, scheduler, RNG states of python/numpy/torch/cuda) WITHOUT pickle:
every tensor or array in `trainer_state.safetensors`, the rest (numbers, strings, nesting) in
`trainer_state.json`, so opening an untrusted run dir cannot execute code.

Why atomic: a job killed mid-save must never leave a dir that looks complete. Everything is
written into `<out>/.tmp-step-N-<pid>/`, fsynced, then renamed into place (a rename within one
directory is atomic on POSIX); only then is `latest` replaced, itself via a fsynced temp file.
A save that fails (disk full) removes its tmp dir and says which checkpoint is still there.

Why validated: a disk can still lose or truncate files (a full disk, a copy cut short). The
checkpoint to resume from is the newest *intact* one (all files present, safetensors sizes
matching their headers, JSON parsing); when `latest` names anything else a one-line warning
says what was skipped. A run dir that holds step dirs but no intact one is an error, never a
silent restart from step 0. One process writes a run at a time (`.lock`, flock: released by
the kernel when the holder dies, even by SIGKILL).
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from slmlab.files import fsync_dir, fsync_tree, write_text_atomic

LATEST = "latest"
STATE_TENSORS = "trainer_state.safetensors"
STATE_JSON = "trainer_state.json"
LEGACY_STATE = "trainer_state.pt"  # pickled by slmlab < 0.2; read with weights_only=True
INFO_FILE = "slmlab.json"
LOCK_FILE = ".lock"
_STEP_RE = re.compile(r"^step-(\d+)$")


class CheckpointError(ValueError):
    """A run dir / checkpoint that cannot be used as asked; the message says what to do."""


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


# ------------------------------------------------------------------ RNG and pickle-free state


def rng_state() -> dict:
    """RNG states as tensors/arrays and plain numbers (what `save_state` can store)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": {"version": version, "state": torch.tensor(internal, dtype=torch.int64),
                        "gauss": gauss},
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                       "has_gauss": has_gauss, "cached_gaussian": cached},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    py = state["python"]
    if isinstance(py, dict):
        random.setstate((py["version"], tuple(int(x) for x in py["state"].tolist()), py["gauss"]))
        n = state["numpy"]
        np.random.set_state((n["kind"], np.asarray(n["keys"], dtype=np.int64).astype(np.uint32),
                             n["pos"], n["has_gauss"], n["cached_gaussian"]))
    else:  # a legacy trainer_state.pt: the raw getstate() tuples
        random.setstate(py)
        np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON-ready tree of `obj`; each tensor moves to `tensors` under a fresh key."""
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        return {"__array__": _encode(torch.from_numpy(np.ascontiguousarray(obj)), tensors)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"__dict__": {k: _encode(v, tensors) for k, v in obj.items()}}
        # optimizer state is keyed by int param ids: keep key types exactly
        return {"__items__": [[_encode(k, tensors), _encode(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__tuple__" if isinstance(obj, tuple) else "__list__":
                [_encode(v, tensors) for v in obj]}
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"__float__": repr(obj)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    raise TypeError(f"trainer state holds a {type(obj).__name__}, which is not stored without "
                    "pickle; convert it to tensors, numbers or strings")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if not isinstance(obj, dict):
        return obj
    (tag, val), = obj.items()
    if tag == "__tensor__":
        return tensors[val]
    if tag == "__array__":
        return _decode(val, tensors).numpy()
    if tag == "__dict__":
        return {k: _decode(v, tensors) for k, v in val.items()}
    if tag == "__items__":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in val}
    if tag == "__tuple__":
        return tuple(_decode(v, tensors) for v in val)
    if tag == "__list__":
        return [_decode(v, tensors) for v in val]
    if tag == "__float__":
        return float(val)
    raise ValueError(f"unknown tag {tag!r} in trainer state")


def save_state(directory: Path, state: dict) -> None:
    """Write `state` (nested dicts/lists of tensors, arrays, numbers) as safetensors + JSON."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, tensors)
    save_file(tensors, str(directory / STATE_TENSORS))
    (directory / STATE_JSON).write_text(json.dumps(tree))


def load_trainer_state(ckpt: Path) -> dict:
    """The trainer state of `ckpt`, read without executing code from the files."""
    ckpt = Path(ckpt)
    if (ckpt / STATE_JSON).exists():
        from safetensors.torch import load_file

        tensors = load_file(str(ckpt / STATE_TENSORS))
        return _decode(json.loads((ckpt / STATE_JSON).read_text()), tensors)
    if (ckpt / LEGACY_STATE).exists():
        return _load_legacy(ckpt / LEGACY_STATE)
    raise CheckpointError(f"{ckpt} has no trainer state ({STATE_JSON}); it holds weights only: "
                          "start a new --out with --init-from it instead of resuming")


def _load_legacy(path: Path) -> dict:
    """An old pickled state: only tensors, numbers and numpy arrays are allowed to load."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    allowed = [_reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]
    try:
        import warnings

        with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "pickle protocol 4" notes: the load is still safe
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError, truncated zip, ...
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path} cannot be read safely ({first}); resume from another "
                              "checkpoint, or start a new --out with --init-from this one") from None


# ------------------------------------------------------------------ validation


def _check_safetensors(path: Path) -> str | None:
    """Why `path` is not a complete safetensors file, or None when it is (header + size)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return f"{path.name} is truncated ({size} bytes)"
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                return f"{path.name} is truncated (header of {n} bytes, file of {size})"
            header = json.loads(fh.read(n))
    except (OSError, ValueError) as err:
        return f"{path.name} is unreadable ({err})"
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != size:
        return f"{path.name} is truncated ({size} of {8 + n + end} bytes)"
    return None


def _check_json(path: Path) -> str | None:
    try:
        json.loads(path.read_text())
    except FileNotFoundError:
        return f"{path.name} is missing"
    except (OSError, ValueError) as err:
        return f"{path.name} is unreadable ({str(err)[:80]})"
    return None


def checkpoint_problem(ckpt: Path, need_state: bool = True) -> str | None:
    """Why `ckpt` cannot be resumed from (one phrase), or None when it is intact."""
    ckpt = Path(ckpt)
    if not ckpt.is_dir():
        return f"{ckpt.name} does not exist"
    for name in (INFO_FILE, "config.json"):
        if (why := _check_json(ckpt / name)) is not None:
            return why
    weights = sorted(ckpt.glob("model*.safetensors"))
    if not weights:
        return "model.safetensors is missing"
    checks = list(weights)
    if need_state:
        if (ckpt / STATE_JSON).exists():
            if (why := _check_json(ckpt / STATE_JSON)) is not None:
                return why
            checks.append(ckpt / STATE_TENSORS)
            checks += sorted((ckpt / "optim").glob("*.safetensors"))  # FSDP: per-rank shards
        elif not (ckpt / LEGACY_STATE).exists():
            return f"{STATE_JSON} is missing"
        elif (ckpt / LEGACY_STATE).stat().st_size == 0:
            return f"{LEGACY_STATE} is empty"
    for f in checks:
        if not f.exists():
            return f"{f.name} is missing"
        if (why := _check_safetensors(f)) is not None:
            return why
    return None


def step_dirs(out: Path) -> list[tuple[int, Path]]:
    """(step, dir) of every `step-N` dir in `out`, oldest first."""
    found = []
    for p in Path(out).glob("step-*"):
        m = _STEP_RE.match(p.name)
        if m and p.is_dir():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(out: Path, warn: bool = True, need_state: bool = True) -> Path | None:
    """The newest intact checkpoint of run dir `out`, or None when `out` holds no step dir.

    Normally the one `latest` names. need_state=False: weights are enough (inference). If that one is missing or damaged (or a newer intact one
    exists, a kill between the rename and the pointer update), the newest intact one is
    returned with a one-line warning on stderr. Step dirs but none intact: CheckpointError.
    """
    out = Path(out)
    dirs = step_dirs(out)
    pointer = out / LATEST
    named = None
    try:
        named = pointer.read_text().strip() or None
    except FileNotFoundError:
        pass
    except OSError:
        named = "<unreadable>"
    if not dirs:
        if named:
            raise CheckpointError(f"{out}/{LATEST} names {named} but {out} holds no step-* "
                                  "checkpoint; remove the `latest` file to start afresh")
        return None
    skipped = []
    for _, p in reversed(dirs):
        why = checkpoint_problem(p, need_state)
        if why is None:
            if warn and p.name != named:
                said = f"`latest` names {named}" if named else "no `latest` file"
                extra = f" ({'; '.join(skipped)})" if skipped else ""
                print(f"slmlab: warning: {out}: {said}; resuming from {p.name}, the newest "
                      f"intact checkpoint{extra}", file=sys.stderr, flush=True)
            return p
        skipped.append(f"{p.name}: {why}")
    raise CheckpointError(f"{out} holds {len(dirs)} checkpoint(s) but none is intact "
                          f"({'; '.join(skipped[:3])}); move them away or give another --out")


# ------------------------------------------------------------------ writing


def save_checkpoint(out: Path, step: int, model: Any, info: dict, trainer_state: dict,
                    keep_last: int = 2, state_dict: dict | None = None) -> Path:
    """Write step `step` atomically, point `latest` at it, keep the newest `keep_last`.

    model: an unwrapped transformers model; state_dict: a full state dict to save instead of
    the model's own (FSDP gathers one). Returns the checkpoint dir. A failed write (disk full,
    read-only dir) removes its tmp dir and raises CheckpointError naming what is kept.
    """
    out.mkdir(parents=True, exist_ok=True)
    final = out / step_dir_name(step)
    tmp = out / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp, state_dict=state_dict, safe_serialization=True)
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=1, default=str))
        save_state(tmp, trainer_state)
        fsync_tree(tmp)
        if final.exists():  # a re-run reached the same step: the new one replaces it
            shutil.rmtree(final)
        os.rename(tmp, final)
        fsync_dir(out)
        write_text_atomic(out / LATEST, final.name)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)  # never leave a half tmp dir filling the disk
        # torch wraps ENOSPC in RuntimeError, safetensors in its own SafetensorError
        if not (isinstance(err, (OSError, RuntimeError)) or "Safetensor" in type(err).__name__):
            raise
        raise CheckpointError(f"could not write checkpoint {final}: {_reason(err)}; "
                              f"{_kept(out)}") from None
    prune(out, keep_last, current=step)
    return final


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno == errno.ENOSPC or "No space" in str(err):
        return "no space left on device (free some space, then rerun the same command to resume)"
    if isinstance(err, OSError) and err.errno in (errno.EROFS, errno.EACCES):
        return f"{err.strerror} (give a writable --out)"
    return str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__


def _kept(out: Path) -> str:
    try:
        kept = latest_checkpoint(out, warn=False)
    except CheckpointError:
        kept = None
    return f"the last good checkpoint {kept} is kept" if kept else "no earlier checkpoint exists"


def prune(out: Path, keep_last: int, current: int | None = None) -> None:
    """Keep the newest `keep_last` intact step dirs up to step `current` (the run in progress)
    and what `latest` names; delete older ones and leftovers of interrupted saves.

    Dirs past `current` (from before a fallback) are left alone: the run replaces each one
    when it reaches that step."""
    named = (out / LATEST).read_text().strip() if (out / LATEST).exists() else None
    dirs = [(s, p) for s, p in step_dirs(out) if current is None or s <= current]
    intact = [p for _, p in dirs if checkpoint_problem(p) is None]
    keep = {p.name for p in intact[-keep_last:]} | {named}
    newest_kept = max((s for s, p in dirs if p.name in keep), default=None)
    for s, p in dirs:
        if p.name not in keep and (newest_kept is None or s < newest_kept):
            shutil.rmtree(p, ignore_errors=True)
    for p in out.glob(".tmp-step-*"):
        if not p.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(p, ignore_errors=True)


class RunLock:
    """An exclusive lock on run dir `out` (`<out>/.lock`, flock); a second writer fails fast."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_FILE
        self.fh = None

    def __enter__(self) -> "RunLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "?"
            self.fh.close()
            self.fh = None
            raise CheckpointError(f"{self.path.parent} is being written by another process "
                                  f"(pid {holder}); wait for it or give another --out") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the flock
            self.fh = None
