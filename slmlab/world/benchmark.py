"""Benchmark items from held-out stories: StoryCloze, TopicCloze, lexical and syntactic pairs.

- StoryCloze: context = all but the last sentence; right = the real ending; wrong = the same
  ending template realised from a perturbed ending event, chosen among the template's own
  perturbations (`ENDINGS[t]["wrong"]`; opposite feeling, hero and helper swapped, the hero's
  pronoun of the other gender, another pet's name, the other weather, it <-> them, or a noun of
  the topic that the story never mentions), so it is fluent, on topic, of matched structure
  and length, and contradicts the context.
- TopicCloze: wrong = the ending of another held-out story on another topic that names a noun
  of its own topic and none of this one's, with this story's characters put in; the same
  template as the right ending where possible, else the same arc, then the closest length.
  Right endings name a topic noun only in part of the stories (see bench_world.py's shape
  statistics), so "names an object" is a weak cue, not a give-away.
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
from slmlab.world.lexicon import OPPOSITE, PETS, TOPIC_DATA
from slmlab.world.planner import Plan
from slmlab.world.realise import realise, realisers
from slmlab.world.stories import generate_plans, save_jsonl
from slmlab.world.templates import ENDINGS

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


# perturbations of the lost arc's hand-written endings (the other arcs' are in ENDINGS)
_LOST_WRONG = {"thank": ("feeling", "swap"), "play": ("object",), "because": ("feeling", "swap", "object")}
_LOST_TOPICAL = {"play", "because"}


def _length_gap(a: dict, b: dict) -> int:
    return sum(abs(len(a[k]) - len(b[k])) for k in a)


def _mentioned(text: dict) -> str:
    return " ".join(" ".join(s) for s in text.values()).lower()


def _unseen(keys, story: str, but: str) -> list[str]:
    en = realisers()["en"]
    return [k for k in keys if k != but and not any(f.lower() in story for f in en.nouns[k])]


def _wrong_ending(plan: Plan, text: dict, rng: random.Random) -> dict:
    """The ending realised from a perturbed ending event (see the module docstring)."""
    kind, args = plan.events[-1]
    tmpl = args["tmpl"]
    how = rng.choice(_LOST_WRONG[tmpl] if tmpl in _LOST_WRONG else ENDINGS[tmpl]["wrong"])
    if how == "feeling":
        return _last(plan, (kind, {**args, "feeling": OPPOSITE[args["feeling"]]}))
    if how == "swap":
        return _last(plan, (kind, {**args, "hero": args["helper"], "helper": args["hero"]}))
    if how == "gender":  # the hero's pronoun (and French agreement) of the other gender
        hero = args["hero"]
        return _last(plan, (kind, {**args, "hero": replace(hero, gender="f" if hero.gender == "m" else "m")}))
    if how == "number":  # it <-> them (le/la <-> les)
        return _last(plan, (kind, {**args, "num": "sg" if args["num"] == "pl" else "pl"}))
    if how == "event":  # the other weather than the one that came
        return _last(plan, (kind, {**args, "w": "wind" if args["w"] == "rain" else "rain"}))
    story = _mentioned(text)
    if how == "pet":
        pet = args["pet"]
        names = [n for noun, g, ns in PETS if noun == pet.rel and g == pet.gender for n in ns
                 if n.lower() not in story]
        return _last(plan, (kind, {**args, "pet": replace(pet, name=rng.choice(names))}))
    t = TOPIC_DATA[plan.topic]
    if "{np:target" in ENDINGS.get(tmpl, {}).get("en", ""):
        slot, pool = "target", t.animals
    else:
        slot, pool = "obj", t.objects + [n for _, n in t.creations]
    right = _last(plan, plan.events[-1])
    cands = [_last(plan, (kind, {**args, slot: o})) for o in _unseen(pool, story, args[slot])]
    return min(cands, key=lambda c: _length_gap(c, right))


def story_cloze(plans: list[Plan], seed: int) -> list[ClozeItem]:
    items = []
    for i, plan in enumerate(plans):
        text = realise(plan)
        wrong = _wrong_ending(plan, text, random.Random(f"sc:{seed}:{i}"))
        items.append(ClozeItem(f"sc-s{seed}-{i:05d}", "story", plan.topic,
                               {k: v[:-1] for k, v in text.items()},
                               {k: v[-1] for k, v in text.items()}, wrong))
    return items


def topic_nouns(topic: str) -> set[str]:
    """Every noun key a story on `topic` can name (places, objects, spots, animals, ...)."""
    t = TOPIC_DATA[topic]
    keys = {k for k, _ in t.places} | set(t.objects) | {k for k, _ in t.spots} | set(t.animals)
    return keys | {a[3] for a in t.activities} | {n for _, n in t.creations} | {k for k, _ in t.agents}


def _content(args: dict) -> set[str]:
    """The topic nouns an ending names."""
    keys = {args.get("obj"), args.get("target"), args.get("place")}
    if args.get("act"):
        keys.add(args["act"][3])
    return {k for k in keys if isinstance(k, str)}


def _topical(tmpl: str) -> bool:
    return tmpl in _LOST_TOPICAL or ENDINGS.get(tmpl, {}).get("topical", False)


def _needs(tmpl: str) -> set[str]:
    text = ENDINGS[tmpl]["en"] if tmpl in ENDINGS else ""
    return {r for r in ("pet",) if f":{r}}}" in text}


def topic_cloze(plans: list[Plan], seed: int, window: int = 64) -> list[ClozeItem]:
    """Wrong ending: the ending of another topic's story (one that names a noun of its topic
    and none of this one's), with this story's characters put in, so names give nothing away;
    the same ending template as the right one where possible (same shape), else one of the
    same arc, then the closest length, among the next `window` stories."""
    items = []
    for i, plan in enumerate(plans):
        text = realise(plan)
        right = {k: v[-1] for k, v in text.items()}
        kind, rargs = plan.events[-1]
        people = {k: v for k, v in rargs.items() if k in ("hero", "helper", "pet")}
        own = topic_nouns(plan.topic)
        scored = []
        for j in range(1, min(window, len(plans))):
            o = plans[(i + j) % len(plans)]
            _, oargs = o.events[-1]
            content = _content(oargs)
            if o.topic == plan.topic or not _topical(oargs["tmpl"]) or content & own \
                    or not content <= topic_nouns(o.topic) or not _needs(oargs["tmpl"]) <= set(people):
                continue
            wrong = _last(replace(plan, obj_num=o.obj_num), (kind, {**oargs, **people}))
            if wrong == right:
                continue
            shape = (oargs["tmpl"] != rargs["tmpl"], o.arc != plan.arc, _length_gap(wrong, right))
            scored.append((shape, j, wrong))
        best = min(scored, key=lambda x: x[:2])[2]
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
