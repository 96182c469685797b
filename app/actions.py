"""One documented function per demo action, bound to a loaded `DemoSession`.

Every action turns widget values into a call of app.session and results into widget values:
audio as a fresh 16-bit wav file at 24 kHz (see `to_wav`), plots as plotly figures, text as markdown. Errors a
user can fix (bad audio, empty text, bad option) become `gr.Error` with the package's message;
anything unexpected is logged with its traceback on the server and shown as one line, so the
page never shows a traceback and the server keeps serving.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np

from app import figures
from slmlab.constants import SAMPLE_RATE

log = logging.getLogger("slmlab.app")
TYPED = "(type your own)"


AUDIO_DIR = Path(tempfile.gettempdir()) / "slmlab-app"  # our wav files, one per output
AUDIO_TTL = 120  # seconds an output wav is kept (Gradio copies it into its own cache at once)


def to_wav(wav: np.ndarray) -> str:
    """float32 [T] in [-1, 1] at 24 kHz -> path of a fresh 16-bit wav file for gr.Audio.

    Why a file and not (sample_rate, array): Gradio 6.31 writes an array output to a path named
    by its content hash, re-truncating the file when two requests return the same audio at
    once (the same example twice), so a concurrent download can read a partial file. A unique
    file is copied into Gradio's cache atomically (temp name + rename)."""
    import soundfile as sf

    AUDIO_DIR.mkdir(parents=True, exist_ok=True)
    _sweep(AUDIO_DIR)
    path = AUDIO_DIR / f"{uuid.uuid4().hex}.wav"
    sf.write(str(path), np.clip(np.nan_to_num(wav), -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16")
    return str(path)


def _sweep(d: Path) -> None:
    """Delete output wavs older than AUDIO_TTL (a live server would otherwise fill /tmp)."""
    cutoff = time.time() - AUDIO_TTL
    for f in d.glob("*.wav"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:  # another worker got there first
            pass


def friendly(fn: Callable) -> Callable:
    """Turn exceptions into gr.Error messages (ValueError subclasses carry user-facing text)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as e:  # AudioError, ConfigError, TokenizerError, bad options
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # a bug: keep the server alive, tell the user one line
            log.exception("action %s failed", fn.__name__)
            raise gr.Error(f"internal error in {fn.__name__} ({type(e).__name__}: {e}); "
                           "the server is still running — try again or report it",
                           print_exception=False) from None

    return wrapper


class Actions:
    """The demo's actions over one session (the model is loaded once, in the session)."""

    def __init__(self, session: Any):
        self.s = session
        self.cloze_by_label = {it["label"]: it for it in session.cloze_items()}

    # -- 1. continuation ------------------------------------------------------------------
    def _continue(self, wav: np.ndarray, label: str, seconds, temperature, top_k, seed):
        if seed is None:  # a cleared number box
            raise gr.Error("give a seed (a whole number, e.g. 0)", print_exception=False)
        c = self.s.continue_speech(wav, float(seconds), float(temperature), int(top_k), int(seed))
        status = (f"Prompt: {len(c.prompt_audio) / SAMPLE_RATE:.1f} s → {len(c.prompt_units)} "
                  f"units; continuation: {len(c.new_units)} units "
                  f"({len(c.new_units) / c.frame_rate:.1f} s) in {c.elapsed:.2f} s.")
        if len(c.new_units) < round(float(seconds) * c.frame_rate):
            status += (" The model stopped early: it predicted the end of the story (EOS)"
                       + (" at once — try another seed." if len(c.new_units) == 0 else "."))
        state = {"units": c.prompt_units.tolist(), "label": label}
        return (to_wav(c.prompt_audio), to_wav(c.audio) if len(c.audio) else None,
                figures.units_plot(c.prompt_units, c.new_units, c.frame_rate), status,
                to_wav(c.heard), state)

    @friendly
    def continue_from_text(self, text: str, lang: str, seconds: float, temperature: float,
                           top_k: int, seed: int):
        """Speak `text` in `lang` with a built-in voice, then continue it.

        Returns (prompt audio, continuation audio or None when the model ends at once, units
        plot, status markdown, the prompt as the model heard it (its units decoded), prompt
        state for the map)."""
        wav = self.s.prompt_from_text(text, lang)
        return self._continue(wav, f"your text ({lang})", seconds, temperature, top_k, seed)

    @friendly
    def continue_from_audio(self, audio: Any, seconds: float, temperature: float, top_k: int,
                            seed: int):
        """Continue a recorded or uploaded prompt (a file path from gr.Audio, any rate/format
        libsndfile reads; stereo is mixed), trimmed to speech and loudness-normalised first.
        Same outputs as `continue_from_text`."""
        wav = self.s.prompt_from_audio(audio)
        return self._continue(wav, "your audio", seconds, temperature, top_k, seed)

    # -- 2. cloze -------------------------------------------------------------------------
    def pick_cloze(self, label: str):
        """Fill the cloze fields from a benchmark item (or leave them for typing)."""
        it = self.cloze_by_label.get(label)
        if it is None:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        return it["context"], it["context_lang"], it["ending_a"], it["ending_b"], it["ending_lang"]

    def right_ending(self, *fields: str) -> str | None:
        """"A" | "B" when the fields are exactly a benchmark item's (its right ending is
        known), else None (typed or edited)."""
        keys = ("context", "context_lang", "ending_a", "ending_b", "ending_lang")
        return next((it["right"] for it in self.cloze_by_label.values()
                     if tuple(it[k] for k in keys) == fields), None)

    @friendly
    def cloze(self, context: str, context_lang: str, ending_a: str, ending_b: str,
              ending_lang: str):
        """Score two endings after a context (texts, either language, spoken by built-in
        voices), and again without the context and after another story's context (the
        controls): returns (grouped bar plot, verdict markdown)."""
        results = self.s.cloze_controls(context, ending_a, ending_b, context_lang, ending_lang)
        right = self.right_ending(context, context_lang, ending_a, ending_b, ending_lang)
        return figures.cloze_plot(results, right), figures.verdict_markdown(results, right)

    # -- 3. representations ---------------------------------------------------------------
    @friendly
    def project(self, state: dict | None, layer: int):
        """The reference map at `layer` with the last prompt (if any): (plot, neighbours)."""
        units = (state or {}).get("units")
        label = (state or {}).get("label", "your prompt")
        proj = self.s.project(units, int(layer), label=label)
        return proj.figure, figures.neighbours_markdown(proj.nearest, proj.method, proj.layer)
