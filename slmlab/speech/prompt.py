"""A user's recording -> a clean prompt: speech only, at a fixed loudness.

`prepare_prompt(wav24k) -> wav24k`: a real voice-activity detector (Silero VAD, whose model
ships inside the `silero-vad` wheel; no download) finds the speech; the audio is cut to the
first speech onset .. the last speech offset (plus a short margin), so leading and trailing
silence, clicks and steady noise go, while pauses inside the utterance stay. Then the speech is
loudness-normalised (RMS over the speech regions to TARGET_DBFS, peak capped at PEAK), so any
microphone at any level gives the tokenizer the same input level. No speech at all raises one
`AudioError` that says what to do.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from slmlab.constants import SAMPLE_RATE
from slmlab.speech.audio import AudioError, resample

VAD_RATE = 16_000  # Silero VAD runs at 16 kHz
MARGIN_S = 0.10  # kept before the first and after the last speech sample
TARGET_DBFS = -20.0  # RMS level of the speech after normalisation
PEAK = 0.95  # never louder than this (no clipping)
MIN_SPEECH_S = 0.25  # shorter detections are treated as clicks, not speech

_MODEL: dict = {}
_LOCK = threading.Lock()


def _vad():
    """The Silero VAD model (TorchScript, loaded once per process from the wheel)."""
    with _LOCK:
        if "m" not in _MODEL:
            try:
                from silero_vad import load_silero_vad
            except ImportError as e:  # pragma: no cover - a declared dependency
                raise ImportError("prompt trimming needs silero-vad: "
                                  "pip install --no-deps silero-vad==6.2.3") from e
            _MODEL["m"] = load_silero_vad()
        return _MODEL["m"]


def speech_regions(wav: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """[(start, end)] sample ranges of speech in wav float32 [T] at 24 kHz."""
    from silero_vad import get_speech_timestamps

    x = torch.from_numpy(resample(np.asarray(wav, np.float32), SAMPLE_RATE, VAD_RATE))
    with torch.no_grad():
        ts = get_speech_timestamps(x, _vad(), threshold=threshold, sampling_rate=VAD_RATE,
                                   min_speech_duration_ms=int(MIN_SPEECH_S * 1000))
    scale = SAMPLE_RATE / VAD_RATE
    return [(int(t["start"] * scale), min(len(wav), int(t["end"] * scale))) for t in ts]


def prepare_prompt(wav: np.ndarray) -> np.ndarray:
    """wav float32 [T] at 24 kHz (any level, silence around it, some noise) -> the speech part,
    loudness-normalised, float32 [T'] at 24 kHz. Raises AudioError when there is no speech."""
    wav = np.asarray(wav, np.float32)
    if wav.ndim != 1:
        raise AudioError(f"prepare_prompt expects mono audio [T]; got shape {wav.shape}")
    peak = float(np.abs(wav).max()) if wav.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        raise AudioError("the recording is silent (or empty): check the microphone and "
                         "record again, speaking for a second or more")
    regions = speech_regions(wav / peak)  # the VAD sees a normalised level: quiet mics work
    if not regions:
        raise AudioError("no speech found in the recording (only silence or noise): "
                         "speak closer to the microphone and record again")
    margin = int(MARGIN_S * SAMPLE_RATE)
    a, b = max(0, regions[0][0] - margin), min(len(wav), regions[-1][1] + margin)
    out = wav[a:b]
    speech = np.concatenate([wav[s:e] for s, e in regions])
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2))) + 1e-9
    gain = 10 ** (TARGET_DBFS / 20) / rms
    gain = min(gain, PEAK / max(float(np.abs(out).max()), 1e-9))
    return (out * gain).astype(np.float32)
