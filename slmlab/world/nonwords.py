"""Lexical non-words (sWUGGY-like pairs) that are really not words.

A non-word is a word of the lexicon with one consonant before a vowel (at the start of the
word or after a vowel) swapped for another (`swaps`). Many such swaps are real words the lexicon does not have ("brake",
"cases", "chameau"), and some are slurs. They are ruled out by:
- `realwords.txt` (shipped): every swap of a lexicon word form that a standard word list
  holds (Debian's wamerican-large + wbritish for English, wfrench for French), made once on
  a machine that has the lists: `python -m slmlab.world.nonwords` (it prints what changed).
  Shipping the few thousand hits, rather than reading /usr/share/dict at run time, keeps the
  benchmark the same on every machine;
- the offensive-word blocklist (`blocklist.txt`, see `slmlab.world.audit.blocked`).
tests/test_bench_audit.py checks 5,000 non-words per language against the word lists.
"""

from __future__ import annotations

import random
import sys
from functools import lru_cache
from pathlib import Path

from slmlab.world.audit import WORDLIST_HINT, blocked, load_blocklist, load_wordlist
from slmlab.world.realise import realisers

MIN_LEN = 4  # shortest word a non-word is made from (shorter swaps are mostly real words)
CONSONANTS = "bdfklmnprstv"
VOWELS = set("aeiouyàâéèêëîïôûù")
REALWORDS = Path(__file__).with_name("realwords.txt")


def spots(word: str, lang: str = "fr") -> list[int]:
    """Positions of consonants of `CONSONANTS` that are followed by a vowel and start the
    word or follow a vowel: always pronounced, in both languages. English also pronounces a
    final consonant after a vowel ("boat"); French often does not ("petit")."""
    out = [i for i in range(len(word) - 1) if word[i] in CONSONANTS and word[i + 1] in VOWELS
           and (i == 0 or word[i - 1] in VOWELS)]
    if lang == "en" and len(word) > 2 and word[-1] in CONSONANTS and word[-2] in VOWELS:
        out.append(len(word) - 1)
    return out


def swaps(word: str, lang: str = "fr") -> set[str]:
    """Every one-consonant swap of `word` at its `spots`."""
    return {word[:i] + c + word[i + 1:] for i in spots(word, lang) for c in CONSONANTS
            if c != word[i]}


@lru_cache(maxsize=1)
def excluded() -> frozenset[str]:
    """Real words (shipped list) and blocklisted words a non-word must not be."""
    lines = REALWORDS.read_text(encoding="utf-8").splitlines() if REALWORDS.exists() else []
    return frozenset(w.split("\t")[1] for w in lines if "\t" in w)


def acceptable(cand: str, forbidden: set[str]) -> bool:
    return cand not in forbidden and cand not in excluded() and not blocked(cand, _blocklist())


@lru_cache(maxsize=1)
def _blocklist() -> frozenset[str]:
    return frozenset(load_blocklist())


def nonword(word: str, rng: random.Random, forbidden: set[str], lang: str = "fr") -> str | None:
    """Swap one consonant at a `spots` position for another, keeping only candidates that are
    neither in `forbidden` (lexicon forms, non-words already used), a real word, nor
    offensive."""
    places = spots(word, lang)
    rng.shuffle(places)
    for i in places:
        for c in rng.sample(CONSONANTS, len(CONSONANTS)):
            cand = word[:i] + c + word[i + 1:]
            if c != word[i] and acceptable(cand, forbidden):
                return cand
    return None


def build_realwords() -> dict[str, list[str]]:
    """{lang: sorted swaps of the lexicon's word forms that the system word lists hold}."""
    out = {}
    for lang, reg in realisers().items():
        words = load_wordlist(lang)
        if words is None:
            raise SystemExit(f"no word lists for {lang} under /usr/share/dict: {WORDLIST_HINT}")
        cands = set().union(*(swaps(w, lang) for w in reg.word_forms() if len(w) >= MIN_LEN))
        out[lang] = sorted(c for c in cands if c in words)
    return out


def main() -> int:
    hits = build_realwords()
    old = excluded()
    rows = [f"{lang}\t{w}" for lang in sorted(hits) for w in hits[lang]]
    header = ("# real words that a one-consonant swap of a lexicon word makes (lang<TAB>word);\n"
              "# made by `python -m slmlab.world.nonwords` from Debian's wamerican-large,\n"
              "# wbritish and wfrench; non-words never take these\n")
    REALWORDS.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    new = {r.split("\t")[1] for r in rows}
    print(f"{REALWORDS}: " + ", ".join(f"{lang} {len(v)}" for lang, v in hits.items())
          + f" real words ({len(new - old)} new, {len(old - new)} dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
