"""The Tokenizer protocol every unit tokenizer follows, and `load_tokenizer(path)`.

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


def read_tokenizer_json(path: Path) -> dict | None:
    """The `tokenizer.json` of a saved tokenizer directory, or None."""
    f = path / "tokenizer.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise TokenizerError(f"{f} is not valid JSON ({e}); re-save the tokenizer") from None


PRETRAINED = "neural"  # the name of the shipped speaker-invariant tokenizer


def pretrained_dir(name: str = "neural-2048") -> Path:
    """Directory of a tokenizer shipped inside the package (`slmlab/tokenizers/pretrained/`)."""
    return Path(__file__).parent / "pretrained" / name


def load_tokenizer(path: str | Path, device: str | None = None) -> Tokenizer:
    """Load a tokenizer: a saved built-in dir (its tokenizer.json says "kind": "builtin" for
    log-mel k-means or "neural" for the speaker-invariant encoder),
    a Mimi checkpoint file or directory, the string 'mimi' (Mimi from the local cache) or
    'neural' (the shipped speaker-invariant tokenizer, `pretrained_dir()`)."""
    if str(path) == "mimi":
        return _mimi("mimi", device)
    if str(path) == PRETRAINED:  # the shipped tokenizer, wherever the package is installed
        path = pretrained_dir()
    p = Path(path)
    if not p.exists():
        raise TokenizerError(f"no tokenizer at {p}; give a directory saved by "
                             "`slmlab tokenizer train`, a Mimi checkpoint, or 'mimi'")
    meta = read_tokenizer_json(p) if p.is_dir() else None
    if meta is not None and meta.get("kind") == "builtin":
        from slmlab.tokenizers.units import BuiltinTokenizer

        return BuiltinTokenizer.load(p)
    if meta is not None and meta.get("kind") == "neural":
        from slmlab.tokenizers.neural import NeuralTokenizer

        return NeuralTokenizer.load(p)
    if meta is not None or p.suffix in (".safetensors", ".pt", ".bin") or \
            (p.is_dir() and (any(p.glob("*.safetensors")) or (p / "config.json").exists())):
        return _mimi(p, device)
    raise TokenizerError(f"{p} is not a tokenizer: expected a built-in tokenizer directory "
                         "(with tokenizer.json) or a Mimi checkpoint (.safetensors or a "
                         "transformers directory)")


def _mimi(path, device):
    from slmlab.tokenizers.mimi import load_mimi  # heavy (moshi/transformers): import lazily

    return load_mimi(path, backend=None, device=device)
