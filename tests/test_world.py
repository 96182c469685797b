"""slmlab.world: determinism, alignment, French and English grammar, held-out split."""

from __future__ import annotations

import re

import pytest

from slmlab.world import TOPICS, count_plans, generate_plans, generate_stories, lemma_counts
from slmlab.world.lexicon import BOYS, GIRLS, PETS
from slmlab.world.arcs import ARCS
from slmlab.world.planner import heldout_names
from slmlab.world.templates import ENDINGS
from slmlab.world.grammar import built
from slmlab.world.realise import realise, realisers

NAMES = set(GIRLS) | set(BOYS) | {n for _, _, names in PETS for n in names}
FR = realisers()["fr"]
EN = realisers()["en"]


@pytest.fixture(scope="module")
def plans():
    return generate_plans(1500, seed=7) + generate_plans(300, seed=7, split="heldout")


@pytest.fixture(scope="module")
def texts(plans):
    return [realise(p) for p in plans]


@pytest.fixture(scope="module")
def fr_sentences(texts):
    return [s for t in texts for s in t["fr"]]


def test_deterministic_and_prefix_stable():
    a, b = generate_stories(40, seed=3), generate_stories(40, seed=3)
    assert a == b
    assert generate_stories(10, seed=3) == a[:10]  # story i does not depend on n
    assert generate_stories(10, seed=4) != a[:10]
    assert [s.story_id for s in a] == sorted({s.story_id for s in a})


def test_alignment(texts, plans):
    for t, p in zip(texts, plans):
        assert len(t["en"]) == len(t["fr"]) == len(p.events)
        assert 4 <= len(t["en"]) <= 7
        for en, fr in zip(t["en"], t["fr"]):
            # the same characters are named in sentence i of both languages
            assert set(re.findall(r"\w+", en)) & NAMES == set(re.findall(r"\w+", fr)) & NAMES


def test_coverage_of_topics_and_shapes(plans):
    assert len(TOPICS) >= 12 and {p.topic for p in plans} == set(TOPICS)
    kinds = {k for p in plans for k, _ in p.events}
    lost = {"setting", "companion", "weather", "activity", "see", "find", "problem", "reaction",
            "resolve", "ending"}
    assert kinds == lost | {s.kind for a in ARCS.values() for s in a.slots}
    # every arc, and every ending template of the arcs, occurs (at least 8 endings overall)
    assert {p.arc for p in plans} == {"lost"} | set(ARCS) and len(ARCS) >= 7
    tmpls = {p.events[-1][1]["tmpl"] for p in plans}
    assert set(ENDINGS) <= tmpls and len(tmpls) >= 8 + 3


def test_plain_text(texts):
    for t in texts:
        for s in t["en"] + t["fr"]:
            assert s[0].isupper() and s.endswith(".") and "  " not in s, s
            assert not re.search(r"[<>{}\[\]_*#|\\]", s), s


def test_french_elision_and_contractions(fr_sentences):
    vowel = "[aeiouyâàéèêîôûœ]"
    for s in fr_sentences:
        assert not re.search(r"\b(de|à) (le|les)\b", s), s
        for m in re.finditer(rf"\b(le|la|de|que|se|je|sa) ({vowel}\w*|h\w*)", s, re.IGNORECASE):
            assert m.group(2).lower() in FR.aspire, s  # only h aspiré blocks elision
        assert not re.search(r"\bque il", s)


def _bad_adjs(adj: dict, g: str, num: str) -> list[str]:
    """Forms of `adj` that disagree with a noun of gender g and number num."""
    key = {("m", "sg"): "m", ("f", "sg"): "f", ("m", "pl"): "mpl", ("f", "pl"): "fpl"}
    right = adj[key[(g, num)]]
    other = adj[key[("f" if g == "m" else "m", num)]]
    return [other] if other != right else []


def test_french_article_and_adjective_agreement(fr_sentences):
    sentences = sorted(set(fr_sentences))
    index: dict[str, list[str]] = {}  # word -> sentences holding it, so each regex scans few
    for sent in sentences:
        for w in set(re.findall(r"[\w-]+", sent)):
            index.setdefault(w, []).append(sent)
    end = r"(?![\w'-])"  # a whole word: "porte" is not the start of "porte-monnaie"
    dets = r"(?<![\w-])(?:le|la|les|un|une|des|du|au|aux|l')"
    checked = 0
    forms = {f for sg, pl, _ in FR.nouns.values() for f in (sg, pl)}
    for key, (sg, pl, g) in FR.nouns.items():
        wrong_art = r"(le|un|du|au)" if g == "f" else r"(la|une)"
        for noun, num in ((sg, "sg"), (pl, "pl")):
            text = "\n".join(index.get(re.findall(r"[\w-]+", noun)[-1], []))
            # a compound holding the noun ("carte du ciel" for "ciel") agrees as a whole
            for comp in (f for f in forms if f != noun and re.search(rf"(?<![\w-]){re.escape(noun)}(?![\w-])", f)):
                text = text.replace(comp, "#")
            if num == "sg":
                assert not re.search(rf"(?<![\w-]){wrong_art} {re.escape(sg)}{end}", text, re.I), sg
            bad = sorted({b for a in FR.adjs.values() for b in _bad_adjs(a, g, num)})
            checked += len(bad)
            alt, n = "|".join(map(re.escape, bad)), re.escape(noun)
            m = re.search(rf"{dets} ?{n} ({alt}){end}|{dets} ({alt}) {n}{end}|\bde ({alt}) {n}{end}", text)
            assert not m, (noun, m and m.group(0))
    assert checked > 10000
    text = "\n".join(sentences)
    # agreement actually happened: feminine forms of preposed and postposed adjectives occur
    assert re.search(r"\b(une|la) (petite|grande|vieille|belle|nouvelle) ", text)
    assert re.search(r"\bune \w+ (verte|blanche|grise|violette|dorée)\b", text)
    assert re.search(r"\b(bel|vieil|nouvel) [aeiouéh]", text)  # masculine before a vowel
    assert re.search(r"\bde (petits|petites|grands|grandes|vieux|beaux|jolis|jolies) ", text)


def test_french_participle_agreement(plans, texts):
    """être: participle agrees with the subject; avoir: with a preceding direct object."""
    seen = set()
    for p, t in zip(plans, texts):
        g = FR.gender(p.obj)
        suffix = ("e" if g == "f" else "") + ("s" if p.obj_num == "pl" else "")
        hs = "e" if p.hero.gender == "f" else ""
        for (kind, a), fr in zip(p.events, t["fr"]):
            if kind == "resolve":
                assert re.search(rf"\b(l'|les )a retrouvé{suffix}\b|\b(l'|les )ont (jamais )?retrouvé{suffix}\b", fr), fr
                if a["mode"] == "never":
                    assert re.search(rf"\bl'a aidé{hs} à chercher .* ne (l'|les )ont jamais", fr), fr
                elif a["mode"] == "bring":
                    assert f"lui a rapporté{suffix}." in fr, fr
                else:
                    assert re.search(rf"\bl'a aidé{hs} à chercher", fr), fr
                seen.add(("resolve", suffix))
            if kind == "problem" and a["mode"] == "fall":
                aux = "sont" if p.obj_num == "pl" else "est"
                assert f" {aux} tombé{suffix} " in fr, fr
            if kind == "setting" and a["form"] == "went":
                assert f"{p.hero.name} est allé{hs} " in fr, fr
            if kind == "reaction":
                assert fr.startswith("Il " if p.hero.gender == "m" else "Elle "), fr
                if a["cry"]:
                    assert f"s'est mis{hs} à pleurer" in fr, fr
            if kind == "companion":
                pron = "Il" if p.hero.gender == "m" else "Elle"
                assert fr.startswith(pron + " était avec "), fr
    assert {s for _, s in seen} == {"", "e", "s", "es"}


def test_french_subject_pronouns_plural(plans, texts):
    for p, t in zip(plans, texts):
        for (kind, a), fr in zip(p.events, t["fr"]):
            if kind in ("activity", "see") and a["subj"] == "both":
                both_f = p.hero.gender == p.friend.gender == "f"
                assert re.search(r"\b[Ee]lles\b" if both_f else r"\b[Ii]ls\b", fr), fr


def test_english_articles_plurals_pasts(texts):
    for t in texts:
        for s in t["en"]:
            assert not re.search(r"\ba [aeio]\w", s), s
            assert not re.search(r"\ban [b-df-hj-np-tv-z]", s, re.IGNORECASE), s
            assert not re.search(r"\b(goed|finded|losed|bringed|seed|falled|builded)\b", s), s
    joined = " ".join(s for t in texts for s in t["en"])
    assert " an " in joined and re.search(r"\b(went|found|fell|brought|built|saw)\b", joined)


def test_heldout_split_is_disjoint():
    train = generate_plans(3000, seed=0)
    held = generate_plans(500, seed=0, split="heldout")
    pairs_train = {(p.hero.name, p.topic) for p in train}
    pairs_held = {(p.hero.name, p.topic) for p in held}
    assert pairs_train and pairs_held and not pairs_train & pairs_held
    for p in held:
        assert p.hero.name in heldout_names(p.topic, p.hero.gender)
    t_text = {tuple(s) for p in train for s in [realise(p)["en"]]}
    h_text = {tuple(s) for p in held for s in [realise(p)["en"]]}
    assert not t_text & h_text


def test_scale_lemmas_and_plans():
    counts = lemma_counts()
    assert counts["en"]["total"] >= 400 and counts["fr"]["total"] >= 400
    assert count_plans("train") >= 1_000_000 and count_plans("heldout") >= 1_000_000


def test_distinct_plans_give_distinct_stories():
    stories = generate_stories(4000, seed=11)
    texts = {" ".join(s.sentences["en"]) for s in stories}
    assert len(texts) == len(stories)  # 4000 draws from >1e15 plans: no collision expected


@pytest.mark.parametrize("bad", ["Lily a trouvé une petit balle.", "Tom avait un balle rouge.",
                                 "Tom avait un ballon verte.", "Emma a vu un oiseau près de le banc."])
def test_french_checks_catch_errors(fr_sentences, bad):
    check = (test_french_article_and_adjective_agreement if "près" not in bad
             else test_french_elision_and_contractions)
    with pytest.raises(AssertionError):
        check(fr_sentences[:200] + [bad])


# --- the template arcs (slmlab.world.arcs / templates) ------------------------------------

def _suffix(gender: str, num: str) -> str:
    return ("e" if gender == "f" else "") + ("s" if num == "pl" else "")


def test_french_agreement_in_arcs(plans, texts):
    """avoir + preceding clitic (l'a emballée, les a gardés), être + subject (est partie,
    sont parties), pronoun and adjective of the thing (qu'elle était très vieille), en ... une."""
    seen = set()
    for p, t in zip(plans, texts):
        if p.arc == "lost":
            continue
        obj = _suffix(FR.gender(p.obj), p.obj_num)
        for (kind, a), fr in zip(p.events, t["fr"]):
            v = a.get("v", 0)
            checks = []
            if kind == "get" and v == 1:
                checks.append(f"a emballé{obj} ")
            if kind == "hide":
                checks.append(f"a {'caché' if v == 0 else 'gardé'}{obj} ")
            if kind == "show":
                checks.append(f"a montré{obj} à ")
            if kind == "ending" and a["tmpl"] == "t_keep":
                checks += [f"a rapporté{obj} d", f"a gardé{obj} dans"]
            if kind == "overcome" and a["type"] == "animal" and v == 0:
                checks.append(f"a regardé{_suffix(FR.gender(a['target']), 'sg')} longtemps.")
            if kind == "runaway" and v == 1:
                checks.append(f"est parti{_suffix(p.pet.gender, 'sg')} en courant")
            if kind == "slip" and v == 0:
                checks.append(f"est tombé{_suffix(p.roles['loser'].gender, 'sg')} ")
            if kind == "arrive" and v < 2:
                checks.append(f"est {'arrivé' if v == 0 else 'venu'}{_suffix(p.friend.gender, 'sg')}")
            if kind == "wrong" and a["type"] == "fall":
                sfx = _suffix(FR.gender(a["thing"]), "sg")
                checks.append(f"s'est écroulé{sfx}." if built(p, a["thing"]) else f"est tombé{sfx} par terre.")
            if kind == "fix" and v == 0:
                fem = FR.gender(a["thing"]) == "f"
                checks.append("en ont fait une encore plus belle" if fem else "en ont fait un encore plus beau")
            if kind == "journey" and v == 0:
                both_f = p.hero.gender == p.helper.gender == "f"
                checks.append(f"sont parti{'es' if both_f else 's'} en excursion")
            if kind == "show" and v == 0:
                g, n = FR.gender(p.obj), p.obj_num
                pron = {"m": "il", "f": "elle"}[g] + ("s" if n == "pl" else "")
                checks.append(f"qu'{pron} {'étaient' if n == 'pl' else 'était'} très "
                              f"{FR.adj('old', g, n)}.")
            for c in checks:
                assert c in fr, (c, fr)
                seen.add(kind)
    assert seen >= {"get", "hide", "show", "ending", "overcome", "runaway", "slip", "arrive",
                    "wrong", "fix", "journey"}


def test_arcs_pronouns_and_referents(plans, texts):
    for p, t in zip(plans, texts):
        if p.arc in ("weather", "make", "fear", "pet"):
            # "they" acts together: the companion (a child or a parent) is introduced first
            assert p.events[1][0] == "companion", p.events
        for (kind, a), en, fr in zip(p.events, t["en"], t["fr"]):
            if kind == "help" and a.get("v") == 1:
                he, lui = ("him", "lui") if p.hero.gender == "m" else ("her", "d'elle")
                assert f"next to {he} " in en and lui in fr, (en, fr)
            if kind == "call" and a.get("v") == 0:
                assert (" he did" if p.pet.gender == "m" else " she did") in en, en
                assert (" il n'est" if p.pet.gender == "m" else " elle n'est") in fr, fr


def test_english_idioms_and_time_coherence(texts):
    en = "\n".join(s for t in texts for s in t["en"])
    fr = "\n".join(s for t in texts for s in t["fr"])
    assert not re.search(r"\b(to|at) the school\b|\bat the (garden|park)\b", en)
    assert re.search(r"\bwent to school\b|\bwas at school\b", en)
    assert "est allé à l'école" in fr or "est allée à l'école" in fr
    # no time of day in a later sentence that could contradict "One evening" / "One morning"
    assert not re.search(r"all (morning|afternoon)|until evening|[Nn]ight was falling|sun was rising", en)
    assert not re.search(r"toute la matinée|jusqu'au soir|tout l'après-midi", fr)
    assert "classroom was full" not in en and "The kitchen smelled" not in en


def test_lemmas_used():
    from slmlab.world.usage import lemma_usage

    stories = generate_stories(3000, seed=1)
    usage = lemma_usage({lang: [x for s in stories for x in s.sentences[lang]] for lang in ("en", "fr")})
    for lang in ("en", "fr"):
        tot = usage[lang]["total"]
        assert tot["declared"] >= 450 and tot["used"] >= 0.93 * tot["declared"], (lang, tot, usage[lang]["unused"])
    assert not {"noun:week", "noun:hand", "verb:drink", "verb:wear", "adj:tired"} & set(usage["en"]["unused"])


@pytest.mark.parametrize("good,bad", [("l'a emballée", "l'a emballé"), ("est partie en", "est parti en"),
                                      ("en ont fait une encore plus belle", "en ont fait un encore plus beau"),
                                      ("les a gardées dans", "les a gardés dans")])
def test_arc_checks_catch_errors(plans, texts, good, bad):
    broken = [{**t, "fr": [s.replace(good, bad) for s in t["fr"]]} for t in texts]
    assert any(good in s for t in texts for s in t["fr"]), good
    with pytest.raises(AssertionError):
        test_french_agreement_in_arcs(plans, broken)


# --- mistakes a native reader found (issue 11): each stays fixed ------------------------

CALQUES = [
    r"\bétai(t|en)t? très (affamé|effrayé|assoiffé)",  # avoir faim / peur / soif
    r"\bont cuit\b|\ba cuit\b",  # faire un gâteau
    r"\bgentile\b",  # gentille
    r"\b(un|une|le|la) [\w-]+ drôle\b(?<!histoire drôle)",  # un drôle de X means "a strange X"
    r"s'est cassée?s? *\.",  # a tower collapses (s'écrouler); a necklace falls
]


def test_french_calques_stay_fixed(fr_sentences):
    text = "\n".join(fr_sentences)
    for pat in CALQUES:
        m = re.search(pat, text)
        assert not m, (pat, m and text[max(0, m.start() - 60):m.end()])
    assert "avait très peur" in text and "s'est écroulé" in text and "avait très faim" in text


@pytest.mark.parametrize("bad", ["Il était très effrayé.", "Ils ont cuit un gâteau.",
                                 "Le chat était très gentile.", "Elle a vu un satellite drôle.",
                                 "Mais ensuite, la tour s'est cassée."])
def test_calque_checks_catch_errors(bad):
    with pytest.raises(AssertionError):
        test_french_calques_stay_fixed([bad, "Il avait très peur.", "La tour s'est écroulée.",
                                        "Il avait très faim."])


def test_planner_picks_compatible_actions(plans, texts):
    """Presents are bought or chosen, never found lying about; only pets are stroked."""
    pets = {"dog", "cat", "puppy", "kitten"}
    for p, t in zip(plans, texts):
        for (kind, a), en in zip(p.events, t["en"]):
            if p.arc == "gift" and kind == "get":
                assert re.search(r"\b(bought|chose)\b", en), en
            if "stroked" in en:
                assert a.get("target") in pets or "pet" in a, en


def _first_mention(text: str, forms) -> str | None:
    """The determiner-ish word just before the first mention of a noun (any form)."""
    alt = "|".join(sorted((re.escape(f) for f in forms), key=len, reverse=True))
    m = re.search(rf"(\w+) (?:\w+ )?(?:{alt})\b", text)
    return m.group(1).lower() if m else None


def test_objects_are_introduced_before_the(plans, texts):
    """The story's object (or the thing made, the feared animal) is first named with a/an/
    some, never with "the" (which would refer to something never mentioned)."""
    checked = 0
    for p, t in zip(plans, texts):
        keys = {p.obj}
        for _, a in p.events:
            keys |= {a[k] for k in ("thing", "target") if isinstance(a.get(k), str) and a[k] != "dark"}
        story = " ".join(t["en"])
        for key in keys:
            forms = EN.nouns[key]
            first = _first_mention(story, forms)
            if first is not None:
                checked += 1
                assert first != "the", (key, story)
    assert checked > 1000


def test_closing_feelings_follow_the_story(plans, texts):
    """A contest's "how did the hero feel" ending is positive if the hero won, else negative;
    a lost-object story ends happily if the object came back, sadly if it never did."""
    from slmlab.world.lexicon import NEGATIVE, POSITIVE

    seen, lost = set(), set()
    for p, t in zip(plans, texts):
        end = p.events[-1][1]
        if end["tmpl"] == "c_feel":
            won = p.roles["winner"] == p.hero
            assert (end["feeling"] in POSITIVE) == won and (end["feeling"] in NEGATIVE) != won
            seen.add(won)
        if p.arc == "lost":  # the object came back (happy) or never did (sad, "went home without")
            found = dict(p.events)["resolve"]["mode"] != "never"
            assert (end["feeling"] in POSITIVE) == found, t["en"]
            assert ("never found" in t["en"][-2]) != found and ("without" in t["en"][-1]) <= (not found)
            lost.add((found, end["tmpl"]))
    assert seen == {True, False}
    assert lost >= {(True, "mood"), (False, "mood"), (False, "gone"), (True, "thank")}
