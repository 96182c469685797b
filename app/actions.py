"""One documented function per demo action, bound to a loaded `DemoSession`.

Every action turns widget values into a call of slmlab.demo and results into widget values:
audio as `(sample_rate, int16 np.ndarray)`, plots as plotly figures, text as markdown. Errors a
user can fix (bad audio, empty text, bad option) become `gr.Error` with the package's message;
anything unexpected is logged with its traceback on the server and shown as one line, so the
page never shows a traceback and the server keeps serving.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import gradio as gr
import numpy as np

from app import figures
from slmlab.constants import SAMPLE_RATE

log = logging.getLogger("slmlab.app")
TYPED = "(type your own)"


def to_int16(wav: np.ndarray) -> tuple[int, np.ndarray]:
    """float32 [T] in [-1, 1] at 24 kHz -> (24000, int16 [T]), what gr.Audio plays."""
    return SAMPLE_RATE, (np.clip(np.nan_to_num(wav), -1.0, 1.0) * 32767).astype(np.int16)


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
    def _continue(self, wav: np.ndarray, label: str, seconds, temperature, top_k, seed, layer):
        c = self.s.continue_speech(wav, float(seconds), float(temperature), int(top_k), int(seed))
        proj = self.s.project(c.prompt_units, int(layer), label=label)
        status = (f"Prompt: {len(c.prompt_audio) / SAMPLE_RATE:.1f} s → {len(c.prompt_units)} "
                  f"units; continuation: {len(c.new_units)} units "
                  f"({len(c.new_units) / c.frame_rate:.1f} s) in {c.elapsed:.2f} s.")
        state = {"units": c.prompt_units.tolist(), "label": label}
        return (to_int16(c.prompt_audio), to_int16(c.audio),
                figures.units_plot(c.prompt_units, c.new_units, c.frame_rate), status, state,
                proj.figure, figures.neighbours_markdown(proj.nearest, proj.method, proj.layer))

    @friendly
    def continue_from_text(self, text: str, lang: str, seconds: float, temperature: float,
                           top_k: int, seed: int, layer: int):
        """Speak `text` in `lang` with a built-in voice, then continue it.

        Returns (prompt audio, continuation audio, units plot, status, prompt state,
        projection plot, neighbours markdown)."""
        wav = self.s.prompt_from_text(text, lang)
        return self._continue(wav, f"your text ({lang})", seconds, temperature, top_k, seed, layer)

    @friendly
    def continue_from_audio(self, audio: Any, seconds: float, temperature: float, top_k: int,
                            seed: int, layer: int):
        """Continue a recorded or uploaded prompt (a file path from gr.Audio, any rate/format
        libsndfile reads; stereo is mixed). Same outputs as `continue_from_text`."""
        wav = self.s.prompt_from_audio(audio)
        return self._continue(wav, "your audio", seconds, temperature, top_k, seed, layer)

    # -- 2. cloze -------------------------------------------------------------------------
    def pick_cloze(self, label: str):
        """Fill the cloze fields from a benchmark item (or leave them for typing)."""
        it = self.cloze_by_label.get(label)
        if it is None:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), None
        return (it["context"], it["context_lang"], it["ending_a"], it["ending_b"],
                it["ending_lang"], it["right"])

    @friendly
    def cloze(self, context: str, context_lang: str, ending_a: str, ending_b: str,
              ending_lang: str, right: str | None = None):
        """Score two endings after a context (texts, either language, spoken by built-in
        voices): returns (bar plot, verdict markdown)."""
        if not (context or "").strip():
            raise gr.Error("type a story context (or pick a benchmark item)", print_exception=False)
        r = self.s.cloze(context, ending_a, ending_b, context_lang, ending_lang)
        right = right if right in ("A", "B") else None
        return (figures.cloze_plot(r.scores, r.preferred, right),
                figures.verdict_markdown(r.preferred, r.scores, right))

    def typed(self):
        """Editing a field turns a benchmark item into a typed one (no known right ending)."""
        return None

    # -- 3. representations ---------------------------------------------------------------
    @friendly
    def project(self, state: dict | None, layer: int):
        """The reference map at `layer` with the last prompt (if any): (plot, neighbours)."""
        units = (state or {}).get("units")
        label = (state or {}).get("label", "your prompt")
        proj = self.s.project(units, int(layer), label=label)
        return proj.figure, figures.neighbours_markdown(proj.nearest, proj.method, proj.layer)
