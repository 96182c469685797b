"""Story arcs other than "lost" (object -> problem -> helper -> ending, in planner.py).

An `Arc` is a list of `Slot`s in story order. A slot's free choices (`opts`: argument name ->
options, drawn in order; `types`; the template variant `v`) multiply the plan count; its
`derive`d arguments repeat earlier choices (the weather that spoils the plan also decides how
it is saved), so they do not. Optional slots are drawn like the lost arc's: a size k first,
then k of them, keeping the story within `MAX_SENTENCES`. Drawing (`draw_arc`) and counting
(`count_arc`) read the same declarations, so `count_plans` stays exact.

Arcs: pet (a pet runs away, a clue leads to it), weather (a change of weather spoils a plan,
then saves it), gift (a birthday surprise), contest (a race or game with a winner), fear (a
fear overcome with a friend), make (making something goes wrong, then right), trip (a trip
with a discovery). Their sentences live in `slmlab.world.templates`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from slmlab.world.lexicon import (BOYS, COLORS, GIRLS, LOSS_FEELINGS, NEGATIVE, PETS, POSITIVE,
                                  SIZES, TIMES, TOPICS)
from slmlab.world.templates import ENDINGS, TEMPLATES
from slmlab.world.topics import SPOT_PREPS, TOPIC_DATA

SEE_ADJS = (None,) + tuple(a for a in SIZES if a not in ("new", "shiny"))  # not "a new dolphin"
CHAR_ADJS = ("kind", "brave", "clever", "curious", "funny", "cheerful", "young", "strong", "quiet")
_PREPS = tuple(SPOT_PREPS)
_NONE = lambda t, plan: {}  # noqa: E731


@dataclass(frozen=True)
class Slot:
    kind: str
    optional: bool = False
    opts: Callable = _NONE  # (topic, plan) -> {arg: options}
    types: tuple = (None,)
    derive: Callable | None = None  # (prev: {kind: args}, plan) -> {arg: value}
    derived_types: tuple = ()  # the types `derive` may repeat (for counting variants)
    friend_only: bool = False  # present exactly when the plan has a child companion


@dataclass(frozen=True)
class Arc:
    name: str
    topics: tuple
    company: str  # child | child_or_parent
    slots: tuple
    endings: tuple
    pet: bool = False
    obj_sg: bool = False  # the object is always singular (thrown, made)


def _spot(t, plan) -> dict:
    return {"spot": range(len(t.spots)), "prep": _PREPS}


def _setting(pet=False):
    return Slot("setting", opts=lambda t, plan: {"time": range(len(TIMES)),
                                                  "place": range(len(t.places)),
                                                  "form": ("went", "was")},
                derive=lambda prev, plan: {"with_obj": False, "with_pet": pet})


def _subj(t, plan) -> dict:
    return {"subj": ("both",) if plan.friend else ("hero",)}


COMPANION = Slot("companion", opts=lambda t, plan: {"adj": (None,) + CHAR_ADJS}, friend_only=True)
# the companion sentence of arcs where "they" act together: a child with an adjective, or a
# parent ("He was with his dad."), so that "they" always has someone to refer to
WITH = Slot("companion", opts=lambda t, plan: {"adj": ((None,) + CHAR_ADJS) if plan.friend else (None,)})
WEATHER = Slot("weather", True, lambda t, plan: {"idx": range(len(t.weather))})
ACTIVITY = Slot("activity", True, lambda t, plan: {"idx": range(len(t.activities)), **_subj(t, plan)})
SEE = Slot("see", True, lambda t, plan: {"animal": t.animals, "adj": SEE_ADJS,
                                         **_subj(t, plan), **_spot(t, plan)})
# how the hero reacts: to a runaway pet or a storm with any negative feeling, to a broken
# thing without fear (LOSS_FEELINGS: "scared" would not follow the story)
REACTION = Slot("reaction", True, lambda t, plan: {"feeling": NEGATIVE, "cry": (False, True)})
REACTION_LOSS = Slot("reaction", True, lambda t, plan: {"feeling": LOSS_FEELINGS, "cry": (False, True)})
# animals a pet runs after: small ones that run or fly off (not a lion, a cow or a snail)
NOT_CHASED = {"jellyfish", "owl", "fish", "goldfish", "cow", "horse", "donkey", "pig", "reindeer",
              "penguin", "monkey", "lion", "giraffe", "elephant", "worm", "snail", "bee", "ladybird"}


def _acts(t) -> list:
    return t.activities


ARCS = {
    "pet": Arc("pet", tuple(x for x in TOPICS if x not in ("space", "sea")), "child_or_parent", (
        _setting(pet=True), WITH, WEATHER, ACTIVITY,
        Slot("runaway", opts=lambda t, plan: {"animal": [a for a in t.animals if a not in NOT_CHASED]}),
        REACTION,
        Slot("call", True),
        Slot("clue", opts=_spot, types=("prints", "noise", "collar")),
        Slot("rescue", opts=_spot),
    ), ("pet_hug", "pet_home", "pet_leash", "pet_wash"), pet=True),
    "weather": Arc("weather", ("beach", "forest", "farm", "garden", "sea", "city"), "child_or_parent", (
        _setting(), WITH, SEE,
        Slot("goal", opts=lambda t, plan: {"act": _acts(t)}),
        Slot("turn", types=("rain", "wind")),
        REACTION,
        Slot("shelter", True, _spot),
        Slot("save", derive=lambda prev, plan: {"type": prev["turn"]["type"], "place": prev["setting"]["place"]},
             derived_types=("rain", "wind")),
    ), ("w_glad", "w_act")),
    "gift": Arc("gift", TOPICS, "child", (
        Slot("occasion", opts=lambda t, plan: {"time": range(len(TIMES))}),
        Slot("idea"),
        Slot("errand"),
        Slot("get", opts=lambda t, plan: {"color": COLORS}),
        Slot("hide", True, _spot),
        Slot("arrive", True),
        Slot("give"),
    ), ("g_love", "g_thank")),
    "contest": Arc("contest", TOPICS, "child", (
        _setting(), COMPANION, SEE,
        Slot("challenge", opts=lambda t, plan: {"goal": t.spots}, types=("race", "throw", "jump")),
        Slot("lead", True),
        Slot("slip", opts=_spot),
        Slot("win", derive=lambda prev, plan: {"game": prev["challenge"]["type"]}),
    ), ("c_share", "c_hand", "c_again", "c_feel"), obj_sg=True),
    "fear": Arc("fear", TOPICS, "child_or_parent", (
        _setting(), WITH, WEATHER,
        Slot("fear", opts=_spot, types=("animal", "dark")),
        Slot("shake", True),
        Slot("help"),
        Slot("overcome", derive=lambda prev, plan: {k: prev["fear"][k] for k in ("type", "target")},
             derived_types=("animal", "dark")),
    ), ("f_brave", "f_not")),
    "make": Arc("make", TOPICS, "child_or_parent", (
        _setting(), WITH,
        Slot("goal", opts=lambda t, plan: {"make": t.creations}),
        Slot("work", True),
        Slot("wrong", opts=lambda t, plan: {"agent": t.agents}, types=("fall", "agent"),
             derive=lambda prev, plan: {"thing": prev["goal"]["make"][1]}),
        REACTION_LOSS,
        Slot("fix", derive=lambda prev, plan: {"thing": prev["goal"]["make"][1]}),
    ), ("m_proud", "m_show"), obj_sg=True),
    "trip": Arc("trip", ("beach", "forest", "farm", "snow", "space", "sea", "city", "garden"),
                "child_or_parent", (
        Slot("journey", opts=lambda t, plan: {"time": range(len(TIMES)), "place": range(len(t.places))}),
        Slot("way", True), WEATHER, SEE,
        Slot("explore", derive=lambda prev, plan: {"place": prev["journey"]["place"]}),
        Slot("discovery", opts=_spot),
        Slot("show", True),
        Slot("back", True, derive=lambda prev, plan: {"place": prev["journey"]["place"]}),
    ), ("t_keep", "t_best", "t_sleep")),
}


def _targets(t, typ) -> tuple:
    return tuple(t.animals) if typ == "animal" else ("dark",)


def _n_variants(arc: str, kind: str, typ) -> int:
    return len(TEMPLATES[(arc, kind, typ)]) if (arc, kind, typ) in TEMPLATES else 1


def _slot_opts(arc: Arc, slot: Slot, t, plan, typ) -> dict:
    opts = dict(slot.opts(t, plan))
    if arc.name == "fear" and slot.kind == "fear":
        opts["target"] = _targets(t, typ)
    if arc.name == "make" and slot.kind == "wrong" and typ == "fall":
        opts.pop("agent")
    return opts


def draw_arc(rng: random.Random, arc: Arc, plan, max_sentences: int) -> None:
    """Append `arc`'s events to `plan.events` (setting to ending), drawing from `rng`."""
    t = TOPIC_DATA[plan.topic]
    present = [s for s in arc.slots if not s.optional and (not s.friend_only or plan.friend)]
    optional = [s.kind for s in arc.slots if s.optional]
    k = rng.randint(0, min(len(optional), max_sentences - len(present) - 1))
    chosen = set(rng.sample(optional, k))
    prev = {}
    for slot in arc.slots:
        if (slot.optional and slot.kind not in chosen) or (slot.friend_only and not plan.friend):
            continue
        args = {"type": rng.choice(slot.types)} if slot.types != (None,) else {}
        for name, options in _slot_opts(arc, slot, t, plan, args.get("type")).items():
            args[name] = rng.choice(options)
        if slot.derive:
            args.update(slot.derive(prev, plan))
        n_var = _n_variants(arc.name, slot.kind, args.get("type"))
        if n_var > 1:
            args["v"] = rng.randrange(n_var)
        prev[slot.kind] = args
        plan.events.append((slot.kind, args))
    plan.events.append(("ending", _ending_args(rng, arc, plan, prev)))


def _ending_args(rng, arc: Arc, plan, prev: dict) -> dict:
    args = {"tmpl": rng.choice(arc.endings), "hero": plan.hero, "helper": plan.helper,
            "feeling": rng.choice(POSITIVE), "obj": plan.obj, "num": plan.obj_num}
    t = TOPIC_DATA[plan.topic]
    if arc.pet:
        args["pet"] = plan.pet
        args["place"] = t.places[prev["setting"]["place"]][0]
    if arc.name == "trip":
        args["place"] = t.places[prev["journey"]["place"]][0]
    if arc.name == "weather":
        args["w"], args["act"] = prev["turn"]["type"], prev["goal"]["act"]
    if arc.name == "contest":
        args["joy"], args["game"] = args["feeling"], prev["challenge"]["type"]
        args = contest_ending(plan, args)
    if arc.name == "fear":
        args["target"] = prev["fear"]["target"]
    if arc.name == "make":
        args["obj"], args["num"] = prev["fix"]["thing"], "sg"
    return args


# how the contest's result makes the hero feel: the drawn positive feeling ("joy") read as
# a winner's, or as a loser's
WIN_FEEL = {"happy": "happy", "glad": "glad", "relieved": "proud", "proud": "proud",
            "cheerful": "cheerful", "calm": "happy"}
LOSE_FEEL = {"happy": "sad", "glad": "disappointed", "relieved": "upset", "proud": "sad",
             "cheerful": "disappointed", "calm": "upset"}


def contest_ending(plan, args: dict) -> dict:
    """The contest ending's people and feeling from `plan.roles`: most templates name the
    winner (hero) and the loser (helper); "c_feel" tells how the story's hero felt, which
    depends on whether they won."""
    won, lost = plan.roles["winner"], plan.roles["loser"]
    if args["tmpl"] == "c_feel":
        hero = plan.hero
        feel = (WIN_FEEL if won == hero else LOSE_FEEL)[args["joy"]]
        return {**args, "hero": hero, "helper": lost if won == hero else won, "feeling": feel}
    return {**args, "hero": won, "helper": lost, "feeling": args["joy"]}


def count_arc(arc: Arc, topic: str, has_friend: bool, max_sentences: int) -> int:
    """Distinct event sequences of `arc` for one topic, cast and object (mirrors draw_arc)."""
    t = TOPIC_DATA[topic]
    stub = _Stub(topic, has_friend)
    sizes, required = {}, 1
    for slot in arc.slots:
        if slot.friend_only and not has_friend:
            continue
        n = 0
        for typ in slot.types if not slot.derived_types else slot.derived_types[:1]:
            prod = _n_variants(arc.name, slot.kind, typ)
            for options in _slot_opts(arc, slot, t, stub, typ).values():
                prod *= len(options)
            n += prod
        if slot.optional:
            sizes[slot.kind] = n
        else:
            required *= n
    n_present = sum(1 for s in arc.slots if not s.optional and (not s.friend_only or has_friend))
    kmax = min(len(sizes), max_sentences - n_present - 1)
    opt = sum(subset_products(list(sizes.values()), k) for k in range(kmax + 1))
    return required * opt * len(arc.endings) * len(POSITIVE)


@dataclass
class _Stub:
    topic: str
    has_friend: bool
    friend: object = field(default=None)

    def __post_init__(self):
        self.friend = object() if self.has_friend else None


def arcs_for(topic: str) -> list[str]:
    """Names of the arcs (besides "lost") that suit `topic`, in a fixed order."""
    return [name for name, arc in ARCS.items() if topic in arc.topics]


def pet_options() -> list:
    """(noun, gender, name) of every pet a plan can draw."""
    return [(noun, g, n) for noun, g, names in PETS for n in names]


def kids(hero_gender: str) -> int:
    """Child companions of a hero: gender x relation x name (the hero's name excluded)."""
    return sum(2 * (len(GIRLS if g == "f" else BOYS) - (g == hero_gender)) for g in "mf")


# the types a derived slot may repeat have equally many variants, so counts do not depend on
# which one it repeats; every ending has its template
for _arc in ARCS.values():
    for _slot in _arc.slots:
        assert len({_n_variants(_arc.name, _slot.kind, ty) for ty in _slot.derived_types}) <= 1
    for _e in _arc.endings:
        assert _e in ENDINGS, _e


def subset_products(sizes: list[int], k: int) -> int:
    """Sum over k-subsets of `sizes` of the product of their members."""
    e = [1] + [0] * k  # elementary symmetric polynomials
    for s in sizes:
        for j in range(k, 0, -1):
            e[j] += e[j - 1] * s
    return e[k]
