"""slmlab.world benchmark items and ingest: well-formed items, held-out only, clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import dataclasses
import random
import re
from collections import Counter

import pytest

from slmlab.world import (CONDITIONS, IngestError, generate_stories, load_benchmark,
                          load_parallel, make_benchmark, save_benchmark, save_jsonl,
                          stories_to_dataset)
from slmlab.world import TOPICS, audit
from slmlab.world.planner import heldout_names
from slmlab.world.pairs import FACTS
from slmlab.world.realise import realisers

N = 150


@pytest.fixture(scope="module")
def bench():
    return make_benchmark(N, seed=5)


def test_counts_and_ids(bench):
    assert len(bench.story_cloze) == len(bench.topic_cloze) == N
    for kind in ("lexical", "syntactic"):
        items = getattr(bench, kind)
        assert [x.lang for x in items].count("en") == [x.lang for x in items].count("fr") == N
    ids = [x.item_id for x in bench.items()]
    assert len(ids) == len(set(ids))


def test_cloze_items_well_formed(bench):
    held_names = set()
    for topic in TOPICS:
        held_names |= set(heldout_names(topic, "m")) | set(heldout_names(topic, "f"))
    for item in bench.story_cloze:  # held-out stories: their heroes are held-out names
        assert set(re.findall(r"[A-Z]\w+", " ".join(item.context["en"]))) & held_names
    for item in bench.story_cloze + bench.topic_cloze:
        assert len(item.context["en"]) == len(item.context["fr"]) >= 3
        for lang in ("en", "fr"):
            r, w = item.right[lang], item.wrong[lang]
            assert r != w and w not in item.context[lang]
            assert w[0].isupper() and w.endswith(".")
        for cond in CONDITIONS:
            ctx, right, wrong = item.condition(cond)
            c, e = cond.split("-")
            assert ctx is item.context[c] and right == item.right[e] and wrong == item.wrong[e]


def test_story_cloze_matched_and_on_topic(bench):
    for item in bench.story_cloze:
        for lang in ("en", "fr"):
            r, w = item.right[lang], item.wrong[lang]
            # same template: the first and last words agree except for the swapped slot
            rw, ww = r.split(), w.split()
            assert abs(len(rw) - len(ww)) <= 3
    # all three kinds of contradiction occur
    kinds = set()
    for item in bench.story_cloze:
        r, w = item.right["en"].split(), item.wrong["en"].split()
        kinds.add("swap" if sorted(r) == sorted(w) else "other")
    assert kinds == {"swap", "other"}


def test_topic_cloze_off_topic(bench):
    en = realisers()["en"]
    from slmlab.world.topics import TOPIC_DATA

    for item in bench.topic_cloze:
        own = {f for o in TOPIC_DATA[item.topic].objects for f in en.nouns[o]}
        assert not any(f" {f}." in item.wrong["en"] for f in own), item.wrong["en"]
        assert abs(len(item.right["en"]) - len(item.wrong["en"])) <= 0.45 * len(item.right["en"])


def test_minimal_pairs(bench):
    regs = realisers()
    words = {lang: r.word_forms() for lang, r in regs.items()}
    allwords = words["en"] | words["fr"]
    for p in bench.lexical:
        assert p.good in words[p.lang] and p.bad not in allwords
        assert len(p.good) == len(p.bad) and sum(a != b for a, b in zip(p.good, p.bad)) == 1
    phen = set()
    for p in bench.syntactic:
        assert p.good != p.bad and p.good.endswith(".") and p.bad.endswith(".")
        phen.add((p.lang, p.item_id.split("-")[2]))
    assert len([1 for lang, _ in phen if lang == "en"]) == 5
    assert len([1 for lang, _ in phen if lang == "fr"]) == 6


def test_benchmark_roundtrip_and_hash_seed_independence(bench, tmp_path):
    path = save_benchmark(bench, tmp_path / "bench.jsonl")
    assert load_benchmark(path) == bench
    code = ("from slmlab.world import make_benchmark, generate_stories;"
            "print(hash(repr(make_benchmark(20, seed=2))) and repr(make_benchmark(20, seed=2).story_cloze[3]),"
            "repr(generate_stories(3, 9)))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": s}).stdout for s in ("1", "2")}
    assert len(outs) == 1


# --- ingest -----------------------------------------------------------------------------

def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["story_id", "sentence_idx", "lang", "text"])
        w.writerows(rows)
    return path


def test_ingest_roundtrips(tmp_path):
    stories = generate_stories(5, seed=1)
    assert load_parallel(save_jsonl(stories, tmp_path / "s.jsonl")) == stories
    rows = [(s.story_id, i, lang, t) for s in stories for lang, ts in s.sentences.items()
            for i, t in enumerate(ts)]
    got = load_parallel(_write_csv(tmp_path / "s.csv", rows))
    assert [g.sentences for g in got] == [s.sentences for s in stories]
    stories_to_dataset(stories).save_to_disk(str(tmp_path / "hf"))
    assert load_parallel(tmp_path / "hf") == stories


GOOD = {"en": ["A cat sat.", "It slept."], "fr": ["Un chat était assis.", "Il dormait."]}
BAD_JSONL = {
    "differing sentence counts": {"en": ["A cat sat."], "fr": GOOD["fr"]},
    "is empty": {"en": ["A cat sat.", "  "], "fr": GOOD["fr"]},
    "unknown language code": {**GOOD, "de": ["Eine Katze.", "Sie schlief."]},
    "has no sentences in fr": {"en": GOOD["en"]},
}


@pytest.mark.parametrize("message", list(BAD_JSONL))
def test_ingest_jsonl_errors(tmp_path, message):
    path = _write_jsonl(tmp_path / "c.jsonl", [{"story_id": "ok", "sentences": GOOD},
                                               {"story_id": "bad", "sentences": BAD_JSONL[message]}])
    with pytest.raises(IngestError, match=message) as err:
        load_parallel(path)
    assert "'bad'" in str(err.value) and ":2" in str(err.value)


BAD_CSV = {
    "differing sentence counts": [("b", 0, "en", "A dog ran."), ("b", 0, "fr", "Un chien a couru."),
                                  ("b", 1, "fr", "Il a sauté.")],
    "is empty": [("b", 0, "en", "A dog ran."), ("b", 0, "fr", "")],
    "unknown language code": [("b", 0, "en", "A dog ran."), ("b", 0, "fr", "Un chien."),
                              ("b", 0, "xx", "Blub.")],
    "expected 0..1": [("b", 0, "en", "A."), ("b", 2, "en", "B."), ("b", 0, "fr", "A."), ("b", 1, "fr", "B.")],
    "not an integer": [("b", "one", "en", "A dog ran.")],
}


@pytest.mark.parametrize("message", list(BAD_CSV))
def test_ingest_csv_errors(tmp_path, message):
    with pytest.raises(IngestError, match=message):
        load_parallel(_write_csv(tmp_path / "c.csv", BAD_CSV[message]))


def test_ingest_other_errors(tmp_path):
    with pytest.raises(IngestError, match="appears twice"):
        load_parallel(_write_jsonl(tmp_path / "d.jsonl", [{"id": "x", "sentences": GOOD}] * 2))
    (tmp_path / "j.jsonl").write_text("{not json\n")
    with pytest.raises(IngestError, match="line .* is not JSON"):
        load_parallel(tmp_path / "j.jsonl")
    (tmp_path / "h.csv").write_text("id,en,fr\n1,a,b\n")
    with pytest.raises(IngestError, match="CSV header"):
        load_parallel(tmp_path / "h.csv")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(IngestError, match="unknown format"):
        load_parallel(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        load_parallel(tmp_path / "missing.jsonl")


def test_cli(tmp_path, capsys):
    from slmlab.cli import main

    assert main(["world", "--preview", "1"]) == 0
    assert " | " in capsys.readouterr().out
    assert main(["world", "--preview-bench", "lexical"]) == 0
    assert main(["world", "--n", "20", "--bench-items", "10", "--out", str(tmp_path)]) == 0
    assert len(load_parallel(tmp_path / "stories.jsonl")) == 30
    assert len(load_benchmark(tmp_path / "bench.jsonl").items()) == 60
    bad = _write_jsonl(tmp_path / "bad.jsonl", [{"story_id": "b", "sentences": {"en": ["A."]}}])
    assert main(["world", "--ingest", str(bad), "--out", str(tmp_path / "o")]) == 2


def _scorers():
    """Ending-only scores: random per ending text (several seeds), length, and word counts."""
    out = [len, lambda e: -len(e), lambda e: len(e.split()), lambda e: e.count("e")]
    for seed in range(5):
        cache, rng = {}, random.Random(seed)
        out.append(lambda e, c=cache, r=rng: c.setdefault(e, r.random()))
    return out


def test_any_ending_only_scorer_gets_exactly_one_item_of_each_pair(bench):
    """The acceptance property of the counterbalanced cloze: whatever a score of the ending
    alone prefers, it is right for exactly one of the two items of a pair, in every
    condition (so exactly 50% overall)."""
    for items in (bench.story_cloze, bench.topic_cloze):
        pairs = {}
        for it in items:
            pairs.setdefault(it.pair_id, []).append(it)
        assert len(pairs) == len(items) // 2 and all(len(v) == 2 for v in pairs.values())
        for score in _scorers():
            for cond in CONDITIONS:
                # a strict preference: ties broken by the text itself
                key = lambda e: (score(e), e)  # noqa: E731
                wins = [sum(key(it.condition(cond)[1]) > key(it.condition(cond)[2]) for it in v)
                        for v in pairs.values()]
                assert set(wins) == {1}, cond
        assert audit.counterbalance_violations(items) == []


def test_counterbalance_check_catches_a_broken_pair(bench):
    a, b = bench.story_cloze[:2]
    broken = dataclasses.replace(b, wrong=dict(b.right), right=dict(b.wrong))
    assert audit.counterbalance_violations([a, broken]) == [a.pair_id]
    same_ctx = dataclasses.replace(b, context=a.context)
    assert audit.counterbalance_violations([a, same_ctx]) == [a.pair_id]


def test_story_twins_differ_in_the_tested_fact_only(bench):
    """Twins share their plan except the fact: most context sentences are equal, and each
    fact type has the same number of pairs (within one)."""
    facts = Counter(it.fact for it in bench.story_cloze[::2])
    assert set(facts) == set(FACTS) and max(facts.values()) - min(facts.values()) <= 1
    for a, b in zip(bench.story_cloze[::2], bench.story_cloze[1::2]):
        assert a.pair_id == b.pair_id and a.topic == b.topic
        for lang in ("en", "fr"):
            ca, cb = a.context[lang], b.context[lang]
            assert len(ca) == len(cb)
            same = sum(x == y for x, y in zip(ca, cb))
            assert 0 < len(ca) - same <= (3 if a.fact in ("weather", "place") else len(ca))
            if a.fact in ("winner", "feeling"):  # the same people, in another order
                names = set(re.findall(r"[A-Z]\w+", " ".join(ca)))
                assert names == set(re.findall(r"[A-Z]\w+", " ".join(cb)))


def test_topic_twins_are_two_topics_with_the_same_characters(bench):
    for a, b in zip(bench.topic_cloze[::2], bench.topic_cloze[1::2]):
        assert a.topic != b.topic and a.fact == b.fact == "topic"
        names = [set(re.findall(r"[A-Z]\w+", it.right["en"])) - {"After", "In", "At", "Later",
                                                                      "From", "Then"} for it in (a, b)]
        assert names[0] == names[1]
        # the endings keep the template: same first word, lengths close
        assert a.right["en"].split()[0] == b.right["en"].split()[0]


def test_ending_only_classifier_is_at_chance_here(bench):
    """A quick version of tests/test_bench_audit.py on this small benchmark."""
    for items in (bench.story_cloze, bench.topic_cloze):
        for lang in ("en", "fr"):
            assert audit.ending_only_accuracy(items, lang, grouped=True) <= 0.6


def test_right_endings_name_only_what_the_story_introduced(bench):
    """No broken items: a noun the right ending names with "the" (the object, the thing made,
    the animal, the place) occurs in the story before it."""
    from slmlab.world.pairs import topic_nouns

    en = realisers()["en"]
    checked = 0
    for it in bench.story_cloze + bench.topic_cloze:
        story = " ".join(it.context["en"]).lower()
        for key in topic_nouns(it.topic):
            for form in en.nouns[key]:
                if re.search(rf"\bthe {re.escape(form.lower())}\b", it.right["en"].lower()):
                    checked += 1
                    assert form.lower() in story, (form, it.context["en"], it.right["en"])
    assert checked > len(bench.story_cloze) // 2
