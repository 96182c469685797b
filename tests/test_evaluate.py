"""Scoring properties of slmlab.evaluate with fake and real tiny models."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

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


def tiny_llama(vocab: int = VOCAB, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    return LlamaForCausalLM(cfg).eval()


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
    model = tiny_llama()
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
    result = ev.evaluate_checkpoint(tiny_llama(), tmp_path / "corpus", n_units=N_UNITS, out=out,
                                    limit=2, progress=False)
    assert json.loads(out.read_text())["tasks"] == result["tasks"]
    assert all(r["n"] == 2 and 0 <= r["acc"] <= 1 for r in result["tasks"].values())
    md = out.with_suffix(".md").read_text()
    assert "| story | en-fr |" in md and "| syntactic | fr |" in md


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
    assert saved["stage"] == "1" and saved["tasks"]["story:en-en"]["n"] == 3
    assert main(["probe", "--ckpt", str(ckpt), "--eval", str(eval_dir), "--out",
                 str(tmp_path / "probe"), "--method", "pca", "--layer", "1"]) == 0
    assert "map at layer 1 (pca)" in capsys.readouterr().out
    assert (tmp_path / "probe" / "map_layer1_pca.html").exists()
    assert main(["evaluate", "--ckpt", str(tmp_path / "nope"), "--eval", str(eval_dir)]) == 2
