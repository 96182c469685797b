"""slmlab.parallel: DDP/FSDP2 choice, sharded (DCP) checkpoints, resume on another world size.

Fast tests run in this process (the batch re-split rules, the DCP checkpoint format written
and read without a process group). The e2e ones launch `torchrun` with 2 CPU processes (gloo)
on the tiny preset: FSDP save -> resume on 2 processes (exact), on 1 process (2 -> 1) and a
1-process checkpoint resumed under FSDP on 2 (1 -> 2), each next-step loss within 1% of an
uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from slmlab import parallel
from slmlab.interleave import SequenceConfig
from slmlab.model import build_model, load_checkpoint
from slmlab.train import TrainConfig, make_optimizer, train

SEQ = SequenceConfig(context=24)
RUN = ["--steps", "4", "--context", "24", "--log-every", "1", "--device", "cpu",
       "--warmup", "2", "--eval-batches", "1"]


def losses(out: Path) -> dict[int, float]:
    rows = [json.loads(r) for r in (out / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def torchrun(corpus: Path, out: Path, *extra: str, nproc: int = 2) -> str:
    """`slmlab train` under torchrun on CPU processes; returns its output (raises on failure)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
           "-m", "slmlab", "train", "--corpus", str(corpus), "--out", str(out), *RUN, *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout + done.stderr


def in_process(corpus: Path, out: Path, batch_size: int, **kw) -> Path:
    return train(TrainConfig(corpus=corpus, out=out, steps=4, batch_size=batch_size,
                             log_every=1, sequence=SEQ, warmup=2, device="cpu",
                             eval_batches=1, **kw))


def adam_moments(run: Path) -> dict[str, torch.Tensor]:
    """{parameter name: AdamW second moment} of a run's latest checkpoint, whole tensors,
    read the way a resume reads it (DCP shards or a whole optimizer state)."""
    from slmlab.checkpoint import load_trainer_state, latest_checkpoint

    ckpt = latest_checkpoint(run)
    model, _ = load_checkpoint(ckpt)
    opt = make_optimizer(model, TrainConfig(corpus=ckpt.parent, out=run, steps=1),
                         torch.device("cpu"))
    state = load_trainer_state(ckpt)
    if parallel.has_shards(ckpt):
        parallel.load_optimizer_shards(model, opt, ckpt, state[parallel.OPTIM_GROUPS])
    else:
        opt.load_state_dict(state["optimizer"])
    return {n: opt.state[p]["exp_avg_sq"] for n, p in model.named_parameters()}


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


# ---------------------------------------------------------------- choices and batch re-split


def test_resolve_and_old_fsdp_values():
    assert parallel.resolve("auto", "1b", 2) == "fsdp"
    assert parallel.resolve("auto", "360m", 2) == "ddp"
    assert parallel.resolve("fsdp", "tiny", 4) == "fsdp"
    assert parallel.resolve("fsdp", "1b", 1) == "single"  # one process: nothing to spread
    assert [parallel.from_legacy(v) for v in ("on", "off", "auto", None)] == \
        ["fsdp", "ddp", "auto", "auto"]


def test_parallel_choice_is_checked(corpus, tmp_path):
    with pytest.raises(ValueError, match="parallel"):
        TrainConfig(corpus=corpus, out=tmp_path, steps=1, parallel="zero3")


@pytest.mark.parametrize("windows,world,cap", [(8, 2, 8), (8, 4, 1), (12, 3, 3), (6, 1, 4),
                                               (16, 8, 16), (5, 5, 2)])
def test_split_batch_keeps_the_global_batch(windows, world, cap):
    micro, accum = parallel.split_batch(windows, world, cap)
    assert micro * accum * world == windows
    assert 1 <= micro <= max(1, cap)
    # the largest micro-batch that fits: no divisor of the per-rank share between it and cap
    per_rank = windows // world
    assert not [d for d in range(micro + 1, min(cap, per_rank) + 1) if per_rank % d == 0]


def test_split_batch_refuses_an_uneven_world():
    with pytest.raises(ValueError, match="cannot be split over 3 processes"):
        parallel.split_batch(8, 3, 8)


def saved_info(batch_size: int, grad_accum: int, world: int, requested=None) -> dict:
    info = {"world_size": world, "config": {"batch_size": batch_size, "grad_accum": grad_accum}}
    if requested:
        info["parallel"] = {"kind": "fsdp", "requested": requested}
    return info


def test_fit_batch_on_another_world_and_back(corpus, tmp_path):
    base = TrainConfig(corpus=corpus, out=tmp_path, steps=4, batch_size=4)
    # 2 processes x 4 windows -> 1 process: 8 windows as 4 x 2 accumulation steps
    cfg, record, note = parallel.fit_batch(base, saved_info(4, 1, 2), world=1)
    assert (cfg.batch_size, cfg.grad_accum) == (4, 2) and "2 -> 1" in note
    assert record["requested"] == {"batch_size": 4, "grad_accum": 1}
    assert {"batch_size", "grad_accum"} <= set(cfg.allow_change)  # recorded as a change
    # resumed again on 1 process with the same flags: the re-split is reused, not refused
    info = saved_info(4, 2, 1, requested=record["requested"])
    again, _, note = parallel.fit_batch(base, info, world=1)
    assert (again.batch_size, again.grad_accum) == (4, 2) and note is None
    # ... and back on 4 processes: 8 windows as 2 per process
    four, _, _ = parallel.fit_batch(base, info, world=4)
    assert (four.batch_size, four.grad_accum) == (2, 1)


def test_fit_batch_leaves_explicit_choices_alone(corpus, tmp_path):
    base = TrainConfig(corpus=corpus, out=tmp_path, steps=4, batch_size=4)
    allowed = dataclasses.replace(base, allow_change=("batch_size",))
    cfg, _, note = parallel.fit_batch(allowed, saved_info(4, 1, 2), world=1)
    assert (cfg.batch_size, cfg.grad_accum, note) == (4, 1, None)
    fits = dataclasses.replace(base, batch_size=8)  # 8 x 1 on one process == 4 x 1 x 2
    cfg, _, note = parallel.fit_batch(fits, saved_info(4, 1, 2), world=1)
    assert (cfg.batch_size, note) == (8, None)
    assert "batch_size" in cfg.allow_change  # same global batch: not refused as a change
    other = dataclasses.replace(base, batch_size=2)  # 2 x 1 on one process: another batch
    cfg, _, note = parallel.fit_batch(other, saved_info(4, 1, 2), world=1)
    assert (cfg.batch_size, cfg.allow_change, note) == (2, (), None)  # left to the resume check
    same, _, note = parallel.fit_batch(base, saved_info(4, 1, 1), world=1)
    assert same == base and note is None


def test_activation_checkpointing_recomputes_layers_with_equal_gradients():
    """Each decoder layer runs twice per step (forward, then again in backward), and the
    gradients are those of the plain model."""
    from slmlab.interleave import Vocab

    grads = []
    for ckpt in (False, True):
        torch.manual_seed(0)
        model = build_model("tiny", Vocab(64)).eval()  # as from_pretrained returns it
        net = parallel.wrap(model, "single", torch.device("cpu"), None, ckpt)
        calls = []
        # a pre-hook: the recompute stops early, once the last saved tensor is made again
        model.model.layers[0].mlp.register_forward_pre_hook(lambda *_: calls.append(1))
        x = torch.randint(0, 64, (2, 16))
        net(input_ids=x, labels=x).loss.backward()
        assert len(calls) == (2 if ckpt else 1)
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    torch.testing.assert_close(grads[0], grads[1])


# ---------------------------------------------------------------- the DCP format, one process


def test_dcp_checkpoint_format_round_trip(corpus, tmp_path):
    """Weights merged into safetensors that from_pretrained reads, optimizer shards read back
    exactly, and nothing pickled on disk."""
    from slmlab.interleave import Vocab

    torch.manual_seed(0)
    model = build_model("tiny", Vocab(64))
    cfg = TrainConfig(corpus=corpus, out=tmp_path, steps=1)
    opt = make_optimizer(model, cfg, torch.device("cpu"))
    x = torch.randint(0, 64, (2, 16))
    model(input_ids=x, labels=x).loss.backward()
    opt.step()
    weights, groups = parallel.save_shards(model, opt, tmp_path, step=1)
    ckpt = tmp_path / "ckpt"
    weights.save_pretrained(ckpt)
    names = {p.relative_to(ckpt).as_posix() for p in ckpt.rglob("*") if p.is_file()}
    assert "model.safetensors.index.json" in names and "optim/.metadata" not in names
    assert all(n.endswith((".json", ".safetensors")) for n in names), names
    assert not list(tmp_path.glob(".tmp-*"))  # the scratch dir is gone
    json.dumps(groups)  # hyper-parameters are plain values (they go to the trainer state JSON)

    from transformers import AutoModelForCausalLM

    back = AutoModelForCausalLM.from_pretrained(str(ckpt), dtype=torch.float32)
    for (name, a), b in zip(model.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), name
    assert back.lm_head.weight is back.model.embed_tokens.weight  # still tied
    fresh = make_optimizer(back, cfg, torch.device("cpu"))
    parallel.load_optimizer_shards(back, fresh, ckpt, groups)
    saved, loaded = opt.state_dict(), fresh.state_dict()
    for i, state in saved["state"].items():
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(state[key], loaded["state"][i][key]), (i, key)
    assert loaded["param_groups"][0]["betas"] == saved["param_groups"][0]["betas"]


def test_damaged_optimizer_shards_say_what_to_do(tmp_path, corpus):
    from slmlab.interleave import Vocab

    model = build_model("tiny", Vocab(64))
    opt = make_optimizer(model, TrainConfig(corpus=corpus, out=tmp_path, steps=1),
                         torch.device("cpu"))
    (tmp_path / "optim").mkdir()
    (tmp_path / "optim" / "shard-00001-model-00001-of-00001.safetensors").write_bytes(b"\0" * 9)
    with pytest.raises(ValueError, match="cannot be read.*--init-from"):
        parallel.load_optimizer_shards(model, opt, tmp_path, {})


def test_cli_parallel_flags(corpus, tmp_path):
    from slmlab.cli import main
    from slmlab.cli.train import _parallel

    class Args:
        parallel, fsdp = None, "on"
    assert _parallel(Args) == "fsdp"
    Args.parallel = "ddp"
    assert _parallel(Args) == "ddp"
    assert main(["train", "--corpus", str(corpus), "--out", str(tmp_path), "--steps", "1",
                 "--parallel", "zero3"]) == 2  # the config's one-line error, exit 2


# ---------------------------------------------------------------- torchrun, 2 CPU processes


@pytest.mark.e2e
def test_fsdp_resume_on_two_and_on_one_process(corpus, tmp_path):
    """FSDP on 2 ranks, checkpoint at step 2: resumed on 2 ranks the losses are those of the
    uninterrupted run; resumed on 1 process (2 -> 1) within 1%."""
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    torchrun(corpus, ref, "--batch-size", "1", "--parallel", "fsdp")
    torchrun(corpus, cut, "--batch-size", "1", "--parallel", "fsdp", "--stop-after", "2")
    ckpt = cut / "step-000002"
    info = json.loads((ckpt / "slmlab.json").read_text())
    assert info["parallel"]["kind"] == "fsdp" and info["world_size"] == 2
    files = [p.name for p in ckpt.rglob("*") if p.is_file()]
    assert not [f for f in files if f.endswith((".pt", ".distcp", ".metadata"))], files
    assert len(list((ckpt / "optim").glob("shard-*.safetensors"))) == 2  # one per rank
    model, _ = load_checkpoint(cut)  # what evaluation and the demo do
    assert model.config.num_hidden_layers == 4

    one = copy_run(cut, tmp_path / "one")
    torchrun(corpus, cut, "--batch-size", "1", "--parallel", "fsdp")
    a, b = losses(ref), losses(cut)
    assert sorted(b) == [1, 2, 3, 4]
    for step in (3, 4):
        assert b[step] == pytest.approx(a[step], abs=1e-6), step
    ref_m, cut_m = adam_moments(ref), adam_moments(cut)  # the optimizer carried on exactly
    for name, m in ref_m.items():
        torch.testing.assert_close(cut_m[name], m, rtol=1e-5, atol=1e-12, msg=name)

    in_process(corpus, one, batch_size=1)  # 1 process: 2 windows as 1 x 2 accumulation
    c = losses(one)
    for step in (3, 4):
        assert c[step] == pytest.approx(a[step], rel=0.01), step
    info = json.loads((one / "step-000004" / "slmlab.json").read_text())
    assert info["world_size"] == 1 and info["config"]["grad_accum"] == 2


@pytest.mark.e2e
def test_one_process_checkpoint_resumes_under_fsdp_on_two(corpus, tmp_path):
    """A 1-process run (batch 2) cut at step 2 continues on 2 FSDP ranks (1 -> 2), with
    activation checkpointing, at the loss of the uninterrupted 1-process run (within 1%),
    each rank taking 1 window."""
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    in_process(corpus, ref, batch_size=2)
    in_process(corpus, cut, batch_size=2, stop_after=2)
    out = torchrun(corpus, cut, "--batch-size", "2", "--parallel", "fsdp",
                   "--activation-checkpointing")  # recomputing layers changes nothing here
    assert "world size 1 -> 2" in out
    a, b = losses(ref), losses(cut)
    for step in (3, 4):
        assert b[step] == pytest.approx(a[step], rel=0.01), step
    ref_m, cut_m = adam_moments(ref), adam_moments(cut)  # whole state -> shards -> whole
    for name, m in ref_m.items():
        torch.testing.assert_close(cut_m[name], m, rtol=1e-3, atol=1e-10, msg=name)
    info = json.loads((cut / "step-000004" / "slmlab.json").read_text())
    assert info["parallel"]["kind"] == "fsdp" and info["config"]["batch_size"] == 1
    assert info["tokens_seen"] == 4 * 2 * 24  # same global batch throughout
