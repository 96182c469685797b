"""Bias audit of the generated benchmark (issue 11), on 2,000 items per cloze kind and
language and 5,000 non-words per language: what can be solved without the story, and are the
minimal pairs clean? benchmarks/bench_audit.py prints the same figures for the card."""

from __future__ import annotations

import pytest

import test_world as grammar  # the grammar checkers of the story tests, reused on items
from slmlab.world import audit, make_benchmark
from slmlab.world.benchmark import lexical_pairs

N_ITEMS, N_NONWORDS, SEED = 2000, 5000, 0


@pytest.fixture(scope="module")
def bench():
    return make_benchmark(N_ITEMS, seed=SEED)


@pytest.fixture(scope="module")
def nonwords():
    return lexical_pairs(N_NONWORDS, seed=SEED)


@pytest.mark.parametrize("kind", ["story_cloze", "topic_cloze"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_ending_only_classifier_at_most_55_percent(bench, kind, lang):
    items = getattr(bench, kind)
    assert len(items) >= N_ITEMS
    # pairs kept whole: the honest figure; item-level folds: the audit's original protocol
    # (its twins leak across folds and push it below 50%, never above)
    assert audit.ending_only_accuracy(items, lang, grouped=True) <= 0.55
    assert audit.ending_only_accuracy(items, lang) <= 0.55
    assert audit.counterbalance_violations(items) == []


def test_the_classifier_does_find_a_giveaway(bench):
    """The audit can fail: give every right ending a tell-tale word and it gets ~100%."""
    import dataclasses

    items = [dataclasses.replace(it, right={k: v + " Yes." for k, v in it.right.items()})
             for it in bench.story_cloze[:400]]
    assert audit.ending_only_accuracy(items, "en", grouped=True) > 0.95


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_nonwords_are_not_real_or_offensive_words(nonwords, lang):
    words = audit.load_wordlist(lang)
    if words is None:
        pytest.skip(f"no word lists under /usr/share/dict: {audit.WORDLIST_HINT}")
    bad = [p.bad for p in nonwords if p.lang == lang]
    assert len(bad) == len(set(bad)) == N_NONWORDS  # 5,000 distinct non-words
    assert audit.dictionary_hits(bad, words) == []
    blocklist = audit.load_blocklist()
    assert [w for w in bad if audit.blocked(w, blocklist)] == []
    # and the checks bite: the real words they are made from are in the lists
    goods = {p.good for p in nonwords if p.lang == lang}
    assert len(audit.dictionary_hits(goods, words)) >= 0.6 * len(goods)


def test_blocklist_matches_inside_words():
    blocklist = audit.load_blocklist()
    assert audit.blocked("merdelle", blocklist) and audit.blocked("Putain", blocklist)
    assert not audit.blocked("conte", blocklist)  # short entries only as whole words


def test_minimal_pairs_differ_audibly(bench, nonwords):
    # the check bites: spelled differently, said the same
    assert audit.phonemes("Un nouvel ours.", "fr") == audit.phonemes("Un nouvelle ours.", "fr")
    assert audit.homophones(bench.syntactic) == []
    assert audit.homophones(nonwords) == []


def test_good_sentences_are_grammatical(bench):
    """The story tests' French agreement / elision checks and English article / past checks
    pass on every "good" sentence and on every cloze context and ending (twins included)."""
    fr = [p.good for p in bench.syntactic if p.lang == "fr"]
    en = [p.good for p in bench.syntactic if p.lang == "en"]
    for it in bench.story_cloze + bench.topic_cloze:
        fr += it.context["fr"] + [it.right["fr"]]
        en += it.context["en"] + [it.right["en"]]
    grammar.test_french_article_and_adjective_agreement(fr)
    grammar.test_french_elision_and_contractions(fr)
    grammar.test_french_calques_stay_fixed(fr)
    grammar.test_english_articles_plurals_pasts([{"en": en}])
    with pytest.raises(AssertionError):  # and they bite on the "bad" side
        grammar.test_french_article_and_adjective_agreement(
            [p.bad for p in bench.syntactic if p.lang == "fr" and "adj_agreement" in p.item_id])
