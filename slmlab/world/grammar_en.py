"""English realiser: a/an, regular and irregular plurals and pasts, pronouns he/she/they."""

from __future__ import annotations

import re

from slmlab.world.lexicon import ADJS, FR_ONLY, NOUNS, TIMES, VERBS
from slmlab.world.planner import Person, Plan
from slmlab.world.grammar import built, fill, finish, noun_arg, np_spec, role, template_text
from slmlab.world.topics import NOT_UNDER, PREPS, SPOT_PREPS, TOPIC_DATA

_AN_EXCEPTIONS = ("uni", "use", "eu", "one", "uto")
_LOC = {"à": "at", "dans": "in", "sur": "on"}  # where one *is*, from the French place prep
_REL = {"friend": "friend", "cousin": "cousin", "brother": "brother", "sister": "sister",
        "dog": "dog", "cat": "cat", "mom": "mom", "dad": "dad"}
# places named without an article ("went to school") and verbs of motion other than "to"
_NO_ARTICLE = {"school"}
_WENT = {"boat": "onto", "rocket": "into", "street": "out into", "attic": "up to"}
_AT = {"garden": "in", "park": "in", "mountain": "in the mountains", "cabin": "in"}  # was at/in ...
_IRREGULAR = {"went": "goed", "found": "finded", "lost": "losed", "brought": "bringed",
              "saw": "seed", "took": "taked"}


def plural(sg: str) -> str:
    if re.search(r"(s|x|ch|sh)$", sg):
        return sg + "es"
    if re.search(r"[^aeiou]y$", sg):
        return sg[:-1] + "ies"
    return sg + "s"


def article(next_word: str) -> str:
    w = next_word.lower()
    vowel = w[0] in "aeiou" and not w.startswith(_AN_EXCEPTIONS)
    return "an" if vowel or w.startswith("hour") else "a"


class EnglishRealiser:
    lang = "en"

    def __init__(self) -> None:
        self.nouns = {}
        for key, e in NOUNS.items():
            sg, _, pl = e.spec["en"].partition("/")
            self.nouns[key] = (sg, pl or plural(sg))
        self.past = {k: e.spec["en"].split(":")[1] for k, e in VERBS.items()}

    # --- noun phrases and people --------------------------------------------------------
    def noun(self, key: str, num: str = "sg") -> str:
        return self.nouns[key][num == "pl"]

    def np(self, key: str, det: str, num: str = "sg", adj: str | None = None) -> str:
        """det: a | some | the | the* (plural) | none; adjectives precede the noun."""
        num = "pl" if det in ("some", "the*") else num
        words = ([adj] if adj else []) + [self.noun(key, num)]
        body = " ".join(words)
        if det == "a" and num == "sg":
            return f"{article(body)} {body}"
        if det in ("a", "some"):
            return f"some {body}"
        return body if det == "none" else f"the {body}"

    def person(self, p: Person, plan: Plan) -> str:
        if p.kind == "parent":
            return f"{self.poss(plan.hero)} {_REL[p.rel]}"
        return p.name

    @staticmethod
    def subj(p: Person) -> str:
        return "he" if p.gender == "m" else "she"

    @staticmethod
    def obj_pron(p: Person) -> str:
        return "him" if p.gender == "m" else "her"

    @staticmethod
    def poss(p: Person) -> str:
        return "his" if p.gender == "m" else "her"

    def spot(self, plan: Plan, args: dict) -> str:
        key, num = TOPIC_DATA[plan.topic].spots[args["spot"]]
        prep = "next to" if args["prep"] == "under" and key in NOT_UNDER else args["prep"]
        return f"{SPOT_PREPS[prep][0]} {self.np(key, 'the', num)}"

    def it(self, plan: Plan) -> str:
        return "them" if plan.obj_num == "pl" else "it"

    def place(self, key: str, went: bool, fr_prep: str = "à") -> str:
        """"to the park" / "to school" / "onto the boat" (went) or "in the park" (being there)."""
        np = self.noun(key) if key in _NO_ARTICLE else self.np(key, "the")
        if went:
            return f"{_WENT.get(key, 'to')} {np}"
        at = _AT.get(key, _LOC[fr_prep])
        return at if " " in at else f"{at} {np}"

    # --- events --------------------------------------------------------------------------
    def sentence(self, kind: str, args: dict, plan: Plan) -> str:
        text = template_text(kind, args, plan, "en")
        if text is not None:
            return finish(fill(self, text, args, plan))
        return finish(getattr(self, "_" + kind)(args, plan))

    def _setting(self, a: dict, plan: Plan) -> str:
        key, prep = TOPIC_DATA[plan.topic].places[a["place"]]
        verb = f"went {self.place(key, True)}" if a["form"] == "went" else f"was {self.place(key, False, prep)}"
        tail = f" with {self.np(plan.obj, 'a', plan.obj_num, plan.obj_adj)}" if a["with_obj"] else ""
        if a.get("with_pet"):
            tail = f" with {self.ph_myrel('pet', None, a, plan)} {plan.pet.name}"
        return f"{TIMES[a['time']][0]}, {plan.hero.name} {verb}{tail}"

    def _companion(self, a: dict, plan: Plan) -> str:
        f = plan.friend
        if f is None:  # a parent, in the arcs where hero and helper act together
            return f"{self.subj(plan.hero)} was with {self.person(plan.helper, plan)}"
        who = f"{self.subj(plan.hero)} was with {self.poss(plan.hero)} {_REL[f.rel]} {f.name}"
        return f"{who}, who was very {a['adj']}" if a.get("adj") else who

    def _weather(self, a: dict, plan: Plan) -> str:
        return TOPIC_DATA[plan.topic].weather[a["idx"]]["en"]

    def _who(self, subj: str, plan: Plan) -> str:
        return "they" if subj == "both" else self.subj(plan.hero)

    def _activity(self, a: dict, plan: Plan) -> str:
        verb, prep, det, noun = TOPIC_DATA[plan.topic].activities[a["idx"]]
        p = PREPS[prep][0] if prep else ""
        return f"{self._who(a['subj'], plan)} {self.past[verb]} {p} {self.np(noun, det)}"

    def _see(self, a: dict, plan: Plan) -> str:
        animal = self.np(a["animal"], "a", "sg", a["adj"])
        return f"then {self._who(a['subj'], plan)} saw {animal} {self.spot(plan, a)}"

    def _find(self, a: dict, plan: Plan) -> str:
        thing = self.np(plan.obj, "a", plan.obj_num, plan.obj_adj)
        if a["mode"] == "had":
            return f"{plan.hero.name} had {thing}"
        return f"{plan.hero.name} found {thing} {self.spot(plan, a)}"

    def _problem(self, a: dict, plan: Plan) -> str:
        obj = self.np(plan.obj, "the", plan.obj_num)
        if a["mode"] == "agent":
            key, adj = TOPIC_DATA[plan.topic].agents[a["agent"]]
            return f"suddenly, {self.np(key, 'a', 'sg', adj)} carried {obj} away"
        if a["mode"] == "lose":
            return f"later, {self.subj(plan.hero)} lost {obj}"
        return f"then {obj} fell {self.spot(plan, a)}"

    def _reaction(self, a: dict, plan: Plan) -> str:
        cry = " and started to cry" if a["cry"] else ""
        return f"{self.subj(plan.hero)} was very {a['feeling']}{cry}"

    def _resolve(self, a: dict, plan: Plan) -> str:
        helper, it, them = self.person(plan.helper, plan), self.it(plan), self.obj_pron(plan.hero)
        if a["mode"] == "never":
            obj = self.np(plan.obj, "the", plan.obj_num)
            return f"{helper} helped {them} look for {obj} everywhere, but they never found {it}"
        if a["mode"] == "bring":
            return f"{helper} found {it} {self.spot(plan, a)} and brought {it} back to {them}"
        obj = self.np(plan.obj, "the", plan.obj_num)
        return f"{helper} helped {them} look for {obj}, and they found {it} {self.spot(plan, a)}"

    def _ending(self, a: dict, plan: Plan) -> str:
        hero, helper = self.person(a["hero"], plan), self.person(a["helper"], plan)
        obj = self.np(a["obj"], "the", plan.obj_num)
        if a["tmpl"] == "thank":
            return f"in the end, {hero} was {a['feeling']} and thanked {helper}"
        if a["tmpl"] == "play":
            return f"after that, {hero} and {helper} played with {obj} for a long time"
        if a["tmpl"] == "mood":  # the feeling follows whether the object came back
            return f"that night, {hero} was very {a['feeling']}"
        if a["tmpl"] == "gone":
            return f"in the end, {hero} went home without {obj}, and {self.subj(a['hero'])} was {a['feeling']}"
        return f"{hero} was {a['feeling']} again, because {helper} had found {obj}"

    # --- template placeholders (see slmlab.world.templates) ----------------------------------
    def _who_or_what(self, x: str, args: dict, plan: Plan, person: tuple, thing: tuple) -> str:
        """A pronoun of a role (person: he, she, they) or of a noun argument (thing: sg, pl)."""
        if x in ("they", "all"):
            return person[2]
        if x in ("hero", "helper", "friend", "pet", "winner", "loser"):
            return person[role(x, args, plan).gender == "f"]
        return thing[noun_arg(x, args, plan)[1] == "pl"]

    def ph_N(self, x, _, args, plan):
        return self.person(role(x, args, plan), plan)

    def ph_he(self, x, _, args, plan):
        return self._who_or_what(x, args, plan, ("he", "she", "they"), ("it", "they"))

    def ph_him(self, x, _, args, plan):
        return self._who_or_what(x, args, plan, ("him", "her", "them"), ("it", "them"))

    ph_lui = ph_dat = ph_him

    def ph_his(self, x, _, args, plan):
        return self._who_or_what(x, args, plan, ("his", "her", "their"), ("its", "their"))

    def ph_e(self, x, _, args, plan):
        return ""

    def ph_it(self, x, _, args, plan):
        return self._who_or_what(x, args, plan, ("him", "her", "them"), ("it", "them"))

    def ph_pron(self, x, _, args, plan):
        return self._who_or_what(x, args, plan, ("he", "she", "they"), ("it", "they"))

    def ph_was(self, x, _, args, plan):
        return "were" if noun_arg(x, args, plan)[1] == "pl" else "was"

    def ph_itwas(self, x, _, args, plan):
        return "they were" if noun_arg(x, args, plan)[1] == "pl" else "it was"

    def ph_np(self, x, det, args, plan):
        key, num, adj = noun_arg(x, args, plan)
        det, adj = np_spec(det, adj)
        return self.np(key, det, num, adj)

    def ph_adj(self, key, target, args, plan):
        return args.get(key, key)

    def ph_spot(self, x, _, args, plan):
        return self.spot(plan, args)

    def ph_to_place(self, x, _, args, plan):
        return self.place(noun_arg("place", args, plan)[0], True)

    def _vp(self, verb: str, prep: str | None, det: str, noun: str, past: bool) -> str:
        p = PREPS[prep][0] if prep else ""
        v = self.past[verb] if past else verb
        return " ".join(w for w in (v, p, self.np(noun, det)) if w)

    def ph_act_inf(self, x, _, args, plan):
        return self._vp(*args["act"], past=False)

    def ph_act_past(self, x, _, args, plan):
        return self._vp(*args["act"], past=True)

    def ph_make_inf(self, x, _, args, plan):
        verb, noun = args["make"]
        return self._vp(verb, None, "a", noun, past=False)

    def ph_time(self, x, _, args, plan):
        return TIMES[args["time"]][0]

    def ph_myrel(self, x, _, args, plan):
        p = role(x, args, plan)
        return f"{self.poss(role('hero', args, plan))} {_REL[p.rel]}"

    def ph_broke(self, x, _, args, plan):
        return "fell down" if built(plan, noun_arg(x, args, plan)[0]) else "fell on the floor"

    def ph_noise(self, x, _, args, plan):
        return "barking" if role(x, args, plan).rel == "dog" else "meowing"

    def ph_color(self, x, _, args, plan):
        return args["color"]

    def ph_game(self, x, _, args, plan):
        return "race" if args["game"] == "race" else "contest"

    def ph_one(self, x, _, args, plan):
        return "one"

    # --- benchmark support ---------------------------------------------------------------
    def word_forms(self) -> set[str]:
        # French-only lemmas (girlcousin = cousine) have no English word
        forms = {w for k, sg_pl in self.nouns.items() if k not in FR_ONLY for w in sg_pl}
        forms |= {e.spec["en"] for e in ADJS.values()}
        forms |= {f for e in VERBS.values() for f in e.spec["en"].split(":")}
        return {f.lower() for f in forms if f.isalpha()}

    def syntactic_pair(self, rng, plan: Plan) -> tuple[str, str, str]:
        """(phenomenon, grammatical, ungrammatical) built from `plan`'s entities."""
        kind = rng.choice(("agreement", "article", "past", "word_order", "case"))
        hero = plan.hero.name
        if kind == "agreement":
            key, num = rng.choice(TOPIC_DATA[plan.topic].spots)
            num = rng.choice(("sg", "pl"))
            good_v, bad_v = ("were", "was") if num == "pl" else ("was", "were")
            np = self.np(key, "the", num)
            adj = rng.choice(("big", "old", "wet", "cold", "dark", "clean"))
            return kind, finish(f"{np} {good_v} very {adj}"), finish(f"{np} {bad_v} very {adj}")
        if kind == "article":
            animal = rng.choice(TOPIC_DATA[plan.topic].animals)
            adj = rng.choice((None, "old", "orange", "big", "little", "angry"))
            good = self.np(animal, "a", "sg", adj)
            art, rest = good.split(" ", 1)
            bad = f"{'a' if art == 'an' else 'an'} {rest}"
            return kind, finish(f"{hero} saw {good}"), finish(f"{hero} saw {bad}")
        if kind == "past":
            past = rng.choice(("found", "lost", "brought"))
            obj = self.np(plan.obj, "the", plan.obj_num)
            s = f"{hero} {past} {obj} yesterday"
            return kind, finish(s), finish(s.replace(f" {past} ", f" {_IRREGULAR[past]} "))
        if kind == "word_order":
            obj = self.np(plan.obj, "a", plan.obj_num, plan.obj_adj)
            return kind, finish(f"{hero} found {obj} in the morning"), \
                finish(f"{hero} {obj} found in the morning")
        it = self.it(plan)
        good_p, bad_p = ("him", "he") if plan.hero.gender == "m" else ("her", "she")
        helper = self.person(plan.helper, plan)
        return kind, finish(f"{helper} gave {it} back to {good_p}"), \
            finish(f"{helper} gave {it} back to {bad_p}")
