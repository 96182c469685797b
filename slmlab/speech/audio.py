"""Audio input and validation, in one place: whatever a user gives becomes float32 [T] at 24 kHz.

`load_audio(src)` accepts a path (wav, flac, ogg; mp3 when libsndfile supports it), raw file
bytes, or a `(sample_rate, array)` tuple as Gradio gives it (int16/int32/float, mono [T] or
[T, C]). It mixes to mono, resamples with a polyphase filter, and rejects audio the pipeline
cannot use with an `AudioError` whose message says what to do. Audio it can use but that looks
damaged (a WAV shorter than its header says, float samples far outside [-1, 1]) is read with
an `AudioWarning` (one line) rather than silently.
"""

from __future__ import annotations

import io
import re
import warnings
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import firwin, resample_poly

from slmlab.constants import SAMPLE_RATE

MIN_SECONDS = 0.3  # shorter clips hold too few unit frames (12.5 Hz) to mean anything
MIN_SAMPLE_RATE = 8000  # below telephone quality there is nothing left to tokenize
MAX_SAMPLE_RATE = 384_000
SILENCE_PEAK = 1e-4  # a peak under this (about -80 dBFS) counts as silence


class AudioError(ValueError):
    """Audio that cannot be used; the message says why and what to do."""


class AudioWarning(UserWarning):
    """Audio that is used but looks damaged; the message says what was done about it."""


def _warn(message: str) -> None:
    warnings.warn(message, AudioWarning, stacklevel=3)


def load_audio(src, max_seconds: float = 60.0) -> np.ndarray:
    """Read `src` -> float32 [T] mono at 24 kHz, validated.

    src: a path (str/Path), file bytes, or `(sample_rate, array)` with array [T] or [T, C]."""
    wav, sr = _read(src)
    return validate(wav, sr, max_seconds=max_seconds)


def validate(wav: np.ndarray, sr: int, max_seconds: float = 60.0) -> np.ndarray:
    """Check and convert an array [T] or [T, C] at rate `sr` -> float32 [T] at 24 kHz."""
    sr = _check_rate(sr)
    arr = np.asarray(wav)
    wav = _to_mono(_to_float(arr))
    if wav.size == 0:
        raise AudioError("the audio is empty (0 samples); record or upload some speech")
    if not np.isfinite(wav).all():
        raise AudioError("the audio contains NaN or infinite samples; it is corrupt — "
                         "re-export it as a plain wav file")
    seconds = wav.size / sr
    if seconds < MIN_SECONDS:
        raise AudioError(f"the audio is too short ({seconds:.2f} s); give at least "
                         f"{MIN_SECONDS} s of speech")
    if seconds > max_seconds:
        raise AudioError(f"the audio is too long ({seconds:.1f} s, limit {max_seconds:g} s); "
                         "trim it or split it into shorter clips")
    if float(np.abs(wav).max()) < SILENCE_PEAK:
        raise AudioError("the audio is silent (no signal above -80 dBFS); check the microphone "
                         "or the file and record again")
    peak = float(np.abs(wav).max())
    if arr.dtype.kind == "f" and peak > 1.0:  # float audio lives in [-1, 1]: wrong scale
        _warn(f"float samples reach {peak:.3g} (expected within [-1, 1]); scaled down by "
              f"{peak:.3g} instead of clipping")
        wav = wav / peak
    wav = resample(wav, sr)
    return np.clip(wav, -1.0, 1.0).astype(np.float32)  # resampling ripple only


def resample(wav: np.ndarray, sr: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling float [T] from `sr` to `target` Hz (the one resampler: synthesis
    and loaded audio both go through it)."""
    if sr == target:
        return wav.astype(np.float32, copy=False)
    g = gcd(int(sr), int(target))
    up, down = target // g, int(sr) // g
    return resample_poly(wav, up, down, window=_lowpass(up, down)).astype(np.float32)


@lru_cache(maxsize=None)
def _lowpass(up: int, down: int) -> np.ndarray:
    """Polyphase anti-aliasing filter, designed once (scipy would redo it on every call):
    Kaiser windowed sinc, 8 zero crossings each side at the lower rate (~-60 dB stop band)."""
    m = max(up, down)
    return firwin(2 * 8 * m + 1, 1.0 / m, window=("kaiser", 6.0))  # resample_poly scales by up


def _read(src) -> tuple[np.ndarray, int]:
    if isinstance(src, tuple):
        if len(src) != 2:
            raise AudioError("an audio tuple must be (sample_rate, array), as Gradio gives it")
        sr, arr = src
        if isinstance(arr, (int, float)) and not isinstance(sr, (int, float)):
            sr, arr = arr, sr  # accept (array, sample_rate) too: soundfile's order
        return np.asarray(arr), sr
    if isinstance(src, (bytes, bytearray, memoryview)):
        if len(src) == 0:
            raise AudioError("the audio is empty (0 bytes); record or upload some speech")
        return _read_file(io.BytesIO(bytes(src)), "the given bytes")
    if isinstance(src, (str, Path)):
        path = Path(src)
        if not path.exists():
            raise AudioError(f"no audio file at {path}; check the path")
        if path.is_dir():
            raise AudioError(f"{path} is a directory; give an audio file (wav, flac, ogg, mp3)")
        return _read_file(path, str(path))
    if isinstance(src, np.ndarray):
        raise AudioError("a bare array has no sample rate; pass (sample_rate, array)")
    raise AudioError(f"cannot read audio from {type(src).__name__}; give a path, bytes or "
                     "(sample_rate, array)")


def _read_file(f, what: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        wav, sr = sf.read(f, dtype="float32", always_2d=False)
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError or TypeError
        hint = "convert it to wav or flac (e.g. ffmpeg -i in.xxx -ar 24000 out.wav)"
        if str(what).lower().endswith(".mp3") and "mp3" not in {k.lower() for k in
                                                               sf.available_formats()}:
            hint = "this libsndfile cannot read mp3; " + hint
        raise AudioError(f"cannot read audio from {what}: not a readable audio file "
                         f"(wav, flac, ogg, mp3) or it is corrupt ({e}); {hint}") from None
    try:
        if hasattr(f, "seek"):
            f.seek(0)
        info = sf.info(f)
    except Exception:  # the data was read: a header we cannot re-inspect is not an error
        info = None
    if info is not None:
        _check_truncated(info, len(wav), sr, what)
    return wav, sr


def _check_truncated(info, frames: int, sr: int, what: str) -> None:
    """Warn when a WAV's header promises more data than the file holds (a cut-off copy)."""
    m = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", info.extra_info, re.M)
    block = re.search(r"Block Align\s*:\s*(\d+)", info.extra_info)
    if not (m and block) or int(m.group(1)) <= int(m.group(2)):
        return
    header_s = int(m.group(1)) / int(block.group(1)) / sr
    _warn(f"{what} is truncated: its header says {header_s:.2f} s but it holds "
          f"{frames / sr:.2f} s; using what is there (re-export or copy the file again)")


def _check_rate(sr) -> int:
    try:
        rate = int(sr)
    except (TypeError, ValueError):
        raise AudioError(f"sample rate must be a number in Hz; got {sr!r}") from None
    if rate != sr or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"unsupported sample rate {sr!r} Hz; use between {MIN_SAMPLE_RATE} and "
                         f"{MAX_SAMPLE_RATE} Hz (24000 is native)")
    return rate


def _to_float(wav: np.ndarray) -> np.ndarray:
    if wav.dtype.kind in "iu":
        info = np.iinfo(wav.dtype)
        scale = max(abs(info.min), info.max)
        mid = 0 if info.min < 0 else (info.max + 1) // 2  # unsigned 8-bit wav is offset
        return ((wav.astype(np.float64) - mid) / scale).astype(np.float32)
    if wav.dtype.kind == "f":
        return wav.astype(np.float32)
    raise AudioError(f"audio samples must be integers or floats; got dtype {wav.dtype}")


def _to_mono(wav: np.ndarray) -> np.ndarray:
    """[T] or [T, C] (or [C, T] with few channels) -> [T]."""
    if wav.ndim == 1:
        return wav
    if wav.ndim != 2:
        raise AudioError(f"audio must be [samples] or [samples, channels]; got shape {wav.shape}")
    if wav.shape[0] <= 8 < wav.shape[1]:
        wav = wav.T  # channels-first, as torchaudio gives it
    return wav.mean(axis=1)
