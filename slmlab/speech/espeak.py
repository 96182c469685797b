"""espeak-ng in-process through ctypes (the library and data come from `espeakng-loader`).

espeak-ng keeps global state and is not thread-safe: there is one engine per process
(`engine()`), created lazily and re-created after a fork, so worker processes of a
multiprocessing pool each initialise their own. Calls are serialised with a lock.

Output is the engine's native rate (22,050 Hz, int16); `slmlab.speech.tts` resamples.
Phoneme events (`espeakEVENT_PHONEME`) give the start time of every phone, used to label
unit frames for evaluation (PNMI, purity).
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass

import numpy as np

# speak_lib.h constants
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_LIST_TERMINATED, EVENT_WORD, EVENT_END, EVENT_MSG_TERMINATED, EVENT_PHONEME = 0, 1, 5, 6, 7
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE = 1, 2, 3, 4


SYNTH_SEED = 7  # espeak-ng's random seed, set before every sentence


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    # espeak_EVENT in speak_lib.h; audio_position is in milliseconds from the text start
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


class EspeakError(RuntimeError):
    """espeak-ng failed to start or rejected a voice."""


@dataclass
class Phone:
    """One phone of a synthesised utterance; times in seconds from the start of the audio."""

    phone: str
    start: float
    end: float


class Espeak:
    """One espeak-ng engine (per process). Use `engine()` rather than building one."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as e:  # pragma: no cover - it is a hard dependency
            raise EspeakError("espeak-ng is missing: pip install espeakng-loader") from e
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                               ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        data = espeakng_loader.get_data_path().encode()
        opts = INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT
        self.sample_rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, opts)
        if self.sample_rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({self.sample_rate}); data path {data!r}")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, float]] = []
        self._cb = _CALLBACK(self._on_audio)  # keep a reference: ctypes must not free it
        self.lib.espeak_SetSynthCallback(self._cb)
        # espeak-ng draws random numbers (jitter, noise); a fixed seed per sentence makes a
        # fresh engine's output reproducible. Its wave generator also keeps state from one
        # sentence to the next, so equal output needs the same sentence sequence from a fresh
        # engine: slmlab.corpus runs each task in a fresh process for that reason.
        self._seed = getattr(self.lib, "espeak_ng_SetRandSeed", None)
        if self._seed is not None:
            self._seed.argtypes = [ctypes.c_long]
        self._voice: str | None = None
        self.lock = threading.Lock()

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == EVENT_PHONEME:
                name = bytes(ev.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
                self._events.append((name, ev.audio_position / 1000.0))
            i += 1
        return 0  # 0 = continue synthesis

    def set_voice(self, name: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50):
        """Select voice file `name` (e.g. 'en-us+m3', 'fr+f2'); rate in words/min, pitch 0-100."""
        if name != self._voice:
            if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice {name!r}; use voice file names such "
                                  "as 'en', 'en-us', 'en-gb-x-rp', 'fr', 'fr-be' (+m1..m7/+f1..f5)")
            self._voice = name
        self.lib.espeak_SetParameter(PARAM_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(PARAM_PITCH, int(pitch), 0)
        self.lib.espeak_SetParameter(PARAM_RANGE, int(pitch_range), 0)

    def synth(self, text: str) -> tuple[np.ndarray, list[tuple[str, float]]]:
        """Synthesise `text` with the current voice -> (int16 [T] at `sample_rate`,
        [(phone, start_seconds)])."""
        self._chunks, self._events = [], []
        if self._seed is not None:
            self._seed(SYNTH_SEED)
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        err = self.lib.espeak_Synth(buf, len(buf), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if err != 0:
            raise EspeakError(f"espeak_Synth failed with code {err}")
        self.lib.espeak_Synchronize()
        wav = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return wav, self._events


_ENGINE: Espeak | None = None
_ENGINE_PID: int | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> Espeak:
    """This process's espeak-ng engine (built on first use, rebuilt in a forked child)."""
    global _ENGINE, _ENGINE_PID
    with _ENGINE_LOCK:
        if _ENGINE is None or _ENGINE_PID != os.getpid():
            _ENGINE, _ENGINE_PID = Espeak(), os.getpid()
        return _ENGINE


def phones_from_events(events: list[tuple[str, float]], duration: float) -> list[Phone]:
    """Turn phone start events into [start, end) intervals; pauses ('_' etc.) are kept
    with their names so silence is a label of its own."""
    phones = []
    for i, (name, start) in enumerate(events):
        end = events[i + 1][1] if i + 1 < len(events) else duration
        if end > start:
            phones.append(Phone(name or "_", start, min(end, duration)))
    return phones
