"""Counterbalanced cloze pairs: two stories (A, B) and two endings (a, b), each ending right
for its own story and wrong for the twin, so only the story can decide.

StoryCloze: B is A's plan with exactly one fact changed, the fact that the ending tests
(`FACTS`):
- object:  which object the story is about (lost, got as a present, made, found on a trip, or
           the animal a child feared); B has another object of the same topic;
- winner:  who won the contest (winner and loser swapped);
- feeling: how the hero felt, given who won the contest or whether the lost object came back
           (both polarities: one item of each pair ends happily, its twin sadly);
- pet:     which pet ran away (another name, same kind and gender of pet);
- weather: which change of weather came (rain <-> wind);
- place:   where the trip or the walk with the pet took place.
The ending template is drawn among those that state the fact (`FACT_ENDINGS`), and facts are
drawn so that each type gets the same number of pairs.

TopicCloze: B is a story of another topic with the same arc and ending template, recast with
A's characters, so the two endings differ only in their topic nouns.

By construction, any score that looks at the endings alone ranks a above b (or b above a) in
both items of a pair: exactly one of the two is right (tests/test_world_bench.py).
"""

from __future__ import annotations

import copy
import random
from dataclasses import replace

from slmlab.world.arcs import ARCS, contest_ending
from slmlab.world.lexicon import PETS
from slmlab.world.topics import TOPIC_DATA
from slmlab.world.planner import ENDINGS as LOST_ENDINGS
from slmlab.world.planner import SAD_ENDINGS, SPOT_PREPS, Plan, lost_ending, make_plan, plan_rng
from slmlab.world.realise import realise, realisers
from slmlab.world.templates import ENDINGS

FACTS = ("object", "winner", "feeling", "pet", "weather", "place")
# (arc, fact) -> ending templates that state the fact
FACT_ENDINGS = {
    ("lost", "object"): ("play", "because", "gone"),
    ("lost", "feeling"): ("mood",),
    ("gift", "object"): ("g_love", "g_thank"),
    ("make", "object"): ("m_proud", "m_show"),
    ("trip", "object"): ("t_sleep", "t_best"),
    ("fear", "object"): ("f_not",),
    ("contest", "winner"): ("c_hand", "c_share"),
    ("contest", "feeling"): ("c_feel",),
    ("pet", "pet"): ("pet_hug", "pet_wash", "pet_leash"),
    ("weather", "weather"): ("w_glad",),
    ("trip", "place"): ("t_keep",),
    ("pet", "place"): ("pet_home",),
}
# ending templates per arc that name a noun of the story's topic (TopicCloze uses only these)
TOPICAL = {"lost": ("play", "because", "gone")} | {
    name: tuple(e for e in arc.endings if ENDINGS[e]["topical"]) for name, arc in ARCS.items()}


def facts_for(plan: Plan) -> list[str]:
    """The facts a twin of `plan` can change (fear: only a feared animal, not the dark; lost:
    whether the object came back, only when it was not simply dropped somewhere)."""
    out = [f for (arc, f) in FACT_ENDINGS if arc == plan.arc]
    if plan.arc == "fear" and _event(plan, "fear")["type"] != "animal":
        out.remove("object")
    if plan.arc == "lost" and _event(plan, "problem")["mode"] == "fall":
        out.remove("feeling")
    return out


def fits(plan: Plan, tmpl: str) -> bool:
    """Whether ending `tmpl` can close `plan`: a lost object that never came back is not
    played with or thanked for, and one that came back is not missed."""
    if plan.arc != "lost":
        return True
    found = _event(plan, "resolve")["mode"] != "never"
    return tmpl in (LOST_ENDINGS if found else SAD_ENDINGS)


def _event(plan: Plan, kind: str) -> dict:
    return next(a for k, a in plan.events if k == kind)


def with_ending(plan: Plan, tmpl: str) -> Plan:
    """A copy of `plan` whose ending uses template `tmpl` (contest endings re-derive who is
    named: the winner, or the hero and how the result made them feel)."""
    plan = copy.deepcopy(plan)
    kind, args = plan.events[-1]
    args = {**args, "tmpl": tmpl}
    if plan.arc == "contest":
        args = contest_ending(plan, args)
    if plan.arc == "lost":
        args = lost_ending(plan, tmpl, args["joy"])
    plan.events[-1] = (kind, args)
    return plan


def _mentions(text: dict) -> str:
    return " ".join(" ".join(s) for s in text.values()).lower()


def _unmentioned(keys, text: str, lang_nouns: dict) -> list[str]:
    return [k for k in keys if not any(f.lower() in text for f in lang_nouns[k])]


def twin(plan: Plan, fact: str, rng: random.Random) -> Plan | None:
    """B: `plan` with `fact` changed (see the module docstring), or None when no value of the
    fact can be changed without naming something the story already mentions."""
    b = copy.deepcopy(plan)
    t = TOPIC_DATA[plan.topic]
    end = b.events[-1][1]
    nouns = realisers()["en"].nouns
    said = _mentions(realise(plan, ("en",)))
    if fact == "feeling" and b.arc == "lost":
        _flip_outcome(b, t, end, rng)
    elif fact in ("winner", "feeling"):
        b.roles = {"winner": b.roles["loser"], "loser": b.roles["winner"]}
        b.events[-1] = ("ending", contest_ending(b, end))
    elif fact == "weather":
        for kind, args in b.events:
            if kind in ("turn", "save"):
                args["type"] = "wind" if args["type"] == "rain" else "rain"
        end["w"] = "wind" if end["w"] == "rain" else "rain"
    else:
        change = {"pet": _change_pet, "place": _change_place, "object": _change_object}[fact]
        if not change(b, t, said, nouns, rng):
            return None
    return b


def _flip_outcome(b: Plan, t, end: dict, rng) -> None:
    """The lost object comes back in B if it never did in A, and the other way round."""
    i = next(i for i, (k, _) in enumerate(b.events) if k == "resolve")
    if b.events[i][1]["mode"] == "never":
        b.events[i] = ("resolve", {"mode": "search", "spot": rng.randrange(len(t.spots)),
                                   "prep": rng.choice(tuple(SPOT_PREPS))})
    else:
        b.events[i] = ("resolve", {"mode": "never"})
    b.events[-1] = ("ending", lost_ending(b, end["tmpl"], end["joy"]))


def _change_pet(b: Plan, t, said: str, nouns: dict, rng) -> bool:
    """Another name for the runaway pet (same kind and gender: the grammar stays the same)."""
    names = [n for noun, g, ns in PETS if noun == b.pet.rel and g == b.pet.gender for n in ns
             if n.lower() not in said]
    if not names:
        return False
    b.pet = b.events[-1][1]["pet"] = replace(b.pet, name=rng.choice(names))
    return True


def _change_place(b: Plan, t, said: str, nouns: dict, rng) -> bool:
    """Another place of the topic for the trip or the walk (and every sentence naming it)."""
    old = _event(b, "journey" if b.arc == "trip" else "setting")["place"]
    keys = _unmentioned([k for k, _ in t.places], said, nouns)
    if not keys:
        return False
    new = rng.choice(keys)
    for kind, args in b.events:
        if args.get("place") == old and kind != "ending":
            args["place"] = [k for k, _ in t.places].index(new)
    b.events[-1][1]["place"] = new
    return True


def _change_object(b: Plan, t, said: str, nouns: dict, rng) -> bool:
    """Another object of the topic (the thing made, the feared animal) the story never names."""
    end = b.events[-1][1]
    if b.arc == "make":
        goal = _event(b, "goal")
        pool = [c for c in t.creations if c != goal["make"] and c[1] not in said]
        if not pool:
            return False
        goal["make"] = new = rng.choice(pool)
        for kind, args in b.events:
            if "thing" in args:
                args["thing"] = new[1]
        end["obj"] = new[1]
        return True
    if b.arc == "fear":
        pool = _unmentioned(t.animals, said, nouns)
        if not pool:
            return False
        new = rng.choice(pool)
        for kind, args in b.events:
            if "target" in args:
                args["target"] = new
        return True
    pool = _unmentioned(t.objects, said, nouns)
    if not pool:
        return False
    b.obj = end["obj"] = rng.choice(pool)
    return True


def story_pairs(n_pairs: int, seed: int, split: str = "heldout"):
    """`n_pairs` (fact, topic, text A, text B), texts {lang: [sentence]}, from the held-out
    stream of `seed`, facts balanced: each plan goes to the applicable fact with the fewest
    pairs so far, up to its quota."""
    quota = {f: n_pairs // len(FACTS) + (i < n_pairs % len(FACTS)) for i, f in enumerate(FACTS)}
    counts = dict.fromkeys(FACTS, 0)
    out, i = [], 0
    while len(out) < n_pairs:
        _guard(i, n_pairs, "StoryCloze")
        plan = make_plan(plan_rng(seed, split, i), split)
        rng = random.Random(f"sc-pair:{seed}:{i}")
        i += 1
        open_facts = [f for f in facts_for(plan) if counts[f] < quota[f]]
        if not open_facts:
            continue
        fact = min(open_facts, key=lambda f: (counts[f], rng.random()))
        tmpls = [x for x in FACT_ENDINGS[(plan.arc, fact)] if fits(plan, x)]
        if not tmpls:
            continue
        a = with_ending(plan, rng.choice(tmpls))
        b = twin(a, fact, rng)
        if b is None:
            continue
        ta, tb = realise(a), realise(b)
        if any(ta[k][-1] == tb[k][-1] or ta[k][:-1] == tb[k][:-1] for k in ta):
            continue  # the change did not show in the ending or the story
        counts[fact] += 1
        out.append((fact, plan.topic, ta, tb))
    return out


def _guard(tried: int, n_pairs: int, kind: str) -> None:
    # about 16 plans per pair are needed for the rarest fact (weather: one arc of eight, in
    # half of the topics); far more means the world cannot make these pairs at all
    if tried > 100 * n_pairs + 10_000:
        raise RuntimeError(f"{kind}: no {n_pairs} counterbalanced pairs after {tried} plans; "
                           "a fact or arc has become impossible (see slmlab.world.pairs)")


def recast(b: Plan, a: Plan) -> Plan:
    """`b` with `a`'s characters (hero, companion, helper, pet, contest roles) and ending
    template, so its ending differs from `a`'s only in what belongs to its topic."""
    b = copy.deepcopy(b)
    b.hero, b.friend, b.helper, b.pet = a.hero, a.friend, a.helper, a.pet
    b.roles = dict(a.roles)
    kind, args = b.events[-1]
    aend = a.events[-1][1]
    args = {**args, **{k: aend[k] for k in ("tmpl", "hero", "helper", "pet", "feeling", "joy") if k in aend}}
    b.events[-1] = (kind, contest_ending(b, args) if b.arc == "contest" else args)
    return b


def _compatible(a: Plan, b: Plan) -> bool:
    """Same arc and cast shape (companion or not, child or pet), another topic."""
    if a.arc != b.arc or a.topic == b.topic or (a.friend is None) != (b.friend is None):
        return False
    if a.friend is not None and a.friend.kind != b.friend.kind:
        return False
    if a.arc == "fear" and _event(a, "fear")["type"] != _event(b, "fear")["type"]:
        return False
    if a.arc == "lost" and not fits(b, a.events[-1][1]["tmpl"]):
        return False
    return not (a.arc == "pet" and b.topic in ("space", "sea"))


def topic_pairs(n_pairs: int, seed: int, split: str = "heldout", window: int = 200):
    """`n_pairs` (topic A, topic B, text A, text B) of stories of different topics, B recast
    with A's characters; A from the held-out stream of `seed`, B from a second stream of it
    (`split` + ":tc")."""
    out, i, j = [], 0, 0
    pool: list[Plan] = []
    while len(out) < n_pairs:
        _guard(i, n_pairs, "TopicCloze")
        rng = random.Random(f"tc-pair:{seed}:{i}")
        a = make_plan(plan_rng(seed, split, i), split)
        i += 1
        a = with_ending(a, rng.choice([x for x in TOPICAL[a.arc] if fits(a, x)]))
        while len(pool) < window:
            pool.append(make_plan(plan_rng(seed, split + ":tc", j), split))
            j += 1
        for k, cand in enumerate(pool):
            if not _compatible(a, cand):
                continue
            b = recast(cand, a)
            if not _disjoint(a, b):
                continue
            ta, tb = realise(a), realise(b)
            if all(ta[x][-1] != tb[x][-1] for x in ta):
                out.append((a.topic, b.topic, ta, tb))
                pool.pop(k)
                break
    return out


def _disjoint(a: Plan, b: Plan) -> bool:
    """Neither ending names a noun of the other story's topic."""
    na, nb = ending_nouns(a), ending_nouns(b)
    return bool(na) and bool(nb) and not (na & topic_nouns(b.topic)) and not (nb & topic_nouns(a.topic))


def _content(args: dict) -> set[str]:
    """The topic nouns an ending names."""
    keys = {args.get("obj"), args.get("target"), args.get("place")}
    if args.get("act"):
        keys.add(args["act"][3])
    return {k for k in keys if isinstance(k, str)}


def ending_nouns(plan: Plan) -> set[str]:
    """The noun keys the ending of `plan` names (its object, place, target, activity)."""
    return _content(plan.events[-1][1])


def topic_nouns(topic: str) -> set[str]:
    """Every noun key a story on `topic` can name (places, objects, spots, animals, ...)."""
    t = TOPIC_DATA[topic]
    keys = {k for k, _ in t.places} | set(t.objects) | {k for k, _ in t.spots} | set(t.animals)
    return keys | {a[3] for a in t.activities} | {n for _, n in t.creations} | {k for k, _ in t.agents}


__all__ = ["topic_nouns", "ending_nouns", "FACTS", "FACT_ENDINGS", "TOPICAL", "facts_for", "twin", "story_pairs", "recast",
           "topic_pairs", "with_ending"]
