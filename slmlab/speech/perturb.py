"""Speaker perturbation: the same words in a different-sounding voice, frame for frame.

Used to train speaker-invariant units (two perturbed copies of one utterance must give the same
units) and to test them. The recipe follows Spin (Chang et al. 2023):
- Praat's "Change gender" (through `praat-parselmouth`): formant shift ratio U(1, 1.4), pitch
  median ratio U(1, 2), pitch range factor U(1, 1.5), each inverted with probability 0.5;
- a random 10-band equaliser, +-12 dB per band, bands log-spaced and interpolated smoothly;
- optionally additive white noise at a random SNR, and a speed (duration) factor. The speed
  factor changes the timing, so training copies keep it at 1 (frames stay aligned with the
  phone labels and with the other copy); tests use it to check tempo invariance.

`perturb(wav, p, sr) -> wav` keeps the input length when `p.speed == 1` and the level (peak).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PITCH_FLOOR, PITCH_CEIL = 60.0, 500.0  # Hz: Praat's pitch search range for speech
EQ_BANDS = 10
EQ_DB = 12.0


@dataclass(frozen=True)
class Perturbation:
    """One voice change. Ratios of 1 and an empty EQ leave the audio as it was."""

    formant: float = 1.0  # formant shift ratio (>1: shorter vocal tract, brighter)
    pitch: float = 1.0  # ratio applied to the utterance's median F0
    pitch_range: float = 1.0  # factor on the F0 excursions around the median
    speed: float = 1.0  # duration factor (>1: slower); 1 keeps frames aligned
    eq_db: tuple[float, ...] = field(default=())  # EQ_BANDS gains in dB, or () for none
    snr_db: float | None = None  # white noise at this signal-to-noise ratio, or None

    def __post_init__(self):
        for name in ("formant", "pitch", "pitch_range", "speed"):
            v = getattr(self, name)
            if not 0.25 <= v <= 4.0:
                raise ValueError(f"Perturbation.{name} must be in [0.25, 4]; got {v}")
        if self.eq_db and len(self.eq_db) != EQ_BANDS:
            raise ValueError(f"Perturbation.eq_db needs {EQ_BANDS} gains; got {len(self.eq_db)}")


def _inv(rng: np.random.Generator, lo: float, hi: float) -> float:
    r = float(rng.uniform(lo, hi))
    return 1.0 / r if rng.random() < 0.5 else r


def random_perturbation(rng: np.random.Generator, noise: bool = True) -> Perturbation:
    """A Spin-style random voice change (speed stays 1: frames stay aligned)."""
    snr = float(rng.uniform(10.0, 35.0)) if noise and rng.random() < 0.5 else None
    return Perturbation(formant=_inv(rng, 1.0, 1.4), pitch=_inv(rng, 1.0, 2.0),
                        pitch_range=_inv(rng, 1.0, 1.5),
                        eq_db=tuple(float(g) for g in rng.uniform(-EQ_DB, EQ_DB, EQ_BANDS)),
                        snr_db=snr)


def change_gender(wav: np.ndarray, sr: int, p: Perturbation) -> np.ndarray:
    """Praat's "Change gender" (PSOLA pitch + resampling formant shift) -> float32 [T']."""
    try:
        import parselmouth
        from parselmouth.praat import call
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError("speaker perturbation needs praat-parselmouth: "
                          "pip install praat-parselmouth==0.4.7") from e
    snd = parselmouth.Sound(wav.astype(np.float64), sampling_frequency=sr)
    f0 = call(snd.to_pitch(pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEIL),
              "Get quantile", 0, 0, 0.5, "Hertz")
    new_median = 0.0 if not np.isfinite(f0) else float(np.clip(f0 * p.pitch, 50.0, 450.0))
    try:
        out = call(snd, "Change gender", PITCH_FLOOR, PITCH_CEIL, p.formant, new_median,
                   p.pitch_range, p.speed)
    except parselmouth.PraatError:  # no usable pitch (whispery or very short audio):
        out = call(snd, "Change gender", PITCH_FLOOR, PITCH_CEIL, p.formant, 0.0, 1.0, p.speed)
    return np.asarray(out.values[0], np.float32)


def equalise(wav: np.ndarray, sr: int, gains_db) -> np.ndarray:
    """Apply band gains (dB, log-spaced band centres 60 Hz..sr/2, smooth in log-frequency)."""
    spec = np.fft.rfft(wav)
    freqs = np.fft.rfftfreq(len(wav), 1.0 / sr)
    centres = np.geomspace(60.0, sr / 2, len(gains_db))
    g = np.interp(np.log(np.maximum(freqs, 1.0)), np.log(centres), np.asarray(gains_db))
    return np.fft.irfft(spec * 10 ** (g / 20.0), n=len(wav)).astype(np.float32)


def perturb(wav: np.ndarray, p: Perturbation, sr: int = 24_000, seed: int = 0) -> np.ndarray:
    """wav float32 [T] -> the same words in the voice `p` describes, same peak level.
    With `p.speed == 1` the output has exactly T samples (aligned frame for frame)."""
    wav = np.asarray(wav, np.float32)
    peak = float(np.abs(wav).max()) if wav.size else 0.0
    if peak == 0.0:
        return wav.copy()
    out = wav
    if (p.formant, p.pitch, p.pitch_range, p.speed) != (1.0, 1.0, 1.0, 1.0):
        out = change_gender(out, sr, p)
    if p.speed == 1.0:  # Praat may add or drop a few samples: keep the alignment exact
        out = np.pad(out, (0, max(0, len(wav) - len(out))))[: len(wav)]
    if p.eq_db:
        out = equalise(out, sr, p.eq_db)
    if p.snr_db is not None:
        rms = float(np.sqrt(np.mean(out ** 2))) + 1e-9
        noise = np.random.default_rng(seed).standard_normal(len(out)).astype(np.float32)
        out = out + noise * rms * 10 ** (-p.snr_db / 20.0)
    top = float(np.abs(out).max())
    return (out * (peak / top)).astype(np.float32) if top > 0 else out
