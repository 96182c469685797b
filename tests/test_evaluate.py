"""Scoring properties of slmlab.evaluate with fake and real tiny models."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from helpers import tiny_llama

from slmlab import evaluate as ev

N_UNITS = 16
BOS = N_UNITS
VOCAB = N_UNITS + 3


class PreferLowUnits(torch.nn.Module):
    """Context-free model: log p(unit u) decreases with u, so lower units are likelier."""

    def __init__(self, vocab: int = VOCAB):
        super().__init__()
        self.bias = torch.nn.Parameter(-torch.arange(vocab, dtype=torch.float32))

    def forward(self, input_ids, attention_mask=None):
        b, l = input_ids.shape
        return SimpleNamespace(logits=self.bias.expand(b, l, -1).clone())


class Uniform(PreferLowUnits):
    def __init__(self):
        super().__init__()
        self.bias.data.zero_()


def make_set(n: int) -> ev.EvalSet:
    """Right endings / good sentences use low units (preferred by PreferLowUnits)."""
    rng = np.random.default_rng(0)
    es = ev.EvalSet()
    for kind in ev.CLOZE_KINDS:
        for cond in ev.CONDITIONS:
            for i in range(n):
                ctx = rng.integers(0, N_UNITS, 12).tolist()
                es.cloze.append({"kind": kind, "item_id": str(i), "condition": cond, "context": ctx,
                                 "right": rng.integers(0, 4, 5).tolist(),
                                 "wrong": rng.integers(8, 16, 5).tolist()})
    for kind in ev.PAIR_KINDS:
        for lang in ("en", "fr"):
            for i in range(n):
                es.pairs.append({"kind": kind, "item_id": str(i), "lang": lang,
                                 "good": rng.integers(0, 4, 6).tolist(),
                                 "bad": rng.integers(8, 16, 6).tolist()})
    return es


def test_model_that_prefers_right_gets_every_item():
    res = ev.evaluate_checkpoint(PreferLowUnits(), make_set(10), n_units=N_UNITS, out=False,
                                 progress=False)["tasks"]
    assert len(res) == 2 * 4 + 2 * 2
    assert list(res)[:4] == ["story:en-en", "story:fr-fr", "story:en-fr", "story:fr-en"]
    for r in res.values():
        assert r["acc"] == 1.0 and r["acc_sum"] == 1.0 and r["n"] == 10


def test_swapped_items_get_zero_and_ties_count_half():
    es = make_set(5)
    for it in es.cloze:
        it["right"], it["wrong"] = it["wrong"], it["right"]
    res = ev.evaluate_items(PreferLowUnits(), es, bos=BOS)
    assert all(r["acc"] == 0.0 for k, r in res.items() if k.startswith(("story", "topic")))
    tie = ev.evaluate_items(Uniform(), make_set(5), bos=BOS)  # equal-length sequences: exact ties
    assert all(r["acc"] == 0.5 and r["acc_sum"] == 0.5 for r in tie.values())


def test_pair_outcomes():
    out = ev.pair_outcomes(np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0]))
    assert out.tolist() == [1.0, 0.0, 0.5]


def test_bootstrap_ci_contains_estimate_and_shrinks_with_n():
    rng = np.random.default_rng(1)
    widths = []
    for n in (50, 500, 5000):
        x = (rng.random(n) < 0.7).astype(float)
        lo, hi = ev.bootstrap_ci(x, 1000)
        assert lo <= x.mean() <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]
    assert ev.bootstrap_ci(np.ones(20)) == (1.0, 1.0)


def test_batched_scores_match_one_by_one():
    """Right padding + attention mask must not change any sequence's log-probs."""
    model = tiny_llama(VOCAB)
    rng = np.random.default_rng(0)
    seqs = [[BOS] + rng.integers(0, N_UNITS, n).tolist() for n in (3, 17, 9, 30, 1)]
    batched = ev.token_logprobs(model, seqs, batch_tokens=200, progress=False)
    for s, lp in zip(seqs, batched):
        single = ev.token_logprobs(model, [s], progress=False)[0]
        assert lp.shape == (len(s) - 1,)
        np.testing.assert_allclose(lp, single, atol=1e-4)
    # against a direct forward pass
    s = torch.tensor([seqs[3]])
    ref = torch.log_softmax(model(s).logits[0, :-1], -1).gather(-1, s[0, 1:, None])[:, 0]
    np.testing.assert_allclose(batched[3], ref.detach().numpy(), atol=1e-4)


def test_ending_sum_uses_ending_tokens_only():
    es = ev.EvalSet(cloze=[{"kind": "story", "item_id": "0", "condition": "en-en",
                            "context": [15] * 10, "right": [0, 0], "wrong": [0, 0, 0]}])
    res = ev.evaluate_items(PreferLowUnits(), es, bos=BOS)["story:en-en"]
    # mean LL favours the longer all-zero ending (more cheap tokens dilute the context cost);
    # summed ending LL favours the shorter one (fewer tokens to pay for).
    assert res["acc"] == 0.0 and res["acc_sum"] == 1.0


def test_evaluate_eval_dir_with_tiny_llama(tmp_path):
    es = ev.synthetic_eval_set(3, n_units=N_UNITS, sentence_frames=6, ctx_sentences=2)
    eval_dir = tmp_path / "corpus" / "eval"
    eval_dir.mkdir(parents=True)
    for name, rows in (("cloze", es.cloze), ("pairs", es.pairs)):
        (eval_dir / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "res.json"
    model = tiny_llama(VOCAB)
    result = ev.evaluate_checkpoint(model, tmp_path / "corpus", n_units=N_UNITS, out=out,
                                    limit=2, progress=False)
    assert json.loads(out.read_text())["tasks"] == result["tasks"]
    assert all(r["n"] == 2 for r in result["tasks"].values())
    # the shared-context scoring gives the accuracies of whole sequences scored one by one
    kept = ev.load_eval(tmp_path / "corpus", limit=2)
    for key, r in result["tasks"].items():
        kind, cond = key.split(":")
        if kind not in ev.CLOZE_KINDS:
            continue
        items = [it for it in kept.cloze if it["kind"] == kind and it["condition"] == cond]
        seqs = [s for it in items for s in ev.cloze_sequences(it, BOS)[:2]]
        seqs += [[BOS] + it[e] for it in items for e in ("right", "wrong")]
        lp = [x.mean() for x in ev.token_logprobs(model, seqs, progress=False)]
        n = len(items)
        want = ev.pair_outcomes(np.array(lp[0:2 * n:2]), np.array(lp[1:2 * n:2])).mean()
        want_none = ev.pair_outcomes(np.array(lp[2 * n::2]), np.array(lp[2 * n + 1::2])).mean()
        assert r["acc"] == pytest.approx(want) and r["acc_no_ctx"] == pytest.approx(want_none)
    md = out.with_suffix(".md").read_text()
    assert "| story | en-fr |" in md and "| syntactic | fr |" in md and "mismatched" in md


def test_missing_eval_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ev.EvalDataError, match="build a corpus"):
        ev.load_eval(tmp_path / "nope")


def save_tiny_checkpoint(path, n_units: int = N_UNITS):
    """A real slmlab checkpoint dir: the `tiny`-shaped Llama at a small vocab + slmlab.json."""
    from slmlab.interleave import Vocab

    path.mkdir(parents=True, exist_ok=True)
    tiny_llama(n_units + 3).save_pretrained(path)
    (path / "slmlab.json").write_text(json.dumps({"vocab": Vocab(n_units).to_dict(), "stage": "1"}))
    return path


def test_evaluate_and_probe_cli(tmp_path, capsys):
    from slmlab.cli import main

    ckpt = save_tiny_checkpoint(tmp_path / "ckpt")
    es = ev.synthetic_eval_set(4, n_units=N_UNITS, sentence_frames=5, ctx_sentences=2, aligned=6)
    eval_dir = ev.write_eval_set(es, tmp_path / "eval")
    assert main(["evaluate", "--ckpt", str(ckpt), "--eval", str(eval_dir), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "| topic | fr-en |" in out and "| lexical | en |" in out
    saved = json.loads((ckpt / "eval_results.json").read_text())
    assert saved["stage"] == "1" and saved["tasks"]["story:en-en"]["n"] == 4  # whole twin pairs
    assert saved["tasks"]["lexical:en"]["n"] == 3 and "outcomes" not in saved["tasks"]["lexical:en"]
    assert main(["probe", "--ckpt", str(ckpt), "--eval", str(eval_dir), "--out",
                 str(tmp_path / "probe"), "--method", "pca", "--layer", "1"]) == 0
    assert "map at layer 1 (pca)" in capsys.readouterr().out
    assert (tmp_path / "probe" / "map_layer1_pca.html").exists()
    assert main(["evaluate", "--ckpt", str(tmp_path / "nope"), "--eval", str(eval_dir)]) == 2


# ----------------------------------------------------------------------------- controls


class CopyModel(torch.nn.Module):
    """Context-using fake: a unit already heard in the sequence is e^2 times likelier."""

    def forward(self, input_ids, attention_mask=None):
        seen = torch.nn.functional.one_hot(input_ids, VOCAB).cumsum(1).clamp(max=1)
        return SimpleNamespace(logits=2.0 * seen.float())  # [B, L, V]


def twin_set(n_pairs: int, seed: int = 0, cond: str = "en-en") -> ev.EvalSet:
    """Counterbalanced twins: story A is told with units U_A and ending a uses U_A (the same for
    B); a is right for A and wrong for B, b the reverse. Only the context decides."""
    rng = np.random.default_rng(seed)
    es = ev.EvalSet()
    for p in range(n_pairs):
        units = rng.permutation(N_UNITS)
        ua, ub = units[:4], units[4:8]
        ctx = [rng.choice(ua, 12).tolist(), rng.choice(ub, 12).tolist()]
        end = [rng.choice(ua, 5).tolist(), rng.choice(ub, 5).tolist()]
        for i in (0, 1):
            es.cloze.append({"kind": "story", "item_id": f"{p}-{i}", "condition": cond,
                             "pair_id": f"p{p}", "context": ctx[i], "right": end[i],
                             "wrong": end[1 - i]})
    return es


def test_context_using_model_has_a_gain_whose_ci_excludes_zero():
    res = ev.evaluate_items(CopyModel(), twin_set(40), bos=BOS)["story:en-en"]
    assert res["acc"] == 1.0
    assert res["acc_no_ctx"] == 0.5  # counterbalanced: an ending-only score gets one twin of two
    assert res["acc_mismatched"] < 0.8
    assert res["gain"] == pytest.approx(res["acc"] - res["acc_mismatched"])
    assert res["gain"] > 0.2 and res["ci_gain"][0] > 0


def test_context_blind_model_has_a_gain_whose_ci_includes_zero():
    """PreferLowUnits judges endings only (right endings use low units): high accuracy
    with or without the story, so no context gain."""
    rng = np.random.default_rng(3)
    es = make_set(60)
    for it in es.cloze:  # endings of several lengths: the context's share of the mean LL varies
        it["right"] = rng.integers(0, 9, rng.integers(2, 9)).tolist()
        it["wrong"] = rng.integers(7, 16, rng.integers(2, 9)).tolist()
        it["context"] = rng.integers(0, N_UNITS, rng.integers(4, 30)).tolist()
    res = ev.evaluate_items(PreferLowUnits(), es, bos=BOS)
    for key, r in res.items():
        if key.startswith(("story", "topic")):
            assert r["acc_no_ctx"] > 0.8 and abs(r["gain"]) < 0.1
            assert r["ci_gain"][0] <= 0 <= r["ci_gain"][1]
        else:
            assert "gain" not in r and "acc_no_ctx" not in r  # minimal pairs have no context


def test_mismatch_index_is_a_seeded_derangement_across_pairs():
    groups = [f"p{i // 2}" for i in range(30)] + ["solo"]
    src = ev.mismatch_index(groups, seed=1)
    assert sorted(src.tolist()) == list(range(31))  # each context is lent once
    assert all(groups[s] != g for s, g in zip(src, groups))
    assert np.array_equal(src, ev.mismatch_index(groups, seed=1))
    assert not np.array_equal(src, ev.mismatch_index(groups, seed=2))
    assert ev.mismatch_index(["a", "a", "b"]) is None  # "a" holds 2 of 3 items: impossible
    assert ev.mismatch_index(["x"]) is None


def test_pair_bootstrap_keeps_twins_together():
    """Twins that split 1/0 (an ending-only preference) average exactly 0.5 per pair: the
    pair bootstrap has no spread, while resampling single items would invent some."""
    outcomes = np.array([1.0, 0.0] * 50)
    groups = [i // 2 for i in range(100)]
    assert ev.bootstrap_ci(outcomes, groups=groups) == (0.5, 0.5)
    lo, hi = ev.bootstrap_ci(outcomes)
    assert lo < 0.45 and hi > 0.55


def test_paired_difference_of_a_checkpoint_with_itself_is_exactly_zero():
    es = twin_set(20)
    a = ev.evaluate_items(CopyModel(), es, bos=BOS, keep_outcomes=True)
    again = ev.evaluate_items(CopyModel(), es, bos=BOS, keep_outcomes=True)
    same = ev.compare_tasks(a, again)["story:en-en"]
    assert same["diff"] == 0.0 and same["ci"] == [0.0, 0.0] and same["n"] == 40
    assert same["gain_diff"] == 0.0 and same["ci_gain_diff"] == [0.0, 0.0]
    blind = ev.evaluate_items(PreferLowUnits(), es, bos=BOS, keep_outcomes=True)
    d = ev.compare_tasks(a, blind)["story:en-en"]
    assert d["diff"] == pytest.approx(1.0 - blind["story:en-en"]["acc"])
    assert d["ci"][0] > 0 and d["gain_diff"] > 0
    other = ev.evaluate_items(CopyModel(), twin_set(20, seed=5), bos=BOS, keep_outcomes=True)
    other["story:en-en"]["item_ids"][0] = "elsewhere"
    with pytest.raises(ValueError, match="different items"):
        ev.compare_tasks(a, other)


def tiny_qwen2(vocab: int):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(1)
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    return Qwen2ForCausalLM(cfg).eval()


@pytest.mark.parametrize("make", [tiny_llama, tiny_qwen2], ids=["llama", "qwen2"])
def test_prefix_cache_scores_equal_whole_sequences(make):
    """Each context runs once and its cache serves every ending: same log-probs as scoring
    each whole sequence, with short prefixes padded next to long ones in a batch."""
    model = make(VOCAB)
    rng = np.random.default_rng(0)
    prefixes = [[BOS] + rng.integers(0, N_UNITS, n).tolist() for n in (0, 5, 17, 3, 40)]
    endings = [rng.integers(0, N_UNITS, n).tolist() for n in (1, 4, 9, 2)]
    jobs = [(p, e) for p in range(5) for e in range(4) if (p + e) % 3]
    assert ev.supports_prefix_cache(model) and not ev.supports_prefix_cache(CopyModel())
    plp, elp = ev.prefix_logprobs(model, prefixes, endings, jobs, batch_tokens=60, progress=False)
    whole = ev.token_logprobs(model, [prefixes[p] + endings[e] for p, e in jobs], progress=False)
    for j, (p, e) in enumerate(jobs):
        assert elp[j].shape == (len(endings[e]),)
        np.testing.assert_allclose(np.concatenate([plp[p], elp[j]]), whole[j], atol=1e-4)


def test_limit_keeps_twins_together():
    es = twin_set(5)
    kept = ev._limit(es.cloze, lambda r: r["condition"], 3)
    assert [r["item_id"] for r in kept] == ["0-0", "0-1", "1-0", "1-1"]


def test_markdown_shows_controls_and_differences():
    a = ev.evaluate_items(CopyModel(), twin_set(10), bos=BOS, keep_outcomes=True)
    md = ev.markdown_table(a)
    assert "| no ctx | mismatched | gain |" in md and "| story | en-en | 100.0 | [100.0, 100.0] | 50.0 |" in md
    diff = ev.markdown_differences({"copy - copy": ev.compare_tasks(a, a)})
    assert "| story:en-en | +0.0 [+0.0, +0.0] | +0.0 [+0.0, +0.0] |" in diff


def test_evaluate_cli_baseline_prints_paired_differences(tmp_path, capsys):
    from slmlab.cli import main

    ckpt = save_tiny_checkpoint(tmp_path / "ckpt")
    es = ev.synthetic_eval_set(4, n_units=N_UNITS, sentence_frames=5, ctx_sentences=2)
    eval_dir = ev.write_eval_set(es, tmp_path / "eval")
    assert main(["evaluate", "--ckpt", str(ckpt), "--eval", str(eval_dir), "--baseline",
                 str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert "| no ctx | mismatched | gain |" in out and "ckpt - ckpt (acc)" in out
    assert "| story:en-en | +0.0 [+0.0, +0.0] |" in out  # a checkpoint against itself
    saved = json.loads((ckpt / "eval_results.json").read_text())
    assert saved["differences"]["ckpt - ckpt"]["topic:fr-en"]["diff"] == 0.0
    assert "outcomes" not in saved["tasks"]["story:en-en"]
    assert "ckpt - ckpt (gain)" in (ckpt / "eval_results.md").read_text()


def test_control_rows_for_tables():
    a = ev.evaluate_items(CopyModel(), twin_set(10), bos=BOS)
    rows = ev.control_rows({"copy": a, "blind": ev.evaluate_items(PreferLowUnits(), make_set(4), bos=BOS)})
    assert [r["arm"] for r in rows] == ["copy"] + ["blind"] * 8  # minimal pairs have no controls
    assert rows[0]["task"] == "story:en-en" and rows[0]["no ctx"] == "50.0"
    assert rows[0]["acc [95% CI]"] == "100.0 [100.0, 100.0]"
    assert rows[0]["gain [95% CI]"].startswith(f"{100 * a['story:en-en']['gain']:+.1f} [")


def test_item_controls_scores_one_item_three_ways():
    es = twin_set(2)
    item, other = es.cloze[0], es.cloze[2]
    res = ev.item_controls(CopyModel(), item, bos=BOS, other_context=other["context"])
    assert list(res) == ["true", "no_ctx", "mismatched"]
    assert res["true"]["correct"] == 1.0 and res["true"]["right"] > res["true"]["wrong"]
    # the same numbers as the suite's whole-sequence means
    right, wrong, _ = ev.cloze_sequences(item, BOS)
    lp = ev.token_logprobs(CopyModel(), [right, wrong, [BOS] + item["right"]], progress=False)
    assert res["true"]["right"] == pytest.approx(lp[0].mean(), abs=1e-6)
    assert res["true"]["wrong"] == pytest.approx(lp[1].mean(), abs=1e-6)
    assert res["no_ctx"]["right"] == pytest.approx(lp[2].mean(), abs=1e-6)
    assert "mismatched" not in ev.item_controls(tiny_llama(VOCAB), item, bos=BOS)
