"""Benchmark items from held-out stories: StoryCloze, TopicCloze, lexical and syntactic pairs.

- StoryCloze: context = all but the last sentence; right = the real ending; wrong = the same
  ending template realised from a perturbed plan (opposite feeling, hero and helper swapped,
  or an object of the topic that the story never mentions), so it is fluent, on topic, of
  matched structure and length, and contradicts the context.
- TopicCloze: wrong = the ending of another held-out story on another topic (closest length).
- Lexical pairs (like sWUGGY): a word of the language vs a pronounceable non-word made by
  swapping one consonant between vowels, absent from both languages' lexicons.
- Syntactic pairs (like sBLiMP): grammatical vs an audible agreement, auxiliary, contraction,
  case or word-order error, built by each language's realiser.
Every cloze item holds both languages, so the four `CONDITIONS` come from the same items.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from slmlab.config import check_positive
from slmlab.world.lexicon import OPPOSITE, TOPIC_DATA
from slmlab.world.planner import Plan
from slmlab.world.realise import realise, realisers
from slmlab.world.stories import generate_plans, save_jsonl

CONDITIONS = ("en-en", "fr-fr", "en-fr", "fr-en")  # context language - ending language
_CONSONANTS = "bdfklmnprstv"
_VOWELS = set("aeiouyàâéèêëîïôûù")


@dataclass
class ClozeItem:
    item_id: str
    kind: str  # story | topic
    topic: str
    context: dict  # lang -> list[str]
    right: dict  # lang -> str
    wrong: dict  # lang -> str

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


def _last(plan: Plan, ending: tuple) -> dict:
    regs = realisers()
    return {lang: r.sentence(ending[0], ending[1], plan) for lang, r in regs.items()}


def _wrong_ending(plan: Plan, text: dict, rng: random.Random) -> dict:
    """The ending realised from a perturbed ending event (see the module docstring)."""
    kind, args = plan.events[-1]
    options = {"thank": ("feeling", "swap"), "play": ("object",),
               "because": ("feeling", "swap", "object")}[args["tmpl"]]
    how = rng.choice(options)
    if how == "feeling":
        return _last(plan, (kind, {**args, "feeling": OPPOSITE[args["feeling"]]}))
    if how == "swap":
        return _last(plan, (kind, {**args, "hero": args["helper"], "helper": args["hero"]}))
    story = " ".join(" ".join(s) for s in text.values()).lower()
    en = realisers()["en"]
    unseen = [o for o in TOPIC_DATA[plan.topic].objects
              if o != plan.obj and not any(f.lower() in story for f in en.nouns[o])]
    right = _last(plan, plan.events[-1])
    cands = [_last(plan, (kind, {**args, "obj": o})) for o in unseen]
    return min(cands, key=lambda c: sum(abs(len(c[k]) - len(right[k])) for k in c))


def story_cloze(plans: list[Plan], seed: int) -> list[ClozeItem]:
    items = []
    for i, plan in enumerate(plans):
        text = realise(plan)
        wrong = _wrong_ending(plan, text, random.Random(f"sc:{seed}:{i}"))
        items.append(ClozeItem(f"sc-s{seed}-{i:05d}", "story", plan.topic,
                               {k: v[:-1] for k, v in text.items()},
                               {k: v[-1] for k, v in text.items()}, wrong))
    return items


def topic_cloze(plans: list[Plan], seed: int, window: int = 64) -> list[ClozeItem]:
    """Wrong ending: the ending of another topic's story (one that names its object), with this
    story's hero and helper put in, so names give nothing away; closest length of the next
    `window` stories."""
    items = []
    for i, plan in enumerate(plans):
        text = realise(plan)
        right = {k: v[-1] for k, v in text.items()}
        others = [plans[(i + j) % len(plans)] for j in range(1, min(window, len(plans)))]
        cands = []
        for o in others:
            kind, args = o.events[-1]
            if o.topic != plan.topic and args["tmpl"] != "thank":
                swapped = {**args, "hero": plan.hero, "helper": plan.helper}
                cands.append(_last(replace(plan, obj_num=o.obj_num), (kind, swapped)))
        best = min(cands, key=lambda c: sum(abs(len(c[k]) - len(right[k])) for k in right))
        items.append(ClozeItem(f"tc-s{seed}-{i:05d}", "topic", plan.topic,
                               {k: v[:-1] for k, v in text.items()}, right, best))
    return items


def nonword(word: str, rng: random.Random, forbidden: set[str]) -> str | None:
    """Swap one consonant that sits between vowels (always pronounced) for another one."""
    spots = [i for i in range(1, len(word) - 1) if word[i] in _CONSONANTS
             and word[i - 1] in _VOWELS and word[i + 1] in _VOWELS]
    rng.shuffle(spots)
    for i in spots:
        for c in rng.sample(_CONSONANTS, len(_CONSONANTS)):
            cand = word[:i] + c + word[i + 1:]
            if c != word[i] and cand not in forbidden:
                return cand
    return None


def lexical_pairs(n: int, seed: int) -> list[MinimalPair]:
    regs = realisers()
    forbidden = set().union(*(r.word_forms() for r in regs.values()))
    out = []
    for lang, reg in regs.items():
        words = sorted(w for w in reg.word_forms() if len(w) >= 5)
        rng, seen = random.Random(f"lex:{seed}:{lang}"), set()
        for _ in range(50 * n):
            if len(seen) == n:
                break
            w = rng.choice(words)
            nw = nonword(w, rng, forbidden)
            if nw and (w, nw) not in seen:
                seen.add((w, nw))
                out.append(MinimalPair(f"lex-{lang}-s{seed}-{len(seen) - 1:05d}", "lexical", lang, w, nw))
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
    """`n_items` per cloze kind and per language for minimal pairs, from held-out stories
    0..n_items-1 of `seed` (the same stories `generate_stories(n, seed, "heldout")` gives)."""
    check_positive("n_items", n_items)
    plans = generate_plans(n_items, seed, "heldout")
    return Benchmark(story_cloze(plans, seed), topic_cloze(plans, seed),
                     lexical_pairs(n_items, seed), syntactic_pairs(plans, n_items, seed))


def save_benchmark(bench: Benchmark, path) -> Path:
    """One JSON object per item; `kind` (story|topic|lexical|syntactic) tells them apart."""
    return save_jsonl((asdict(x) for x in bench.items()), path)


def load_benchmark(path) -> Benchmark:
    bench = Benchmark()
    slots = {"story": bench.story_cloze, "topic": bench.topic_cloze, "lexical": bench.lexical,
             "syntactic": bench.syntactic}
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            row = json.loads(line)
            if row.get("kind") not in slots:
                raise ValueError(f"{path}:{n}: unknown benchmark kind {row.get('kind')!r}; "
                                 f"expected one of {', '.join(slots)}")
            cls = ClozeItem if row["kind"] in ("story", "topic") else MinimalPair
            slots[row["kind"]].append(cls(**row))
    return bench


__all__ = ["CONDITIONS", "ClozeItem", "MinimalPair", "Benchmark", "make_benchmark",
           "save_benchmark", "load_benchmark"]
