"""The corpus's worker processes and the state each one owns.

Each worker has one espeak-ng engine (inside slmlab.speech) and loads one tokenizer on first
use; that per-process state lives here and nowhere else. `pool()` starts the workers;
`use_in_process()` gives the calling process the same state, for work small enough to skip
the pool. Audio crosses process boundaries as int16 (half the bytes of float32).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Any, Sequence

import numpy as np

from slmlab.config import progress_bar
from slmlab.constants import INT16_SCALE
from slmlab.speech import synthesize, voice_by_name
from slmlab.tokenizers import load_tokenizer

# imported once by the forkserver, so a fresh worker starts in milliseconds (a cold scipy.signal
# + datasets + torch import is ~1.5 s per process, 10x the work of a 25-sentence task)
WORKER_MODULES = ("slmlab.corpus", "torch", "scipy.signal", "datasets", "soundfile",
                  "slmlab.speech.tts", "slmlab.tokenizers.base", "slmlab.tokenizers.units",
                  "slmlab.world")

# this process's state: {tok, tok_path, device}; set by init_worker / use_in_process
_STATE: dict[str, Any] = {}


def init_worker(tokenizer_path: str | None, device: str = "cpu") -> None:
    """Pool initializer: one torch thread (processes, not threads, use the cores)."""
    import torch

    torch.set_num_threads(1)
    use_in_process(tokenizer_path, device)


def use_in_process(tokenizer_path: str | None, device: str = "cpu") -> None:
    """Make this process a worker for `tokenizer_path`. The tokenizer loads on first use, not
    here: a Pool whose initializer raises respawns workers forever (a hang), while an error
    inside a task reaches the main process."""
    _STATE.update(tok=None, tok_path=tokenizer_path, device=device)


def worker_tokenizer():
    """This process's tokenizer (loaded once)."""
    if _STATE.get("tok") is None:
        _STATE["tok"] = load_tokenizer(_STATE["tok_path"], device=_STATE.get("device", "cpu"))
    return _STATE["tok"]


def n_workers(workers: int) -> int:
    """`workers`, or one per core when 0."""
    return workers or os.cpu_count() or 1


def pool(n: int, tokenizer_path: str | None, device: str = "cpu"):
    """`n` worker processes, each task in a fresh one.

    A fresh process per task is what makes synthesis reproducible: espeak-ng's wave generator
    carries state from sentence to sentence, so a shard is bit-identical only when its
    sentences run in the same order from a clean library (a resumed build then equals an
    uninterrupted one). The forkserver preloads WORKER_MODULES once, so a new worker costs
    milliseconds, not an interpreter start; it never ran torch ops or espeak, so forking it
    is safe (forking a process that ran torch ops can deadlock in its thread pools)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_MODULES))
    return ctx.Pool(n, initializer=init_worker, initargs=(tokenizer_path, device),
                    maxtasksperchild=1)


def progress(total: int, desc: str, enabled: bool, unit: str = "shard"):
    """The build's bar: on a terminal when `enabled` (slmlab.config.progress_bar)."""
    return progress_bar(total, desc, None if enabled else False, unit=unit)


def synthesize_rows(rows: list[dict]) -> list[np.ndarray]:
    """float32 [T] at 24 kHz for each row's text in its voice."""
    return [synthesize(r["text"], voice_by_name(r["voice"])) for r in rows]


def encode_wavs(tok, wavs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Units (int16 [F]) per waveform: batched when the tokenizer can pad (Mimi, neural), else
    one by one."""
    if hasattr(tok, "encode_list"):
        return [np.asarray(u, np.int16) for u in tok.encode_list(list(wavs))]
    return [np.asarray(tok.encode_np(w), np.int16) for w in wavs]


def to_int16(wav: np.ndarray) -> np.ndarray:
    """float32 [T] in [-1, 1] -> int16 [T] (clipped)."""
    return np.clip(wav * INT16_SCALE, -32768, 32767).astype(np.int16)


def from_int16(wav: np.ndarray) -> np.ndarray:
    """int16 [T] -> float32 [T]; float input is returned unchanged."""
    return wav.astype(np.float32) / INT16_SCALE if wav.dtype == np.int16 else wav
