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
    es = ev.synthetic_eval_set(4, n_units=N_UNITS, sentence_frames=6, ctx_sentences=2, aligned=6)
    ev.write_eval_set(es, path / "eval")
    return path


def test_experiment_end_to_end_cpu_tiny(corpus, tmp_path, capsys):
    from slmlab.cli import main

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    out = tmp_path / "exp"
    code = main(["experiment", "--corpus", str(corpus), "--out", str(out), "--preset", "tiny",
                 "--budget-tokens", "600", "--seeds", "0", "--arms", "mixed",
                 "interleave+finetune", "--sweep-p", "0.2", "--context", "64", "--batch-size",
                 "2", "--warmup", "0", "--log-every", "1000", "--device", "cpu"])
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    arms = res["arms"]
    assert list(arms) == ["stage1", "mixed", "interleave+finetune", "interleave+finetune p=0.2"]
    for arm in arms.values():
        tasks = arm["pooled"]["tasks"]
        assert len(tasks) == 12 and all(t["n"] == 4 for t in tasks.values())
        for key, t in tasks.items():
            assert t["acc"] == pytest.approx(arm["seeds"]["0"]["tasks"][key]["acc"])  # one seed
            if key.startswith(("story", "topic")):  # controls on every cloze task
                assert t["gain"] == pytest.approx(t["acc"] - t["acc_mismatched"])
                assert t["ci_gain"][0] <= t["gain"] <= t["ci_gain"][1]
                assert "acc_no_ctx" in t and "outcomes" not in arm["seeds"]["0"]["tasks"][key]
        assert len(arm["pooled"]["alignment"]) == 5  # embeddings + 4 tiny layers
        assert all(r["gap_ci"][0] <= r["gap"] <= r["gap_ci"][1] for r in arm["pooled"]["alignment"])
    # every trained arm against the EN+FR baseline, paired on the same items
    diffs = res["differences"]
    assert list(diffs) == ["interleave+finetune - mixed", "interleave+finetune p=0.2 - mixed"]
    for name, d in diffs.items():
        arm = arms[name.split(" - ")[0]]["pooled"]
        for key, r in d["tasks"].items():
            want = arm["tasks"][key]["acc"] - arms["mixed"]["pooled"]["tasks"][key]["acc"]
            assert r["diff"] == pytest.approx(want) and r["ci"][0] <= r["diff"] <= r["ci"][1]
        gaps = [a["gap"] - m["gap"] for a, m in zip(arm["alignment"], arms["mixed"]["pooled"]["alignment"])]
        assert [r["diff"] for r in d["alignment"]] == pytest.approx(gaps)
    # matched budgets: every arm continued stage 1 with the same token share
    # (each phase rounds up to whole steps of 2 x 64 tokens: equal within one step per phase)
    seen = {label: arm["seeds"]["0"]["tokens"] for label, arm in arms.items()}
    assert seen["stage1"] >= 600 * 50 / 85
    for label in ("mixed", "interleave+finetune", "interleave+finetune p=0.2"):
        assert 600 * 35 / 85 <= seen[label] <= 600 * 35 / 85 + 2 * 128
    info = json.loads((Path(arms["mixed"]["seeds"]["0"]["ckpt"]) / "slmlab.json").read_text())
    assert info["stage"] == "mixed"
    # each arm's last phase: its final training loss (read back from its run's log), its
    # held-out loss and its speed, so memorisation is a table row, not a log to dig in
    for arm in arms.values():
        tr, ckpt = arm["seeds"]["0"]["training"], Path(arm["seeds"]["0"]["ckpt"])
        logged = [json.loads(line) for line in (ckpt.parent / "metrics.jsonl").read_text().splitlines()]
        assert tr["loss"] == pytest.approx([r for r in logged if "loss" in r][-1]["loss"])
        assert tr["heldout_loss"] == pytest.approx([r for r in logged if "heldout_loss" in r][-1]["heldout_loss"])
        assert tr["tokens_per_s"] > 0 and tr["mfu"] is None  # no MFU on a CPU
    md = (out / "results.md").read_text()
    assert "## Training: final loss vs held-out loss" in md
    assert "| story:en-fr |" in md and "interleave+finetune p=0.2" in md and "gap" in md
    assert "## Context controls" in md and "### mixed" in md
    assert "interleave+finetune - mixed (acc)" in md and "Alignment gap differences" in md
    for name in ("accuracy", "gain", "differences", "alignment", "losses", "sweep_p"):
        assert (out / f"{name}.html").exists()
    assert "results:" in capsys.readouterr().out
    assert time.perf_counter() - t0 < 120


def fake_seed(acc_outcomes, gap, mismatched=None, pair_gaps=None):
    tasks = {"story:en-en": {"acc": float(np.mean(acc_outcomes)), "acc_sum": 0.5,
                             "outcomes": list(acc_outcomes), "outcomes_sum": [0.5] * 4,
                             "item_ids": ["a", "b", "c", "d"], "groups": ["a", "b", "c", "d"]}}
    if mismatched is not None:
        tasks["story:en-en"]["outcomes_mismatched"] = list(mismatched)
        tasks["story:en-en"]["gain"] = float(np.mean(acc_outcomes) - np.mean(mismatched))
    layer = {"layer": 0, "gap": gap, "cos_pairs": 0.9, "cos_random": 0.9 - gap,
             "retrieval_en_fr": 0.1, "retrieval_fr_en": 0.1}
    if pair_gaps is not None:
        layer["pair_gaps"] = list(pair_gaps)
    return {"tasks": tasks, "alignment": [layer]}


def test_pool_seeds_averages_items_and_reports_spread():
    pooled = ex.pool_seeds({0: fake_seed([1, 1, 0, 0], 0.1, [0, 1, 0, 0], [0.1] * 3),
                            1: fake_seed([1, 0, 0, 0], 0.3, [0, 0, 0, 0], [0.2, 0.4, 0.3])})
    t = pooled["tasks"]["story:en-en"]
    assert t["acc"] == pytest.approx(0.375) and t["n"] == 4
    assert t["sd"] == pytest.approx(0.125) and t["per_seed"] == [0.5, 0.25]
    assert t["ci"][0] <= t["acc"] <= t["ci"][1]
    # per item over seeds: true [1, .5, 0, 0], mismatched [0, .5, 0, 0] -> gain 0.25
    assert t["acc_mismatched"] == pytest.approx(0.125) and t["gain"] == pytest.approx(0.25)
    assert t["gain_per_seed"] == [0.25, 0.25]
    a = pooled["alignment"][0]
    assert a["gap"] == pytest.approx(0.2) and (a["gap_lo"], a["gap_hi"]) == (0.1, 0.3)
    # pair values averaged over seeds: [0.15, 0.25, 0.2]; the CI bootstraps those
    assert 0.15 <= a["gap_ci"][0] <= a["gap_ci"][1] <= 0.25


def test_arm_differences_pair_items_and_seeds():
    arm = {0: fake_seed([1, 1, 0, 0], 0.3, [0, 0, 0, 0], [0.3, 0.3]),
           1: fake_seed([1, 0, 0, 0], 0.3, [0, 0, 0, 0], [0.3, 0.3])}
    mixed = {0: fake_seed([0, 1, 0, 0], 0.1, [0, 1, 0, 0], [0.1, 0.1]),
             1: fake_seed([0, 0, 0, 0], 0.1, [0, 0, 0, 0], [0.1, 0.1]), 2: fake_seed([1] * 4, 0.5)}
    diffs = ex.arm_differences({"stage1": arm, "mixed": mixed, "interleave": arm, "same": mixed})
    assert list(diffs) == ["interleave - mixed", "same - mixed"]
    d = diffs["interleave - mixed"]
    assert d["seeds"] == [0, 1]  # seed 2 of mixed has no partner
    # item means over seeds: [1, .5, 0, 0] - [0, .5, 0, 0]
    assert d["tasks"]["story:en-en"]["diff"] == pytest.approx(0.25)
    # gains per item: arm [1, .5, 0, 0] - 0 = mean .375; mixed [0, .5, 0, 0] - [0, .5, 0, 0] = 0
    assert d["tasks"]["story:en-en"]["gain_diff"] == pytest.approx(0.375)
    assert d["alignment"][0]["diff"] == pytest.approx(0.2)
    same = diffs["same - mixed"]["tasks"]["story:en-en"]
    assert same["diff"] == 0.0 and same["ci"] == [0.0, 0.0]
    assert ex.arm_differences({"interleave": arm}) == {}  # no baseline, nothing to compare


def test_config_errors_name_the_field(corpus, tmp_path):
    with pytest.raises(ValueError, match="arms must be among"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=10, arms=("bogus",))
    with pytest.raises(ValueError, match="eval_dir"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=10, eval_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="budget_tokens"):
        ex.ExperimentConfig(corpus=corpus, out=tmp_path, budget_tokens=0)


def test_rerun_reuses_assessments_and_stage1_from_shares_stage1(corpus, tmp_path, monkeypatch):
    """A rerun scores nothing again (assess.json per checkpoint); an experiment given
    --stage1-from continues that run's stage 1 instead of training its own, and refuses one of
    another budget."""
    torch.set_num_threads(1)
    kw = dict(corpus=corpus, preset="tiny", budget_tokens=600, seeds=(0,), context=64,
              train={"batch_size": 2, "warmup": 0, "log_every": 1000, "device": "cpu"})
    first = ex.run_experiment(ex.ExperimentConfig(out=tmp_path / "a", arms=("mixed",), **kw))
    calls = []
    real = ex.evaluate_checkpoint
    monkeypatch.setattr(ex, "evaluate_checkpoint", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    trained = []
    real_train = ex.train
    monkeypatch.setattr(ex, "train", lambda c: trained.append(c.stage) or real_train(c))
    again = ex.run_experiment(ex.ExperimentConfig(out=tmp_path / "a", arms=("mixed",), **kw))
    assert calls == [] and trained == []  # finished runs are not even reloaded
    assert again["arms"]["mixed"]["pooled"]["tasks"] == first["arms"]["mixed"]["pooled"]["tasks"]

    other = ex.run_experiment(ex.ExperimentConfig(out=tmp_path / "b", arms=("fr-only",),
                                                  stage1_from=tmp_path / "a", **kw))
    assert not (tmp_path / "b" / "seed0" / "stage1").exists()
    assert [Path(c).parts[-3:-1] for c in calls] == [("fr-only", "phase1")]  # stage 1: cached
    assert trained == ["fr-only"]
    assert other["arms"]["stage1"]["pooled"]["tasks"] == first["arms"]["stage1"]["pooled"]["tasks"]
    with pytest.raises(ValueError, match="stage1_from: .* trained"):
        ex.run_experiment(ex.ExperimentConfig(out=tmp_path / "c", arms=("fr-only",),
                                              stage1_from=tmp_path / "a", **{**kw, "budget_tokens": 900}))
    # a finished run counts only for the corpus it was trained on
    from dataclasses import replace

    from slmlab.stages import Recipe
    from slmlab.train import finished_run

    c1 = Recipe(corpus=corpus, out=tmp_path / "a" / "seed0", preset="tiny", total_tokens=600,
                context=64, seed=0, train={"progress": False, **kw["train"]}).configs()["1"]
    other = fake_corpus(tmp_path / "other", n_train=9, n_heldout=2, n_units=N_UNITS)
    assert finished_run(c1) is not None and finished_run(replace(c1, corpus=other)) is None
    with pytest.raises(ValueError, match="holds no checkpoint"):
        ex.run_experiment(ex.ExperimentConfig(out=tmp_path / "d", arms=("fr-only",),
                                              stage1_from=tmp_path / "b", **kw))
    # a stage 1 another process is still training is waited for (--stage1-wait), then shared
    import os
    import shutil
    import threading
    import time

    late = tmp_path / "late" / "seed0" / "stage1"
    late.parent.mkdir(parents=True)

    def finish_late():  # the other process's stage 1 appears whole, 0.3 s from now
        shutil.copytree(tmp_path / "a" / "seed0" / "stage1", tmp_path / "late-tmp")
        os.rename(tmp_path / "late-tmp", late)

    timer = threading.Timer(0.3, finish_late)
    timer.start()
    assert ex.shared_stage1(late, c1, wait=60, poll=0.05).out == late
    timer.join()
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="holds no checkpoint"):
        ex.shared_stage1(tmp_path / "never", c1, wait=0.2, poll=0.05)
    assert time.monotonic() - t0 >= 0.2
