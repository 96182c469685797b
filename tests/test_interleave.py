"""Sequence building: alignment, language fractions, lossless packing, determinism, resume."""

from __future__ import annotations

import numpy as np
import pytest

from fakes import fake_corpus
from slmlab.config import ConfigError
from slmlab.interleave import (LANG_ID, SPECIAL, PackedDataset, Position, SequenceConfig,
                               StoryUnits, Vocab, build_epoch, build_story, corpus_vocab,
                               load_corpus_dir, plot_sequence, stories_from_corpus)

VOCAB = Vocab(64)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = fake_corpus(tmp_path_factory.mktemp("corpus") / "c", n_train=40, n_heldout=5)
    return load_corpus_dir(path)


@pytest.fixture(scope="module")
def stories(corpus):
    return stories_from_corpus(corpus[0], "train")


def split_sentences(tokens, langs):
    """Cut a story's tokens [T] (BOS ... EOS, no SEP) into runs of one language."""
    assert tokens[0] == VOCAB.bos and tokens[-1] == VOCAB.eos
    return tokens[1:-1], langs[1:-1]


def test_vocab_layout():
    v = Vocab(2048)
    assert (v.bos, v.eos, v.sep, v.size) == (2048, 2049, 2050, 2051)


def test_stories_grouped_in_order(corpus, stories):
    ds, meta = corpus
    assert corpus_vocab(meta) == VOCAB
    assert len(stories) == 40 and len(stories_from_corpus(ds, "heldout")) == 5
    rows = {(r["story_id"], r["lang"], r["sentence_idx"]): r["units"] for r in ds
            if r["split"] == "train"}
    for st in stories[:5]:
        assert set(st.sentences) == {"en", "fr"}
        for lang, sents in st.sentences.items():
            for i, units in enumerate(sents):
                assert units.tolist() == rows[(st.story_id, lang, i)]
    # a DatasetDict keyed by split works the same as one Dataset with a split column
    import datasets

    dd = datasets.DatasetDict({"heldout": ds.filter(lambda r: r["split"] == "heldout")})
    again = stories_from_corpus(dd, "heldout")
    assert [s.story_id for s in again] == [s.story_id for s in stories_from_corpus(ds, "heldout")]
    assert stories_from_corpus(dd, "train") == []


@pytest.mark.parametrize("mode", ["interleave", "alternate", "spans", "mixed", "mono"])
def test_sentences_keep_alignment(stories, mode):
    """Each sentence slot holds exactly that sentence's units in the chosen language, in order."""
    cfg = SequenceConfig(mode=mode, p=0.5, context=32, lang="fr")
    rng = np.random.default_rng(0)
    for st in stories:
        toks, langs = build_story(st, cfg, VOCAB, rng)
        body, blangs = split_sentences(toks, langs)
        pos = 0
        chosen = []
        for i in range(st.n_sentences()):
            lang = "en" if blangs[pos] == LANG_ID["en"] else "fr"
            units = st.sentences[lang][i]
            assert body[pos:pos + len(units)].tolist() == units.tolist()
            assert (blangs[pos:pos + len(units)] == LANG_ID[lang]).all()
            chosen.append(lang)
            pos += len(units)
        assert pos == len(body)
        if mode == "mono":
            assert set(chosen) == {"fr"}
        if mode == "mixed":
            assert len(set(chosen)) == 1
        if mode == "alternate":
            assert all(a != b for a, b in zip(chosen, chosen[1:]))


@pytest.mark.parametrize("mode,p", [("interleave", 0.5), ("interleave", 0.2), ("spans", 0.3),
                                    ("mixed", 0.5)])
def test_language_fraction_close_to_p(mode, p):
    """Over many stories the fraction of FR sentences is p (binomial tolerance)."""
    sent = [np.array([1, 2]), np.array([3])]
    many = [StoryUnits(f"s{i}", {"en": sent * 4, "fr": sent * 4}) for i in range(400)]
    cfg = SequenceConfig(mode=mode, p=p, context=16)
    counts = []
    for e in range(3):
        toks, langs = build_epoch(many, cfg, VOCAB, e)
        body = langs[langs != SPECIAL]
        counts.append(np.mean(body == LANG_ID["fr"]))
    frac = float(np.mean(counts))
    n_draws = 3 * 400 * (8 if mode != "mixed" else 1) / (cfg.span_mean if mode == "spans" else 1)
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / n_draws) + 0.01


def test_packing_loses_no_token(stories):
    cfg = SequenceConfig(mode="interleave", context=37, seed=3)
    ds = PackedDataset(stories, cfg, VOCAB)
    e0, l0 = build_epoch(stories, cfg, VOCAB, 0)
    e1, _ = build_epoch(stories, cfg, VOCAB, 1)
    n = (len(e0) + len(e1)) // 37
    toks, langs = ds.next_batch(n)
    stream = np.concatenate([e0, e1])[: n * 37]
    assert np.array_equal(toks.reshape(-1), stream)
    assert np.array_equal(langs.reshape(-1)[: len(l0)], l0[: n * 37])
    assert toks.dtype == np.int64 and toks.shape == (n, 37)
    # special tokens are marked special; every story starts with BOS
    assert (langs[toks >= VOCAB.n_units] == SPECIAL).all()
    assert (toks == VOCAB.bos).sum() >= len(stories)
    assert ds.position.epoch == 1


def test_deterministic_and_resumable(stories):
    cfg = SequenceConfig(mode="spans", context=50, seed=7)
    a = PackedDataset(stories, cfg, VOCAB)
    first = a.next_batch(5)[0]
    pos = a.position
    rest = a.next_batch(20)[0]
    b = PackedDataset(stories, cfg, VOCAB)
    assert np.array_equal(b.next_batch(5)[0], first)
    c = PackedDataset(stories, cfg, VOCAB, position=Position(**pos.to_dict()))
    assert np.array_equal(c.next_batch(20)[0], rest)
    other = PackedDataset(stories, SequenceConfig(mode="spans", context=50, seed=8), VOCAB)
    assert not np.array_equal(other.next_batch(5)[0], first)


def test_rank_slices_partition_global_batch(stories):
    cfg = SequenceConfig(context=20)
    whole = PackedDataset(stories, cfg, VOCAB).next_batch(6)[0]
    parts = [PackedDataset(stories, cfg, VOCAB).next_batch(2, skip_before=2 * r,
                                                           skip_after=2 * (2 - r))[0]
             for r in range(3)]
    assert np.array_equal(np.concatenate(parts), whole)


def test_bad_config_names_field():
    with pytest.raises(ConfigError, match="p"):
        SequenceConfig(p=1.5)
    with pytest.raises(ConfigError, match="mode"):
        SequenceConfig(mode="zigzag")
    with pytest.raises(ConfigError, match="context"):
        SequenceConfig(context=0)


def test_plot_sequence(stories):
    toks, langs = PackedDataset(stories, SequenceConfig(context=64), VOCAB).next_window()
    fig = plot_sequence(toks, langs)
    assert {t.name for t in fig.data} == {"en", "fr", "special"}
