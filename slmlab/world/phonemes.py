"""Phonemes of a sentence as espeak-ng says them, without synthesising audio.

Minimal pairs must differ audibly: "un nouvel ours" and "un nouvelle ours" are spelled
differently but sound the same, so a speech model cannot tell them apart. `phonemes` asks
espeak-ng (the engine `slmlab.speech` speaks the corpus with) for its phoneme string through
`espeak_TextToPhonemes`, far faster than synthesis; `homophones` lists the pairs whose two
sides have the same phonemes. Used by the bias audit (tests/test_bench_audit.py).
"""

from __future__ import annotations

import ctypes

CHARS_UTF8 = 1
VOICES = {"en": "en-us", "fr": "fr"}  # the voice families the corpus speaks with


def _bind(lib) -> None:
    if getattr(lib, "_slmlab_ttp", False):
        return
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
    lib._slmlab_ttp = True


def phonemes(text: str, lang: str) -> str:
    """espeak-ng's phoneme mnemonics of `text` in `lang` ("en" | "fr"), clauses joined by
    spaces; stress marks are kept (a stress shift is audible)."""
    from slmlab.speech.espeak import engine

    eng = engine()
    _bind(eng.lib)
    with eng.lock:
        eng.set_voice(VOICES[lang])
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        out = []
        # each call consumes one clause and moves ptr on; NULL at the end of the text
        while ptr.value:
            res = eng.lib.espeak_TextToPhonemes(ctypes.byref(ptr), CHARS_UTF8, 0)
            if res:
                out.append(res.decode("utf-8", "replace").strip())
    return " ".join(p for p in out if p)


def homophones(pairs) -> list:
    """The minimal pairs (objects with lang, good, bad) whose sides espeak-ng pronounces the
    same way."""
    return [p for p in pairs if phonemes(p.good, p.lang) == phonemes(p.bad, p.lang)]


__all__ = ["phonemes", "homophones"]
