"""Training and evaluation audio for the neural tokenizer, made in parallel worker processes.

Each training item is one world sentence spoken by a random voice of a training family
(`slmlab.speech.tts.sample_voice`: continuous rate, pitch, range), in three frame-aligned copies:
clean, and two independent Spin-style perturbations (`slmlab.speech.perturb`). A worker returns
per-utterance standardised log-mel for each copy (float16 [8F, 80]) and espeak-ng's phone at
every 10 ms frame centre. Canonical items (for the decoder) are spoken by the canonical voice
and keep the raw log-mel too. Evaluation items: one held-out sentence, several voices.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass

import numpy as np
import torch

from slmlab.constants import LANGS, SAMPLE_RATE
from slmlab.speech.perturb import perturb, random_perturbation
from slmlab.speech.tts import Voice, canonical_voice, sample_voice, synthesize
from slmlab.tokenizers.neural import SUB, noise_gate, normalised_logmel
from slmlab.tokenizers.units import A_HOP, log_mel, mel_filterbank
from slmlab.world import generate_stories

_FB: dict = {}


def _fb() -> torch.Tensor:
    if "fb" not in _FB:
        torch.set_num_threads(1)  # one worker per core
        _FB["fb"] = mel_filterbank()
    return _FB["fb"]


def frame_phones(phones, n_frames: int, lang: str, step: float = A_HOP / SAMPLE_RATE) -> list[str]:
    """Phone name at the centre of each `step`-second frame ('_' for pauses), prefixed by
    language ('en:a'), as `slmlab.speech.phones.labelled_utterance` does per unit frame."""
    starts = np.array([p.start for p in phones]) if phones else np.zeros(0)
    out = []
    for i in range(n_frames):
        t = (i + 0.5) * step
        j = int(np.searchsorted(starts, t, "right")) - 1
        name = phones[j].phone if j >= 0 and t < phones[j].end else "_"
        name = name.strip("',") or "_"
        out.append("_" if name[0] in "_(" else f"{lang}:{name}")
    return out


def _lm(wav: np.ndarray) -> np.ndarray:
    return normalised_logmel(noise_gate(torch.from_numpy(wav)[None]), _fb())[0].half().numpy()


def training_item(task: tuple) -> dict:
    """(seed, lang, text) -> {clean, p1, p2: float16 [8F, 80], phones: list[str] [8F]}."""
    seed, lang, text = task
    rng = np.random.default_rng(seed)
    wav, phones = synthesize(text, sample_voice(lang, rng, "train"), with_phones=True)
    out = {"clean": _lm(wav)}
    for k in ("p1", "p2"):
        try:
            out[k] = _lm(perturb(wav, random_perturbation(rng), seed=seed))
        except RuntimeError:  # parselmouth.PraatError: Praat refuses a rare utterance (no
            # usable pitch even for the fallback); keep it, as an unperturbed copy
            out[k] = out["clean"]
    out["phones"] = frame_phones(phones, out["clean"].shape[0], lang)
    return out


def canonical_item(task: tuple) -> dict:
    """(seed, lang, text) -> canonical voice: standardised and raw log-mel [8F, 80]."""
    _, lang, text = task
    wav = synthesize(text, canonical_voice(lang))
    f = -(-len(wav) // (SUB * A_HOP))
    raw = log_mel(torch.from_numpy(wav)[None], _fb(), f * SUB)[0]
    return {"norm": _lm(wav), "raw": raw.half().numpy()}


@dataclass
class EvalUtterance:
    sentence: int  # index of the sentence (same index = same words)
    lang: str
    voice: str
    split: str  # 'train' (a training family) | 'heldout' (family) | 'engine'
    wav: np.ndarray  # float32 [T] at 24 kHz
    phones: list[str]  # phone at each unit-frame centre ('_' unknown for other engines)


def eval_item(task: tuple) -> EvalUtterance:
    """(seed, sentence index, lang, text, split) -> one utterance with unit-frame phones."""
    seed, idx, lang, text, split = task
    voice = sample_voice(lang, np.random.default_rng(seed), split)
    return _utter(idx, lang, text, voice, split)


def engine_item(task: tuple) -> EvalUtterance:
    """(sentence index, text, Voice) -> an utterance from another engine (no phone labels)."""
    idx, text, voice = task
    return _utter(idx, "en", text, voice, "engine")


def _utter(idx: int, lang: str, text: str, voice: Voice, split: str) -> EvalUtterance:
    if voice.engine == "espeak":
        wav, phones = synthesize(text, voice, with_phones=True)
        labels = frame_phones(phones, -(-len(wav) // (SUB * A_HOP)), lang, SUB * A_HOP / SAMPLE_RATE)
    else:
        wav, labels = synthesize(text, voice), []
    return EvalUtterance(idx, lang, voice.name, split, wav, labels)


def sentences(n: int, split: str = "train", seed: int = 0) -> list[tuple[str, str]]:
    """n (lang, text) pairs from world stories, alternating languages."""
    pools = {lang: [] for lang in LANGS}
    k = 8
    while min(len(v) for v in pools.values()) < (n + 1) // 2:
        stories = generate_stories(k, seed=seed, split=split)
        pools = {lang: [s for st in stories for s in st.sentences[lang]] for lang in LANGS}
        k *= 2
    return [(LANGS[i % 2], pools[LANGS[i % 2]][i // 2]) for i in range(n)]


def run_parallel(fn, tasks: list, workers: int = 0) -> list:
    """Map `fn` over `tasks` in worker processes (fork: no CUDA in the parent yet)."""
    n = workers or os.cpu_count() or 1
    if n == 1 or len(tasks) < 4:
        return [fn(t) for t in tasks]
    with mp.get_context("fork").Pool(n) as pool:
        return pool.map(fn, tasks, chunksize=max(1, len(tasks) // (n * 8)))
