"""How big the vocabulary is and how much of it generated text uses: lemma counts per language
and part of speech (the topic nouns included), and the lemmas a set of sentences never uses."""

from __future__ import annotations

import re

from slmlab.world import topics  # noqa: F401  (its blocks add the topic nouns to NOUNS)
from slmlab.world.lexicon import ADJS, FR_ONLY, NOUNS, VERBS
from slmlab.world.realise import realisers


def lemma_counts() -> dict[str, dict[str, int]]:
    """Distinct lemmas per language and part of speech (names are not counted)."""
    out = {}
    for lang in ("en", "fr"):
        counts = {}
        for pos, table in (("noun", NOUNS), ("verb", VERBS), ("adj", ADJS)):
            lemmas = {e.spec[lang].split("/")[0].split(":")[0].split(",")[0].rstrip(" <")
                      for e in table.values() if not (lang == "en" and e.key in FR_ONLY)}
            counts[pos] = len(lemmas)
        counts["total"] = sum(counts.values())
        out[lang] = counts
    return out


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[\w-]+", text.lower()))


def lemma_forms(lang: str) -> dict[tuple[str, str], set[tuple[str, ...]]]:
    """(pos, lemma) -> the token tuples of its surface forms in `lang` (approximate for verbs:
    English base, past, -s, -ing; French infinitive and participles)."""
    reg = realisers()[lang]
    out: dict = {}

    def add(pos, lemma, *forms):
        out.setdefault((pos, lemma), set()).update(_tokens(f) for f in forms if f)
    for key, e in NOUNS.items():
        if lang == "en" and key in FR_ONLY:
            continue
        forms = reg.nouns[key]
        add("noun", forms[0], *forms[:2])
    for key, e in VERBS.items():
        if lang == "en":
            base, past = e.spec["en"].split(":")
            add("verb", base, base, past, base + "s", base + "ing", base[:-1] + "ing", base + base[-1] + "ing")
        else:
            inf, pp, _ = e.spec["fr"].split(":")
            add("verb", inf, inf, pp, pp + "e", pp + "s", pp + "es")
    for key in ADJS:
        forms = {key} if lang == "en" else set(v for k, v in reg.adjs[key].items() if k != "pre")
        add("adj", key if lang == "en" else reg.adjs[key]["m"], *forms)
    return out


def lemma_usage(sentences: dict[str, list[str]], max_len: int = 5) -> dict[str, dict]:
    """How many lemmas of each part of speech occur in `sentences` ({lang: [sentence]}):
    {lang: {pos: {"used", "declared"}, "unused": [lemma, ...]}}."""
    out = {}
    for lang, sents in sentences.items():
        grams = set()
        for s in set(sents):
            toks = _tokens(s)
            grams.update(toks[i:i + n] for n in range(1, max_len + 1) for i in range(len(toks) - n + 1))
        stats: dict = {}
        unused = []
        for (pos, lemma), forms in lemma_forms(lang).items():
            d = stats.setdefault(pos, {"used": 0, "declared": 0})
            d["declared"] += 1
            if forms & grams:
                d["used"] += 1
            else:
                unused.append(f"{pos}:{lemma}")
        stats["total"] = {k: sum(v[k] for v in stats.values()) for k in ("used", "declared")}
        stats["unused"] = sorted(unused)
        out[lang] = stats
    return out
