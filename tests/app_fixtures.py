"""Shared by tests/test_app*.py: one stand-in checkpoint, session and live server per process.

Cached at module level (not pytest fixtures) so the three test files share one build even when
they run in one pytest process: building takes ~10-30 s on the shared 2-core machine.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
N_UNITS = 64


@lru_cache(maxsize=None)
def workdir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="slmlab-app-test-"))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


@lru_cache(maxsize=None)
def standin_checkpoint() -> Path:
    """A tiny checkpoint (64 units, tiny preset, 2 steps) with tokenizer and reference set."""
    from slmlab.demo_standin import make_demo_checkpoint

    torch.set_num_threads(1)
    return make_demo_checkpoint(workdir() / "ckpt", n_units=N_UNITS, n_pairs=8, train_steps=2)


@lru_cache(maxsize=None)
def session():
    from slmlab.demo import DemoSession

    return DemoSession(standin_checkpoint(), umap=False, cache=workdir() / "cache")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@lru_cache(maxsize=None)
def server():
    """The demo served on 127.0.0.1:<free port> in this process (closed at exit)."""
    from slmlab.app_cli import import_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    main = import_app("main")
    demo = main.launch(session=session(), port=free_port(), block=False)
    atexit.register(_close, demo)
    return demo


def _close(demo) -> None:
    """Stop the server after in-flight model work ends: a worker thread killed inside torch's
    C++ during interpreter shutdown aborts the process ('terminate called ...', exit 134)."""
    s = session()
    for lock in (s.model_lock, s.maps.lock):
        if lock.acquire(timeout=60):
            lock.release()
    demo.close()


def client(name: str = "main"):
    from gradio_client import Client

    return Client(server().local_url, verbose=False, analytics_enabled=False,
                  download_files=str(workdir() / "downloads" / name))


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
    import base64

    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)
