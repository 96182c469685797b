"""Language-neutral story plans: who, where, what happens, in which order.

A `Plan` is a topic, its characters and object, and a list of events `(kind, args)`; each
language's realiser (`slmlab.world.realise.realisers()`) turns event i into sentence i, so the
English and French stories are aligned by construction.

A plan first draws its topic, hero and arc: "lost" (below) or one of the arcs of
`slmlab.world.arcs` that suit the topic (pet, weather, gift, contest, fear, make, trip), each
equally likely. Every story has 4 to 7 sentences.

The lost arc: setting, [companion], [weather], [activity], [sight], [find], problem,
[reaction], resolution, ending. The object is introduced either in the setting ("went to the
beach with a red ball") or by a find sentence; optional sentences are drawn so that the total
stays within 7. The object comes back (found and brought back, or found together), or, when
an animal took it or it was lost, may never come back: the ending's feeling follows.

Held-out combinations: for every topic and gender, `N_HELDOUT_NAMES` hero names (chosen by a
hash of name and topic) only ever appear as heroes of held-out stories on that topic; train
stories use the other names. Random streams are seeded by (split, seed, index), so the two
splits never share a stream either.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field

from slmlab.world.arcs import (ARCS, CHAR_ADJS, LOSE_FEEL, SEE_ADJS, arcs_for, count_arc, draw_arc,
                               kids, pet_options, subset_products)
from slmlab.world.lexicon import (BOYS, COLORS, GIRLS, LOSS_FEELINGS, PETS, POSITIVE, SIZES,
                                  TIMES, TOPICS)
from slmlab.world.topics import FALL_PREPS, SPOT_PREPS, TOPIC_DATA

SPLITS = ("train", "heldout")
N_HELDOUT_NAMES = 4  # per topic and gender
MIN_SENTENCES, MAX_SENTENCES = 4, 7
OPTIONAL = ("weather", "activity", "see", "reaction")  # in story order (see module doc)
INTROS = ("setting", "found", "had")  # how the object enters the story
PROBLEMS = ("agent", "lose", "fall")
RESOLVES = ("bring", "search")  # the object comes back; "never": it does not (not after a fall)
ENDINGS = ("thank", "play", "because", "mood")  # after the object came back
SAD_ENDINGS = ("mood", "gone")  # after it never came back
# "mood" after the object came back: the drawn positive feeling, as relief (not pride)
FOUND_MOOD = {"happy": "happy", "glad": "glad", "relieved": "relieved", "proud": "happy",
              "cheerful": "cheerful", "calm": "relieved"}
OBJ_ADJS = COLORS + SIZES



@dataclass(frozen=True)
class Person:
    """A character: `kind` child | pet | parent; `rel` friend|cousin|brother|sister (child
    companions), dog|cat (pets), mom|dad (parents), or "" for the hero."""

    name: str
    gender: str  # m | f
    kind: str = "child"
    rel: str = ""


@dataclass
class Plan:
    topic: str
    hero: Person
    friend: Person | None  # companion introduced in sentence 2, or None
    helper: Person  # who solves the problem: the companion, else a parent
    obj: str  # noun key of the object the story is about
    obj_num: str  # sg | pl
    obj_adj: str
    events: list = field(default_factory=list)  # [(kind, args: dict)]
    arc: str = "lost"  # lost | a key of slmlab.world.arcs.ARCS
    pet: Person | None = None  # the runaway pet of the "pet" arc
    roles: dict = field(default_factory=dict)  # arc roles, e.g. winner / loser of a contest


def heldout_names(topic: str, gender: str) -> tuple[str, ...]:
    """The hero names reserved for held-out stories on `topic` (stable across runs)."""
    names = GIRLS if gender == "f" else BOYS
    ranked = sorted(names, key=lambda n: zlib.crc32(f"{topic}|{n}".encode()))
    return tuple(sorted(ranked[:N_HELDOUT_NAMES]))


def hero_names(topic: str, gender: str, split: str) -> tuple[str, ...]:
    held = heldout_names(topic, gender)
    if split == "heldout":
        return held
    return tuple(n for n in (GIRLS if gender == "f" else BOYS) if n not in held)


def plan_rng(seed: int, split: str, index: int) -> random.Random:
    """The random stream of story `index`; str seeds hash with SHA-512, stable across runs."""
    return random.Random(f"slmlab.world:{split}:{seed}:{index}")


def _companion(rng: random.Random, hero: Person) -> Person | None:
    r = rng.random()
    if r < 0.35:
        return None
    if r < 0.55:
        noun, gender, names = rng.choice(PETS)
        return Person(rng.choice(names), gender, "pet", noun)
    return _child(rng, hero)


def _child(rng: random.Random, hero: Person) -> Person:
    gender = rng.choice("mf")
    names = [n for n in (GIRLS if gender == "f" else BOYS) if n != hero.name]
    rel = rng.choice(("friend", "cousin", "brother" if gender == "m" else "sister"))
    return Person(rng.choice(names), gender, "child", rel)


def _spot(rng: random.Random, t, preps) -> dict:
    return {"spot": rng.randrange(len(t.spots)), "prep": rng.choice(preps)}


def make_plan(rng: random.Random, split: str = "train") -> Plan:
    """Draw one story plan from `rng`; heroes follow the split's name x topic reservation."""
    topic = rng.choice(TOPICS)
    gender = rng.choice("mf")
    hero = Person(rng.choice(hero_names(topic, gender, split)), gender)
    arc = rng.choice(("lost",) + tuple(arcs_for(topic)))
    if arc != "lost":
        return _arc_plan(rng, ARCS[arc], topic, hero)
    return _lost_plan(rng, topic, hero)


def _parent(rng: random.Random) -> Person:
    g = rng.choice("mf")
    return Person("", g, "parent", "mom" if g == "f" else "dad")


def _arc_plan(rng: random.Random, arc, topic: str, hero: Person) -> Plan:
    t = TOPIC_DATA[topic]
    child = arc.company == "child" or rng.random() < 0.6
    friend = _child(rng, hero) if child else None
    helper = friend or _parent(rng)
    pet = None
    if arc.pet:
        noun, g, name = rng.choice(pet_options())
        pet = Person(name, g, "pet", noun)
    num = "sg" if arc.obj_sg or rng.random() >= 0.25 else "pl"
    plan = Plan(topic, hero, friend, helper, rng.choice(t.objects), num, rng.choice(OBJ_ADJS),
                arc=arc.name, pet=pet)
    if arc.name == "contest":
        winner = rng.choice((hero, friend))
        plan.roles = {"winner": winner, "loser": friend if winner is hero else hero}
    draw_arc(rng, arc, plan, MAX_SENTENCES)
    return plan


def _lost_plan(rng: random.Random, topic: str, hero: Person) -> Plan:
    t = TOPIC_DATA[topic]
    friend = _companion(rng, hero)
    helper = friend or _parent(rng)
    plan = Plan(topic, hero, friend, helper, rng.choice(t.objects),
                "pl" if rng.random() < 0.25 else "sg", rng.choice(OBJ_ADJS))
    intro = rng.choice(INTROS)
    base = 4 + (intro != "setting") + (friend is not None)
    k = rng.randint(0, min(len(OPTIONAL), MAX_SENTENCES - base))
    chosen = set(rng.sample(OPTIONAL, k))
    subj = "both" if friend else "hero"
    ev = plan.events
    ev.append(("setting", {"time": rng.randrange(len(TIMES)), "place": rng.randrange(len(t.places)),
                           "form": rng.choice(("went", "was")), "with_obj": intro == "setting"}))
    if friend:
        ev.append(("companion", {"adj": rng.choice((None,) + CHAR_ADJS)}))
    if "weather" in chosen:
        ev.append(("weather", {"idx": rng.randrange(len(t.weather))}))
    if "activity" in chosen:
        ev.append(("activity", {"idx": rng.randrange(len(t.activities)), "subj": subj}))
    if "see" in chosen:
        ev.append(("see", {"animal": rng.choice(t.animals), "adj": rng.choice(SEE_ADJS),
                           "subj": subj, **_spot(rng, t, tuple(SPOT_PREPS))}))
    if intro == "found":
        ev.append(("find", {"mode": "found", **_spot(rng, t, tuple(SPOT_PREPS))}))
    elif intro == "had":
        ev.append(("find", {"mode": "had"}))
    ev.append(_problem(rng, t))
    if "reaction" in chosen:
        ev.append(("reaction", {"feeling": rng.choice(LOSS_FEELINGS), "cry": rng.random() < 0.5}))
    prob = ev[-2 if "reaction" in chosen else -1][1]
    mode = rng.choice(RESOLVES + (() if prob["mode"] == "fall" else ("never",)))
    if mode == "never":  # nobody finds it: a sad ending
        ev.append(("resolve", {"mode": mode}))
    else:
        where = ({"spot": prob["spot"], "prep": prob["prep"]} if prob["mode"] == "fall"
                 else _spot(rng, t, tuple(SPOT_PREPS)))
        ev.append(("resolve", {"mode": mode, **where}))
    joy = rng.choice(POSITIVE)
    ev.append(("ending", lost_ending(plan, rng.choice(SAD_ENDINGS if mode == "never" else ENDINGS),
                                     joy)))
    return plan


def lost_ending(plan: Plan, tmpl: str, joy: str) -> dict:
    """The lost arc's ending event: the feeling follows whether the object came back (`joy`,
    a positive feeling, read as relief or as a loss)."""
    found = dict(plan.events)["resolve"]["mode"] != "never"
    feeling = (FOUND_MOOD[joy] if tmpl == "mood" else joy) if found else LOSE_FEEL[joy]
    return {"tmpl": tmpl, "hero": plan.hero, "helper": plan.helper, "feeling": feeling,
            "joy": joy, "obj": plan.obj}


def _problem(rng: random.Random, t) -> tuple:
    mode = rng.choice(PROBLEMS)
    if mode == "agent":
        return ("problem", {"mode": mode, "agent": rng.randrange(len(t.agents))})
    if mode == "fall":
        return ("problem", {"mode": mode, **_spot(rng, t, FALL_PREPS)})
    return ("problem", {"mode": mode})


def count_plans(split: str = "train") -> int:
    """Exact number of distinct plans `make_plan` can draw for `split` (mirrors its choices):
    the lost arc's, plus every other arc's (`slmlab.world.arcs.count_arc`)."""
    n_time, n_pos = len(TIMES), len(POSITIVE)
    n_pets = len(pet_options())
    total = 0
    for topic in TOPICS:
        t = TOPIC_DATA[topic]
        spots = len(t.spots) * len(SPOT_PREPS)
        per_hero = 0
        for gender in "mf":
            heroes = len(hero_names(topic, gender, split))
            # companions: none (2 parents), pet, or child (gender x relation x name), with an
            # optional character adjective in the companion sentence
            for friend, n_comp in ((False, 2), (True, (n_pets + kids(gender)) * (1 + len(CHAR_ADJS)))):
                per_hero += heroes * n_comp * _count_story(t, friend, spots)
            for name in arcs_for(topic):
                total += heroes * _count_arc_cast(ARCS[name], topic, t, gender)
        total += per_hero * n_time * n_pos  # time, ending feeling (templates: _count_story)
    return total


def _count_arc_cast(arc, topic: str, t, gender: str) -> int:
    """Plans of `arc` for one topic and hero: companion, pet, object, winner, events."""
    obj = len(t.objects) * len(OBJ_ADJS) * (1 if arc.obj_sg else 2)
    pets = len(pet_options()) if arc.pet else 1
    winner = 2 if arc.name == "contest" else 1
    with_child = kids(gender) * count_arc(arc, topic, True, MAX_SENTENCES)
    alone = 2 * count_arc(arc, topic, False, MAX_SENTENCES) if arc.company != "child" else 0
    return obj * pets * winner * (with_child + alone)


def _count_story(t, friend: bool, spots: int) -> int:
    """Plans for one topic, hero and companion: object, intro, optional sentences, events."""
    obj = len(t.objects) * 2 * len(OBJ_ADJS)
    setting = len(t.places) * 2
    opt_size = {"weather": len(t.weather), "activity": len(t.activities),
                "see": len(t.animals) * len(SEE_ADJS) * spots,
                "reaction": len(LOSS_FEELINGS) * 2}
    count = 0
    for intro, n_intro in (("setting", 1), ("found", spots), ("had", 1)):
        base = 4 + (intro != "setting") + friend
        kmax = min(len(OPTIONAL), MAX_SENTENCES - base)
        opt = 0
        for k in range(kmax + 1):
            # each size k is drawn first, so subsets of different size never coincide
            opt += subset_products(list(opt_size.values()), k)
        # problem, resolution and ending template: a fall fixes where the object is found
        # again; after an agent or a loss it may never be found (no spot, sad endings)
        found = (len(t.agents) + 1) * spots * len(RESOLVES) \
            + len(FALL_PREPS) * len(t.spots) * len(RESOLVES)
        pr = found * len(ENDINGS) + (len(t.agents) + 1) * len(SAD_ENDINGS)
        count += n_intro * opt * pr
    return obj * setting * count
