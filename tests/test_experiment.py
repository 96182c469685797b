"""slmlab experiment end to end on CPU (tiny preset, synthetic corpus), and seed pooling."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from slmlab import evaluate as ev
from slmlab import experiment as ex

sys.path.insert(0, str(Path(__file__).parent))
from fakes import fake_corpus  # noqa: E402

N_UNITS = 64


@pytest.fixture()
def corpus(tmp_path):
    path = fake_corpus(tmp_path / "corpus", n_train=8, n_heldout=2, n_units=N_UNITS)
    es = ev.synthetic_eval_set(3, n_units=N_UNITS, sentence_frames=6, ctx_sentences=2, aligned=6)
    ev.write_eval_set(es, path / "eval")
    return path


def test_experiment_end_to_end_cpu_tiny(corpus, tmp_path, capsys):
    from slmlab.cli import main

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    out = tmp_path / "exp"
    code = main(["experiment", "--corpus", str(corpus), "--out", str(out), "--preset", "tiny",
                 "--budget-tokens", "600", "--seeds", "0", "--arms", "en-only",
                 "interleave+finetune", "--sweep-p", "0.2", "--context", "64", "--batch-size",
                 "2", "--warmup", "0", "--log-every", "1000", "--device", "cpu"])
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    arms = res["arms"]
    assert list(arms) == ["stage1", "en-only", "interleave+finetune", "interleave+finetune p=0.2"]
    for arm in arms.values():
        tasks = arm["pooled"]["tasks"]
        assert len(tasks) == 12 and all(0 <= t["acc"] <= 1 and t["n"] == 3 for t in tasks.values())
        assert len(arm["pooled"]["alignment"]) == 5  # embeddings + 4 tiny layers
    # matched budgets: every arm continued stage 1 with the same token share
    # (each phase rounds up to whole steps of 2 x 64 tokens: equal within one step per phase)
    seen = {label: arm["seeds"]["0"]["tokens"] for label, arm in arms.items()}
    assert seen["stage1"] >= 600 * 50 / 85
    for label in ("en-only", "interleave+finetune", "interleave+finetune p=0.2"):
        assert 600 * 35 / 85 <= seen[label] <= 600 * 35 / 85 + 2 * 128
    info = json.loads((Path(arms["en-only"]["seeds"]["0"]["ckpt"]) / "slmlab.json").read_text())
    assert info["stage"] == "en-only"
    md = (out / "results.md").read_text()
    assert "| story:en-fr |" in md and "interleave+finetune p=0.2" in md and "gap" in md
    for name in ("accuracy", "alignment", "losses", "sweep_p"):
        assert (out / f"{name}.html").exists()
    assert "results:" in capsys.readouterr().out
    assert time.perf_counter() - t0 < 120


def fake_seed(acc_outcomes, gap):
    tasks = {"story:en-en": {"acc": float(np.mean(acc_outcomes)), "acc_sum": 0.5,
                             "outcomes": list(acc_outcomes)}}
    return {"tasks": tasks, "alignment": [{"layer": 0, "gap": gap, "cos_pairs": 0.9,
                                           "cos_random": 0.9 - gap, "retrieval_en_fr": 0.1,
                                           "retrieval_fr_en": 0.1}]}


def test_pool_seeds_averages_items_and_reports_spread():
    pooled = ex.pool_seeds({0: fake_seed([1, 1, 0, 0], 0.1), 1: fake_seed([1, 0, 0, 0], 0.3)})
    t = pooled["tasks"]["story:en-en"]
    assert t["acc"] == pytest.approx(0.375) and t["n"] == 4
    assert t["sd"] == pytest.approx(0.125) and t["per_seed"] == [0.5, 0.25]
    assert t["ci"][0] <= t["acc"] <= t["ci"][1]
    a = pooled["alignment"][0]
    assert a["gap"] == pytest.approx(0.2) and (a["gap_lo"], a["gap_hi"]) == (0.1, 0.3)


def test_config_errors_name_the_field(corpus, tmp_path):
    with pytest.raises(ValueError, match="arms must be among"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=10, arms=("bogus",))
    with pytest.raises(ValueError, match="eval_dir"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=10, eval_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="budget_tokens"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=0)
