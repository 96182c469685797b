"""Text to speech for the embedded world: many espeak-ng voices per language, 24 kHz output.

A `Voice` is an espeak-ng voice file plus a variant (`en-us+m3`, `fr+f2`), a speaking rate and
a pitch. `voices(lang, split)` is a fixed, deterministic list (at least 8 train and 4 test voices
per language); test voices are held out for evaluation. `voice_for_story` spreads stories over
voices by a stable hash. Optional engines (MBROLA voices through espeak-ng, `pico2wave`) are
added with `voices(..., extra=True)` only when they are installed; nothing requires them.

`synthesize(text, voice) -> float32 [T]` at 24 kHz: resampled with a polyphase filter,
peak-limited to 0.9 (espeak-ng can clip after resampling) and with leading/trailing silence
trimmed to a fixed 100 ms pause so utterances concatenate evenly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from slmlab.constants import INT16_SCALE, LANGS, SAMPLE_RATE
from slmlab.speech.audio import resample
from slmlab.speech.espeak import Phone, engine, phones_from_events

PAUSE_S = 0.10  # silence kept before and after speech
PEAK = 0.9  # peak level after synthesis (headroom against resampling overshoot)
SILENCE_DB = -40.0  # below peak: what counts as silence when trimming

# espeak-ng voice files per language (names, not language codes: 'en-gb' and 'fr-fr' fail)
_BASES = {"en": ("en-us", "en-gb-x-rp", "en"), "fr": ("fr", "fr-be")}
_VARIANTS = ("m1", "m3", "f2", "m7", "f4", "m2", "f1", "m4")
_RATES = (150, 175, 200)  # words per minute
_PITCHES = (35, 50, 65)  # espeak-ng pitch 0-100
_TEST = (2, 7, 9, 14)  # indices of held-out voices (mix base voices, variants and rates)


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker. `name` is unique and stable: it goes into corpus rows."""

    name: str  # e.g. 'espeak:en-us+m3:r175:p50'
    lang: str  # 'en' | 'fr'
    engine: str  # 'espeak' | 'mbrola' | 'pico'
    ident: str  # engine voice id: espeak voice file(+variant), 'mb-fr4', 'fr-FR'
    rate: int = 175  # words per minute (espeak engines)
    pitch: int = 50  # 0-100 (espeak engines)
    pitch_range: int = 50  # 0-100 (espeak engines): intonation range


def _espeak_voice(lang: str, ident: str, rate: int, pitch: int) -> Voice:
    return Voice(f"espeak:{ident}:r{rate}:p{pitch}", lang, "espeak", ident, rate, pitch)


@lru_cache(maxsize=None)
def _espeak_voices(lang: str) -> tuple[Voice, ...]:
    """16 voices per language: every base voice file, 8 variants, spread over rate and pitch."""
    bases = _BASES[lang]
    out = []
    for i in range(16):
        # (base, variant) pairs are all distinct; rate and pitch cycle on top of them
        base, var = bases[i % len(bases)], _VARIANTS[(i // len(bases)) % len(_VARIANTS)]
        rate, pitch = _RATES[i % len(_RATES)], _PITCHES[(i // 3) % len(_PITCHES)]
        out.append(_espeak_voice(lang, f"{base}+{var}", rate, pitch))
    return tuple(out)


def extra_engines() -> dict[str, bool]:
    """Which optional engines are installed here (never required)."""
    return {"mbrola": _mbrola_voices("fr") != () or _mbrola_voices("en") != (),
            "pico": shutil.which("pico2wave") is not None}


@lru_cache(maxsize=None)
def _mbrola_voices(lang: str) -> tuple[Voice, ...]:
    if shutil.which("mbrola") is None:
        return ()
    names = {"en": ("us1", "us2", "us3", "en1"), "fr": tuple(f"fr{i}" for i in range(1, 8))}
    roots = [Path("/usr/share/mbrola"), Path("/usr/lib/mbrola")]
    found = [n for n in names[lang] if any((r / n / n).exists() or (r / n).is_file() for r in roots)]
    return tuple(Voice(f"mbrola:mb-{n}", lang, "mbrola", f"mb-{n}") for n in found)


def _pico_voices(lang: str) -> tuple[Voice, ...]:
    if shutil.which("pico2wave") is None:
        return ()
    idents = {"en": ("en-US", "en-GB"), "fr": ("fr-FR",)}[lang]
    return tuple(Voice(f"pico:{i}", lang, "pico", i) for i in idents)


def voices(lang: str, split: str = "train", extra: bool = False) -> list[Voice]:
    """Deterministic voices for `lang`; `split` 'train' (12), 'test' (4 held out) or 'all'.
    'heldout' is accepted as 'test'. `extra=True` adds installed MBROLA/pico voices to train."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    split = "test" if split == "heldout" else split
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be train, test (heldout) or all; got {split!r}")
    base = _espeak_voices(lang)
    test = [v for i, v in enumerate(base) if i in _TEST]
    train = [v for i, v in enumerate(base) if i not in _TEST]
    if extra:
        train += list(_mbrola_voices(lang)) + list(_pico_voices(lang))
    return {"train": train, "test": test, "all": train + test}[split]


def voice_for_story(story_id: str, lang: str, split: str = "train", extra: bool = False) -> Voice:
    """One voice per (story, language), by a stable hash so every run picks the same one."""
    pool = voices(lang, split, extra)
    h = int.from_bytes(hashlib.sha256(f"{story_id}|{lang}".encode()).digest()[:8], "big")
    return pool[h % len(pool)]


def voice_by_name(name: str) -> Voice:
    """Rebuild a Voice from its `name` (as stored in corpus rows)."""
    for lang in LANGS:
        for v in voices(lang, "all", extra=True):
            if v.name == name:
                return v
    raise ValueError(f"unknown voice {name!r}; see slmlab.speech.voices(lang, 'all')")


def _trim(wav: np.ndarray) -> tuple[np.ndarray, int]:
    """Cut silence to PAUSE_S on each side; returns (wav, samples removed at the start, which
    may be negative when padding was added)."""
    pad = int(PAUSE_S * SAMPLE_RATE)
    peak = float(np.abs(wav).max()) if wav.size else 0.0
    if peak == 0.0:
        return np.zeros(2 * pad, np.float32), 0
    loud = np.flatnonzero(np.abs(wav) > peak * 10 ** (SILENCE_DB / 20))
    a, b = loud[0], loud[-1] + 1
    out = np.zeros(b - a + 2 * pad, np.float32)
    out[pad:pad + b - a] = wav[a:b]
    return out, a - pad


def _synth_raw(text: str, voice: Voice) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """Engine output as float32 in [-1, 1] at its own rate, plus phone events (espeak only)."""
    if voice.engine in ("espeak", "mbrola"):
        eng = engine()
        with eng.lock:
            eng.set_voice(voice.ident, voice.rate, voice.pitch, voice.pitch_range)
            wav, events = eng.synth(text)
        return wav.astype(np.float32) / INT16_SCALE, eng.sample_rate, events
    if voice.engine == "pico":
        return (*_pico(text, voice.ident), [])
    if voice.engine in ("flite", "festival"):
        return (*_external(text, voice), [])
    raise ValueError(f"unknown engine {voice.engine!r}")


def _pico(text: str, ident: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "out.wav")
        subprocess.run(["pico2wave", "-l", ident, "-w", path, text], check=True,
                       capture_output=True)
        wav, sr = sf.read(path, dtype="float32")
    return wav, sr


# Voice families for the unit tokenizer: espeak-ng variants. Training samples every family in
# TRAIN_FAMILIES with continuous rate, pitch and range; HELDOUT_FAMILIES never reach training
# (they test whether units generalise to unseen voices), nor do the Debian engines below.
TRAIN_FAMILIES = ("m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f5", "klatt", "klatt2",
                  "klatt3", "Alex", "Andy", "Annie", "Denis", "Gene", "Jacky", "Lee", "Mario",
                  "Michael", "Mike", "Reed", "aunty", "belinda", "benjamin", "boris", "caleb",
                  "david", "ed", "edward", "grandma", "grandpa", "gustave", "ian", "iven", "john",
                  "linda", "max", "michel", "norbert", "paul", "quincy", "rob", "robert", "steph",
                  "travis", "victor", "zac")
HELDOUT_FAMILIES = ("m7", "f4", "klatt4", "Storm", "anika", "edward2", "steph2", "Hugo", "iven3")
CANONICAL_FAMILY = "m3"  # the decoder's one voice (same variant for EN and FR)


def sample_voice(lang: str, rng: np.random.Generator, split: str = "train") -> Voice:
    """A random espeak-ng voice of a train or held-out family, with continuous rate
    (130-240 wpm), pitch (15-85) and range (10-90)."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be train or heldout; got {split!r}")
    fams = TRAIN_FAMILIES if split == "train" else HELDOUT_FAMILIES
    base = _BASES[lang][int(rng.integers(len(_BASES[lang])))]
    fam = fams[int(rng.integers(len(fams)))]
    rate, pitch, rng_ = int(rng.integers(130, 241)), int(rng.integers(15, 86)), int(rng.integers(10, 91))
    return Voice(f"espeak:{base}+{fam}:r{rate}:p{pitch}:g{rng_}", lang, "espeak", f"{base}+{fam}",
                 rate, pitch, rng_)


def canonical_voice(lang: str) -> Voice:
    """The one voice the neural tokenizer's decoder speaks in."""
    return _espeak_voice(lang, f"{_BASES[lang][0]}+{CANONICAL_FAMILY}", 165, 45)


def engine_voices() -> list[Voice]:
    """English voices of other engines installed here (Debian `flite`, `festival`): held out
    from tokenizer training entirely. Empty when neither is installed."""
    out = []
    if shutil.which("flite"):
        out += [Voice(f"flite:{v}", "en", "flite", v) for v in ("slt", "rms", "awb", "kal16")]
    if shutil.which("text2wave") and Path("/usr/share/festival/voices/english/kal_diphone").exists():
        out.append(Voice("festival:kal_diphone", "en", "festival", "kal_diphone"))
    return out


def _external(text: str, voice: Voice) -> tuple[np.ndarray, int]:
    """Synthesise with a Debian engine in a subprocess -> (float32 [T], sample rate)."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "out.wav")
        if voice.engine == "flite":
            cmd = ["flite", "-voice", voice.ident, "-t", text, "-o", path]
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        else:
            subprocess.run(["text2wave", "-o", path], input=text.encode(), check=True,
                           capture_output=True, timeout=60)
        wav, sr = sf.read(path, dtype="float32")
    return wav if wav.ndim == 1 else wav.mean(1), sr


def synthesize(text: str, voice: Voice, with_phones: bool = False):
    """Speak `text` with `voice` -> float32 [T] at 24 kHz in [-PEAK, PEAK].

    With `with_phones=True` returns `(wav, phones)` where phones are `Phone(phone, start, end)`
    in seconds of the returned audio (espeak engines; empty for pico)."""
    if not text.strip():
        raise ValueError("text to synthesise is empty")
    raw, sr, events = _synth_raw(text, voice)
    wav = resample(raw, sr)
    peak = float(np.abs(wav).max()) if wav.size else 0.0
    if peak > 0:
        wav = wav * (PEAK / peak)  # normalise: voices differ in level, espeak can overshoot
    wav, cut = _trim(wav.astype(np.float32))
    if not with_phones:
        return wav
    dur = len(wav) / SAMPLE_RATE
    shift = cut / SAMPLE_RATE
    shifted = [(p, max(0.0, t - shift)) for p, t in events]
    return wav, phones_from_events(shifted, dur)


def phone_labels(phones: list[Phone], n_frames: int, hop: int) -> list[str]:
    """Phone at the centre of each unit frame (stress marks dropped; pauses are '_')."""
    labels, j = [], 0
    for f in range(n_frames):
        t = (f + 0.5) * hop / SAMPLE_RATE
        while j + 1 < len(phones) and phones[j].end <= t:
            j += 1
        name = phones[j].phone if phones and phones[j].start <= t < phones[j].end else "_"
        name = name.strip("',") or "_"
        labels.append("_" if name.startswith("_") or name.startswith("(") else name)
    return labels
