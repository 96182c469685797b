"""slmlab.world benchmark items and ingest: well-formed items, held-out only, clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from slmlab.world import (CONDITIONS, IngestError, generate_stories, load_benchmark,
                          load_parallel, make_benchmark, save_benchmark, save_jsonl,
                          stories_to_dataset)
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
    held = generate_stories(N, seed=5, split="heldout")
    for item, story in zip(bench.story_cloze, held):
        assert item.context["en"] == story.sentences["en"][:-1]  # from held-out stories
        assert item.right["fr"] == story.sentences["fr"][-1]
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
            assert abs(len(r) - len(w)) <= max(10, 0.15 * len(r)), (r, w)
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
    from slmlab.world.lexicon import TOPIC_DATA

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
    with pytest.raises(IngestError, match="not valid JSON"):
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


def test_story_cloze_every_ending_has_a_contradiction():
    """Every ending template of every arc yields a wrong ending that differs from the right
    one in both languages, and the perturbations of all kinds occur."""
    from slmlab.world.benchmark import _wrong_ending
    from slmlab.world.realise import realise
    from slmlab.world.stories import generate_plans
    from slmlab.world.templates import ENDINGS
    import random

    by_tmpl = {}
    for p in generate_plans(1500, seed=8, split="heldout"):
        by_tmpl.setdefault(p.events[-1][1]["tmpl"], []).append(p)
    assert set(ENDINGS) <= set(by_tmpl)
    for tmpl, plans in by_tmpl.items():
        for i, p in enumerate(plans[:12]):
            text = realise(p)
            wrong = _wrong_ending(p, text, random.Random(i))
            for lang in ("en", "fr"):
                assert wrong[lang] != text[lang][-1] and wrong[lang] not in text[lang], (tmpl, wrong)
                assert abs(len(wrong[lang]) - len(text[lang][-1])) <= max(10, 0.15 * len(text[lang][-1]))
    kinds = {k for e in ENDINGS.values() for k in e["wrong"]}
    assert kinds == {"feeling", "swap", "object", "gender", "pet", "event", "number"}


def test_topic_cloze_shape_is_not_a_giveaway():
    """Right endings also name topic nouns most of the time, and most wrong endings use the
    right ending's own template, so 'names an object' or the template do not give it away."""
    from slmlab.world.benchmark import _content, _topical, topic_nouns
    from slmlab.world.stories import generate_plans

    bench = make_benchmark(300, seed=4)
    plans = generate_plans(300, seed=4, split="heldout")
    topical = [_topical(p.events[-1][1]["tmpl"]) and bool(_content(p.events[-1][1]) & topic_nouns(p.topic))
               for p in plans]
    assert 0.6 <= sum(topical) / len(topical) <= 0.95
    same_start = [it.right["en"].split()[:2] == it.wrong["en"].split()[:2] for it in bench.topic_cloze]
    assert sum(same_start) / len(same_start) >= 0.5
    gap = sum(abs(len(it.right["fr"]) - len(it.wrong["fr"])) for it in bench.topic_cloze) / 300
    assert gap <= 12
