"""Fault injection on training runs (CPU, tiny preset, a fake corpus): damaged checkpoints,
kills, mismatched resumes, a full or read-only disk, NaN losses, two writers.

Each test asserts the message, the exit code, and that nothing written before was lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from fakes import fake_corpus
from faults_support import remount_readonly, run_cli, snapshot, tmpfs
from slmlab import checkpoint as ck
from slmlab.interleave import SequenceConfig
from slmlab.train import TrainConfig, train

SEQ = SequenceConfig(context=24)
FAST = dict(batch_size=2, log_every=1, eval_batches=1, warmup=2, device="cpu")
CLI = ["--context", "24", "--batch-size", "2", "--warmup", "2", "--eval-batches", "1",
       "--device", "cpu", "--log-every", "1"]


@pytest.fixture(scope="module")
def corpus_b(tmp_path_factory):
    """Another corpus: other units (seed) and another tokenizer checksum, same vocab."""
    return fake_corpus(tmp_path_factory.mktemp("corpus") / "b", n_train=12, n_heldout=3, seed=7)


@pytest.fixture(scope="module")
def whole(corpus, tmp_path_factory):
    """An uninterrupted 6-step run, the reference for every resume."""
    out = tmp_path_factory.mktemp("whole") / "run"
    train(TrainConfig(corpus=corpus, out=out, steps=6, sequence=SEQ, **FAST))
    return out


def rows(out: Path) -> list[dict]:
    return [json.loads(r) for r in (out / "metrics.jsonl").read_text().splitlines()]


def losses(out: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in rows(out) if "loss" in r}


def cut_run(corpus, out: Path, stop: int, **kw) -> Path:
    return train(TrainConfig(corpus=corpus, out=out, steps=6, sequence=SEQ, save_every=1,
                             stop_after=stop, **{**FAST, **kw}))


def assert_same_as_whole(out: Path, whole: Path) -> None:
    a, b = losses(whole), losses(out)
    assert sorted(b) == sorted(a)  # no duplicated, no missing row
    for step in a:
        assert b[step] == pytest.approx(a[step], abs=1e-6, rel=0)


# ------------------------------------------------------------------ damaged `latest`


@pytest.mark.parametrize("damage", ["dangling", "empty", "no-info", "truncated-weights",
                                    "truncated-state", "no-pointer"])
def test_damaged_latest_falls_back_to_newest_intact(corpus, whole, tmp_path, capsys, damage):
    out = tmp_path / "run"
    cut_run(corpus, out, 3)  # step-000002, step-000003 kept
    newest = out / "step-000003"
    if damage == "dangling":
        (out / "latest").write_text("step-000099")
    elif damage == "empty":
        (out / "latest").write_text("")
    elif damage == "no-pointer":
        (out / "latest").unlink()
    elif damage == "no-info":
        (newest / "slmlab.json").unlink()
    elif damage == "truncated-weights":
        f = newest / "model.safetensors"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    else:
        f = newest / ck.STATE_TENSORS
        f.write_bytes(f.read_bytes()[:100])
    expected = "step-000002" if damage in ("no-info", "truncated-weights", "truncated-state") \
        else "step-000003"
    capsys.readouterr()
    assert ck.latest_checkpoint(out) == out / expected
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"resuming from {expected}" in err  # one line, names it
    code, _ = run_cli(["train", "--corpus", corpus, "--out", out, "--steps", "6",
                       "--save-every", "1", *CLI], capsys)
    assert code == 0
    assert_same_as_whole(out, whole)  # resumed, not restarted: no duplicated rows
    assert (out / "latest").read_text() == "step-000006"
    assert ck.checkpoint_problem(out / "step-000006") is None


def test_inference_falls_back_from_a_damaged_latest(corpus, tmp_path, capsys):
    """evaluate/probe/generate resolve a run dir through the same intact-checkpoint search."""
    from slmlab.model import load_checkpoint, resolve_checkpoint

    out = tmp_path / "run"
    cut_run(corpus, out, 3)
    f = out / "step-000003" / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    assert resolve_checkpoint(out) == out / "step-000002"
    _, info = load_checkpoint(out)
    assert info["path"] == str(out / "step-000002")
    assert "resuming from step-000002" in capsys.readouterr().err


def test_no_intact_checkpoint_is_an_error_not_a_restart(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    cut_run(corpus, out, 2)
    for d in out.glob("step-*"):
        (d / "model.safetensors").write_bytes(b"")
    before = snapshot(out)
    code, err = run_cli(["train", "--corpus", corpus, "--out", out, "--steps", "6", *CLI], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "none is intact" in err and "step-000002: model.safetensors is truncated" in err
    assert snapshot(out) == before  # nothing pruned, no new step-0 run


def test_prune_keeps_the_run_in_progress(corpus, tmp_path):
    """A fallback leaves damaged newer dirs behind: pruning must not delete the new run's."""
    out = tmp_path / "run"
    cut_run(corpus, out, 4)  # steps 3, 4 kept
    (out / "step-000004" / "slmlab.json").write_text("{")  # damaged: resume from 3
    final = cut_run(corpus, out, 1, keep_last=1)  # reaches step 4 again, replacing the bad one
    assert final.name == "step-000004" and ck.checkpoint_problem(final) is None
    assert sorted(p.name for p in out.glob("step-*")) == ["step-000004"]


# ------------------------------------------------------------------ bookkeeping


def test_metrics_repaired_and_trimmed_and_windows_survive_resume(corpus, tmp_path):
    """log_every=4 with saves every step: windows cut by a resume average the same steps."""
    kw = dict(corpus=corpus, steps=8, sequence=SEQ, **{**FAST, "log_every": 4})
    ref = tmp_path / "ref"
    train(TrainConfig(out=ref, **kw))
    out = tmp_path / "cut"
    train(TrainConfig(out=out, save_every=1, stop_after=2, **kw))
    train(TrainConfig(out=out, save_every=1, stop_after=4, **kw))  # resumes mid-window at 2
    with open(out / "metrics.jsonl", "a") as fh:  # rows after the checkpoint, a half line
        fh.write(json.dumps({"step": 7, "loss": 1.0}) + "\n" + '{"step": 8, "lo')
    train(TrainConfig(out=out, save_every=1, **kw))
    assert losses(out) == pytest.approx(losses(ref), abs=1e-6)
    assert [r["step"] for r in rows(out) if "loss" in r] == [4, 8]


def test_tensorboard_purged_to_the_resumed_step(corpus, whole, tmp_path):
    """Steps logged after the last checkpoint (a kill before the next save) are logged again:
    TensorBoard must show each step once, with the resumed run's values."""
    import shutil

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    cut_run(corpus, out, 3)
    shutil.rmtree(out / "step-000003")  # killed after logging step 3, before its save
    (out / "latest").write_text("step-000002")
    train(TrainConfig(corpus=corpus, out=out, steps=6, sequence=SEQ, **FAST))
    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    events = acc.Scalars("loss")
    assert [e.step for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.value for e in events] == pytest.approx([losses(whole)[s] for s in range(1, 7)],
                                                      abs=1e-5)
    assert_same_as_whole(out, whole)


def test_kill_before_first_checkpoint_leaves_no_duplicates(corpus, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"step": 1, "loss": 9.0}\n{"step": 2, "loss": 8.0}\n{"st')
    train(TrainConfig(corpus=corpus, out=out, steps=2, sequence=SEQ, **FAST))
    assert [r["step"] for r in rows(out) if "loss" in r] == [1, 2]
    assert losses(out)[1] != 9.0


# ------------------------------------------------------------------ runs that must not mix


@pytest.mark.parametrize("change", ["lr", "batch_size", "corpus"])
def test_resume_refuses_other_settings_unless_allowed(corpus, corpus_b, tmp_path, capsys, change):
    out = tmp_path / "run"
    cut_run(corpus, out, 2)
    before = snapshot(out)
    args = {"lr": ["--lr", "3e-4"], "batch_size": ["--batch-size", "3"],
            "corpus": []}[change]
    data = corpus_b if change == "corpus" else corpus
    argv = ["train", "--corpus", data, "--out", out, "--steps", "4", *CLI, *args]
    code, err = run_cli(argv, capsys)
    want = "tokenizer" if change == "corpus" else change  # another corpus: other tokenizer too
    assert code == 2 and err.count("\n") == 1
    assert f"made with another {change if change != 'corpus' else 'corpus'}" in err
    assert "--allow-change" in err and want in err
    assert snapshot(out) == before
    allow = "corpus,tokenizer" if change == "corpus" else change
    code, err = run_cli(argv + ["--allow-change", allow], capsys)
    assert code == 0, err
    info = json.loads((out / "step-000004" / "slmlab.json").read_text())
    assert {c["field"] for c in info["changes"]} == set(allow.split(","))
    assert all(c["step"] == 2 for c in info["changes"])
    if change == "lr":  # the new peak lr is the one used after the resume
        lrs = {r["step"]: r["lr"] for r in rows(out) if "lr" in r}
        from slmlab.train import lr_lambda
        assert lrs[3] == pytest.approx(3e-4 * lr_lambda(2, 4, 1, 0.1))  # warmup capped at 1


def test_resume_never_changes_the_vocabulary(corpus, tmp_path, capsys):
    """A 64-unit model must not continue on a 32-unit corpus, even when changes are allowed."""
    small = fake_corpus(tmp_path / "small", n_train=12, n_heldout=3, n_units=32, seed=3)
    out = tmp_path / "run"
    cut_run(corpus, out, 2)
    before = snapshot(out)
    code, err = run_cli(["train", "--corpus", small, "--out", out, "--steps", "4", *CLI,
                         "--allow-change", "corpus,tokenizer"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "a model cannot change its vocabulary" in err and "'size': 67" in err
    assert snapshot(out) == before


def test_two_writers_are_refused(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    with ck.RunLock(out):
        code, err = run_cli(["train", "--corpus", corpus, "--out", out, "--steps", "1", *CLI],
                            capsys)
    assert code == 2 and f"being written by another process (pid {os.getpid()})" in err
    assert not list(out.glob("step-*"))
    code, _ = run_cli(["train", "--corpus", corpus, "--out", out, "--steps", "1", *CLI], capsys)
    assert code == 0  # the lock went with its holder


# ------------------------------------------------------------------ non-finite, bad arguments


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    cut_run(corpus, out, 2)
    good = snapshot(out / "step-000002")
    # a finite but absurd lr, allowed as a change: the weights overflow to inf, the loss to NaN
    code, err = run_cli(["train", "--corpus", corpus, "--out", out, "--steps", "6",
                         "--save-every", "1", "--lr", "1e37", "--allow-change", "lr", *CLI],
                        capsys)
    assert code == 2 and err.count("\n") == 1
    assert "became" in err and ("nan" in err or "inf" in err) and "lower --lr" in err
    kept = ck.latest_checkpoint(out)
    assert f"the last good checkpoint {kept} is kept" in err
    assert snapshot(out / "step-000002") == good
    from slmlab.model import load_checkpoint

    for d in out.glob("step-*"):  # no saved checkpoint holds a non-finite weight
        model, _ = load_checkpoint(d)
        assert all(torch.isfinite(p).all() for p in model.parameters()), d.name
    assert not (out / "step-000006").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--tokens", "inf"], "tokens must be a finite number > 0; got inf"),
    (["--tokens", "nan"], "tokens must be a finite number > 0; got nan"),
    (["--steps", "4", "--lr", "inf"], "lr must be a finite number > 0; got inf"),
    (["--steps", "4", "--seed", str(2**64)], "seed must be a whole number in [0, 2**63 - 1]"),
    (["--steps", "4", "--allow-change", "preset"], "allow_change must be one of"),
])
def test_bad_train_arguments_are_one_line(corpus, tmp_path, capsys, argv, needle):
    code, err = run_cli(["train", "--corpus", corpus, "--out", tmp_path / "r", *argv], capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").glob("step-*"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU-only torch")
def test_device_cuda_on_cpu_torch(corpus, tmp_path, capsys):
    code, err = run_cli(["train", "--corpus", corpus, "--out", tmp_path / "r", "--steps", "1",
                         "--device", "cuda"], capsys)
    assert code == 2 and "device cuda: this torch build has no CUDA" in err
    assert "--device cpu" in err


@pytest.mark.parametrize("argv, needle", [
    (["--steps", "6", "--only", "4"], "only must name stages among 1, 2, 3; got 4"),
    (["--steps", "2"], "total_steps must be at least 3 (one per stage); got 2"),
])
def test_stages_arguments(corpus, tmp_path, capsys, argv, needle):
    code, err = run_cli(["stages", "--corpus", corpus, "--out", tmp_path / "r", *argv], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_experiment_budget_of_one_token(corpus, tmp_path, capsys):
    code, err = run_cli(["experiment", "--corpus", corpus, "--out", tmp_path / "r",
                         "--budget-tokens", "1"], capsys)
    assert code == 2 and "budget_tokens must be at least 3" in err and "-1" not in err


# ------------------------------------------------------------------ trainer state without pickle


def test_trainer_state_is_not_pickled_and_legacy_loads_safely(corpus, tmp_path):
    out = tmp_path / "run"
    ckpt = cut_run(corpus, out, 2)
    state = ck.load_trainer_state(ckpt)
    assert isinstance(state["optimizer"]["state"], dict) and 0 in state["optimizer"]["state"]
    assert state["rng"]["torch"].dtype == torch.uint8
    # an old run dir: the same state pickled by torch.save, RNG states as getstate() tuples
    legacy = dict(state, rng={"python": random.getstate(), "numpy": __import__("numpy").random
                              .get_state(), "torch": torch.get_rng_state()})
    for f in (ck.STATE_JSON, ck.STATE_TENSORS):
        (ckpt / f).unlink()
    torch.save(legacy, ckpt / ck.LEGACY_STATE)
    assert ck.checkpoint_problem(ckpt) is None
    loaded = ck.load_trainer_state(ckpt)
    assert torch.equal(loaded["rng"]["torch"], legacy["rng"]["torch"])
    # a pickle that would run code is refused with one clear message, nothing executed
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (ckpt / ck.LEGACY_STATE).write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(ck.CheckpointError, match="cannot be read safely"):
        ck.load_trainer_state(ckpt)
    assert not (tmp_path / "pwned").exists()


def test_no_weights_only_false_in_the_package():
    root = Path(__file__).resolve().parents[1] / "slmlab"
    hits = [str(p) for p in root.rglob("*.py") if "weights_only=False" in p.read_text()]
    assert hits == []


# ------------------------------------------------------------------ disk full, read-only


def test_disk_full_during_save_keeps_the_last_checkpoint(corpus, tmp_path, capsys):
    """A tmpfs with room for about one checkpoint and a half: the second save fails."""
    probe = tmp_path / "probe"
    cut_run(corpus, probe, 1)
    size = sum(f.stat().st_size for f in (probe / "step-000001").iterdir())
    with tmpfs(tmp_path / "small", int(size * 1.5 / 1024)) as out:
        argv = ["train", "--corpus", corpus, "--out", out / "run", "--steps", "6",
                "--save-every", "1", *CLI]
        code, err = run_cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1
        assert "no space left on device" in err.lower() and "step-000001 is kept" in err
        assert not list((out / "run").glob(".tmp-*"))  # the failed save cleaned up
        assert ck.latest_checkpoint(out / "run") == out / "run" / "step-000001"
        assert ck.checkpoint_problem(out / "run" / "step-000001") is None


def test_read_only_run_dir(corpus, tmp_path, capsys):
    with tmpfs(tmp_path / "ro", 256 * 1024) as mnt:
        cut_run(corpus, mnt / "run", 2)
        before = snapshot(mnt / "run", skip=(".lock",))
        remount_readonly(mnt)
        code, err = run_cli(["train", "--corpus", corpus, "--out", mnt / "run", "--steps", "4",
                             *CLI], capsys)
        assert code == 2 and err.count("\n") == 1 and "read-only" in err.lower()
        assert snapshot(mnt / "run", skip=(".lock",)) == before


# ------------------------------------------------------------------ SIGKILL at random moments


def _kill_and_resume(corpus, out: Path, kills: int, seed: int) -> None:
    """Start the CLI, SIGKILL it at a random moment after it starts training, `kills` times."""
    rng = random.Random(seed)
    cmd = [sys.executable, "-m", "slmlab", "train", "--corpus", str(corpus), "--out", str(out),
           "--steps", "6", "--save-every", "1", *CLI]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for _ in range(kills):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t0 = time.time()
        while not (out / "metrics.jsonl").exists() and proc.poll() is None and time.time() - t0 < 120:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))  # the saves are most of a step's time: many land mid-save
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _assert_exact(out: Path, whole: Path) -> None:
    assert_same_as_whole(out, whole)
    final = out / "step-000006"
    assert (final / "model.safetensors").read_bytes() == \
        (whole / "step-000006" / "model.safetensors").read_bytes()
    assert not list(out.glob(".tmp-*"))


@pytest.mark.e2e  # whole CLI processes, killed
def test_sigkill_during_training_resumes_exactly(corpus, whole, tmp_path):
    out = tmp_path / "run"
    _kill_and_resume(corpus, out, kills=2, seed=1)
    _assert_exact(out, whole)


@pytest.mark.e2e  # whole CLI processes, killed
@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_sigkill_many_times(corpus, whole, tmp_path, seed):
    out = tmp_path / "run"
    _kill_and_resume(corpus, out, kills=4, seed=seed)
    _assert_exact(out, whole)
