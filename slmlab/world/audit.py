"""Bias audit of the benchmark items: what can be solved without the story?

- `ending_only_accuracy`: a classifier that sees only the two endings of a cloze item (bag of
  words + lengths, logistic regression, cross-validated) and guesses which one is right. On
  a fair benchmark it stays near 50%; well above means the endings give themselves away.
  The features of an item are those of ending 1 minus those of ending 2 (a pairwise model),
  the order of the two endings drawn at random per item.
- `dictionary_hits`: lexical "non-words" that are real words of a word list (Debian's
  `wamerican-large`, `wbritish`, `wfrench` under /usr/share/dict) or of the offensive-word
  blocklist shipped in this package.
- `counterbalance_violations`: pairs of cloze items whose endings are not swapped copies of
  each other, so that an ending-only score could win both.
- `homophones`: minimal pairs whose two sides espeak-ng pronounces the same way (`phonemes`).

Used by `tests/test_bench_audit.py` and `benchmarks/bench_audit.py` (the benchmark card).
"""

from __future__ import annotations

import ctypes
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from slmlab.speech.espeak import engine

DICT_DIR = Path("/usr/share/dict")
WORDLISTS = {"en": ("american-english-large", "british-english"), "fr": ("french",)}
WORDLIST_HINT = "apt-get install -y wamerican-large wbritish wfrench (or: make wordlists)"
BLOCKLIST = Path(__file__).with_name("blocklist.txt")


def ending_pairs(items, lang: str, seed: int = 0):
    """(first ending, second ending, 1 if the first is right) per item, endings in `lang`,
    the order drawn at random (so position carries no information)."""
    rng = random.Random(f"audit:{seed}:{lang}")
    out = []
    for it in items:
        right, wrong = it.right[lang], it.wrong[lang]
        out.append((right, wrong, 1) if rng.random() < 0.5 else (wrong, right, 0))
    return out


def _features(pairs):
    """X: [N, V + 2] = bag of words(first) - bag of words(second), then the two length
    differences (characters / 10, words); y: [N]. Every feature changes sign when the two
    endings are swapped, so the model is a pure "which ending is better" score."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(token_pattern=r"(?u)\b\w+\b", lowercase=True)
    vec.fit([p[0] for p in pairs] + [p[1] for p in pairs])
    bow = vec.transform([p[0] for p in pairs]) - vec.transform([p[1] for p in pairs])
    d_chars = np.array([len(a) - len(b) for a, b, _ in pairs], float)
    d_words = np.array([len(a.split()) - len(b.split()) for a, b, _ in pairs], float)
    lengths = np.stack([d_chars / 10, d_words], 1)
    return hstack([bow, csr_matrix(lengths)]).tocsr(), np.array([p[2] for p in pairs])


def ending_only_accuracy(items, lang: str, folds: int = 5, seed: int = 0,
                         grouped: bool = False) -> float:
    """Cross-validated accuracy of an ending-only classifier on `items` (ClozeItems) in
    `lang`. `grouped`: keep both items of a counterbalanced pair (`pair_id`) in the same
    fold; otherwise plain K-fold over items, as the audit that found the biases did. A tie
    (the model has no preference: identical features, or weights that cancel) counts 1/2,
    the expected score of a coin flip, rather than always the same class."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, KFold

    X, y = _features(ending_pairs(items, lang, seed))
    if grouped:
        groups = [getattr(it, "pair_id", "") or it.item_id for it in items]
        splits = GroupKFold(folds).split(X, y, groups)
    else:
        splits = KFold(folds, shuffle=True, random_state=seed).split(X)
    scores = np.zeros(len(y))
    for train, test in splits:
        # no intercept: swapping the two endings must flip the prediction (an antisymmetric
        # pairwise model); the order is random, so an intercept could only fit noise
        model = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False)
        model.fit(X[train], y[train])
        d = model.decision_function(X[test])
        scores[test] = np.where(np.abs(d) < 1e-9, 0.5, (d > 0) == (y[test] == 1))
    return float(scores.mean())


def counterbalance_violations(items) -> list[str]:
    """Pair ids whose two items are not (context A, a, b) and (context B, b, a) in every
    language, with A != B: an ending-only score could then get both right (or both wrong)."""
    pairs = defaultdict(list)
    for it in items:
        pairs[getattr(it, "pair_id", "") or it.item_id].append(it)
    bad = []
    for pid, members in pairs.items():
        if len(members) != 2:
            bad.append(pid)
            continue
        a, b = members
        for lang in a.right:
            if (a.right[lang], a.wrong[lang]) != (b.wrong[lang], b.right[lang]) \
                    or a.right[lang] == a.wrong[lang] or a.context[lang] == b.context[lang]:
                bad.append(pid)
                break
    return bad


def load_wordlist(lang: str) -> set[str] | None:
    """Lower-cased words of the system word lists for `lang`, or None when they are missing."""
    paths = [DICT_DIR / name for name in WORDLISTS[lang]]
    if not all(p.exists() for p in paths):
        return None
    words = set()
    for p in paths:
        words.update(w.strip().lower() for w in p.read_text(encoding="utf-8", errors="replace").split("\n"))
    words.discard("")
    return words


def load_blocklist() -> set[str]:
    """Offensive words (both languages, lower case) that a non-word must neither be nor
    contain (see blocklist.txt)."""
    lines = BLOCKLIST.read_text(encoding="utf-8").splitlines()
    return {w.strip().lower() for w in lines if w.strip() and not w.startswith("#")}


def blocked(word: str, blocklist: set[str]) -> bool:
    """True when `word` is, or contains, a blocklisted word of 4+ letters (shorter ones only
    as the whole word: "con" must not rule out "conte")."""
    w = word.lower()
    return w in blocklist or any(len(b) >= 4 and b in w for b in blocklist)


def dictionary_hits(words, wordlist: set[str]) -> list[str]:
    return sorted({w for w in words if w.lower() in wordlist})


# --- audible minimal pairs ------------------------------------------------------------
# "un nouvel ours" and "un nouvelle ours" are spelled differently but sound the same, so a
# speech model cannot tell them apart. `phonemes` asks espeak-ng (the engine slmlab.speech
# speaks the corpus with) for its phoneme string through espeak_TextToPhonemes, far faster
# than synthesis; `homophones` lists the pairs whose two sides sound the same.
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


__all__ = ["phonemes", "homophones", "ending_only_accuracy", "ending_pairs", "counterbalance_violations", "load_wordlist",
           "load_blocklist", "blocked", "dictionary_hits", "WORDLIST_HINT"]
