"""The Tokenizer protocol every unit tokenizer follows (`load_tokenizer` is in loading.py).

A tokenizer maps 24 kHz mono audio to discrete units at `frame_rate` Hz and back:
- `encode(wav: FloatTensor[B, T]) -> LongTensor[B, ceil(T / hop)]` (units in 0..vocab_size-1);
- `decode(units: LongTensor[B, F]) -> FloatTensor[B, F * hop]`;
- `save(dir)`, `checksum()` (short hash of the weights, recorded in corpus meta.json);
- `encode_np(wav: np.ndarray[T]) -> np.ndarray[F] int16`, a convenience for corpus building.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch


class TokenizerError(ValueError):
    """A tokenizer path or file that cannot be loaded; the message says what to give."""


@runtime_checkable
class Tokenizer(Protocol):
    name: str  # e.g. 'builtin-2048-12.5hz' or 'mimi'
    frame_rate: float  # unit frames per second
    vocab_size: int  # number of distinct units
    sample_rate: int  # 24000
    hop: int  # samples per unit frame (sample_rate / frame_rate)

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, T] float at 24 kHz -> units [B, ceil(T / hop)] long."""
        ...

    def decode(self, units: torch.Tensor) -> torch.Tensor:
        """units [B, F] long -> wav [B, F * hop] float at 24 kHz."""
        ...

    def save(self, path: str | Path) -> None: ...

    def checksum(self) -> str: ...

    def encode_np(self, wav: np.ndarray) -> np.ndarray:
        """wav [T] float32 -> units [F] int16."""
        ...


def encode_np(tok: Tokenizer, wav: np.ndarray) -> np.ndarray:
    """Shared implementation of `Tokenizer.encode_np` for tokenizers built on `encode`."""
    with torch.no_grad():
        units = tok.encode(torch.from_numpy(np.ascontiguousarray(wav, np.float32))[None])
    return units[0].cpu().numpy().astype(np.int16)


def check_wav(wav: torch.Tensor) -> torch.Tensor | None:
    """`wav` [B, T] checked for `encode`; None when it holds no samples (then no units)."""
    if wav.dim() != 2:
        raise ValueError(f"encode expects wav [B, T]; got shape {tuple(wav.shape)} "
                         "(use encode_np for a single 1-D array)")
    return wav if wav.shape[1] else None


def check_units(units, vocab_size: int) -> torch.Tensor:
    """`units` as a CPU LongTensor [B, F], checked: two dimensions, ids in [0, vocab_size)."""
    units = torch.as_tensor(units).long().cpu()
    if units.dim() != 2:
        raise ValueError(f"decode expects units [B, F]; got shape {tuple(units.shape)}")
    if units.numel() and (units.min() < 0 or units.max() >= vocab_size):
        raise ValueError(f"units must be in [0, {vocab_size}); got "
                         f"[{int(units.min())}, {int(units.max())}]")
    return units


def read_tokenizer_json(path: Path) -> dict | None:
    """The `tokenizer.json` of a saved tokenizer directory, or None."""
    f = path / "tokenizer.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise TokenizerError(f"{f} is not valid JSON ({e}); re-save the tokenizer") from None
