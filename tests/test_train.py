"""Training loop: configs, exact resume, atomic checkpoints, the 3-stage recipe, arms, CLI."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
import torch

from fakes import fake_corpus
from slmlab.checkpoint import latest_checkpoint
from slmlab.config import ConfigError
from slmlab.interleave import SequenceConfig
from slmlab.model import load_checkpoint
from slmlab.stages import Recipe, arm_configs, run_recipe, split_budget, stage1, stage2, stage3
from slmlab.train import TrainConfig, lr_lambda, train

SEQ = SequenceConfig(context=24)
FAST = dict(batch_size=2, log_every=1, eval_batches=1, warmup=2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    torch.set_num_threads(1)
    return fake_corpus(tmp_path_factory.mktemp("corpus") / "c", n_train=12, n_heldout=3)


def losses(out):
    rows = [json.loads(r) for r in (out / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_bad_configs_name_the_field(corpus, tmp_path):
    with pytest.raises(ConfigError, match="steps"):
        TrainConfig(corpus=corpus, out=tmp_path, steps=0)
    with pytest.raises(ConfigError, match="steps/tokens"):
        TrainConfig(corpus=corpus, out=tmp_path)
    with pytest.raises(ConfigError, match="tokens"):
        TrainConfig(corpus=corpus, out=tmp_path, tokens=0)
    with pytest.raises(ConfigError, match="preset"):
        TrainConfig(corpus=corpus, out=tmp_path, steps=1, preset="7b")
    with pytest.raises(ConfigError, match="corpus"):
        TrainConfig(corpus=tmp_path / "nope", out=tmp_path, steps=1)
    with pytest.raises(ConfigError, match="lr"):
        TrainConfig(corpus=corpus, out=tmp_path, steps=1, lr=-1.0)
    with pytest.raises(ConfigError, match="total_steps"):
        Recipe(corpus=corpus, out=tmp_path)


def test_token_budget_and_schedule(corpus, tmp_path):
    cfg = TrainConfig(corpus=corpus, out=tmp_path, tokens=1000, batch_size=2, grad_accum=2,
                      sequence=SEQ)
    assert cfg.total_steps() == 11  # ceil(1000 / (2 * 2 * 24))
    assert cfg.total_steps(world=2) == 6
    assert lr_lambda(0, 100, 10, 0.1) == pytest.approx(0.1)
    assert lr_lambda(9, 100, 10, 0.1) == pytest.approx(1.0)
    assert lr_lambda(99, 100, 10, 0.1) == pytest.approx(0.1, abs=1e-3)
    assert split_budget(85, (50, 20, 15)) == [50, 20, 15]
    assert sum(split_budget(7, (50, 20, 15))) == 7


def test_resume_gives_the_same_next_loss(corpus, tmp_path):
    """k steps, stop, resume: losses after k equal an uninterrupted run's exactly."""
    base = dict(corpus=corpus, steps=5, sequence=SEQ, grad_accum=2, **FAST)
    whole = tmp_path / "whole"
    train(TrainConfig(out=whole, **base))
    cut = tmp_path / "cut"
    first = train(TrainConfig(out=cut, stop_after=2, **base))
    assert first.name == "step-000002"
    info = json.loads((first / "slmlab.json").read_text())
    assert info["step"] == 2 and info["data_position"]["offset"] > 0
    final = train(TrainConfig(out=cut, **base))
    assert final.name == "step-000005" and latest_checkpoint(cut) == final
    a, b = losses(whole), losses(cut)
    assert sorted(b) == [1, 2, 3, 4, 5]  # no duplicated rows after the resume
    for step in (3, 4, 5):
        assert b[step] == pytest.approx(a[step], abs=1e-5, rel=0)
    # finished runs return their final checkpoint without training
    assert train(TrainConfig(out=cut, **base)) == final


def test_checkpoints_atomic_and_pruned(corpus, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".tmp-step-000009-1").mkdir()  # what a killed save leaves behind
    cfg = TrainConfig(corpus=corpus, out=out, steps=4, save_every=1, keep_last=2,
                      sequence=SEQ, **FAST)
    final = train(cfg)
    assert sorted(p.name for p in out.glob("step-*")) == ["step-000003", "step-000004"]
    assert not list(out.glob(".tmp-*"))
    assert (out / "latest").read_text() == "step-000004"
    assert {"model.safetensors", "config.json", "slmlab.json", "trainer_state.json",
            "trainer_state.safetensors"} <= set(os.listdir(final))
    assert "trainer_state.pt" not in os.listdir(final)  # no pickle
    model, info = load_checkpoint(out)
    assert info["tokens_seen"] == 4 * 2 * 24 and info["vocab"]["size"] == 67
    assert info["tokenizer"]["checksum"] == "fake-0" and info["stage"] == "custom"
    assert "heldout_loss" in info
    assert (out / "tb").is_dir()


def test_three_stage_recipe_tiny(corpus, tmp_path):
    recipe = Recipe(corpus=corpus, out=tmp_path / "ckpt", total_steps=6, context=24,
                    train=dict(FAST))
    cfgs = recipe.configs()
    assert [c.sequence.mode for c in cfgs.values()] == ["mono", "interleave", "mixed"]
    assert [c.steps for c in cfgs.values()] == [4, 1, 1]
    assert cfgs["2"].init_from == str(cfgs["1"].out) and cfgs["2"].sequence.p == 0.5
    done = run_recipe(recipe)
    assert set(done) == {"1", "2", "3"}
    infos = [json.loads((done[s] / "slmlab.json").read_text()) for s in "123"]
    assert [i["stage"] for i in infos] == ["1", "2", "3"]
    # stage 2 starts from stage 1's final weights
    from slmlab.train import Trainer

    s1_model, _ = load_checkpoint(done["1"])
    s2_start = Trainer(dataclasses.replace(cfgs["2"], out=tmp_path / "fresh2")).model
    assert all(torch.equal(a, b) for a, b in zip(s1_model.state_dict().values(),
                                                  s2_start.state_dict().values()))


def test_arms_match_budget(corpus, tmp_path):
    s1 = stage1(TrainConfig(corpus=corpus, out=tmp_path, steps=50, sequence=SEQ))
    for arm in ("en-only", "fr-only", "mixed", "interleave"):
        (cfg,) = arm_configs(s1, arm, tmp_path / "arms")
        assert cfg.steps == 35 and cfg.init_from == str(s1.out)
    a, b = arm_configs(s1, "interleave+finetune", tmp_path / "arms")
    assert (a.steps, b.steps, a.sequence.mode, b.sequence.mode) == (20, 15, "interleave", "mixed")
    assert b.init_from == str(a.out)
    assert arm_configs(s1, "fr-only", tmp_path, tokens=999)[0].tokens == 999
    assert arm_configs(s1, "fr-only", tmp_path)[0].sequence.lang == "fr"
    with pytest.raises(ConfigError, match="arm"):
        arm_configs(s1, "zh-only", tmp_path)
    s2 = stage2(s1)
    s3 = stage3(s2)
    assert s3.init_from == str(s2.out) and s3.out.name == "stage3"


def test_init_from_text_lm_and_cli(corpus, tmp_path):
    """`slmlab train` from a text LM dir (vocabulary swapped), via the CLI."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from slmlab.cli import main

    text = LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, intermediate_size=64))
    text.save_pretrained(tmp_path / "text")
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(corpus), "--out", str(out), "--steps", "2",
                 "--batch-size", "2", "--context", "24", "--init-from", str(tmp_path / "text"),
                 "--mode", "interleave", "--p", "0.3", "--log-every", "1"])
    assert code == 0
    model, info = load_checkpoint(out)
    assert model.config.hidden_size == 32 and model.config.vocab_size == 67
    assert info["config"]["sequence"]["p"] == 0.3
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--steps", "2",
                 "--p", "2"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("fsdp", ["off", "on"])
def test_torchrun_two_processes_match_one(corpus, tmp_path, fsdp):
    """DDP / FSDP2 on CPU (gloo): 2 ranks x batch 1 == 1 process x batch 2, with a resume."""
    import subprocess
    import sys

    args = ["--corpus", str(corpus), "--steps", "3", "--context", "24", "--log-every", "1",
            "--device", "cpu", "--warmup", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    dist = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
            "-m", "slmlab", "train", *args, "--batch-size", "1", "--fsdp", fsdp,
            "--out", str(tmp_path / "dist")]
    subprocess.run(dist + ["--stop-after", "2"], check=True, env=env, capture_output=True)
    subprocess.run(dist, check=True, env=env, capture_output=True)
    train(TrainConfig(corpus=corpus, out=tmp_path / "one", steps=3, batch_size=2, log_every=1,
                      sequence=SEQ, warmup=2, device="cpu"))
    a, b = losses(tmp_path / "one"), losses(tmp_path / "dist")
    assert sorted(b) == [1, 2, 3]
    for step in a:
        assert b[step] == pytest.approx(a[step], abs=1e-4)
