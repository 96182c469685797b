"""Benchmark items from held-out stories: StoryCloze, TopicCloze, lexical and syntactic pairs.

- StoryCloze and TopicCloze are counterbalanced (`slmlab.world.pairs`): items come in pairs
  (A, B) sharing `pair_id`, with endings (a, b); a is right for A and wrong for B, b right for
  B and wrong for A. StoryCloze twins differ in exactly the fact the ending tests (`fact`:
  object, winner, feeling, pet, weather, place; each the same number of pairs); TopicCloze
  twins are stories of two topics with the same characters, so their endings differ only in
  topic nouns. Whatever an ending-only score prefers, it gets exactly one item of each pair
  right: the endings alone carry no information, only the story does.
- Lexical pairs (like sWUGGY): a word of the language vs a pronounceable non-word made by
  swapping one consonant between vowels, absent from both languages' lexicons, from the real
  words of Debian's word lists that such a swap can make (`realwords.txt`, rebuilt by
  `python -m slmlab.world.nonwords`) and from an offensive-word blocklist.
- Syntactic pairs (like sBLiMP): grammatical vs an audible agreement, auxiliary, contraction,
  case or word-order error, built by each language's realiser.
Every cloze item holds both languages, so the four `CONDITIONS` come from the same items.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from slmlab.config import check_positive
from slmlab.files import iter_jsonl
from slmlab.world.nonwords import MIN_LEN, nonword
from slmlab.world.pairs import story_pairs, topic_pairs
from slmlab.world.planner import Plan
from slmlab.world.realise import realisers
from slmlab.world.stories import generate_plans, save_jsonl

CONDITIONS = ("en-en", "fr-fr", "en-fr", "fr-en")  # context language - ending language


@dataclass
class ClozeItem:
    item_id: str
    kind: str  # story | topic
    topic: str
    context: dict  # lang -> list[str]
    right: dict  # lang -> str
    wrong: dict  # lang -> str
    pair_id: str = ""  # the twin item has the same pair_id, with right and wrong swapped
    fact: str = ""  # what the ending tests: object|winner|feeling|pet|weather|place|topic

    def condition(self, cond: str) -> tuple[list[str], str, str]:
        """(context sentences, right, wrong) for a condition like "en-fr"."""
        ctx, end = cond.split("-")
        return self.context[ctx], self.right[end], self.wrong[end]


@dataclass
class MinimalPair:
    item_id: str
    kind: str  # lexical | syntactic
    lang: str
    good: str
    bad: str


@dataclass
class Benchmark:
    story_cloze: list = field(default_factory=list)
    topic_cloze: list = field(default_factory=list)
    lexical: list = field(default_factory=list)
    syntactic: list = field(default_factory=list)

    def items(self):
        return self.story_cloze + self.topic_cloze + self.lexical + self.syntactic


def _twin_items(pair_id: str, kind: str, fact: str, topics: tuple, ta: dict, tb: dict) -> list:
    """Items A and B of one counterbalanced pair (texts {lang: [sentence]}): A's ending is
    right for A and wrong for B, and B's the other way round."""
    ctx = [{k: v[:-1] for k, v in t.items()} for t in (ta, tb)]
    end = [{k: v[-1] for k, v in t.items()} for t in (ta, tb)]
    return [ClozeItem(f"{pair_id}-{'ab'[i]}", kind, topics[i], ctx[i], end[i], end[1 - i],
                      pair_id, fact) for i in (0, 1)]


def story_cloze(n_items: int, seed: int) -> list[ClozeItem]:
    """ceil(n_items / 2) pairs of minimal-pair stories (see slmlab.world.pairs)."""
    items = []
    for k, (fact, topic, ta, tb) in enumerate(story_pairs(-(-n_items // 2), seed)):
        items += _twin_items(f"sc-s{seed}-{k:05d}", "story", fact, (topic, topic), ta, tb)
    return items


def topic_cloze(n_items: int, seed: int) -> list[ClozeItem]:
    """ceil(n_items / 2) pairs of stories of two topics with the same characters."""
    items = []
    for k, (topic_a, topic_b, ta, tb) in enumerate(topic_pairs(-(-n_items // 2), seed)):
        items += _twin_items(f"tc-s{seed}-{k:05d}", "topic", "topic", (topic_a, topic_b), ta, tb)
    return items


def lexical_pairs(n: int, seed: int) -> list[MinimalPair]:
    """`n` (word, non-word) pairs per language, each non-word used once (see nonwords.py)."""
    regs = realisers()
    lexicon = set().union(*(r.word_forms() for r in regs.values()))
    out = []
    for lang, reg in regs.items():
        words = sorted(w for w in reg.word_forms() if len(w) >= MIN_LEN)
        rng, used = random.Random(f"lex:{seed}:{lang}"), set(lexicon)  # grows with each non-word
        made = 0
        for _ in range(50 * n):
            if made == n:
                break
            w = rng.choice(words)
            nw = nonword(w, rng, used, lang)
            if nw:
                used.add(nw)
                out.append(MinimalPair(f"lex-{lang}-s{seed}-{made:05d}", "lexical", lang, w, nw))
                made += 1
    return out


def syntactic_pairs(plans: list[Plan], n: int, seed: int) -> list[MinimalPair]:
    out = []
    for lang, reg in realisers().items():
        rng, seen = random.Random(f"syn:{seed}:{lang}"), set()
        for j in range(50 * n):
            if len(seen) == n:
                break
            phen, good, bad = reg.syntactic_pair(rng, plans[j % len(plans)])
            if good != bad and (good, bad) not in seen:
                seen.add((good, bad))
                out.append(MinimalPair(f"syn-{lang}-{phen}-s{seed}-{len(seen) - 1:05d}",
                                       "syntactic", lang, good, bad))
    return out


def make_benchmark(n_items: int = 1000, seed: int = 0) -> Benchmark:
    """`n_items` per cloze kind (rounded up to a whole number of pairs) and per language for
    minimal pairs, from held-out stories of `seed` and their twins."""
    check_positive("n_items", n_items)
    plans = generate_plans(n_items, seed, "heldout")
    return Benchmark(story_cloze(n_items, seed), topic_cloze(n_items, seed),
                     lexical_pairs(n_items, seed), syntactic_pairs(plans, n_items, seed))


def save_benchmark(bench: Benchmark, path) -> Path:
    """One JSON object per item; `kind` (story|topic|lexical|syntactic) tells them apart."""
    return save_jsonl((asdict(x) for x in bench.items()), path)


def load_benchmark(path) -> Benchmark:
    bench = Benchmark()
    slots = {"story": bench.story_cloze, "topic": bench.topic_cloze, "lexical": bench.lexical,
             "syntactic": bench.syntactic}
    for n, row in iter_jsonl(path):
        if row.get("kind") not in slots:
            raise ValueError(f"{path}:{n}: unknown benchmark kind {row.get('kind')!r}; "
                             f"expected one of {', '.join(slots)}")
        cls = ClozeItem if row["kind"] in ("story", "topic") else MinimalPair
        slots[row["kind"]].append(cls(**row))
    return bench


__all__ = ["CONDITIONS", "ClozeItem", "MinimalPair", "Benchmark", "make_benchmark",
           "save_benchmark", "load_benchmark"]
