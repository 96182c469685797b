"""French realiser: gender and number agreement, elision, contractions, passé composé/imparfait.

Agreement rules applied: article and adjective with the noun (incl. bel/vieil/nouvel before a
vowel and "de" for a plural indefinite before a preposed adjective); past participle with the
subject after être (est allée, sont tombés, s'est mise); past participle with a preceding
direct object after avoir (la balle ... l'a retrouvée, les a rapportés); il/elle/ils/elles,
le/la/les/lui. Surface rules (`surface`): elision (l', d', s', qu', jusqu'), son before a
vowel-initial feminine noun, à le -> au, à les -> aux, de le -> du, de les -> des.
"""

from __future__ import annotations

import re

from slmlab.world.lexicon import ADJS, NOUNS, TIMES, VERBS
from slmlab.world.planner import Person, Plan
from slmlab.world.grammar import built, fill, finish, group, noun_arg, np_spec, role, template_text
from slmlab.world.topics import NOT_UNDER, PLACE_PREP, PREPS, SPOT_PREPS, TOPIC_DATA

VOWELS = "aeiouyâàéèêëîïôöûùœAEIOUYÉÈÊÎÔ"
_REL = {("friend", "m"): "ami", ("friend", "f"): "amie", ("cousin", "m"): "cousin",
        ("cousin", "f"): "cousine", ("brother", "m"): "frère", ("sister", "f"): "sœur",
        ("dog", "m"): "chien", ("dog", "f"): "chienne", ("cat", "m"): "chat", ("cat", "f"): "chatte",
        ("mom", "f"): "maman", ("dad", "m"): "papa"}


# feelings French says with avoir + noun: "il avait très peur" (not "il était très effrayé")
PEUR = {"scared": "peur", "hungry": "faim", "thirsty": "soif"}
_ELIDE = re.compile(rf"\b(le|la|de|que|se|ne|je|me|te|jusque|sa) ([{VOWELS}h][\w-]*)", re.IGNORECASE)
_CONTRACTIONS = {"à le ": "au ", "à les ": "aux ", "de le ": "du ", "de les ": "des "}
_CONTRACT = re.compile(r"\b(à le |à les |de le |de les )")


def noun_plural(sg: str) -> str:
    if sg[-1] in "sxz":
        return sg
    if sg.endswith(("eau", "au", "eu")):
        return sg + "x"
    if sg.endswith("al"):
        return sg[:-2] + "aux"
    return sg + "s"


def _fem(m: str) -> str:
    for a, b in (("eux", "euse"), ("if", "ive"), ("er", "ère"), ("el", "elle"), ("on", "onne"),
                 ("en", "enne")):
        if m.endswith(a):
            return m[: -len(a)] + b
    return m if m.endswith("e") else m + "e"


def agr(gender: str, num: str) -> str:
    """Agreement suffix of a past participle or regular adjective: '', e, s, es."""
    return ("e" if gender == "f" else "") + ("s" if num == "pl" else "")


def participle(pp: str, gender: str, num: str) -> str:
    suffix = agr(gender, num)
    return pp + (suffix[:-1] if pp.endswith("s") and suffix.endswith("s") else suffix)


class FrenchRealiser:
    lang = "fr"

    def __init__(self) -> None:
        self.nouns, self.aspire = {}, set()
        for key, e in NOUNS.items():
            parts = e.spec["fr"].split(":")
            sg, g = parts[0], parts[1]
            pl = parts[2] if len(parts) > 2 and parts[2] != "h" else noun_plural(sg)
            if parts[-1] == "h":
                self.aspire.update({sg, pl})
            self.nouns[key] = (sg, pl, g)
        self.adjs = {k: self._parse_adj(e.spec["fr"]) for k, e in ADJS.items()}
        self.verbs = {k: e.spec["fr"].split(":") for k, e in VERBS.items()}

    @staticmethod
    def _parse_adj(spec: str) -> dict:
        pre = spec.endswith("<")
        f = [s.strip() for s in spec.rstrip("<").strip().split(",")]
        m = f[0]
        fem = f[1] if len(f) > 1 else _fem(m)
        mpl = f[2] if len(f) > 2 else (m if m[-1] in "sx" else m + ("x" if m.endswith("eau") else "s"))
        fpl = f[3] if len(f) > 3 else fem + "s"
        mv = f[4] if len(f) > 4 else m
        return {"m": m, "f": fem, "mpl": mpl, "fpl": fpl, "mv": mv, "pre": pre}

    # --- noun phrases ---------------------------------------------------------------------
    def gender(self, key: str) -> str:
        return self.nouns[key][2]

    def adj(self, key: str, g: str, num: str, before: str = "") -> str:
        a = self.adjs[key]
        if num == "pl":
            return a["mpl" if g == "m" else "fpl"]
        if g == "m" and a["pre"] and before and self._vowel_start(before):
            return a["mv"]
        return a[g]

    def _vowel_start(self, word: str) -> bool:
        return word[0] in VOWELS or (word[0] == "h" and word.split()[0] not in self.aspire)

    def np(self, key: str, det: str, num: str = "sg", adj: str | None = None,
           gender: str | None = None, adj_gender: str | None = None) -> str:
        """det: a | some | the | the* | none. `gender`/`adj_gender` force a (wrong) gender."""
        num = "pl" if det in ("some", "the*") else num
        sg, pl, g = self.nouns[key]
        g = gender or g
        noun = pl if num == "pl" else sg
        pre = post = ""
        if adj:
            form = self.adj(adj, adj_gender or g, num, noun)
            pre, post = (form, "") if self.adjs[adj]["pre"] else ("", form)
        if num == "pl":
            art = {"a": "des", "some": "des", "the": "les", "the*": "les", "none": ""}[det]
            art = "de" if art == "des" and pre else art
        else:
            art = {"a": "un" if g == "m" else "une", "the": "le" if g == "m" else "la",
                   "none": ""}[det]
        return " ".join(w for w in (art, pre, noun, post) if w)

    def person(self, p: Person, plan: Plan) -> str:
        if p.kind == "parent":
            return ("sa " if p.gender == "f" else "son ") + _REL[(p.rel, p.gender)]
        return p.name

    @staticmethod
    def subj(p: Person) -> str:
        return "il" if p.gender == "m" else "elle"

    @staticmethod
    def both(a: Person, b: Person) -> str:
        return "elles" if a.gender == b.gender == "f" else "ils"

    def obj_clitic(self, plan: Plan) -> str:
        return "les" if plan.obj_num == "pl" else ("le" if self.gender(plan.obj) == "m" else "la")

    def spot(self, plan: Plan, args: dict) -> str:
        key, num = TOPIC_DATA[plan.topic].spots[args["spot"]]
        prep = "next to" if args["prep"] == "under" and key in NOT_UNDER else args["prep"]
        return f"{SPOT_PREPS[prep][1]} {self.np(key, 'the', num)}"

    def surface(self, text: str) -> str:
        """Elision, son + vowel, then contractions (elision first: à l'arbre, not au arbre)."""
        def elide(m: re.Match) -> str:
            word, nxt = m.group(1), m.group(2)
            if nxt.lower() in self.aspire:
                return m.group(0)
            if word.lower() == "sa":
                return "son " + nxt
            return word[:-1] + "'" + nxt
        text = _ELIDE.sub(elide, text)
        return _CONTRACT.sub(lambda m: _CONTRACTIONS[m.group(1)], text)

    # --- events ---------------------------------------------------------------------------
    def sentence(self, kind: str, args: dict, plan: Plan) -> str:
        text = template_text(kind, args, plan, "fr")
        if text is not None:
            return finish(self.surface(fill(self, text, args, plan)))
        return finish(self.surface(getattr(self, "_" + kind)(args, plan)))

    def _setting(self, a: dict, plan: Plan) -> str:
        key, prep = TOPIC_DATA[plan.topic].places[a["place"]]
        h = plan.hero
        verb = (f"est {participle('allé', h.gender, 'sg')}" if a["form"] == "went" else "était")
        tail = f" avec {self.np(plan.obj, 'a', plan.obj_num, plan.obj_adj)}" if a["with_obj"] else ""
        if a.get("with_pet"):
            tail = f" avec {self.ph_myrel('pet', None, a, plan)} {plan.pet.name}"
        return f"{TIMES[a['time']][1]}, {h.name} {verb} {prep} {self.np(key, 'the')}{tail}"

    def _companion(self, a: dict, plan: Plan) -> str:
        f = plan.friend
        if f is None:  # a parent, in the arcs where hero and helper act together
            return f"{self.subj(plan.hero)} était avec {self.person(plan.helper, plan)}"
        rel = _REL[(f.rel, f.gender)]
        who = f"{self.subj(plan.hero)} était avec {'sa' if f.gender == 'f' else 'son'} {rel} {f.name}"
        return f"{who}, qui était très {self.adj(a['adj'], f.gender, 'sg')}" if a.get("adj") else who

    def _weather(self, a: dict, plan: Plan) -> str:
        return TOPIC_DATA[plan.topic].weather[a["idx"]]["fr"]

    def _who(self, subj: str, plan: Plan) -> tuple[str, str, str]:
        """(pronoun, gender, number) of the subject: the hero, or hero + companion."""
        if subj == "both":
            pron = self.both(plan.hero, plan.friend)
            return pron, ("f" if pron == "elles" else "m"), "pl"
        return self.subj(plan.hero), plan.hero.gender, "sg"

    def _past(self, verb: str, subj: tuple) -> str:
        """Passé composé (auxiliary + participle) agreeing with the subject after être."""
        _, pp, aux = self.verbs[verb]
        pron, g, num = subj
        if aux == "e":
            return f"{'sont' if num == 'pl' else 'est'} {participle(pp, g, num)}"
        return f"{'ont' if num == 'pl' else 'a'} {pp}"

    def _activity(self, a: dict, plan: Plan) -> str:
        verb, prep, det, noun = TOPIC_DATA[plan.topic].activities[a["idx"]]
        who = self._who(a["subj"], plan)
        p = PREPS[prep][1] if prep else ""
        return f"{who[0]} {self._past(verb, who)} {p} {self.np(noun, det)}"

    def _see(self, a: dict, plan: Plan) -> str:
        who = self._who(a["subj"], plan)
        animal = self.np(a["animal"], "a", "sg", a["adj"])
        return f"puis {who[0]} {self._past('see', who)} {animal} {self.spot(plan, a)}"

    def _find(self, a: dict, plan: Plan) -> str:
        thing = self.np(plan.obj, "a", plan.obj_num, plan.obj_adj)
        if a["mode"] == "had":
            return f"{plan.hero.name} avait {thing}"
        return f"{plan.hero.name} a trouvé {thing} {self.spot(plan, a)}"

    def _problem(self, a: dict, plan: Plan) -> str:
        obj = self.np(plan.obj, "the", plan.obj_num)
        if a["mode"] == "agent":
            key, adj = TOPIC_DATA[plan.topic].agents[a["agent"]]
            return f"soudain, {self.np(key, 'a', 'sg', adj)} a emporté {obj}"
        if a["mode"] == "lose":
            return f"plus tard, {self.subj(plan.hero)} a perdu {obj}"
        fell = self._past("fall", ("", self.gender(plan.obj), plan.obj_num))
        return f"puis {obj} {fell} {self.spot(plan, a)}"

    def _reaction(self, a: dict, plan: Plan) -> str:
        h = plan.hero
        cry = f" et {self.subj(h)} s'est {participle('mis', h.gender, 'sg')} à pleurer" if a["cry"] else ""
        if a["feeling"] in PEUR:  # "avoir peur", not "être effrayé" (a calque of "scared")
            return f"{self.subj(h)} avait très {PEUR[a['feeling']]}{cry}"
        return f"{self.subj(h)} était très {self.adj(a['feeling'], h.gender, 'sg')}{cry}"

    def _resolve(self, a: dict, plan: Plan) -> str:
        helper, cl = self.person(plan.helper, plan), self.obj_clitic(plan)
        g, num = self.gender(plan.obj), plan.obj_num
        if a["mode"] == "never":
            hero, obj = plan.hero, self.np(plan.obj, "the", num)
            return (f"{helper} {'la' if hero.gender == 'f' else 'le'} a "
                    f"{participle('aidé', hero.gender, 'sg')} à chercher {obj} partout, mais "
                    f"{self.both(hero, plan.helper)} ne {cl} ont jamais "
                    f"{participle('retrouvé', g, num)}")
        if a["mode"] == "bring":
            return (f"{helper} {cl} a {participle('retrouvé', g, num)} {self.spot(plan, a)} "
                    f"et {cl} lui a {participle('rapporté', g, num)}")
        hero = plan.hero
        obj = self.np(plan.obj, "the", num)
        they = self.both(hero, plan.helper)
        return (f"{helper} {'la' if hero.gender == 'f' else 'le'} a "
                f"{participle('aidé', hero.gender, 'sg')} à chercher {obj}, et {they} {cl} ont "
                f"{participle('retrouvé', g, num)} {self.spot(plan, a)}")

    def _ending(self, a: dict, plan: Plan) -> str:
        h: Person = a["hero"]
        hero, helper = self.person(h, plan), self.person(a["helper"], plan)
        obj = self.np(a["obj"], "the", plan.obj_num)
        if a["tmpl"] == "thank":
            feel = self.adj(a["feeling"], h.gender, "sg")
            return f"à la fin, {hero} était {feel} et {self.subj(h)} a remercié {helper}"
        if a["tmpl"] == "play":
            return f"après ça, {hero} et {helper} ont joué longtemps avec {obj}"
        if a["tmpl"] == "mood":  # the feeling follows whether the object came back
            return f"ce soir-là, {hero} était très {self.adj(a['feeling'], h.gender, 'sg')}"
        if a["tmpl"] == "gone":
            went = participle("rentré", h.gender, "sg")
            return (f"à la fin, {hero} est {went} à la maison sans {obj}, et {self.subj(h)} était "
                    f"{self.adj(a['feeling'], h.gender, 'sg')}")
        feel = self.adj(a["feeling"], h.gender, "sg")
        return f"{hero} était de nouveau {feel}, car {helper} avait retrouvé {obj}"

    # --- template placeholders (see slmlab.world.templates) -----------------------------------
    _PEOPLE = ("hero", "helper", "friend", "pet", "winner", "loser")

    def _gn(self, x: str, args: dict, plan: Plan) -> tuple[str, str]:
        """(gender, number) of a role, a group (they, all) or a noun argument (m/f literal)."""
        if x in ("m", "f"):
            return x, "sg"
        if x in ("they", "all"):
            people = group(x, args, plan)
            return ("f" if all(p.gender == "f" for p in people) else "m"), "pl"
        if x in self._PEOPLE:
            return role(x, args, plan).gender, "sg"
        key, num, _ = noun_arg(x, args, plan)
        return self.gender(key), num

    def _pick(self, x, args, plan, forms: tuple) -> str:
        """forms = (m sg, f sg, m pl, f pl)."""
        g, num = self._gn(x, args, plan)
        return forms[(g == "f") + 2 * (num == "pl")]

    def ph_N(self, x, _, args, plan):
        return self.person(role(x, args, plan), plan)

    def ph_he(self, x, _, args, plan):
        return self._pick(x, args, plan, ("il", "elle", "ils", "elles"))

    ph_pron = ph_he

    def ph_him(self, x, _, args, plan):
        return self._pick(x, args, plan, ("le", "la", "les", "les"))

    ph_it = ph_him

    def ph_lui(self, x, _, args, plan):
        return self._pick(x, args, plan, ("lui", "elle", "eux", "elles"))

    def ph_dat(self, x, _, args, plan):
        return self._pick(x, args, plan, ("lui", "lui", "leur", "leur"))

    def ph_e(self, x, _, args, plan):
        return agr(*self._gn(x, args, plan))

    def ph_was(self, x, _, args, plan):
        return "étaient" if self._gn(x, args, plan)[1] == "pl" else "était"

    def ph_itwas(self, x, _, args, plan):
        return "c'étaient" if self._gn(x, args, plan)[1] == "pl" else "c'était"

    def ph_np(self, x, det, args, plan):
        key, num, adj = noun_arg(x, args, plan)
        det, adj = np_spec(det, adj)
        return self.np(key, det, num, adj)

    def ph_adj(self, key, target, args, plan):
        g, num = self._gn(target, args, plan)
        return self.adj(args.get(key, key), g, num)

    def ph_spot(self, x, _, args, plan):
        return self.spot(plan, args)

    def ph_to_place(self, x, _, args, plan):
        key = noun_arg("place", args, plan)[0]
        prep = PLACE_PREP[key]
        return f"{prep} {self.np(key, 'the')}"

    def _vp(self, verb: str, prep: str | None, det: str, noun: str, subj=None) -> str:
        p = PREPS[prep][1] if prep else ""
        v = self._past(verb, subj) if subj else self.verbs[verb][0]
        return " ".join(w for w in (v, p, self.np(noun, det)) if w)

    def ph_act_inf(self, x, _, args, plan):
        return self._vp(*args["act"])

    def ph_act_past(self, x, _, args, plan):
        g, num = self._gn("they", args, plan)
        return self._vp(*args["act"], subj=("", g, num))

    def ph_make_inf(self, x, _, args, plan):
        verb, noun = args["make"]
        return self._vp(verb, None, "a", noun)

    def ph_time(self, x, _, args, plan):
        return TIMES[args["time"]][1]

    def ph_myrel(self, x, _, args, plan):
        p = role(x, args, plan)
        return f"{'sa' if p.gender == 'f' else 'son'} {_REL[(p.rel, p.gender)]}"

    def ph_broke(self, x, _, args, plan):
        # a construction collapses (s'écrouler); "se casser" would be a calque of "broke"
        e = self.ph_e(x, _, args, plan)
        return f"s'est écroulé{e}" if built(plan, noun_arg(x, args, plan)[0]) else f"est tombé{e} par terre"

    def ph_noise(self, x, _, args, plan):
        return "aboyer" if role(x, args, plan).rel == "dog" else "miauler"

    def ph_color(self, x, _, args, plan):
        return self.adj(args["color"], "m", "sg")

    def ph_game(self, x, _, args, plan):
        return "la course" if args["game"] == "race" else "le concours"

    def ph_one(self, x, _, args, plan):
        return self._pick(x, args, plan, ("un", "une", "des", "des"))

    # --- benchmark support ----------------------------------------------------------------
    def word_forms(self) -> set[str]:
        forms = {w for sg, pl, _ in self.nouns.values() for w in (sg, pl)}
        forms |= {a[k] for a in self.adjs.values() for k in ("m", "f", "mpl", "fpl", "mv")}
        forms |= {w for v in self.verbs.values() for w in v[:2]}
        return {f.lower() for f in forms if f.isalpha()}

    def audible_gender(self, key: str) -> bool:
        """True when the masculine and feminine singular sound different (petit/petite, not
        bleu/bleue): a silent final consonant is pronounced in the feminine."""
        a = self.adjs[key]
        return a["m"] != a["f"] and (a["m"][-1] in "tdsxnc" or not a["f"].startswith(a["m"]))

    def syntactic_pair(self, rng, plan: Plan) -> tuple[str, str, str]:
        """(phenomenon, grammatical, ungrammatical); every error is audible when spoken."""
        kind = rng.choice(("gender", "adj_agreement", "contraction", "auxiliary", "word_order",
                           "subject_verb"))
        hero, t = plan.hero.name, TOPIC_DATA[plan.topic]
        obj = plan.obj
        g = self.gender(obj)
        other = "f" if g == "m" else "m"
        if kind == "gender":
            good, bad = self.np(obj, "a"), self.np(obj, "a", gender=other)
            frame = f"{hero} a trouvé {{}} ce matin"
        elif kind == "adj_agreement":
            # bel/vieil/nouvel before a vowel sound like belle/vieille/nouvelle: not audible
            liaison = self._vowel_start(self.nouns[obj][0])
            adj = rng.choice([k for k in ("little", "big", "heavy", "green", "white", "grey",
                                          "new", "beautiful", "old", "pretty") if self.audible_gender(k)
                              and not (liaison and self.adjs[k]["mv"] != self.adjs[k]["m"])])
            good, bad = self.np(obj, "a", adj=adj), self.np(obj, "a", adj=adj, adj_gender=other)
            frame = f"{hero} avait {{}}"
        elif kind == "contraction":
            key, num = rng.choice([s for s in t.spots if s[1] == "pl" or self.gender(s[0]) == "m"
                                   and not self._vowel_start(self.nouns[s[0]][0])] or t.spots)
            prep = rng.choice(("près de", "à côté de"))
            good = bad = f"{prep} {self.np(key, 'the', num)}"
            frame = f"{hero} a vu {self.np(rng.choice(t.animals), 'a')} {{}}"
            return kind, finish(self.surface(frame.format(good))), finish(frame.format(bad))
        elif kind == "auxiliary":
            verb = rng.choice(("fall", "go", "arrive", "leave"))
            pp = participle(self.verbs[verb][1], plan.hero.gender, "sg")
            good, bad = f"est {pp}", f"a {self.verbs[verb][1]}"
            frame = f"hier, {hero} {{}} très vite"
        elif kind == "word_order":
            adj = rng.choice(("red", "green", "white", "grey", "black", "yellow"))
            good = self.np(obj, "a", adj=adj)
            art, rest = good.split(" ", 1)
            noun, post = rest.rsplit(" ", 1)
            bad = f"{art} {post} {noun}"
            frame = f"{hero} a trouvé {{}} hier"
        else:
            helper = self.person(plan.helper, plan)
            good, bad = "ont", "a"
            frame = f"{hero} et {helper} {{}} joué avec {self.np(obj, 'the', plan.obj_num)}"
        return kind, finish(self.surface(frame.format(good))), finish(self.surface(frame.format(bad)))
