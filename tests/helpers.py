"""Plain helpers shared by tests and benchmarks (no state; the fixtures are in conftest.py).

`free_port()`, `tiny_llama(...)` (a 2-layer Llama over any vocabulary, built in ms),
`speech_like(...)` / `write_wav(...)` (real espeak-ng speech at any rate and channel count),
`plot_json(...)` / `values(...)` (read gr.Plot outputs as the client gets them).
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_llama(vocab: int, layers: int = 2, seed: int = 0, max_positions: int = 2048):
    """A random 2-layer Llama (hidden 32) over `vocab` tokens, in eval mode."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=max_positions)
    return LlamaForCausalLM(cfg).eval()


def write_wav(path: Path, wav: np.ndarray, sr: int, subtype: str | None = None) -> Path:
    import soundfile as sf

    sf.write(str(path), wav, sr, subtype=subtype)
    return path


def speech_like(seconds: float, sr: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Spoken audio at `sr` (espeak-ng, resampled), tiled to `seconds`: float32 [T] or [T, C]."""
    from slmlab.speech import resample, synthesize, voices

    wav = synthesize("The little cat finds a red ball in the garden.", voices("en", "test")[0])
    wav = np.tile(wav, int(np.ceil(seconds * 24000 / len(wav))))[: int(seconds * 24000)]
    wav = resample(wav, 24000, sr) if sr != 24000 else wav
    if channels > 1:
        wav = np.stack([wav * (0.5 + 0.5 * c / channels) for c in range(channels)], axis=1)
    return wav.astype(np.float32)


def plot_json(value) -> dict:
    """A gr.Plot output as the client gets it -> the plotly figure dict."""
    plot = value["plot"] if isinstance(value, dict) and "plot" in value else value
    return json.loads(plot) if isinstance(plot, str) else plot


def values(v) -> list:
    """A plotly array as JSON holds it (a list, or {'dtype', 'bdata'} base64) -> list."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)
